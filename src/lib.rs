//! systrace-tui: live syscall tracing with eBPF, decoded like strace,
//! grouped by container and pod.

pub mod bpf;
pub mod cli;
pub mod clock;
pub mod config;
pub mod fdtable;
pub mod headless;
pub mod manual;
pub mod model;
pub mod output;
pub mod palette;
pub mod privs;
pub mod progress;
pub mod run;
pub mod session;
pub mod stages;
pub mod stop;
pub mod topology;
pub mod ui;
pub mod verbose;

/// The message for a user without the privileges to load BPF.
pub const NEEDS_ROOT: &str =
    "systrace-tui needs root (CAP_BPF and CAP_PERFMON): try sudo systrace-tui";
