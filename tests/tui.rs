//! Root-only: the TUI driven through tmux like a user would: filter, search
//! and jump, details, statistics, quit; `w` with pods running, and the file
//! it wrote replayed.

mod common;
mod runtimes;

use std::process::Command;
use std::time::Duration;

use common::{bin, require_root, unique, CopiedExe, Reaped, Tmux};

/// Table rows of the screen: the lines that show `comm`'s events.
fn rows<'a>(screen: &'a str, comm: &str) -> Vec<&'a str> {
    screen
        .lines()
        .filter(|l| l.contains(&format!(" {comm} ")))
        .collect()
}

/// The value of a detail field, e.g. `started`.
fn field<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen.lines().find_map(|l| {
        let t = l.trim_start_matches(['│', ' ']);
        t.strip_prefix(name)
            .map(|v| v.trim().trim_end_matches('│').trim())
    })
}

#[test]
fn filter_search_details_stats_and_quit() {
    if !require_root("filter_search_details_stats_and_quit") {
        return;
    }
    let comm = format!("tu{}", std::process::id() % 1_000_000);
    let exe = CopiedExe::new(&comm);
    let marker = format!("/tmp/{}", unique("tui-e2e"));
    let scratch = common::Scratch::new();
    let status = scratch.path("status");
    let cmd = format!(
        "{} --comm '^{comm}$'; echo $? > {}",
        bin().display(),
        status.display()
    );
    let tmux = Tmux::start(&cmd, 200, 50);
    tmux.wait_screen(Duration::from_secs(20), |s| s.contains("LIVE"));
    let _work = Reaped(
        Command::new(&exe.path)
            .args(["loop-open", &marker, "30"])
            .spawn()
            .unwrap(),
    );
    // Both the failing opens and the sleeps between them show up.
    tmux.wait_screen(Duration::from_secs(20), |s| {
        let r = rows(s, &comm);
        r.iter().any(|l| l.contains(&marker)) && r.iter().any(|l| !l.contains("openat"))
    });

    // A mistake is pointed at while typing.
    tmux.send(&["f"]);
    tmux.wait_screen(Duration::from_secs(5), |s| {
        s.lines().any(|l| l.starts_with("filter:"))
    });
    tmux.send(&["-l", "syscall == opnat"]);
    let s = tmux.wait_screen(Duration::from_secs(10), |s| {
        s.contains("unknown syscall `opnat`")
    });
    let caret = s.lines().find(|l| l.contains("^ unknown syscall")).unwrap();
    assert_eq!(caret.find('^'), Some("filter: syscall == ".len()), "{s}");
    // Fix it: only the failed opens remain, old ones included.
    tmux.send(&["C-u"]);
    tmux.send(&["-l", "syscall == openat and errno == ENOENT"]);
    tmux.send(&["Enter"]);
    // Waiting for the whole screen to agree also rides out a capture taken
    // halfway through a redraw.
    tmux.wait_screen(Duration::from_secs(10), |s| {
        let r = rows(s, &comm);
        s.contains("filter: syscall == openat and errno == ENOENT")
            && r.len() >= 2
            && r.iter()
                .all(|l| l.contains("openat") && l.contains("ENOENT") && l.contains(&marker))
    });

    // Search from the oldest event, open the match, jump to the next one.
    tmux.send(&["Space"]);
    tmux.wait_screen(Duration::from_secs(5), |s| s.contains("PAUSED"));
    tmux.send(&["g", "/"]);
    tmux.send(&["-l", "tui-e2e"]);
    tmux.wait_screen(Duration::from_secs(5), |s| s.contains("search /tui-e2e"));
    tmux.send(&["Enter"]);
    tmux.wait_screen(Duration::from_secs(5), |s| !s.contains("search /tui-e2e"));
    tmux.send(&["Enter"]);
    // The last field drawn: the capture is not from halfway through a redraw.
    let first = tmux.wait_screen(Duration::from_secs(10), |s| {
        s.contains("event details") && s.contains("ctx switches")
    });
    assert!(first.contains(&marker), "{first}");
    assert!(
        first.contains("errno 2 ENOENT (No such file or directory)"),
        "{first}"
    );
    let started1 = field(&first, "started").unwrap().to_string();
    tmux.send(&["Escape"]);
    tmux.wait_screen(Duration::from_secs(5), |s| !s.contains("event details"));
    tmux.send(&["n", "Enter"]);
    let second = tmux.wait_screen(Duration::from_secs(10), |s| {
        s.contains("event details")
            && s.contains("ctx switches")
            && field(s, "started").is_some_and(|v| v != started1)
    });
    assert!(second.contains(&marker), "{second}");
    let started2 = field(&second, "started").unwrap();
    assert!(started2 > started1.as_str(), "{started1} then {started2}");
    // A key right after Escape would read as Alt+key: wait for the close.
    tmux.send(&["Escape"]);
    tmux.wait_screen(Duration::from_secs(5), |s| !s.contains("event details"));

    // Statistics of what the stream shows.
    tmux.send(&["s"]);
    let s = tmux.wait_screen(Duration::from_secs(10), |s| {
        s.contains("per syscall") && s.contains("latency of")
    });
    let open = s
        .lines()
        .find(|l| l.contains("│openat"))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(open.contains("100.0%"), "every shown openat failed: {open}");
    assert!(s.contains("latency of openat"), "{s}");
    tmux.send(&["s"]);
    tmux.wait_screen(Duration::from_secs(5), |s| {
        s.contains("SYSCALL ") && s.contains("ARGS")
    });

    tmux.send(&["q"]);
    let code = common::exit_code_in(&status, Duration::from_secs(10));
    assert_eq!(code.as_deref(), Some("0"));
}

