//! Command-line options, and what is generated from them: help with
//! examples, shell completions and the man page (`src/manual.rs`).

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{ArgAction, Parser, Subcommand, ValueEnum, ValueHint};

use crate::model::filter::Field;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorMode {
    Auto,
    Always,
    Never,
}

/// Watch every syscall on this machine, live.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "systrace-tui",
    version,
    about,
    long_about = LONG_ABOUT,
    after_help = SHORT_AFTER,
    after_long_help = crate::manual::long_help_tail(),
    // `completions bash` is a command; `--no-tui completions` a mistake.
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true,
    subcommand_value_name = "COMMAND",
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// One line per event on stdout instead of the TUI.
    #[arg(long)]
    pub no_tui: bool,

    /// Stop after SECS seconds.
    ///
    /// Counted from when tracing starts (after loading and name lookups).
    #[arg(long, value_name = "SECS", value_parser = seconds, value_hint = ValueHint::Other)]
    pub duration: Option<f64>,

    /// Only these processes (thread-group ids); repeatable.
    ///
    /// Filtered in the kernel: other processes cost almost nothing.
    #[arg(short = 'p', long = "pid", value_name = "PID", value_hint = ValueHint::Other)]
    pub pids: Vec<u32>,

    /// Only processes whose command name matches REGEX.
    #[arg(short = 'c', long = "comm", value_name = "REGEX", value_hint = ValueHint::Other)]
    pub comm: Option<String>,

    /// Only events matching EXPR, e.g. 'syscall == openat and errno != 0'.
    ///
    /// The language of the TUI's `f` prompt (see Filter expressions below);
    /// pid, syscall and container tests are applied in the kernel where the
    /// expression allows it.
    #[arg(long, value_name = "EXPR", value_parser = FilterExpr, hide_possible_values = true)]
    pub filter: Option<String>,

    /// At exit, a per-syscall table instead of event lines (implies --no-tui).
    ///
    /// Like strace -c, plus p50/p99 latency.
    #[arg(long)]
    pub summary: bool,

    /// Colors in --no-tui output.
    ///
    /// In auto mode: when stdout is a terminal and NO_COLOR is not set.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorMode,

    /// Print no event lines, only the closing count (implies --no-tui).
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// One JSON object per event on stdout, for scripts (implies --no-tui).
    #[arg(long, conflicts_with_all = ["summary", "quiet"])]
    pub json: bool,

    /// Show libbpf's and the loader's diagnostics (-vv: more).
    ///
    /// Hidden without it; errors always show. -vv adds libbpf's debug log.
    #[arg(short = 'v', long, action = ArgAction::Count)]
    pub verbose: u8,

    /// Events the TUI keeps in memory; the oldest are dropped first.
    #[arg(long, default_value_t = 1_000_000, value_name = "N", value_hint = ValueHint::Other,
          value_parser = at_least_one)]
    pub retain: usize,

    /// Size of the kernel ring buffer in MiB (1 to 1024).
    ///
    /// The kernel needs a power of two: other sizes are rounded up.
    #[arg(long, default_value_t = 32, value_name = "MIB", value_hint = ValueHint::Other,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub ring_mb: u32,

    /// Show what fd arguments refer to, like strace -y: `3</etc/passwd>`.
    #[arg(short = 'y', long)]
    pub fd_paths: bool,

    /// Bytes of read/write data to capture per call (0 to 4096).
    #[arg(long, default_value_t = 64, value_name = "BYTES", value_hint = ValueHint::Other,
          value_parser = clap::value_parser!(u32).range(0..=4096))]
    pub buf_size: u32,

    /// Only containers of pods whose name matches REGEX.
    ///
    /// Kubernetes or podman pods. Filtered in the kernel by cgroup, kept
    /// current as pods come and go.
    #[arg(long = "pod", value_name = "REGEX", value_hint = ValueHint::Other)]
    pub pod: Option<String>,

    /// Only pods in Kubernetes namespaces matching REGEX.
    #[arg(long = "namespace", value_name = "REGEX", value_hint = ValueHint::Other)]
    pub namespace: Option<String>,

    /// Only containers whose name matches REGEX.
    #[arg(long = "container", value_name = "REGEX", value_hint = ValueHint::Other)]
    pub container: Option<String>,

    /// Only processes outside containers.
    ///
    /// With --pod, --namespace or --container: those too.
    #[arg(long)]
    pub host: bool,

    /// Only processes in this cgroup v2 subtree.
    ///
    /// PATH as /proc/PID/cgroup shows it (below the cgroup2 root), or a
    /// directory under the cgroup2 mount. Filtered in the kernel.
    #[arg(long = "cgroup", value_name = "PATH", value_hint = ValueHint::DirPath)]
    pub cgroup: Option<String>,

    /// Another CRI runtime socket to ask for names (repeatable).
    ///
    /// containerd's, k3s's and CRI-O's default sockets are always tried.
    #[arg(long = "cri-socket", value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub cri_sockets: Vec<std::path::PathBuf>,

    /// Save every event shown to FILE (JSON Lines; FILE.zst: compressed).
    ///
    /// `-` writes to standard output (with --no-tui), where event lines are
    /// then not printed. With --replay: cut a smaller file.
    #[arg(short = 'w', long = "export", value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub export: Option<PathBuf>,

    /// Let --export overwrite an existing file (never through a symlink).
    #[arg(long)]
    pub force: bool,

    /// Open a saved session instead of tracing live (no root needed).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub replay: Option<PathBuf>,

    /// With --replay: skip bad lines (and count them) instead of stopping.
    #[arg(long, requires = "replay")]
    pub skip_bad: bool,

    /// Start in the top view: calls counted in the kernel, per container
    /// and syscall (the `t` key).
    ///
    /// Only counting costs little; Enter on a row captures that
    /// container's or syscall's calls in full until you go back.
    #[arg(long, conflicts_with_all = ["no_tui", "summary", "quiet", "replay"])]
    pub top: bool,

    /// Serve Prometheus metrics at ADDR (host:port) under /metrics.
    ///
    /// Syscall counts, errors by errno and latency histograms, counted in
    /// the kernel, labelled by syscall, class, pod, namespace, container
    /// and node.
    #[arg(long, value_name = "ADDR", value_hint = ValueHint::Other, conflicts_with = "replay")]
    pub metrics: Option<String>,

    /// Containers that get labels of their own in --metrics; the ones
    /// seen after them are counted under container="(other)" (0: all).
    #[arg(long, default_value_t = 200, value_name = "N", value_hint = ValueHint::Other)]
    pub metrics_containers: usize,

    /// Entries of the kernel's counting map, one per (cgroup, syscall,
    /// errno) seen; calls past a full map are counted as missed. Each
    /// reserves 536 bytes per CPU at start. Default: 16,384, fewer on
    /// machines with more than 15 CPUs (128 MiB in all).
    #[arg(long, value_name = "N", value_hint = ValueHint::Other,
          value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    pub agg_entries: Option<u32>,
    /// Show what nodes publish to Redis (`agent --publish`): redis://HOST:PORT.
    ///
    /// Every node's stream, from when the viewer starts; nodes that begin
    /// publishing later join. No root needed.
    #[arg(long = "source", value_name = "URL", value_hint = ValueHint::Url,
          conflicts_with = "replay")]
    pub source: Option<String>,

    /// With --source: the name Redis remembers this viewer's place under.
    ///
    /// Started again with the same NAME, the viewer goes on after the last
    /// event it had; viewers with different names each see everything.
    #[arg(long, value_name = "NAME", requires = "source", value_hint = ValueHint::Other)]
    pub viewer: Option<String>,
    /// Watch a node agent (`systrace-tui agent`) at HOST:PORT; repeatable.
    ///
    /// Its events are shown with the node's name, merged with those of
    /// the other nodes given. Needs --tls-ca (and usually --tls-cert and
    /// --tls-key), or --insecure for an agent on loopback.
    #[arg(long = "node", value_name = "HOST:PORT", value_hint = ValueHint::Other,
          conflicts_with = "replay")]
    pub nodes: Vec<String>,

    /// Watch the agent at every address NAME resolves to (NAME:PORT).
    ///
    /// A Kubernetes headless Service gives one address per agent pod.
    #[arg(long = "nodes-dns", value_name = "NAME:PORT", value_hint = ValueHint::Other,
          conflicts_with = "replay")]
    pub nodes_dns: Vec<String>,

    /// The CA certificate (PEM) the agents' certificates are checked against.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub tls_ca: Option<PathBuf>,

    /// This client's certificate (PEM), for agents that require one.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Talk to agents without TLS (loopback addresses only).
    #[arg(long, conflicts_with_all = ["tls_ca", "tls_cert", "tls_key"])]
    pub insecure: bool,
}

