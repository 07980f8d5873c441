//! The ways a run ends and the ways its output goes: stalled and closed
//! pipes, signals and `--duration` while output is stuck, stderr closed,
//! no terminal, `-w -` and other export targets, flag values, and replay
//! with the same filters as live.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{
    await_attached, bin, exit_code_in, replay, require_root, workload, Reaped, Scratch, Tmux,
};
use systrace_tui::clock::Clock;
use systrace_tui::model::container::{ContainerAddEvent, ContainerInfo, PodInfo, Runtime, HOST};
use systrace_tui::model::event::{Event, LostEvents, TraceEvent};
use systrace_tui::model::testing::EventBuilder;
use systrace_tui::session::format::Filters;
use systrace_tui::session::writer::{live_header, SessionFile};

/// A getppid storm for `secs` seconds: plenty of lines for any pipe.
fn storm(secs: u32) -> Reaped {
    Reaped(
        Command::new(workload())
            .args(["storm", "getppid", &secs.to_string()])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// The tracer, headless on getppid, with stdout a pipe this test holds
/// (and reads only if it wants to). Returns once it is attached.
fn tracer(
    extra: &[&str],
) -> (
    Reaped,
    std::process::ChildStdout,
    BufReader<std::process::ChildStderr>,
) {
    let mut c = Command::new(bin())
        .args(["--no-tui", "--filter", "syscall == getppid"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = c.stdout.take().unwrap();
    let mut err = BufReader::new(c.stderr.take().unwrap());
    let r = Reaped(c);
    let (seen, ok) = await_attached(&mut err);
    assert!(ok, "the tracer did not attach: {seen}");
    (r, out, err)
}

/// `script` run by bash, to its end.
fn bash(script: &str) -> std::process::Output {
    Command::new("bash").arg("-c").arg(script).output().unwrap()
}

fn rest(mut err: BufReader<std::process::ChildStderr>) -> String {
    let mut s = String::new();
    let _ = err.read_to_string(&mut s);
    s
}

/// How a `tracer` run must end: within `limit` (`stuck` says what it
/// means if not), exit 0, the summary on stderr.
fn ends_well(
    t: &mut Reaped,
    limit: Duration,
    err: BufReader<std::process::ChildStderr>,
    stuck: &str,
) {
    let st = t.wait(limit).unwrap_or_else(|| panic!("{stuck}"));
    let err = rest(err);
    assert!(st.success(), "{st:?} {err}");
    assert!(err.contains("events captured"), "{err}");
}

/// The tracer with `args`, stdout to /dev/null, for at most `limit`: its
/// exit status if it ended by then (it is killed otherwise), and all it
/// said on stderr.
fn run_for<S: AsRef<std::ffi::OsStr>>(
    args: &[S],
    limit: Duration,
) -> (Option<std::process::ExitStatus>, String) {
    let mut t = Reaped(
        Command::new(bin())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let st = t.wait(limit);
    if st.is_none() {
        t.signal(libc::SIGKILL);
    }
    let mut err = String::new();
    let _ = t.0.stderr.take().unwrap().read_to_string(&mut err);
    (st, err)
}

/// Nobody reads stdout; the run must still end at --duration, with its
/// summary, instead of waiting for the reader forever.
#[test]
fn duration_ends_a_run_whose_reader_stalled() {
    if !require_root("duration_ends_a_run_whose_reader_stalled") {
        return;
    }
    let _load = storm(20);
    let (mut t, _out, err) = tracer(&["--duration", "2"]);
    let stuck = "the tracer is stuck on a stalled stdout past --duration";
    ends_well(&mut t, Duration::from_secs(15), err, stuck);
}

#[test]
fn sigint_and_sigterm_end_a_run_whose_reader_stalled() {
    if !require_root("sigint_and_sigterm_end_a_run_whose_reader_stalled") {
        return;
    }
    let _load = storm(30);
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let (mut t, _out, err) = tracer(&[]);
        // Let the pipe fill up.
        std::thread::sleep(Duration::from_millis(500));
        t.signal(sig);
        let stuck = format!("signal {sig} ignored while stdout stalled");
        ends_well(&mut t, Duration::from_secs(10), err, &stuck);
    }
}

/// `| (sleep; head -1)` and quitting `less`: the reader takes a line, then
/// closes the pipe. The run ends at once, long before --duration.
#[test]
fn a_reader_that_closes_ends_the_run() {
    if !require_root("a_reader_that_closes_ends_the_run") {
        return;
    }
    let _load = storm(30);
    let (mut t, out, err) = tracer(&["--duration", "60"]);
    std::thread::sleep(Duration::from_millis(500));
    let mut first = String::new();
    BufReader::new(out).read_line(&mut first).unwrap();
    assert!(first.contains("getppid("), "{first}");
    // `out` is dropped here: the pipe is closed.
    let stuck = "the tracer kept running after its reader closed the pipe";
    ends_well(&mut t, Duration::from_secs(10), err, stuck);
}

/// `2>&1 >/dev/null | true`: stderr is a closed pipe. No panic.
#[test]
fn a_closed_stderr_is_not_a_crash() {
    if !require_root("a_closed_stderr_is_not_a_crash") {
        return;
    }
    let script = format!(
        "exec 3>&1; rc=$( ( {} --no-tui --duration 1 --filter 'syscall == getppid' 2>&1 >/dev/null; echo $? >&3 ) | true ); echo \"$rc\"",
        bin().display()
    );
    let out = bash(&script);
    let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(
        code,
        "0",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Without --no-tui and without a terminal: one line that says what to do,
/// exit 2. With --summary, the table goes to stderr and that is all.
#[test]
fn no_terminal_means_a_clear_word_or_the_summary() {
    let out = Command::new(bin())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("needs a terminal") && err.contains("--no-tui"),
        "{err}"
    );
    if !require_root("no_terminal_means_a_clear_word_or_the_summary") {
        return;
    }
    let out = Command::new(bin())
        .args(["--summary", "--duration", "1"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(out.stdout.is_empty());
    assert!(err.contains("calls") && err.contains("p99"), "{err}");
}

#[test]
fn bad_flag_values_are_refused_with_one_line() {
    for (args, what) in [
        (&["--buf-size", "5000"][..], "--buf-size"),
        (&["--ring-mb", "0"][..], "--ring-mb"),
        (&["--ring-mb", "100000"][..], "--ring-mb"),
        (&["--retain", "0"][..], "--retain"),
        (&["--duration", "inf"][..], "--duration"),
        (&["--duration=-1"][..], "--duration"),
        (&["--no-tui", "-p", "999999999"][..], "no such process"),
        (
            &["--no-tui", "--cri-socket", "/nonexistent/cri.sock"][..],
            "--cri-socket",
        ),
        (
            &["--cri-socket", "/etc/hostname", "--no-tui"][..],
            "not a socket",
        ),
        (&["-w", "-"][..], "--no-tui"),
        (
            &["--no-tui", "--comm", "["][..],
            "invalid --comm regex \"[\": unclosed",
        ),
        (&["--no-tui", "--pod", "("][..], "invalid --pod regex"),
        (
            &["--replay", "/nonexistent", "--container", "a{"][..],
            "--container",
        ),
    ] {
        let out = Command::new(bin())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(what), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        if !what.starts_with("--") || what.contains("regex") {
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        }
    }
}

/// A consumer slower than the capture (lines from a debug build under a
/// storm) holds a deep queue: --duration still ends the run about on time,
/// and what was not shown is counted.
#[test]
fn a_stop_under_load_is_prompt() {
    if !require_root("a_stop_under_load_is_prompt") {
        return;
    }
    let _load = storm(60);
    // 2 s, then at most a second of draining and the shutdown; without the
    // budget this run drained its queue for 10 s and more.
    let (st, err) = run_for(
        &[
            "--no-tui",
            "--duration",
            "2",
            "--filter",
            "syscall == getppid",
        ],
        Duration::from_secs(8),
    );
    let st = st.unwrap_or_else(|| panic!("still draining long after --duration: {err}"));
    assert!(st.success(), "{err}");
    assert!(err.contains("events captured"), "{err}");
}

/// `-w FIFO` with nobody reading it: said, and the stop still ends the run
/// (open(2) on a FIFO would wait for a reader forever).
#[test]
fn a_fifo_without_a_reader_does_not_hang() {
    if !require_root("a_fifo_without_a_reader_does_not_hang") {
        return;
    }
    let d = Scratch::new();
    let fifo = d.path("fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let (st, err) = run_for(
        &[
            "--no-tui".as_ref(),
            "-q".as_ref(),
            "--duration".as_ref(),
            "1".as_ref(),
            "-w".as_ref(),
            fifo.as_os_str(),
        ],
        Duration::from_secs(15),
    );
    let st = st.unwrap_or_else(|| panic!("hangs on a FIFO nobody reads: {err}"));
    assert_eq!(st.code(), Some(1), "{err}");
    assert!(err.contains("waiting for a reader of the FIFO"), "{err}");
    assert!(err.contains("no reader has the FIFO open"), "{err}");
}

#[test]
fn a_rounded_ring_size_is_said() {
    if !require_root("a_rounded_ring_size_is_said") {
        return;
    }
    let out = Command::new(bin())
        .args(["--no-tui", "-q", "--duration", "0.2", "--ring-mb", "3"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("--ring-mb 3: using 4 MiB"), "{err}");
}

/// `-w -` streams the session to stdout (event lines are not printed
/// then); `/dev/null` is a fine target; a directory is named as one.
#[test]
fn export_targets() {
    if !require_root("export_targets") {
        return;
    }
    let _load = storm(10);
    let out = Command::new(bin())
        .args([
            "--no-tui",
            "--duration",
            "1",
            "--filter",
            "syscall == getppid",
        ])
        .args(["-w", "-"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines[0]["type"], "header");
    assert_eq!(lines.last().unwrap()["final"], true);
    let n = lines.iter().filter(|l| l["type"] == "syscall").count();
    assert!(n > 100, "{n} events");
    assert!(
        err.contains(&format!("wrote {n} events to standard output")),
        "{err}"
    );

    // `-w - | head -1`: the reader leaving is a normal end.
    let _more = storm(10);
    let script = format!(
        "{} --no-tui --duration 5 --filter 'syscall == getppid' -w - | head -1 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
        bin().display()
    );
    let out = bash(&script);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0", "{err}");
    assert!(err.contains("the reader of standard output left"), "{err}");

    let out = Command::new(bin())
        .args(["--no-tui", "-q", "--duration", "0.3", "-w", "/dev/null"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("to /dev/null"), "{err}");

    let d = Scratch::new();
    let out = Command::new(bin())
        .args(["--no-tui", "-q", "--duration", "0.3", "-w"])
        .arg(d.dir())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is a directory"), "{err}");
}

/// A session written as the run goes reaches its reader while the run
/// goes on, however few events there are: `-w - | jq` shows them as they
/// come, and a recording killed later still holds them.
#[test]
fn a_session_reaches_its_reader_while_the_run_goes_on() {
    if !require_root("a_session_reaches_its_reader_while_the_run_goes_on") {
        return;
    }
    // A command name of this test's own: a few hundred events, far less
    // than a buffer's worth, and no other run's.
    let comm = format!("fl{}", std::process::id() % 1_000_000);
    let exe = common::CopiedExe::new(&comm);
    let only = format!("^{comm}$");
    let run = |marker: &str| {
        let st = Command::new(&exe.path)
            .args(["known", marker])
            .status()
            .unwrap();
        assert!(st.success());
    };
    let marker = common::unique("/tmp/st-live-session");
    let mut lines = common::Lines::start(&["--comm", &only, "-w", "-"]);
    run(&marker);
    assert!(
        lines.until(Duration::from_secs(20), |l| l.contains(&marker)),
        "the session's lines did not come while the run went on:\n{}",
        lines.tail()
    );

    let d = Scratch::new();
    let file = d.path("killed.strc");
    let marker = common::unique("/tmp/st-killed-session");
    let mut rec = common::Started::attached(&["-q", "--comm", &only, "-w", file.to_str().unwrap()]);
    run(&marker);
    // What a replay of the file so far shows, until it shows the call.
    let shown = common::wait_for(Duration::from_secs(20), || {
        let (out, _, _) = replay(&file, &[]);
        out.contains(&marker).then_some(())
    });
    rec.child.stop(libc::SIGKILL, Duration::from_secs(5));
    assert!(
        shown.is_some(),
        "the recording did not hold the call while the run went on"
    );
    let (out, _, _) = replay(&file, &[]);
    assert!(out.contains(&marker), "a killed recording lost its calls");
}

fn container(id: char, pod: Option<&str>, name: Option<&str>) -> Arc<ContainerInfo> {
    let mut c = ContainerInfo::new(&id.to_string().repeat(64), Runtime::Podman);
    c.name = name.map(str::to_string);
    c.pod = pod.map(|p| PodInfo {
        name: Some(p.into()),
        ..Default::default()
    });
    Arc::new(c)
}

fn getppid(start_ns: u64, dur: u64, pid: u32, cgroup_id: u64) -> TraceEvent {
    EventBuilder::named("getppid")
        .ret(1)
        .start(start_ns)
        .duration(dur)
        .pid(pid)
        .cgroup(cgroup_id)
        .comm("cmd1")
        .build()
}

/// A session with two podman pods, `payments` (whose name arrives after
/// its first events, as it does when the lookup is slow) and `web`, and
/// host events; the lines are in the order the kernel reports calls (when
/// they end), not in start order.
fn pods_session(path: &Path) {
    let mut h = live_header(Clock::measure(), Filters::default());
    h.arch = "x86_64".into();
    let mut f = SessionFile::create(path, false, &h).unwrap();
    let add = |cgroup_id, c: &Arc<ContainerInfo>| {
        Event::ContainerAdd(ContainerAddEvent {
            cgroup_id,
            container: c.clone(),
        })
    };
    let pay_early = container('a', None, None);
    let pay = container('a', Some("payments"), Some("api"));
    let web = container('b', Some("web"), Some("front"));
    let base = Clock::monotonic_now();
    let ms = 1_000_000;
    for ev in [
        add(10, &pay_early),
        add(20, &web),
        // Ends after the one below, started before it.
        Event::Syscall(getppid(base + 2 * ms, 50 * ms, 501, 10)),
        Event::Syscall(getppid(base + ms, 60 * ms, 500, 10)),
        Event::Syscall(getppid(base + 3 * ms, ms, 600, 20)),
        Event::Syscall(getppid(base + 4 * ms, ms, 1, 1)),
        add(10, &pay),
        Event::Syscall(getppid(base + 70 * ms, ms, 502, 10)),
    ] {
        f.event(&ev).unwrap();
    }
    f.finish(LostEvents::default()).unwrap();
}

fn pids(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| {
            let s = l.split('[').nth(1).unwrap_or("");
            s.split('/').next().unwrap_or("").to_string()
        })
        .collect()
}

#[test]
fn replay_takes_the_container_flags_and_late_names() {
    let d = Scratch::new();
    let file = d.path("pods.jsonl");
    pods_session(&file);

    // Every line of the container, the first ones too, has its pod name.
    let (out, err, code) = replay(&file, &["--pod", "^pay"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(pids(&out), ["500", "501", "502"], "{out}");
    assert!(out.lines().all(|l| l.starts_with("payments/api ")), "{out}");

    let (out, _, _) = replay(&file, &["--filter", "container == api"]);
    assert_eq!(pids(&out), ["500", "501", "502"], "{out}");
    let (out, _, _) = replay(&file, &["--host"]);
    assert_eq!(pids(&out), ["1"], "{out}");
    assert!(out.starts_with(HOST), "{out}");
    let (out, _, _) = replay(&file, &["--container", "^front$", "--host"]);
    assert_eq!(pids(&out), ["600", "1"], "{out}");
    let (out, _, _) = replay(&file, &["--namespace", "."]);
    assert_eq!(out, "", "podman pods have no Kubernetes namespace");

    // A cut keeps the names from the first event on, and the selection.
    let cut = d.path("cut.jsonl");
    let (_, err, code) = replay(&file, &["--pod", "^pay", "-q", "-w", cut.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&cut).unwrap();
    let v: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(v[0]["filters"]["pod"], "^pay", "the cut says what it holds");
    let sys: Vec<&serde_json::Value> = v.iter().filter(|l| l["type"] == "syscall").collect();
    assert_eq!(sys.len(), 3);
    for s in &sys {
        assert_eq!(s["container"]["pod"], "payments", "{s}");
    }
    let (out, _, _) = replay(&cut, &[]);
    assert!(out.lines().all(|l| l.starts_with("payments/api ")), "{out}");
}

/// A binary recording cut into JSON Lines, and that cut into the binary
/// format again, replay as the recording does.
#[test]
fn cuts_between_the_formats_replay() {
    let d = Scratch::new();
    let bin = d.path("pods.strc");
    pods_session(&bin);
    let (whole, err, code) = replay(&bin, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(pids(&whole).len(), 5, "{whole}");
    let mut from = bin;
    for name in ["cut.jsonl", "cut.jsonl.zst", "back.strc"] {
        let cut = d.path(name);
        let (_, err, code) = replay(&from, &["-q", "-w", cut.to_str().unwrap()]);
        assert_eq!(code, 0, "{name}: {err}");
        let (out, err, code) = replay(&cut, &[]);
        assert_eq!(code, 0, "{name} does not replay: {err}");
        assert_eq!(out, whole, "{name}");
        from = cut;
    }
}

#[test]
fn headless_lines_come_in_start_order() {
    let d = Scratch::new();
    let file = d.path("order.jsonl");
    pods_session(&file);
    let (out, err, code) = replay(&file, &[]);
    assert_eq!(code, 0, "{err}");
    // Reported 501 then 500; 500 started first.
    assert_eq!(pids(&out), ["500", "501", "600", "1", "502"], "{out}");
}

/// A bad line: the TUI replay shows what came before it, and the run ends
/// with exit code 1 like the headless one.
#[test]
fn a_bad_file_fails_the_tui_replay_too() {
    let d = Scratch::new();
    let file = d.path("bad.jsonl");
    pods_session(&file);
    let mut text = std::fs::read_to_string(&file).unwrap();
    let cut = text.rfind("{\"type\":\"syscall\"").unwrap();
    text.insert_str(cut, "garbage\n");
    std::fs::write(&file, text).unwrap();
    let code = d.path("code");
    let tm = Tmux::start(
        &format!(
            "{} --replay {}; echo $? > {}",
            bin().display(),
            file.display(),
            code.display()
        ),
        250,
        30,
    );
    tm.wait_screen(Duration::from_secs(20), |s| s.contains("stopped: line"));
    tm.send(&["q"]);
    let c = exit_code_in(&code, Duration::from_secs(20)).expect("the TUI ended");
    assert_eq!(c, "1");
}

/// `--json`: one object per event, with the container's names, in start
/// order, and the same selection as lines.
#[test]
fn json_lines_stand_alone_with_their_container() {
    let d = Scratch::new();
    let file = d.path("json.jsonl");
    pods_session(&file);
    let (out, err, code) = replay(&file, &["--json", "--pod", "^pay"]);
    assert_eq!(code, 0, "{err}");
    let v: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let pids: Vec<u64> = v.iter().map(|o| o["pid"].as_u64().unwrap()).collect();
    assert_eq!(pids, [500, 501, 502], "{out}");
    for o in &v {
        assert_eq!(o["container"], "payments/api", "{o}");
        assert_eq!(o["pod"], "payments", "{o}");
        assert_eq!(o["container_name"], "api", "{o}");
        assert!(o["namespace"].is_null(), "{o}");
        assert!(o["syscall"].is_string() && o["args"].is_string(), "{o}");
    }
    let (out, _, _) = replay(&file, &["--json", "--host"]);
    let host: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(host["container"], "host");
    assert!(host["pod"].is_null());

    let (_, err, code) = replay(&file, &["--json", "-w", "-"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// `--json` on a live run: a known workload arrives exactly, its failing
/// open with the errno's name, and the lines parse whatever the process
/// names its paths.
#[test]
fn json_lines_of_a_live_run_are_exact() {
    if !common::require_root("json_lines_of_a_live_run_are_exact") {
        return;
    }
    let marker = format!("/tmp/{}", common::unique("json-missing"));
    let tracer = common::Collected::start(&["--json", "--filter", "comm == workload"]);
    let st = Command::new(common::workload())
        .args(["known", &marker])
        .status()
        .unwrap();
    assert!(st.success());
    let pid = {
        let out = tracer.out.clone();
        common::wait_for(Duration::from_secs(10), || {
            let o = out.lock().unwrap();
            o.lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|v| v["syscall"] == "exit_group")
                .map(|v| v["pid"].as_u64().unwrap())
        })
        .expect("the workload's exit_group as JSON")
    };
    let out = tracer.stop();
    let mine: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["pid"].as_u64() == Some(pid))
        .collect();
    let count = |name: &str| mine.iter().filter(|v| v["syscall"] == name).count();
    assert_eq!(count("getppid"), 100);
    let open: Vec<_> = mine
        .iter()
        .filter(|v| v["syscall"] == "openat" && v["args"].as_str().unwrap().contains(&marker))
        .collect();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["ret"], -2);
    assert_eq!(open[0]["errno"], "ENOENT");
    assert_eq!(open[0]["container"], "host");
}
