//! criterion benches of the user-space hot path: decoding a ring-buffer
//! record, the user-space filters (--comm regex, the filter language),
//! recording calls into a binary session (`.strc` frames, and zstd as the
//! recorder runs it), and drawing a TUI frame over 1,000,000 retained
//! events. Run: `cargo bench --bench hot_path`.

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use systrace_tui::model::container::ContainerMap;
use systrace_tui::model::event::TraceEvent;
use systrace_tui::model::filter::{Filter, NoContainers};
use systrace_tui::model::syscalls::Arch;
use systrace_tui::session::binary::Encoder;
use systrace_tui::stage::UserFilter;

fn decode(c: &mut Criterion) {
    let plain = common::record(0);
    let with_path = common::record(2);
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(1));
    g.bench_function("no_tail", |b| {
        let mut ids = common::identities();
        b.iter(|| TraceEvent::from_record(&mut ids, black_box(&plain), Arch::native()))
    });
    // Seven threads' calls in turn, as a busy machine's CPUs interleave
    // them in the ring: each record names another thread than the last.
    let mix: Vec<Vec<u8>> = (0..7 * 64).map(common::record).collect();
    g.bench_function("interleaved", |b| {
        let mut ids = common::identities();
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % mix.len();
            TraceEvent::from_record(&mut ids, black_box(&mix[i]), Arch::native())
        })
    });
    g.bench_function("path_tail", |b| {
        let mut ids = common::identities();
        b.iter(|| TraceEvent::from_record(&mut ids, black_box(&with_path), Arch::native()))
    });
    g.finish();
}

/// The recorder's two threads per event: packing calls into frames
/// (session-writer) and compressing them (session-disk, zstd --fast=3).
fn record(c: &mut Criterion) {
    // One thread's getppid storm, times jittered as a real one's are.
    let mut one = systrace_tui::model::testing::EventBuilder::named("getppid")
        .arch(Arch::native())
        .ret(4242)
        .build();
    let storm: Vec<TraceEvent> = (0..4096u64)
        .map(|i| {
            one.start_ns = 1_000_000_000 + i * 380 + (i * 7919) % 61;
            one.finish_ns = one.start_ns + 120 + (i * 104_729) % 37;
            one.clone()
        })
        .collect();
    let mix = common::events(4096);
    let mut g = c.benchmark_group("record");
    for (name, evs) in [("storm", &storm), ("mix", &mix)] {
        g.throughput(Throughput::Elements(evs.len() as u64));
        let frames = |enc: &mut Encoder, out: &mut Vec<u8>| {
            out.clear();
            for e in evs {
                enc.syscall(out, e);
            }
        };
        g.bench_function(format!("{name}_frames"), |b| {
            let (mut enc, mut out) = (Encoder::new(), Vec::with_capacity(1 << 20));
            b.iter(|| {
                frames(&mut enc, &mut out);
                black_box(out.len())
            })
        });
        g.bench_function(format!("{name}_frames_zstd"), |b| {
            let (mut enc, mut out) = (Encoder::new(), Vec::with_capacity(1 << 20));
            let mut z = zstd::bulk::Compressor::new(-3).expect("zstd");
            b.iter(|| {
                frames(&mut enc, &mut out);
                black_box(z.compress(&out).expect("compress").len())
            })
        });
    }
    g.finish();
}

fn filter(c: &mut Criterion) {
    let evs = common::events(1024);
    let mut g = c.benchmark_group("filter");
    g.throughput(Throughput::Elements(evs.len() as u64));
    let comm = UserFilter::new(&[], Some("^(nginx|curl)$"), None, None).expect("valid regex");
    let none = ContainerMap::default();
    g.bench_function("comm_regex", |b| {
        b.iter(|| {
            evs.iter()
                .filter(|e| comm.matches(black_box(e), &none))
                .count()
        })
    });
    // The filter language: comparisons only, a regex on the path, and a
    // field that renders the argument text first.
    for (name, text) in [
        (
            "expr_syscall_errno",
            "syscall in (openat, read) and errno != 0",
        ),
        (
            "expr_comm_path_regex",
            "comm == nginx or path ~ '^/usr/lib/'",
        ),
        ("expr_duration_pid", "duration > 500ns and pid != 1003"),
        ("expr_args_text", "args ~ 'libc'"),
    ] {
        let f = Filter::parse(text).expect("valid filter");
        g.bench_function(name, |b| {
            b.iter(|| {
                evs.iter()
                    .filter(|e| f.matches(black_box(e), &NoContainers))
                    .count()
            })
        });
    }
    g.finish();
}

fn render(c: &mut Criterion) {
    let mut app = common::app_with(1_000_000);
    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("test terminal");
    let mut g = c.benchmark_group("render");
    g.sample_size(50);
    g.bench_function("frame_200x50_1M_retained", |b| {
        b.iter(|| {
            term.draw(|f| app.render(f)).expect("draw");
        })
    });
    g.finish();
}

criterion_group!(benches, decode, record, filter, render);
criterion_main!(benches);
