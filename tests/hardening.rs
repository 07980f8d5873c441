//! Root-only: hostile strings, terminal restore, process churn, privileges.

mod common;

use std::io::{BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{bin, require_root, workload, Tmux};

/// Bytes that must never reach a terminal raw.
fn assert_terminal_safe(out: &str) {
    for (i, line) in out.lines().enumerate() {
        assert!(
            line.bytes().all(|b| (0x20..0x7f).contains(&b)),
            "line {i} carries a raw control or non-ASCII byte: {line:?}"
        );
    }
}

/// Starts the tracer headless and returns once it says it is attached.
fn start_headless(args: &[&str]) -> (std::process::Child, BufReader<std::process::ChildStderr>) {
    let mut child = Command::new(bin())
        .args(["--no-tui", "--color", "always"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    common::await_attached(&mut err);
    (child, err)
}

#[test]
fn hostile_strings_are_escaped_in_headless_output() {
    if !require_root("hostile_strings_are_escaped_in_headless_output") {
        return;
    }
    let (mut child, mut err) = start_headless(&["--duration", "3", "--comm", "^ev\\x1b"]);
    let st = Command::new(workload()).arg("hostile").status().unwrap();
    assert!(st.success());
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    // Colors are on (--color always), so strip our own SGR sequences first:
    // everything else must be printable ASCII.
    let plain = strip_sgr(&out);
    assert_terminal_safe(&plain);
    assert!(plain.contains(r#""/tmp/\x1b[31mred\x1b[0m""#), "{plain}");
    assert!(plain.contains(r#""/tmp/line\nbreak\rcr\x08bs\x7f""#));
    assert!(plain.contains(r#""/tmp/\xc3(invalid-utf8\xff""#));
    assert!(plain.contains(r#"ev\x1b]0;pwn\x07["#), "comm is escaped");
    let long = plain
        .lines()
        .find(|l| l.contains("AAAAAAAA"))
        .expect("the long path");
    assert!(long.contains(r#"\x1b[2J\x1b[H\n\r\t\xff\xfe"#), "{long}");
    assert!(
        long.contains("AAA\"..."),
        "long strings are cut with a marker"
    );
    // Paths are kept up to PATH_MAX (4096 bytes) like strace, then cut.
    assert!(long.len() < 4400, "and kept bounded: {} bytes", long.len());
}

/// Removes `ESC [ ... m` color sequences (ours) and nothing else.
fn strip_sgr(s: &str) -> String {
    let re = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    re.replace_all(s, "").into_owned()
}

#[test]
fn hostile_strings_are_escaped_in_the_tui() {
    if !require_root("hostile_strings_are_escaped_in_the_tui") {
        return;
    }
    let cmd = format!("{} --comm '^ev'", bin().display());
    let tmux = Tmux::start(&cmd, 220, 40);
    tmux.wait_screen(Duration::from_secs(10), |s| s.contains("LIVE"));
    let st = Command::new(workload()).arg("hostile").status().unwrap();
    assert!(st.success());
    let screen = tmux.wait_screen(Duration::from_secs(10), |s| s.contains("invalid-utf8"));
    assert!(screen.contains(r#"/tmp/\x1b[31mred\x1b[0m"#), "{screen}");
    assert!(screen.contains(r#"ev\x1b]0;pwn\x07"#), "{screen}");
    // A raw "clear screen" would have wiped the header.
    assert!(screen.contains("systrace-tui"), "{screen}");
    tmux.send(&["q"]);
}

/// How the tracer left the pane: alternate screen off, cursor shown, echo
/// on, canonical mode; and its exit code.
fn assert_restored(tmux: &Tmux, report: &std::path::Path, how: &str, code: &str) {
    let text = common::wait_for(Duration::from_secs(15), || {
        std::fs::read_to_string(report)
            .ok()
            .filter(|s| s.contains("END"))
    })
    .unwrap_or_else(|| panic!("{how}: the tracer did not exit; screen:\n{}", tmux.screen()));
    let fmt = |f: &str| {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &tmux.name, f])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert!(text.starts_with(&format!("EXIT={code}\n")), "{how}: {text}");
    assert_eq!(
        fmt("#{alternate_on}"),
        "0",
        "{how}: still on the alternate screen"
    );
    assert_eq!(fmt("#{cursor_flag}"), "1", "{how}: cursor hidden");
    let words: Vec<&str> = text.split_whitespace().collect();
    assert!(words.contains(&"echo"), "{how}: echo is off: {text}");
    assert!(
        words.contains(&"icanon"),
        "{how}: terminal left raw: {text}"
    );
}

#[test]
fn terminal_is_restored_on_every_way_out() {
    if !require_root("terminal_is_restored_on_every_way_out") {
        return;
    }
    for how in ["q", "ctrl-c", "SIGTERM", "SIGHUP", "panic"] {
        let env = if how == "panic" {
            "SYSTRACE_TEST_PANIC_UI=1"
        } else {
            ""
        };
        let scratch = common::Scratch::new();
        let report = scratch.path("report");
        // The shell waits for the tracer, then writes down the terminal state.
        let cmd = format!(
            "{env} {bin}; echo EXIT=$? > {r}; stty -a >> {r}; echo END >> {r}; sleep 600",
            bin = bin().display(),
            r = report.display()
        );
        let tmux = Tmux::start(&format!("sh -c '{cmd}'"), 160, 40);
        if how == "panic" {
            // The knob panics after the first frame that shows an event.
            assert_restored(&tmux, &report, how, "101");
            assert!(
                tmux.screen().contains("test knob: panic"),
                "{}",
                tmux.screen()
            );
            continue;
        }
        tmux.wait_screen(Duration::from_secs(10), |s| s.contains("LIVE"));
        match how {
            "q" => tmux.send(&["q"]),
            "ctrl-c" => tmux.send(&["C-c"]),
            sig => {
                let pid = tracer_pid(&tmux);
                let st = Command::new("kill")
                    .args([&format!("-{}", &sig[3..]), &pid.to_string()])
                    .status()
                    .unwrap();
                assert!(st.success());
            }
        }
        assert_restored(&tmux, &report, how, "0");
    }
}

/// The tracer's pid: the child of the pane's shell.
fn tracer_pid(tmux: &Tmux) -> u32 {
    let out = Command::new("tmux")
        .args(["display-message", "-p", "-t", &tmux.name, "#{pane_pid}"])
        .output()
        .unwrap();
    let shell: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    common::wait_for(Duration::from_secs(5), || {
        std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
    .expect("the tracer runs under the pane's shell")
}

#[test]
fn fork_exec_churn_keeps_identities_straight() {
    if !require_root("fork_exec_churn_keeps_identities_straight") {
        return;
    }
    use systrace_tui::model::event::Event;
    use systrace_tui::source::kernel::reader::{Capture, CaptureOptions};
    const N: usize = 1000;
    // The workload and its children run in a cgroup of their own, and the
    // kernel side is filtered to it: what this test sees and loses is theirs
    // alone, however busy the rest of the machine is.
    let cg = common::TestCgroup::new("st-churn");
    let mut child = Command::new(workload())
        .args(["gated-churn", &N.to_string()])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let parent = child.id();
    cg.add(parent);
    let opts = CaptureOptions {
        filter: systrace_tui::source::kernel::loader::KernelFilter {
            cgroups: Some(vec![cg.id()]),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut cap = Capture::start(opts).expect("load and attach");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"g").unwrap();
    // Per pid: positions of its exec of /bin/true and of its exit as
    // `true`. Judged at the end for the workload's own children only
    // (other `true` processes on a busy machine may have exec'd before
    // capture started; a child's exec can be recorded before the parent's
    // clone returns).
    let mut children = std::collections::HashMap::<u32, (Option<u64>, Option<u64>)>::new();
    let mut ours = std::collections::HashSet::<u32>::new();
    let mut seq = 0u64;
    let mut done = false;
    let end = std::time::Instant::now() + Duration::from_secs(60);
    let finished = |children: &std::collections::HashMap<u32, (Option<u64>, Option<u64>)>,
                    ours: &std::collections::HashSet<u32>| {
        ours.iter()
            .filter(|p| children.get(p).is_some_and(|c| c.1.is_some()))
            .count()
    };
    while std::time::Instant::now() < end {
        if let Ok(batch) = cap.events.recv_timeout(Duration::from_millis(100)) {
            for ev in batch {
                let Event::Syscall(e) = ev else { continue };
                seq += 1;
                let name = e.name();
                if e.id.pid == parent {
                    if matches!(&*name, "fork" | "vfork" | "clone" | "clone3") && e.ret > 0 {
                        ours.insert(e.ret as u32);
                    }
                    continue;
                }
                if name == "execve" && e.ret == 0 && e.path() == Some(&b"/bin/true"[..]) {
                    children.entry(e.id.pid).or_default().0 = Some(seq);
                } else if name == "exit_group" && e.comm() == "true" {
                    children.entry(e.id.pid).or_default().1 = Some(seq);
                }
            }
        }
        if !done {
            done = child.try_wait().unwrap().is_some();
        } else if finished(&children, &ours) >= N {
            break;
        }
    }
    assert!(child.wait().unwrap().success());
    cap.stop().unwrap();
    let lost = cap.stats.lost().total();
    assert_eq!(lost, 0, "no loss expected at this rate");
    assert_eq!(ours.len(), N, "the workload's {N} forks were seen");
    for pid in &ours {
        match children.get(pid) {
            Some((Some(exec), Some(exit))) => assert!(
                exec < exit,
                "pid {pid} exited as `true` before its exec was seen"
            ),
            c => panic!("pid {pid}: exec then exit as `true` expected, got {c:?}"),
        }
    }
}

#[test]
fn capabilities_are_dropped_after_attach() {
    if !require_root("capabilities_are_dropped_after_attach") {
        return;
    }
    let (mut child, _err) = start_headless(&["--duration", "3", "--quiet"]);
    let pid = child.id();
    let tasks: Vec<_> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(tasks.len() >= 2, "main and capture threads");
    for t in &tasks {
        let status = std::fs::read_to_string(t.join("status")).unwrap();
        let eff = status
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:"))
            .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
            .unwrap();
        for (bit, name) in [(21, "CAP_SYS_ADMIN"), (38, "CAP_PERFMON"), (39, "CAP_BPF")] {
            assert_eq!(eff & (1 << bit), 0, "{name} still held by {}", t.display());
        }
    }
    assert!(child.wait().unwrap().success());
}

#[test]
fn exits_when_its_terminal_goes_away() {
    if !require_root("exits_when_its_terminal_goes_away") {
        return;
    }
    let tmux = Tmux::start(&format!("{} --comm xnothingx", bin().display()), 120, 30);
    tmux.wait_screen(Duration::from_secs(10), |s| s.contains("LIVE"));
    let pid = tracer_pid_of_pane(&tmux);
    // Closing the window hangs up the terminal under the tracer.
    drop(tmux);
    let gone = common::wait_for(Duration::from_secs(10), || {
        (!std::path::Path::new(&format!("/proc/{pid}")).exists()).then_some(())
    });
    if gone.is_none() {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("the tracer kept running after its terminal was closed");
    }
}

/// The pane's own process (the tracer, when it is the pane's command).
fn tracer_pid_of_pane(tmux: &Tmux) -> u32 {
    let out = Command::new("tmux")
        .args(["display-message", "-p", "-t", &tmux.name, "#{pane_pid}"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}
