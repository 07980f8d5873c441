//! UI state and key handling. `App` holds what is shown; `render` only reads
//! it and never does I/O.

use std::time::{Duration, Instant};

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table};
use ratatui::Frame;

use super::keys::{self, Action};
use super::store::Store;
use super::theme::Theme;
use crate::clock::{fmt_duration, Clock};
use crate::model::args;
use crate::model::event::{Event, LostEvents, TraceEvent};

/// Where the events come from, shown in the header.
#[derive(Clone, Debug)]
pub enum Source {
    Live,
}

pub struct App {
    pub store: Store,
    pub theme: Theme,
    pub clock: Clock,
    pub source: Source,
    /// Newest event stays selected and visible.
    pub follow: bool,
    pub paused: bool,
    pub show_help: bool,
    /// Selected event (sequence number).
    pub selected: u64,
    /// Sequence number of the first visible row.
    pub top: u64,
    /// Rows in the event table at the last draw (for paging).
    pub page: u64,
    pub total: u64,
    pub lost: LostEvents,
    pub quit: bool,
    rate: Rate,
}

/// Events per second over the last full second.
struct Rate {
    window_start: Instant,
    count: u64,
    per_sec: f64,
}

impl Rate {
    fn new() -> Rate {
        Rate {
            window_start: Instant::now(),
            count: 0,
            per_sec: 0.0,
        }
    }

    fn add(&mut self, n: u64) {
        self.count += n;
        let el = self.window_start.elapsed();
        if el >= Duration::from_secs(1) {
            self.per_sec = self.count as f64 / el.as_secs_f64();
            self.count = 0;
            self.window_start = Instant::now();
        }
    }
}

impl App {
    pub fn new(retain: usize, theme: Theme, clock: Clock, source: Source) -> App {
        App {
            store: Store::new(retain),
            theme,
            clock,
            source,
            follow: true,
            paused: false,
            show_help: false,
            selected: 0,
            top: 0,
            page: 20,
            total: 0,
            lost: LostEvents::default(),
            quit: false,
            rate: Rate::new(),
        }
    }

    pub fn ingest(&mut self, ev: Event) {
        match ev {
            Event::Syscall(e) => {
                self.total += 1;
                self.store.push(e);
            }
            Event::Lost(l) => self.lost = l,
        }
    }

    pub fn ingest_batch(&mut self, batch: Vec<Event>) {
        let n = batch.len() as u64;
        for ev in batch {
            self.ingest(ev);
        }
        self.rate.add(n);
    }

    /// Call once per frame: keeps rates fresh when nothing arrives.
    pub fn tick(&mut self) {
        self.rate.add(0);
    }

    pub fn events_per_sec(&self) -> f64 {
        self.rate.per_sec
    }

    pub fn on_action(&mut self, a: Action) {
        let first = self.store.first_seq();
        let last = self.store.end_seq().saturating_sub(1);
        match a {
            Action::Quit => self.quit = true,
            Action::TogglePause => {
                self.paused = !self.paused;
                self.follow = !self.paused;
            }
            Action::Up => self.move_to(self.current().saturating_sub(1)),
            Action::Down => self.move_to(self.current() + 1),
            Action::PageUp => self.move_to(self.current().saturating_sub(self.page)),
            Action::PageDown => self.move_to(self.current() + self.page),
            Action::Top => self.move_to(first),
            Action::Bottom => {
                self.selected = last;
                self.follow = true;
                self.paused = false;
            }
            Action::Help => self.show_help = !self.show_help,
        }
    }

    /// The selected sequence number, clamped to what is retained.
    pub fn current(&self) -> u64 {
        let first = self.store.first_seq();
        let last = self.store.end_seq().saturating_sub(1);
        if self.follow {
            last
        } else {
            self.selected.clamp(first, last.max(first))
        }
    }

    fn move_to(&mut self, seq: u64) {
        let first = self.store.first_seq();
        let last = self.store.end_seq().saturating_sub(1);
        self.selected = seq.clamp(first, last.max(first));
        // Moving the cursor means the user is reading: stop following.
        self.follow = false;
    }

