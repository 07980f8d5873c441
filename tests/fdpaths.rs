//! Root-only: `-y` names descriptors the tracer never saw being made.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{bin, require_root, unique, Reaped};

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
    let out = std::env::temp_dir().join(format!("{mark}.txt"));
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
    let mut tracer = Reaped(
        Command::new(bin())
            .args(["--no-tui", "--color", "never", "-y", "--filter", &filter])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut err = BufReader::new(tracer.0.stderr.take().unwrap());
    let (said, attached) = common::await_attached(&mut err);
    assert!(attached, "the tracer did not attach: {said}");
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    let (tx, lines) = mpsc::channel();
    let stdout = BufReader::new(tracer.0.stdout.take().unwrap());
    std::thread::spawn(move || {
        for l in stdout.lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let want = format!("write(1<{}>, \"{mark}\\n\"", out.display());
    let end = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    let mut found = false;
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        let Ok(l) = lines.recv_timeout(left) else {
            break;
        };
        found = l.contains(" echo[") && l.contains(&want);
        seen.push(l);
        if found {
            break;
        }
    }
    drop(tracer);
    drop(shell);
    let _ = std::fs::remove_file(&out);
    let writes: Vec<&String> = seen.iter().filter(|l| l.contains("write(1")).collect();
    assert!(found, "no `{want}` from echo; its writes: {writes:#?}");
}
