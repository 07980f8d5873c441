//! Rendering of arguments and return values in strace's notation.
//! Captured strings are shown quoted and escaped; other arguments in hex.

use std::fmt::Write;

use super::errno;
use super::escape;
use super::event::TraceEvent;
use super::raw::{CAP_ARGV, CAP_BUF_IN, CAP_BUF_OUT, CAP_STR};

/// How many bytes of a string or buffer a line shows.
pub const SHOW_STR: usize = 256;

/// Number of arguments to print for this event.
pub fn arg_count(ev: &TraceEvent) -> usize {
    ev.syscall().map_or(6, |s| s.args.len())
}

/// Appends the argument list (without parentheses).
pub fn format_args(ev: &TraceEvent, out: &mut String) {
    let n = arg_count(ev);
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        format_arg(ev, i, out);
    }
}

fn format_arg(ev: &TraceEvent, i: usize, out: &mut String) {
    let argv = ev
        .chunks()
        .find(|c| c.kind == CAP_ARGV && c.arg as usize == i);
    if let Some(c) = argv {
        out.push('[');
        let mut parts = c.data.split(|&b| b == 0).peekable();
        let mut first = true;
        while let Some(p) = parts.next() {
            // The data ends with a NUL, so the last split is empty.
            if p.is_empty() && parts.peek().is_none() {
                break;
            }
            if !first {
                out.push_str(", ");
            }
            first = false;
            out.push_str(&escape::quoted(p, SHOW_STR, false));
        }
        out.push(']');
        if ev.truncated() {
            out.push_str("...");
        }
        return;
    }
    if let Some(c) = ev.chunk(i as u8) {
        match c.kind {
            CAP_STR | CAP_BUF_IN | CAP_BUF_OUT => {
                out.push_str(&escape::quoted(c.data, SHOW_STR, ev.truncated()));
                return;
            }
            _ => {}
        }
    }
    let _ = write!(out, "{:#x}", ev.args[i]);
}

/// The result column: `0`, `3`, `-1 ENOENT`, or `?` for calls that never return.
pub fn format_result(ev: &TraceEvent) -> String {
    if !ev.returns() {
        return "?".to_string();
    }
    match ev.errno() {
        Some(e) => format!("-1 {}", errno::name(e).unwrap_or("E?")),
        None if ev.ret > 0xffff_ffff || ev.ret < -0xffff_ffff => format!("{:#x}", ev.ret),
        None => ev.ret.to_string(),
    }
}

/// A whole strace-style line: `openat(0xffffff9c, "/x", 0) = -1 ENOENT (No such file or directory)`.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::raw::{encode_chunks, Chunk, RawEvent};
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
            [0xffff_ff9c, 0x1000, 0, 0, 0, 0],
            &[Chunk {
                arg: 1,
                kind: CAP_STR,
                data: b"/x\n",
            }],
        );
        let line = strace_line(&e);
        assert!(
            line.starts_with("openat(0xffffff9c, \"/x\\n\", 0x0"),
            "{line}"
        );
        assert!(
            line.ends_with(") = -1 ENOENT (No such file or directory)"),
            "{line}"
        );
    }

    #[test]
    fn argv_is_a_list() {
        let e = ev(
            59,
            0,
            [0; 6],
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
        let line = strace_line(&e);
        assert!(
            line.starts_with("execve(\"/bin/ls\", [\"ls\", \"-l\"], "),
            "{line}"
        );
        assert!(line.ends_with(" = 0"), "{line}");
    }

    #[test]
    fn results() {
        assert_eq!(format_result(&ev(110, 42, [0; 6], &[])), "42");
        assert_eq!(
            format_result(&ev(9, 0x7f00_0000_1000, [0; 6], &[])),
            "0x7f0000001000"
        );
        assert_eq!(format_result(&ev(1, -9, [0; 6], &[])), "-1 EBADF");
    }
}
