//! Export and replay through the real binary: live capture to a file,
//! replay headless and in the TUI, signals, safety and bad input.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{
    bin, make_session, replay, require_root, unique, wait_for, workload, Reaped, Scratch, Tmux,
};

/// A copy of the workload under a name no other process has, so a
/// `--comm` filter sees only this test's processes even when other suites
/// run workloads at the same time. Returns the path and the comm regex.
fn own_workload(d: &Scratch) -> (PathBuf, String) {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    // comm keeps 15 bytes: stay below that.
    let name = format!("wl{:06x}{:05}", t & 0xff_ffff, std::process::id() % 100_000);
    let p = d.path(&name);
    std::fs::copy(workload(), &p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    (p, format!("^{name}$"))
}

/// A tracer running headless with its stdout collected on a thread.
struct Tracer {
    child: Reaped,
    lines: Arc<AtomicU64>,
    /// Lines containing `exit_group` so far.
    exits: Arc<AtomicU64>,
    stdout: Option<std::thread::JoinHandle<String>>,
    stderr: BufReader<std::process::ChildStderr>,
    err_text: String,
}

impl Tracer {
    /// Starts the tracer and returns once it says it is attached.
    fn start(args: &[&str]) -> Tracer {
        let common::Started {
            mut child,
            err: stderr,
            said: err_text,
            ..
        } = common::Started::new(args);
        let out = child.0.stdout.take().unwrap();
        let lines = Arc::new(AtomicU64::new(0));
        let exits = Arc::new(AtomicU64::new(0));
        let (l2, e2) = (lines.clone(), exits.clone());
        let stdout = std::thread::spawn(move || {
            let mut s = String::new();
            for line in BufReader::new(out).lines() {
                let line = line.unwrap();
                if line.contains(" exit_group(") {
                    e2.fetch_add(1, Ordering::Relaxed);
                }
                s.push_str(&line);
                s.push('\n');
                l2.fetch_add(1, Ordering::Relaxed);
            }
            s
        });
        Tracer {
            child,
            lines,
            exits,
            stdout: Some(stdout),
            stderr,
            err_text,
        }
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: the pid is our own live child.
        assert_eq!(unsafe { libc::kill(self.child.0.id() as i32, sig) }, 0);
    }

    /// Waits for the exit; returns stdout, stderr and the exit code.
    fn finish(mut self) -> (String, String, i32) {
        self.stderr.read_to_string(&mut self.err_text).unwrap();
        let st = self.child.0.wait().unwrap();
        let out = self.stdout.take().unwrap().join().unwrap();
        (
            out,
            std::mem::take(&mut self.err_text),
            st.code().unwrap_or(-1),
        )
    }
}

/// Every line of a session file as JSON; the file must be complete.
fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    let bytes = std::fs::read(path).unwrap();
    let bytes = if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        zstd::decode_all(&bytes[..]).unwrap()
    } else {
        bytes
    };
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.ends_with('\n'), "the file ends with a whole line");
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("line {}: {e}: {l}", i + 1))
        })
        .collect()
}

/// Checks the shape of a complete file; returns the number of syscalls.
fn check_complete(path: &Path) -> u64 {
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "session files are private");
    let v = json_lines(path);
    assert_eq!(v[0]["type"], "header");
    assert_eq!(v[0]["format"], "systrace-tui-session");
    let last = v.last().unwrap();
    assert_eq!(last["type"], "lost", "{last}");
    assert_eq!(last["final"], true, "{last}");
    let n = v.iter().filter(|l| l["type"] == "syscall").count() as u64;
    assert_eq!(last["events"], n, "the summary counts the events written");
    n
}

