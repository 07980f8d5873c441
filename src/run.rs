//! Wires a source of events (live capture) to a consumer (TUI or headless
//! printer).

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use regex::bytes::Regex;

use crate::bpf::loader::{KernelFilter, LoadOptions, MAX_NR};
use crate::bpf::reader::{Capture, CaptureOptions, Recycler};
use crate::cli::{Cli, ColorMode};
use crate::clock::Clock;
use crate::fdtable::FdPaths;
use crate::headless::Printer;
use crate::model::container::ContainerMap;
use crate::model::event::{Event, LostEvents, TraceEvent};
use crate::model::filter::{Filter, FilterContext};
use crate::model::stats::Stats;
use crate::model::syscalls::Arch;
use crate::session::format::Filters;
use crate::session::writer::{live_header, Sink, Writer};
use crate::topology::names::Sources;
use crate::topology::{Selection, Topology, TopologyOptions};
use crate::ui::app::{App, Source};
use crate::ui::theme::Theme;

/// User-space filters (`--comm`, `--filter`); the kernel may already have
/// applied part of `--filter` (see `kernel_filter`).
#[derive(Clone)]
pub struct UserFilter {
    comm: Option<Regex>,
    expr: Option<Filter>,
    /// `--pid` again: a replay has no kernel to apply it.
    pids: Vec<u32>,
}

impl UserFilter {
    pub fn from_cli(cli: &Cli) -> Result<UserFilter> {
        let comm = cli
            .comm
            .as_deref()
            .map(|r| Regex::new(r).with_context(|| format!("invalid --comm regex {r:?}")))
            .transpose()?;
        let expr = cli
            .filter
            .as_deref()
            .map(|f| Filter::parse(f).map_err(|e| anyhow!("invalid --filter: {e}")))
            .transpose()?;
        Ok(UserFilter {
            comm,
            expr,
            pids: cli.pids.clone(),
        })
    }

    pub fn matches(&self, ev: &TraceEvent, ctx: &dyn FilterContext) -> bool {
        (self.pids.is_empty() || self.pids.contains(&ev.pid))
            && self
                .comm
                .as_ref()
                .is_none_or(|r| r.is_match(ev.comm_bytes()))
            && self.expr.as_ref().is_none_or(|f| f.matches(ev, ctx))
    }
}

/// A `UserFilter` applied to a stream of batches: it follows the container
/// events so pod and container tests see the current names.
pub struct BatchFilter {
    pub filter: UserFilter,
    pub containers: ContainerMap,
}

impl BatchFilter {
    pub fn new(filter: UserFilter) -> BatchFilter {
        BatchFilter {
            filter,
            containers: ContainerMap::default(),
        }
    }

    /// Keeps the matching syscalls and every other event.
    pub fn retain(&mut self, batch: &mut Vec<Event>) {
        let (f, containers) = (&self.filter, &mut self.containers);
        batch.retain(|e| match e {
            Event::Syscall(t) => f.matches(t, containers),
            Event::ContainerAdd(a) => {
                containers.add(a);
                true
            }
            Event::ContainerDel(d) => {
                containers.del(d);
                true
            }
            Event::Lost(_) => true,
        });
    }
}

/// The filters recorded in a session file's header.
pub fn session_filters(cli: &Cli) -> Filters {
    Filters {
        pids: cli.pids.clone(),
        comm: cli.comm.clone(),
        filter: cli.filter.clone(),
        view: None,
    }
}

/// Completes an export and says so on stderr.
pub fn finish_export(w: Writer, lost: LostEvents) -> Result<u64> {
    let path = w.path().to_path_buf();
    let n = w.finish(lost)?;
    eprintln!("systrace-tui: wrote {n} events to {}", path.display());
    Ok(n)
}

