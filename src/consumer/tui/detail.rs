//! The detail view (Enter): every field of the selected event, scrollable.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::app::App;
use super::theme::Theme;
use crate::clock::{fmt_duration, Clock};
use crate::model::container::HOST;
use crate::model::decode::{self, Flag, Value};
use crate::model::errno;
use crate::model::escape;
use crate::model::event::TraceEvent;
use crate::model::syscalls::{RetKind, SyscallInfo};

/// The detail text of `ev`, one line per field.
pub fn lines(app: &App, ev: &TraceEvent) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut out: Vec<Line<'static>> = Vec::new();
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:>14}  "), t.header()),
            Span::raw(value),
        ])
    };
    out.push(Line::from(Span::styled(
        app.line_text(ev),
        t.class(ev.class()),
    )));
    out.push(Line::raw(""));
    let info = ev.syscall();
    out.push(field(
        "syscall",
        format!(
            "{} (nr {}, {}, class {})",
            ev.name(),
            ev.nr,
            ev.arch.name(),
            ev.class().name()
        ),
    ));
    out.push(field("args", String::new()));
    let args = decode::decode(ev);
    let cx = Cx {
        t,
        base: time_base(app, ev),
    };
    // Names padded to one width, so the labels (right-aligned like every
    // field's) have their numbers and names in columns.
    let name_w = args.iter().map(|a| a.name.len()).max().unwrap_or(0);
    for (i, a) in args.iter().enumerate() {
        let v = text(&a.value);
        let raw = ev.args.get(i).copied().unwrap_or(0);
        out.push(field(
            &format!("{i}: {:<name_w$}", a.name),
            safe(format!("{v}    (raw {raw:#x})")),
        ));
        // Structures and arrays again, one field a line, under the argument.
        if compound(&a.value) {
            members(&cx, &a.value, FIELD_INDENT, &mut out);
        }
    }
    if ev.truncated() {
        out.push(field("", "captured data was cut short".into()));
    }
    let result = if !ev.returns() {
        "does not return".to_string()
    } else {
        match ev.errno() {
            Some(e) => format!(
                "-1, errno {} {} ({})    (raw {})",
                e,
                errno::name(e).unwrap_or("E?"),
                errno::description(e).unwrap_or("unknown error"),
                ev.ret
            ),
            None => format!("{}    (raw {:#x})", ev.ret, ev.ret),
        }
    };
    let result_style = if ev.errno().is_some() {
        t.error()
    } else {
        t.ok()
    };
    out.push(Line::from(vec![
        Span::styled(format!("{:>14}  ", "result"), t.header()),
        Span::styled(result, result_style),
    ]));
    if let Some(i) = info {
        out.push(field("returns", returns_in_words(i).into()));
    }
    out.push(Line::raw(""));
    out.push(field(
        "process",
        format!(
            "{} pid {} tid {} (pid {} in its namespace), session {}",
            ev.comm(),
            ev.id.pid,
            ev.id.tid,
            ev.id.container_pid,
            ev.id.session
        ),
    ));
    out.push(field(
        "user",
        format!("uid {} gid {}", ev.id.uid, ev.id.gid),
    ));
    match app.labels.get(ev.id.cgroup_id) {
        Some(c) => {
            out.push(field(
                "container",
                format!("{} ({}, id {})", c.display_name(), c.runtime, c.short_id()),
            ));
            out.push(field("pod", c.pod_name().unwrap_or("-").to_string()));
            out.push(field("namespace", c.namespace().unwrap_or("-").to_string()));
            if let Some(img) = &c.image {
                out.push(field("image", escape::plain_str(img, 256)));
            }
        }
        None => out.push(field(
            "container",
            format!("{HOST} (not in a known container)"),
        )),
    }
    out.push(field("cgroup id", ev.id.cgroup_id.to_string()));
    let ns = ev.id.ns;
    out.push(field(
        "namespaces",
        format!(
            "pid {} mnt {} uts {} ipc {} cgroup {} net {}",
            ns.pid, ns.mnt, ns.uts, ns.ipc, ns.cgroup, ns.net
        ),
    ));
    out.push(Line::raw(""));
    out.push(field("started", app.clock.rfc3339(ev.start_ns)));
    if ev.returns() {
        out.push(field("finished", app.clock.rfc3339(ev.finish_ns)));
    }
    if let Some(f) = app.first_ns {
        let rel = ev.start_ns as i128 - f as i128;
        out.push(field(
            "relative",
            format!(
                "{:+.6}s since the first event of this session",
                rel as f64 / 1e9
            ),
        ));
    }
    out.push(Line::from(vec![
        Span::styled(format!("{:>14}  ", "duration"), t.header()),
        Span::styled(
            if ev.returns() {
                format!(
                    "{} ({} ns)",
                    fmt_duration(ev.duration_ns()),
                    ev.duration_ns()
                )
            } else {
                "-".into()
            },
            t.duration(ev.duration_ns()),
        ),
    ]));
    out.push(field("ctx switches", ev.context_sw.to_string()));
    out
}

