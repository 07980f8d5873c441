//! Composes a run: a source of batches (live capture, a replayed file,
//! node agents or Redis),
//! the stages (`crate::stage`), and a consumer (the TUI, headless lines or
//! the summary),
//! with an export tee. Every composition ends the same way: the consumer
//! stops, the stop is raised, the source is finished (its receivers
//! dropped before any thread is joined, so no producer waits on a queue
//! nobody reads), and the export is completed.

pub mod agent;
pub mod config;
pub mod hub;

use std::io::{self, IsTerminal};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use crossbeam_channel::RecvTimeoutError;

use crate::clock::Clock;
use crate::consumer::headless::Headless;
use crate::consumer::json::JsonLines;
use crate::consumer::tui::app::App;
use crate::consumer::tui::theme::Theme;
use crate::consumer::tui::top::TopState;
use crate::consumer::Consumer;
use crate::model::escape;
use crate::model::event::{Event, LostEvents};
use crate::model::flow::{usage, KernelMode, Origin};
use crate::model::stop::Stop;
use crate::pipeline::config::{Config, Input, Output};
use crate::say;
use crate::session::writer::{Sink, Target, Writer};
use crate::source::live::Live;
use crate::source::redis::RedisFeed;
use crate::source::remote::Remote;
use crate::source::replay::{same_file, Replay};
use crate::source::Source;
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

/// The source `input` names, started.
fn source(input: &Input, export: Option<&Target>, stop: &Stop) -> Result<Box<dyn Source>> {
    Ok(match input {
        Input::Live(live) => Box::new(Live::start(live)?),
        Input::Replay { path, skip_bad } => {
            if let Some(Target::File { path: out, .. }) = export {
                if same_file(out, path) {
                    return Err(anyhow!(
                        "--export {} is the file being replayed",
                        path.display()
                    ));
                }
            }
            Box::new(Replay::start(path, *skip_bad, stop)?)
        }
        Input::Remote(opts) => Box::new(Remote::start((**opts).clone(), stop)?),
        Input::Redis(opts) => Box::new(RedisFeed::start(opts.clone(), Clock::measure(), stop)?),
    })
}

