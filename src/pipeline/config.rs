//! The command line, turned once into what each part of a run needs. Below
//! `main`, nothing sees `Cli`.

use std::io::{self, IsTerminal};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use crate::cli::{Cli, ColorMode};
use crate::consumer::headless::LineOptions;
use crate::model::filter::Pushdown;
use crate::model::flow::usage;
use crate::model::flow::KernelFilter;
use crate::model::flow::KernelMode;
use crate::model::selection::Selection;
use crate::model::syscalls::Arch;
use crate::session::format::Filters;
use crate::session::writer::Target;
use crate::source::kernel::loader::MAX_NR;
use crate::source::live::LiveOptions;
use crate::source::remote::{ClientTls, RemoteOptions, Target as NodeTarget};
use crate::stage::fdpaths::FdPaths;
use crate::stage::UserFilter;
use crate::wire::pb;

/// Where the events come from.
#[derive(Clone, Debug)]
pub enum Input {
    Live(Box<LiveOptions>),
    Replay {
        path: PathBuf,
        skip_bad: bool,
    },
    /// Node agents (`--node`, `--nodes-dns`).
    Remote(Box<RemoteOptions>),
    /// `--source redis://...`: what nodes publish.
    Redis(crate::source::redis::RedisOptions),
}

/// Who shows the events.
#[derive(Clone, Copy, Debug)]
pub enum Output {
    Lines(LineOptions),
    Tui {
        retain: usize,
        top: bool,
    },
    /// `--json`: one object per event.
    Json,
}

pub struct Config {
    pub input: Input,
    pub output: Output,
    /// Every user-space filter; live, the kernel applies `kernel` first.
    pub filter: UserFilter,
    /// `--pod`, `--namespace`, `--container`, `--host` (also in `filter`).
    pub selection: Option<Selection>,
    pub export: Option<Target>,
    /// `-y` (live only: fd paths come from this machine's /proc).
    pub fd_paths: bool,
    pub duration: Option<Duration>,
    /// The filters a session file records.
    pub recorded_filters: Filters,
}

/// `--cgroup PATH`, resolved on this machine (a usage error if it is not a
/// cgroup v2 directory).
pub fn cgroup_scope(given: &str) -> Result<crate::model::flow::CgroupScope> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    crate::source::topology::cgroups::scope(given, &mi).map_err(usage)
}

/// `--metrics`' address: host:port (a name is looked up once).
pub(super) fn parse_addr(a: &str) -> Result<SocketAddr> {
    use std::net::ToSocketAddrs;
    a.to_socket_addrs()
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(|| {
            usage(format!(
                "--metrics {a:?}: expected HOST:PORT, e.g. 127.0.0.1:9464"
            ))
        })
}

/// `--pid` and what the kernel can do of `--filter`, combined.
fn kernel_filter(pids: &[u32], push: Pushdown, fd_paths: bool) -> KernelFilter {
    let mut kpids = push.pids;
    if !pids.is_empty() {
        let given = pids.iter().copied().collect();
        kpids = Some(match kpids {
            Some(p) => p.intersection(&given).copied().collect(),
            None => given,
        });
    }
    let mut syscalls = push.syscalls;
    // -y follows opens, dups and closes that the filter itself would not
    // show: the kernel must let those through to the fd stage.
    if fd_paths {
        if let Some(s) = syscalls.as_mut() {
            s.extend(FdPaths::needed_syscalls(Arch::native()));
        }
    }
    KernelFilter {
        pids: kpids.map(|p| p.into_iter().collect()),
        cgroups: None,
        cgroups_after: 0,
        syscalls: syscalls.map(|s| s.into_iter().collect()),
    }
}

/// `HOST:PORT` resolved, or a usage error naming the flag.
fn resolve(flag: &str, addr: &str) -> Result<Vec<std::net::SocketAddr>> {
    use std::net::ToSocketAddrs;
    let addrs: Vec<_> = addr
        .to_socket_addrs()
        .map_err(|e| usage(format!("{flag} {addr}: {e} (HOST:PORT)")))?
        .collect();
    if addrs.is_empty() {
        return Err(usage(format!("{flag} {addr}: resolves to no address")));
    }
    Ok(addrs)
}

fn read_pem(flag: &str, p: &Path) -> Result<Vec<u8>> {
    let b = std::fs::read(p).map_err(|e| usage(format!("{flag} {}: {e}", p.display())))?;
    if !b.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(usage(format!("{flag} {}: not a PEM file", p.display())));
    }
    Ok(b)
}

