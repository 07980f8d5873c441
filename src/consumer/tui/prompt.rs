//! A one-line text prompt at the bottom of the screen (filter, search, and
//! any other view that needs a line of input), with an optional error that
//! points a caret at the column of the mistake.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use regex::Regex;

use super::theme::Theme;
use crate::model::filter::{Filter, FilterError};

/// What the prompt is for; the app decides what to do with the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    Search,
}

impl PromptKind {
    fn label(self) -> &'static str {
        match self {
            PromptKind::Filter => "filter: ",
            PromptKind::Search => "search /",
        }
    }
}

/// A problem with the input, at a 1-based character column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptError {
    pub column: usize,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
    /// Cursor position in characters.
    pub cursor: usize,
    pub error: Option<PromptError>,
}

/// Result of one key press in the prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptOutcome {
    /// Cursor moved or nothing happened.
    Unchanged,
    /// The text changed (time to re-validate).
    Edited,
    Submit,
    Cancel,
}

impl Prompt {
    pub fn new(kind: PromptKind, initial: &str) -> Prompt {
        Prompt {
            kind,
            input: initial.to_string(),
            cursor: initial.chars().count(),
            error: None,
        }
    }

    fn byte_at(&self, char_idx: usize) -> usize {
        self.input
            .char_indices()
            .nth(char_idx)
            .map_or(self.input.len(), |(b, _)| b)
    }

    pub fn on_key(&mut self, k: &KeyEvent) -> PromptOutcome {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let len = self.input.chars().count();
        match k.code {
            KeyCode::Enter => PromptOutcome::Submit,
            KeyCode::Esc => PromptOutcome::Cancel,
            KeyCode::Char('c') if ctrl => PromptOutcome::Cancel,
            KeyCode::Char('u') if ctrl => {
                self.input.clear();
                self.cursor = 0;
                PromptOutcome::Edited
            }
            KeyCode::Char('a') if ctrl => {
                self.cursor = 0;
                PromptOutcome::Unchanged
            }
            KeyCode::Char('e') if ctrl => {
                self.cursor = len;
                PromptOutcome::Unchanged
            }
            KeyCode::Char(c) if !ctrl => {
                let b = self.byte_at(self.cursor);
                self.input.insert(b, c);
                self.cursor += 1;
                PromptOutcome::Edited
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let b = self.byte_at(self.cursor);
                self.input.remove(b);
                PromptOutcome::Edited
            }
            KeyCode::Delete if self.cursor < len => {
                let b = self.byte_at(self.cursor);
                self.input.remove(b);
                PromptOutcome::Edited
            }
            KeyCode::Left => {
                self.cursor = self.cursor.saturating_sub(1);
                PromptOutcome::Unchanged
            }
            KeyCode::Right => {
                self.cursor = (self.cursor + 1).min(len);
                PromptOutcome::Unchanged
            }
            KeyCode::Home => {
                self.cursor = 0;
                PromptOutcome::Unchanged
            }
            KeyCode::End => {
                self.cursor = len;
                PromptOutcome::Unchanged
            }
            _ => PromptOutcome::Unchanged,
        }
    }

    /// A key press, with the input checked again when it changed, so the
    /// error shows while typing.
    pub fn key(&mut self, k: &KeyEvent) -> PromptOutcome {
        let out = self.on_key(k);
        if out == PromptOutcome::Edited {
            self.error = validate(self.kind, &self.input).err();
        }
        out
    }

    /// Lines the prompt needs: the input, and the error under it.
    pub fn height(&self) -> u16 {
        1 + self.error.is_some() as u16
    }

    pub fn render(&self, f: &mut Frame, area: Rect, t: &Theme) {
        let label = self.kind.label();
        let mut lines = vec![Line::from(vec![
            Span::styled(label, t.header()),
            Span::raw(self.input.as_str()),
        ])];
        if let Some(e) = &self.error {
            // The caret sits under the offending character of the input.
            let pad = label.chars().count() + e.column.saturating_sub(1);
            lines.push(Line::from(Span::styled(
                format!("{:pad$}^ {}", "", e.message),
                t.error(),
            )));
        }
        f.render_widget(Paragraph::new(lines), area);
        let x = area.x + (label.chars().count() + self.cursor) as u16;
        if x < area.right() {
            f.set_cursor_position((x, area.y));
        }
    }
}

impl From<FilterError> for PromptError {
    fn from(e: FilterError) -> PromptError {
        PromptError {
            column: e.column,
            message: e.message,
        }
    }
}

/// Checks prompt input: a filter that parses, a regex that compiles.
pub fn validate(kind: PromptKind, text: &str) -> Result<(), PromptError> {
    if text.trim().is_empty() {
        return Ok(());
    }
    match kind {
        PromptKind::Filter => Filter::parse(text).map(|_| ()).map_err(PromptError::from),
        PromptKind::Search => Regex::new(text).map(|_| ()).map_err(|e| {
            let msg = e.to_string();
            let last = msg.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
            PromptError {
                column: 1,
                message: format!(
                    "invalid regex: {}",
                    last.trim().trim_start_matches("error: ")
                ),
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(p: &mut Prompt, code: KeyCode) -> PromptOutcome {
        p.on_key(&KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn edits_at_the_cursor() {
        let mut p = Prompt::new(PromptKind::Filter, "pd");
        assert_eq!(press(&mut p, KeyCode::Left), PromptOutcome::Unchanged);
        assert_eq!(press(&mut p, KeyCode::Char('i')), PromptOutcome::Edited);
        assert_eq!(p.input, "pid");
        press(&mut p, KeyCode::End);
        press(&mut p, KeyCode::Backspace);
        assert_eq!(p.input, "pi");
        press(&mut p, KeyCode::Home);
        press(&mut p, KeyCode::Delete);
        assert_eq!(p.input, "i");
        assert_eq!(press(&mut p, KeyCode::Enter), PromptOutcome::Submit);
        assert_eq!(press(&mut p, KeyCode::Esc), PromptOutcome::Cancel);
    }

    #[test]
    fn multibyte_input_is_edited_by_character() {
        let mut p = Prompt::new(PromptKind::Search, "é");
        press(&mut p, KeyCode::Char('x'));
        press(&mut p, KeyCode::Left);
        press(&mut p, KeyCode::Backspace);
        assert_eq!(p.input, "x");
    }
}
