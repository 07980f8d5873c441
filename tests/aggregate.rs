//! Root-only: calls counted in the kernel (aggregation), through
//! `--summary`, a full counting map, the drill-down switch, and a real
//! Prometheus scraping `--metrics`.

mod common;

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{bin, require_root, unique, workload, Reaped, Scratch, TestCgroup};
use systrace_tui::model::counts::Counts;
use systrace_tui::model::event::Event;
use systrace_tui::model::flow::KernelMode;
use systrace_tui::model::syscalls::{self, Arch};
use systrace_tui::source::kernel::loader::LoadOptions;
use systrace_tui::source::kernel::reader::{Capture, CaptureOptions};

const N: u64 = 1234;
const M: u64 = 56;

/// The `counted` workload, waiting for its go on stdin.
fn gated_workload(missing: &str) -> Child {
    Command::new(workload())
        .args(["counted", &N.to_string(), &M.to_string(), missing])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The tracer (headless, `args`), attached; its stderr reader.
fn tracer(args: &[&str]) -> (Reaped, BufReader<std::process::ChildStderr>) {
    let t = common::Started::new(args);
    assert!(t.attached, "the tracer did not start: {}", t.said);
    (t.child, t.err)
}

/// Lets the workload go and waits for it.
fn run_workload(mut w: Child) {
    w.stdin.take().unwrap().write_all(b"x").unwrap();
    assert!(w.wait().unwrap().success());
}

/// Stops the tracer with SIGINT; the rest of its stderr.
fn stop(mut t: Reaped, mut err: BufReader<std::process::ChildStderr>) -> String {
    t.signal(libc::SIGINT);
    let st = t.wait(Duration::from_secs(20)).expect("the tracer ended");
    let mut s = String::new();
    err.read_to_string(&mut s).unwrap();
    assert!(st.success(), "{st:?}: {s}");
    s
}

/// The tracer with `args` and `-p` the `counted` workload, through the
/// workload's run; what it said on stderr.
fn traced_counted_workload(prefix: &str, args: &[&str]) -> String {
    let missing = format!("/tmp/{}", unique(prefix));
    let w = gated_workload(&missing);
    let pid = w.id().to_string();
    let mut all = args.to_vec();
    all.extend(["-p", &pid]);
    let (t, err) = tracer(&all);
    run_workload(w);
    stop(t, err)
}

/// (calls, errors) of a syscall's row in the summary table.
fn row(table: &str, name: &str) -> Option<(u64, u64)> {
    table.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() == 9 && f[8] == name).then(|| (f[3].parse().unwrap(), f[4].parse().unwrap()))
    })
}

#[test]
fn summary_counts_a_known_workload_exactly_in_the_kernel() {
    if !require_root("summary_counts_a_known_workload_exactly_in_the_kernel") {
        return;
    }
    let out = traced_counted_workload("agg-missing", &["--summary"]);
    assert_eq!(row(&out, "getppid"), Some((N, 0)), "{out}");
    assert_eq!(
        row(&out, "openat").or(row(&out, "open")),
        Some((M, M)),
        "{out}"
    );
    // The table keeps its form: header, rules, total.
    assert!(
        out.contains(
            "% time      total       mean     calls   errors   err%       p50       p99 syscall"
        ),
        "{out}"
    );
    assert!(
        out.contains("events captured (counted in the kernel), 0 lost"),
        "{out}"
    );
}

