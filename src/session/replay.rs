//! `--replay FILE`: a saved session fed to the same consumers as a live
//! capture (headless printer or TUI). Needs no privileges: no BPF here.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Result};

use super::format::Header;
use super::reader::{self, FileProgress, FileReader};
use super::writer::{Sink, Writer};
use crate::cli::Cli;
use crate::model::event::{Event, LostEvents};
use crate::run::{finish_export, session_filters, BatchFilter, Headless, UserFilter};
use crate::ui::app::{App, Source};
use crate::ui::theme::Theme;

/// Events per batch handed to the consumer, as the live reader does.
const BATCH: usize = 1024;

/// How far the background load of a replay got; the TUI header shows it.
#[derive(Debug)]
pub struct LoadState {
    pub progress: FileProgress,
    pub events: AtomicU64,
    pub done: AtomicBool,
    /// Why loading stopped early, if it did.
    pub error: Mutex<Option<String>>,
    pub warnings: Mutex<Vec<String>>,
}

impl LoadState {
    /// One line for the header: progress while loading, then the outcome.
    pub fn status(&self) -> String {
        let n = self.events.load(Ordering::Relaxed);
        if let Some(e) = self.error.lock().ok().and_then(|e| e.clone()) {
            return format!("{n} events, stopped: {e}");
        }
        if !self.done.load(Ordering::Relaxed) {
            let pct = self.progress.fraction() * 100.0;
            let filled = (pct / 10.0) as usize;
            return format!(
                "loading [{}{}] {pct:.0}% {n} events",
                "#".repeat(filled),
                ".".repeat(10 - filled.min(10))
            );
        }
        let w = self
            .warnings
            .lock()
            .map(|w| w.join("; "))
            .unwrap_or_default();
        if w.is_empty() {
            format!("loaded {n} events")
        } else {
            format!("loaded {n} events; {w}")
        }
    }
}

/// The header for a file cut out of `orig`: same machine and clock, the
/// filters of this run.
fn cut_header(orig: &Header, cli: &Cli, from: &Path) -> Header {
    let mut h = orig.clone();
    let f = session_filters(cli);
    if f != Default::default() {
        h.filters = f;
    }
    h.cut_from = from.file_name().map(|n| n.to_string_lossy().into_owned());
    h
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Reads a session in batches of up to `BATCH` events.
struct Batches {
    r: FileReader,
    /// An error met after some events of a batch: those go out first.
    pending: Option<reader::LineError>,
}

impl Batches {
    fn next(&mut self) -> Result<Option<Vec<Event>>, reader::LineError> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        let mut batch = Vec::with_capacity(BATCH);
        while batch.len() < BATCH {
            match self.r.next_item() {
                Ok(Some(e)) => batch.push(e),
                Ok(None) if batch.is_empty() => return Ok(None),
                Ok(None) => break,
                Err(e) if batch.is_empty() => return Err(e),
                Err(e) => {
                    self.pending = Some(e);
                    break;
                }
            }
        }
        Ok(Some(batch))
    }
}

pub fn run(cli: &Cli, path: &Path, filter: &UserFilter, stop: &Arc<AtomicBool>) -> Result<()> {
    let (r, progress) = reader::open(path, cli.skip_bad)?;
    let writer = match &cli.export {
        Some(out) if same_file(out, path) => {
            return Err(anyhow!(
                "--export {} is the file being replayed",
                out.display()
            ))
        }
        Some(out) => Some(Writer::create(
            out,
            cli.force,
            &cut_header(r.header(), cli, path),
        )?),
        None => None,
    };
    let sink = writer.as_ref().map(Writer::sink);
    let b = Batches { r, pending: None };
    let res = if cli.no_tui {
        headless(cli, path, b, filter, stop, sink)
    } else {
        tui(cli, path, b, progress, filter, stop, sink)
    };
    let fin = writer.map(|w| finish_export(w, res.as_ref().copied().unwrap_or_default()));
    res?;
    fin.transpose()?;
    Ok(())
}

/// Prints the session as `--no-tui` lines. Returns the recorded lost counts.
fn headless(
    cli: &Cli,
    path: &Path,
    mut b: Batches,
    filter: &UserFilter,
    stop: &Arc<AtomicBool>,
    sink: Option<Sink>,
) -> Result<LostEvents> {
    let mut out = Headless::new(cli, filter, b.r.header().clock(), sink);
    let mut err = None;
    while !stop.load(Ordering::Relaxed) {
        match b.next() {
            Ok(Some(b)) => {
                if !out.handle(b)? {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    out.finish();
    let lost = out.lost;
    eprintln!(
        "systrace-tui: {} events replayed from {}, {} lost while recording (kernel {}, user space {})",
        out.shown,
        path.display(),
        lost.total(),
        lost.kernel,
        lost.channel
    );
    for w in b.r.warnings() {
        eprintln!("systrace-tui: warning: {w}");
    }
    match err {
        Some(e) => Err(anyhow!("{}: {e}", path.display())),
        None => Ok(lost),
    }
}

/// Opens the session in the TUI; a thread loads it in the background.
fn tui(
    cli: &Cli,
    path: &Path,
    mut b: Batches,
    progress: FileProgress,
    filter: &UserFilter,
    stop: &Arc<AtomicBool>,
    sink: Option<Sink>,
) -> Result<LostEvents> {
    let header = b.r.header().clone();
    let load = Arc::new(LoadState {
        progress,
        events: AtomicU64::new(0),
        done: AtomicBool::new(false),
        error: Mutex::new(None),
        warnings: Mutex::new(Vec::new()),
    });
    let mut app = App::new(
        cli.retain,
        Theme::from_env(),
        header.clock(),
        Source::Replay {
            path: PathBuf::from(path),
            load: load.clone(),
        },
    );
    app.export.base = Some(header);
    // Bounded: the loader waits for the UI, so memory stays within --retain
    // plus a few batches.
    let (tx, rx) = crossbeam_channel::bounded::<Vec<Event>>(16);
    let mut f = BatchFilter::new(filter.clone());
    let st = load.clone();
    let stop2 = stop.clone();
    let loader = std::thread::Builder::new()
        .name("replay-loader".into())
        .spawn(move || -> LostEvents {
            let mut lost = LostEvents::default();
            loop {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                match b.next() {
                    Ok(Some(mut b)) => {
                        f.retain(&mut b);
                        for e in &b {
                            match e {
                                Event::Syscall(_) => {
                                    st.events.fetch_add(1, Ordering::Relaxed);
                                }
                                Event::Lost(l) => lost = *l,
                                Event::ContainerAdd(_) | Event::ContainerDel(_) => {}
                            }
                        }
                        if let Some(s) = &sink {
                            s.send(b.clone());
                        }
                        if tx.send(b).is_err() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        if let Ok(mut m) = st.error.lock() {
                            *m = Some(e.to_string());
                        }
                        break;
                    }
                }
            }
            if let Ok(mut w) = st.warnings.lock() {
                *w = b.r.warnings();
            }
            st.done.store(true, Ordering::Relaxed);
            lost
        })?;
    let res = crate::ui::run(&mut app, &rx, stop);
    drop(rx);
    let lost = loader
        .join()
        .map_err(|_| anyhow!("the replay loader panicked"))?;
    res.map(|_| lost)
}
