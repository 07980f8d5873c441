//! TUI timings: re-filtering the retained events and drawing a frame.
//! Run in release mode: `cargo run --release --example ui_bench [EVENTS]`.
//! Targets (issue 7): re-filter 1M events <= 150 ms, frame <= 8 ms p99.

use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use systrace_tui::clock::Clock;
use systrace_tui::model::event::{Event, TraceEvent};
use systrace_tui::model::filter::Filter;
use systrace_tui::model::raw::{encode_chunks, Chunk, RawEvent, CAP_STR};
use systrace_tui::model::syscalls::{self, Arch};
use systrace_tui::ui::app::{App, Source, Tab};
use systrace_tui::ui::keys::Action;
use systrace_tui::ui::theme::Theme;

/// A plausible mix: file calls with paths (some failing), reads, getppid.
fn event(i: u64) -> TraceEvent {
    let (name, ret, path): (&str, i64, Option<String>) = match i % 10 {
        0 => (
            "openat",
            -2,
            Some(format!("/usr/lib/x86_64/libfoo{}.so", i % 97)),
        ),
        1 => ("openat", 3, Some(format!("/etc/conf.d/file{}", i % 13))),
        2..=4 => ("read", 512, None),
        5 => ("write", 64, None),
        6 => ("close", 0, None),
        7 => ("connect", -111, None),
        _ => ("getppid", 1, None),
    };
    let info = syscalls::by_name(Arch::X86_64, name).expect("known");
    let chunks: Vec<Chunk> = path
        .as_deref()
        .map(|p| Chunk {
            arg: 1,
            kind: CAP_STR,
            data: p.as_bytes(),
        })
        .into_iter()
        .collect();
    let tail = encode_chunks(&chunks);
    let comms: [&[u8]; 4] = [b"nginx", b"cat", b"postgres", b"sh"];
    let mut raw = RawEvent {
        nr: info.nr,
        ret,
        start_ns: 1_000_000_000 + i * 1000,
        finish_ns: 1_000_000_000 + i * 1000 + 200 + (i % 5000) * 37,
        pid: 1000 + (i % 50) as u32,
        tid: 1000 + (i % 50) as u32,
        args: [0xffff_ff9c, 0x1000, 0x80000, 0, 0, 0],
        tail_len: tail.len() as u16,
        ..Default::default()
    };
    let c = comms[(i % 4) as usize];
    raw.comm[..c.len()].copy_from_slice(c);
    TraceEvent::from_raw(&raw, &tail, Arch::X86_64)
}

fn pct(v: &mut [Duration], q: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut app = App::new(
        n as usize,
        Theme { color: true },
        Clock { boot_unix_ns: 0 },
        Source::Live,
    );
    let t0 = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(4096) {
        app.ingest_batch(chunk.iter().map(|&i| Event::Syscall(event(i))).collect());
    }
    println!(
        "ingest {n} events: {:.0} ms ({:.0} ns/event, statistics included)",
        t0.elapsed().as_secs_f64() * 1e3,
        t0.elapsed().as_nanos() as f64 / n as f64
    );

    println!("re-filter {} retained events (best of 3):", app.store.len());
    for expr in [
        "errno != 0",
        "syscall == openat and errno == ENOENT",
        "class == file",
        "pid in (1001, 1002) or comm == cat",
        "comm ~ '^post'",
        "path ~ '^/etc/'",
        "pod == web",
        "duration > 100us",
        "args ~ 'libfoo1'",
    ] {
        let f = Filter::parse(expr).expect("valid");
        let mut best = Duration::MAX;
        let mut shown = 0;
        for _ in 0..3 {
            app.filter = Some(f.clone());
            app.refilter();
            best = best.min(app.last_refilter.expect("timed"));
            shown = app.row_count();
        }
        println!(
            "  {:>8.1} ms  {shown:>8} shown  {expr}",
            best.as_secs_f64() * 1e3
        );
    }
    app.filter = None;
    app.refilter();

    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    let mut frame = |app: &mut App, label: &str, extra: u64| {
        let mut times = Vec::new();
        for k in 0..300 {
            // New events between frames, as in a busy live session.
            let base = n + extra + k * 1000;
            app.ingest_batch(
                (base..base + 1000)
                    .map(|i| Event::Syscall(event(i)))
                    .collect(),
            );
            let t = Instant::now();
            term.draw(|f| app.render(f)).expect("draw");
            times.push(t.elapsed());
        }
        println!(
            "frame {label:<28} p50 {:>6.2} ms  p99 {:>6.2} ms",
            pct(&mut times, 0.5).as_secs_f64() * 1e3,
            pct(&mut times, 0.99).as_secs_f64() * 1e3
        );
    };
    frame(&mut app, "stream, following", 0);
    app.search = Some(regex::Regex::new("libfoo").expect("regex"));
    frame(&mut app, "stream, search highlight", 1_000_000);
    app.search = None;
    app.on_action(Action::Details);
    frame(&mut app, "details", 2_000_000);
    app.on_action(Action::Close);
    app.tab = Tab::Stats;
    frame(&mut app, "statistics", 3_000_000);
}
