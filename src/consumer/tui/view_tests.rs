//! Views as a user sees them at common terminal sizes (80, 150 and 200
//! columns), pausing, the header's notices, and the `w` export.

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use crossterm::event::KeyCode;

use super::app::{App, Overlay, Source};
use super::keys::Action;
use super::testutil::{app_with, event, key, screen, typ};
use super::theme::Theme;
use crate::clock::Clock;
use crate::model::container::{
    ContainerAddEvent, ContainerDelEvent, ContainerInfo, PodInfo, Runtime,
};
use crate::model::event::{Event, TraceEvent};
use crate::model::flow::LoadState;
use crate::session::reader::{self, FileProgress};

const POD: &str = "checkout-7d9f8b6c5-x8k2p";
const NS: &str = "shop-production";

fn container(cg: u64, id: char, name: &str) -> Event {
    let mut c = ContainerInfo::new(&id.to_string().repeat(64), Runtime::ContainerdCri);
    c.name = Some(name.into());
    c.resolved = true;
    c.pod = Some(PodInfo {
        name: Some(POD.into()),
        namespace: Some(NS.into()),
        ..Default::default()
    });
    Event::ContainerAdd(ContainerAddEvent {
        cgroup_id: cg,
        container: Arc::new(c),
    })
}

fn in_cgroup(mut ev: TraceEvent, cg: u64) -> TraceEvent {
    ev.id_mut().cgroup_id = cg;
    ev
}

/// An event that took `ns` nanoseconds.
fn took(mut ev: TraceEvent, ns: u64) -> TraceEvent {
    ev.finish_ns = ev.start_ns + ns;
    ev
}

const LONG: &str =
    "/var/lib/containers/storage/overlay/0123456789abcdef/merged/etc/ssl/certs/ca-certificates.crt";

/// A failing epoll_pwait (781 ns), an openat of a long path returning 3,
/// both in a pod's container.
pub(super) fn sample(with_pod: bool) -> App {
    let mut app = app_with(vec![]);
    let cg = if with_pod {
        app.ingest(container(10, 'a', "payment-gateway-sidecar"));
        10
    } else {
        0
    };
    app.ingest_batch(vec![
        Event::Syscall(in_cgroup(
            took(event("epoll_pwait", "tokio-runtime-w", 10, -4, None), 781),
            cg,
        )),
        Event::Syscall(in_cgroup(event("openat", "nginx", 11, 3, Some(LONG)), cg)),
    ]);
    app
}

fn line_with<'a>(s: &'a str, what: &str) -> &'a str {
    s.lines()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("{what:?} not on the screen:\n{s}"))
}

/// The table's header line split into its column names.
fn columns(s: &str) -> Vec<&str> {
    line_with(s, "SYSCALL")
        .split(|c: char| !c.is_ascii_uppercase())
        .filter(|w| w.len() > 1)
        .collect()
}

#[test]
fn at_80_columns_units_errnos_and_names_stay_whole() {
    for with_pod in [false, true] {
        let mut app = sample(with_pod);
        let s = screen(&mut app, 80, 10);
        let row = line_with(&s, "epoll_pwait");
        assert!(row.contains("781ns"), "duration with its unit: {row}\n{s}");
        assert!(
            row.contains("-1 EINTR"),
            "result with its errno: {row}\n{s}"
        );
        let cols = columns(&s);
        assert!(cols.contains(&"ARGS"), "{cols:?}\n{s}");
        // The cut path is marked, and the result stands apart from it.
        let row = line_with(&s, "openat");
        assert!(
            row.contains("\"/var/lib/") && row.contains('…'),
            "{row}\n{s}"
        );
        assert!(!row.contains(LONG), "{row}");
        let after = &row[row.find('…').unwrap()..];
        assert!(after.split_whitespace().any(|w| w == "3"), "{row}");
        for l in s.lines() {
            assert!(l.chars().count() <= 80, "{l}");
        }
    }
}

