//! Progress of long work (a headless replay or cut, an export finishing
//! after the TUI closed) on stderr: one line redrawn in place, only when
//! stderr is a terminal that can do that, so pipes, files and logs never
//! get one.
//!
//! Drawn by hand rather than with a progress-bar crate: the line must
//! never fill the terminal's width (the `^C` a terminal echoes after it
//! would wrap it, and clearing the line would then miss it), and must
//! never wrap on a narrow terminal.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// What the bar counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Events,
}

/// Redraws at most this often.
const EVERY: Duration = Duration::from_millis(100);
const BAR: usize = 20;

struct State {
    what: String,
    total: u64,
    unit: Unit,
    pos: u64,
    msg: String,
    /// The first moment some progress was seen: the rate is counted from
    /// there, so a slow start (opening, a first pass) does not skew it.
    first: Option<(Instant, u64)>,
    drawn: Option<Instant>,
}

/// A line on stderr, or nothing. Cleared when finished or dropped, so the
/// lines that follow (the summary) start on a clean line.
pub struct Progress {
    state: Option<State>,
}

impl Progress {
    /// A bar over `total`, drawn at once, if stderr is a terminal that can
    /// redraw a line (not TERM=dumb or unset).
    pub fn new(what: &str, total: u64, unit: Unit) -> Progress {
        let term = std::env::var("TERM").unwrap_or_default();
        if !std::io::stderr().is_terminal() || term.is_empty() || term == "dumb" {
            return Progress::hidden();
        }
        let mut p = Progress {
            state: Some(State {
                what: what.to_string(),
                total,
                unit,
                pos: 0,
                msg: String::new(),
                first: None,
                drawn: None,
            }),
        };
        // Drawn now, not at the first update: a short job shows it too.
        p.draw();
        p
    }

    pub fn hidden() -> Progress {
        Progress { state: None }
    }

    pub fn shown(&self) -> bool {
        self.state.is_some()
    }

    pub fn set(&mut self, pos: u64) {
        if let Some(s) = &mut self.state {
            s.pos = pos.min(s.total);
            if s.first.is_none() && pos > 0 {
                s.first = Some((Instant::now(), s.pos));
            }
            self.draw();
        }
    }

    /// Extra words after the counts (`, 12034 events, 5 s left`).
    pub fn message(&mut self, msg: String) {
        if let Some(s) = &mut self.state {
            s.msg = msg;
        }
    }

    /// How long the rest should take at the rate so far ("" while unknown).
    pub fn eta(&self) -> String {
        let Some(s) = &self.state else {
            return String::new();
        };
        let Some((t0, p0)) = s.first else {
            return String::new();
        };
        let secs = t0.elapsed().as_secs_f64();
        let done = s.pos.saturating_sub(p0) as f64;
        if secs < 0.5 || done <= 0.0 {
            return String::new();
        }
        let left = (s.total - s.pos) as f64 / (done / secs);
        human_secs(left)
    }

    fn draw(&mut self) {
        let Some(s) = &mut self.state else {
            return;
        };
        if s.drawn.is_some_and(|t| t.elapsed() < EVERY) {
            return;
        }
        s.drawn = Some(Instant::now());
        let line = render(s);
        // Two columns spare: room for an echoed ^C, and no wrap.
        let width = terminal_width().saturating_sub(2).max(10);
        let line: String = line.chars().take(width).collect();
        let _ = std::io::stderr().write_all(format!("\r{line}\x1b[K").as_bytes());
    }

    pub fn finish(&mut self) {
        if let Some(s) = self.state.take() {
            if s.drawn.is_some() {
                let _ = std::io::stderr().write_all(b"\r\x1b[K");
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

fn render(s: &State) -> String {
    let frac = if s.total == 0 {
        1.0
    } else {
        s.pos as f64 / s.total as f64
    };
    let filled = ((frac * BAR as f64) as usize).min(BAR);
    let mut bar = "#".repeat(filled);
    if filled < BAR {
        bar.push('>');
        bar.push_str(&".".repeat(BAR - filled - 1));
    }
    let counts = match s.unit {
        Unit::Bytes => format!("of {}", human_bytes(s.total)),
        Unit::Events => format!("{}/{} events", s.pos, s.total),
    };
    format!(
        "{} [{bar}] {:>3}% {counts}{}",
        s.what,
        (frac * 100.0) as u32,
        s.msg
    )
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

fn human_secs(s: f64) -> String {
    let s = s.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// Columns of the terminal on stderr (80 when it cannot be asked).
fn terminal_width() -> usize {
    // SAFETY: TIOCGWINSZ fills a winsize we own.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    if ok && ws.ws_col > 0 {
        usize::from(ws.ws_col)
    } else {
        80
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(total: u64, pos: u64, unit: Unit) -> State {
        State {
            what: "replaying s.jsonl".into(),
            total,
            unit,
            pos,
            msg: ", 12 events".into(),
            first: None,
            drawn: None,
        }
    }

    #[test]
    fn the_line_says_how_far_and_of_what() {
        assert_eq!(
            render(&state(4 << 20, 1 << 20, Unit::Bytes)),
            "replaying s.jsonl [#####>..............]  25% of 4.0 MiB, 12 events"
        );
        let mut s = state(8, 8, Unit::Events);
        s.msg.clear();
        assert_eq!(
            render(&s),
            "replaying s.jsonl [####################] 100% 8/8 events"
        );
        assert_eq!(
            render(&state(0, 0, Unit::Bytes)),
            "replaying s.jsonl [####################] 100% of 0 B, 12 events"
        );
    }

    #[test]
    fn durations_and_sizes_read_as_people_write_them() {
        assert_eq!(human_secs(42.4), "42 s");
        assert_eq!(human_secs(185.0), "3 min 5 s");
        assert_eq!(human_secs(3700.0), "1 h 1 min");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(1 << 30), "1.0 GiB");
    }
}
