//! `--no-tui`: one strace-like line per event on stdout, colored with
//! nu-ansi-term when asked to, or the `--summary` table at the end.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, BufWriter, Write};

use nu_ansi_term::{Color, Style};

use anyhow::Result;

use crate::clock::{fmt_duration, Clock};
use crate::model::args;
use crate::model::event::{Event, LostEvents, TraceEvent};
use crate::model::flow::Recycler;
use crate::model::node;
use crate::model::stats::Stats;
use crate::pipeline::stop::Stop;
use crate::say;
use crate::session::writer::Sink;
use crate::stage::Stages;
use crate::terminal::output::Output;
use crate::terminal::palette::{self, Ansi, Ink};

pub struct Printer {
    pub color: bool,
    pub clock: Clock,
}

/// The ANSI style of a palette colour.
fn style(ink: Ink) -> Style {
    let c = match ink.color {
        Ansi::Default => Color::Default,
        Ansi::Red => Color::Red,
        Ansi::Green => Color::Green,
        Ansi::Yellow => Color::Yellow,
        Ansi::Blue => Color::Blue,
        Ansi::Magenta => Color::Magenta,
        Ansi::Cyan => Color::Cyan,
        Ansi::LightRed => Color::LightRed,
        Ansi::LightYellow => Color::LightYellow,
        Ansi::LightBlue => Color::LightBlue,
        Ansi::LightMagenta => Color::LightMagenta,
        Ansi::LightCyan => Color::LightCyan,
    };
    if ink.bold {
        c.bold()
    } else {
        c.normal()
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
            paint(style(palette::class(ev.class())), ev.name().into_owned()),
            a
        );
        let res = args::format_result(ev);
        match ev.errno() {
            Some(e) => {
                let desc = crate::model::errno::description(e).unwrap_or("");
                out.push_str(&paint(style(palette::ERROR), res));
                out.push_str(&format!(" ({desc})"));
            }
            None => out.push_str(&paint(style(palette::OK), res)),
        }
        if ev.returns() {
            let d = ev.duration_ns();
            // Fast calls stay unpainted (no escape codes around them).
            let ink = palette::duration(d);
            let slow = if ink.color == Ansi::Default {
                Style::new()
            } else {
                style(ink)
            };
            out.push(' ');
            out.push_str(&paint(slow, format!("<{}>", fmt_duration(d))));
        }
        out
    }

    pub fn print(&self, w: &mut impl Write, ev: &TraceEvent) -> io::Result<()> {
        writeln!(w, "{}", self.line(ev))
    }

    /// The line with the event's container label in front:
    /// `namespace/pod/container`, the container name, or `host`.
    pub fn labeled_line(&self, label: &str, ev: &TraceEvent) -> String {
        if self.color {
            format!("{} {}", Color::DarkGray.paint(label), self.line(ev))
        } else {
            format!("{label} {}", self.line(ev))
        }
    }
}

/// Lines are held this long (in the events' own time) so that they come out
/// in the order the calls started, although the kernel reports calls when
/// they end. A call that took longer than this prints when it ends, after
/// calls that started later.
pub const REORDER_WINDOW_NS: u64 = 100_000_000;

/// Puts lines back in start order within `window`: a line goes out once
/// an event that finished `window` after its start has been seen (or the
/// clock says so, or at the end).
pub struct Reorder {
    held: BinaryHeap<Reverse<(u64, u64, String)>>,
    seq: u64,
    watermark: u64,
    window: u64,
}

impl Reorder {
    pub fn new(window: u64) -> Reorder {
        Reorder {
            held: BinaryHeap::new(),
            seq: 0,
            watermark: 0,
            window,
        }
    }

    pub fn push(&mut self, start_ns: u64, finish_ns: u64, line: String) {
        self.watermark = self.watermark.max(finish_ns);
        // Ties keep the order of arrival.
        self.held.push(Reverse((start_ns, self.seq, line)));
        self.seq += 1;
    }

    /// Time has passed without events (live): lines that old can go.
    pub fn advance(&mut self, now_ns: u64) {
        self.watermark = self.watermark.max(now_ns);
    }

    /// The next line whose time has come.
    pub fn pop_ready(&mut self) -> Option<String> {
        let Reverse((start, _, _)) = self.held.peek()?;
        if start.saturating_add(self.window) > self.watermark {
            return None;
        }
        self.held.pop().map(|Reverse((_, _, l))| l)
    }

    /// Every line still held, in order: the end of the stream.
    pub fn pop_any(&mut self) -> Option<String> {
        self.held.pop().map(|Reverse((_, _, l))| l)
    }
}

/// What `--no-tui` prints.
#[derive(Clone, Copy, Debug, Default)]
pub struct LineOptions {
    /// The `--summary` table at the end instead of lines.
    pub summary: bool,
    /// No lines (`-q`): the closing count only.
    pub quiet: bool,
    pub color: bool,
}

/// The `--no-tui` consumer: prints (or counts for `--summary`) the
/// batches that come out of the stages, and hands them on to an export.
pub struct Headless {
    opts: LineOptions,
    printer: Printer,
    out: BufWriter<Output>,
    reorder: Reorder,
    export: Option<Sink>,
    stats: Stats,
    pub shown: u64,
    pub lost: LostEvents,
    /// Live capture: where emptied batches go back for reuse.
    pub recycler: Option<Recycler>,
    /// Why output ended early, if it did (stdout closed or stalled).
    pub output_ended: Option<io::ErrorKind>,
}