#[test]
fn live_binary_recording_replays_and_converts_like_json_lines() {
    if !require_root("live_binary_recording_replays_and_converts_like_json_lines") {
        return;
    }
    let d = Scratch::new();
    let file = d.path("known.strc");
    let marker = format!("/tmp/{}\x1b[31m\u{e9}", unique("rt"));
    let (wl, comm) = own_workload(&d);
    let t = Tracer::start(&["--comm", &comm, "--export", file.to_str().unwrap()]);
    let st = Command::new(&wl).args(["known", &marker]).status().unwrap();
    assert!(st.success());
    wait_for(Duration::from_secs(30), || {
        (t.exits.load(Ordering::Relaxed) > 0).then_some(())
    })
    .expect("the workload's exit_group is shown live");
    t.signal(libc::SIGINT);
    let (live, err, code) = t.finish();
    assert_eq!(code, 0, "{err}");
    // zstd, not text.
    assert!(std::fs::read(&file)
        .unwrap()
        .starts_with(&[0x28, 0xb5, 0x2f, 0xfd]));
    let (replayed, rerr, rcode) = replay(&file, &[]);
    assert_eq!(rcode, 0, "{rerr}");
    assert_eq!(replayed, live, "replay shows exactly what was shown live");
    assert_eq!(
        live.lines().filter(|l| l.contains(" getppid()")).count(),
        100
    );
    // Converted to JSON Lines: the same replay, a complete text file.
    let jsonl = d.path("known.jsonl");
    let out = Command::new(bin())
        .args(["convert", file.to_str().unwrap(), jsonl.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n = check_complete(&jsonl);
    assert_eq!(n, live.lines().count() as u64);
    let (from_text, _, _) = replay(&jsonl, &[]);
    assert_eq!(from_text, live);
    assert!(json_lines(&jsonl)
        .iter()
        .any(|l| l["args"]["filename"] == marker.as_str() && l["error"] == "ENOENT"));

    // A binary file cut short: one line naming the record, exit 1.
    let bytes = zstd::decode_all(std::fs::File::open(&file).unwrap()).unwrap();
    let cut = d.path("cut.strc");
    std::fs::write(
        &cut,
        zstd::encode_all(&bytes[..bytes.len() - 40], 1).unwrap(),
    )
    .unwrap();
    let (_, cerr, ccode) = replay(&cut, &[]);
    assert_eq!(ccode, 1, "{cerr}");
    let last = cerr.lines().last().unwrap_or_default();
    assert!(
        last.contains(": record ") && last.contains("truncated"),
        "{cerr}"
    );
    let out = Command::new(bin())
        .args([
            "convert",
            cut.to_str().unwrap(),
            d.path("x.jsonl").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("record ") && e.contains("truncated"), "{e}");
}

#[test]
fn live_export_replays_event_for_event() {
    if !require_root("live_export_replays_event_for_event") {
        return;
    }
    let d = Scratch::new();
    let file = d.path("known.jsonl");
    let marker = format!("/tmp/{}\x1b[31m\u{e9}", unique("rt"));
    let (wl, comm) = own_workload(&d);
    let t = Tracer::start(&["--comm", &comm, "--export", file.to_str().unwrap()]);
    let st = Command::new(&wl).args(["known", &marker]).status().unwrap();
    assert!(st.success());
    // Its last call shown live means all of it went through (a loaded
    // machine can hold events back for a while).
    wait_for(Duration::from_secs(30), || {
        (t.exits.load(Ordering::Relaxed) > 0).then_some(())
    })
    .expect("the workload's exit_group is shown live");
    // Ctrl-C ends the capture: the ring is drained and the file completed.
    t.signal(libc::SIGINT);
    let (live, err, code) = t.finish();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wrote "), "{err}");
    let n = check_complete(&file);
    assert_eq!(n, live.lines().count() as u64);
    assert_eq!(
        live.lines().filter(|l| l.contains(" getppid()")).count(),
        100
    );

    let (replayed, rerr, rcode) = replay(&file, &[]);
    assert_eq!(rcode, 0, "{rerr}");
    assert_eq!(replayed, live, "replay shows exactly what was shown live");
    assert!(rerr.contains(&format!("{n} events replayed")), "{rerr}");

    // The JSON carries the decoded fields for jq.
    let v = json_lines(&file);
    let open = v
        .iter()
        .find(|l| l["args"]["filename"] == marker.as_str())
        .expect("the marker's openat, args.filename as text");
    assert_eq!(open["syscall"]["name"], "openat");
    assert_eq!(open["error"], "ENOENT");
    assert_eq!(open["return"], -2);
    assert_eq!(open["comm"], wl.file_name().unwrap().to_str().unwrap());
    assert!(open["wall_time"].as_str().unwrap().ends_with('Z'));

    // Filters apply to a replay, and a replay can be cut to a smaller file.
    let pid = open["pid"].as_u64().unwrap().to_string();
    let (by_pid, _, _) = replay(&file, &["--pid", &pid]);
    assert_eq!(by_pid, live);
    let (none, _, _) = replay(&file, &["--pid", "1"]);
    assert!(none.is_empty());
    let cut = d.path("cut.jsonl.zst");
    let (_, cerr, ccode) = replay(
        &file,
        &[
            "--quiet",
            "--comm",
            "^nothing$",
            "--export",
            cut.to_str().unwrap(),
        ],
    );
    assert_eq!(ccode, 0, "{cerr}");
    assert_eq!(check_complete(&cut), 0);
    let cut2 = d.path("cut2.jsonl");
    let (_, cerr, ccode) = replay(
        &file,
        &["--quiet", "--pid", &pid, "-w", cut2.to_str().unwrap()],
    );
    assert_eq!(ccode, 0, "{cerr}");
    assert_eq!(check_complete(&cut2), n);
    let (again, _, _) = replay(&cut2, &[]);
    assert_eq!(again, live);
    let h = &json_lines(&cut2)[0];
    assert_eq!(h["cut_from"], "known.jsonl");
    assert_eq!(h["filters"]["pids"][0].as_u64().unwrap().to_string(), pid);
}

/// The strace-oracle corpus (examples/stcorpus.rs), built if stale, copied
/// under a name no other process has. Returns the path and the comm regex.
fn own_corpus(d: &Scratch) -> (PathBuf, String) {
    let built = common::build_example("stcorpus");
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!("sc{:06x}{:05}", t & 0xff_ffff, std::process::id() % 100_000);
    let p = d.path(&name);
    std::fs::copy(built, &p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    (p, format!("^{name}$"))
}

#[test]
fn structures_replay_as_they_were_shown_live() {
    if !require_root("structures_replay_as_they_were_shown_live") {
        return;
    }
    let d = Scratch::new();
    let file = d.path("structs.jsonl.zst");
    let (corpus, comm) = own_corpus(&d);
    let t = Tracer::start(&["--comm", &comm, "--export", file.to_str().unwrap()]);
    // Four processes end in exit_group, and wait's two children.
    for mode in ["stat", "time", "io", "wait"] {
        let work = d.path(mode);
        std::fs::create_dir_all(&work).unwrap();
        let st = Command::new(&corpus).arg(mode).arg(&work).status().unwrap();
        assert!(st.success(), "corpus mode {mode}");
    }
    wait_for(Duration::from_secs(30), || {
        (t.exits.load(Ordering::Relaxed) >= 6).then_some(())
    })
    .expect("every corpus process's exit_group is shown live");
    t.signal(libc::SIGINT);
    let (live, err, code) = t.finish();
    assert_eq!(code, 0, "{err}");
    // The run decoded structures of every kind of capture: plain, array,
    // iovec, msghdr, and enter/exit pairs.
    for shown in [
        "{st_mode=S_IFREG|S_ISUID|0750, st_size=12, ...}",
        "{stx_mask=",
        "f_type=",
        " entries */, 4096)",
        "[{fd=3, revents=POLLIN}]",
        "{rlim_cur=0, rlim_max=RLIM64_INFINITY}",
        "{sysname=\"Linux\"",
        "[{iov_base=\"first part, \", iov_len=12}",
        "msg_namelen=128 => 16",
        "{events=EPOLLIN|EPOLLET, data={u32=",
        "{l_onoff=1, l_linger=5}",
        "{c_iflag=",
        "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]",
        "clone3({flags=0, exit_signal=SIGCHLD",
        "~[RTMIN RT_1]",
        "{sa_handler=",
    ] {
        assert!(live.contains(shown), "live output lacks {shown:?}:\n{live}");
    }
    let n = check_complete(&file);
    assert_eq!(n, live.lines().count() as u64);
    let (replayed, rerr, rcode) = replay(&file, &[]);
    assert_eq!(rcode, 0, "{rerr}");
    for (k, (r, l)) in replayed.lines().zip(live.lines()).enumerate() {
        assert_eq!(r, l, "line {} differs in the replay", k + 1);
    }
    assert_eq!(replayed.lines().count(), live.lines().count());

    // The structured form: objects with strace's field names.
    let v = json_lines(&file);
    let stat = v
        .iter()
        .filter(|l| l["syscall"]["name"] == "newfstatat")
        .find_map(|l| {
            l["args"]["statbuf"]
                .get("st_mode")
                .map(|_| &l["args"]["statbuf"])
        })
        .unwrap_or_else(|| panic!("a stat structure in the JSON: {:?}", v.get(3)));
    assert!(
        stat.get("st_size").is_some() && stat.get("st_ino").is_some(),
        "{stat}"
    );
    let wait = v
        .iter()
        .find(|l| l["syscall"]["name"] == "wait4" && l["return"].as_i64() > Some(0))
        .expect("a wait4");
    assert!(
        wait["args"].to_string().contains("\"exited\":3"),
        "{}",
        wait["args"]
    );
}

/// SIGTERM or SIGINT in the middle of a busy capture leaves a complete file.
fn signal_mid_capture(sig: libc::c_int, name: &str) {
    let d = Scratch::new();
    let file = d.path(name);
    let (wl, comm) = own_workload(&d);
    let t = Tracer::start(&["--comm", &comm, "-w", file.to_str().unwrap()]);
    let _work = Reaped(
        Command::new(&wl)
            .args(["loop-open", "/nonexistent/st-session", "1"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(Duration::from_secs(20), || {
        (t.lines.load(Ordering::Relaxed) >= 300).then_some(())
    })
    .expect("the workload shows up in the live output");
    t.signal(sig);
    let (live, err, code) = t.finish();
    assert_eq!(code, 0, "{err}");
    let n = check_complete(&file);
    assert_eq!(n, live.lines().count() as u64, "{err}");
    assert!(n >= 300);
}

#[test]
fn sigterm_mid_capture_leaves_a_complete_file() {
    if !require_root("sigterm_mid_capture_leaves_a_complete_file") {
        return;
    }
    signal_mid_capture(libc::SIGTERM, "term.jsonl");
}

#[test]
fn sigint_mid_capture_leaves_a_complete_zstd_file() {
    if !require_root("sigint_mid_capture_leaves_a_complete_zstd_file") {
        return;
    }
    signal_mid_capture(libc::SIGINT, "int.jsonl.zst");
}

#[test]
fn replay_needs_no_root() {
    if !require_root("replay_needs_no_root") {
        return;
    }
    let d = Scratch::new();
    let exe = common::binary_for_nobody(&d);
    let file = d.path("s.jsonl");
    make_session(&file, 10);
    // Recorded by root (0600): hand it to the user, as after a copy.
    std::os::unix::fs::chown(&file, Some(65534), Some(65534)).unwrap();
    let nobody = |args: &[&str]| common::as_nobody(&exe).args(args).output().unwrap();
    let out = nobody(&[
        "--no-tui",
        "--color",
        "never",
        "--replay",
        file.to_str().unwrap(),
        "--pid",
        "4001",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), 5, "{stdout}");
    assert!(stdout
        .lines()
        .all(|l| l.contains("sample[4001/4001] openat(") && l.contains("-1 ENOENT")));
    assert!(stdout.contains("\"/tmp/f9\""), "{stdout}");
    // Live capture still refuses the same user.
    let out = nobody(&["--no-tui", "--duration", "1"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn bad_files_give_one_line_with_the_line_number() {
    let d = Scratch::new();
    let file = d.path("s.jsonl");
    make_session(&file, 5);
    let mut text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut bad: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    bad[3] = "{\"type\":\"syscall\",".into();
    let badf = d.path("bad.jsonl");
    std::fs::write(&badf, bad.join("\n") + "\n").unwrap();
    let (out, err, code) = replay(&badf, &[]);
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 2, "the lines before the bad one");
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with(&format!("systrace-tui: {}: line 4: ", badf.display())),
        "{err}"
    );
    let (out, err, code) = replay(&badf, &["--skip-bad"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 4);
    assert!(err.contains("skipped 1 bad lines (first: line 4:"), "{err}");
    // Wrong version, empty file, not a file at all.
    text = text.replacen("\"version\":1", "\"version\":9", 1);
    std::fs::write(&badf, &text).unwrap();
    let (_, err, code) = replay(&badf, &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("line 1: session format version 9 is not supported"),
        "{err}"
    );
    std::fs::write(&badf, "").unwrap();
    let (_, err, code) = replay(&badf, &["--skip-bad"]);
    assert_eq!(code, 1);
    assert!(err.contains("line 1: the file is empty"), "{err}");
    let (_, err, code) = replay(&d.path("missing"), &[]);
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    // No overwrite without --force, and never the file being read.
    let (_, err, code) = replay(&file, &["-w", badf.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("already exists: use --force"), "{err}");
    let (_, err, code) = replay(&file, &["--force", "-w", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("is the file being replayed"), "{err}");
    let (_, err, code) = replay(&file, &["--quiet", "--force", "-w", badf.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(check_complete(&badf), 5);
}

#[test]
fn tui_replays_and_exports_with_w() {
    let d = Scratch::new();
    let file = d.path("in.jsonl");
    make_session(&file, 300);
    let out = d.path("out.jsonl");
    let status = d.path("status");
    let cmd = format!(
        "{} --replay {}; echo $? > {}",
        bin().display(),
        file.display(),
        status.display()
    );
    let tmux = Tmux::start(&cmd, 200, 50);
    tmux.wait_screen(Duration::from_secs(10), |s| {
        s.contains("REPLAY") && s.contains("loaded 300 events")
    });
    tmux.send(&["w"]);
    tmux.wait_screen(Duration::from_secs(5), |s| s.contains("file: _"));
    tmux.send(&["-l", out.to_str().unwrap()]);
    tmux.send(&["Enter"]);
    tmux.wait_screen(Duration::from_secs(5), |s| {
        s.contains("all retained events (300 now)")
    });
    tmux.send(&["a"]);
    tmux.wait_screen(Duration::from_secs(10), |s| {
        s.contains(&format!("wrote 300 events to {}", out.display()))
    });
    assert_eq!(check_complete(&out), 300);
    // Same events, same order: the replays print the same lines.
    assert_eq!(replay(&out, &[]).0, replay(&file, &[]).0);
    // Again to the same name: asks first; "n" keeps the file.
    let before = std::fs::read(&out).unwrap();
    // Export to `out` again, up to the overwrite question (nothing narrows
    // the view, so "all" is what is offered).
    let export_again = || {
        tmux.send(&["w"]);
        tmux.send(&["-l", out.to_str().unwrap()]);
        tmux.send(&["Enter", "a"]);
        tmux.wait_screen(Duration::from_secs(5), |s| {
            s.contains("Overwrite it? (y/n)")
        });
    };
    export_again();
    tmux.send(&["n"]);
    tmux.wait_screen(Duration::from_secs(5), |s| s.contains("export cancelled"));
    assert_eq!(std::fs::read(&out).unwrap(), before);
    export_again();
    tmux.send(&["y"]);
    tmux.wait_screen(Duration::from_secs(10), |s| s.contains("wrote 300 events"));
    assert_eq!(check_complete(&out), 300);
    tmux.send(&["q"]);
    let code = common::exit_code_in(&status, Duration::from_secs(10));
    assert_eq!(code.as_deref(), Some("0"));
}

#[test]
fn tui_live_export_is_complete_after_q() {
    if !require_root("tui_live_export_is_complete_after_q") {
        return;
    }
    let d = Scratch::new();
    let file = d.path("tui.jsonl");
    let status = d.path("status");
    let marker = format!("/tmp/{}", unique("tui-export"));
    let (wl, comm) = own_workload(&d);
    let cmd = format!(
        "{} --comm '{comm}' -w {}; echo $? > {}",
        bin().display(),
        file.display(),
        status.display()
    );
    let tmux = Tmux::start(&cmd, 200, 50);
    tmux.wait_screen(Duration::from_secs(10), |s| s.contains("LIVE"));
    let st = Command::new(&wl).args(["known", &marker]).status().unwrap();
    assert!(st.success());
    tmux.wait_screen(Duration::from_secs(10), |s| s.contains("exit_group"));
    tmux.send(&["q"]);
    let code = common::exit_code_in(&status, Duration::from_secs(10));
    assert_eq!(code.as_deref(), Some("0"));
    check_complete(&file);
    let v = json_lines(&file);
    assert_eq!(
        v.iter()
            .filter(|l| l["syscall"]["name"] == "getppid")
            .count(),
        100
    );
    assert!(v.iter().any(|l| l["args"]["filename"] == marker.as_str()));
}
