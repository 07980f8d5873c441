//! Where events go: the TUI, or headless lines, the summary table and JSON
//! lines. Consumers only consume; the pipeline (`crate::pipeline`) feeds
//! them the batches that come out of the stages.

use anyhow::Result;

use crate::model::container::ContainerMap;
use crate::model::event::Event;

pub mod headless;
pub mod json;
pub mod line;
pub mod metrics;
pub mod publish;
pub mod tui;

/// A consumer that takes the stream batch by batch, on the pipeline's
/// thread (the TUI has a loop of its own).
pub trait Consumer {
    /// The batch as the source made it, before the stages: events the
    /// filter drops still tell how far time has got.
    fn arrived(&mut self, _batch: &[Event]) {}
    /// The batch after the stages, with the containers known so far.
    /// False when the run should end (stdout was closed or stalled).
    fn take(&mut self, batch: &[Event], containers: &ContainerMap) -> Result<bool>;
    /// Nothing came for a while. False as for `take`.
    fn idle(&mut self) -> Result<bool> {
        Ok(true)
    }
    /// The end of the stream: what is still held, and any summary.
    fn finish(&mut self) -> Result<()>;
    /// Whether it writes lines to a terminal, where a progress bar would
    /// garble them.
    fn lines_on_terminal(&self) -> bool;
}
