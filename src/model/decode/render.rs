//! Values rendered: strace's notation and JSON, modes, the return value
//! and poll's decoration.

use super::*;

pub(super) const S_IFMT: u32 = 0o170000;
pub(super) const FILE_TYPES: Names = &[
    (0o140000, "S_IFSOCK"),
    (0o120000, "S_IFLNK"),
    (0o100000, "S_IFREG"),
    (0o060000, "S_IFBLK"),
    (0o040000, "S_IFDIR"),
    (0o020000, "S_IFCHR"),
    (0o010000, "S_IFIFO"),
];

pub(super) fn write_mode(out: &mut String, m: u32) {
    let ty = m & S_IFMT;
    if ty != 0 {
        match consts::name_of(FILE_TYPES, ty.into()) {
            Some(n) => {
                out.push_str(n);
                out.push('|');
            }
            None => {
                let _ = write!(out, "{ty:#o}|");
            }
        }
    }
    // C's "%#03o": a leading 0, at least three digits.
    let o = format!("0{:o}", m & !S_IFMT);
    let _ = write!(out, "{o:0>3}");
}

pub(super) fn write_sym_mode(out: &mut String, m: u32) {
    let ty = m & S_IFMT;
    if ty != 0 {
        match consts::name_of(FILE_TYPES, ty.into()) {
            Some(n) => out.push_str(n),
            None => {
                let _ = write!(out, "{ty:#o}");
            }
        }
        out.push('|');
    }
    for (bit, name) in [
        (0o4000, "S_ISUID"),
        (0o2000, "S_ISGID"),
        (0o1000, "S_ISVTX"),
    ] {
        if m & bit != 0 {
            out.push_str(name);
            out.push('|');
        }
    }
    let o = format!("0{:o}", m & 0o777);
    let _ = write!(out, "{o:0>3}");
}