/// `--pid` and what the kernel can do of `--filter`, combined.
fn kernel_filter(cli: &Cli, filter: &UserFilter) -> KernelFilter {
    let push = filter
        .expr
        .as_ref()
        .map(|f| f.pushdown(Arch::native(), MAX_NR))
        .unwrap_or_default();
    let mut pids = push.pids;
    if !cli.pids.is_empty() {
        let cli_pids = cli.pids.iter().copied().collect();
        pids = Some(match pids {
            Some(p) => p.intersection(&cli_pids).copied().collect(),
            None => cli_pids,
        });
    }
    KernelFilter {
        pids: pids.map(|p| p.into_iter().collect()),
        cgroups: None,
        syscalls: push.syscalls.map(|s| s.into_iter().collect()),
    }
}

fn capture_options(cli: &Cli, filter: &UserFilter) -> CaptureOptions {
    CaptureOptions {
        load: LoadOptions {
            ring_bytes: cli.ring_mb.clamp(1, 1024) << 20,
            buf_max: cli.buf_size.min(4096),
            ..Default::default()
        },
        filter: kernel_filter(cli, filter),
        drop_privileges: true,
        ..Default::default()
    }
}

/// SIGINT, SIGTERM and SIGHUP raise this flag; every loop checks it, so the
/// terminal is restored and files are flushed on the way out.
pub fn stop_flag() -> Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, flag.clone())?;
    }
    Ok(flag)
}

/// The container topology for this run. Without a cgroup2 hierarchy there
/// is none (everything is "host"), unless a container filter needs it.
fn topology(cli: &Cli, filter: &UserFilter) -> Result<Option<Topology>> {
    let selection = Selection::new(
        cli.pod.as_deref(),
        cli.namespace.as_deref(),
        cli.container.as_deref(),
        cli.host,
    )?;
    // Tests on pod / namespace / container names in --filter narrow the
    // kernel's cgroup set as the flags do.
    let from_filter = filter
        .expr
        .as_ref()
        .and_then(|f| f.pushdown(Arch::native(), MAX_NR).containers);
    let opts = TopologyOptions {
        sources: Sources {
            cri_sockets: crate::topology::cri::sockets(&cli.cri_sockets),
            ..Default::default()
        },
        selection: Selection::with_filter(selection.clone(), from_filter),
        ..Default::default()
    };
    match Topology::new(opts, kernel_filter(cli, filter)) {
        Ok(t) => Ok(Some(t)),
        // Without the flags, a host without cgroup v2 still runs: a --filter
        // test on container names then just never matches.
        Err(e) if selection.is_none() => {
            eprintln!("systrace-tui: containers are not shown: {e:#}");
            Ok(None)
        }
        Err(e) => {
            // Name the flags given, so the one line says what to drop.
            let flags: Vec<&str> = [
                (cli.pod.is_some(), "--pod"),
                (cli.namespace.is_some(), "--namespace"),
                (cli.container.is_some(), "--container"),
                (cli.host, "--host"),
            ]
            .into_iter()
            .filter_map(|(on, f)| on.then_some(f))
            .collect();
            let verb = if flags.len() == 1 { "needs" } else { "need" };
            Err(e.context(format!(
                "{} {verb} the cgroup v2 hierarchy",
                flags.join(" and ")
            )))
        }
    }
}