    pub fn render(&mut self, f: &mut Frame) {
        let area = f.area();
        let [head, body, foot] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
        ])
        .areas(area);
        self.render_header(f, head);
        self.render_stream(f, body);
        self.render_footer(f, foot);
        if self.show_help {
            render_help(f, area, &self.theme);
        }
    }

    fn render_header(&self, f: &mut Frame, area: Rect) {
        let t = &self.theme;
        let mode = match (&self.source, self.paused) {
            (_, true) => Span::styled(" PAUSED ", t.warn()),
            (Source::Live, false) => Span::styled(" LIVE ", t.ok()),
        };
        let lost = self.lost.total();
        let lost_style = if lost > 0 {
            t.error()
        } else {
            Style::default()
        };
        let line = Line::from(vec![
            Span::styled("systrace-tui", t.header()),
            mode,
            Span::raw(format!(
                "| {:.0} ev/s | total {} | retained {} | ",
                self.events_per_sec(),
                self.total,
                self.store.len()
            )),
            Span::styled(format!("lost {lost}"), lost_style),
        ]);
        f.render_widget(Paragraph::new(line), area);
    }

    fn render_stream(&mut self, f: &mut Frame, area: Rect) {
        let t = self.theme;
        let rows_avail = area.height.saturating_sub(1) as u64; // minus header row
        self.page = rows_avail.max(1);
        let cur = self.current();
        let first = self.store.first_seq();
        let end = self.store.end_seq();
        // Keep the selection visible with as little scrolling as possible.
        let mut top = self.top.max(first);
        if cur < top {
            top = cur;
        }
        if cur >= top + rows_avail {
            top = cur + 1 - rows_avail;
        }
        self.top = top;
        let mut rows = Vec::with_capacity(rows_avail as usize);
        for seq in top..end.min(top + rows_avail) {
            let Some(ev) = self.store.get(seq) else { break };
            let mut row = stream_row(ev, &self.clock, &t);
            if seq == cur && !self.store.is_empty() {
                row = row.style(t.selected());
            }
            rows.push(row);
        }
        let widths = [
            Constraint::Length(15),
            Constraint::Length(16),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(16),
            Constraint::Fill(1),
            Constraint::Length(14),
            Constraint::Length(9),
        ];
        let header = Row::new([
            "TIME", "COMM", "PID", "TID", "SYSCALL", "ARGS", "RESULT", "DURATION",
        ])
        .style(t.header());
        let table = Table::new(rows, widths).header(header).column_spacing(1);
        f.render_widget(table, area);
    }

    fn render_footer(&self, f: &mut Frame, area: Rect) {
        let t = &self.theme;
        let hint = "q quit  space pause  j/k scroll  PgUp/PgDn page  g/G top/bottom  ? help";
        let mut spans = vec![Span::styled(hint, t.dim())];
        if !self.follow && !self.paused {
            spans.push(Span::styled("  (not following: G to follow)", t.warn()));
        }
        f.render_widget(Paragraph::new(Line::from(spans)), area);
    }
}

/// One row of the event table. Every string from the traced process is
/// escaped by the model's formatters before it gets here.
pub fn stream_row<'a>(ev: &TraceEvent, clock: &Clock, t: &Theme) -> Row<'a> {
    let mut a = String::new();
    args::format_args(ev, &mut a);
    let result = args::format_result(ev);
    let result_style = if ev.errno().is_some() {
        t.error()
    } else {
        t.ok()
    };
    let dur = ev.duration_ns();
    Row::new(vec![
        Span::raw(clock.time_of_day(ev.start_ns)),
        Span::raw(ev.comm()),
        Span::raw(ev.pid.to_string()),
        Span::raw(ev.tid.to_string()),
        Span::styled(ev.name().into_owned(), t.class(ev.class())),
        Span::raw(a),
        Span::styled(result, result_style),
        Span::styled(
            if ev.returns() {
                fmt_duration(dur)
            } else {
                String::new()
            },
            t.duration(dur),
        ),
    ])
}

fn render_help(f: &mut Frame, area: Rect, t: &Theme) {
    let rows = keys::help_rows();
    let w = 60.min(area.width);
    let h = (rows.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let lines: Vec<Line> = rows
        .into_iter()
        .map(|(k, h)| {
            Line::from(vec![
                Span::styled(format!("{k:>14}  "), t.header()),
                Span::raw(h),
            ])
        })
        .collect();
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" keys ")),
        popup,
    );
}