/// What a syscall returns, in words.
pub fn returns_in_words(i: &SyscallInfo) -> &'static str {
    match i.returns {
        RetKind::Fd => "a file descriptor; -1 and an errno on failure",
        RetKind::Pid if matches!(i.name, "fork" | "vfork" | "clone" | "clone3") => {
            "the new process's id (0 in the new process); -1 and an errno on failure"
        }
        RetKind::Pid => "a process or thread id; -1 and an errno on failure",
        RetKind::Ptr => "an address",
        RetKind::Size => "a count of bytes or items; -1 and an errno on failure",
        RetKind::Int => "0 on success, or a value the call reports; -1 and an errno on failure",
        RetKind::NoReturn => "nothing: the call does not return",
    }
}

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let Some(ev) = app.selected_event() else {
        return;
    };
    let text = lines(app, ev);
    let t = &app.theme;
    f.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(vec![
            Span::styled(" event details ", t.header()),
            Span::styled("(j/k scroll, y copy line, Esc close) ", t.dim()),
        ]));
    f.render_widget(
        Paragraph::new(text)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((app.overlay.detail_scroll, 0)),
        area,
    );
}

/// Where the field lines of a structure argument start: under its value.
const FIELD_INDENT: usize = 18;
/// Array items shown before the rest is counted.
const LIST_MAX: usize = 16;

/// What seconds in a time field count from. Most are since the epoch; a
/// clock call's time is on its clock, and the monotonic clocks' is dated
/// with the session's boot time.
#[derive(Clone, Copy)]
enum TimeBase {
    Unix,
    Boot(Clock),
    /// A CPU-time clock, TAI, or one the boot time does not convert.
    Own,
}

fn time_base(app: &App, ev: &TraceEvent) -> TimeBase {
    if !ev.name().starts_with("clock_") {
        return TimeBase::Unix;
    }
    match ev.args[0] as i32 {
        // REALTIME, REALTIME_COARSE, REALTIME_ALARM
        0 | 5 | 8 => TimeBase::Unix,
        // MONOTONIC, MONOTONIC_RAW, MONOTONIC_COARSE: the event clock's base
        1 | 4 | 6 => TimeBase::Boot(app.clock),
        _ => TimeBase::Own,
    }
}

/// What rendering a structure needs besides the value.
struct Cx<'t> {
    t: &'t Theme,
    base: TimeBase,
}

/// Escapes whatever control character is left in `s`. Values come escaped
/// from the decoder; this keeps a terminal safe should any slip through.
fn safe(s: String) -> String {
    if !s.chars().any(char::is_control) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            use std::fmt::Write;
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

fn strip_named<'v, 'a>(v: &'v Value<'a>) -> &'v Value<'a> {
    match v {
        Value::Named(_, inner) => strip_named(inner),
        v => v,
    }
}

/// A value shown as its own indented block: a structure, or an array of
/// structures or of more items than fit on one line.
fn compound(v: &Value) -> bool {
    match strip_named(v) {
        Value::Struct { fields, .. } => !fields.is_empty(),
        Value::List { items, .. } | Value::FdList(items) => {
            items.iter().any(compound) || items.len() > LIST_MAX
        }
        _ => false,
    }
}

fn indented(t: &Theme, indent: usize, label: String, value: String) -> Line<'static> {
    Line::from(vec![
        Span::raw(" ".repeat(indent)),
        Span::styled(safe(label), t.header()),
        Span::raw(safe(value)),
    ])
}

