//! The header (source, rates, counters) and footer (key hints) lines.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::app::{App, Source, Tab};

/// The header's pieces; each stays whole on one line when the header wraps.
fn header_pieces(app: &App) -> Vec<Vec<Span<'static>>> {
    let t = &app.theme;
    let mode = match (&app.source, app.list.paused) {
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
    let tab = |name: &'static str, on: bool| {
        if on {
            Span::styled(format!(" [{name}]"), t.header())
        } else {
            Span::styled(format!("  {name} "), t.dim())
        }
    };
    let mut p: Vec<Vec<Span<'static>>> = vec![vec![Span::styled("systrace-tui", t.header()), mode]];
    if let Source::Live = app.source {
        // A replay's arrival rate is how fast the file loads, not a rate
        // of the traced machine: none is shown.
        p.push(vec![Span::raw(format!(
            "| {:.0} ev/s ",
            app.events_per_sec()
        ))]);
    }
    p.extend([
        vec![Span::raw(format!("| total {} ", app.total))],
        vec![Span::raw(format!("| retained {} ", app.store.len()))],
        vec![
            Span::raw("| "),
            Span::styled(format!("lost {lost}"), lost_style),
        ],
        vec![
            Span::raw(" |"),
            tab("stream", app.tab == Tab::Stream),
            tab("stats", app.tab == Tab::Stats),
        ],
    ]);
    if let Some(k) = super::top::kernel_piece(app) {
        p.push(k);
    }
    if app.store.evicted > 0 {
        // The store is full: the oldest events are gone from the view (a
        // replay longer than --retain, or a long live run).
        p.push(vec![Span::styled(
            format!(
                " | oldest {} dropped: --retain {}",
                app.store.evicted,
                app.store.capacity()
            ),
            t.warn(),
        )]);
    }
    if let Some(v) = app.tree.describe(&app.containers) {
        p.push(vec![Span::raw(" | view: "), Span::styled(v, t.warn())]);
    }
    if app.errors_only {
        p.push(vec![Span::styled(" | errors only", t.error())]);
    }
    if let Some(flt) = &app.filter {
        p.push(vec![
            Span::raw(" | filter: "),
            Span::styled(flt.text().to_string(), t.warn()),
        ]);
    }
    if !app.unfiltered() {
        p.push(vec![Span::raw(format!(" ({} shown)", app.row_count()))]);
    }
    if let Some(done) = app.refilter_progress() {
        p.push(vec![Span::styled(
            format!(" filtering {:.0}%", done * 100.0),
            t.warn(),
        )]);
    }
    if let Source::Replay { path, load } = &app.source {
        // Where the session comes from, and how far loading got.
        p.push(vec![Span::raw(format!(
            " | {}",
            crate::model::escape::plain(path.as_os_str().as_encoded_bytes(), 200)
        ))]);
        p.push(vec![Span::raw(format!(" | {}", load.status()))]);
    }
    p
}

/// The header as lines of at most `width` cells: pieces go on the next
/// line rather than off the edge. At most `MAX_HEADER` lines.
pub fn header_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width.max(1));
    let mut lines: Vec<Line<'static>> = vec![Line::default()];
    for piece in header_pieces(app) {
        let w: usize = piece.iter().map(Span::width).sum();
        let cur = lines.last_mut().expect("one line");
        if cur.width() > 0 && cur.width() + w > width {
            // A piece that starts a line drops its separator's space.
            let mut piece = piece;
            if let Some(first) = piece.first_mut() {
                let trimmed = first.content.trim_start().to_string();
                first.content = trimmed.into();
            }
            lines.push(Line::from(piece));
        } else {
            cur.spans.extend(piece);
        }
    }
    lines.truncate(MAX_HEADER);
    lines
}

/// The header never takes more than this many lines.
pub const MAX_HEADER: usize = 3;

pub fn render_header(app: &App, f: &mut Frame, area: Rect) {
    f.render_widget(Paragraph::new(header_lines(app, area.width)), area);
}

pub fn render_footer(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let hint = "? help  q quit  f filter  e errors  / search  n/N next/prev  Enter details  s stats  space pause  G follow";
    if let Some(m) = &app.message {
        f.render_widget(Paragraph::new(Span::styled(m.as_str(), t.warn())), area);
        return;
    }
    let mut spans = vec![Span::styled(hint, t.dim())];
    if !app.list.follow && !app.list.paused {
        spans.push(Span::styled("  (not following: G to follow)", t.warn()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
