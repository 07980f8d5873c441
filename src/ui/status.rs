//! The header (source, rates, counters) and footer (key hints) lines.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::app::{App, Source};

pub fn render_header(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let mode = match (&app.source, app.paused) {
        (_, true) => Span::styled(" PAUSED ", t.warn()),
        (Source::Live, false) => Span::styled(" LIVE ", t.ok()),
    };
    let lost = app.lost.total();
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
            app.events_per_sec(),
            app.total,
            app.store.len()
        )),
        Span::styled(format!("lost {lost}"), lost_style),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

pub fn render_footer(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let hint = "q quit  space pause  j/k scroll  PgUp/PgDn page  g/G top/bottom  ? help";
    let mut spans = vec![Span::styled(hint, t.dim())];
    if !app.follow && !app.paused {
        spans.push(Span::styled("  (not following: G to follow)", t.warn()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