impl Headless {
    pub fn new(opts: LineOptions, clock: Clock, stop: &Stop, export: Option<Sink>) -> Headless {
        Headless {
            opts,
            printer: Printer {
                color: opts.color,
                clock,
            },
            out: BufWriter::with_capacity(1 << 16, Output::stdout(stop.clone())),
            reorder: Reorder::new(REORDER_WINDOW_NS),
            export,
            stats: Stats::default(),
            shown: 0,
            lost: LostEvents::default(),
            recycler: None,
            output_ended: None,
        }
    }

    fn lines(&self) -> bool {
        !self.opts.summary && !self.opts.quiet
    }

    /// Runs `batch` through the stages and prints it. False when the run
    /// should end: stdout was closed (`| head`) or stalled past the stop,
    /// or the export writer stopped (its error comes out of its `finish`).
    pub fn handle(&mut self, stages: &mut Stages, mut batch: Vec<Event>) -> Result<bool> {
        if self.lines() {
            // Events the filter drops still tell how far time has got.
            let newest = batch.iter().fold(0, |m, e| match e {
                Event::Syscall(t) => m.max(t.start_ns.saturating_add(t.duration_ns())),
                _ => m,
            });
            self.reorder.advance(newest);
        }
        stages.apply(&mut batch);
        for ev in &batch {
            match ev {
                Event::Syscall(e) => {
                    self.shown += 1;
                    if self.opts.summary {
                        let label = node::with_node(e.node, stages.containers.label(e.cgroup_id));
                        self.stats.record(e, &label);
                    } else if !self.opts.quiet {
                        let label = node::with_node(e.node, stages.containers.label(e.cgroup_id));
                        let line = self.printer.labeled_line(&label, e);
                        let finish = e.start_ns.saturating_add(e.duration_ns());
                        self.reorder.push(e.start_ns, finish, line);
                    }
                }
                Event::Lost(l) => self.lost = *l,
                Event::ContainerAdd(_) | Event::ContainerDel(_) => {}
                // On stderr, where the other status lines go: lines on
                // stdout stay one per event.
                Event::Node(n) => say!("systrace-tui: {}", node::describe(n)),
            }
        }
        if let Some(s) = &self.export {
            if !s.send(batch) {
                return Ok(false);
            }
        } else if let Some(r) = &self.recycler {
            r.give(batch);
        }
        self.write_ready(false)
    }

    /// No events came for a while (live): lines old enough go out.
    pub fn idle(&mut self) -> Result<bool> {
        if self.lines() {
            self.reorder.advance(Clock::monotonic_now());
        }
        self.write_ready(false)
    }

    fn write_ready(&mut self, all: bool) -> Result<bool> {
        if self.output_ended.is_some() {
            return Ok(false);
        }
        let res = (|| -> io::Result<()> {
            loop {
                let next = if all {
                    self.reorder.pop_any()
                } else {
                    self.reorder.pop_ready()
                };
                let Some(line) = next else { break };
                self.out.write_all(line.as_bytes())?;
                self.out.write_all(b"\n")?;
            }
            self.out.flush()
        })();
        match res {
            Ok(()) => Ok(true),
            // A closed pipe (| head) or a reader that stopped reading ends
            // the output quietly; the summary still goes to stderr.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::BrokenPipe | io::ErrorKind::TimedOut
                ) =>
            {
                self.output_ended = Some(e.kind());
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Prints what is still held, then the `--summary` table if asked for.
    pub fn finish(&mut self) -> Result<()> {
        self.write_ready(true)?;
        if self.opts.summary {
            let table = self.stats.table(fmt_duration);
            crate::say!("{}", table.trim_end_matches('\n'));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_out_in_start_order_within_the_window() {
        let mut r = Reorder::new(100);
        // Reported when they end: a long call after a short one.
        r.push(50, 60, "b".into());
        r.push(10, 90, "a".into());
        assert_eq!(r.pop_ready(), None, "nothing is 100 old yet");
        r.push(70, 160, "c".into());
        assert_eq!(r.pop_ready().as_deref(), Some("a"));
        assert_eq!(r.pop_ready().as_deref(), Some("b"));
        assert_eq!(r.pop_ready(), None);
        // A call longer than the window goes out when it ends.
        r.push(5, 400, "long".into());
        assert_eq!(r.pop_ready().as_deref(), Some("long"));
        assert_eq!(r.pop_ready().as_deref(), Some("c"));
        // Time alone releases lines too; the end releases everything.
        r.push(1000, 1001, "d".into());
        r.push(1000, 1001, "e".into());
        r.advance(1100);
        assert_eq!(
            r.pop_ready().as_deref(),
            Some("d"),
            "ties keep arrival order"
        );
        r.push(2000, 2001, "f".into());
        assert_eq!(r.pop_ready().as_deref(), Some("e"));
        assert_eq!(r.pop_ready(), None);
        assert_eq!(r.pop_any().as_deref(), Some("f"));
    }
}