pub fn run(cli: Cli) -> Result<()> {
    let filter = UserFilter::from_cli(&cli)?;
    let stop = stop_flag()?;
    if let Some(path) = cli.replay.clone() {
        return crate::session::replay::run(&cli, &path, &filter, &stop);
    }
    let clock = Clock::measure();
    let topo = topology(&cli, &filter)?;
    let mut opts = capture_options(&cli, &filter);
    if let Some(t) = &topo {
        opts.filter = t.kernel_filter();
    }
    let mut capture = Capture::start(opts)?;
    // The capture thread dropped its own; threads started from here inherit these.
    crate::privs::drop_privileges()?;
    let (events, pipeline) = match topo {
        Some(t) => {
            let (rx, h) = t.spawn(capture.events.clone(), Some(capture.filter_handle()))?;
            (rx, Some(h))
        }
        None => (capture.events.clone(), None),
    };
    // Created once capture runs, so a user without root gets no file.
    let writer = match &cli.export {
        Some(p) => Some(Writer::create(
            p,
            cli.force,
            &live_header(clock, session_filters(&cli)),
        )?),
        None => None,
    };
    let sink = writer.as_ref().map(Writer::sink);
    let res = if cli.no_tui {
        run_headless(&cli, &filter, &mut capture, &events, clock, &stop, sink)
    } else {
        run_tui(&cli, &filter, &mut capture, events, clock, &stop, sink)
    };
    capture.stop()?;
    if let Some(h) = pipeline {
        let _ = h.join();
    }
    // The export is finished on every way out, errors included.
    let fin = writer.map(|w| finish_export(w, capture.stats.lost()));
    res?;
    fin.transpose()?;
    Ok(())
}

fn deadline(cli: &Cli) -> Option<Instant> {
    cli.duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)))
}

/// The `--no-tui` consumer: filters, prints (or counts for `--summary`)
/// and optionally exports batches, live or replayed.
pub struct Headless<'a> {
    cli: &'a Cli,
    filter: &'a UserFilter,
    printer: Printer,
    out: io::BufWriter<io::StdoutLock<'static>>,
    export: Option<Sink>,
    containers: ContainerMap,
    stats: Stats,
    /// `-y`: fd paths from this machine's /proc, so live capture only.
    fd_paths: Option<FdPaths>,
    pub shown: u64,
    pub lost: LostEvents,
    /// Live capture: where emptied batches go back for reuse.
    pub recycler: Option<Recycler>,
}