/// The lines under a compound value, `indent` columns in.
fn members(cx: &Cx, v: &Value, indent: usize, out: &mut Vec<Line<'static>>) {
    let t = cx.t;
    match strip_named(v) {
        Value::Struct { fields, .. } => {
            let w = fields.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            for (name, fv) in fields {
                // Values start in one column: the name, its colon, padding.
                let label = format!("{:<width$}", format!("{name}: "), width = w + 2);
                if compound(fv) {
                    let head = summary(cx.base, fv).unwrap_or_default();
                    out.push(indented(t, indent, label, head));
                    members(cx, fv, indent + 2, out);
                } else {
                    let m = meaning(cx.base, name, fv, fields);
                    out.push(indented(t, indent, label, m));
                }
            }
        }
        Value::List { items, more } => list_members(cx, items, *more, indent, out),
        Value::FdList(items) => list_members(cx, items, false, indent, out),
        _ => {}
    }
}

fn list_members(cx: &Cx, items: &[Value], more: bool, indent: usize, out: &mut Vec<Line<'static>>) {
    let t = cx.t;
    for (k, it) in items.iter().take(LIST_MAX).enumerate() {
        let label = format!("[{k}] ");
        if compound(it) {
            let head = summary(cx.base, it).unwrap_or_default();
            out.push(indented(t, indent, label, head));
            members(cx, it, indent + 2, out);
        } else {
            out.push(indented(t, indent, label, meaning(cx.base, "", it, &[])));
        }
    }
    if items.len() > LIST_MAX {
        out.push(Line::from(vec![
            Span::raw(" ".repeat(indent)),
            Span::styled(format!("… {} more", items.len() - LIST_MAX), t.dim()),
        ]));
    }
    if more {
        out.push(Line::from(vec![
            Span::raw(" ".repeat(indent)),
            Span::styled("… more, not copied".to_string(), t.dim()),
        ]));
    }
}

fn text(v: &Value) -> String {
    let mut s = String::new();
    v.write(&mut s);
    s
}

fn field_of<'v, 'a>(fields: &'v [(&'static str, Value<'a>)], name: &str) -> Option<&'v Value<'a>> {
    fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Int(n) => u64::try_from(*n).ok(),
        Value::UInt(n) | Value::Kib(n) => Some(*n),
        _ => None,
    }
}

/// A one-line heading for a nested compound value: a duration in seconds,
/// the number of items of an array.
fn summary(base: TimeBase, v: &Value) -> Option<String> {
    match strip_named(v) {
        Value::Struct { fields, .. } => {
            let (sub, scale) = match (field_of(fields, "tv_nsec"), field_of(fields, "tv_usec")) {
                (Some(n), _) => (as_u64(n)?, 1),
                (None, Some(u)) => (as_u64(u)?, 1000),
                _ => return None,
            };
            match field_of(fields, "tv_sec")? {
                // A point in time: its date; otherwise a duration.
                Value::Epoch(s) => point_in_time(base, *s, Some(sub * scale)),
                Value::Int(s) => Some(format!("{s}.{:09} s", sub * scale)),
                _ => None,
            }
        }
        Value::List { items, .. } | Value::FdList(items) => Some(match items.len() {
            1 => "1 item".into(),
            n => format!("{n} items"),
        }),
        _ => None,
    }
}

/// `2996 (2.9 KiB)`: bytes with a human figure from 1 KiB up.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// A local date of seconds since the epoch, with nanoseconds when known.
fn local_date(sec: i64, nsec: Option<u64>) -> Option<String> {
    use chrono::{Local, TimeZone};
    let d = Local.timestamp_opt(sec, 0).single()?;
    let mut s = d.format("%Y-%m-%d %H:%M:%S").to_string();
    if let Some(n) = nsec.filter(|n| *n < 1_000_000_000) {
        s.push_str(&format!(".{n:09}"));
    }
    Some(s)
}