type Named = (u32, Option<&'static str>);

/// FUTEX_WAKE_OP's val3 split as the kernel's FUTEX_OP() packs it: the
/// OPARG_SHIFT bit, the operation, its argument, the comparison and its
/// argument.
fn futex_wake_op_parts(v: u32) -> (bool, Named, u32, Named, u32) {
    const OPS: [&str; 5] = [
        "FUTEX_OP_SET",
        "FUTEX_OP_ADD",
        "FUTEX_OP_OR",
        "FUTEX_OP_ANDN",
        "FUTEX_OP_XOR",
    ];
    const CMPS: [&str; 6] = [
        "FUTEX_OP_CMP_EQ",
        "FUTEX_OP_CMP_NE",
        "FUTEX_OP_CMP_LT",
        "FUTEX_OP_CMP_LE",
        "FUTEX_OP_CMP_GT",
        "FUTEX_OP_CMP_GE",
    ];
    let op = (v >> 28) & 7;
    let cmp = (v >> 24) & 0xf;
    (
        v >> 31 != 0,
        (op, OPS.get(op as usize).copied()),
        (v >> 12) & 0xfff,
        (cmp, CMPS.get(cmp as usize).copied()),
        v & 0xfff,
    )
}

/// strace's form of FUTEX_WAKE_OP's val3.
fn write_futex_wake_op(out: &mut String, v: u32) {
    let (shift, op, oparg, cmp, cmparg) = futex_wake_op_parts(v);
    if shift {
        out.push_str("FUTEX_OP_OPARG_SHIFT<<28|");
    }
    let name_or_hex = |out: &mut String, (v, name): (u32, Option<&str>)| match name {
        Some(n) => out.push_str(n),
        None => write_hex(out, v.into()),
    };
    name_or_hex(out, op);
    out.push_str("<<28|");
    write_hex(out, oparg.into());
    out.push_str("<<12|");
    name_or_hex(out, cmp);
    out.push_str("<<24|");
    write_hex(out, cmparg.into());
}

/// C's `%#x`: zero has no prefix.
pub(super) fn write_hex(out: &mut String, n: u64) {
    if n == 0 {
        out.push('0');
    } else {
        let _ = write!(out, "{n:#x}");
    }
}

pub(super) fn mode_string(m: u32) -> String {
    let mut s = String::new();
    write_mode(&mut s, m);
    s
}

impl Value<'_> {
    /// Appends the value in strace's notation.
    pub fn write(&self, out: &mut String) {
        match self {
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::UInt(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Hex(n) => write_hex(out, *n),
            Value::Null => out.push_str("NULL"),
            Value::Mode(m) => write_mode(out, *m),
            Value::Sym(s) => out.push_str(s),
            Value::Flags(f) if f.is_empty() => out.push('0'),
            Value::Flags(f) => {
                for (k, part) in f.iter().enumerate() {
                    if k > 0 {
                        out.push('|');
                    }
                    match part {
                        Flag::Name(n) => out.push_str(n),
                        Flag::Bits(b) => write_hex(out, *b),
                    }
                }
            }
            Value::Str { data, truncated } => escape::quoted_into(out, data, STR_MAX, *truncated),
            Value::Argv { items, truncated } => {
                out.push('[');
                for (k, it) in items.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    escape::quoted_into(out, it, STR_MAX, false);
                }
                if *truncated {
                    out.push_str(if items.is_empty() { "..." } else { ", ..." });
                }
                out.push(']');
            }
            Value::Sockaddr(sa) => sa.write(out),
            Value::Fd { fd, path } => {
                let _ = write!(out, "{fd}<");
                // strace -y leaves the path unquoted; escape what is hostile.
                escape::plain_into(out, path, STR_MAX);
                out.push('>');
            }
            Value::IntArray(v) => {
                out.push('[');
                for (k, n) in v.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{n}");
                }
                out.push(']');
            }
            Value::Struct { fields, shown } => {
                out.push('{');
                for (k, (name, v)) in fields.iter().take(*shown).enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(name);
                    out.push('=');
                    v.write(out);
                }
                if *shown < fields.len() {
                    out.push_str(if *shown == 0 { "..." } else { ", ..." });
                }
                out.push('}');
            }
            Value::List { items, more } => {
                out.push('[');
                for (k, v) in items.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    v.write(out);
                }
                if *more {
                    out.push_str(if items.is_empty() { "..." } else { ", ..." });
                }
                out.push(']');
            }
            Value::SigSet { neg, sigs } => {
                if *neg {
                    out.push('~');
                }
                out.push('[');
                for (k, s) in sigs.iter().enumerate() {
                    if k > 0 {
                        out.push(' ');
                    }
                    out.push_str(s);
                }
                out.push(']');
            }
            Value::Epoch(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Ticks(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Dev { major, minor } => {
                out.push_str("makedev(");
                write_hex(out, *major);
                out.push_str(", ");
                write_hex(out, *minor);
                out.push(')');
            }
            Value::Wait(s) => structs::wait_text(*s, out),
            Value::InOut(a, b) => {
                let _ = write!(out, "[{a} => {b}]");
            }
            Value::Changed(a, b) => {
                let _ = write!(out, "{a} => {b}");
            }
            Value::Dirents { addr, entries } => {
                write_hex(out, *addr);
                let _ = write!(out, " /* {entries} entries */");
            }
            Value::Kib(n) => {
                let _ = write!(out, "{}*1024", n / 1024);
            }
            Value::SymMode(m) => {
                write_sym_mode(out, *m);
            }
            Value::Named(n, v) => {
                out.push_str(n);
                out.push('=');
                v.write(out);
            }
            Value::HexBytes { data, truncated } => {
                out.push('"');
                for b in data.iter() {
                    let _ = write!(out, "\\x{b:02x}");
                }
                out.push('"');
                if *truncated {
                    out.push_str("...");
                }
            }
            Value::FutexWakeOp(v) => write_futex_wake_op(out, *v),
            Value::FdList(v) => {
                out.push('[');
                for (k, n) in v.iter().enumerate() {
                    if k > 0 {
                        out.push(' ');
                    }
                    n.write(out);
                }
                out.push(']');
            }
        }
    }

    /// A wait status as an object: `{"exited": 3}`, `{"signaled": "SIGKILL",
    /// "core_dumped": true}`, `{"stopped": "SIGSTOP"}`.
    fn wait_json(s: i32) -> serde_json::Value {
        use serde_json::json;
        let sig = |n: i32| match signal(n as u64) {
            Value::Sym(s) => json!(s),
            _ => json!(n),
        };
        match s & 0x7f {
            0 => json!({"exited": (s >> 8) & 0xff}),
            0x7f => json!({"stopped": sig((s >> 8) & 0xff)}),
            low => json!({"core_dumped": s & 0x80 != 0, "signaled": sig(low)}),
        }
    }

    /// The structured form for the export format.
    pub fn json(&self) -> serde_json::Value {
        use serde_json::{json, Value as J};
        match self {
            Value::Int(n) => json!(n),
            Value::UInt(n) => json!(n),
            Value::Hex(n) => J::String(format!("{n:#x}")),
            Value::Null => J::Null,
            Value::Mode(m) => J::String(mode_string(*m)),
            Value::Sym(s) => J::String((*s).to_string()),
            Value::Flags(f) => J::Array(
                f.iter()
                    .map(|p| match p {
                        Flag::Name(n) => J::String((*n).to_string()),
                        Flag::Bits(b) => J::String(format!("{b:#x}")),
                    })
                    .collect(),
            ),
            Value::Str { data, truncated } => {
                let s = json_bytes(data);
                if *truncated {
                    json!({"data": s, "truncated": true})
                } else {
                    J::String(s)
                }
            }
            Value::Argv { items, truncated } => {
                let list: Vec<J> = items.iter().map(|i| J::String(json_bytes(i))).collect();
                if *truncated {
                    json!({"items": list, "truncated": true})
                } else {
                    J::Array(list)
                }
            }
            Value::Sockaddr(sa) => sa.json(),
            Value::Fd { fd, path } => json!({"fd": fd, "path": json_bytes(path)}),
            Value::IntArray(v) => json!(v),
            Value::Struct { fields, .. } => J::Object(
                fields
                    .iter()
                    .map(|(n, v)| ((*n).to_string(), v.json()))
                    .collect(),
            ),
            Value::List { items, more } => {
                let list: Vec<J> = items.iter().map(Value::json).collect();
                if *more {
                    json!({"items": list, "truncated": true})
                } else {
                    J::Array(list)
                }
            }
            Value::SigSet { neg, sigs } => {
                if *neg {
                    json!({ "all_but": sigs })
                } else {
                    json!(sigs)
                }
            }
            Value::Epoch(n) => json!(n),
            Value::Ticks(n) => json!(n),
            Value::Dev { major, minor } => json!({"major": major, "minor": minor}),
            Value::Wait(s) => Value::wait_json(*s),
            Value::InOut(a, b) | Value::Changed(a, b) => json!({"in": a, "out": b}),
            Value::Dirents { addr, entries } => {
                json!({"address": format!("{addr:#x}"), "entries": entries})
            }
            Value::FdList(v) => J::Array(v.iter().map(Value::json).collect()),
            Value::FutexWakeOp(v) => {
                let (shift, op, oparg, cmp, cmparg) = futex_wake_op_parts(*v);
                let name = |n: Option<&str>, v: u32| n.map_or(json!(v), |n| json!(n));
                json!({
                    "op": name(op.1, op.0),
                    "oparg_shift": shift,
                    "oparg": oparg,
                    "cmp": name(cmp.1, cmp.0),
                    "cmparg": cmparg,
                })
            }
            Value::Named(_, v) => v.json(),
            Value::Kib(n) => json!(n),
            Value::SymMode(m) => J::String(mode_string(*m)),
            Value::HexBytes { data, truncated } => Value::Str {
                data,
                truncated: *truncated,
            }
            .json(),
        }
    }

    /// `json()` written straight into `out`: the same bytes serde_json
    /// writes for it (objects with their keys sorted, as its `Map` keeps
    /// them), without building the `serde_json::Value`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Value::Int(n) => jsonw::int(out, *n),
            Value::UInt(n) => jsonw::uint(out, *n),
            Value::Hex(n) => jsonw::hex_str(out, *n),
            Value::Null => out.extend_from_slice(b"null"),
            Value::Mode(m) => jsonw::str(out, &mode_string(*m)),
            Value::Sym(s) => jsonw::str(out, s),
            Value::Flags(f) => jsonw::list(out, f, |out, p| match p {
                Flag::Name(n) => jsonw::str(out, n),
                Flag::Bits(b) => jsonw::hex_str(out, *b),
            }),
            Value::Str { data, truncated } => {
                if *truncated {
                    out.extend_from_slice(b"{\"data\":");
                    jsonw::bytes_str(out, data);
                    out.extend_from_slice(b",\"truncated\":true}");
                } else {
                    jsonw::bytes_str(out, data);
                }
            }
            Value::Argv { items, truncated } => {
                if *truncated {
                    out.extend_from_slice(b"{\"items\":");
                }
                jsonw::list(out, items, |out, i| jsonw::bytes_str(out, i));
                if *truncated {
                    out.extend_from_slice(b",\"truncated\":true}");
                }
            }
            Value::Sockaddr(sa) => sa.write_json(out),
            Value::Fd { fd, path } => {
                out.extend_from_slice(b"{\"fd\":");
                jsonw::int(out, *fd);
                out.extend_from_slice(b",\"path\":");
                jsonw::bytes_str(out, path);
                out.push(b'}');
            }
            Value::IntArray(v) => jsonw::list(out, v, |out, n| jsonw::int(out, *n)),
            Value::Struct { fields, .. } => {
                // Keys sorted, as serde_json's Map keeps them.
                let mut f: Vec<&(&str, Value)> = fields.iter().collect();
                f.sort_by_key(|(n, _)| *n);
                out.push(b'{');
                for (k, (n, v)) in f.iter().enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    jsonw::str(out, n);
                    out.push(b':');
                    v.write_json(out);
                }
                out.push(b'}');
            }
            Value::List { items, more } => {
                if *more {
                    out.extend_from_slice(b"{\"items\":");
                }
                jsonw::list(out, items, |out, v| v.write_json(out));
                if *more {
                    out.extend_from_slice(b",\"truncated\":true}");
                }
            }
            Value::FdList(v) => jsonw::list(out, v, |out, v| v.write_json(out)),
            Value::Named(_, v) => v.write_json(out),
            Value::Kib(n) => jsonw::uint(out, *n),
            Value::SymMode(m) => jsonw::str(out, &mode_string(*m)),
            Value::HexBytes { data, truncated } => Value::Str {
                data,
                truncated: *truncated,
            }
            .write_json(out),
            Value::Epoch(n) => jsonw::int(out, *n),
            Value::Ticks(n) => jsonw::uint(out, *n),
            // Rare: through serde_json, which gives the same bytes.
            Value::SigSet { .. }
            | Value::Dev { .. }
            | Value::Wait(_)
            | Value::InOut(..)
            | Value::Changed(..)
            | Value::Dirents { .. }
            | Value::FutexWakeOp(_) => {
                out.extend_from_slice(self.json().to_string().as_bytes());
            }
        }
    }

    /// True for values shown as bare numbers or hex with no decoding.
    pub fn is_raw(&self) -> bool {
        matches!(self, Value::Hex(_))
    }
}

