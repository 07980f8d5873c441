//! Arbitrary bytes as the frames of a binary session (`*.strc`, after its
//! header line; uncompressed, so every input reaches the frame parser):
//! reading must give events or one error line naming a record, never panic;
//! with --skip-bad as well.
#![no_main]
use libfuzzer_sys::fuzz_target;
use systrace_tui::session::reader::read_all;

const HEADER: &str = concat!(
    r#"{"type":"header","format":"systrace-tui-session","version":2,"tool_version":"0","#,
    r#""host":"h","kernel":"6.1","arch":"x86_64","boot_time_ns":0,"boot_time":"","#,
    r#""start_time":"","filters":{},"records":"binary-2"}"#,
    "\n"
);

fuzz_target!(|data: &[u8]| {
    let mut input = HEADER.as_bytes().to_vec();
    input.extend_from_slice(data);
    for skip_bad in [false, true] {
        if let Err(e) = read_all(&input, skip_bad) {
            assert!(!e.to_string().contains('\n'));
        }
    }
});