/// A time field's meaning on its time base.
fn point_in_time(base: TimeBase, sec: i64, nsec: Option<u64>) -> Option<String> {
    match base {
        TimeBase::Unix => local_date(sec, nsec),
        TimeBase::Boot(clock) => {
            let ns = i128::from(sec) * 1_000_000_000 + i128::from(nsec.unwrap_or(0));
            let unix = clock.boot_unix_ns + ns;
            let s = local_date(
                unix.div_euclid(1_000_000_000) as i64,
                Some(unix.rem_euclid(1_000_000_000) as u64),
            )?;
            Some(format!("{s}, {sec} s after boot"))
        }
        TimeBase::Own => Some("on the clock's own scale".into()),
    }
}

/// The kind of file and its permissions in `ls -l` letters.
fn mode_words(m: u32) -> String {
    let kind = match m & 0o170000 {
        0o100000 => Some("regular file"),
        0o040000 => Some("directory"),
        0o120000 => Some("symbolic link"),
        0o020000 => Some("character device"),
        0o060000 => Some("block device"),
        0o010000 => Some("FIFO"),
        0o140000 => Some("socket"),
        _ => None,
    };
    let mut p = String::with_capacity(9);
    for (who, special, set_ch) in [(6, 0o4000, 's'), (3, 0o2000, 's'), (0, 0o1000, 't')] {
        let bits = (m >> who) & 7;
        p.push(if bits & 4 != 0 { 'r' } else { '-' });
        p.push(if bits & 2 != 0 { 'w' } else { '-' });
        let x = bits & 1 != 0;
        p.push(match (m & special != 0, x) {
            (true, true) => set_ch,
            (true, false) => set_ch.to_ascii_uppercase(),
            (false, true) => 'x',
            (false, false) => '-',
        });
    }
    match kind {
        Some(k) => format!("{k}, {p}"),
        None => p,
    }
}

/// Words for the poll and epoll event bits.
fn event_word(name: &str) -> Option<&'static str> {
    let bare = name
        .strip_prefix("EPOLL")
        .or_else(|| name.strip_prefix("POLL"))?;
    Some(match bare {
        "IN" => "readable",
        "PRI" => "urgent data",
        "OUT" => "writable",
        "ERR" => "error",
        "HUP" => "hung up",
        "NVAL" => "not an open descriptor",
        "RDNORM" => "normal data readable",
        "RDBAND" => "priority data readable",
        "WRNORM" => "normal data writable",
        "WRBAND" => "priority data writable",
        "MSG" => "message",
        "RDHUP" => "peer closed its writing end",
        "EXCLUSIVE" => "exclusive wakeup",
        "WAKEUP" => "keeps the system awake",
        "ONESHOT" => "once, then disabled",
        "ET" => "edge-triggered",
        _ => return None,
    })
}

/// A signal's full name from the short form signal sets use.
fn sig_name(s: &str) -> String {
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("signal {s}")
    } else {
        format!("SIG{s}")
    }
}

/// A wait status in words: `exited with status 3`, `killed by SIGKILL`.
fn wait_words(s: i32) -> String {
    let sig = |n: i32| {
        usize::try_from(n)
            .ok()
            .and_then(|i| decode::consts::SIGNALS.get(i))
            .filter(|_| n > 0)
            .map_or_else(|| format!("signal {n}"), |s| (*s).to_string())
    };
    match s & 0x7f {
        0 => format!("exited with status {}", (s >> 8) & 0xff),
        0x7f => format!("stopped by {}", sig((s >> 8) & 0xff)),
        low if s & 0x80 != 0 => format!("killed by {}, core dumped", sig(low)),
        low => format!("killed by {}", sig(low)),
    }
}

