//! Where events come from. Each source yields batches of events, container
//! add/delete and lost counts; the pipeline (`crate::pipeline`) runs one.
//! - `kernel`: the BPF program, its loader and the ring-buffer reader;
//! - `topology`: containers and pods of the live machine, from cgroups and runtimes;
//! - `replay`: a recorded session file;
//! - `remote`: node agents' streams (`--node`, `--nodes-dns`).

pub mod kernel;
pub mod redis;
pub mod remote;
pub mod replay;
pub mod topology;
