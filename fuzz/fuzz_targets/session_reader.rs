//! Arbitrary bytes as a session file (plain or zstd): reading must give
//! events or an error naming a line, never panic; with --skip-bad as well.
#![no_main]
use libfuzzer_sys::fuzz_target;
use systrace_tui::session::reader::read_all;

fuzz_target!(|data: &[u8]| {
    for skip_bad in [false, true] {
        if let Err(e) = read_all(data, skip_bad) {
            let _ = e.to_string();
        }
    }
});