/// `-q` alone counts without timing (see `counting_without_times_is_exact`):
/// the workload's gated read, in flight when tracing starts, is counted at
/// its exit like any other call, and no exit goes without its enter.
#[test]
fn quiet_counts_in_the_kernel_without_times() {
    if !require_root("quiet_counts_in_the_kernel_without_times") {
        return;
    }
    let out = traced_counted_workload("agg-quiet-missing", &["-q"]);
    let calls: u64 = out
        .lines()
        .find_map(|l| {
            l.strip_prefix("systrace-tui: ")?
                .split(" events captured (counted in the kernel), 0 lost")
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no closing line: {out}"));
    assert!(calls > N + M, "{calls}: {out}");
    assert!(!out.contains("whose enter was not seen"), "{out}");
    // Nothing lost: no reason given for it.
    assert!(!out.contains("the counting map was full"), "{out}");
}

#[test]
fn a_full_counting_map_is_counted_and_said() {
    if !require_root("a_full_counting_map_is_counted_and_said") {
        return;
    }
    // One entry: getppid takes it, every open after it finds the map full.
    let out = traced_counted_workload("agg-full", &["--summary", "--agg-entries", "1"]);
    assert_eq!(row(&out, "getppid"), Some((N, 0)), "{out}");
    assert_eq!(row(&out, "openat"), None, "{out}");
    let lost: u64 = out
        .lines()
        .find_map(|l| {
            l.split("(counted in the kernel), ")
                .nth(1)?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no closing line: {out}"));
    // The opens, and whatever else the workload did on its way out.
    assert!(lost >= M, "{lost} < {M}: {out}");
    assert!(
        out.contains("the counting map was full: --agg-entries"),
        "{out}"
    );
}

/// Drill-down on and off while the workload runs: the counts stay exact,
/// and records come only for the drill-down cgroup, only while it is on,
/// whether the kernel finds the cgroup among a few compared in place or in
/// its hash.
#[test]
fn switching_a_cgroup_to_full_capture_and_back_loses_and_duplicates_no_count() {
    if !require_root("switching_a_cgroup_to_full_capture_and_back_loses_and_duplicates_no_count") {
        return;
    }
    const K: u64 = 20_000;
    const ROUNDS: u64 = 12;
    let cg = TestCgroup::new("agg-drill");
    let counts = Arc::new(Mutex::new(Counts::new(Arch::native(), 1.0)));
    let mut cap = Capture::start(CaptureOptions {
        load: LoadOptions {
            exclude_descendants: false,
            mode: KernelMode::Aggregate,
            ..Default::default()
        },
        counts: Some(counts.clone()),
        count_every: Duration::from_millis(100),
        ..Default::default()
    })
    .expect("load and attach");
    let mut w = Command::new(workload())
        .args(["rounds", &K.to_string()])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    cg.add(w.id());
    let getppid = syscalls::by_name(Arch::native(), "getppid").unwrap().nr;
    let drill = KernelMode::Drill {
        cgroups: Some(vec![cg.id()]),
        syscalls: Some(vec![getppid]),
    };
    // More cgroups than the kernel compares in place: the hash decides.
    // The others are ids no cgroup has.
    let drill_many = KernelMode::Drill {
        cgroups: Some(
            std::iter::once(cg.id())
                .chain((1..=9).map(|i| u64::MAX - i))
                .collect(),
        ),
        syscalls: Some(vec![getppid]),
    };
    let mut stdin = w.stdin.take().unwrap();
    let mut streamed = 0u64;
    let mut other_cgroups = 0u64;
    let mut drain = |cap: &Capture| {
        while let Ok(batch) = cap.events.recv_timeout(Duration::from_millis(20)) {
            for e in batch {
                if let Event::Syscall(e) = e {
                    if e.id.cgroup_id != cg.id() {
                        other_cgroups += 1;
                    } else if e.nr == getppid {
                        streamed += 1;
                    }
                }
            }
        }
    };
    for r in 0..ROUNDS {
        stdin.write_all(b"x").unwrap();
        // Switched while the round runs, every other round.
        cap.set_mode(match r % 4 {
            0 => drill.clone(),
            2 => drill_many.clone(),
            _ => KernelMode::Aggregate,
        });
        drain(&cap);
    }
    drop(stdin);
    assert!(w.wait().unwrap().success());
    cap.set_mode(KernelMode::Aggregate);
    drain(&cap);
    cap.stop().unwrap();
    let c = counts.lock().unwrap();
    let counted: u64 = c
        .cells
        .iter()
        .filter(|(k, _)| k.cgroup_id == cg.id() && k.nr == getppid)
        .map(|(_, v)| v.total.calls)
        .sum();
    assert_eq!(counted, K * ROUNDS, "every call counted once");
    assert_eq!(other_cgroups, 0, "records only for the drill-down cgroup");
    assert!(streamed > 0 && streamed < K * ROUNDS, "{streamed} records");
}

/// Counting without times (as `-q` alone), every process; its counts.
fn untimed_capture(exclude_descendants: bool) -> (Capture, Arc<Mutex<Counts>>) {
    let counts = Arc::new(Mutex::new(Counts::new(Arch::native(), 1.0)));
    let cap = Capture::start(CaptureOptions {
        load: LoadOptions {
            exclude_descendants,
            mode: KernelMode::Aggregate,
            untimed: true,
            ..Default::default()
        },
        counts: Some(counts.clone()),
        count_every: Duration::from_millis(100),
        ..Default::default()
    })
    .expect("load and attach");
    (cap, counts)
}

/// `-q` alone counts without timing: every call at its exit, from the
/// registers. The counts stay exact: a new task's first return from
/// fork/clone is not a call, exit_group (which never returns) is counted
/// at its enter, and nothing is timed.
#[test]
fn counting_without_times_is_exact() {
    if !require_root("counting_without_times_is_exact") {
        return;
    }
    const K: u64 = 7;
    let cg = TestCgroup::new("agg-untimed");
    // The children's loader opens files of its own: another cgroup.
    let cg2 = TestCgroup::new("agg-untimed-churn");
    let (mut cap, counts) = untimed_capture(false);
    let missing = format!("/tmp/{}", unique("agg-untimed-missing"));
    let w = gated_workload(&missing);
    cg.add(w.id());
    run_workload(w);
    // In its cgroup from before its exec: that exec is counted there too.
    let mut churn = common::in_cgroup(&cg2.path)
        .arg(workload())
        .args(["gated-churn", &K.to_string()])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    churn.stdin.take().unwrap().write_all(b"x").unwrap();
    assert!(churn.wait().unwrap().success());
    cap.stop().unwrap();
    let c = counts.lock().unwrap();
    let nr = |name: &str| syscalls::by_name(Arch::native(), name).map(|s| s.nr);
    let of_in = |cg: &TestCgroup, names: &[&str], errno: u32| -> (u64, u64) {
        c.cells
            .iter()
            .filter(|(k, _)| {
                k.cgroup_id == cg.id()
                    && k.errno == errno
                    && names.iter().any(|n| nr(n) == Some(k.nr))
            })
            .fold((0, 0), |(n, t), (_, v)| {
                (n + v.total.calls, t + v.total.total_ns)
            })
    };
    let of = |names: &[&str], errno: u32| of_in(&cg, names, errno);
    let churned = |names: &[&str]| of_in(&cg2, names, 0).0;
    assert_eq!(of(&["getppid"], 0), (N, 0), "N getppid, untimed");
    assert_eq!(
        of(&["openat", "open"], libc::ENOENT as u32),
        (M, 0),
        "M failed opens"
    );
    assert_eq!(of(&["exit_group"], 0).0, 1);
    assert_eq!(
        churned(&["exit_group"]),
        1 + K,
        "the workload and K /bin/true"
    );
    assert_eq!(churned(&["execve"]), 1 + K, "the workload and K /bin/true");
    assert_eq!(
        churned(&["clone", "clone3", "vfork", "fork"]),
        K,
        "one call per child started, none for its first return"
    );
    assert_eq!(c.misses.unentered, 0);
    assert_eq!(c.misses.full, 0);
}

/// Counting without times leaves out what the tracer starts, as counting
/// with them does: a process started before tracing is counted, one the
/// tracer (this test process) starts after it is not.
#[test]
fn counting_without_times_leaves_out_the_tracers_children() {
    if !require_root("counting_without_times_leaves_out_the_tracers_children") {
        return;
    }
    let old_cg = TestCgroup::new("agg-untimed-old");
    let child_cg = TestCgroup::new("agg-untimed-child");
    let missing = format!("/tmp/{}", unique("agg-untimed-excl"));
    let old = gated_workload(&missing);
    old_cg.add(old.id());
    let (mut cap, counts) = untimed_capture(true);
    let child = gated_workload(&missing);
    child_cg.add(child.id());
    run_workload(child);
    // After the excluded child is gone, as before it came.
    run_workload(old);
    cap.stop().unwrap();
    let c = counts.lock().unwrap();
    let getppid = syscalls::by_name(Arch::native(), "getppid").unwrap().nr;
    let calls = |cg: &TestCgroup, nr: Option<u32>| -> u64 {
        c.cells
            .iter()
            .filter(|(k, _)| k.cgroup_id == cg.id() && nr.is_none_or(|n| k.nr == n))
            .map(|(_, v)| v.total.calls)
            .sum()
    };
    assert_eq!(calls(&old_cg, Some(getppid)), N, "started before: counted");
    assert_eq!(calls(&child_cg, None), 0, "started by the tracer: left out");
}

/// A free TCP port on the loopback.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A GET over plain HTTP/1.0: the body.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut r = String::new();
    s.read_to_string(&mut r).ok()?;
    r.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

/// The value of an instant query's single sample, if there is one.
fn query(port: u16, q: &str) -> Option<u64> {
    let enc: String = q
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let body = http_get(port, &format!("/api/v1/query?query={enc}"))?;
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    let r = v["data"]["result"].as_array()?;
    if r.len() != 1 {
        return None;
    }
    r[0]["value"][1].as_str()?.parse().ok()
}

/// Prometheus, started on a temporary config and stopped (and its data
/// removed) when dropped.
struct Prometheus {
    child: Reaped,
    port: u16,
    _dir: Scratch,
}

impl Prometheus {
    fn start(target: u16) -> Prometheus {
        let dir = Scratch::new();
        let cfg = dir.path("prometheus.yml");
        std::fs::write(
            &cfg,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: systrace\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus is installed (scripts/deps.sh test)");
        Prometheus {
            child: Reaped(child),
            port,
            _dir: dir,
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.child.signal(libc::SIGTERM);
        if self.child.wait(Duration::from_secs(10)).is_none() {
            self.child.signal(libc::SIGKILL);
        }
    }
}

#[test]
fn prometheus_scrapes_the_exact_counts_of_a_known_workload() {
    if !require_root("prometheus_scrapes_the_exact_counts_of_a_known_workload") {
        return;
    }
    let missing = format!("/tmp/{}", unique("agg-prom"));
    let w = gated_workload(&missing);
    let pid = w.id().to_string();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let (t, err) = tracer(&["-q", "-p", &pid, "--metrics", &addr]);
    let prom = Prometheus::start(port);
    run_workload(w);
    // Our own endpoint first: the text has the counts at once (after a read).
    let text = common::wait_for(Duration::from_secs(10), || {
        http_get(port, "/metrics")
            .filter(|b| b.contains("syscall=\"getppid\"") && b.contains(&format!("}} {N}\n")))
    })
    .unwrap_or_else(|| panic!("/metrics: {:?}", http_get(port, "/metrics")));
    assert!(
        text.contains("# TYPE systrace_syscall_duration_seconds histogram"),
        "{text}"
    );
    let calls = common::wait_for(Duration::from_secs(60), || {
        query(
            prom.port,
            r#"sum(systrace_syscalls_total{syscall="getppid"})"#,
        )
        .filter(|&v| v == N)
    });
    let errors = query(
        prom.port,
        r#"sum(systrace_syscall_errors_total{syscall=~"open|openat",errno="ENOENT"})"#,
    );
    let timed = query(
        prom.port,
        r#"sum(systrace_syscall_duration_seconds_count{syscall="getppid"})"#,
    );
    drop(prom);
    let out = stop(t, err);
    assert_eq!(calls, Some(N), "prometheus saw getppid: {out}");
    assert_eq!(errors, Some(M), "{out}");
    assert_eq!(timed, Some(N), "{out}");
}

/// The CALLS column of the top view's row for `syscall` (the last number
/// on its line; the sparkline follows it).
fn top_calls(screen: &str, syscall: &str) -> Option<u64> {
    screen.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.get(1) != Some(&syscall) {
            return None;
        }
        f.iter().rev().find_map(|t| t.parse::<u64>().ok())
    })
}

/// The top view of a known workload: exact counts; Enter on a row shows
/// its calls as they happen, Esc goes back, and no count is lost or
/// doubled on the way.
#[test]
fn top_view_counts_exactly_and_drills_down_and_back() {
    if !require_root("top_view_counts_exactly_and_drills_down_and_back") {
        return;
    }
    const K: u64 = 500;
    let missing = format!("/tmp/{}", unique("agg-top"));
    let w1 = gated_workload(&missing);
    let mut w2 = Command::new(workload())
        .args(["rounds", &K.to_string()])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut rounds = w2.stdin.take().unwrap();
    let _w2 = Reaped(w2);
    let status = std::env::temp_dir().join(unique("agg-top-status"));
    let cmd = format!(
        "{} --top -p {} -p {}; echo $? > {}",
        bin().display(),
        w1.id(),
        _w2.0.id(),
        status.display()
    );
    let tmux = common::Tmux::start(&cmd, 160, 40);
    tmux.wait_screen(Duration::from_secs(20), |s| s.contains("counting only"));
    run_workload(w1);
    let at = |n: u64| move |s: &str| top_calls(s, "getppid") == Some(n);
    let s = tmux.wait_screen(Duration::from_secs(10), at(N));
    let open = s
        .lines()
        .find(|l| l.contains(" openat ") || l.contains(" open "))
        .unwrap_or_else(|| panic!("no open row:\n{s}"));
    assert!(open.contains("ENOENT"), "{open}");
    assert_eq!(
        top_calls(&s, open.split_whitespace().nth(1).unwrap()),
        Some(M),
        "{s}"
    );
    rounds.write_all(b"x").unwrap();
    tmux.wait_screen(Duration::from_secs(10), at(N + K));
    // The filter narrows the rows to one; Enter captures it.
    tmux.send(&["f"]);
    tmux.send(&["syscall == getppid", "Enter"]);
    tmux.wait_screen(Duration::from_secs(10), |s| {
        top_calls(s, "getppid") == Some(N + K) && top_calls(s, "openat").is_none()
    });
    tmux.send(&["Enter"]);
    tmux.wait_screen(Duration::from_secs(10), |s| {
        s.contains("capture of 1 cgroups, 1 syscalls (host getppid")
    });
    // The capture thread takes the switch on its next wake-up: rounds go
    // until their records show.
    let mut done = 1;
    let s = common::wait_for(Duration::from_secs(10), || {
        rounds.write_all(b"x").unwrap();
        done += 1;
        std::thread::sleep(Duration::from_millis(300));
        let s = tmux.screen();
        (s.lines().filter(|l| l.contains(" getppid ")).count() >= 5).then_some(s)
    })
    .unwrap_or_else(|| panic!("no records:\n{}", tmux.screen()));
    assert!(!s.lines().any(|l| l.contains(" openat ")), "{s}");
    tmux.send(&["Escape"]);
    tmux.wait_screen(Duration::from_secs(10), |s| {
        s.contains("counting only") && top_calls(s, "getppid") == Some(N + done * K)
    });
    rounds.write_all(b"x").unwrap();
    tmux.wait_screen(Duration::from_secs(10), at(N + (done + 1) * K));
    tmux.send(&["q"]);
    let code = common::exit_code_in(&status, Duration::from_secs(10));
    let _ = std::fs::remove_file(&status);
    assert_eq!(code.as_deref(), Some("0"));
}

/// Bad values: one line naming the flag, exit 2 (no root needed: the
/// command line is checked before anything is loaded).
#[test]
fn bad_metrics_and_top_flags_are_refused_with_one_line() {
    for (args, what) in [
        (
            &["--no-tui", "--metrics", "not an address"][..],
            "--metrics",
        ),
        (&["--no-tui", "--agg-entries", "0"][..], "--agg-entries"),
        (&["--top", "--no-tui"][..], "--top"),
    ] {
        let out = Command::new(bin()).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(what), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn an_agent_serves_its_nodes_exact_counts_to_prometheus() {
    if !require_root("an_agent_serves_its_nodes_exact_counts_to_prometheus") {
        return;
    }
    // The agent counts only this cgroup, so the counts are the workload's.
    let cg = TestCgroup::new("agg-agent");
    let missing = format!("/tmp/{}", unique("agg-agent"));
    let w = gated_workload(&missing);
    cg.add(w.id());
    // A port below 1024, as a node's metrics often are: bound before the
    // agent gives up its capabilities.
    let port = (900..1024)
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port below 1024");
    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = Reaped(
        Command::new(bin())
            .args(["agent", "--listen", &listen, "--node-name", "n-metrics"])
            .args(["--insecure", "--metrics", &format!("127.0.0.1:{port}")])
            .args(["--cgroup", cg.path.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut err = BufReader::new(child.0.stderr.take().unwrap());
    let (said, up) = common::await_attached(&mut err);
    assert!(up, "the agent did not start: {said}");
    let prom = Prometheus::start(port);
    run_workload(w);
    let calls = common::wait_for(Duration::from_secs(60), || {
        query(
            prom.port,
            r#"sum(systrace_syscalls_total{syscall="getppid",node="n-metrics"})"#,
        )
        .filter(|&v| v == N)
    });
    let errors = query(
        prom.port,
        r#"sum(systrace_syscall_errors_total{syscall=~"open|openat",errno="ENOENT",node="n-metrics"})"#,
    );
    drop(prom);
    let out = stop(child, err);
    assert_eq!(calls, Some(N), "prometheus saw getppid on the node: {out}");
    assert_eq!(errors, Some(M), "{out}");
}

/// The maps read in batches and key by key give the same counts: real maps
/// of the program's layout (a hash of key -> slot with more entries than
/// one batch holds, per-CPU cells by slot, slots not in key order),
/// different values on each CPU, read twice with calls added in between.
#[test]
fn a_batched_read_and_a_key_by_key_read_give_the_same_counts() {
    use libbpf_rs::libbpf_sys;
    use libbpf_rs::{MapCore, MapFlags, MapHandle, MapType};
    use systrace_tui::source::kernel::aggregate::{Reader, KEY_SIZE, VAL_SIZE};
    if !require_root("a_batched_read_and_a_key_by_key_read_give_the_same_counts") {
        return;
    }
    let opts = libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as _,
        ..Default::default()
    };
    let agg = MapHandle::create(
        MapType::Hash,
        Some("agg_test"),
        KEY_SIZE as u32,
        4,
        16_384,
        &opts,
    )
    .unwrap();
    let cells = MapHandle::create(
        MapType::PercpuArray,
        Some("agg_cells_t"),
        4,
        VAL_SIZE as u32,
        16_384,
        &opts,
    )
    .unwrap();
    let misses =
        MapHandle::create(MapType::PercpuArray, Some("agg_miss_t"), 4, 16, 1, &opts).unwrap();
    let cpus = libbpf_rs::num_possible_cpus().unwrap();
    let fill = |round: u64| {
        for e in 0..5_000u64 {
            let mut k = (1000 + e / 10).to_ne_bytes().to_vec();
            k.extend(((e % 10) as u32).to_ne_bytes());
            k.extend(((e % 3) as u32).to_ne_bytes());
            // A permutation of 0..5000: the reader may not take keys and
            // slots to come in the same order.
            let slot = ((e * 7) % 5_000) as u32;
            let vals: Vec<Vec<u8>> = (0..cpus as u64)
                .map(|cpu| {
                    let calls = round * (e + 1) + cpu;
                    let mut v = vec![0u8; VAL_SIZE];
                    v[0..8].copy_from_slice(&calls.to_ne_bytes());
                    v[8..16].copy_from_slice(&(calls * 700).to_ne_bytes());
                    v[16..24].copy_from_slice(&(e * 10 + cpu).to_ne_bytes());
                    let b = (e as usize + cpu as usize) % 128;
                    v[24 + 4 * b..28 + 4 * b].copy_from_slice(&(calls as u32).to_ne_bytes());
                    v
                })
                .collect();
            agg.update(&k, &slot.to_ne_bytes(), MapFlags::ANY).unwrap();
            cells
                .update_percpu(&slot.to_ne_bytes(), &vals, MapFlags::ANY)
                .unwrap();
        }
    };
    let counts = || Arc::new(Mutex::new(Counts::new(Arch::native(), 1.0)));
    let (batched, by_key) = (counts(), counts());
    let mut a = Reader::new(batched.clone());
    let mut b = Reader::new(by_key.clone());
    b.set_batch(false);
    for round in 1..=2 {
        fill(round);
        a.read(&agg, &cells, &misses, true);
        b.read(&agg, &cells, &misses, true);
    }
    assert!(a.batched(), "this kernel refused a batch lookup");
    let (x, y) = (batched.lock().unwrap(), by_key.lock().unwrap());
    assert_eq!(x.cells.len(), 5_000);
    assert_eq!(x.cells.len(), y.cells.len());
    for (k, c) in &x.cells {
        let d = &y.cells[k];
        assert_eq!(c.total, d.total, "{k:?}");
        assert_eq!(
            c.series.newest_first(x.ticks).collect::<Vec<_>>(),
            d.series.newest_first(y.ticks).collect::<Vec<_>>()
        );
    }
    let e = 4_999u64;
    let k = systrace_tui::model::counts::Key::new(1000 + e / 10, (e % 10) as u32, (e % 3) as u32);
    // Round 2 on each CPU: 2 * (e + 1) + cpu calls.
    let want: u64 = (0..cpus as u64).map(|cpu| 2 * (e + 1) + cpu).sum();
    assert_eq!(x.cells[&k].total.calls, want);
}
