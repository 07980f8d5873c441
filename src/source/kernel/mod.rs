//! The kernel edge: the eBPF program (systrace.bpf.c), its loader and the
//! ring-buffer reader thread.

pub mod aggregate;
pub mod loader;
pub mod reader;
mod ring;
mod wire;