/// `w` in a live TUI with a podman pod running writes the pod's container
/// lines, so a replay of the file names the pod; the replay refuses `w` onto
/// itself and says when --retain dropped its oldest events.
#[test]
fn w_export_keeps_pods_and_a_replay_of_it_knows_them() {
    if !require_root("w_export_keeps_pods_and_a_replay_of_it_knows_them") {
        return;
    }
    let u = format!("{:x}", std::process::id());
    let mut pm = runtimes::Podman::new(&format!("tui-w-{u}"));
    let pod = format!("shop-web-7d9f8b6c5-{u}");
    let ctr = format!("frontend-{u}");
    let marker = format!("/m-tui-w-{u}");
    pm.pod(&pod);
    pm.run(&ctr, Some(&pod), &runtimes::opener(&marker));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pods.jsonl");
    let status = dir.path().join("status");
    let cmd = format!(
        "{} --pod '^{pod}$'; echo $? > {}",
        bin().display(),
        status.display()
    );
    let tmux = Tmux::start(&cmd, 200, 50);
    let label = format!("{pod}/{ctr}");
    // The stream shows the marker's opens labelled with the pod, twice over.
    tmux.wait_screen(Duration::from_secs(30), |s| {
        s.lines()
            .filter(|l| l.contains(&marker) && l.contains(&pod))
            .count()
            >= 2
    });
    tmux.send(&["w"]);
    tmux.wait_screen(Duration::from_secs(5), |s| s.contains("file: _"));
    tmux.send(&["-l", file.to_str().unwrap()]);
    tmux.send(&["Enter"]);
    tmux.wait_screen(Duration::from_secs(5), |s| {
        s.contains("all ") && s.contains("retained events")
    });
    tmux.send(&["a"]);
    let s = tmux.wait_screen(Duration::from_secs(30), |s| s.contains("wrote "));
    let wrote: u64 = s
        .split("wrote ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{s}"));
    tmux.send(&["q"]);
    assert_eq!(
        common::exit_code_in(&status, Duration::from_secs(10)).as_deref(),
        Some("0")
    );

    // The file announces the container before its events, which name it.
    let text = std::fs::read_to_string(&file).unwrap();
    let add = text
        .lines()
        .position(|l| l.contains("\"container_add\"") && l.contains(&ctr))
        .unwrap_or_else(|| panic!("no container line for {ctr}"));
    let first_open = text
        .lines()
        .position(|l| l.contains(&marker))
        .expect("the marker's opens were written");
    assert!(add < first_open);
    assert!(text
        .lines()
        .filter(|l| l.contains(&marker))
        .all(|l| !l.contains("\"container\":null")));
    // A replay labels the events with the pod.
    let out = common::headless_ok(&["--replay", file.to_str().unwrap()]);
    let opens: Vec<&str> = out.lines().filter(|l| l.contains(&marker)).collect();
    assert!(!opens.is_empty(), "{out}");
    assert!(opens.iter().all(|l| l.contains(&label)), "{opens:?}");

    // Replayed in the TUI at 80 columns with a small --retain: the header
    // says what was dropped, and `w` will not write over the file.
    assert!(wrote > 10, "{wrote}");
    let status2 = dir.path().join("status2");
    let cmd = format!(
        "{} --replay {} --retain 10; echo $? > {}",
        bin().display(),
        file.display(),
        status2.display()
    );
    let tmux = Tmux::start(&cmd, 80, 24);
    tmux.wait_screen(Duration::from_secs(20), |s| {
        s.contains(&format!("oldest {} dropped: --retain 10", wrote - 10))
    });
    tmux.send(&["w"]);
    tmux.wait_screen(Duration::from_secs(5), |s| s.contains("file: _"));
    tmux.send(&["-l", file.to_str().unwrap()]);
    tmux.send(&["Enter"]);
    tmux.wait_screen(Duration::from_secs(5), |s| {
        s.contains("that is the file being replayed")
    });
    tmux.send(&["Escape"]);
    tmux.wait_screen(Duration::from_secs(5), |s| !s.contains("file: "));
    tmux.send(&["q"]);
    assert_eq!(
        common::exit_code_in(&status2, Duration::from_secs(10)).as_deref(),
        Some("0")
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "untouched");
}

