//! `--replay FILE`: a saved session as a source of batches, like a live
//! capture. Needs no privileges: no BPF here.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use anyhow::{anyhow, Result};
use crossbeam_channel::Receiver;

use super::{End, Source};
use crate::clock::Clock;
use crate::model::container::ContainerInfo;
use crate::model::event::{Event, LostEvents};
use crate::model::flow::Origin;
use crate::model::stop::Stop;
use crate::session::format::{Filters, Header};
use crate::session::reader::{self, FileReader};

/// Events per batch handed to the consumer, as the live reader does.
const BATCH: usize = 1024;

pub use crate::model::flow::LoadState;

/// The header for a file cut out of `orig`: same machine and clock, the
/// filters of this run (when it has any).
pub fn cut_header(orig: &Header, filters: Filters, from: &Path) -> Header {
    let mut h = orig.clone();
    if filters != Default::default() {
        h.filters = filters;
    }
    h.cut_from = from.file_name().map(|n| n.to_string_lossy().into_owned());
    h
}

/// Whether two paths name the same file (both must exist).
pub fn same_file(a: &Path, b: &Path) -> bool {
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

/// Gives every container its best-known description from the whole file.
fn relabel(batch: &mut [Event], names: &HashMap<String, Arc<ContainerInfo>>) {
    for e in batch {
        let c = match e {
            Event::ContainerAdd(a) => &mut a.container,
            Event::ContainerDel(d) => &mut d.container,
            _ => continue,
        };
        if let Some(best) = names.get(&c.id) {
            *c = best.clone();
        }
    }
}

/// A session file being read on a thread of its own.
pub struct Replay {
    pub header: Header,
    pub path: PathBuf,
    pub events: Receiver<Vec<Event>>,
    pub load: Arc<LoadState>,
    thread: JoinHandle<LostEvents>,
}

/// How a replay ended.
pub struct ReplayEnd {
    /// The lost counts the recording ended with.
    pub lost: LostEvents,
    /// Why reading stopped early (a bad line), if it did.
    pub error: Option<String>,
    pub warnings: Vec<String>,
}

impl Replay {
    /// Opens the file (a bad header is an error now) and starts reading.
    /// Container names are gathered first, so that a name which arrived
    /// late in the file labels the container's events from the first one.
    pub fn start(path: &Path, skip_bad: bool, stop: &Stop) -> Result<Replay> {
        let (r, progress) = reader::open(path, skip_bad)?;
        let header = r.header().clone();
        let load = Arc::new(LoadState {
            progress,
            events: AtomicU64::new(0),
            done: AtomicBool::new(false),
            error: Mutex::new(None),
            warnings: Mutex::new(Vec::new()),
        });
        // Bounded: the reader waits for the consumer, so memory stays
        // within what the consumer keeps plus a few batches.
        let (tx, rx) = crossbeam_channel::bounded::<Vec<Event>>(16);
        let st = load.clone();
        let stop = stop.clone();
        let file = path.to_path_buf();
        let path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("replay-loader".into())
            .spawn(move || -> LostEvents {
                let names = reader::container_names(&path, &stop).unwrap_or_default();
                let mut b = Batches { r, pending: None };
                let mut lost = LostEvents::default();
                while !stop.is_raised() {
                    match b.next() {
                        Ok(Some(mut batch)) => {
                            relabel(&mut batch, &names);
                            for e in &batch {
                                match e {
                                    Event::Syscall(_) => {
                                        st.events.fetch_add(1, Ordering::Relaxed);
                                    }
                                    Event::Lost(l) => lost = *l,
                                    Event::ContainerAdd(_)
                                    | Event::ContainerDel(_)
                                    | Event::Node(_) => {}
                                }
                            }
                            // The consumer is gone: nothing more to read for.
                            if tx.send(batch).is_err() {
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
        Ok(Replay {
            header,
            path: file,
            events: rx,
            load,
            thread,
        })
    }

    /// Waits for the reader thread. The receiver is dropped first, so a
    /// reader waiting to hand over a batch ends instead of waiting forever.
    pub fn finish(self) -> Result<ReplayEnd> {
        drop(self.events);
        let lost = self
            .thread
            .join()
            .map_err(|_| anyhow!("the replay reader panicked"))?;
        let error = self.load.error.lock().ok().and_then(|e| e.clone());
        let warnings = self
            .load
            .warnings
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default();
        Ok(ReplayEnd {
            lost,
            error,
            warnings,
        })
    }
}

impl Source for Replay {
    fn events(&self) -> &Receiver<Vec<Event>> {
        &self.events
    }

    fn origin(&self) -> Origin {
        Origin::Replay {
            path: self.path.clone(),
            load: self.load.clone(),
        }
    }

    fn clock(&self) -> Clock {
        self.header.clock()
    }

    fn header(&self, filters: Filters) -> Header {
        cut_header(&self.header, filters, &self.path)
    }

    /// The reader looks at the run's stop between batches.
    fn stop(&mut self) -> Result<()> {
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<End> {
        let path = self.path.clone();
        let end = (*self).finish()?;
        Ok(End {
            lost: end.lost,
            error: end.error.map(|e| format!("{}: {e}", path.display())),
            warnings: end.warnings,
            ..End::default()
        })
    }
}