#[test]
fn at_150_columns_with_pods_there_is_an_args_column() {
    let mut app = sample(true);
    let s = screen(&mut app, 150, 12);
    let cols = columns(&s);
    for c in [
        "TIME",
        "CONTAINER",
        "COMM",
        "PID",
        "SYSCALL",
        "ARGS",
        "RESULT",
        "DURATION",
    ] {
        assert!(cols.contains(&c), "{c} missing: {cols:?}\n{s}");
    }
    let row = line_with(&s, "openat");
    assert!(
        row.contains("\"/var/lib/") && row.contains('…'),
        "{row}\n{s}"
    );
    // The tree shows the pod's name whole, though it is longer than 12.
    assert!(s.contains(POD), "{s}");
}

#[test]
fn at_200_columns_names_are_whole_in_the_tree_and_the_statistics() {
    let mut app = sample(true);
    let s = screen(&mut app, 200, 14);
    assert!(
        s.contains(POD) && s.contains("payment-gateway-sidecar"),
        "{s}"
    );
    // The stream's container cell: long, so cut at its start, and marked;
    // the container's own name stays.
    let row = line_with(&s, "epoll_pwait");
    let cell = row.split_whitespace().find(|w| w.contains('…'));
    assert!(
        cell.is_some_and(|c| c.starts_with('…') && c.ends_with("/payment-gateway-sidecar")),
        "{row}"
    );
    // ARGS has room before the container label grows.
    let row = line_with(&s, "openat");
    assert!(
        row.contains("0, \"/var/lib/containers/storage/overlay"),
        "{row}"
    );
    app.on_action(Action::Stats);
    let s = screen(&mut app, 200, 20);
    assert!(
        s.contains(&format!("{NS}/{POD}/payment-gateway-sidecar")),
        "{s}"
    );
}

/// A group name that does not fit is cut at its start, so two containers
/// of one pod stay apart, and the cut is marked.
#[test]
fn a_cut_group_name_keeps_its_container_and_is_marked() {
    let mut app = app_with(vec![]);
    app.ingest(container(10, 'a', "qa-reader"));
    app.ingest(container(11, 'b', "qa-writer"));
    app.ingest_batch(vec![
        Event::Syscall(in_cgroup(event("read", "r", 11, 1, None), 10)),
        Event::Syscall(in_cgroup(event("write", "w", 12, 1, None), 11)),
    ]);
    app.on_action(Action::Stats);
    for w in [80, 100] {
        let s = screen(&mut app, w, 20);
        for ctr in ["/qa-reader", "/qa-writer"] {
            let row = line_with(&s, ctr);
            let name = row.split('│').find(|c| c.contains(ctr)).unwrap().trim();
            assert!(name.starts_with('…'), "{w}: {row}\n{s}");
            assert!(
                name.split_whitespace().next().unwrap().ends_with(ctr),
                "{row}"
            );
        }
    }
    // With room, names are whole and the rates are drawn.
    let s = screen(&mut app, 200, 20);
    assert!(
        s.contains(&format!("{NS}/{POD}/qa-writer")) && s.contains("EVENTS/S"),
        "{s}"
    );
}

/// Space while following holds the screen: same rows, same selection,
/// while events keep arriving.
#[test]
fn pausing_freezes_the_screen() {
    let evs = (0..50)
        .map(|i| event("getppid", "sh", 100 + i, 1, None))
        .collect();
    let mut app = app_with(evs);
    let body = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    let before = screen(&mut app, 100, 12);
    assert!(app.list.follow);
    app.on_action(Action::TogglePause);
    let paused = screen(&mut app, 100, 12);
    assert!(paused.contains("PAUSED"), "{paused}");
    assert_eq!(body(&before), body(&paused));
    assert_eq!(app.selected_event().unwrap().id.pid, 149);
    app.ingest_batch(
        (0..20)
            .map(|i| Event::Syscall(event("getppid", "sh", 200 + i, 1, None)))
            .collect(),
    );
    let later = screen(&mut app, 100, 12);
    assert_eq!(body(&before), body(&later));
    assert_eq!(app.selected_event().unwrap().id.pid, 149);
    // Resuming follows the newest again.
    app.on_action(Action::TogglePause);
    let s = screen(&mut app, 100, 12);
    assert!(s.contains(" 219 ") && !s.contains("PAUSED"), "{s}");
}

