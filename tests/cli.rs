//! The real binary: headless mode, self-exclusion, privilege errors, TUI in tmux.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{bin, make_session, require_root, unique, workload, CopiedExe, Tmux};

/// Runs the tracer headless, runs `work` once it says it is attached, and
/// returns its stdout, stderr and exit code.
fn headless(args: &[&str], work: impl FnOnce()) -> (String, String, i32) {
    let common::Started {
        mut child,
        mut err,
        said: mut stderr,
        ..
    } = common::Started::new(args);
    let mut stdout = child.0.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).unwrap();
        s
    });
    work();
    err.read_to_string(&mut stderr).unwrap();
    let status = child.0.wait().unwrap();
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
    let dir = common::Scratch::new();
    let exe = common::binary_for_nobody(&dir);
    let out = common::as_nobody(&exe)
        .args(["--no-tui", "--duration", "1"])
        .output()
        .unwrap();
    drop(dir);
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
    let scratch = common::Scratch::new();
    let status = scratch.path("status");
    let cmd = format!(
        "{} --comm '^workload$'; echo $? > {}",
        bin().display(),
        status.display()
    );
    let tmux = Tmux::start(&cmd, 200, 50);
    tmux.wait_screen(Duration::from_secs(10), |s| s.contains("LIVE"));
    let work = common::Reaped(
        Command::new(workload())
            .args(["loop-open", &marker, "50"])
            .spawn()
            .unwrap(),
    );
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
    drop(work);
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

