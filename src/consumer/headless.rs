//! `--no-tui`: one strace-like line per event on stdout (consumer/line.rs,
//! painted with ANSI colours when asked to), or the `--summary` table at
//! the end.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, BufWriter, IsTerminal, Write};

use anyhow::Result;

use super::line::Fields;
use super::Consumer;
use crate::clock::{fmt_duration, Clock};
use crate::model::container::ContainerMap;
use crate::model::counts::Counted;
use crate::model::event::{Event, TraceEvent};
use crate::model::node;
use crate::model::stats::Stats;
use crate::model::stop::Stop;
use crate::terminal::output::Output;
use crate::terminal::palette;

pub struct Printer {
    pub color: bool,
    pub clock: Clock,
}

impl Printer {
    /// `12:00:00.123456 cat[42/42] openat(...) = -1 ENOENT (No such file or directory) <12.3us>`
    pub fn line(&self, ev: &TraceEvent) -> String {
        palette::ansi(&Fields::of(ev, &self.clock, None).headless(), self.color)
    }

    pub fn print(&self, w: &mut impl Write, ev: &TraceEvent) -> io::Result<()> {
        writeln!(w, "{}", self.line(ev))
    }

    /// The line with the event's container label in front:
    /// `namespace/pod/container`, the container name, or `host`.
    pub fn labeled_line(&self, label: &str, ev: &TraceEvent) -> String {
        let f = Fields::of(ev, &self.clock, Some(label.to_string()));
        palette::ansi(&f.headless(), self.color)
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

/// Lines to standard output in the order the calls started (`Reorder`).
/// A reader that leaves (`| head`) or stalls past the stop ends the output
/// quietly; the closing summary still goes to stderr.
pub struct LineOut {
    out: BufWriter<Output>,
    reorder: Reorder,
    /// Why output ended early, if it did.
    pub ended: Option<io::ErrorKind>,
}

impl LineOut {
    pub fn stdout(stop: &Stop) -> LineOut {
        LineOut {
            out: BufWriter::with_capacity(1 << 16, Output::stdout(stop.clone())),
            reorder: Reorder::new(REORDER_WINDOW_NS),
            ended: None,
        }
    }

    /// Time has got as far as the newest end in `batch` (events the
    /// filter drops count too).
    pub fn arrived(&mut self, batch: &[Event]) {
        let newest = batch.iter().fold(0, |m, e| match e {
            Event::Syscall(t) => m.max(t.start_ns.saturating_add(t.duration_ns())),
            _ => m,
        });
        self.reorder.advance(newest);
    }

    /// Nothing came for a while: time moves on by the clock.
    pub fn idle(&mut self) {
        self.reorder.advance(Clock::monotonic_now());
    }

    pub fn push(&mut self, e: &TraceEvent, line: String) {
        let finish = e.start_ns.saturating_add(e.duration_ns());
        self.reorder.push(e.start_ns, finish, line);
    }

    /// Writes the lines old enough (`all`: every line held). False once
    /// the reader has gone.
    pub fn write_ready(&mut self, all: bool) -> Result<bool> {
        if self.ended.is_some() {
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
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::BrokenPipe | io::ErrorKind::TimedOut
                ) =>
            {
                self.ended = Some(e.kind());
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// The `--no-tui` consumer: prints (or counts for `--summary`) the
/// batches that come out of the stages.
pub struct Headless {
    opts: LineOptions,
    printer: Printer,
    out: LineOut,
    stats: Stats,
    /// The kernel counts the calls (no events come): the summary is made
    /// from its counts and the labels of the containers announced.
    pub counted: Option<Counted>,
}

impl Headless {
    pub fn new(opts: LineOptions, clock: Clock, stop: &Stop) -> Headless {
        Headless {
            opts,
            printer: Printer {
                color: opts.color,
                clock,
            },
            out: LineOut::stdout(stop),
            stats: Stats::default(),
            counted: None,
        }
    }

    fn lines(&self) -> bool {
        !self.opts.summary && !self.opts.quiet
    }
}

impl Consumer for Headless {
    fn arrived(&mut self, batch: &[Event]) {
        if self.lines() {
            self.out.arrived(batch);
        }
    }

    fn take(&mut self, batch: &[Event], containers: &ContainerMap) -> Result<bool> {
        for ev in batch {
            if let Event::Syscall(e) = ev {
                if self.opts.summary {
                    let label = node::with_node(e.node, containers.label(e.id.cgroup_id));
                    self.stats.record(e, &label);
                } else if !self.opts.quiet {
                    let label = node::with_node(e.node, containers.label(e.id.cgroup_id));
                    let line = self.printer.labeled_line(&label, e);
                    self.out.push(e, line);
                }
            }
        }
        self.out.write_ready(false)
    }

    /// No events came for a while (live): lines old enough go out.
    fn idle(&mut self) -> Result<bool> {
        if self.lines() {
            self.out.idle();
        }
        self.out.write_ready(false)
    }

    /// Prints what is still held, then the `--summary` table if asked for.
    fn finish(&mut self) -> Result<()> {
        self.out.write_ready(true)?;
        if self.opts.summary {
            let table = match &self.counted {
                Some(c) => c.stats().0.table(fmt_duration),
                None => self.stats.table(fmt_duration),
            };
            crate::say!("{}", table.trim_end_matches('\n'));
        }
        Ok(())
    }

    fn lines_on_terminal(&self) -> bool {
        self.lines() && io::stdout().is_terminal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::line::tests::close_of;

    /// The coloured line's bytes: the label dark grey, the name in its
    /// class's colour, the result red and bold or green, a slow call's
    /// duration yellow, everything else without escape codes.
    #[test]
    fn coloured_lines_keep_their_bytes() {
        let clock = Clock { boot_unix_ns: 0 };
        let p = Printer { color: true, clock };
        let t = clock.time_of_day(1_000);
        assert_eq!(
            p.labeled_line("web", &close_of(-9, 2_500)),
            format!(
                "\x1b[90mweb\x1b[0m {t} sh[7/8] \x1b[34mclose\x1b[0m(3) = \x1b[1;31m-1 EBADF\x1b[0m \
                 (Bad file descriptor) <2.5us>"
            )
        );
        assert_eq!(
            p.line(&close_of(0, 2_000_000)),
            format!(
                "{t} sh[7/8] \x1b[34mclose\x1b[0m(3) = \x1b[32m0\x1b[0m \x1b[33m<2.00ms>\x1b[0m"
            )
        );
    }

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
