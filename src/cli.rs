//! Command-line options.

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
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,

    /// Only these processes (thread-group ids); repeatable. Filtered in the kernel.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pub pids: Vec<u32>,

    /// Only processes whose command name matches REGEX.
    #[arg(short = 'c', long = "comm", value_name = "REGEX")]
    pub comm: Option<String>,

    /// Colors in --no-tui output (NO_COLOR is honoured in auto mode).
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorMode,

    /// Print no event lines, only the summary (headless counting mode).
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Events the TUI keeps in memory; the oldest are dropped first.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub retain: usize,

    /// Size of the kernel ring buffer in MiB.
    #[arg(long, default_value_t = 32, value_name = "MIB")]
    pub ring_mb: u32,

    /// Bytes of read/write data to capture per call (max 4096).
    #[arg(long, default_value_t = 64, value_name = "BYTES")]
    pub buf_size: u32,
}
