//! Root-only: the reason the tool exists, walked end to end as one user
//! session. A podman pod and a CRI pod are up; the TUI filters by pod while
//! one more container starts in the pod; `w` exports; the file replays
//! headless with `--pod` and in the TUI with the same names; pipes and
//! Ctrl-C end runs cleanly.

mod common;
mod runtimes;

use std::io::BufReader;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{await_attached, bin, exit_code_in, replay, require_root, wait_for, Reaped, Tmux};
use runtimes::containerd::Containerd;
use runtimes::{opener, Podman};

/// A short name part no other run has (container and pod names show in
/// narrow columns).
fn tag() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{:05x}", (t ^ std::process::id()) & 0xf_ffff)
}

fn label(line: &str) -> &str {
    line.split(' ').next().unwrap_or("")
}

#[test]
fn a_pod_is_watched_exported_and_replayed() {
    if !require_root("a_pod_is_watched_exported_and_replayed") {
        return;
    }
    let t = tag();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // 1. A podman pod with one container, and a CRI pod in `billing`.
    let pod = format!("shop{t}");
    let (web, late) = (format!("web{t}"), format!("late{t}"));
    let mut podman = Podman::new(&format!("journey-{t}"));
    podman.pod(&pod);
    podman.run(&web, Some(&pod), &opener(&format!("/tmp/{web}-marker")));
    let mut ctd = Containerd::start(&format!("jcri-{t}"));
    let invoice = format!("invoice{t}");
    ctd.pod(
        &invoice,
        "billing",
        "worker",
        &opener(&format!("/tmp/{invoice}-marker")),
    );
    let sock = ctd.sock.display().to_string();

    // 2. The TUI, filtered by pod.
    let file = d.join("journey.jsonl");
    let status = d.join("status");
    let tui = Tmux::start(
        &format!(
            "{} --cri-socket {sock}; echo $? > {}",
            bin().display(),
            status.display()
        ),
        200,
        50,
    );
    tui.wait_screen(Duration::from_secs(30), |s| {
        s.contains(&pod) && s.contains(&invoice)
    });
    tui.send(&["f"]);
    tui.send(&["-l", &format!("pod == {pod}")]);
    tui.send(&["Enter"]);
    let web_label = format!("{pod}/{web}");
    tui.wait_screen(Duration::from_secs(20), |s| s.contains(&web_label));

    // ... while one more container starts in the pod.
    podman.run(&late, Some(&pod), &opener(&format!("/tmp/{late}-marker")));
    let late_label = format!("{pod}/{late}");
    let screen = tui.wait_screen(Duration::from_secs(30), |s| s.contains(&late_label));
    assert!(
        !screen.contains(&format!("{late} ")) || screen.contains(&late_label),
        "{screen}"
    );

    // 3. `w` exports every retained event.
    tui.send(&["w"]);
    tui.wait_screen(Duration::from_secs(5), |s| s.contains("file: _"));
    tui.send(&["-l", file.to_str().unwrap()]);
    tui.send(&["Enter"]);
    tui.wait_screen(Duration::from_secs(5), |s| s.contains("retained events"));
    tui.send(&["a"]);
    tui.wait_screen(Duration::from_secs(60), |s| {
        s.contains(&format!("to {}", file.display())) && s.contains("wrote")
    });
    tui.send(&["q"]);
    assert_eq!(
        exit_code_in(&status, Duration::from_secs(20)).as_deref(),
        Some("0")
    );

    // 4. The file replays headless with --pod: the pod's containers, the
    // late one included, by name; nothing else.
    let (out, err, code) = replay(&file, &["--pod", &format!("^{pod}$")]);
    assert_eq!(code, 0, "{err}");
    let labels: std::collections::BTreeSet<&str> = out.lines().map(label).collect();
    assert!(labels.contains(web_label.as_str()), "{labels:?}");
    assert!(labels.contains(late_label.as_str()), "{labels:?}");
    assert!(
        labels.iter().all(|l| l.starts_with(&format!("{pod}/"))),
        "{labels:?}"
    );
    // The CRI pod's names came back too.
    let (out, _, _) = replay(&file, &["--namespace", "^billing$"]);
    let want = format!("billing/{invoice}/worker");
    assert!(
        out.lines().any(|l| label(l) == want),
        "{}",
        &out[..out.len().min(2000)]
    );
    assert!(out.lines().all(|l| label(l).starts_with("billing/")));

    // ... and in the TUI, with the same filter and names.
    let tui = Tmux::start(
        &format!(
            "{} --replay {} --pod '^{pod}$'; echo $? > {}",
            bin().display(),
            file.display(),
            status.display()
        ),
        200,
        50,
    );
    let _ = std::fs::remove_file(&status);
    tui.wait_screen(Duration::from_secs(30), |s| s.contains("loaded"));
    // The late container's events, by its name, as the file recorded it.
    tui.send(&["f"]);
    tui.send(&["-l", &format!("container == {late}")]);
    tui.send(&["Enter"]);
    tui.wait_screen(Duration::from_secs(10), |s| s.contains(&late_label));
    tui.send(&["q"]);
    assert_eq!(
        exit_code_in(&status, Duration::from_secs(20)).as_deref(),
        Some("0")
    );

    // 5. A `| head` pipe ends a live run and a replay cleanly.
    for args in [
        vec!["--pod".to_string(), format!("^{pod}$")],
        vec!["--replay".to_string(), file.display().to_string()],
    ] {
        let script = format!(
            "{} --no-tui {} | head -3; echo \"rc=${{PIPESTATUS[0]}}\"",
            bin().display(),
            args.iter()
                .map(|a| format!("'{a}'"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(text.lines().count(), 4, "{args:?}: {text} {err}");
        assert!(text.ends_with("rc=0\n"), "{args:?}: {text} {err}");
    }

    // ... and so does Ctrl-C.
    let mut c = Command::new(bin())
        .args(["--no-tui", "--pod", &format!("^{pod}$")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(c.stderr.take().unwrap());
    let mut live = Reaped(c);
    let (seen, ok) = await_attached(&mut err);
    assert!(ok, "{seen}");
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(live.0.id() as i32, libc::SIGINT) };
    let st = wait_for(Duration::from_secs(10), || live.0.try_wait().ok().flatten())
        .expect("Ctrl-C ends a live run");
    assert!(st.success());
}
