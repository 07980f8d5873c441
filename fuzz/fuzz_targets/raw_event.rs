//! Arbitrary bytes as a ring-buffer record: parsing must return an error or
//! an event, never panic, and whatever parses must render terminal-safe.
#![no_main]
use libfuzzer_sys::fuzz_target;
use systrace_tui::model::{args, escape, event::TraceEvent, syscalls::Arch};

fuzz_target!(|data: &[u8]| {
    for arch in Arch::ALL {
        if let Ok(ev) = TraceEvent::from_bytes(data, arch) {
            let line = args::strace_line(&ev);
            assert!(escape::is_safe(&line), "{line:?}");
            assert!(escape::is_safe(&ev.comm()));
            let _ = args::args_json(&ev);
        }
    }
});
