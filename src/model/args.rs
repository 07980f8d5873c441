//! Rendering of arguments and return values in strace's notation, and their
//! structured (JSON) form for the export format. Both come from the typed
//! decoder in `model::decode`, so they always agree.

use std::fmt::Write;

use super::decode;
use super::errno;
use super::event::TraceEvent;
use super::jsonw;

/// Number of arguments shown for this event.
pub fn arg_count(ev: &TraceEvent) -> usize {
    decode::decode(ev).len()
}

/// Appends the argument list (without parentheses).
pub fn format_args(ev: &TraceEvent, out: &mut String) {
    for (i, a) in decode::decode_iter(ev).enumerate() {
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

/// `args_json` written straight into `out`: the bytes serializing it gives
/// (keys sorted as serde_json's `Map` keeps them, a repeated name's last
/// value winning), without building the `Value` on the export's hot path.
pub fn write_args_json(ev: &TraceEvent, out: &mut Vec<u8>) {
    let mut args = decode::decode(ev);
    // Stable: among equal names the last one stays last, and is kept.
    args.sort_by_key(|a| a.name);
    out.push(b'{');
    let mut first = true;
    for (i, a) in args.iter().enumerate() {
        if args.get(i + 1).is_some_and(|next| next.name == a.name) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        jsonw::str(out, a.name);
        out.push(b':');
        a.value.write_json(out);
    }
    out.push(b'}');
}

/// Events that exercise every decoder path: each syscall of both tables with
/// zero, all-ones, typical and random registers, and captures of every kind
/// (UTF-8 with escapes, invalid UTF-8, cut-short strings, argv, buffers,
/// each sockaddr family, fd paths). For tests of the export format.
#[cfg(test)]
pub(crate) fn varied_events() -> Vec<TraceEvent> {
    use super::raw::*;
    use super::syscalls::{self, Arch, ArgKind};
    use super::testing::EventBuilder;
    let inet = [2u8, 0, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut inet6 = vec![10u8, 0, 0x1f, 0x90, 0, 0, 0, 1];
    inet6.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    inet6.extend_from_slice(&[3, 0, 0, 0]);
    let mut netlink = vec![16u8, 0, 0, 0];
    netlink.extend_from_slice(&7u32.to_ne_bytes());
    netlink.extend_from_slice(&5u32.to_ne_bytes());
    let payloads: Vec<Vec<u8>> = vec![
        b"/etc/passwd".to_vec(),
        "\u{e9}\"q\\\n\t\u{1}\u{1b}[31m\u{7f}".as_bytes().to_vec(),
        b"/x\xff\xfe\0y".to_vec(),
        vec![b'a'; 4095],
        vec![1, 0, 0, 0],
        b"ls\0-l\0\xff\0".to_vec(),
        Vec::new(),
        inet.to_vec(),
        inet6,
        b"\x01\x00/run/sock\0\0".to_vec(),
        b"\x01\x00\0abstract\x01".to_vec(),
        b"\x01\x00".to_vec(),
        netlink,
        b"\x11\x00ab\xff".to_vec(),
        b"\x02\x00\x01".to_vec(),
    ];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut evs = Vec::new();
    for arch in Arch::ALL {
        for info in syscalls::table(arch) {
            for (k, p) in payloads.iter().enumerate() {
                let regs = match k % 5 {
                    0 => [0; 6],
                    1 => [u64::MAX; 6],
                    2 => [0xffff_ff9c, 0x7ffd_1234_5000, 0o2000100, 0o100644, 3, 4],
                    3 => std::array::from_fn(|_| rnd() % 64),
                    _ => std::array::from_fn(|_| rnd()),
                };
                let mut chunks = Vec::new();
                for (i, spec) in info.args.iter().enumerate() {
                    let kind = match spec.kind {
                        ArgKind::Path | ArgKind::Str => CAP_STR,
                        ArgKind::BufIn => CAP_BUF_IN,
                        ArgKind::BufOut => CAP_BUF_OUT,
                        ArgKind::Argv => CAP_ARGV,
                        ArgKind::Sockaddr if k % 2 == 0 => CAP_SOCKADDR,
                        ArgKind::Sockaddr => CAP_SOCKADDR_OUT,
                        ArgKind::Fd | ArgKind::DirFd => CAP_FD_PATH,
                        _ => continue,
                    };
                    chunks.push(Chunk {
                        arg: i as u8,
                        kind,
                        data: p,
                    });
                }
                chunks.push(Chunk {
                    arg: super::decode::RET_SLOT,
                    kind: CAP_FD_PATH,
                    data: b"/dev/null",
                });
                evs.push(
                    EventBuilder::new()
                        .arch(arch)
                        .nr(info.nr)
                        .ret([-2, 0, 5, 0x7f00_0000_1000, -4095][k % 5])
                        .args(&regs)
                        .flags(if k % 3 == 0 { F_TRUNCATED } else { 0 })
                        .chunks(&chunks)
                        .build(),
                );
            }
        }
        // A number no table knows.
        evs.push(
            EventBuilder::new()
                .arch(arch)
                .nr(100_000)
                .args(&[1, 0, u64::MAX, 3, 4, 5])
                .build(),
        );
    }
    evs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::raw::{Chunk, CAP_ARGV, CAP_STR};
    use crate::model::testing::EventBuilder;

    fn ev(nr: u32, ret: i64, args: [u64; 6], chunks: &[Chunk<'_>]) -> TraceEvent {
        EventBuilder::new()
            .nr(nr)
            .ret(ret)
            .args(&args)
            .chunks(chunks)
            .build()
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
        let e = EventBuilder::new()
            .nr(59)
            .args(&[1, 2, 0x7ffd_0000])
            .path(0, "/bin/ls")
            .chunk(1, CAP_ARGV, "ls\0-l\0")
            .build();
        assert_eq!(
            strace_line(&e),
            "execve(\"/bin/ls\", [\"ls\", \"-l\"], 0x7ffd0000) = 0"
        );
        assert_eq!(args_json(&e)["argv"], serde_json::json!(["ls", "-l"]));
    }

    #[test]
    fn streamed_args_are_the_value_form_byte_for_byte() {
        let evs = varied_events();
        assert!(evs.len() > 5000, "{}", evs.len());
        let mut out = Vec::new();
        for e in &evs {
            out.clear();
            write_args_json(e, &mut out);
            let want = serde_json::to_string(&args_json(e)).unwrap();
            assert_eq!(
                std::str::from_utf8(&out).unwrap(),
                want,
                "{}",
                strace_line(e)
            );
        }
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
