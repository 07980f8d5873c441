//! Every view as text, compared with the reviewed copies in `snapshots/`:
//! a layout change shows up as a diff to accept (`cargo insta review`) or
//! fix. The screens hold nothing of the machine they are drawn on: a fixed
//! clock, crafted events, and the times of day (local time) and the rate
//! (wall-clock seconds) replaced by placeholders.

use std::fmt::Write;

use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;

use super::app::App;
use super::keys::Action;
use super::testutil::{app_with, event, key, screen, typ};
use super::view_tests::sample;
use crate::model::event::{Event, LostEvents};

/// A few calls of two processes, one failing.
fn calls() -> App {
    app_with(vec![
        event("openat", "cat", 10, -2, Some("/etc/nope")),
        event("getppid", "sh", 11, 7, None),
        event("openat", "cat", 12, 3, Some("/etc/passwd")),
        event("close", "cat", 12, 0, None),
    ])
}

/// `calls()` after `actions`.
fn after(actions: &[Action]) -> App {
    let mut app = calls();
    for &a in actions {
        app.on_action(a);
    }
    app
}

/// The styled stretches of the screen, a line each: `row columns look`,
/// so selection, highlights and colours are part of the snapshot too.
fn styles(app: &mut App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    term.draw(|f| app.render(f)).expect("draw");
    let buf = term.backend().buffer();
    let look = |x: u16, y: u16| {
        let c = &buf[(x, y)];
        (c.fg, c.bg, c.modifier)
    };
    let plain = (Color::Reset, Color::Reset, Modifier::empty());
    let mut out = String::new();
    for y in 0..h {
        let mut x = 0;
        while x < w {
            let l = look(x, y);
            let start = x;
            while x < w && look(x, y) == l {
                x += 1;
            }
            if l != plain {
                let _ = writeln!(
                    out,
                    "{y:>2} {start:>3}-{:<3} {:?} {:?} {:?}",
                    x - 1,
                    l.0,
                    l.1,
                    l.2
                );
            }
        }
    }
    out
}

/// Asserts the screen of `app` at `w` x `h` against snapshot `name`: its
/// text, then its styles.
fn check(name: &str, app: &mut App, w: u16, h: u16) {
    let s = format!("{}-- styles --\n{}", screen(app, w, h), styles(app, w, h));
    insta::with_settings!({
        filters => vec![
            (r"\b\d\d:\d\d:\d\d\.\d{6}\b", "HH:MM:SS.ssssss"),
            (r"\| \d+ ev/s", "| N ev/s"),
        ],
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, s);
    });
}

/// A test that draws the app `$app` at `$w` x `$h` and checks it against
/// snapshot `$name`.
macro_rules! snapshot {
    ($test:ident, $name:literal, $w:literal x $h:literal, $app:expr) => {
        #[test]
        fn $test() {
            let mut app = $app;
            check($name, &mut app, $w, $h);
        }
    };
}

snapshot!(stream_at_80_columns, "stream_80", 80 x 10, calls());
// In colour: each syscall class, errors and results in theirs.
snapshot!(stream_at_200_columns, "stream_200", 200 x 10, {
    let mut app = calls();
    app.theme.color = true;
    app
});
snapshot!(stream_paused_on_an_older_event, "stream_paused", 120 x 10,
    after(&[Action::TogglePause, Action::Up]));
snapshot!(stream_with_the_container_pane, "container_tree", 160 x 12, sample(true));
snapshot!(container_pane_focused_on_a_narrow_terminal, "container_tree_focused_80", 80 x 12, {
    let mut app = sample(true);
    app.on_action(Action::SwitchPane);
    app
});
snapshot!(detail_overlay, "details", 100 x 34, after(&[Action::Top, Action::Details]));
snapshot!(statistics_tab, "statistics", 160 x 20, after(&[Action::Stats]));
snapshot!(help_overlay, "help", 80 x 40, after(&[Action::Help]));
snapshot!(filter_prompt_with_a_mistake, "filter_prompt_error", 100 x 10, {
    let mut app = after(&[Action::Filter]);
    typ(&mut app, "syscall == opnat");
    app
});
snapshot!(filtered_and_searched_stream, "filtered_searched", 120 x 10, {
    let mut app = after(&[Action::Filter]);
    typ(&mut app, "class == file");
    key(&mut app, KeyCode::Enter);
    app.on_action(Action::Top);
    app.on_action(Action::Search);
    typ(&mut app, "passwd");
    key(&mut app, KeyCode::Enter);
    app
});
snapshot!(empty_before_any_event, "empty", 80 x 8, app_with(vec![]));
snapshot!(lost_events_and_errors_only, "lost_errors_only", 100 x 8, {
    let mut app = calls();
    app.ingest(Event::Lost(LostEvents { kernel: 12, channel: 3 }));
    app.on_action(Action::ErrorsOnly);
    app
});
snapshot!(search_miss_message, "no_search_message", 100 x 8, after(&[Action::NextMatch]));

/// The dialog at its two steps: the file's name, then what to write.
#[test]
fn export_dialog_name_then_scope() {
    let mut app = after(&[Action::ErrorsOnly, Action::Export]);
    typ(&mut app, "/srv/out.jsonl");
    check("export_name", &mut app, 100, 16);
    key(&mut app, KeyCode::Enter);
    check("export_scope", &mut app, 100, 16);
}

/// Kernel modes asked for, in order (the kernel side is tested live in
/// tests/aggregate.rs).
struct Modes(std::sync::Arc<std::sync::Mutex<Vec<crate::model::flow::KernelMode>>>);

impl crate::model::flow::ModeTarget for Modes {
    fn set_mode(&self, m: crate::model::flow::KernelMode) {
        self.0.lock().unwrap().push(m);
    }
}

/// The top view over counts of three syscalls in two cgroups, one failing.
#[test]
fn top_view() {
    use crate::model::counts::{Counted, Delta, Key, Misses};
    use crate::model::flow::KernelMode;
    use crate::model::syscalls::Arch;
    let counted = Counted::new(Arch::X86_64);
    let d = Delta::uniform;
    let k = Key::new;
    counted.counts.lock().unwrap().merge(
        &[
            (k(1, 110, 0), d(5000, 300)),
            (k(1, 257, 2), d(40, 2_000)),
            (k(1, 257, 0), d(10, 3_000)),
            (k(2, 0, 0), d(700, 50_000)),
        ],
        Misses::default(),
        true,
    );
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut app = calls();
    app.top_view = Some(Box::new(super::top::TopState::new(
        counted,
        Box::new(Modes(asked.clone())),
        KernelMode::Stream,
    )));
    super::top::open(&mut app);
    // The rows are built off the UI thread: wait for them here.
    app.top_view.as_mut().unwrap().settle(0, 12);
    check("top", &mut app, 120, 12);
    // Narrow: a name cut to fit says so.
    let narrow = screen(&mut app, 60, 12);
    assert!(
        narrow.contains("getp…") && narrow.contains("SYSC…"),
        "{narrow}"
    );
    assert_eq!(*asked.lock().unwrap(), [KernelMode::Aggregate]);
    // Enter streams the selected row in full; Esc goes back to counting.
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Esc);
    let asked = asked.lock().unwrap();
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert!(matches!(asked[1], KernelMode::Drill { .. }), "{asked:?}");
    assert_eq!(asked[2], KernelMode::Aggregate);
}