fn replay_source(path: &std::path::Path, events: u64) -> Source {
    Source::Replay {
        path: path.to_path_buf(),
        load: Arc::new(LoadState {
            progress: FileProgress {
                read: Arc::new(AtomicU64::new(1)),
                total: 1,
            },
            events: AtomicU64::new(events),
            done: AtomicBool::new(true),
            error: Mutex::new(None),
            warnings: Mutex::new(Vec::new()),
        }),
    }
}

/// A replay holding more events than --retain says the oldest are gone,
/// and so does a live view once its store is full.
#[test]
fn the_header_says_when_old_events_were_dropped() {
    for source in [
        Source::Live,
        replay_source(std::path::Path::new("/tmp/s.jsonl"), 30),
    ] {
        let mut app = App::new(
            10,
            Theme { color: false },
            Clock { boot_unix_ns: 0 },
            source,
        );
        app.ingest_batch(
            (0..30)
                .map(|i| Event::Syscall(event("getppid", "sh", 100 + i, 1, None)))
                .collect(),
        );
        // Also at 80 columns, where the header takes two lines.
        for w in [80, 200] {
            let s = screen(&mut app, w, 10);
            assert!(s.contains("oldest 20 dropped: --retain 10"), "{s}");
        }
    }
    let mut app = app_with(vec![event("getppid", "sh", 1, 1, None)]);
    assert!(!screen(&mut app, 200, 10).contains("dropped"));
}

/// A replay has no live rate: the header shows none (loading speed is
/// not a rate of the traced machine); a live view does.
#[test]
fn a_replay_header_shows_no_rate() {
    let src = replay_source(std::path::Path::new("/tmp/s.jsonl"), 3);
    for (source, want) in [(Source::Live, true), (src, false)] {
        let mut app = App::new(
            100,
            Theme { color: false },
            Clock { boot_unix_ns: 0 },
            source,
        );
        app.ingest_batch(thirds_open(3));
        for w in [80, 200] {
            let s = screen(&mut app, w, 10);
            assert_eq!(s.contains("ev/s"), want, "{s}");
        }
    }
}

/// A tree node that narrows the stream says so in the header.
#[test]
fn the_header_names_the_narrowing_tree_node() {
    let mut app = sample(true);
    app.ingest(Event::Syscall(event("getppid", "sh", 12, 1, None)));
    assert!(!screen(&mut app, 200, 14).contains("view:"));
    app.on_action(Action::SwitchPane);
    let mut want = vec![
        "view: host".to_string(),
        format!("view: namespace {NS}"),
        format!("view: pod {NS}/{POD}"),
        format!("view: container {NS}/{POD}/payment-gateway-sidecar"),
    ]
    .into_iter();
    for _ in 0..4 {
        app.on_action(Action::Down);
        let s = screen(&mut app, 200, 14);
        let w = want.next().unwrap();
        assert!(s.lines().next().unwrap().contains(&w), "{w}:\n{s}");
        assert!(s.contains(" shown)"), "{s}");
    }
}

#[test]
fn details_say_what_the_call_returns_in_words() {
    let mut app = app_with(vec![event("openat", "cat", 10, 3, Some("/etc/x"))]);
    app.on_action(Action::Details);
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("returns  a file descriptor"), "{s}");
    assert!(!s.contains("returns  Fd"), "{s}");
}

/// The argument lines of the details line up: numbers under numbers,
/// names under names, values under values.
#[test]
fn detail_argument_labels_line_up() {
    let mut app = app_with(vec![event("openat", "cat", 10, 3, Some("/etc/x"))]);
    app.on_action(Action::Details);
    let s = screen(&mut app, 120, 40);
    let args: Vec<&str> = (0..3).map(|i| line_with(&s, &format!(" {i}: "))).collect();
    let at = |l: &str, what: &str| l.find(what).unwrap_or_else(|| panic!("{what}: {l}\n{s}"));
    let num = at(args[0], "0: ");
    let value = at(line_with(&s, "syscall  "), "openat (");
    for (i, l) in args.iter().enumerate() {
        assert_eq!(at(l, &format!("{i}: ")), num, "numbers:\n{s}");
        // The name starts right after the number, the value at the column
        // the other fields' values start at.
        let rest = &l[num + 3..];
        assert!(!rest.starts_with(' '), "names:\n{s}");
        let name_end = num + 3 + rest.find(' ').unwrap();
        let v = name_end + l[name_end..].find(|c: char| c != ' ').unwrap();
        assert_eq!(v, value, "values:\n{s}");
    }
}

