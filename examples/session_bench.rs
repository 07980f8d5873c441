//! Session export / replay throughput, for the figures in the README and
//! the issue notes (a benchmark, not a test):
//!
//!   cargo run --release --example session_bench [EVENTS]
//!
//! Writes EVENTS (default 1,000,000) openat-like events with a captured path
//! through `SessionFile` (plain and zstd), then loads each file back with the
//! replay reader, and prints events/s and seconds. On a shared machine the
//! wall time depends on the load; the CPU seconds the process used (all its
//! threads: the writer and reader each run a helper thread) do much less.

use std::time::Instant;

use systrace_tui::clock::Clock;
use systrace_tui::model::event::{Event, LostEvents, Namespaces, TraceEvent};
use systrace_tui::model::syscalls::Arch;
use systrace_tui::model::testing::EventBuilder;
use systrace_tui::session::format::Filters;
use systrace_tui::session::reader;
use systrace_tui::session::writer::{live_header, SessionFile};

fn event(i: u64) -> TraceEvent {
    EventBuilder::new()
        .arch(Arch::native())
        .nr(if i.is_multiple_of(3) { 257 } else { 0 })
        .ret(if i.is_multiple_of(5) { -2 } else { 3 })
        .start(1_000_000_000 + i * 1_000)
        .duration(700)
        .args(&[0xffff_ff9c, 0x7ffd_1234_5000, 0x80000])
        .pid(1000 + (i % 50) as u32)
        .ns(Namespaces {
            pid: 4_026_531_836,
            mnt: 4_026_531_841,
            ..Default::default()
        })
        .comm("nginx")
        .path(1, format!("/usr/lib/x86_64-linux-gnu/lib{}.so.6", i % 977))
        .build()
}

/// CPU seconds used so far by the whole process, user and system.
fn cpu_secs() -> f64 {
    // SAFETY: getrusage fills the zeroed struct.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    s(u.ru_utime) + s(u.ru_stime)
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let events: Vec<TraceEvent> = (0..n).map(event).collect();
    let dir = tempfile::Builder::new()
        .prefix("st-session-bench")
        .tempdir()
        .expect("scratch dir");
    for name in ["bench.jsonl", "bench.jsonl.zst"] {
        let path = dir.path().join(name);
        let header = live_header(Clock::measure(), Filters::default());
        let (t, c) = (Instant::now(), cpu_secs());
        let mut f = SessionFile::create(&path, true, &header).expect("create");
        for ev in &events {
            f.syscall(ev).expect("write");
        }
        let tf = Instant::now();
        f.finish(LostEvents::default()).expect("finish");
        let fin = tf.elapsed().as_secs_f64();
        let w = t.elapsed().as_secs_f64();
        let wc = cpu_secs() - c;
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);

        let (t, c) = (Instant::now(), cpu_secs());
        let (mut r, _) = reader::open(&path, false).expect("open");
        let mut got = 0u64;
        while let Some(ev) = r.next_item().expect("read") {
            if let Event::Syscall(_) = ev {
                got += 1;
            }
        }
        let l = t.elapsed().as_secs_f64();
        let lc = cpu_secs() - c;
        assert_eq!(got, n);
        println!(
            "{name}: {n} events, {:.1} MB ({:.0} B/event); \
             write {w:.2} s = {:.0} events/s (finish incl. fsync {fin:.2} s; CPU {wc:.2} s); \
             load {l:.2} s = {:.0} events/s (CPU {lc:.2} s)",
            size as f64 / 1e6,
            size as f64 / n as f64,
            n as f64 / w,
            n as f64 / l
        );
    }
    drop(dir);
}
