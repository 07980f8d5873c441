//! The help overlay, generated from the one key table.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::keys;
use super::theme::Theme;

pub fn render(f: &mut Frame, area: Rect, t: &Theme) {
    let rows = keys::help_rows();
    let w = 84.min(area.width);
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
                Span::styled(format!("{k:>16}  "), t.header()),
                Span::raw(h),
            ])
        })
        .collect();
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" keys (? or Esc to close) "),
        ),
        popup,
    );
}

#[cfg(test)]
mod tests {
    use crate::ui::keys::{Action, BINDINGS};
    use crate::ui::testutil::{app_with, screen};

    #[test]
    fn help_lists_every_key_of_the_table() {
        let mut app = app_with(vec![]);
        app.on_action(Action::Help);
        let s = screen(&mut app, 100, 40);
        for b in BINDINGS {
            assert!(s.contains(b.label), "{} missing:\n{s}", b.label);
            assert!(s.contains(b.help), "{} missing:\n{s}", b.help);
        }
        app.on_action(Action::Down);
        assert!(!screen(&mut app, 100, 40).contains("keys (?"));
    }
}