/// The agents to watch and how: `--node`, `--nodes-dns`, TLS or not.
fn remote(cli: &Cli) -> Result<Option<RemoteOptions>> {
    if cli.nodes.is_empty() && cli.nodes_dns.is_empty() {
        if cli.insecure || cli.tls_ca.is_some() || cli.tls_cert.is_some() {
            return Err(usage(
                "--insecure, --tls-ca, --tls-cert and --tls-key are for --node or --nodes-dns",
            ));
        }
        return Ok(None);
    }
    if cli.fd_paths {
        return Err(usage(
            "-y reads this machine's /proc: it does not work with --node or --nodes-dns",
        ));
    }
    let mut targets = Vec::new();
    for n in &cli.nodes {
        let addrs = resolve("--node", n)?;
        if cli.insecure && !addrs.iter().all(|a| a.ip().is_loopback()) {
            return Err(usage(format!(
                "--insecure is for agents on loopback only, and --node {n} is not: use --tls-ca"
            )));
        }
        targets.push(NodeTarget {
            addr: n.clone(),
            server_name: None,
        });
    }
    for d in &cli.nodes_dns {
        let host = d.rsplit_once(':').map_or(d.as_str(), |(h, _)| h);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let mut addrs = resolve("--nodes-dns", d)?;
        addrs.sort();
        addrs.dedup();
        for a in addrs {
            if cli.insecure && !a.ip().is_loopback() {
                return Err(usage(format!(
                    "--insecure is for agents on loopback only, and --nodes-dns {d} gives {a}: use --tls-ca"
                )));
            }
            targets.push(NodeTarget {
                addr: a.to_string(),
                server_name: Some(host.to_string()),
            });
        }
    }
    let tls = match (&cli.tls_ca, cli.insecure) {
        (Some(ca), _) => Some(ClientTls {
            ca_pem: read_pem("--tls-ca", ca)?,
            identity: match (&cli.tls_cert, &cli.tls_key) {
                (Some(c), Some(k)) => Some((read_pem("--tls-cert", c)?, read_pem("--tls-key", k)?)),
                _ => None,
            },
        }),
        (None, true) => None,
        (None, false) => {
            return Err(usage(
                "--node and --nodes-dns need --tls-ca (and --tls-cert, --tls-key), or --insecure for agents on loopback",
            ))
        }
    };
    Ok(Some(RemoteOptions {
        targets,
        tls,
        filter: pb::ClientFilter {
            pids: cli.pids.clone(),
            syscalls: Vec::new(),
            comm: cli.comm.clone().unwrap_or_default(),
            pod: cli.pod.clone().unwrap_or_default(),
            namespace: cli.namespace.clone().unwrap_or_default(),
            container: cli.container.clone().unwrap_or_default(),
            host: cli.host,
            expr: cli.filter.clone().unwrap_or_default(),
        },
        clock: crate::clock::Clock::measure(),
        columns: true,
    }))
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config> {
        let remote = remote(&cli)?;
        // --summary and -q describe what to print at the end: lines mode.
        let lines = cli.no_tui || cli.summary || cli.quiet || cli.json;
        let export_to_stdout = cli.export.as_deref() == Some(Path::new("-"));
        if !lines && export_to_stdout {
            return Err(usage(
                "-w - writes the session to standard output, which the TUI needs: add --no-tui",
            ));
        }
        let selection = Selection::new(
            cli.pod.as_deref(),
            cli.namespace.as_deref(),
            cli.container.as_deref(),
            cli.host,
        )?;
        let filter = UserFilter::new(
            &cli.pids,
            cli.comm.as_deref(),
            cli.filter.as_deref(),
            selection.clone(),
        )?;
        // fd paths come from this machine's /proc: live capture only.
        let fd_paths = cli.fd_paths && cli.replay.is_none() && cli.source.is_none();
        // What the kernel can do of --filter, computed once: its pid and
        // syscall sets, and its tests on container names (which narrow the
        // topology's cgroup set as the flags do).
        let mut push = filter
            .expr
            .as_ref()
            .map(|f| f.pushdown(Arch::native(), MAX_NR))
            .unwrap_or_default();
        let by_names = Selection::with_filter(selection.clone(), push.containers.take());
        let kernel = kernel_filter(&cli.pids, push, fd_paths);
        if cli.json && export_to_stdout {
            return Err(usage(
                "--json and -w - both write to standard output: write the session to a file",
            ));
        }
        let output = if cli.json {
            Output::Json
        } else if lines {
            Output::Lines(LineOptions {
                summary: cli.summary,
                quiet: cli.quiet || export_to_stdout,
                color: match cli.color {
                    ColorMode::Always => true,
                    ColorMode::Never => false,
                    ColorMode::Auto => {
                        io::stdout().is_terminal() && !crate::terminal::palette::no_color_env()
                    }
                },
            })
        } else {
            Output::Tui {
                retain: cli.retain,
                top: cli.top,
            }
        };
        // --summary and -q need only counts when nothing else needs the
        // events themselves: then the kernel counts and sends nothing.
        let counts_suffice = (cli.summary || cli.quiet)
            && cli.replay.is_none()
            && cli.export.is_none()
            && !fd_paths
            && cli.comm.is_none()
            && cli.filter.is_none();
        let metrics = match &cli.metrics {
            Some(a) => Some((parse_addr(a)?, cli.metrics_containers)),
            None => None,
        };
        // -q alone shows no time at all: the kernel need not take any.
        let untimed = counts_suffice && !cli.summary && metrics.is_none();
        let mode = if cli.top || counts_suffice {
            KernelMode::Aggregate
        } else if metrics.is_some() {
            // Counted for the metrics, and every call as a record too.
            KernelMode::Drill {
                cgroups: None,
                syscalls: None,
            }
        } else {
            KernelMode::Stream
        };
        let container_flags = [
            (cli.pod.is_some(), "--pod"),
            (cli.namespace.is_some(), "--namespace"),
            (cli.container.is_some(), "--container"),
            (cli.host, "--host"),
        ]
        .into_iter()
        .filter_map(|(on, f)| on.then_some(f))
        .collect();
        if let Some(url) = &cli.source {
            crate::wire::redis::check_url(url).map_err(|e| usage(format!("--source {e}")))?;
            if remote.is_some() {
                return Err(usage(
                    "--source reads Redis: not with --node or --nodes-dns",
                ));
            }
        }
        let scope = match &cli.cgroup {
            Some(_) if cli.replay.is_some() || remote.is_some() || cli.source.is_some() => {
                return Err(usage(
                    "--cgroup scopes live capture on this machine: not with --replay, --node, --nodes-dns or --source (give it to the agent)",
                ))
            }
            Some(p) => Some(cgroup_scope(p)?),
            None => None,
        };
        let input = match (cli.replay, remote, cli.source) {
            (_, Some(r), _) => Input::Remote(Box::new(r)),
            (Some(path), None, _) => Input::Replay {
                path,
                skip_bad: cli.skip_bad,
            },
            (None, None, Some(url)) => Input::Redis(crate::source::redis::RedisOptions {
                url,
                viewer: cli.viewer,
            }),
            (None, None, None) => Input::Live(Box::new(LiveOptions {
                ring_mb: cli.ring_mb,
                buf_size: cli.buf_size,
                pids: cli.pids.clone(),
                cri_sockets: cli.cri_sockets,
                container_flags,
                kernel,
                selection: by_names,
                agg_entries: cli
                    .agg_entries
                    .unwrap_or_else(crate::source::kernel::loader::default_agg_entries),
                mode,
                metrics,
                scope,
                untimed,
            })),
        };
        Ok(Config {
            input,
            output,
            filter,
            selection,
            export: cli.export.map(|p| Target::from_arg(&p, cli.force)),
            fd_paths,
            duration: cli.duration.map(Duration::from_secs_f64),
            recorded_filters: Filters {
                pids: cli.pids,
                comm: cli.comm,
                filter: cli.filter,
                view: None,
                pod: cli.pod,
                namespace: cli.namespace,
                container: cli.container,
                host: cli.host,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn live(args: &[&str]) -> LiveOptions {
        let cli = Cli::try_parse_from(std::iter::once("systrace-tui").chain(args.iter().copied()))
            .expect("valid arguments");
        match Config::from_cli(cli).expect("a valid configuration").input {
            Input::Live(l) => *l,
            _ => panic!("not a live run"),
        }
    }

    /// -q alone shows no time: the kernel counts without taking any. Every
    /// other counting run shows times and so takes them.
    #[test]
    fn only_quiet_alone_counts_without_times() {
        let q = live(&["-q"]);
        assert!(q.untimed && q.mode == KernelMode::Aggregate);
        for args in [
            &["-q", "--summary"][..],
            &["--summary"],
            &["-q", "--metrics", "127.0.0.1:0"],
        ] {
            let l = live(args);
            assert!(!l.untimed && l.mode.counts(), "{args:?}");
        }
        // Events needed: full capture, so nothing counted either way.
        let w = live(&["-q", "-w", "/dev/null"]);
        assert!(!w.untimed && w.mode == KernelMode::Stream);
    }

    /// --metrics-containers 0 folds every container into "(other)"; it was
    /// taken as 1.
    #[test]
    fn metrics_containers_zero_is_kept() {
        let l = live(&[
            "-q",
            "--metrics",
            "127.0.0.1:0",
            "--metrics-containers",
            "0",
        ]);
        assert_eq!(l.metrics.map(|(_, cap)| cap), Some(0));
    }
}
