//! Command-line options.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorMode {
    Auto,
    Always,
    Never,
}

/// Watch every syscall on this machine, live.
#[derive(Parser, Debug, Clone)]
#[command(name = "systrace-tui", version, about)]
pub struct Cli {
    /// Print one line per event to stdout instead of the TUI.
    #[arg(long)]
    pub no_tui: bool,

    /// Stop after SECS seconds and print a summary.
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub duration: Option<f64>,

    /// Only these processes (thread-group ids); repeatable. Filtered in the kernel.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pub pids: Vec<u32>,

    /// Only processes whose command name matches REGEX.
    #[arg(short = 'c', long = "comm", value_name = "REGEX")]
    pub comm: Option<String>,

    /// Only events matching EXPR, e.g. 'syscall == openat and errno != 0'
    /// (the language of the TUI's `f` prompt; pid and syscall tests are
    /// applied in the kernel where the expression allows it).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,

    /// Print a per-syscall table (like strace -c, plus p50/p99 latency) at
    /// exit instead of one line per event (implies --no-tui).
    #[arg(long)]
    pub summary: bool,

    /// Colors in --no-tui output (NO_COLOR is honoured in auto mode).
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorMode,

    /// Print no event lines, only the closing count (implies --no-tui).
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Events the TUI keeps in memory; the oldest are dropped first.
    #[arg(long, default_value_t = 1_000_000, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub retain: usize,

    /// Size of the kernel ring buffer in MiB (1 to 1024; the kernel needs a
    /// power of two, other sizes are rounded up).
    #[arg(long, default_value_t = 32, value_name = "MIB",
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub ring_mb: u32,

    /// Show what fd arguments refer to, like strace -y: `3</etc/passwd>`.
    #[arg(short = 'y', long)]
    pub fd_paths: bool,

    /// Bytes of read/write data to capture per call (0 to 4096).
    #[arg(long, default_value_t = 64, value_name = "BYTES",
          value_parser = clap::value_parser!(u32).range(0..=4096))]
    pub buf_size: u32,

    /// Only containers whose pod name matches REGEX (Kubernetes or podman
    /// pods). Filtered in the kernel by cgroup, kept current as pods come and go.
    #[arg(long = "pod", value_name = "REGEX")]
    pub pod: Option<String>,

    /// Only pods in Kubernetes namespaces matching REGEX.
    #[arg(long = "namespace", value_name = "REGEX")]
    pub namespace: Option<String>,

    /// Only containers whose name matches REGEX.
    #[arg(long = "container", value_name = "REGEX")]
    pub container: Option<String>,

    /// Only processes outside containers (with --pod/--namespace/--container:
    /// those too).
    #[arg(long)]
    pub host: bool,

    /// A CRI runtime socket to ask for pod and container names (repeatable;
    /// containerd's, k3s's and CRI-O's default sockets are always tried).
    #[arg(long = "cri-socket", value_name = "PATH")]
    pub cri_sockets: Vec<std::path::PathBuf>,

    /// Save every event shown to FILE as JSON Lines (FILE.zst: compressed;
    /// `-` for standard output, where event lines then are not printed).
    #[arg(short = 'w', long = "export", value_name = "FILE")]
    pub export: Option<PathBuf>,

    /// Let --export overwrite an existing file (never through a symlink).
    #[arg(long)]
    pub force: bool,

    /// Open a saved session instead of tracing live (no root needed).
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,

    /// With --replay: skip bad lines (and count them) instead of stopping.
    #[arg(long, requires = "replay")]
    pub skip_bad: bool,
}

/// A number of seconds: finite and not negative.
fn seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !v.is_finite() || !(0.0..=1e9).contains(&v) {
        return Err(format!("{s:?} is not a number of seconds (0 or more)"));
    }
    Ok(v)
}
