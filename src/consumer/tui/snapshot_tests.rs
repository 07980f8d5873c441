//! Every view as text, compared with the reviewed copies in `snapshots/`:
//! a layout change shows up as a diff to accept (`cargo insta review`) or
//! fix. The screens hold nothing of the machine they are drawn on: a fixed
//! clock, crafted events, and the times of day (local time) and the rate
//! (wall-clock seconds) replaced by placeholders.

use std::fmt::Write;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;

use super::app::App;
use super::keys::Action;
use super::testutil::{app_with, event, screen};
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

fn typ(app: &mut App, text: &str) {
    for c in text.chars() {
        app.on_key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
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

#[test]
fn stream_at_80_columns() {
    check("stream_80", &mut calls(), 80, 10);
}

/// In colour: each syscall class, errors and results in theirs.
#[test]
fn stream_at_200_columns() {
    let mut app = calls();
    app.theme.color = true;
    check("stream_200", &mut app, 200, 10);
}

#[test]
fn stream_paused_on_an_older_event() {
    let mut app = calls();
    app.on_action(Action::TogglePause);
    app.on_action(Action::Up);
    check("stream_paused", &mut app, 120, 10);
}

#[test]
fn stream_with_the_container_pane() {
    check("container_tree", &mut sample(true), 160, 12);
}

#[test]
fn container_pane_focused_on_a_narrow_terminal() {
    let mut app = sample(true);
    app.on_action(Action::SwitchPane);
    check("container_tree_focused_80", &mut app, 80, 12);
}

#[test]
fn detail_overlay() {
    let mut app = calls();
    app.on_action(Action::Top);
    app.on_action(Action::Details);
    check("details", &mut app, 100, 34);
}

#[test]
fn statistics_tab() {
    let mut app = calls();
    app.on_action(Action::Stats);
    check("statistics", &mut app, 160, 20);
}

#[test]
fn help_overlay() {
    let mut app = calls();
    app.on_action(Action::Help);
    check("help", &mut app, 80, 40);
}

#[test]
fn filter_prompt_with_a_mistake() {
    let mut app = calls();
    app.on_action(Action::Filter);
    typ(&mut app, "syscall == opnat");
    check("filter_prompt_error", &mut app, 100, 10);
}

#[test]
fn filtered_and_searched_stream() {
    let mut app = calls();
    app.on_action(Action::Filter);
    typ(&mut app, "class == file");
    app.on_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    app.on_action(Action::Top);
    app.on_action(Action::Search);
    typ(&mut app, "passwd");
    app.on_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    check("filtered_searched", &mut app, 120, 10);
}

#[test]
fn export_dialog_name_then_scope() {
    let mut app = calls();
    app.on_action(Action::ErrorsOnly);
    app.on_action(Action::Export);
    typ(&mut app, "/srv/out.jsonl");
    check("export_name", &mut app, 100, 16);
    app.on_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    check("export_scope", &mut app, 100, 16);
}

#[test]
fn empty_before_any_event() {
    check("empty", &mut app_with(vec![]), 80, 8);
}

#[test]
fn lost_events_and_errors_only() {
    let mut app = calls();
    app.ingest(Event::Lost(LostEvents {
        kernel: 12,
        channel: 3,
    }));
    app.on_action(Action::ErrorsOnly);
    check("lost_errors_only", &mut app, 100, 8);
}

#[test]
fn search_miss_message() {
    let mut app = calls();
    app.on_action(Action::NextMatch);
    check("no_search_message", &mut app, 100, 8);
}
