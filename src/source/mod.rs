//! Where events come from. Each source yields batches of events, container
//! add/delete and lost counts on one channel, in order; the pipeline
//! (`crate::pipeline`) runs one, through the stages, into one consumer.
//! - `kernel`: the BPF program, its loader and the ring-buffer reader;
//! - `topology`: containers and pods of the live machine, from cgroups and runtimes;
//! - `live`: the two above as one source;
//! - `replay`: a recorded session file;
//! - `remote`: node agents' streams (`--node`, `--nodes-dns`);
//! - `redis`: what agents publish to Redis (`--source redis://`).

use anyhow::Result;
use crossbeam_channel::Receiver;

use crate::clock::Clock;
use crate::model::counts::Counted;
use crate::model::event::{Event, LostEvents};
use crate::model::flow::{KernelMode, ModeTarget, Origin, Recycler};
use crate::session::format::{Filters, Header};

pub mod kernel;
pub mod live;
pub mod redis;
pub mod remote;
pub mod replay;
pub mod topology;

/// How a source ended: what the closing summary needs.
#[derive(Debug, Default)]
pub struct End {
    pub lost: LostEvents,
    /// A source that stopped at an error (a replay at a bad line).
    pub error: Option<String>,
    pub warnings: Vec<String>,
    /// Lines for the closing summary (remote nodes: each one's accounting).
    pub notes: Vec<String>,
}

/// Calls counted in the kernel (live capture): the counts, the mode the
/// kernel started in, and the switch between modes.
pub struct Counting {
    pub counted: Counted,
    pub mode: KernelMode,
    pub modes: Box<dyn ModeTarget>,
}

/// A running source of batches.
pub trait Source {
    /// The batches. Closes once the source has ended and all is taken.
    fn events(&self) -> &Receiver<Vec<Event>>;
    /// Where consumers give emptied batches back for reuse, if anywhere.
    fn recycler(&self) -> Option<Recycler> {
        None
    }
    /// What consumers show of where the events come from.
    fn origin(&self) -> Origin;
    /// What a live source says it is doing when it starts.
    fn banner(&self) -> &'static str {
        "tracing"
    }
    /// The clock the events' times are in.
    fn clock(&self) -> Clock;
    /// The header of an export of this run, with `filters` the run's own.
    fn header(&self, filters: Filters) -> Header;
    /// What the kernel counts, where it does.
    fn counting(&self) -> Option<Counting> {
        None
    }
    /// Produces nothing more; what is queued can still be received.
    fn stop(&mut self) -> Result<()>;
    /// Ends the source. Receivers are dropped before any thread is joined,
    /// so no producer waits forever on a queue nobody reads.
    fn finish(self: Box<Self>) -> Result<End>;
}