#[test]
fn help_scrolls_on_a_small_terminal() {
    use super::keys::BINDINGS;
    let mut app = app_with(vec![]);
    app.on_action(Action::Help);
    let last = BINDINGS.last().unwrap().help;
    let first = BINDINGS[0].help;
    let s = screen(&mut app, 80, 12);
    assert!(s.contains(first) && !s.contains(last), "{s}");
    assert!(
        s.contains("keys 1-10 of") && s.contains("j/k PgUp/PgDn scroll"),
        "{s}"
    );
    app.on_action(Action::Down);
    let s = screen(&mut app, 80, 12);
    assert!(s.contains("keys 2-11 of") && !s.contains(first), "{s}");
    for _ in 0..5 {
        app.on_action(Action::PageDown);
    }
    let s = screen(&mut app, 80, 12);
    assert!(s.contains(last) && s.contains(" ↑ "), "{s}");
    // Back up from the clamped end, not from past it.
    app.on_action(Action::Up);
    assert!(!screen(&mut app, 80, 12).contains(last));
    app.on_action(Action::Top);
    assert!(screen(&mut app, 80, 12).contains(first));
    assert_eq!(app.overlay.open, Overlay::Help, "scrolling keeps it open");
    app.on_action(Action::Close);
    assert_eq!(app.overlay.open, Overlay::None);
}

/// `w`, a name, Enter, then `a` or `m`: the export runs to its end.
fn export(app: &mut App, path: &std::path::Path, scope: char) {
    key(app, KeyCode::Char('w'));
    typ(app, path.to_str().unwrap());
    key(app, KeyCode::Enter);
    key(app, KeyCode::Char(scope));
    super::export::wait(app);
}

/// The containers and syscalls a session file holds, in file order.
fn read_back(path: &std::path::Path) -> Vec<Event> {
    let (mut r, _) = reader::open(path, false).unwrap();
    let mut out = Vec::new();
    while let Some(ev) = r.next_item().unwrap() {
        out.push(ev);
    }
    assert!(r.warnings().is_empty(), "{:?}", r.warnings());
    out
}

/// The export names the container of every event it writes, before the
/// events, also a container that is gone while its events are retained.
#[test]
fn export_writes_the_containers_of_its_events() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with(vec![]);
    app.ingest(container(10, 'a', "web"));
    app.ingest(container(11, 'b', "db"));
    app.ingest(container(12, 'c', "idle"));
    app.ingest_batch(vec![
        Event::Syscall(in_cgroup(event("openat", "nginx", 20, 3, Some("/w")), 10)),
        Event::Syscall(in_cgroup(event("openat", "pg", 21, 3, Some("/d")), 11)),
        Event::Syscall(event("getppid", "sh", 22, 1, None)),
    ]);
    // db's cgroup goes away; its event stays retained.
    app.ingest(gone(11, 'b', "db"));
    app.tick();
    for (name, scope) in [("all.jsonl", 'a'), ("all.jsonl.zst", 'a'), ("m.jsonl", 'm')] {
        let p = dir.path().join(name);
        if scope == 'm' {
            app.on_action(Action::Filter);
            typ(&mut app, "comm == nginx");
            key(&mut app, KeyCode::Enter);
        }
        export(&mut app, &p, scope);
        let evs = read_back(&p);
        let adds: Vec<(u64, String)> = evs
            .iter()
            .filter_map(|e| match e {
                Event::ContainerAdd(a) => Some((a.cgroup_id, a.container.label())),
                _ => None,
            })
            .collect();
        let want: Vec<(u64, String)> = if scope == 'a' {
            vec![
                (10, format!("{NS}/{POD}/web")),
                (11, format!("{NS}/{POD}/db")),
            ]
        } else {
            vec![(10, format!("{NS}/{POD}/web"))]
        };
        assert_eq!(adds, want, "{name}: only the containers its events name");
        let first_syscall = evs
            .iter()
            .position(|e| matches!(e, Event::Syscall(_)))
            .unwrap();
        let last_add = evs
            .iter()
            .rposition(|e| matches!(e, Event::ContainerAdd(_)))
            .unwrap();
        assert!(last_add < first_syscall, "{name}: containers come first");
        // A replay of the file labels the events with their containers.
        let mut replayed = app_with(vec![]);
        replayed.ingest_batch(evs);
        let s = screen(&mut replayed, 200, 10);
        assert!(s.contains(&format!("{NS}/{POD}/web")), "{name}:\n{s}");
        if scope == 'a' {
            assert!(s.contains(&format!("{NS}/{POD}/db")), "{name}:\n{s}");
        }
    }
}

