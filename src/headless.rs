//! `--no-tui`: one strace-like line per event on stdout, colored with
//! nu-ansi-term when asked to.

use std::io::{self, Write};

use nu_ansi_term::{Color, Style};

use crate::clock::{fmt_duration, Clock};
use crate::model::args;
use crate::model::event::TraceEvent;
use crate::model::syscalls::SyscallClass;
use crate::ui::theme::{SLOW_NS, VERY_SLOW_NS};

pub struct Printer {
    pub color: bool,
    pub clock: Clock,
}

fn class_color(c: SyscallClass) -> Color {
    match c {
        SyscallClass::File => Color::Blue,
        SyscallClass::Network => Color::Magenta,
        SyscallClass::Process => Color::Cyan,
        SyscallClass::Memory => Color::Yellow,
        SyscallClass::Signal => Color::Red,
        SyscallClass::Ipc => Color::LightMagenta,
        SyscallClass::Time => Color::LightBlue,
        SyscallClass::Io => Color::LightCyan,
        SyscallClass::Security => Color::LightRed,
        SyscallClass::System => Color::LightYellow,
        SyscallClass::Other => Color::Default,
    }
}

impl Printer {
    /// `12:00:00.123456 cat[42/42] openat(...) = -1 ENOENT (No such file or directory) <12.3us>`
    pub fn line(&self, ev: &TraceEvent) -> String {
        let paint = |s: Style, text: String| -> String {
            if self.color {
                s.paint(text).to_string()
            } else {
                text
            }
        };
        let mut a = String::new();
        args::format_args(ev, &mut a);
        let mut out = format!(
            "{} {}[{}/{}] {}({}) = ",
            self.clock.time_of_day(ev.start_ns),
            ev.comm(),
            ev.pid,
            ev.tid,
            paint(class_color(ev.class()).normal(), ev.name().into_owned()),
            a
        );
        let res = args::format_result(ev);
        match ev.errno() {
            Some(e) => {
                let desc = crate::model::errno::description(e).unwrap_or("");
                out.push_str(&paint(Color::Red.bold(), res));
                out.push_str(&format!(" ({desc})"));
            }
            None => out.push_str(&paint(Color::Green.normal(), res)),
        }
        if ev.returns() {
            let d = ev.duration_ns();
            let style = if d >= VERY_SLOW_NS {
                Color::Red.bold()
            } else if d >= SLOW_NS {
                Color::Yellow.normal()
            } else {
                Style::new()
            };
            out.push(' ');
            out.push_str(&paint(style, format!("<{}>", fmt_duration(d))));
        }
        out
    }

    pub fn print(&self, w: &mut impl Write, ev: &TraceEvent) -> io::Result<()> {
        writeln!(w, "{}", self.line(ev))
    }

    /// The line with the event's container label in front:
    /// `namespace/pod/container`, the container name, or `host`.
    pub fn print_labeled(
        &self,
        w: &mut impl Write,
        label: &str,
        ev: &TraceEvent,
    ) -> io::Result<()> {
        let label = if self.color {
            Color::DarkGray.paint(label).to_string()
        } else {
            label.to_string()
        };
        writeln!(w, "{label} {}", self.line(ev))
    }
}
