//! Events for the benches: ring-buffer records shaped like a busy machine's
//! (most calls without captured data, some with a path), and an App that
//! holds them.

#![allow(dead_code)] // each bench uses a different part

use systrace_tui::clock::Clock;
use systrace_tui::consumer::tui::app::{App, Source};
use systrace_tui::consumer::tui::theme::Theme;
use systrace_tui::model::event::{Event, TraceEvent};
use systrace_tui::model::raw::Identities;
use systrace_tui::model::syscalls::Arch;
use systrace_tui::model::testing::EventBuilder;

const COMMS: [&str; 4] = ["nginx", "postgres", "bash", "workload"];

/// Call `i` of a repeating mix: getppid, read, an openat with a path
/// (ENOENT every other time), close. So a quarter carry a tail. Seven
/// processes, each with one command name (one identity each).
fn call(i: u64) -> EventBuilder {
    let (name, ret, path): (&str, i64, Option<&str>) = match i % 4 {
        0 => ("getppid", 4242, None),
        1 => ("read", 512, None),
        2 if i % 8 == 2 => ("openat", -2, Some("/etc/ld.so.preload")),
        2 => ("openat", 3, Some("/usr/lib/x86_64-linux-gnu/libc.so.6")),
        _ => ("close", 0, None),
    };
    let pid = 1000 + (i % 7) as u32;
    let b = EventBuilder::named(name)
        .arch(Arch::native())
        .ret(ret)
        .start(1_000_000_000 + i * 1_000)
        .duration(700)
        .args(&[3, 0x7ffd_0000_1000, 512])
        .pid(pid)
        .uid(1000)
        .gid(1000)
        .cgroup(4242)
        .comm(COMMS[(pid as usize) % COMMS.len()]);
    match path {
        Some(p) => b.path(1, p),
        None => b,
    }
}

/// Ring-buffer call record `i` of the mix (identity generation 1 of its
/// thread; [`identities`] knows them all).
pub fn record(i: u64) -> Vec<u8> {
    call(i).record()
}

/// The identity records the mix's calls are made under, taken in.
pub fn identities() -> Identities {
    let mut ids = Identities::new();
    for i in 0..7 {
        ids.push(&call(i).ident()).expect("identity record");
    }
    ids
}

/// Decodes a call record of the mix.
pub fn decode(ids: &mut Identities, bytes: &[u8]) -> TraceEvent {
    TraceEvent::from_record(ids, bytes, Arch::native())
        .expect("valid record")
        .expect("a call record")
}

/// Decoded events of the same mix.
pub fn events(n: u64) -> Vec<TraceEvent> {
    let mut ids = identities();
    (0..n).map(|i| decode(&mut ids, &record(i))).collect()
}

/// An App (colors on, as a user sees it) retaining `n` events of the mix.
pub fn app_with(n: usize) -> App {
    let mut app = App::new(
        n,
        Theme { color: true },
        Clock { boot_unix_ns: 0 },
        Source::Live,
    );
    let mut left = n as u64;
    let mut i = 0;
    let mut ids = identities();
    while left > 0 {
        let k = left.min(4096);
        app.ingest_batch(
            (i..i + k)
                .map(|j| Event::Syscall(decode(&mut ids, &record(j))))
                .collect(),
        );
        i += k;
        left -= k;
    }
    app
}

/// Event `i` of a more varied mix, for the re-filter and view timings: file
/// calls with paths (some failing), reads and writes, a refused connect,
/// getppid; 4 commands, 50 processes, durations from 200 ns to 185 us.
pub fn varied_event(i: u64) -> TraceEvent {
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
    let b = EventBuilder::named(name)
        .ret(ret)
        .start(1_000_000_000 + i * 1000)
        .duration(200 + (i % 5000) * 37)
        .pid(1000 + (i % 50) as u32)
        .args(&[0xffff_ff9c, 0x1000, 0x80000])
        .comm(["nginx", "cat", "postgres", "sh"][(i % 4) as usize]);
    match path {
        Some(p) => b.path(1, p),
        None => b,
    }
    .build()
}

/// An App (colors on) retaining `n` events of the varied mix.
pub fn app_with_varied(n: u64) -> App {
    let mut app = App::new(
        n as usize,
        Theme { color: true },
        Clock { boot_unix_ns: 0 },
        Source::Live,
    );
    let mut i = 0;
    while i < n {
        let k = (n - i).min(4096);
        app.ingest_batch(
            (i..i + k)
                .map(|j| Event::Syscall(varied_event(j)))
                .collect(),
        );
        i += k;
    }
    app
}