/// The table rows of a stream screen: the lines between the table's header
/// and the footer.
fn table_body(screen: &str) -> Vec<&str> {
    let lines: Vec<&str> = screen.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.contains("SYSCALL") && l.contains("RESULT"))
        .unwrap_or(lines.len());
    let end = lines.len().saturating_sub(1);
    lines.get(head + 1..end).unwrap_or_default().to_vec()
}

/// A replay of a pod with two containers, at 80x24 like a new user: a
/// filter shows a full page ending at the newest match (it showed one row
/// and blank lines), Tab shows the pane it focuses, the statistics keep the
/// container part of cut names, the header has no made-up rate and `w`
/// offers only what there is.
#[test]
fn a_replay_at_80_columns_filters_to_a_full_page() {
    if !require_root("a_replay_at_80_columns_filters_to_a_full_page") {
        return;
    }
    let u = format!("{:x}", std::process::id() % 0x10000);
    let mut pm = runtimes::Podman::new(&format!("tui-n-{u}"));
    let pod = format!("qa-pod-{u}");
    let (w, r) = (format!("qa-w-{u}"), format!("qa-r-{u}"));
    let marker = format!("/m-tui-n-{u}");
    pm.pod(&pod);
    pm.run(&w, Some(&pod), &runtimes::opener(&marker));
    pm.run(&r, Some(&pod), &runtimes::opener(&marker));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pod.jsonl");
    let out = Command::new(bin())
        .args(["--no-tui", "-q", "--duration", "3", "--pod"])
        .arg(format!("^{pod}$"))
        .arg("-w")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let opens = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .filter(|l| l.contains(&marker))
        .count();
    assert!(opens > 40, "enough to fill a page twice: {opens}");

    let status = dir.path().join("status");
    let cmd = format!(
        "{} --replay {}; echo $? > {}",
        bin().display(),
        file.display(),
        status.display()
    );
    let tmux = Tmux::start(&cmd, 80, 24);
    let s = tmux.wait_screen(Duration::from_secs(20), |s| s.contains("loaded "));
    assert!(!s.contains("ev/s"), "a replay has no live rate:\n{s}");
    let full_page_of_opens = |s: &str| {
        let body = table_body(s);
        body.len() >= 15
            && body
                .iter()
                .all(|l| l.contains(" openat ") && l.contains("/m-tui-n-"))
    };
    tmux.send(&["f"]);
    tmux.wait_screen(Duration::from_secs(5), |s| {
        s.lines().any(|l| l.starts_with("filter:"))
    });
    tmux.send(&["-l", &format!("path == {marker}")]);
    tmux.send(&["Enter"]);
    tmux.wait_screen(Duration::from_secs(10), |s| {
        s.contains(&format!("filter: path == {marker}")) && full_page_of_opens(s)
    });
    tmux.send(&["G"]);
    tmux.wait_screen(Duration::from_secs(5), full_page_of_opens);

    // Tab shows the pane it focuses; j narrows the view in sight of it.
    tmux.send(&["Tab"]);
    tmux.wait_screen(Duration::from_secs(5), |s| {
        s.contains("containers") && s.contains("shown while focused (Tab: back")
    });
    tmux.send(&["j"]);
    tmux.wait_screen(Duration::from_secs(5), |s| {
        s.contains("view: host") && s.contains("│host")
    });
    tmux.send(&["k", "Tab"]);
    tmux.wait_screen(Duration::from_secs(5), |s| {
        !s.contains("view:") && !s.contains("│all") && full_page_of_opens(s)
    });

    // The statistics cut names at their start: the containers stay apart.
    tmux.send(&["s"]);
    let s = tmux.wait_screen(Duration::from_secs(5), |s| {
        s.contains("per container") && s.contains(&w) && s.contains(&r)
    });
    for c in [&w, &r] {
        let row = s.lines().find(|l| l.contains(c.as_str())).unwrap();
        assert!(row.contains('…') || row.contains(&pod), "{row}\n{s}");
    }
    tmux.send(&["s"]);

    // `w` with no view filter offers all retained events, counted now.
    tmux.send(&["f", "C-u", "Enter"]);
    tmux.wait_screen(Duration::from_secs(5), |s| !s.contains("filter:"));
    tmux.send(&["w"]);
    tmux.wait_screen(Duration::from_secs(5), |s| s.contains("file: _"));
    tmux.send(&["-l", dir.path().join("out.jsonl").to_str().unwrap()]);
    tmux.send(&["Enter"]);
    let s = tmux.wait_screen(Duration::from_secs(5), |s| {
        s.contains("all retained events (")
    });
    assert!(!s.contains("m  only"), "{s}");
    tmux.send(&["Escape"]);
    tmux.wait_screen(Duration::from_secs(5), |s| !s.contains("write to"));
    tmux.send(&["q"]);
    assert_eq!(
        common::exit_code_in(&status, Duration::from_secs(10)).as_deref(),
        Some("0")
    );
}
