//! Saving a session to a file and replaying it: JSON Lines with a header,
//! optionally zstd-compressed. docs/session-format.md describes the format.

pub mod format;
pub mod reader;
pub mod scan;
pub mod writer;
