//! Arbitrary bytes as a frame from an agent: decoding must return an error
//! or checked events, never panic, and what decodes must render
//! terminal-safe and encode back to the same events, in either batch form.
#![no_main]
use libfuzzer_sys::fuzz_target;
use systrace_tui::model::{args, escape, syscalls::Arch};
use systrace_tui::wire::{self, Decoded};

fuzz_target!(|data: &[u8]| {
    if let Ok((_frame, Some(Decoded::Batch(evs)))) = wire::decode_frame(data) {
        for ev in &evs {
            let line = args::strace_line(ev);
            assert!(escape::is_safe(&line), "{line:?}");
            assert!(escape::is_safe(&ev.comm()));
        }
        let again = wire::decode_batch(wire::encode_batch(&evs), Arch::native(), 0).unwrap();
        assert_eq!(again, evs);
        let again = wire::decode_batch(wire::encode_columns(&evs), Arch::native(), 0).unwrap();
        assert_eq!(again, evs);
    }
});
