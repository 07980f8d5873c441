//! Saving a session to a file and replaying it: JSON Lines with a header,
//! optionally zstd-compressed, or the binary format (`*.strc`: the kernel's
//! records, compressed). docs/session-format.md describes both.

pub mod binary;
pub mod convert;
pub mod format;
pub mod reader;
pub mod scan;
pub mod writer;
