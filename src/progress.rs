//! Progress of long work (a headless replay or cut, an export finishing
//! after the TUI closed) on stderr: only when stderr is a terminal, so
//! pipes, files and logs never get a bar.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What the bar counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Events,
}

/// A bar on stderr, or nothing. Cleared when finished or dropped, so the
/// lines that follow (the summary) start on a clean line.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar over `total`, drawn at once, if stderr is a terminal that can
    /// redraw a line (not TERM=dumb or unset, as indicatif also judges).
    pub fn new(what: &str, total: u64, unit: Unit) -> Progress {
        let term = std::env::var("TERM").unwrap_or_default();
        let show = std::io::stderr().is_terminal() && !term.is_empty() && term != "dumb";
        Progress::with(what, total, unit, show)
    }

    pub fn hidden() -> Progress {
        Progress { bar: None }
    }

    fn with(what: &str, total: u64, unit: Unit, show: bool) -> Progress {
        if !show {
            return Progress::hidden();
        }
        let counts = match unit {
            Unit::Bytes => "{bytes}/{total_bytes}",
            Unit::Events => "{human_pos}/{human_len} events",
        };
        let style = ProgressStyle::with_template(&format!(
            "{{prefix}} [{{wide_bar}}] {{percent:>3}}% {counts}{{msg}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("#>.");
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            .with_style(style)
            .with_prefix(what.to_string());
        // Drawn now, not at the first update: a short job shows it too.
        bar.tick();
        Progress { bar: Some(bar) }
    }

    pub fn shown(&self) -> bool {
        self.bar.is_some()
    }

    pub fn set(&self, pos: u64) {
        if let Some(b) = &self.bar {
            b.set_position(pos);
        }
    }

    /// Extra words after the counts (`, 12034 events, 5 seconds left`).
    pub fn message(&self, msg: String) {
        if let Some(b) = &self.bar {
            b.set_message(msg);
        }
    }

    /// How long the rest should take at the rate so far.
    pub fn eta(&self) -> String {
        match &self.bar {
            Some(b) => indicatif::HumanDuration(b.eta()).to_string(),
            None => String::new(),
        }
    }

    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }

    /// Redraws at least this often while nothing else updates the bar (the
    /// elapsed time and estimate move on).
    pub fn steady(&self, every: Duration) {
        if let Some(b) = &self.bar {
            b.enable_steady_tick(every);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
