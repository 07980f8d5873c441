//! Helpers for the view tests: crafted events and a rendered screen as text.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::app::{App, Source};
use super::theme::Theme;
use crate::clock::Clock;
use crate::model::event::{Event, TraceEvent};
use crate::model::raw::{encode_chunks, Chunk, RawEvent, CAP_STR};
use crate::model::syscalls::{self, Arch};

/// A syscall event of `comm` (pid = tid = `pid`), with an optional path.
pub fn event(name: &str, comm: &str, pid: u32, ret: i64, path: Option<&str>) -> TraceEvent {
    let info = syscalls::by_name(Arch::X86_64, name).expect("known syscall");
    let chunks: Vec<Chunk> = path
        .map(|p| Chunk {
            arg: if name == "openat" { 1 } else { 0 },
            kind: CAP_STR,
            data: p.as_bytes(),
        })
        .into_iter()
        .collect();
    let tail = encode_chunks(&chunks);
    let mut raw = RawEvent {
        nr: info.nr,
        ret,
        start_ns: 1_000_000_000 + u64::from(pid) * 1000,
        finish_ns: 1_000_000_000 + u64::from(pid) * 1000 + 2_500,
        pid,
        tid: pid,
        uid: 1000,
        tail_len: tail.len() as u16,
        ..Default::default()
    };
    raw.comm[..comm.len()].copy_from_slice(comm.as_bytes());
    TraceEvent::from_raw(&raw, &tail, Arch::X86_64)
}

/// A syscall event of `sh` (pid 7) with arguments `args` and the copies
/// the kernel side made (`chunks`): structures, arrays, strings.
pub fn event_with(name: &str, ret: i64, args: &[u64], chunks: &[Chunk<'_>]) -> TraceEvent {
    let info = syscalls::by_name(Arch::X86_64, name).expect("known syscall");
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    let tail = encode_chunks(chunks);
    let mut raw = RawEvent {
        nr: info.nr,
        ret,
        args: a,
        start_ns: 1_000_000_000,
        finish_ns: 1_000_002_500,
        pid: 7,
        tid: 7,
        uid: 1000,
        tail_len: tail.len() as u16,
        ..Default::default()
    };
    raw.comm[..2].copy_from_slice(b"sh");
    TraceEvent::from_raw(&raw, &tail, Arch::X86_64)
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
