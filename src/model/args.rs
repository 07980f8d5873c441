//! Rendering of arguments and return values in strace's notation, and their
//! structured (JSON) form for the export format. Both come from the typed
//! decoder in `model::decode`, so they always agree.

use std::fmt::Write;

use super::decode;
use super::errno;
use super::event::TraceEvent;

/// Number of arguments shown for this event.
pub fn arg_count(ev: &TraceEvent) -> usize {
    decode::decode(ev).len()
}

/// Appends the argument list (without parentheses).
pub fn format_args(ev: &TraceEvent, out: &mut String) {
    for (i, a) in decode::decode(ev).iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        a.value.write(out);
    }
}

/// The result column: `0`, `3`, `0x7f..` (mmap), `-1 ENOENT`, or `?` for
/// calls that never return.
pub fn format_result(ev: &TraceEvent) -> String {
    decode::format_return(ev)
}

/// A whole strace-style line: `openat(AT_FDCWD, "/x", O_RDONLY) = -1 ENOENT (No such file or directory)`.
pub fn strace_line(ev: &TraceEvent) -> String {
    let mut s = String::with_capacity(96);
    s.push_str(&ev.name());
    s.push('(');
    format_args(ev, &mut s);
    s.push_str(") = ");
    s.push_str(&format_result(ev));
    if let Some(e) = ev.errno() {
        if let Some(d) = errno::description(e) {
            let _ = write!(s, " ({d})");
        }
    }
    s
}

/// The decoded arguments as a JSON object, argument name -> value:
/// numbers as numbers; pointers and raw values as `"0x.."` strings; NULL as
/// null; named constants as strings; flags as a list of names in strace's
/// order (leftover bits as one `"0x.."` entry; `[]` is 0); modes as octal
/// strings (`"0644"`); strings and buffers as strings (UTF-8 as is, other
/// bytes escaped), or `{"data", "truncated": true}` when cut short; argv as
/// a list of strings (`{"items", "truncated": true}` when cut short);
/// sockaddrs as `{family, addr, port}` or `{family, path}`; fds with a known
/// path as `{fd, path}`.
pub fn args_json(ev: &TraceEvent) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for a in decode::decode(ev) {
        m.insert(a.name.to_string(), a.value.json());
    }
    serde_json::Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::raw::{encode_chunks, Chunk, RawEvent, CAP_ARGV, CAP_STR};
    use crate::model::syscalls::Arch;

    fn ev(nr: u32, ret: i64, args: [u64; 6], chunks: &[Chunk<'_>]) -> TraceEvent {
        let tail = encode_chunks(chunks);
        let raw = RawEvent {
            nr,
            ret,
            args,
            tail_len: tail.len() as u16,
            ..Default::default()
        };
        TraceEvent::from_raw(&raw, &tail, Arch::X86_64)
    }

    #[test]
    fn failed_open_reads_like_strace() {
        let e = ev(
            257,
            -2,
            [0xffff_ff9c, 0x1000, 0o2000000, 0, 0, 0],
            &[Chunk {
                arg: 1,
                kind: CAP_STR,
                data: b"/x\n",
            }],
        );
        assert_eq!(
            strace_line(&e),
            "openat(AT_FDCWD, \"/x\\n\", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)"
        );
        let j = args_json(&e);
        assert_eq!(j["dfd"], "AT_FDCWD");
        assert_eq!(j["filename"], "/x\n");
        assert_eq!(j["flags"], serde_json::json!(["O_RDONLY", "O_CLOEXEC"]));
        assert!(j.get("mode").is_none(), "no O_CREAT: mode not shown");
    }

    #[test]
    fn argv_is_a_list() {
        let e = ev(
            59,
            0,
            [1, 2, 0x7ffd_0000, 0, 0, 0],
            &[
                Chunk {
                    arg: 0,
                    kind: CAP_STR,
                    data: b"/bin/ls",
                },
                Chunk {
                    arg: 1,
                    kind: CAP_ARGV,
                    data: b"ls\0-l\0",
                },
            ],
        );
        assert_eq!(
            strace_line(&e),
            "execve(\"/bin/ls\", [\"ls\", \"-l\"], 0x7ffd0000) = 0"
        );
        assert_eq!(args_json(&e)["argv"], serde_json::json!(["ls", "-l"]));
    }

    #[test]
    fn results() {
        assert_eq!(format_result(&ev(110, 42, [0; 6], &[])), "42");
        assert_eq!(
            format_result(&ev(9, 0x7f00_0000_1000, [0; 6], &[])),
            "0x7f0000001000"
        );
        // brk returns an address even when it is small.
        assert_eq!(format_result(&ev(12, 0x5000, [0; 6], &[])), "0x5000");
        assert_eq!(format_result(&ev(1, -9, [0; 6], &[])), "-1 EBADF");
        // A large size stays decimal.
        assert_eq!(
            format_result(&ev(0, 0x1_0000_0000, [0; 6], &[])),
            "4294967296"
        );
    }
}