impl<'a> Headless<'a> {
    pub fn new(cli: &'a Cli, filter: &'a UserFilter, clock: Clock, export: Option<Sink>) -> Self {
        let color = match cli.color {
            ColorMode::Always => true,
            ColorMode::Never => false,
            ColorMode::Auto => {
                io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Headless {
            cli,
            filter,
            printer: Printer { color, clock },
            out: io::BufWriter::with_capacity(1 << 16, io::stdout().lock()),
            export,
            containers: ContainerMap::default(),
            stats: Stats::default(),
            fd_paths: (cli.fd_paths && cli.replay.is_none()).then(FdPaths::new),
            shown: 0,
            lost: LostEvents::default(),
            recycler: None,
        }
    }

    /// False when the run should end: stdout was closed (`| head`) or the
    /// export writer stopped (its error comes out of `Writer::finish`).
    pub fn handle(&mut self, mut batch: Vec<Event>) -> Result<bool> {
        // Filtered in place: at full capture a copy of every event per batch
        // was a sizable share of user space's time.
        let mut failed: Option<io::Error> = None;
        batch.retain_mut(|ev| {
            if failed.is_some() {
                return false;
            }
            match ev {
                Event::Syscall(e) => {
                    if !self.filter.matches(e, &self.containers) {
                        return false;
                    }
                    if let Some(fp) = self.fd_paths.as_mut() {
                        fp.process(e);
                    }
                    self.shown += 1;
                    if self.cli.summary {
                        self.stats.record(e, &self.containers.label(e.cgroup_id));
                    } else if !self.cli.quiet {
                        let label = self.containers.label(e.cgroup_id);
                        if let Err(err) = self.printer.print_labeled(&mut self.out, &label, e) {
                            failed = Some(err);
                            return false;
                        }
                    }
                }
                Event::Lost(l) => self.lost = *l,
                Event::ContainerAdd(a) => self.containers.add(a),
                Event::ContainerDel(d) => self.containers.del(d),
            }
            true
        });
        if let Some(err) = failed {
            // A closed pipe (| head) ends the run quietly.
            if err.kind() == io::ErrorKind::BrokenPipe {
                return Ok(false);
            }
            return Err(err.into());
        }
        if let Some(s) = &self.export {
            if !s.send(batch) {
                return Ok(false);
            }
        } else if let Some(r) = &self.recycler {
            r.give(batch);
        }
        Ok(true)
    }

    pub fn flush(&mut self) {
        let _ = self.out.flush();
    }

    /// Flushes and prints the `--summary` table, if asked for.
    pub fn finish(&mut self) {
        self.flush();
        if self.cli.summary {
            eprint!("{}", self.stats.table(crate::clock::fmt_duration));
        }
    }
}

fn run_headless(
    cli: &Cli,
    filter: &UserFilter,
    capture: &mut Capture,
    events: &crossbeam_channel::Receiver<Vec<Event>>,
    clock: Clock,
    stop: &Arc<AtomicBool>,
    export: Option<Sink>,
) -> Result<()> {
    let mut sink = Headless::new(cli, filter, clock, export);
    sink.recycler = Some(capture.recycler.clone());
    let end = deadline(cli);
    eprintln!("systrace-tui: tracing (Ctrl-C to stop)");
    loop {
        if stop.load(Ordering::Relaxed) || end.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let wait = end.map_or(Duration::from_millis(100), |d| {
            d.saturating_duration_since(Instant::now())
                .min(Duration::from_millis(100))
        });
        match events.recv_timeout(wait) {
            Ok(batch) => {
                if !sink.handle(batch)? {
                    return Ok(());
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        }
        sink.flush();
    }
    // Stop the kernel side, then take everything it still had queued.
    capture.stop()?;
    // The pipeline ends once the capture's channel is drained and closed.
    while let Ok(batch) = events.recv_timeout(Duration::from_secs(2)) {
        if !sink.handle(batch)? {
            return Ok(());
        }
    }
    sink.finish();
    let lost = LostEvents {
        kernel: sink.lost.kernel.max(capture.stats.lost().kernel),
        channel: sink.lost.channel.max(capture.stats.lost().channel),
    };
    eprintln!(
        "systrace-tui: {} events captured, {} lost (kernel {}, user space {})",
        sink.shown,
        lost.total(),
        lost.kernel,
        lost.channel
    );
    Ok(())
}

fn run_tui(
    cli: &Cli,
    filter: &UserFilter,
    capture: &mut Capture,
    src: crossbeam_channel::Receiver<Vec<Event>>,
    clock: Clock,
    stop: &Arc<AtomicBool>,
    export: Option<Sink>,
) -> Result<()> {
    let mut app = App::new(cli.retain, Theme::from_env(), clock, Source::Live);
    app.export.base = Some(live_header(clock, session_filters(cli)));
    // Emptied batches go back to the capture thread, as on the headless path.
    app.recycler = Some(capture.recycler.clone());
    // Apply the CLI's user-space filter before events reach the store.
    let (tx, rx) = crossbeam_channel::bounded::<Vec<Event>>(64);
    let mut f = BatchFilter::new(filter.clone());
    let end = deadline(cli);
    let stop2 = stop.clone();
    let mut fd_paths = cli.fd_paths.then(FdPaths::new);
    let pump = std::thread::Builder::new()
        .name("filter".into())
        .spawn(move || {
            while let Ok(mut batch) = src.recv() {
                f.retain(&mut batch);
                if let Some(fp) = fd_paths.as_mut() {
                    for e in &mut batch {
                        if let Event::Syscall(t) = e {
                            fp.process(t);
                        }
                    }
                }
                if let Some(s) = &export {
                    s.send(batch.clone());
                }
                if tx.send(batch).is_err() {
                    break;
                }
                if end.is_some_and(|d| Instant::now() >= d) {
                    stop2.store(true, Ordering::Relaxed);
                }
            }
        })?;
    let res = crate::ui::run(&mut app, &rx, stop);
    drop(rx);
    capture.stop()?;
    let _ = pump.join();
    res
}
