//! Root-only, real podman: the tracer leaves out not only itself but every
//! process it starts. With a podman pod running, the topology asks
//! `podman pod inspect` for the pod's name; that process (and whatever it
//! starts) must not show up in the trace.

mod common;
mod runtimes;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::Reaped;
use runtimes::{opener, Podman};

#[test]
fn processes_the_tracer_starts_are_not_traced() {
    if !common::require_root("processes_the_tracer_starts_are_not_traced") {
        return;
    }
    let u = common::unique("self");
    let short = &u[u.len() - 6..];
    let mut pm = Podman::new(&format!("self-{short}"));
    let pod = format!("selfx-{short}");
    pm.pod(&pod);
    let ctr = format!("web-{short}");
    let marker = format!("/m-self-{short}");
    pm.run(&ctr, Some(&pod), &opener(&marker));

    // The tracer runs in a cgroup of its own, so everything in that cgroup
    // is the tracer or a process it started (children inherit the cgroup).
    // The session file records each event's cgroup.
    let cg = common::TestCgroup::new("st-self");
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("trace.jsonl");
    let script = format!(
        "echo $$ > '{}/cgroup.procs' && exec \"$0\" --no-tui --color never -w '{}'",
        cg.path.display(),
        session.display()
    );
    let mut child = Command::new("/bin/sh")
        .args(["-c", &script])
        .arg(common::bin())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let tracer = Reaped(child);
    // Only watch for the pod's labelled line: the rest of the machine's
    // events go to the file.
    let labelled = Arc::new(AtomicBool::new(false));
    let seen = labelled.clone();
    let prefix = format!("{pod}/{ctr} ");
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with(&prefix) && line.contains(&marker) {
                seen.store(true, Ordering::Relaxed);
            }
        }
    });
    let (said, attached) = common::await_attached(&mut err);
    assert!(attached, "the tracer did not start: {said}");
    // The pod's name in a label means the tracer has asked podman for it.
    let named = common::wait_for(Duration::from_secs(30), || {
        labelled.load(Ordering::Relaxed).then_some(())
    });
    // SAFETY: signalling our own child.
    unsafe { libc::kill(tracer.0.id() as i32, libc::SIGINT) };
    let mut tracer = tracer;
    let stopped = common::wait_for(Duration::from_secs(20), || {
        tracer.0.try_wait().ok().flatten()
    });
    drop(tracer);
    reader.join().unwrap();
    assert!(named.is_some(), "no event labelled {pod}/{ctr} arrived");
    assert!(stopped.is_some(), "the tracer did not stop on SIGINT");

    let text = std::fs::read_to_string(&session).expect("the session file");
    let key = format!(",\"cgroup_id\":{},", cg.id());
    let ours: Vec<&str> = text.lines().filter(|l| l.contains(&key)).collect();
    assert!(
        ours.is_empty(),
        "{} events from processes the tracer started, e.g.:\n{}",
        ours.len(),
        ours.iter().take(5).copied().collect::<Vec<_>>().join("\n")
    );
    assert!(
        text.lines()
            .any(|l| l.contains("\"container\":") && l.contains(&pod)),
        "the session holds the pod's events"
    );
}
