//! The real binary: headless mode, self-exclusion, privilege errors, TUI in tmux.

mod common;

use std::io::{BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{bin, require_root, unique, workload, CopiedExe, Tmux};

/// Runs the tracer headless, runs `work` once it says it is attached, and
/// returns its stdout, stderr and exit code.
fn headless(args: &[&str], work: impl FnOnce()) -> (String, String, i32) {
    let mut child = Command::new(bin())
        .args(["--no-tui", "--color", "never"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).unwrap();
        s
    });
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let (mut stderr, _) = common::await_attached(&mut err);
    work();
    err.read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    (reader.join().unwrap(), stderr, status.code().unwrap_or(-1))
}

#[test]
fn headless_comm_filter_and_summary() {
    if !require_root("headless_comm_filter_and_summary") {
        return;
    }
    let marker = format!("/tmp/{}\x1b[31m", unique("hl"));
    // A name of its own: workloads of other test runs must not match.
    let comm = format!("hl{}", std::process::id() % 1_000_000);
    let exe = CopiedExe::new(&comm);
    let re = format!("^{comm}$");
    let (out, err, code) = headless(&["--duration", "3", "--comm", &re], || {
        let st = Command::new(&exe.path)
            .args(["known", &marker])
            .status()
            .unwrap();
        assert!(st.success());
    });
    assert_eq!(code, 0, "stderr: {err}");
    let escaped = marker.replace('\x1b', "\\x1b");
    let open = out
        .lines()
        .find(|l| l.contains(&escaped) && l.contains(" openat("))
        .unwrap_or_else(|| panic!("no line with the marker in:\n{out}"));
    assert!(open.contains(&format!(" {comm}[")), "{open}");
    assert!(open.contains("openat("), "{open}");
    assert!(
        open.contains("= -1 ENOENT (No such file or directory)"),
        "{open}"
    );
    assert!(!out.contains('\x1b'), "raw escape byte reached the output");
    assert_eq!(
        out.lines().filter(|l| l.contains(" getppid()")).count(),
        100
    );
    assert!(
        out.lines().all(|l| l.contains(&format!(" {comm}["))),
        "--comm lets only the workload through"
    );
    assert!(
        err.contains("events captured") && err.contains("lost"),
        "summary line: {err}"
    );
}

/// Pids of the direct children of `pid`.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

fn pids_in(out: &str) -> Vec<u32> {
    out.lines()
        .filter_map(|l| {
            let s = l.split('[').nth(1)?;
            s.split('/').next()?.parse().ok()
        })
        .collect()
}