/// Bytes from a traced process as a JSON string: UTF-8 as is (JSON escapes
/// control characters itself), anything else in strace's escaped form.
pub fn json_bytes(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => escape::plain(b, usize::MAX),
    }
}

/// The return value in strace's notation (without the errno text).
pub fn format_return(ev: &TraceEvent) -> String {
    if !ev.returns() {
        return "?".to_string();
    }
    if let Some(e) = ev.errno() {
        // Kernel-internal restart codes never reach the program: strace
        // writes `?` for the value.
        let v = if matches!(e, 512..=514 | 516) {
            "?"
        } else {
            "-1"
        };
        return format!("{v} {}", crate::model::errno::name(e).unwrap_or("E?"));
    }
    let kind = ev.syscall().map_or(RetKind::Int, |s| s.returns);
    let mut s = match (kind, ev.name().as_ref()) {
        (RetKind::Ptr, _) => format!("{:#x}", ev.ret),
        // The previous mask, in octal like the argument.
        (_, "umask") => mode_string(ev.ret as u32),
        // Flag getters: the value in hex with its names, as strace does.
        (_, "fcntl") if ev.args[1] == 1 || ev.args[1] == 3 => {
            let flags = if ev.args[1] == 1 {
                Value::Flags(bits(ev.ret as u64, consts::FD_CLOEXEC_FLAGS))
            } else {
                Value::Flags(open_flags(ev.ret as u64, ev.arch))
            };
            let mut t = String::new();
            write_hex(&mut t, ev.ret as u64);
            if ev.ret != 0 {
                t.push_str(" (flags ");
                flags.write(&mut t);
                t.push(')');
            }
            t
        }
        // PR_GET_DUMPABLE: the value with its name.
        (_, "prctl") if ev.args[0] == 3 => match consts::name_of(consts::SUID_DUMP, ev.ret) {
            Some(n) => format!("{} ({n})", ev.ret),
            None => ev.ret.to_string(),
        },
        _ => ev.ret.to_string(),
    };
    if let Some(d) = poll_decoration(ev) {
        s.push_str(&d);
    }
    // fcntl's F_DUPFD / F_DUPFD_CLOEXEC return a descriptor too.
    let dupfd = ev.name() == "fcntl" && (ev.args[1] == 0 || ev.args[1] == 1030);
    if kind == RetKind::Fd || dupfd {
        if let Some(p) = fd_path(ev, RET_SLOT) {
            s.push('<');
            s.push_str(&escape::plain(p, STR_MAX));
            s.push('>');
        }
    }
    s
}