/// Commands other than tracing. Hidden from `--help`: they are for
/// installing (see scripts/install.sh), not for everyday use.
#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Print a completion script for SHELL to stdout.
    #[command(hide = true)]
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the man page (roff) to stdout.
    #[command(hide = true)]
    Man,
    /// Convert a session file: to JSON Lines (OUT.jsonl, OUT.jsonl.zst) or
    /// to the binary format (OUT.strc), whatever IN is.
    // Hidden like the other commands (the man page and README describe
    // it): a visible command makes fish complete flags' values as files.
    #[command(hide = true)]
    Convert {
        /// The session to read (any format this build reads).
        #[arg(value_hint = ValueHint::FilePath)]
        input: PathBuf,
        /// The file to write; the name chooses the format.
        #[arg(value_hint = ValueHint::FilePath)]
        output: PathBuf,
        /// Replace OUT if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Trace this node and serve its events to `systrace-tui --node` clients.
    ///
    /// Hidden from the completions' and help's command list like the
    /// others (the man page and README describe it): a visible command
    /// makes fish complete the top-level flags' values as files.
    #[command(hide = true)]
    Agent(AgentArgs),
}

/// `systrace-tui agent`: one per node (a Kubernetes DaemonSet).
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct AgentArgs {
    /// Address to listen on, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", value_hint = ValueHint::Other)]
    pub listen: String,

    /// This node's name, as clients show it (in Kubernetes: spec.nodeName).
    #[arg(long, value_name = "NAME", value_hint = ValueHint::Other)]
    pub node_name: String,

    /// The agent's certificate (PEM).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub tls_cert: Option<PathBuf>,

    /// The key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub tls_key: Option<PathBuf>,

    /// CA certificate (PEM) client certificates must be signed by.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub client_ca: Option<PathBuf>,

    /// Serve without TLS: only on a loopback address.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key", "client_ca"])]
    pub insecure: bool,

    /// Size of the kernel ring buffer in MiB (1 to 1024).
    #[arg(long, default_value_t = 32, value_name = "MIB",
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub ring_mb: u32,

    /// Bytes of read/write data to capture per call (0 to 4096).
    #[arg(long, default_value_t = 64, value_name = "BYTES",
          value_parser = clap::value_parser!(u32).range(0..=4096))]
    pub buf_size: u32,

    /// Another CRI runtime socket to ask for names (repeatable).
    #[arg(long = "cri-socket", value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub cri_sockets: Vec<PathBuf>,

    /// Serve only processes in this cgroup v2 subtree.
    ///
    /// PATH as /proc/PID/cgroup shows it (below the cgroup2 root), or a
    /// directory under the cgroup2 mount. Filtered in the kernel.
    #[arg(long = "cgroup", value_name = "PATH", value_hint = ValueHint::DirPath)]
    pub cgroup: Option<String>,

    /// Also publish the node's events to Redis: redis://HOST:PORT.
    ///
    /// A stream per node, for any number of viewers (`--source`).
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
    pub publish: Option<String>,

    /// Events a client may have queued before more count as its loss.
    ///
    /// A client that reads slower than the node makes events loses the
    /// excess (and is told how many); the node and other clients go on.
    #[arg(long, default_value_t = 262_144, value_name = "EVENTS",
          value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    pub client_queue: u32,

    /// Serve Prometheus metrics of every call on this node at ADDR
    /// (host:port) under /metrics, labelled with --node-name.
    ///
    /// The kernel then counts every call; clients still get records only
    /// for what they ask.
    #[arg(long, value_name = "ADDR", value_hint = ValueHint::Other)]
    pub metrics: Option<String>,

    /// Containers that get labels of their own in --metrics; the ones
    /// seen after them are counted under container="(other)" (0: all).
    #[arg(long, default_value_t = 200, value_name = "N", value_hint = ValueHint::Other)]
    pub metrics_containers: usize,

    /// Show the agent's diagnostics (clients coming and going, filters).
    #[arg(short = 'v', long, action = ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

const LONG_ABOUT: &str = "Watch every syscall on this machine, live: decoded like strace, \
grouped by container and pod, in a terminal UI or as lines (--no-tui). \
Tracing needs root (CAP_BPF and CAP_PERFMON); replaying a saved session does not.";

const SHORT_AFTER: &str =
    "Examples, the filter language and exit codes: systrace-tui --help, man systrace-tui";

/// `--filter`'s value: any text (main checks the expression, so a mistake
/// is one line with its column), with the field names as the possible
/// values, so that shell completions offer them.
#[derive(Clone, Copy, Debug)]
struct FilterExpr;

impl TypedValueParser for FilterExpr {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(Field::ALL.iter().map(|f| {
            PossibleValue::new(f.name()).help(crate::manual::field_help(*f))
        })))
    }
}

/// The clap definition, for completions and the man page.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// A number of seconds: finite and not negative.
fn seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("{s:?} is not a number of seconds (0 or more)"));
    }
    if v > 1e9 {
        return Err(format!("{s} seconds is too long (at most 1000000000)"));
    }
    Ok(v)
}

/// A count of 1 or more.
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}
