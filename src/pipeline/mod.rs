//! Composes a run: a source of batches (live capture, or a replayed file),
//! the stages (`crate::stage`), and a consumer (the TUI or headless lines),
//! with an export tee. Every composition ends the same way: the consumer
//! stops, the stop is raised, the source is finished (its receivers
//! dropped before any thread is joined, so no producer waits on a queue
//! nobody reads), and the export is completed.

pub mod agent;
pub mod config;
pub mod hub;
pub mod stop;

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::clock::Clock;
use crate::consumer::headless::{Headless, LineOptions};
use crate::consumer::tui::app::{App, Source};
use crate::consumer::tui::theme::Theme;
use crate::model::escape;
use crate::model::event::{Event, LostEvents};
use crate::model::syscalls::Arch;
use crate::pipeline::config::{usage, Config, Input, Live, Output};
use crate::pipeline::stop::Stop;
use crate::say;
use crate::session::writer::{live_header, Sink, Target, Writer};
use crate::source::kernel::loader::{KernelFilter, LoadOptions, MAX_NR};
use crate::source::kernel::reader::{Capture, CaptureOptions, Recycler};
use crate::source::redis::RedisFeed;
use crate::source::remote::{NodeCount, Remote};
use crate::source::replay::{cut_header, same_file, Replay};
use crate::source::topology::names::Sources;
use crate::source::topology::{Selection, Topology, TopologyOptions};
use crate::stage::Stages;
use crate::terminal::progress::{Progress, Unit};

/// Completes an export and says so on stderr.
pub fn finish_export(w: Writer, lost: LostEvents) -> Result<u64> {
    let to = w.target().display();
    let stream = matches!(w.target(), Target::Stdout);
    match w.finish(lost) {
        Ok(n) => {
            say!("systrace-tui: wrote {n} events to {to}");
            Ok(n)
        }
        // `-w - | head`: the reader had what it wanted, as with lines.
        Err(e) if stream && reader_left(&e) => {
            say!(
                "systrace-tui: the reader of standard output left: the session there is cut short"
            );
            Ok(0)
        }
        Err(e) => Err(e),
    }
}

/// The error says the reader of a pipe closed it or stopped reading.
fn reader_left(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::TimedOut
            )
        })
    })
}

fn capture_options(live: &Live, kernel: KernelFilter) -> CaptureOptions {
    let ring = live.ring_mb.next_power_of_two();
    if ring != live.ring_mb {
        say!(
            "systrace-tui: --ring-mb {}: using {ring} MiB (the kernel's ring buffer is a power of two)",
            live.ring_mb
        );
    }
    CaptureOptions {
        load: LoadOptions {
            ring_bytes: ring << 20,
            buf_max: live.buf_size,
            ..Default::default()
        },
        filter: kernel,
        drop_privileges: true,
        ..Default::default()
    }
}

/// The container topology for this run. Without a cgroup2 hierarchy there
/// is none (everything is "host"), unless a container filter needs it.
fn topology(cfg: &Config, live: &Live) -> Result<Option<Topology>> {
    // Tests on pod / namespace / container names in --filter narrow the
    // kernel's cgroup set as the flags do.
    let from_filter = cfg
        .filter
        .expr
        .as_ref()
        .and_then(|f| f.pushdown(Arch::native(), MAX_NR).containers);
    let opts = TopologyOptions {
        sources: Sources {
            cri_sockets: crate::source::topology::cri::sockets(&live.cri_sockets),
            ..Default::default()
        },
        selection: Selection::with_filter(cfg.selection.clone(), from_filter),
        ..Default::default()
    };
    match Topology::new(opts, cfg.kernel.clone()) {
        Ok(t) => Ok(Some(t)),
        // Without the flags, a host without cgroup v2 still runs: a --filter
        // test on container names then just never matches.
        Err(e) if cfg.selection.is_none() => {
            say!("systrace-tui: containers are not shown: {e:#}");
            Ok(None)
        }
        Err(e) => {
            // Name the flags given, so the one line says what to drop.
            let flags = &live.container_flags;
            let verb = if flags.len() == 1 { "needs" } else { "need" };
            Err(e.context(format!(
                "{} {verb} the cgroup v2 hierarchy",
                flags.join(" and ")
            )))
        }
    }
}

/// Flag values that only the running system can judge.
fn check_live_flags(live: &Live) -> Result<()> {
    for pid in &live.pids {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return Err(usage(format!("-p {pid}: no such process")));
        }
    }
    for s in &live.cri_sockets {
        use std::os::unix::fs::FileTypeExt;
        match std::fs::metadata(s) {
            Ok(m) if m.file_type().is_socket() => {}
            Ok(_) => return Err(usage(format!("--cri-socket {}: not a socket", s.display()))),
            Err(e) => return Err(usage(format!("--cri-socket {}: {e}", s.display()))),
        }
    }
    Ok(())
}