/// The removal of the container `container(cgroup, c, name)` announced.
fn gone(cgroup_id: u64, c: char, name: &str) -> Event {
    let Event::ContainerAdd(a) = container(cgroup_id, c, name) else {
        unreachable!()
    };
    Event::ContainerDel(ContainerDelEvent {
        cgroup_id,
        container: a.container,
    })
}

/// A container that exited (`podman run --rm`) keeps its name on its
/// retained events: in the stream, the view filter, the details and the
/// statistics, not `host`.
#[test]
fn gone_containers_still_name_their_events() {
    let mut app = app_with(vec![]);
    app.ingest(container(11, 'b', "db"));
    app.ingest_batch(vec![
        Event::Syscall(in_cgroup(event("openat", "pg", 21, 3, Some("/d")), 11)),
        Event::Syscall(event("getppid", "sh", 22, 1, None)),
    ]);
    app.ingest(gone(11, 'b', "db"));
    app.tick();
    let label = format!("{NS}/{POD}/db");
    let s = screen(&mut app, 200, 10);
    let row = s.lines().find(|l| l.contains("pg")).unwrap_or_default();
    assert!(row.contains(&label), "stream:\n{s}");
    assert!(app.group_of(app.store.get(0).unwrap()) == label);
    app.on_action(Action::Filter);
    typ(&mut app, "container == db");
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 200, 10);
    assert!(s.contains("(1 shown)"), "filter:\n{s}");
    app.on_action(Action::Details);
    let s = screen(&mut app, 200, 40);
    assert!(
        s.contains("db (") && !s.contains("not in a known container"),
        "details:\n{s}"
    );
}

/// A gone container is forgotten once none of its events can be retained.
#[test]
fn gone_containers_are_forgotten_with_their_events() {
    let mut app = App::new(
        2,
        Theme { color: false },
        Clock { boot_unix_ns: 0 },
        Source::Live,
    );
    app.ingest(container(10, 'a', "web"));
    app.ingest(Event::Syscall(in_cgroup(
        event("getppid", "a", 1, 1, None),
        10,
    )));
    let Event::ContainerAdd(c) = container(10, 'a', "web") else {
        unreachable!()
    };
    app.ingest(Event::ContainerDel(ContainerDelEvent {
        cgroup_id: 10,
        container: c.container,
    }));
    app.tick();
    assert!(app.container_of(10).is_some(), "its event is retained");
    app.ingest(Event::Syscall(event("getppid", "b", 2, 1, None)));
    app.tick();
    assert!(app.container_of(10).is_some());
    app.ingest(Event::Syscall(event("getppid", "c", 3, 1, None)));
    app.tick();
    assert!(app.container_of(10).is_none(), "its event was dropped");
}

/// `w` in a replay refuses the file being replayed, whatever it is called,
/// and says why in the prompt.
#[test]
fn export_refuses_the_file_being_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("s.jsonl");
    std::fs::write(&src, "keep").unwrap();
    let mut app = App::new(
        100,
        Theme { color: false },
        Clock { boot_unix_ns: 0 },
        replay_source(&src, 1),
    );
    app.ingest(Event::Syscall(event("getppid", "sh", 1, 1, None)));
    let other_name = dir.path().join(".").join("s.jsonl");
    for name in [&src, &other_name] {
        key(&mut app, KeyCode::Char('w'));
        typ(&mut app, name.to_str().unwrap());
        key(&mut app, KeyCode::Enter);
        let s = screen(&mut app, 100, 14);
        assert!(s.contains("that is the file being replayed"), "{s}");
        // The answer keys of the next steps do nothing here.
        key(&mut app, KeyCode::Char('a'));
        key(&mut app, KeyCode::Char('y'));
        key(&mut app, KeyCode::Esc);
        assert_eq!(std::fs::read_to_string(&src).unwrap(), "keep");
    }
    // Another name is fine.
    let out = dir.path().join("out.jsonl");
    export(&mut app, &out, 'a');
    assert_eq!(std::fs::read_to_string(&src).unwrap(), "keep");
    assert!(app
        .export
        .message
        .as_ref()
        .unwrap()
        .0
        .contains("wrote 1 events"));
}

