//! One event's line, formatted once for every consumer: the headless
//! lines, the TUI's stream table, and the text the TUI searches, copies
//! and heads its details with. The parts come as pieces that say what they
//! are (`palette::Class`); the painters give them their look: ANSI
//! (`palette::ansi`) and ratatui (`tui::theme::Theme::style`).

use crate::clock::{fmt_duration, Clock};
use crate::model::args;
use crate::model::errno;
use crate::model::event::TraceEvent;
use crate::terminal::palette::{Class, Piece};

/// The parts of an event's line. Every string from the traced process is
/// escaped by the model's formatters before it gets here.
#[derive(Clone, Debug)]
pub struct Fields {
    pub time: Piece,
    /// The container label, if the line has one.
    pub label: Option<Piece>,
    pub comm: Piece,
    pub pid: Piece,
    pub tid: Piece,
    pub name: Piece,
    pub args: Piece,
    /// `0`, `-1 ENOENT`, `?`.
    pub result: Piece,
    /// What a failed call's errno means, when it is known.
    pub errno: Option<&'static str>,
    /// How long the call took (without the `<>`), if it returned.
    pub duration: Option<Piece>,
}

impl Fields {
    pub fn of(ev: &TraceEvent, clock: &Clock, label: Option<String>) -> Fields {
        let mut a = String::new();
        args::format_args(ev, &mut a);
        let failed = ev.errno();
        Fields {
            time: Piece::plain(clock.time_of_day(ev.start_ns)),
            label: label.map(|l| Piece::new(l, Class::Label)),
            comm: Piece::plain(ev.comm()),
            pid: Piece::plain(ev.id.pid.to_string()),
            tid: Piece::plain(ev.id.tid.to_string()),
            name: Piece::new(ev.name(), Class::Call(ev.class())),
            args: Piece::plain(a),
            result: Piece::new(
                args::format_result(ev),
                if failed.is_some() {
                    Class::Error
                } else {
                    Class::Ok
                },
            ),
            errno: failed.and_then(errno::description),
            duration: ev.returns().then(|| {
                let d = ev.duration_ns();
                Piece::new(fmt_duration(d), Class::Duration(d))
            }),
        }
    }

    /// `comm[pid/tid]`
    fn process(&self, out: &mut Vec<Piece>) {
        out.push(Piece::plain(format!(
            "{}[{}/{}]",
            self.comm.text, self.pid.text, self.tid.text
        )));
    }

    /// `name(args) = result (errno's meaning) <duration>`, as strace has it.
    fn call(self, out: &mut Vec<Piece>) {
        out.push(self.name);
        out.push(Piece::plain(format!("({}) = ", self.args.text)));
        out.push(self.result);
        if let Some(d) = self.errno {
            out.push(Piece::plain(format!(" ({d})")));
        }
        if let Some(mut d) = self.duration {
            out.push(Piece::plain(" "));
            d.text = format!("<{}>", d.text);
            out.push(d);
        }
    }

    /// The headless line: `label time comm[pid/tid] call <duration>`.
    pub fn headless(mut self) -> Vec<Piece> {
        let mut out = Vec::with_capacity(12);
        if let Some(l) = self.label.take() {
            out.push(l);
            out.push(Piece::plain(" "));
        }
        out.push(self.time.clone());
        out.push(Piece::plain(" "));
        self.process(&mut out);
        out.push(Piece::plain(" "));
        self.call(&mut out);
        out
    }

    /// The line the TUI searches and copies: `time comm[pid/tid] label
    /// call <duration>`, without colours.
    pub fn text(mut self) -> String {
        let mut out = Vec::with_capacity(12);
        out.push(self.time.clone());
        out.push(Piece::plain(" "));
        self.process(&mut out);
        out.push(Piece::plain(" "));
        if let Some(l) = self.label.take() {
            out.push(l);
            out.push(Piece::plain(" "));
        }
        self.call(&mut out);
        out.into_iter().map(|p| p.text).collect()
    }

    /// The stream table's cells: time, container, comm, pid, tid, syscall,
    /// arguments, result, duration (empty where there is none).
    pub fn cells(self) -> [Piece; 9] {
        [
            self.time,
            self.label.unwrap_or_else(|| Piece::new("", Class::Label)),
            self.comm,
            self.pid,
            self.tid,
            self.name,
            self.args,
            self.result,
            self.duration
                .unwrap_or_else(|| Piece::new("", Class::Duration(0))),
        ]
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::raw::RawEvent;
    use crate::model::syscalls::{self, Arch};
    use crate::terminal::palette;

    /// `sh[7/8] close(3)` returning `ret` after `took` ns, at 1 us.
    pub(crate) fn close_of(ret: i64, took: u64) -> TraceEvent {
        let mut raw = RawEvent {
            nr: syscalls::by_name(Arch::X86_64, "close").unwrap().nr,
            ret,
            args: [3, 0, 0, 0, 0, 0],
            start_ns: 1_000,
            finish_ns: 1_000 + took,
            pid: 7,
            tid: 8,
            ..Default::default()
        };
        raw.comm[..2].copy_from_slice(b"sh");
        TraceEvent::from_raw(&raw, &[], Arch::X86_64)
    }

    #[test]
    fn one_line_in_both_orders() {
        let clock = Clock { boot_unix_ns: 0 };
        let ev = close_of(-9, 2_500);
        let f = Fields::of(&ev, &clock, Some("web".into()));
        let head = palette::ansi(&f.clone().headless(), false);
        let time = clock.time_of_day(1_000);
        assert_eq!(
            head,
            format!("web {time} sh[7/8] close(3) = -1 EBADF (Bad file descriptor) <2.5us>")
        );
        assert_eq!(
            f.text(),
            format!("{time} sh[7/8] web close(3) = -1 EBADF (Bad file descriptor) <2.5us>")
        );
    }

    /// An errno without a description has none in parentheses (the
    /// headless line used to end such a result in ` ()`).
    #[test]
    fn an_unknown_errno_gets_no_empty_parentheses() {
        let clock = Clock { boot_unix_ns: 0 };
        let ev = close_of(-4000, 2_500);
        assert!(ev.errno().is_some() && errno::description(4000).is_none());
        let head = palette::ansi(&Fields::of(&ev, &clock, None).headless(), false);
        assert!(!head.contains("()"), "{head}");
    }
}
