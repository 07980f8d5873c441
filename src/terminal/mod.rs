//! The terminal edge: writing to stdout and stderr that may be stalled or
//! closed, colours, and progress lines.

pub mod output;
pub mod palette;
pub mod progress;
