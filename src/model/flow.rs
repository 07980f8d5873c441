//! Types the edges share about the flow of batches, so that no edge has to
//! import another: what the kernel is asked to filter (the topology keeps
//! it current, the bpf edge applies it) and the recycling of emptied
//! batches (consumers give them back, the capture reuses them), and how
//! far a replay's reading got (the replay writes it, the TUI shows it).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_channel::Sender;

use super::event::Event;

/// `--cgroup`: the cgroup v2 subtree a run traces, fixed for the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupScope {
    /// Its path below the cgroup2 root (`/a/b`), for messages.
    pub path: String,
    /// Its cgroup id (the directory's inode number).
    pub id: u64,
    /// Its depth below the root (the root is 0).
    pub level: u32,
}

/// In-kernel filters. Empty sets mean "everything".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelFilter {
    pub pids: Option<Vec<u32>>,
    pub cgroups: Option<Vec<u64>>,
    /// With `cgroups`: every cgroup with a larger id passes too (0: none).
    /// Cgroup ids only grow, so that is every cgroup made since the set was
    /// computed: a container that exits before it is named is not lost.
    pub cgroups_after: u64,
    pub syscalls: Option<Vec<u32>>,
}

/// Where a new kernel filter goes (the capture's control channel).
pub trait FilterTarget: Send {
    fn set(&self, f: KernelFilter);
}

/// What the kernel does with each call that passes the filters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum KernelMode {
    /// A record per call (no counting in the kernel).
    #[default]
    Stream,
    /// Counted in the kernel only: no records.
    Aggregate,
    /// Counted, and records for the calls of these cgroups and syscalls
    /// (None: any).
    Drill {
        cgroups: Option<Vec<u64>>,
        syscalls: Option<Vec<u32>>,
    },
}

impl KernelMode {
    /// In a few words, for the status line.
    pub fn describe(&self) -> String {
        match self {
            KernelMode::Stream => "full capture".into(),
            KernelMode::Aggregate => "counting only".into(),
            KernelMode::Drill { cgroups, syscalls } => {
                let n =
                    |v: &Option<Vec<u64>>| v.as_ref().map_or("all".into(), |v| v.len().to_string());
                let s = syscalls
                    .as_ref()
                    .map_or("all".into(), |v| v.len().to_string());
                format!("counting + capture of {} cgroups, {s} syscalls", n(cgroups))
            }
        }
    }

    pub fn counts(&self) -> bool {
        !matches!(self, KernelMode::Stream)
    }
}

/// Where a new kernel mode goes (the capture's control channel).
pub trait ModeTarget: Send {
    fn set_mode(&self, m: KernelMode);
}

/// Gives emptied batches back to the capture thread. At full capture a
/// fresh batch per 4,096 events meant fresh pages (and page faults) each
/// time, and the matching frees unmapped them again.
#[derive(Clone)]
pub struct Recycler {
    tx: Sender<Vec<Event>>,
    /// Smaller batches are not worth keeping.
    min_capacity: usize,
}

impl Recycler {
    pub fn new(tx: Sender<Vec<Event>>, min_capacity: usize) -> Recycler {
        Recycler { tx, min_capacity }
    }

    pub fn give(&self, mut batch: Vec<Event>) {
        if batch.capacity() >= self.min_capacity {
            batch.clear();
            let _ = self.tx.try_send(batch);
        }
    }
}

/// Progress of reading a file: bytes of the file consumed so far.
#[derive(Debug)]
pub struct FileProgress {
    pub read: Arc<AtomicU64>,
    pub total: u64,
}

impl FileProgress {
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            (self.read.load(Ordering::Relaxed) as f64 / self.total as f64).min(1.0)
        }
    }
}

/// Where a run's events come from, as consumers show it.
#[derive(Clone, Debug)]
pub enum Origin {
    Live,
    /// A saved session, loading in the background.
    Replay {
        path: std::path::PathBuf,
        load: Arc<LoadState>,
    },
}

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

/// A mistake in how the program was called: exit code 2, like clap's own.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    Usage(msg.into()).into()
}