/// At 80 columns the per-syscall statistics leave columns out rather than
/// cut them, and keep the one they are sorted by.
#[test]
fn statistics_at_80_columns_keep_units_and_the_sorted_column() {
    let mut app = sample(false);
    app.on_action(Action::Stats);
    let s = screen(&mut app, 80, 16);
    assert!(s.contains("TOTAL▼"), "{s}");
    let row = line_with(&s, "│epoll_pwait");
    assert!(
        row.contains("100.0%") && row.contains("781ns"),
        "{row}\n{s}"
    );
    // MEAN is among the first to go for want of room; sorted by, it stays.
    while app.stats_view.sort != crate::model::stats::SortKey::Mean {
        app.on_action(Action::SortNext);
    }
    let s = screen(&mut app, 80, 16);
    assert!(s.contains("MEAN▼"), "{s}");
}

/// `n` events, every third an openat of `/p<i>` (pid 1000 + i), the rest
/// getppid.
fn thirds_open(n: u32) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let ev = if i % 3 == 0 {
                event("openat", "cat", 1000 + i, 3, Some(&format!("/p{i}")))
            } else {
                event("getppid", "sh", 1000 + i, 1, None)
            };
            Event::Syscall(ev)
        })
        .collect()
}

/// The table rows on the screen that show `what`.
fn rows_with(s: &str, what: &str) -> Vec<String> {
    s.lines()
        .filter(|l| l.contains(what))
        .map(str::to_string)
        .collect()
}

/// A full page of filtered rows, the newest at the bottom (when following).
fn assert_full_page_to_newest(app: &mut App, w: u16, h: u16, newest: &str, ctx: &str) {
    let s = screen(app, w, h);
    let shown = rows_with(&s, "\"/");
    assert_eq!(shown.len() as u64, app.page, "{ctx}: a full page\n{s}");
    assert!(
        shown.last().unwrap().contains(newest),
        "{ctx}: the newest match at the bottom\n{s}"
    );
}

/// After the view filter changes (`f`, `e`, a pane node) the stream shows a
/// full page ending at the newest match, not the newest match alone at the
/// top; also while the re-filter is still going through the store in
/// slices.
#[test]
fn a_filter_change_shows_a_full_page_ending_at_the_newest() {
    for (w, h) in [(80, 24), (200, 50)] {
        // Small: the re-filter is done at once.
        let mut app = app_with(vec![]);
        app.ingest_batch(thirds_open(600));
        screen(&mut app, w, h);
        key(&mut app, KeyCode::Char('f'));
        typ(&mut app, "syscall == openat");
        key(&mut app, KeyCode::Enter);
        assert!(app.scan.is_none());
        assert_full_page_to_newest(&mut app, w, h, "/p597", "f");
        key(&mut app, KeyCode::Char('G'));
        assert_full_page_to_newest(&mut app, w, h, "/p597", "f, G");
        // `e` on top of it: every openat here succeeds.
        key(&mut app, KeyCode::Char('e'));
        key(&mut app, KeyCode::Char('e'));
        assert_full_page_to_newest(&mut app, w, h, "/p597", "e twice");

        // Big: the re-filter runs in slices, newest first.
        let mut app = app_with(vec![]);
        app.store = super::store::Store::new(300_000);
        app.ingest_batch(thirds_open(200_000));
        screen(&mut app, w, h);
        app.filter = Some(crate::model::filter::Filter::parse("syscall == openat").unwrap());
        app.start_refilter();
        let mut slices = 0;
        while app.refilter_step(std::time::Duration::ZERO) {
            slices += 1;
            assert_full_page_to_newest(&mut app, w, h, "/p199998", "slices");
        }
        assert!(slices >= 2, "{slices}");
        assert_full_page_to_newest(&mut app, w, h, "/p199998", "slices done");
        // New matches arrive and are followed.
        app.ingest(Event::Syscall(event("openat", "cat", 7, 3, Some("/new"))));
        assert_full_page_to_newest(&mut app, w, h, "/new", "an arrival");
    }
}

