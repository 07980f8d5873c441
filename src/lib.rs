//! systrace-tui: live syscall tracing with eBPF, decoded like strace,
//! grouped by container and pod.

pub mod cli;
pub mod clock;
pub mod consumer;
pub mod manual;
pub mod model;
pub mod pipeline;
pub mod privs;
pub mod session;
pub mod source;
pub mod stage;
pub mod terminal;
pub mod verbose;
pub mod wire;

/// The message for a user without the privileges to load BPF.
pub const NEEDS_ROOT: &str =
    "systrace-tui needs root (CAP_BPF and CAP_PERFMON): try sudo systrace-tui";