/// What strace adds after a poll's value: `(Timeout)`, or the descriptors
/// that are ready and, for ppoll, the time left: `([{fd=3,
/// revents=POLLIN}], left {tv_sec=0, tv_nsec=0})`. select's ready sets
/// would need its three fd_sets copied again at exit: not shown.
pub(super) fn poll_decoration(ev: &TraceEvent) -> Option<String> {
    let name = ev.name();
    let poll = matches!(name.as_ref(), "poll" | "ppoll");
    if !poll && !matches!(name.as_ref(), "select" | "pselect6") {
        return None;
    }
    if ev.ret == 0 {
        return Some(" (Timeout)".to_string());
    }
    if !poll || ev.ret < 0 {
        return None;
    }
    let fds = chunk_of(ev, 0, CAP_ARR)?;
    let mut out = String::from(" (");
    Value::List {
        items: structs::pollfds(fds, true),
        more: false,
    }
    .write(&mut out);
    // ppoll's timeout: copied at enter, then again at exit (the time left).
    let mut times = ev.chunks().filter(|c| c.arg == 2 && c.kind == CAP_MEM);
    if let (Some(_), Some(left)) = (times.next(), times.next()) {
        if let Some(v) = structs::time_left(left.data) {
            out.push_str(", left ");
            v.write(&mut out);
        }
    }
    out.push(')');
    Some(out)
}
