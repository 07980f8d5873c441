//! Helpers for the view tests: crafted events and a rendered screen as text.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::app::{App, Source};
use super::theme::Theme;
use crate::clock::Clock;
use crate::model::event::{Event, TraceEvent};
use crate::model::raw::Chunk;
use crate::model::testing::EventBuilder;

/// A syscall event of `comm` (pid = tid = `pid`), with an optional path.
pub fn event(name: &str, comm: &str, pid: u32, ret: i64, path: Option<&str>) -> TraceEvent {
    let b = EventBuilder::named(name)
        .ret(ret)
        .start(1_000_000_000 + u64::from(pid) * 1000)
        .duration(2_500)
        .pid(pid)
        .uid(1000)
        .comm(comm);
    match path {
        Some(p) => b.path(if name == "openat" { 1 } else { 0 }, p),
        None => b,
    }
    .build()
}

/// A syscall event of `sh` (pid 7) with arguments `args` and the copies
/// the kernel side made (`chunks`): structures, arrays, strings.
pub fn event_with(name: &str, ret: i64, args: &[u64], chunks: &[Chunk<'_>]) -> TraceEvent {
    EventBuilder::named(name)
        .ret(ret)
        .args(args)
        .chunks(chunks)
        .start(1_000_000_000)
        .duration(2_500)
        .pid(7)
        .uid(1000)
        .comm("sh")
        .build()
}

/// An app without colors, at a fixed clock, holding `evs`.
pub fn app_with(evs: Vec<TraceEvent>) -> App {
    let mut app = App::new(
        1000,
        Theme { color: false },
        Clock { boot_unix_ns: 0 },
        Source::Live,
    );
    app.ingest_batch(evs.into_iter().map(Event::Syscall).collect());
    app
}

/// Draws the app on a `w` x `h` test terminal and returns the screen text.
pub fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    term.draw(|f| app.render(f)).expect("draw");
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// A key press without modifiers.
pub fn key(app: &mut App, code: KeyCode) {
    app.on_key(&KeyEvent::new(code, KeyModifiers::NONE));
}

/// Types `text`, a key a character.
pub fn typ(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}
