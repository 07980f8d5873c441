//! The user-space budgets, measured (no criterion: it reports
//! percentiles and memory, which criterion does not):
//! - TUI frame render with 1,000,000 retained events, 200x50: p50 / p99;
//! - resident memory per retained event (RSS growth while filling the store);
//! - reader-side throughput: decode + batch + channel + store, events/s.
//!
//! Run: `cargo bench --bench budget` (BENCHMARKS.md has the figures).

mod common;

use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use systrace_tui::model::event::{Event, TraceEvent};
use systrace_tui::model::syscalls::Arch;
use systrace_tui::ui::app::App;
use systrace_tui::ui::keys::Action;

use ratatui::backend::TestBackend;
use ratatui::Terminal;

const RETAINED: usize = 1_000_000;
/// As in src/bpf/reader.rs.
const BATCH: usize = 4096;
const CHANNEL_BATCHES: usize = 512;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("resident pages");
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn render_and_memory() {
    let before = rss_bytes();
    let mut app = common::app_with(RETAINED);
    let after = rss_bytes();
    println!(
        "memory: {} retained events, RSS +{:.1} MiB = {:.0} bytes/event (TraceEvent is {} bytes inline; a quarter carry a path)",
        app.store.len(),
        (after - before) as f64 / (1 << 20) as f64,
        (after - before) as f64 / RETAINED as f64,
        std::mem::size_of::<TraceEvent>(),
    );

    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("test terminal");
    let mut times = Vec::new();
    // Following the newest events, then scrolled into the middle of the store.
    for i in 0..600 {
        if i == 300 {
            app.on_action(Action::Top);
            for _ in 0..1000 {
                app.on_action(Action::PageDown);
            }
        }
        let t = Instant::now();
        term.draw(|f| app.render(f)).expect("draw");
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "render 200x50, {} retained: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} frames",
        app.store.len(),
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().expect("frames").as_secs_f64() * 1e3,
        times.len()
    );
}

/// Records decoded and batched on one thread, stored by another, as in a
/// live capture; the producer blocks instead of dropping, so the figure is
/// the rate the slower side sustains.
fn pipeline(total: u64, consume: impl FnOnce(crossbeam_channel::Receiver<Vec<Event>>) + Send) {
    let records: Vec<Vec<u8>> = (0..4096).map(common::record).collect();
    let (tx, rx) = bounded::<Vec<Event>>(CHANNEL_BATCHES);
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            for i in 0..total {
                let r = &records[(i % records.len() as u64) as usize];
                match TraceEvent::from_bytes(r, Arch::native()) {
                    Ok(ev) => batch.push(Event::Syscall(ev)),
                    Err(e) => panic!("bad record: {e}"),
                }
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    tx.send(full).expect("consumer alive");
                }
            }
            if !batch.is_empty() {
                tx.send(batch).expect("consumer alive");
            }
        });
        s.spawn(move || consume(rx));
    });
    let el = start.elapsed().as_secs_f64();
    println!(
        "  {total} events in {el:.2} s = {:.2} M events/s",
        total as f64 / el / 1e6
    );
}

fn main() {
    // `cargo bench` passes --bench; a filter argument is not supported.
    render_and_memory();
    let total = 8_000_000;
    println!("pipeline: decode + batches of {BATCH} + channel + TUI store ({RETAINED} retained):");
    pipeline(total, |rx| {
        let mut app = App::new(
            RETAINED,
            systrace_tui::ui::theme::Theme { color: true },
            systrace_tui::clock::Clock { boot_unix_ns: 0 },
            systrace_tui::ui::app::Source::Live,
        );
        while let Ok(b) = rx.recv() {
            app.ingest_batch(b);
        }
        assert_eq!(app.total, total);
    });
    println!("pipeline: decode + batches + channel + headless count (--no-tui --quiet):");
    pipeline(total, |rx| {
        let mut n = 0u64;
        while let Ok(b) = rx.recv() {
            n += b.len() as u64;
            drop(b);
        }
        assert_eq!(n, total);
    });
}