/// A value with its meaning spelled out where the notation alone is terse.
/// `name` is the field's, `sib` the structure it sits in.
fn meaning(base: TimeBase, name: &str, v: &Value, sib: &[(&'static str, Value)]) -> String {
    let shown = text(v);
    let extra: Option<String> = match strip_named(v) {
        Value::SymMode(m) | Value::Mode(m) => Some(mode_words(*m)),
        Value::Epoch(sec) => {
            let nsec_name = if name == "tv_sec" {
                "tv_nsec".to_string()
            } else {
                format!("{name}_nsec")
            };
            let nsec = field_of(sib, &nsec_name).and_then(as_u64);
            point_in_time(base, *sec, nsec)
        }
        Value::SigSet { neg, sigs } => {
            let names: Vec<String> = sigs.iter().map(|s| sig_name(s)).collect();
            Some(match (neg, names.is_empty()) {
                (false, true) => "no signals".into(),
                (true, true) => "every signal".into(),
                (false, false) => names.join(", "),
                (true, false) => format!("every signal but {}", names.join(", ")),
            })
        }
        Value::Flags(f) => {
            let words: Vec<&str> = f
                .iter()
                .filter_map(|p| match p {
                    Flag::Name(n) => event_word(n),
                    Flag::Bits(_) => None,
                })
                .collect();
            (!words.is_empty()).then(|| words.join(", "))
        }
        Value::Sym("SIG_DFL") => Some("default action".into()),
        Value::Sym("SIG_IGN") => Some("ignored".into()),
        Value::Sym("RLIM64_INFINITY") => Some("no limit".into()),
        Value::Kib(n) => Some(format!("{n} bytes, {}", human_bytes(*n))),
        Value::Dev { major, minor } => Some(format!("{major}:{minor}")),
        Value::Ticks(_) => Some("clock ticks".into()),
        Value::Wait(s) => Some(wait_words(*s)),
        other => {
            let n = as_u64(other);
            match (name, n) {
                (
                    "st_size" | "stx_size" | "st_blksize" | "stx_blksize" | "iov_len" | "ss_size"
                    | "msg_controllen" | "f_bsize" | "f_frsize" | "stack_size",
                    Some(n),
                ) if n >= 1024 => Some(human_bytes(n)),
                ("st_blocks" | "stx_blocks", Some(n)) => {
                    Some(format!("512-byte blocks, {}", human_bytes(n * 512)))
                }
                (
                    "totalram" | "freeram" | "sharedram" | "bufferram" | "totalswap" | "freeswap"
                    | "totalhigh" | "freehigh",
                    Some(n),
                ) => {
                    let unit = field_of(sib, "mem_unit").and_then(as_u64).unwrap_or(1);
                    Some(human_bytes(n.saturating_mul(unit.max(1))))
                }
                ("st_uid" | "st_gid" | "stx_uid" | "stx_gid", Some(0)) => Some("root".into()),
                _ => None,
            }
        }
    };
    match extra {
        Some(e) if e != shown => format!("{shown} ({e})"),
        _ => shown,
    }
}

#[cfg(test)]
mod tests {
    use crate::consumer::tui::keys::Action;
    use crate::consumer::tui::testutil::{app_with, event, screen};

    use super::{local_date, safe};
    use crate::consumer::tui::testutil::event_with;
    use crate::model::event::TraceEvent;
    use crate::model::raw::{Chunk, CAP_ARR, CAP_MEM, CAP_MSGHDR, CAP_STR};

    const AT_FDCWD: u64 = (-100i64) as u64;

    /// The details of `ev` on a `w`-column terminal tall enough for all.
    fn details(ev: TraceEvent, w: u16) -> String {
        let mut app = app_with(vec![ev]);
        app.on_action(Action::Details);
        screen(&mut app, w, 120)
    }

    fn assert_lines(s: &str, want: &[&str]) {
        for w in want {
            assert!(s.lines().any(|l| l.contains(w)), "{w:?} missing:\n{s}");
        }
    }

    fn put(b: &mut [u8], at: usize, v: &[u8]) {
        b[at..at + v.len()].copy_from_slice(v);
    }

    /// x86_64 struct stat of a 2996-byte regular file.
    fn stat_buf() -> Vec<u8> {
        let mut b = vec![0u8; 144];
        put(&mut b, 0, &((8u64 << 8) | 1).to_ne_bytes()); // st_dev 8:1
        put(&mut b, 8, &1_234_567u64.to_ne_bytes()); // st_ino
        put(&mut b, 16, &1u64.to_ne_bytes()); // st_nlink
        put(&mut b, 24, &0o100644u32.to_ne_bytes()); // st_mode
        put(&mut b, 28, &1000u32.to_ne_bytes()); // st_uid
        put(&mut b, 32, &0u32.to_ne_bytes()); // st_gid
        put(&mut b, 48, &2996i64.to_ne_bytes()); // st_size
        put(&mut b, 56, &4096i64.to_ne_bytes()); // st_blksize
        put(&mut b, 64, &8i64.to_ne_bytes()); // st_blocks
        put(&mut b, 72, &1_700_000_000i64.to_ne_bytes()); // st_atime
        put(&mut b, 80, &123_456_789u64.to_ne_bytes());
        put(&mut b, 88, &1_600_000_000i64.to_ne_bytes()); // st_mtime
        put(&mut b, 104, &1_600_000_000i64.to_ne_bytes()); // st_ctime
        b
    }

    fn newfstatat() -> TraceEvent {
        let st = stat_buf();
        event_with(
            "newfstatat",
            0,
            &[AT_FDCWD, 0x10, 0x7ffe_0000, 0],
            &[
                Chunk {
                    arg: 1,
                    kind: CAP_STR,
                    data: b"/etc/passwd",
                },
                Chunk {
                    arg: 2,
                    kind: CAP_MEM,
                    data: &st,
                },
            ],
        )
    }

    #[test]
    fn stat_buffer_field_by_field() {
        let s = details(newfstatat(), 160);
        let atime = local_date(1_700_000_000, Some(123_456_789)).unwrap();
        assert!(atime.ends_with(".123456789"), "{atime}");
        let mtime = local_date(1_600_000_000, Some(0)).unwrap();
        assert_lines(
            &s,
            &[
                "{st_mode=S_IFREG|0644, st_size=2996, ...}    (raw 0x7ffe0000)",
                "                  st_mode:       S_IFREG|0644 (regular file, rw-r--r--)",
                "                  st_size:       2996 (2.9 KiB)",
                "st_dev:        makedev(0x8, 0x1) (8:1)",
                "st_ino:        1234567",
                "st_nlink:      1",
                "st_uid:        1000",
                "st_gid:        0 (root)",
                "st_blksize:    4096 (4.0 KiB)",
                "st_blocks:     8 (512-byte blocks, 4.0 KiB)",
                &format!("st_atime:      1700000000 ({atime})"),
                "st_atime_nsec: 123456789",
                &format!("st_mtime:      1600000000 ({mtime})"),
                "st_rdev:       makedev(0, 0)",
            ],
        );
    }

    #[test]
    fn sigaction_handlers_masks_and_flags() {
        let mut act = vec![0u8; 32];
        put(&mut act, 0, &0x5555_0000u64.to_ne_bytes());
        put(&mut act, 8, &0x1400_0000u64.to_ne_bytes());
        put(&mut act, 16, &0x7f00_1000u64.to_ne_bytes());
        put(&mut act, 24, &((1u64 << 1) | (1 << 14)).to_ne_bytes());
        let old = vec![0u8; 32];
        let ev = event_with(
            "rt_sigaction",
            0,
            &[17, 0x10, 0x20, 8],
            &[
                Chunk {
                    arg: 1,
                    kind: CAP_MEM,
                    data: &act,
                },
                Chunk {
                    arg: 2,
                    kind: CAP_MEM,
                    data: &old,
                },
            ],
        );
        let s = details(ev, 160);
        assert_lines(
            &s,
            &[
                "sa_handler:  0x55550000",
                "sa_mask:     [INT TERM] (SIGINT, SIGTERM)",
                "sa_flags:    SA_RESTORER|SA_RESTART",
                "sa_restorer: 0x7f001000",
                "sa_handler: SIG_DFL (default action)",
                "sa_mask:    [] (no signals)",
                "sa_flags:   0",
            ],
        );
        // The new action's fields come under argument 1, the old under 2.
        let act_at = s.find("sa_restorer:").unwrap();
        let old_at = s.find("SIG_DFL (default").unwrap();
        let arg2 = s.find("2: oact").or_else(|| s.find("2: ")).unwrap();
        assert!(act_at < arg2 && arg2 < old_at, "{s}");
    }

    fn pollfds(n: usize) -> Vec<u8> {
        let mut b = Vec::new();
        for k in 0..n {
            b.extend_from_slice(&(3 + k as i32).to_ne_bytes());
            let ev: u16 = if k % 2 == 0 { 0x1 } else { 0x4 | 0x2000 };
            b.extend_from_slice(&ev.to_ne_bytes());
            b.extend_from_slice(&0u16.to_ne_bytes());
        }
        b
    }

    #[test]
    fn pollfd_array_item_by_item() {
        let fds = pollfds(2);
        let ev = event_with(
            "poll",
            1,
            &[0x7f00, 2, 100],
            &[Chunk {
                arg: 0,
                kind: CAP_ARR,
                data: &fds,
            }],
        );
        let s = details(ev, 160);
        assert_lines(
            &s,
            &[
                "                  [0] ",
                "                    fd:     3",
                "                    events: POLLIN (readable)",
                "                  [1] ",
                "                    fd:     4",
                "events: POLLOUT|POLLRDHUP (writable, peer closed its writing end)",
            ],
        );
        assert!(!s.contains("more"), "{s}");
    }

    /// A sendmsg msghdr as the kernel side copies it: the header, the
    /// name's bytes, then the iovecs and each one's bytes.
    fn msghdr(iovs: &[&[u8]]) -> Vec<u8> {
        let mut d = vec![0u8; 60];
        put(&mut d, 24, &(iovs.len() as u64).to_ne_bytes()); // msg_iovlen
        put(&mut d, 48, &0x40u32.to_ne_bytes()); // msg_flags
        d.extend_from_slice(&(iovs.len() as u32).to_ne_bytes());
        for (k, v) in iovs.iter().enumerate() {
            d.extend_from_slice(&(0x1000 * (k as u64 + 1)).to_ne_bytes());
            d.extend_from_slice(&(v.len() as u64).to_ne_bytes());
        }
        for v in iovs {
            d.extend_from_slice(&(v.len() as u16).to_ne_bytes());
            d.extend_from_slice(v);
        }
        d
    }

    #[test]
    fn msghdr_nests_its_iovecs_and_escapes_their_bytes() {
        let m = msghdr(&[b"GET /", b"\x1b[2J\x1b]0;owned\x07\n"]);
        let ev = event_with(
            "sendmsg",
            20,
            &[3, 0x7f00, 0],
            &[Chunk {
                arg: 1,
                kind: CAP_MSGHDR,
                data: &m,
            }],
        );
        let s = details(ev, 160);
        assert_lines(
            &s,
            &[
                "                  msg_name:       NULL",
                "                  msg_namelen:    0",
                "                  msg_iov:        2 items",
                "                    [0] ",
                "                      iov_base: \"GET /\"",
                "                      iov_len:  5",
                "                    [1] ",
                r#"                      iov_base: "\x1b[2J\x1b]0;owned\x07\n""#,
                "                      iov_len:  15",
                "                  msg_iovlen:     2",
                "                  msg_controllen: 0",
            ],
        );
        assert!(!s.contains('\u{1b}') && !s.contains('\u{7}'), "{s:?}");
    }

    /// A clock call's time is on its clock: a monotonic one is dated from
    /// the session's boot time, a CPU clock's is not a date at all.
    #[test]
    fn clock_times_are_dated_on_their_clock() {
        let mut ts = 6421i64.to_ne_bytes().to_vec();
        ts.extend_from_slice(&862_846_189i64.to_ne_bytes());
        let at = |clock: u64| {
            event_with(
                "clock_gettime",
                0,
                &[clock, 0x7f00],
                &[Chunk {
                    arg: 1,
                    kind: CAP_MEM,
                    data: &ts,
                }],
            )
        };
        let boot = 1_700_000_000i64;
        let mut app = app_with(vec![at(1)]);
        app.clock = crate::clock::Clock {
            boot_unix_ns: i128::from(boot) * 1_000_000_000,
        };
        app.on_action(Action::Details);
        let s = screen(&mut app, 160, 60);
        let date = local_date(boot + 6421, Some(862_846_189)).unwrap();
        assert_lines(&s, &[&format!("tv_sec:  6421 ({date}, 6421 s after boot)")]);
        let s = details(at(0), 160);
        let date = local_date(6421, Some(862_846_189)).unwrap();
        assert_lines(&s, &[&format!("tv_sec:  6421 ({date})")]);
        let s = details(at(2), 160);
        assert_lines(&s, &["tv_sec:  6421 (on the clock's own scale)"]);
    }

    #[test]
    fn control_characters_never_pass() {
        assert_eq!(safe("a\u{1b}[2J\u{9b}b".into()), "a\\u{1b}[2J\\u{9b}b");
        assert_eq!(safe("plain …".into()), "plain …");
    }

    /// At 80 columns every field line fits whole; a long array ends in a
    /// count of what is left; j scrolls to all of it.
    #[test]
    fn narrow_terminal_cuts_nothing_without_a_mark() {
        let mut app = app_with(vec![newfstatat()]);
        app.on_action(Action::Details);
        let mut seen = String::new();
        for _ in 0..40 {
            seen.push_str(&screen(&mut app, 80, 24));
            app.on_action(Action::Down);
        }
        let atime = local_date(1_700_000_000, Some(123_456_789)).unwrap();
        assert_lines(
            &seen,
            &[
                "st_mode:       S_IFREG|0644 (regular file, rw-r--r--)",
                &format!("st_atime:      1700000000 ({atime})"),
                "st_rdev:       makedev(0, 0)",
                "ctx switches",
            ],
        );
        // Lines wider than the view wrap: every word of the longest ones
        // (the event's line, the structure argument's) is on screen whole.
        let ev = newfstatat();
        let long = format!(
            "{} {{st_mode=S_IFREG|0644, st_size=2996, ...}}    (raw 0x7ffe0000)",
            app.line_text(&ev)
        );
        for word in long.split_whitespace() {
            assert!(seen.contains(word), "{word:?} cut:\n{seen}");
        }

        let fds = pollfds(40);
        let ev = event_with(
            "poll",
            0,
            &[0x7f00, 40, 100],
            &[Chunk {
                arg: 0,
                kind: CAP_ARR,
                data: &fds,
            }],
        );
        let mut app = app_with(vec![ev]);
        app.on_action(Action::Details);
        let mut seen = String::new();
        for _ in 0..120 {
            seen.push_str(&screen(&mut app, 80, 24));
            app.on_action(Action::Down);
        }
        assert_lines(&seen, &["[15] ", "fd:     18", "… 24 more"]);
        assert!(!seen.contains("[16] "), "{seen}");
    }

    #[test]
    fn details_show_every_field_and_close() {
        let mut app = app_with(vec![
            event("getppid", "sh", 11, 7, None),
            event("openat", "cat", 10, -2, Some("/etc/nope")),
        ]);
        app.on_action(Action::Details);
        let s = screen(&mut app, 120, 40);
        for want in [
            "event details",
            "openat (nr 257, x86_64, class file)",
            "\"/etc/nope\"",
            "(raw 0x",
            "errno 2 ENOENT (No such file or directory)",
            "cat pid 10 tid 10",
            "uid 1000",
            "host (not in a known container)",
            "namespaces",
            "1970-01-01T00:00:01.000010000Z",
            "since the first event",
            "2.5us (2500 ns)",
            "returns  a file descriptor; -1 and an errno on failure",
        ] {
            assert!(s.contains(want), "{want:?} missing:\n{s}");
        }
        app.on_action(Action::Copy);
        let copied = app.clipboard.take().expect("y copies");
        assert!(
            copied.contains("openat(") && copied.contains("ENOENT"),
            "{copied}"
        );
        app.on_action(Action::Close);
        assert!(!screen(&mut app, 120, 40).contains("event details"));
    }

    /// Every return kind is said in words, none as the enum's name.
    #[test]
    fn return_kinds_are_worded() {
        use super::returns_in_words;
        use crate::model::syscalls::{self, Arch};
        for (name, want) in [
            ("openat", "a file descriptor"),
            ("read", "a count of bytes"),
            ("close", "0 on success"),
            ("getppid", "a process or thread id"),
            ("clone", "0 in the new process"),
            ("mmap", "an address"),
            ("exit_group", "does not return"),
        ] {
            let i = syscalls::by_name(Arch::X86_64, name).unwrap();
            let w = returns_in_words(i);
            assert!(w.contains(want), "{name}: {w}");
        }
        let mut app = app_with(vec![event("read", "cat", 10, 5, None)]);
        app.on_action(Action::Details);
        let s = screen(&mut app, 120, 40);
        assert!(s.contains("returns  a count of bytes or items"), "{s}");
        assert!(!s.contains("Size"), "{s}");
    }
}
