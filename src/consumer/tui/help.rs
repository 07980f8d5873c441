//! The help overlay, generated from the one key table.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::keys;
use super::theme::Theme;

/// Draws the help scrolled to `scroll` (clamped to what there is); returns
/// the scroll it used.
pub fn render(f: &mut Frame, area: Rect, t: &Theme, scroll: u16) -> u16 {
    let rows = keys::help_rows();
    let n = rows.len() as u16;
    let w = 84.min(area.width);
    let h = (n + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let inner_h = h.saturating_sub(2);
    let scroll = scroll.min(n.saturating_sub(inner_h));
    let lines: Vec<Line> = rows
        .into_iter()
        .map(|(k, h)| {
            Line::from(vec![
                Span::styled(format!("{k:>16}  "), t.header()),
                Span::raw(h),
            ])
        })
        .collect();
    // When it does not fit, the title says which part shows and how to move.
    let title = if inner_h < n {
        let last = (scroll + inner_h).min(n);
        let more = match (scroll > 0, last < n) {
            (true, true) => "↑↓",
            (false, true) => "↓",
            (true, false) => "↑",
            (false, false) => "",
        };
        format!(
            " keys {}-{last} of {n} {more} (j/k PgUp/PgDn scroll, ? or Esc close) ",
            scroll + 1
        )
    } else {
        " keys (? or Esc to close) ".to_string()
    };
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines)
            .block(Block::default().borders(Borders::ALL).title(title))
            .scroll((scroll, 0)),
        popup,
    );
    scroll
}

#[cfg(test)]
mod tests {
    use crate::consumer::tui::keys::{Action, BINDINGS};
    use crate::consumer::tui::testutil::{app_with, screen};

    #[test]
    fn help_lists_every_key_of_the_table() {
        let mut app = app_with(vec![]);
        app.on_action(Action::Help);
        let s = screen(&mut app, 100, 40);
        for b in BINDINGS {
            assert!(s.contains(b.label), "{} missing:\n{s}", b.label);
            assert!(s.contains(b.help), "{} missing:\n{s}", b.help);
        }
        // A key that does not scroll closes it.
        app.on_action(Action::Filter);
        assert!(!screen(&mut app, 100, 40).contains("keys (?"));
    }
}