pub fn run(cfg: Config) -> Result<()> {
    let terminal = io::stdout().is_terminal() && io::stdin().is_terminal();
    if matches!(cfg.output, Output::Tui { .. }) && !terminal {
        return Err(usage(
            "the TUI needs a terminal: use --no-tui for one line per event (or --summary for a table)",
        ));
    }
    let stop = on_signals(cfg.duration)?;
    let metrics_socket = match &cfg.input {
        Input::Live(live) => live
            .metrics
            .map(|(a, _)| crate::consumer::metrics::bind(a))
            .transpose()?,
        _ => None,
    };
    let mut src = source(&cfg.input, cfg.export.as_ref(), &stop)?;
    let clock = src.clock();
    let header = src.header(cfg.recorded_filters.clone());
    // --duration counts from here: setup (loading, name lookups) is done.
    stop.start_clock();
    // Created once capture runs, so a user without root gets no file.
    let writer = match cfg.export {
        Some(target) => Some(Writer::create(target, &header, &stop)?),
        None => None,
    };
    let sink = writer.as_ref().map(|w| w.sink().recycling(src.recycler()));
    let sink_on = sink.is_some();
    let run_unusable = crate::consumer::tui::top::run_unusable(&cfg.filter);
    let mut stages = Stages::new(cfg.filter, cfg.fd_paths);
    // Counted in the kernel: the calls' labels, the metrics, and whether
    // the kernel only counts (then the summary comes from its counts).
    let counting = src.counting();
    let metrics = match &cfg.input {
        Input::Live(live) => live.metrics,
        _ => None,
    };
    let only_counts = counting
        .as_ref()
        .is_some_and(|c| c.mode == KernelMode::Aggregate);
    if let Some(c) = &counting {
        stages.labels = Some(c.counted.labels.clone());
    }
    let server = match (metrics, metrics_socket, &counting) {
        (Some((_, cap)), Some(socket), Some(c)) => Some(crate::consumer::metrics::serve(
            socket,
            c.counted.clone(),
            cap,
            crate::consumer::metrics::node_name(),
            &stop,
        )?),
        _ => None,
    };
    let res = match cfg.output {
        Output::Lines(opts) => {
            let mut out = Headless::new(opts, clock, &stop);
            if only_counts {
                out.counted = counting.as_ref().map(|c| c.counted.clone());
            }
            stream(src.as_mut(), stages, &mut out, &stop, sink).map(Some)
        }
        Output::Json => stream(
            src.as_mut(),
            stages,
            &mut JsonLines::new(clock, &stop),
            &stop,
            sink,
        )
        .map(Some),
        Output::Tui { retain, top } => {
            let mut app = App::new(retain, Theme::from_env(), clock, src.origin());
            app.export.base = Some(header);
            app.recycler = src.recycler();
            if let Some(c) = src.counting() {
                // The stream view's mode: records, counted too for --metrics.
                let base = if metrics.is_some() {
                    KernelMode::Drill {
                        cgroups: None,
                        syscalls: None,
                    }
                } else {
                    KernelMode::Stream
                };
                let mut t = TopState::new(c.counted, c.modes, base);
                t.run_unusable = run_unusable;
                t.recording = sink_on;
                if top {
                    // The kernel starts in it (see Config).
                    t.mode = KernelMode::Aggregate;
                }
                app.top_view = Some(Box::new(t));
                if top {
                    crate::consumer::tui::top::open(&mut app);
                }
            }
            run_tui(src.as_ref(), stages, &mut app, &stop, sink).map(|()| None)
        }
    };
    // Whatever ended the consumer ends every other part too.
    stop.raise();
    if let Some(h) = server {
        h.join()
            .map_err(|_| anyhow!("the metrics server panicked"))?;
    }
    let origin = src.origin();
    let end = src.finish();
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
    match (shown, origin) {
        (Some(_), Origin::Live) if only_counts => {
            let (calls, m) = match &counting {
                Some(c) => {
                    let c = c.counted.counts.lock().unwrap_or_else(|e| e.into_inner());
                    (c.calls(), c.misses)
                }
                None => Default::default(),
            };
            // Counting without times takes no note of enters: it has no
            // unentered exits to tell of.
            let unentered = match m.unentered {
                0 => String::new(),
                n => format!(", {n} exits whose enter was not seen"),
            };
            let why = match m.full {
                0 => "",
                _ => " (the counting map was full: --agg-entries)",
            };
            say!(
                "systrace-tui: {calls} events captured (counted in the kernel), {} lost{why}{unentered}",
                m.full
            )
        }
        (Some(seen), Origin::Live) => say!(
            "systrace-tui: {} events captured, {} lost (kernel {}, user space {})",
            seen.events,
            lost.total(),
            lost.kernel,
            lost.channel
        ),
        (Some(seen), Origin::Replay { path, .. }) => say!(
            "systrace-tui: {} events replayed from {}, {} lost while recording (kernel {}, user space {})",
            seen.events,
            path.display(),
            end.lost.total(),
            end.lost.kernel,
            end.lost.channel
        ),
        (None, _) => {}
    }
    for n in &end.notes {
        say!("systrace-tui: {n}");
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

/// Any source, through the stages and the export tee, into a consumer
/// that takes batches (lines, the summary). Returns the events shown and
/// the lost counts the stream carried.
fn stream(
    src: &mut dyn Source,
    mut stages: Stages,
    out: &mut dyn Consumer,
    stop: &Stop,
    export: Option<Sink>,
) -> Result<Shown> {
    let mut progress = Progress::hidden();
    match src.origin() {
        Origin::Live => say!("systrace-tui: {} (Ctrl-C to stop)", src.banner()),
        // Lines on the terminal show how far a replay got; a bar among
        // them would only garble them.
        Origin::Replay { path, load } if !out.lines_on_terminal() => {
            let name = path.file_name().unwrap_or(path.as_os_str());
            let name = escape::plain(name.as_encoded_bytes(), 60);
            progress = Progress::new(
                &format!("replaying {name}"),
                load.progress.total,
                Unit::Bytes,
            );
        }
        Origin::Replay { .. } => {}
    }
    // Called at least every 100 ms (the receive below times out), so the
    // line moves on while a first pass over the file finds no events.
    let report = |origin: Origin, progress: &mut Progress| {
        if let (Origin::Replay { load, .. }, true) = (origin, progress.shown()) {
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
    let recycler = src.recycler();
    let mut shown = Shown::default();
    // One batch through the stages, the consumer and the export tee.
    let mut handle =
        |out: &mut dyn Consumer, mut batch: Vec<Event>, shown: &mut Shown| -> Result<bool> {
            out.arrived(&batch);
            stages.apply(&mut batch);
            for ev in &batch {
                match ev {
                    Event::Syscall(_) => shown.events += 1,
                    Event::Lost(l) => shown.lost = *l,
                    Event::ContainerAdd(_) | Event::ContainerDel(_) => {}
                    // On stderr, where the other status lines go: lines on
                    // stdout stay one per event.
                    Event::Node(n) => say!("systrace-tui: {}", crate::model::node::describe(n)),
                }
            }
            let going = out.take(&batch, &stages.containers)?;
            // An export that stopped ends the run (its error comes out of its
            // `finish`).
            let exported = match &export {
                Some(s) => s.send(batch),
                None => {
                    if let Some(r) = &recycler {
                        r.give(batch);
                    }
                    true
                }
            };
            Ok(going && exported)
        };
    let mut going = true;
    while going && !stop.is_raised() {
        going = match src
            .events()
            .recv_timeout(stop.wait(Duration::from_millis(100)))
        {
            Ok(batch) => handle(out, batch, &mut shown)?,
            Err(RecvTimeoutError::Timeout) => out.idle()?,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        report(src.origin(), &mut progress);
    }
    if going {
        // Stop the source, then take what it still had queued: within a
        // budget, since a consumer slower than the capture (lines into a
        // slow pipe) can hold millions of events, and a stop is a stop.
        src.stop()?;
        let until = Instant::now() + DRAIN_BUDGET;
        while let Ok(batch) = src.events().recv_timeout(Duration::from_secs(2)) {
            if Instant::now() >= until {
                shown.dropped += syscalls_in(&batch);
                continue;
            }
            if !handle(out, batch, &mut shown)? {
                break;
            }
        }
    }
    // Gone before the summary is written below it.
    progress.finish();
    out.finish()?;
    if shown.dropped > 0 {
        say!(
            "systrace-tui: {} events still queued at the stop were not shown (counted as lost in user space)",
            shown.dropped
        );
    }
    Ok(shown)
}

/// What a consumer of batches saw.
#[derive(Default)]
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
    src: &dyn Source,
    mut stages: Stages,
    app: &mut App,
    stop: &Stop,
    export: Option<Sink>,
) -> Result<()> {
    let (tx, rx) = crossbeam_channel::bounded::<Vec<Event>>(64);
    let events = src.events().clone();
    let stop2 = stop.clone();
    let pump = std::thread::Builder::new()
        .name("stages".into())
        .spawn(move || loop {
            let mut batch = match events.recv_timeout(Duration::from_millis(100)) {
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

/// A stop raised by SIGINT, SIGTERM and SIGHUP, and by the clock once
/// `duration` has passed after `start_clock`.
fn on_signals(duration: Option<Duration>) -> Result<Stop> {
    let stop = Stop::new(duration);
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, stop.flag())?;
    }
    Ok(stop)
}
