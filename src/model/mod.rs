//! Pure data and decoding: no files, sockets or threads, so everything here
//! is unit-testable and fuzzable.

pub mod args;
pub mod container;
pub mod counts;
pub mod decode;
pub mod errno;
pub mod escape;
pub mod event;
pub mod fdtable;
pub mod filter;
pub mod flow;
pub mod identity;
pub mod jsonw;
pub mod node;
pub mod raw;
pub mod selection;
pub mod stats;
pub mod stop;
pub mod syscalls;
pub mod tail;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