/// Choosing a pane node gives a full page too.
#[test]
fn a_pane_node_shows_a_full_page() {
    let mut app = app_with(vec![]);
    app.ingest(container(10, 'a', "web"));
    let evs = thirds_open(600)
        .into_iter()
        .map(|e| match e {
            Event::Syscall(ev) if ev.name() == "openat" => Event::Syscall(in_cgroup(ev, 10)),
            e => e,
        })
        .collect();
    app.ingest_batch(evs);
    screen(&mut app, 200, 50);
    app.on_action(Action::SwitchPane);
    // host, namespace, pod, container: the container holds the openats.
    for _ in 0..4 {
        app.on_action(Action::Down);
    }
    let s = screen(&mut app, 200, 50);
    assert!(s.contains("view: container"), "{s}");
    assert_full_page_to_newest(&mut app, 200, 50, "/p597", "pane node");
}

/// At 80 columns the container pane is not drawn beside the stream: Tab
/// draws it while it has the focus and says so, so j/k never move a
/// selection nobody sees; without containers Tab says there is no pane.
#[test]
fn tab_on_a_narrow_terminal_shows_the_pane_it_focuses() {
    let mut app = sample(true);
    app.ingest(Event::Syscall(event("getppid", "sh", 12, 1, None)));
    let s = screen(&mut app, 80, 24);
    assert!(!s.contains("containers  ev/s"), "no room beside: {s}");
    app.on_action(Action::SwitchPane);
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("containers  ev/s"), "Tab shows the pane:\n{s}");
    assert!(
        s.contains("shown while focused (Tab: back; stays from 100 columns)"),
        "whole at 80:\n{s}"
    );
    app.on_action(Action::Down);
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("view: host"), "{s}");
    assert!(s.contains("│host "), "the selected node is drawn:\n{s}");
    // Back to the stream: the pane goes, the narrowing stays and is named.
    app.on_action(Action::SwitchPane);
    let s = screen(&mut app, 80, 24);
    assert!(
        !s.contains("containers  ev/s") && s.contains("view: host"),
        "{s}"
    );
    assert!(line_with(&s, "getppid").contains(" sh "), "{s}");

    // No containers: no pane, so Tab focuses nothing and j/k move events.
    let mut app = app_with(vec![
        event("getppid", "sh", 1, 1, None),
        event("getppid", "sh", 2, 1, None),
    ]);
    for w in [80, 200] {
        screen(&mut app, w, 24);
        app.on_action(Action::SwitchPane);
        let s = screen(&mut app, w, 24);
        assert!(s.contains("no containers seen yet"), "{s}");
        assert!(!app.tree.focused);
        app.on_action(Action::Up);
        let s = screen(&mut app, w, 24);
        assert!(!s.contains("view:"), "{s}");
        assert_eq!(app.selected_event().unwrap().id.pid, 1);
        app.on_action(Action::Bottom);
    }
}

/// The syscalls a session file holds.
fn syscalls_in(path: &std::path::Path) -> usize {
    read_back(path)
        .iter()
        .filter(|e| matches!(e, Event::Syscall(_)))
        .count()
}