#[test]
fn never_traces_itself() {
    if !require_root("never_traces_itself") {
        return;
    }
    let child = Command::new(bin())
        .args(["--no-tui", "--color", "never", "--duration", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let me = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let pids = pids_in(&stdout);
    assert!(!pids.is_empty(), "saw no events at all");
    assert!(!pids.contains(&me), "the tracer's own syscalls were traced");
}

#[test]
fn never_traces_itself_inside_a_pid_namespace() {
    if !require_root("never_traces_itself_inside_a_pid_namespace") {
        return;
    }
    let child = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(bin())
        .args(["--no-tui", "--color", "never", "--duration", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let unshare = child.id();
    let tracer = common::wait_for(Duration::from_secs(5), || {
        children(unshare).first().copied()
    })
    .expect("unshare forked the tracer");
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let pids = pids_in(&stdout);
    assert!(!pids.is_empty(), "saw no events at all");
    assert!(
        !pids.contains(&tracer),
        "the tracer (host pid {tracer}) traced itself: {} of {} lines",
        pids.iter().filter(|&&p| p == tracer).count(),
        pids.len()
    );
}

#[test]
fn unprivileged_user_gets_one_clear_line() {
    if !require_root("unprivileged_user_gets_one_clear_line") {
        return;
    }
    // Copy the binary where `nobody` can execute it.
    let dir = std::env::temp_dir().join(unique("st-noroot"));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("systrace-tui");
    std::fs::copy(bin(), &exe).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(&exe)
        .args(["--no-tui", "--duration", "1"])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert_eq!(
        err.trim_end(),
        "systrace-tui needs root (CAP_BPF and CAP_PERFMON): try sudo systrace-tui"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn tui_shows_a_child_pauses_and_quits() {
    if !require_root("tui_shows_a_child_pauses_and_quits") {
        return;
    }
    let marker = format!("/tmp/{}", unique("tui-marker"));
    let status = std::env::temp_dir().join(unique("tui-status"));
    let cmd = format!(
        "{} --comm '^workload$'; echo $? > {}",
        bin().display(),
        status.display()
    );
    let tmux = Tmux::start(&cmd, 200, 50);
    tmux.wait_screen(Duration::from_secs(10), |s| s.contains("LIVE"));
    let mut work = Command::new(workload())
        .args(["loop-open", &marker, "50"])
        .spawn()
        .unwrap();
    let screen = tmux.wait_screen(Duration::from_secs(10), |s| s.contains(&marker));
    let line = screen.lines().find(|l| l.contains(&marker)).unwrap();
    assert!(
        line.contains("workload") && line.contains("openat"),
        "{line}"
    );
    assert!(line.contains("-1 ENOENT"), "{line}");
    tmux.send(&["Space"]);
    tmux.wait_screen(Duration::from_secs(5), |s| s.contains("PAUSED"));
    tmux.send(&["q"]);
    let code = common::exit_code_in(&status, Duration::from_secs(10));
    let _ = work.kill();
    let _ = work.wait();
    let _ = std::fs::remove_file(&status);
    assert_eq!(code.as_deref(), Some("0"));
}

#[test]
fn invalid_filter_is_one_line_with_the_column_and_exit_2() {
    let out = Command::new(bin())
        .args(["--no-tui", "--filter", "syscall == openat and pid == x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("column 30") && err.contains("pid"), "{err}");
}

#[test]
fn headless_filter_expression_and_summary_table() {
    if !require_root("headless_filter_expression_and_summary_table") {
        return;
    }
    let marker = format!("/tmp/{}", unique("flt"));
    // A copy under a name of its own: other runs of the workload on this
    // machine must not match `comm ==`.
    let comm = format!("wl{}", std::process::id() % 1_000_000);
    let exe = CopiedExe::new(&comm);
    let run_known = || {
        let st = Command::new(&exe.path)
            .args(["known", &marker])
            .status()
            .unwrap();
        assert!(st.success());
    };
    // Pushed into the kernel (syscall set) and checked in user space (comm).
    let filter = format!("comm == {comm} and syscall in (getppid, openat)");
    let (out, err, code) = headless(&["--duration", "3", "--filter", &filter], run_known);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(!out.is_empty(), "stderr: {err}");
    assert!(
        out.lines().all(|l| l.contains(&format!(" {comm}["))
            && (l.contains(" getppid(") || l.contains(" openat("))),
        "{out}"
    );
    assert_eq!(out.lines().filter(|l| l.contains(" getppid(")).count(), 100);
    assert!(
        out.lines()
            .any(|l| l.contains(&marker) && l.contains("ENOENT")),
        "{out}"
    );

    let (out, err, code) = headless(
        &[
            "--duration",
            "3",
            "--summary",
            "--filter",
            &format!("comm == {comm}"),
        ],
        run_known,
    );
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.is_empty(), "--summary prints the table only: {out}");
    let header = err
        .lines()
        .find(|l| l.contains("% time"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(header.contains("p50") && header.contains("p99"), "{header}");
    let getppid = err
        .lines()
        .find(|l| l.trim_end().ends_with(" getppid"))
        .unwrap_or_else(|| panic!("no getppid row:\n{err}"));
    let cols: Vec<&str> = getppid.split_whitespace().collect();
    assert_eq!(cols[3], "100", "calls column: {getppid}");
    let openat = err
        .lines()
        .find(|l| l.trim_end().ends_with(" openat"))
        .unwrap_or_else(|| panic!("no openat row:\n{err}"));
    let errors: u64 = openat.split_whitespace().nth(4).unwrap().parse().unwrap();
    assert!(errors >= 1, "the marker open failed: {openat}");
}