/// The kernel's filter sets in a few words, for `-v`.
fn describe(f: &KernelFilter) -> String {
    let set = |what: &str, len: Option<usize>| match len {
        None => format!("{what} all"),
        Some(n) => format!("{what} {n}"),
    };
    [
        set("processes", f.pids.as_ref().map(Vec::len)),
        set("cgroups", f.cgroups.as_ref().map(Vec::len)),
        set("syscalls", f.syscalls.as_ref().map(Vec::len)),
    ]
    .join(", ")
}

/// A running source of batches.
enum Feed {
    Live {
        capture: Capture,
        topology: Option<JoinHandle<()>>,
        events: Receiver<Vec<Event>>,
    },
    Replay {
        replay: Box<Replay>,
        path: PathBuf,
    },
    Remote(Remote),
    Redis(RedisFeed),
}

/// How a source ended: what the consumer's summary needs.
struct FeedEnd {
    lost: LostEvents,
    /// A replay that stopped at a bad line.
    error: Option<String>,
    warnings: Vec<String>,
    /// Remote nodes: each one's accounting.
    nodes: Vec<NodeCount>,
}

impl Feed {
    fn live(cfg: &Config, live: &Live) -> Result<Feed> {
        check_live_flags(live)?;
        let topo = topology(cfg, live)?;
        let mut opts = capture_options(live, cfg.kernel.clone());
        if let Some(t) = &topo {
            opts.filter = t.kernel_filter();
        }
        crate::note!("systrace-tui: kernel filter: {}", describe(&opts.filter));
        let capture = Capture::start(opts)?;
        // The capture thread dropped its own; threads started from here
        // inherit these.
        crate::privs::drop_privileges()?;
        let (events, topology) = match topo {
            Some(t) => {
                let (rx, h) = t.spawn(
                    capture.events.clone(),
                    Some(Box::new(capture.filter_handle())),
                )?;
                (rx, Some(h))
            }
            None => (capture.events.clone(), None),
        };
        Ok(Feed::Live {
            capture,
            topology,
            events,
        })
    }

    fn events(&self) -> &Receiver<Vec<Event>> {
        match self {
            Feed::Live { events, .. } => events,
            Feed::Replay { replay, .. } => &replay.events,
            Feed::Remote(r) => &r.events,
            Feed::Redis(r) => &r.events,
        }
    }

    fn recycler(&self) -> Option<Recycler> {
        match self {
            Feed::Live { capture, .. } => Some(capture.recycler.clone()),
            Feed::Replay { .. } | Feed::Remote(_) | Feed::Redis(_) => None,
        }
    }