/// `w` offers "only those the view shows" only when the view is narrowed,
/// counts as it draws (events keep arriving while it asks), and says how
/// many it wrote.
#[test]
fn export_offers_what_there_is_and_counts_at_the_moment() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("all.jsonl");
    let mut app = app_with(vec![]);
    app.ingest_batch(thirds_open(30));
    key(&mut app, KeyCode::Char('w'));
    typ(&mut app, p.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("a  all retained events (30 now)"), "{s}");
    assert!(!s.contains("m  only"), "no filter, nothing to choose:\n{s}");
    // `m` is not on offer: nothing happens.
    key(&mut app, KeyCode::Char('m'));
    assert!(matches!(app.export.stage, super::export::Stage::Scope(_)));
    assert!(!p.exists());
    app.ingest_batch(thirds_open(12));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("a  all retained events (42 now)"), "{s}");
    key(&mut app, KeyCode::Char('a'));
    super::export::wait(&mut app);
    assert_eq!(syscalls_in(&p), 42);
    let said = &app.export.message.as_ref().unwrap().0;
    assert!(said.contains("wrote 42 events"), "{said}");

    // Narrowed: both, and what narrows it.
    key(&mut app, KeyCode::Char('e'));
    app.on_action(Action::Filter);
    typ(&mut app, "syscall == openat");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('e'));
    let p = dir.path().join("m.jsonl");
    key(&mut app, KeyCode::Char('w'));
    typ(&mut app, p.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("a  all retained events (42 now)"), "{s}");
    assert!(s.contains("m  only those the view shows (14 now)"), "{s}");
    assert!(s.contains("syscall == openat"), "{s}");
    key(&mut app, KeyCode::Char('m'));
    super::export::wait(&mut app);
    assert_eq!(syscalls_in(&p), 14);
    let (r, _) = reader::open(&p, false).unwrap();
    assert_eq!(
        r.header().filters.view.as_deref(),
        Some("syscall == openat")
    );

    // A pane node narrows the view too, and is named.
    let mut app = sample(true);
    app.ingest(Event::Syscall(event("getppid", "sh", 12, 1, None)));
    screen(&mut app, 200, 24);
    app.on_action(Action::SwitchPane);
    for _ in 0..4 {
        app.on_action(Action::Down);
    }
    app.on_action(Action::SwitchPane);
    let p = dir.path().join("ctr.jsonl");
    key(&mut app, KeyCode::Char('w'));
    typ(&mut app, p.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 200, 24);
    assert!(s.contains("m  only those the view shows (2 now)"), "{s}");
    let node = format!("container {NS}/{POD}/payment-gateway-sidecar");
    assert!(s.contains(&node), "{s}");
    key(&mut app, KeyCode::Char('m'));
    super::export::wait(&mut app);
    assert_eq!(syscalls_in(&p), 2);
    let (r, _) = reader::open(&p, false).unwrap();
    assert_eq!(r.header().filters.view.as_deref(), Some(node.as_str()));
}

/// `m` while a re-filter is still going writes every event the view will
/// show, not the newest part found so far.
#[test]
fn export_of_the_view_during_a_refilter_writes_all_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.jsonl");
    let mut app = app_with(vec![]);
    app.store = super::store::Store::new(300_000);
    app.ingest_batch(thirds_open(150_000));
    app.filter = Some(crate::model::filter::Filter::parse("syscall == openat").unwrap());
    app.start_refilter();
    assert!(app.refilter_step(std::time::Duration::ZERO), "still going");
    key(&mut app, KeyCode::Char('w'));
    typ(&mut app, p.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("found so far"), "{s}");
    key(&mut app, KeyCode::Char('m'));
    super::export::wait(&mut app);
    assert_eq!(syscalls_in(&p), 50_000);
    assert!(app.refilter_progress().is_none());
}

/// The `f` prompt works across nodes: `node == "..."` keeps one node's
/// events, and the stream labels each event with its node.
#[test]
fn the_filter_prompt_selects_a_node() {
    let alpha = crate::model::node::intern("view-alpha").unwrap();
    let beta = crate::model::node::intern("view-beta").unwrap();
    let on = |node, pid| {
        let mut e = event("getppid", "sh", pid, 1, None);
        e.node = node;
        e
    };
    let mut app = app_with(vec![]);
    for node in [alpha, beta] {
        app.ingest(Event::Node(crate::model::event::NodeEvent {
            node,
            addr: "127.0.0.1:7000".into(),
            up: true,
            at_unix_ns: 0,
            detail: String::new(),
        }));
    }
    app.ingest_batch(
        [on(alpha, 41), on(beta, 42), on(beta, 43)]
            .into_iter()
            .map(Event::Syscall)
            .collect(),
    );
    let all = screen(&mut app, 200, 12);
    assert!(
        all.contains("view-alpha:") && all.contains("view-beta:"),
        "{all}"
    );
    app.on_action(Action::Filter);
    typ(&mut app, "node == \"view-beta\"");
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 200, 12);
    assert!(!s.contains("view-alpha:"), "{s}");
    assert_eq!(s.matches("view-beta:").count(), 2, "{s}");
}
