//! Arbitrary bytes as a sequence of ring-buffer records (each a u16 length,
//! native order, then that many bytes), so identities and the calls made
//! under them meet: parsing and joining must return an error or an event,
//! never panic, and whatever parses must render terminal-safe.
#![no_main]
use libfuzzer_sys::fuzz_target;
use systrace_tui::model::raw::Identities;
use systrace_tui::model::{args, escape, event::TraceEvent, syscalls::Arch};

fuzz_target!(|data: &[u8]| {
    for arch in Arch::ALL {
        let mut ids = Identities::new();
        let mut rest = data;
        while rest.len() >= 2 {
            let n = (u16::from_ne_bytes([rest[0], rest[1]]) as usize).min(rest.len() - 2);
            let rec = &rest[2..2 + n];
            rest = &rest[2 + n..];
            if let Ok(Some(ev)) = TraceEvent::from_record(&mut ids, rec, arch) {
                let line = args::strace_line(&ev);
                assert!(escape::is_safe(&line), "{line:?}");
                assert!(escape::is_safe(&ev.comm()));
                let _ = args::args_json(&ev);
            }
        }
    }
});
