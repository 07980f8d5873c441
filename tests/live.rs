//! Root-only: real eBPF capture of a known child process.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use systrace_tui::model::event::{Event, TraceEvent};
use systrace_tui::model::flow::{KernelFilter, KernelMode};
use systrace_tui::source::kernel::loader::LoadOptions;
use systrace_tui::source::kernel::reader::{Capture, CaptureOptions};

/// These tests trace children of this process, which the tracer leaves out
/// by default.
fn own_children() -> CaptureOptions {
    CaptureOptions {
        load: LoadOptions {
            exclude_descendants: false,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Collects events of `pid` until `done` says the set is complete.
fn collect(
    cap: &Capture,
    pid: u32,
    limit: Duration,
    done: impl Fn(&[TraceEvent]) -> bool,
) -> Vec<TraceEvent> {
    let end = Instant::now() + limit;
    let mut got = Vec::new();
    while Instant::now() < end && !done(&got) {
        if let Ok(batch) = cap.events.recv_timeout(Duration::from_millis(100)) {
            for ev in batch {
                if let Event::Syscall(e) = ev {
                    if e.id.pid == pid {
                        got.push(e);
                    }
                }
            }
        }
    }
    got
}

/// Runs `cmd` to its end under a capture of this process's children; its
/// pid, exit status and every call it made, up to its exit_group.
fn trace_to_exit(cmd: &mut Command) -> (u32, std::process::ExitStatus, Vec<TraceEvent>) {
    let mut cap = Capture::start(own_children()).expect("load and attach");
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let evs = collect(&cap, pid, Duration::from_secs(10), |evs| {
        evs.iter().any(|e| e.name() == "exit_group")
    });
    cap.stop().unwrap();
    (pid, out.status, evs)
}

#[test]
fn captures_a_known_child() {
    if !common::require_root("captures_a_known_child") {
        return;
    }
    let marker = format!("/tmp/{}", common::unique("systrace-missing"));
    let (pid, status, evs) =
        trace_to_exit(Command::new(common::workload()).args(["known", &marker]));
    assert!(status.success());

    let opens: Vec<_> = evs
        .iter()
        .filter(|e| e.name() == "openat" && e.path() == Some(marker.as_bytes()))
        .collect();
    assert_eq!(opens.len(), 1, "one openat of the marker");
    assert_eq!(opens[0].errno(), Some(2), "ENOENT");
    assert_eq!(opens[0].ret, -2);
    assert_eq!(
        evs.iter().filter(|e| e.name() == "getppid").count(),
        100,
        "exactly 100 getppid calls"
    );
    assert!(evs.iter().any(|e| e.name() == "write" && e.ret == 5));
    let exit = evs.iter().find(|e| e.name() == "exit_group").unwrap();
    assert!(!exit.returns());
    // Its one argument, the status; the registers past it are not arguments.
    assert_eq!(exit.args, [0; 6], "{exit:?}");
    for e in &evs {
        assert!(e.finish_ns >= e.start_ns, "{e:?}");
        assert_eq!(e.id.pid, pid);
        assert_eq!(e.id.tid, pid, "single-threaded workload");
        assert!(e.id.ns.pid != 0 && e.id.ns.mnt != 0 && e.id.ns.net != 0);
    }
    // The exec that started the workload carries its path and argv.
    let ns_mnt = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    assert!(ns_mnt
        .to_string_lossy()
        .contains(&evs[0].id.ns.mnt.to_string()));
}

/// A call without captured data comes in a record cut after the
/// arguments it takes: what is in the registers beyond them never shows.
#[test]
fn calls_carry_only_the_arguments_they_take() {
    if !common::require_root("calls_carry_only_the_arguments_they_take") {
        return;
    }
    let (_, status, evs) = trace_to_exit(Command::new(common::workload()).arg("extra-args"));
    assert!(status.success());
    // The last of each: the loader and the runtime close files of their own.
    let args = |name: &str| {
        let e = evs
            .iter()
            .rev()
            .find(|e| e.name() == name)
            .unwrap_or_else(|| panic!("no {name}"));
        (e.args, e.ret)
    };
    assert_eq!(args("getppid").0, [0; 6]);
    assert_eq!(args("close"), ([u64::MAX, 0, 0, 0, 0, 0], -9));
    assert_eq!(args("lseek"), ([u64::MAX, 7, 0, 0, 0, 0], -9));
    // A number past the kernel's table of plans is no call it knows: all
    // six registers, not those of the call its number wraps to.
    let high = format!("syscall_{}", 1024 + libc::SYS_getppid);
    assert_eq!(args(&high), ([11, 22, 33, 44, 55, 66], -38));
    // Nor is it the call that never returns whose number it wraps to: it
    // returns, and its ENOSYS is seen.
    let high = format!("syscall_{}", 1024 + libc::SYS_exit_group);
    let e = evs
        .iter()
        .find(|e| e.name() == high)
        .expect("the wrapped exit_group");
    assert!(e.returns(), "{e:?}");
    assert_eq!((e.args, e.ret), ([11, 22, 33, 44, 55, 66], -38));
}

#[test]
fn execve_shows_path_and_argv() {
    if !common::require_root("execve_shows_path_and_argv") {
        return;
    }
    let marker = common::unique("argv-marker");
    let (_, _, evs) = trace_to_exit(Command::new("/bin/sh").args([
        "-c",
        "exec /bin/true \"$0\" second",
        &marker,
    ]));
    let line = evs
        .iter()
        .filter(|e| e.name() == "execve")
        .map(systrace_tui::model::args::strace_line)
        .find(|l| l.starts_with("execve(\"/bin/true\""))
        .unwrap_or_else(|| panic!("no execve of /bin/true among {} events", evs.len()));
    assert!(
        line.starts_with(&format!(
            "execve(\"/bin/true\", [\"/bin/true\", \"{marker}\", \"second\"], "
        )),
        "{line}"
    );
    assert!(line.ends_with(" = 0"), "{line}");
    let e = evs.iter().find(|e| e.name() == "exit_group").unwrap();
    assert_eq!(e.comm(), "true", "exec changes comm");
}

/// Who a thread is goes to user space apart from its calls, and again when
/// it changes: the calls after a prctl(PR_SET_NAME) carry the new command
/// name, those before the old one (an identity sent only once would name
/// every call with the first).
#[test]
fn calls_carry_the_identity_they_were_made_under() {
    if !common::require_root("calls_carry_the_identity_they_were_made_under") {
        return;
    }
    let (pid, status, evs) = trace_to_exit(Command::new(common::workload()).arg("hostile"));
    assert!(status.success());
    let renamed = evs
        .iter()
        .position(|e| e.name() == "prctl")
        .expect("the prctl that renames the thread");
    let new = b"ev\x1b]0;pwn\x07";
    assert!(evs[..renamed].iter().all(|e| e.comm_bytes() != new));
    assert_eq!(
        evs[renamed].comm_bytes(),
        new,
        "prctl's own record is made after it"
    );
    let after: Vec<_> = evs[renamed..].iter().collect();
    assert!(after.len() >= 5, "the opens and exit_group: {after:?}");
    assert!(after
        .iter()
        .all(|e| e.comm_bytes() == new && e.id.pid == pid));
}

/// An identity that changes while the kernel only counts (setsid makes no
/// record then) is read and sent again before the next record: the call
/// after full capture is back names the new session, not the one sent
/// before.
#[test]
fn an_identity_changed_while_only_counting_is_sent_again() {
    if !common::require_root("an_identity_changed_while_only_counting_is_sent_again") {
        return;
    }
    // Built (when it is not current) before tracing starts: a build's
    // flood of calls would fill the queue the test reads.
    let wl = common::workload();
    let mut cap = Capture::start(own_children()).expect("load and attach");
    let limit = Duration::from_secs(10);
    let mode = |m| {
        cap.set_mode(m);
        // Answered once the mode is in the kernel.
        assert!(cap
            .filter_handle()
            .set_and_wait(KernelFilter::default(), limit));
    };
    let mut child = Command::new(wl)
        .arg("gated-setsid")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let before = collect(&cap, pid, limit, |evs| {
        evs.iter().any(|e| e.name() == "getppid")
    });
    let before = before.iter().find(|e| e.name() == "getppid").unwrap();
    assert_ne!(before.id.session, pid, "not a session leader yet");

    mode(KernelMode::Aggregate);
    stdin.write_all(b"x").unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "s\n", "setsid done");
    mode(KernelMode::Stream);
    stdin.write_all(b"x").unwrap();
    let after = collect(&cap, pid, limit, |evs| {
        evs.iter().any(|e| e.name() == "exit_group")
    });
    assert!(child.wait().unwrap().success());
    cap.stop().unwrap();
    let names: Vec<_> = after.iter().map(|e| e.name()).collect();
    assert!(
        names.iter().all(|n| n != "setsid"),
        "counted only: {names:?}"
    );
    let getppid = after
        .iter()
        .find(|e| e.name() == "getppid")
        .expect("getppid");
    assert_eq!(getppid.id.session, pid, "the session setsid made");
    assert_eq!(
        (getppid.id.pid, getppid.comm()),
        (before.id.pid, before.comm())
    );
}