/// The binary with `args`: stdout, stderr, exit code.
fn run(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn long_help_has_the_examples_and_exit_codes_and_short_help_points_there() {
    let (long, err, code) = run(&["--help"]);
    assert_eq!(code, 0, "{err}");
    // The README's usage lines: everything, a pod, a filter expression,
    // record and replay, headless into jq.
    for example in [
        "\n      sudo systrace-tui\n",
        "sudo systrace-tui --pod 'checkout-.*'",
        "sudo systrace-tui --filter \"syscall == openat and errno != 0",
        "sudo systrace-tui --no-tui --quiet --comm '^nginx' -w nginx.jsonl.zst",
        "systrace-tui --replay nginx.jsonl.zst",
        "-w - | jq -c 'select(.type==\"syscall\")'",
    ] {
        assert!(long.contains(example), "no {example:?} in:\n{long}");
    }
    assert!(long.contains("Examples:") && long.contains("Exit status:"));
    for code in [
        "0  the run ended normally",
        "1  an error while running",
        "2  a mistake in the command line",
    ] {
        assert!(long.contains(code), "{long}");
    }
    assert!(long.contains("Fields: pod, namespace, container, comm"));

    let (short, _, code) = run(&["-h"]);
    assert_eq!(code, 0);
    assert!(short.contains("-v, --verbose") && short.contains("-q, --quiet"));
    assert!(short.contains("Examples, the filter language and exit codes: systrace-tui --help"));
    assert!(!short.contains("jq"), "-h stays short:\n{short}");
    assert!(short.lines().count() < long.lines().count() / 2);
    // The commands are for installing, not for everyday help.
    assert!(!short.contains("completions") && !long.contains("completions"));
}

/// A completion reply from the bash script for the words typed so far
/// (the last is the one being completed).
fn bash_complete(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        r#"source <("{bin}" completions bash) || exit 1
f=$(complete -p systrace-tui | sed -E 's/.*-F ([^ ]+).*/\1/')
COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"; COMP_POINT=${{#COMP_LINE}}
"$f" systrace-tui "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        bin = bin().display(),
        words = quoted.join(" ")
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bash_completion_loads_and_completes_flags_and_filter_fields() {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source <('{}' completions bash) && complete -p systrace-tui",
            bin().display()
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.is_empty(), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains(" systrace-tui"));

    assert_eq!(bash_complete(&["systrace-tui", "--rep"]), "--replay\n");
    let flags = bash_complete(&["systrace-tui", "-"]);
    for f in ["--filter", "--verbose", "--no-tui", "-w"] {
        assert!(flags.lines().any(|l| l == f), "{f} in {flags}");
    }
    // The filter's field names, as --filter's value.
    let fields = bash_complete(&["systrace-tui", "--filter", "s"]);
    assert_eq!(fields, "syscall\n");
    let all = bash_complete(&["systrace-tui", "--filter", ""]);
    for f in ["pod", "comm", "errno", "duration", "args"] {
        assert!(all.lines().any(|l| l == f), "{f} in {all}");
    }
    assert_eq!(bash_complete(&["systrace-tui", "--color", "n"]), "never\n");
}

#[test]
fn zsh_and_fish_completions_parse_and_fish_offers_filter_fields() {
    let d = common::Scratch::new();
    let zsh = d.path("_systrace-tui");
    let (script, _, code) = run(&["completions", "zsh"]);
    assert_eq!(code, 0);
    std::fs::write(&zsh, &script).unwrap();
    let st = Command::new("zsh").arg("-n").arg(&zsh).status();
    assert!(
        st.expect("zsh is installed (scripts/deps.sh test)")
            .success(),
        "zsh cannot parse its completion script"
    );
    assert!(script.contains("'--filter=[") && script.contains("(pod\\:"));

    let fish = d.path("systrace-tui.fish");
    let (script, _, code) = run(&["completions", "fish"]);
    assert_eq!(code, 0);
    std::fs::write(&fish, script).unwrap();
    let complete = |line: &str| {
        let out = Command::new("fish")
            .arg("-c")
            .arg(format!("source '{}'; complete -C'{line}'", fish.display()))
            .output()
            .expect("fish is installed (scripts/deps.sh test)");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let fields = complete("systrace-tui --filter ");
    assert!(
        fields.lines().any(|l| l.starts_with("syscall\t")),
        "{fields}"
    );
    assert!(complete("systrace-tui --rep").starts_with("--replay\t"));
}

#[test]
fn completions_of_an_unknown_shell_or_with_flags_are_usage_errors() {
    let (out, err, code) = run(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty() && err.contains("bash, zsh, fish"), "{err}");
    let (_, err, code) = run(&["--no-tui", "completions", "bash"]);
    assert_eq!(code, 2, "{err}");
}

/// `man -l` on the page: what a user reads (wide, so lines are not broken).
fn man_l(page: &std::path::Path) -> String {
    let out = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "200")
        .env("MAN_KEEP_FORMATTING", "")
        .output()
        .expect("man is installed (man-db: scripts/deps.sh test)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.is_empty(), "man -l: {err}");
    // Bold and underline as overstrikes, when man formats for a pager.
    let text = String::from_utf8_lossy(&out.stdout);
    let mut plain = String::new();
    for c in text.chars() {
        if c == '\x08' {
            plain.pop();
        } else {
            plain.push(c);
        }
    }
    plain
}

#[test]
fn the_man_page_renders_with_the_filter_language_keys_session_format_and_exit_codes() {
    let d = common::Scratch::new();
    let page = d.path("systrace-tui.1");
    let (roff, err, code) = run(&["man"]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(&page, roff).unwrap();
    let text = man_l(&page);
    for section in [
        "NAME",
        "SYNOPSIS",
        "OPTIONS",
        "EXAMPLES",
        "FILTER EXPRESSIONS",
        "KEYS",
        "SESSION FILES",
        "EXIT STATUS",
        "ENVIRONMENT",
    ] {
        assert!(
            text.lines().any(|l| l == section),
            "no {section} section in:\n{text}"
        );
    }
    for flag in ["--filter <EXPR>", "-v, --verbose", "--replay <FILE>"] {
        assert!(text.contains(flag), "{flag}");
    }
    // Every key of the TUI's key table.
    for b in systrace_tui::consumer::tui::keys::BINDINGS {
        assert!(text.contains(b.help), "key {} missing", b.label);
    }
    for s in [
        "syscall in (openat, openat2) and path ~ '^/etc/'",
        "errno name (ENOENT) or number",
        "\"final\": true",
        "mode 0600",
        "systrace-tui completions bash|zsh|fish",
    ] {
        assert!(text.contains(s), "{s} missing");
    }
    let exit = text.split("EXIT STATUS").nth(1).unwrap();
    for code in [
        "0      the run ended normally",
        "1      an error while running",
        "2      a mistake in the command line",
    ] {
        assert!(exit.contains(code), "{code} in:\n{exit}");
    }
}

#[test]
fn exit_codes_0_ok_1_runtime_error_2_usage_error() {
    let d = common::Scratch::new();
    let good = d.path("good.jsonl");
    make_session(&good, 10);
    let bad = d.path("bad.jsonl");
    std::fs::write(&bad, "not a session\n").unwrap();
    let good = good.to_str().unwrap();
    let bad = bad.to_str().unwrap();

    for (args, want) in [
        (&["--no-tui", "-q", "--replay", good][..], 0),
        (&["--help"][..], 0),
        (&["completions", "bash"][..], 0),
        (&["man"][..], 0),
        (&["--no-tui", "--replay", bad][..], 1),
        (
            &["--no-tui", "--replay", "/nonexistent/session.jsonl"][..],
            1,
        ),
        (&["--bogus"][..], 2),
        (&["--retain", "0"][..], 2),
        (&["--no-tui", "--filter", "pid =="][..], 2),
        (&["--skip-bad"][..], 2),
        // The TUI without a terminal.
        (&["--replay", good][..], 2),
    ] {
        let (_, err, code) = run(args);
        assert_eq!(code, want, "{args:?}: {err}");
        if want != 0 {
            assert!(!err.is_empty(), "{args:?}: an error says why");
        }
    }
}

/// The command run under a pseudo-terminal (`script`): all it wrote there.
fn under_pty(cmd: &str) -> (String, i32) {
    let out = Command::new("script")
        .args(["-qec", cmd, "/dev/null"])
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn replay_and_cut_show_progress_on_a_terminal_and_not_in_a_pipe() {
    let d = common::Scratch::new();
    let file = d.path("s.jsonl");
    make_session(&file, 5000);
    let b = bin();
    let (b, f) = (b.display(), file.display());
    let bar = "replaying s.jsonl [";

    // Lines into a pipe, stderr on a terminal of 50 columns.
    let (tty, code) = under_pty(&format!(
        "stty cols 50; '{b}' --no-tui --replay '{f}' > /dev/null"
    ));
    assert_eq!(code, 0, "{tty}");
    assert!(tty.contains(bar), "no progress on the terminal:\n{tty:?}");
    // Never as wide as the terminal: an echoed ^C after a full line would
    // wrap it, and the clear would miss it.
    let drawn: Vec<&str> = tty
        .split('\r')
        .filter_map(|s| s.strip_suffix("\x1b[K"))
        .filter(|s| !s.is_empty())
        .collect();
    assert!(!drawn.is_empty(), "{tty:?}");
    for line in drawn {
        assert!(line.chars().count() <= 48, "{line:?}");
    }
    // Cleared before the summary line.
    assert!(
        tty.contains("\r\x1b[Ksystrace-tui: 5000 events replayed"),
        "{tty:?}"
    );

    // A cut, with -q.
    let cut = d.path("cut.jsonl");
    let (tty, code) = under_pty(&format!(
        "'{b}' --no-tui -q --replay '{f}' -w '{}'",
        cut.display()
    ));
    assert_eq!(code, 0, "{tty}");
    assert!(tty.contains(bar), "{tty:?}");
    assert!(tty.contains("wrote 5000 events to"), "{tty:?}");

    // Event lines on the terminal show the progress themselves.
    let (tty, code) = under_pty(&format!("'{b}' --no-tui --color never --replay '{f}'"));
    assert_eq!(code, 0);
    assert!(tty.contains(" openat(") && !tty.contains(bar), "{tty:?}");

    // A pipe: the summary only, no bar, no control characters.
    let out = Command::new(bin())
        .args(["--no-tui", "-q", "--replay"])
        .arg(&file)
        .env("TERM", "xterm")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        !err.contains("replaying") && !err.contains('\r') && !err.contains('\x1b'),
        "{err:?}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// In a user namespace the tracer is root but may not load BPF: a failed
/// load, with libbpf's explanation.
fn failed_load(extra: &[&str]) -> (String, i32) {
    let out = Command::new("unshare")
        .arg("-Ur")
        .arg(bin())
        .args(["--no-tui", "-q", "--duration", "1"])
        .args(extra)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn libbpf_messages_show_only_with_verbose() {
    let (err, code) = failed_load(&[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.lines().count(), 1, "errors only, in one line:\n{err}");
    assert!(
        err.starts_with("systrace-tui: loading the eBPF program: ")
            && err.contains("-v shows libbpf's messages"),
        "{err}"
    );

    let (err, code) = failed_load(&["-v"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.lines().any(|l| l.starts_with("libbpf: ")),
        "-v shows why libbpf failed:\n{err}"
    );
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("systrace-tui: loading the eBPF program: "),
        "{err}"
    );
    assert!(!last.contains("-v shows"), "{err}");
}

#[test]
fn verbose_shows_the_loaders_notes_and_vv_libbpfs_debug_log() {
    if !require_root("verbose_shows_the_loaders_notes_and_vv_libbpfs_debug_log") {
        return;
    }
    let args = [
        "--no-tui",
        "-q",
        "--duration",
        "0.2",
        "--filter",
        "syscall == getppid",
    ];
    let (_, err, code) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("libbpf") && !err.contains("attached to"),
        "{err}"
    );

    let (_, err, code) = run(&[&args[..], &["-v"]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("systrace-tui: kernel filter: processes all, cgroups all, syscalls 1"),
        "{err}"
    );
    assert!(
        err.contains("systrace-tui: attached to raw_syscalls"),
        "{err}"
    );

    let (_, err, code) = run(&[&args[..], &["-vv"]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("libbpf: loading object"), "{err}");
}

#[test]
fn install_script_puts_everything_where_a_distribution_would() {
    let d = common::Scratch::new();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/install.sh");
    let install = |extra: &[&str]| {
        let out = Command::new("bash")
            .arg(script)
            .args(["--bin"])
            .arg(bin())
            .args(extra)
            .env("DESTDIR", d.dir())
            .env("PREFIX", "/usr")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{err}");
    };
    install(&[]);
    let usr = d.dir().join("usr");
    let man = usr.join("share/man/man1/systrace-tui.1.gz");
    let files = [
        usr.join("bin/systrace-tui"),
        man.clone(),
        usr.join("share/bash-completion/completions/systrace-tui"),
        usr.join("share/zsh/vendor-completions/_systrace-tui"),
        usr.join("share/fish/vendor_completions.d/systrace-tui.fish"),
    ];
    for f in &files {
        assert!(f.is_file(), "{} not installed", f.display());
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    assert!(man_l(&man).contains("FILTER EXPRESSIONS"));
    let st = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}' && complete -p systrace-tui",
            files[2].display()
        ))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());

    install(&["--uninstall"]);
    for f in &files {
        assert!(!f.exists(), "{} left after --uninstall", f.display());
    }
}
