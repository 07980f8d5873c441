//! Root-only: `-y` names descriptors the tracer never saw being made.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{require_root, unique, Reaped};

/// A shell started before the tracer, its stdout a file, runs `/bin/echo`
/// in a loop: each echo inherits fd 1 from it and is gone within a
/// millisecond, before its events are read, so /proc/<echo>/fd cannot say
/// what fd 1 is; the shell's table (listed at its fork) can.
#[test]
fn an_inherited_stdout_is_named() {
    if !require_root("an_inherited_stdout_is_named") {
        return;
    }
    let mark = unique("fdmark");
    let scratch = common::Scratch::new();
    let out = scratch.path(&format!("{mark}.txt"));
    let shell = Reaped(
        Command::new("sh")
            .arg("-c")
            .arg(format!("while :; do /bin/echo {mark}; sleep 0.1; done"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .spawn()
            .unwrap(),
    );
    let filter = format!("pid == {} or comm == echo", shell.0.id());
    let want = format!("write(1<{}>, \"{mark}\\n\"", out.display());
    let (found, seen) = trace_until(&filter, |l| l.contains(" echo[") && l.contains(&want));
    drop(shell);
    let writes: Vec<&String> = seen.iter().filter(|l| l.contains("write(1")).collect();
    assert!(found, "no `{want}` from echo; its writes: {writes:#?}");
}

/// Runs `systrace-tui --no-tui -y --filter FILTER` until a line satisfies
/// `want` (returned true) or 20 s pass; returns whether it did, and the lines.
fn trace_until(filter: &str, want: impl Fn(&str) -> bool) -> (bool, Vec<String>) {
    let mut tracer = common::Lines::start(&["-y", "--filter", filter]);
    let found = tracer.until(Duration::from_secs(20), want);
    (found, std::mem::take(&mut tracer.seen))
}

/// The filter shows only `read`, and the kernel is told so: the `openat`
/// that made the fd must still reach the fd table, or the read is bare.
#[test]
fn a_filter_without_the_open_still_names_the_fd() {
    if !require_root("a_filter_without_the_open_still_names_the_fd") {
        return;
    }
    let opener = Reaped(
        Command::new(common::workload())
            .args(["loop-open", "/etc/hostname", "20"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let filter = format!("syscall == read and pid == {}", opener.0.id());
    let (found, seen) = trace_until(&filter, |l| l.contains("read(3</etc/hostname>"));
    drop(opener);
    assert!(found, "no read(3</etc/hostname>, ...); lines: {seen:#?}");
    assert!(seen.iter().all(|l| l.contains(" read(")), "{seen:#?}");
}
