//! The one key table: bindings and help text come from here, so they
//! cannot drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    TogglePause,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Help,
    SwitchPane,
    Filter,
    ErrorsOnly,
    Search,
    NextMatch,
    PrevMatch,
    Details,
    Stats,
    SortNext,
    SortReverse,
    Copy,
    Close,
    Export,
    TopView,
    GroupBy,
}

pub struct Binding {
    pub code: KeyCode,
    pub mods: KeyModifiers,
    pub action: Action,
    /// How the key is written in help.
    pub label: &'static str,
    pub help: &'static str,
}

const fn key(code: KeyCode, action: Action, label: &'static str, help: &'static str) -> Binding {
    Binding {
        code,
        mods: KeyModifiers::NONE,
        action,
        label,
        help,
    }
}

pub const BINDINGS: &[Binding] = &[
    key(
        KeyCode::Tab,
        Action::SwitchPane,
        "Tab",
        "move between the container pane and the stream",
    ),
    key(KeyCode::Char('q'), Action::Quit, "q", "quit"),
    Binding {
        code: KeyCode::Char('c'),
        mods: KeyModifiers::CONTROL,
        action: Action::Quit,
        label: "Ctrl-C",
        help: "quit",
    },
    key(
        KeyCode::Char(' '),
        Action::TogglePause,
        "space",
        "pause / resume the view (capture goes on)",
    ),
    key(KeyCode::Char('k'), Action::Up, "k", "previous event"),
    key(KeyCode::Up, Action::Up, "Up", "previous event"),
    key(KeyCode::Char('j'), Action::Down, "j", "next event"),
    key(KeyCode::Down, Action::Down, "Down", "next event"),
    key(KeyCode::PageUp, Action::PageUp, "PgUp", "page up"),
    key(KeyCode::PageDown, Action::PageDown, "PgDn", "page down"),
    key(
        KeyCode::Char('g'),
        Action::Top,
        "g",
        "oldest retained event",
    ),
    key(KeyCode::Home, Action::Top, "Home", "oldest retained event"),
    key(
        KeyCode::Char('G'),
        Action::Bottom,
        "G",
        "newest event and follow",
    ),
    key(
        KeyCode::End,
        Action::Bottom,
        "End",
        "newest event and follow",
    ),
    key(
        KeyCode::Char('f'),
        Action::Filter,
        "f",
        "filter, e.g. pod == web and class == file and errno != 0",
    ),
    key(
        KeyCode::Char('e'),
        Action::ErrorsOnly,
        "e",
        "errors only, on / off",
    ),
    key(
        KeyCode::Char('/'),
        Action::Search,
        "/",
        "search (regex over the shown line)",
    ),
    key(KeyCode::Char('n'), Action::NextMatch, "n", "next match"),
    key(KeyCode::Char('N'), Action::PrevMatch, "N", "previous match"),
    key(
        KeyCode::Enter,
        Action::Details,
        "Enter",
        "details of the event; top view: capture the row",
    ),
    key(
        KeyCode::Char('s'),
        Action::Stats,
        "s",
        "statistics tab / back to the stream",
    ),
    key(
        KeyCode::Char('o'),
        Action::SortNext,
        "o",
        "sort by the next column (statistics, top view)",
    ),
    key(
        KeyCode::Char('O'),
        Action::SortReverse,
        "O",
        "reverse the order (statistics, top view)",
    ),
    key(
        KeyCode::Char('y'),
        Action::Copy,
        "y",
        "copy the selected event's line (OSC 52)",
    ),
    key(
        KeyCode::Esc,
        Action::Close,
        "Esc",
        "close details / help / statistics; back to the top view",
    ),
    key(
        KeyCode::Char('w'),
        Action::Export,
        "w",
        "write the retained events to a file",
    ),
    key(
        KeyCode::Char('t'),
        Action::TopView,
        "t",
        "top view: counted calls per container and syscall / back",
    ),
    key(
        KeyCode::Char('b'),
        Action::GroupBy,
        "b",
        "top view: rows by container, pod or syscall",
    ),
    key(
        KeyCode::Char('?'),
        Action::Help,
        "?",
        "show / hide this help",
    ),
];

/// The action bound to a key press, if any.
pub fn action_for(ev: &KeyEvent) -> Option<Action> {
    // Shift is implied by upper-case characters; ignore it for chars.
    let mods = if matches!(ev.code, KeyCode::Char(_)) {
        ev.modifiers - KeyModifiers::SHIFT
    } else {
        ev.modifiers
    };
    BINDINGS
        .iter()
        .find(|b| b.code == ev.code && b.mods == mods)
        .map(|b| b.action)
}

/// Help rows: keys with the same help text are grouped on one row.
pub fn help_rows() -> Vec<(String, &'static str)> {
    let mut rows: Vec<(String, &'static str)> = Vec::new();
    for b in BINDINGS {
        match rows.iter_mut().find(|(_, h)| *h == b.help) {
            Some((k, _)) => {
                k.push_str(", ");
                k.push_str(b.label);
            }
            None => rows.push((b.label.to_string(), b.help)),
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_binding_resolves_to_its_action() {
        for b in BINDINGS {
            let ev = KeyEvent::new(b.code, b.mods);
            assert_eq!(action_for(&ev), Some(b.action), "{}", b.label);
        }
        let shift_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(action_for(&shift_g), Some(Action::Bottom));
        assert_eq!(
            action_for(&KeyEvent::new(KeyCode::Char('z'), KeyModifiers::NONE)),
            None
        );
    }

    #[test]
    fn no_key_is_bound_twice() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                assert!(!(a.code == b.code && a.mods == b.mods), "{}", a.label);
            }
        }
    }

    #[test]
    fn help_groups_keys() {
        let rows = help_rows();
        assert!(rows.iter().any(|(k, h)| k == "q, Ctrl-C" && *h == "quit"));
    }
}
