//! The session file format: JSON Lines, a header first, then one line per
//! event. Pure data and conversions (no I/O), so it can be fuzzed.
//! docs/session-format.md is the user-facing description of the same thing.
//! The parts: `header.rs` (the first line), `syscall.rs` (the events, with
//! `wall.rs` for their `wall_time`), `lines.rs` (container and lost lines)
//! and `bytes.rs` (a traced process's bytes as every line writes them).

mod bytes;
mod header;
mod lines;
mod syscall;
mod wall;

pub use bytes::BytesIn;
pub use header::{Filters, Header, HeaderProbe, FORMAT_NAME, FORMAT_VERSION};
pub use lines::{ContainerInfo, ContainerLine, LostLine};
pub use syscall::{write_syscall, SyscallIn, SYSCALL_PREFIX};
pub use wall::WallClock;

#[cfg(test)]
mod tests;
