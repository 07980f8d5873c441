//! The detail view (Enter): every field of the selected event, scrollable.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::app::App;
use crate::clock::fmt_duration;
use crate::model::container::HOST;
use crate::model::decode;
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
    // Names padded to one width, so the labels (right-aligned like every
    // field's) have their numbers and names in columns.
    let name_w = args.iter().map(|a| a.name.len()).max().unwrap_or(0);
    for (i, a) in args.iter().enumerate() {
        let mut v = String::new();
        a.value.write(&mut v);
        let raw = ev.args.get(i).copied().unwrap_or(0);
        out.push(field(
            &format!("{i}: {:<name_w$}", a.name),
            format!("{v}    (raw {raw:#x})"),
        ));
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
            ev.pid,
            ev.tid,
            ev.container_pid,
            ev.session
        ),
    ));
    out.push(field("user", format!("uid {} gid {}", ev.uid, ev.gid)));
    match app.containers.get(ev.cgroup_id) {
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
    out.push(field("cgroup id", ev.cgroup_id.to_string()));
    let ns = ev.ns;
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
            .scroll((app.detail_scroll, 0)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use crate::ui::keys::Action;
    use crate::ui::testutil::{app_with, event, screen};

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