    /// Produces nothing more; what is queued can still be received, and
    /// the channel closes once it is taken.
    fn stop_source(&mut self) -> Result<()> {
        match self {
            Feed::Live { capture, .. } => capture.stop(),
            // The reader looks at the stop between batches.
            Feed::Replay { .. } | Feed::Redis(_) => Ok(()),
            Feed::Remote(r) => {
                r.stop();
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<FeedEnd> {
        match self {
            Feed::Live {
                mut capture,
                topology,
                events,
            } => {
                drop(events);
                capture.stop()?;
                if let Some(h) = topology {
                    h.join()
                        .map_err(|_| anyhow!("the topology thread panicked"))?;
                }
                Ok(FeedEnd {
                    lost: capture.stats.lost(),
                    error: None,
                    warnings: Vec::new(),
                    nodes: Vec::new(),
                })
            }
            Feed::Redis(r) => {
                let end = r.finish()?;
                Ok(FeedEnd {
                    lost: end.lost,
                    error: None,
                    warnings: end.warnings,
                    nodes: Vec::new(),
                })
            }
            Feed::Replay { replay, path } => {
                let end = (*replay).finish()?;
                Ok(FeedEnd {
                    lost: end.lost,
                    error: end.error.map(|e| format!("{}: {e}", path.display())),
                    warnings: end.warnings,
                    nodes: Vec::new(),
                })
            }
            Feed::Remote(r) => {
                let end = r.finish()?;
                Ok(FeedEnd {
                    lost: end.lost,
                    error: None,
                    warnings: Vec::new(),
                    nodes: end.nodes,
                })
            }
        }
    }
}

pub fn run(cfg: Config) -> Result<()> {
    let terminal = io::stdout().is_terminal() && io::stdin().is_terminal();
    if matches!(cfg.output, Output::Tui { .. }) && !terminal {
        return Err(usage(
            "the TUI needs a terminal: use --no-tui for one line per event (or --summary for a table)",
        ));
    }
    let stop = Stop::on_signals(cfg.duration)?;
    let (mut feed, clock, header) = match &cfg.input {
        Input::Replay { path, skip_bad } => {
            if let Some(Target::File { path: out, .. }) = &cfg.export {
                if same_file(out, path) {
                    return Err(anyhow!(
                        "--export {} is the file being replayed",
                        path.display()
                    ));
                }
            }
            let replay = Replay::start(path, *skip_bad, &stop)?;
            let clock = replay.header.clock();
            let header = cut_header(&replay.header, cfg.recorded_filters.clone(), path);
            let feed = Feed::Replay {
                replay: Box::new(replay),
                path: path.clone(),
            };
            (feed, clock, header)
        }
        Input::Remote(opts) => {
            let clock = opts.clock;
            let feed = Feed::Remote(Remote::start((**opts).clone(), &stop)?);
            (
                feed,
                clock,
                live_header(clock, cfg.recorded_filters.clone()),
            )
        }
        Input::Redis(opts) => {
            let clock = Clock::measure();
            let feed = Feed::Redis(RedisFeed::start(opts.clone(), clock, &stop)?);
            (
                feed,
                clock,
                live_header(clock, cfg.recorded_filters.clone()),
            )
        }
        Input::Live(live) => {
            let clock = Clock::measure();
            let feed = Feed::live(&cfg, live)?;
            (
                feed,
                clock,
                live_header(clock, cfg.recorded_filters.clone()),
            )
        }
    };
    // --duration counts from here: setup (loading, name lookups) is done.
    stop.start_clock();
    // Created once capture runs, so a user without root gets no file.
    let writer = match cfg.export {
        Some(target) => Some(Writer::create(target, &header, &stop)?),
        None => None,
    };
    let sink = writer.as_ref().map(Writer::sink);
    let stages = Stages::new(cfg.filter, cfg.fd_paths);
    let res = match cfg.output {
        Output::Lines(opts) => run_headless(&mut feed, stages, opts, clock, &stop, sink),
        Output::Tui { retain } => {
            let source = match &feed {
                Feed::Live { .. } | Feed::Remote(_) | Feed::Redis(_) => Source::Live,
                Feed::Replay { replay, path } => Source::Replay {
                    path: path.clone(),
                    load: replay.load.clone(),
                },
            };
            let mut app = App::new(retain, Theme::from_env(), clock, source);
            app.export.base = Some(header);
            app.recycler = feed.recycler();
            run_tui(&feed, stages, &mut app, &stop, sink).map(|()| None)
        }
    };
    // Whatever ended the consumer ends every other part too.
    stop.raise();
    let replayed = match &feed {
        Feed::Replay { path, .. } => Some(path.clone()),
        Feed::Live { .. } | Feed::Remote(_) | Feed::Redis(_) => None,
    };
    let end = feed.finish();
    // The source's counts, the stream's, and what the consumer dropped at
    // the stop (lost to the export too).
    let mut lost = end.as_ref().map(|e| e.lost).unwrap_or_default();
    if let Ok(Some(seen)) = &res {
        lost.kernel = lost.kernel.max(seen.lost.kernel);
        lost.channel = lost.channel.max(seen.lost.channel) + seen.dropped;
    }
    // The export is finished on every way out, errors included.
    let fin = writer.map(|w| finish_export(w, lost));
    let end = end?;
    let shown = res?;
    match (shown, replayed) {
        (Some(seen), None) => say!(
            "systrace-tui: {} events captured, {} lost (kernel {}, user space {})",
            seen.events,
            lost.total(),
            lost.kernel,
            lost.channel
        ),
        (Some(seen), Some(path)) => say!(
            "systrace-tui: {} events replayed from {}, {} lost while recording (kernel {}, user space {})",
            seen.events,
            path.display(),
            end.lost.total(),
            end.lost.kernel,
            end.lost.channel
        ),
        (None, _) => {}
    }
    for n in &end.nodes {
        say!("systrace-tui: {}", n.summary());
    }
    for w in &end.warnings {
        say!("systrace-tui: warning: {w}");
    }
    fin.transpose()?;
    match end.error {
        Some(e) => Err(anyhow!(e)),
        None => Ok(()),
    }
}

/// Lines or the summary table on a terminal or a pipe. Returns the events
/// shown and the lost counts the stream carried.
fn run_headless(
    feed: &mut Feed,
    mut stages: Stages,
    opts: LineOptions,
    clock: Clock,
    stop: &Stop,
    export: Option<Sink>,
) -> Result<Option<Shown>> {
    // Lines on the terminal show how far a replay got; a bar among them
    // would only garble them.
    let lines_on_terminal = !opts.quiet && !opts.summary && io::stdout().is_terminal();
    let mut out = Headless::new(opts, clock, stop, export);
    out.recycler = feed.recycler();
    let mut progress = Progress::hidden();
    match &*feed {
        Feed::Live { .. } => say!("systrace-tui: tracing (Ctrl-C to stop)"),
        Feed::Remote(_) => say!("systrace-tui: tracing on the nodes given (Ctrl-C to stop)"),
        Feed::Redis(_) => say!("systrace-tui: reading from Redis (Ctrl-C to stop)"),
        Feed::Replay { replay, path } if !lines_on_terminal => {
            let name = path.file_name().unwrap_or(path.as_os_str());
            let name = escape::plain(name.as_encoded_bytes(), 60);
            progress = Progress::new(
                &format!("replaying {name}"),
                replay.load.progress.total,
                Unit::Bytes,
            );
        }
        Feed::Replay { .. } => {}
    }
    // Called at least every 100 ms (the receive below times out), so the
    // line moves on while a first pass over the file finds no events.
    let report = |feed: &Feed, progress: &mut Progress| {
        if let (Feed::Replay { replay, .. }, true) = (feed, progress.shown()) {
            let load = &replay.load;
            let n = load.events.load(Ordering::Relaxed);
            // The first pass over the file (container names) counts no
            // events, and its time must not count in the rate of the second.
            if n == 0 {
                progress.message(", reading container names".to_string());
                progress.set(0);
            } else {
                progress.message(match progress.eta() {
                    eta if eta.is_empty() => format!(", {n} events"),
                    eta => format!(", {n} events, {eta} left"),
                });
                progress.set(load.progress.read.load(Ordering::Relaxed));
            }
        }
    };
    let mut going = true;
    while going && !stop.is_raised() {
        going = match feed
            .events()
            .recv_timeout(stop.wait(Duration::from_millis(100)))
        {
            Ok(batch) => out.handle(&mut stages, batch)?,
            Err(RecvTimeoutError::Timeout) => out.idle()?,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        report(feed, &mut progress);
    }
    let mut dropped = 0u64;
    if going {
        // Stop the source, then take what it still had queued: within a
        // budget, since a consumer slower than the capture (lines into a
        // slow pipe) can hold millions of events, and a stop is a stop.
        feed.stop_source()?;
        let until = Instant::now() + DRAIN_BUDGET;
        while let Ok(batch) = feed.events().recv_timeout(Duration::from_secs(2)) {
            if Instant::now() >= until {
                dropped += syscalls_in(&batch);
                continue;
            }
            if !out.handle(&mut stages, batch)? {
                break;
            }
        }
    }
    // Gone before the summary is written below it.
    progress.finish();
    out.finish()?;
    if dropped > 0 {
        say!("systrace-tui: {dropped} events still queued at the stop were not shown (counted as lost in user space)");
    }
    Ok(Some(Shown {
        events: out.shown,
        lost: out.lost,
        dropped,
    }))
}

/// What a headless consumer saw.
struct Shown {
    events: u64,
    /// The last lost counts the stream carried.
    lost: LostEvents,
    /// Queued at the stop and never shown.
    dropped: u64,
}

/// How long a stopped run still shows what was queued before the stop.
const DRAIN_BUDGET: Duration = Duration::from_secs(1);

fn syscalls_in(batch: &[Event]) -> u64 {
    batch
        .iter()
        .filter(|e| matches!(e, Event::Syscall(_)))
        .count() as u64
}

/// The TUI over any source. The stages run on a thread of their own, so
/// the UI thread only ingests what is shown.
fn run_tui(
    feed: &Feed,
    mut stages: Stages,
    app: &mut App,
    stop: &Stop,
    export: Option<Sink>,
) -> Result<()> {
    let (tx, rx) = crossbeam_channel::bounded::<Vec<Event>>(64);
    let src = feed.events().clone();
    let stop2 = stop.clone();
    let pump = std::thread::Builder::new()
        .name("stages".into())
        .spawn(move || loop {
            let mut batch = match src.recv_timeout(Duration::from_millis(100)) {
                Ok(b) => b,
                Err(RecvTimeoutError::Timeout) if !stop2.is_raised() => continue,
                Err(_) => break,
            };
            stages.apply(&mut batch);
            if let Some(s) = &export {
                s.send(batch.clone());
            }
            // The UI is gone: so is the reason to go on.
            if tx.send(batch).is_err() {
                break;
            }
        })?;
    let res = crate::consumer::tui::run(app, &rx, stop);
    drop(rx);
    stop.raise();
    pump.join()
        .map_err(|_| anyhow!("the stages thread panicked"))?;
    res
}
