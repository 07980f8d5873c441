//! The header (source, rates, counters) and footer (key hints) lines.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::app::{App, Source, Tab};

pub fn render_header(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let mode = match (&app.source, app.paused) {
        (_, true) => Span::styled(" PAUSED ", t.warn()),
        (Source::Live, false) => Span::styled(" LIVE ", t.ok()),
        (Source::Replay { .. }, false) => Span::styled(" REPLAY ", t.warn()),
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
    let mut line = line;
    let tab = |name: &'static str, on: bool| {
        if on {
            Span::styled(format!(" [{name}]"), t.header())
        } else {
            Span::styled(format!("  {name} "), t.dim())
        }
    };
    line.spans.push(Span::raw(" |"));
    line.spans.push(tab("stream", app.tab == Tab::Stream));
    line.spans.push(tab("stats", app.tab == Tab::Stats));
    if app.errors_only {
        line.spans.push(Span::styled(" | errors only", t.error()));
    }
    if let Some(flt) = &app.filter {
        line.spans.push(Span::raw(" | filter: "));
        line.spans
            .push(Span::styled(flt.text().to_string(), t.warn()));
    }
    if app.filter.is_some() || app.errors_only {
        line.spans
            .push(Span::raw(format!(" ({} shown)", app.row_count())));
    }
    if let Some(done) = app.refilter_progress() {
        line.spans.push(Span::styled(
            format!(" filtering {:.0}%", done * 100.0),
            t.warn(),
        ));
    }
    if let Source::Replay { path, load } = &app.source {
        // Where the session comes from, and how far loading got.
        line.spans.push(Span::raw(format!(
            " | {} | {}",
            crate::model::escape::plain(path.as_os_str().as_encoded_bytes(), 200),
            load.status()
        )));
    }
    f.render_widget(Paragraph::new(line), area);
}

pub fn render_footer(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let hint = "? help  q quit  f filter  e errors  / search  n/N next/prev  Enter details  s stats  space pause  G follow";
    if let Some(m) = &app.message {
        f.render_widget(Paragraph::new(Span::styled(m.as_str(), t.warn())), area);
        return;
    }
    let mut spans = vec![Span::styled(hint, t.dim())];
    if !app.follow && !app.paused {
        spans.push(Span::styled("  (not following: G to follow)", t.warn()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
