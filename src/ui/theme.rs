//! Colors, from one place. Only the 16 ANSI colors (plus bold/reverse) are
//! used so the terminal's own palette keeps them readable on light and dark
//! backgrounds; NO_COLOR turns all of them off.

use ratatui::style::{Color, Modifier, Style};

use crate::model::syscalls::SyscallClass;

/// Calls at least this slow are marked yellow, and red from `VERY_SLOW_NS`.
pub const SLOW_NS: u64 = 1_000_000;
pub const VERY_SLOW_NS: u64 = 100_000_000;

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn from_env() -> Theme {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn class(&self, class: SyscallClass) -> Style {
        self.fg(class_color(class))
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn duration(&self, ns: u64) -> Style {
        if ns >= VERY_SLOW_NS {
            self.fg(Color::Red).add_modifier(Modifier::BOLD)
        } else if ns >= SLOW_NS {
            self.fg(Color::Yellow)
        } else {
            Style::default()
        }
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default()
        }
    }

    /// The selected row: reverse video reads on every background.
    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    pub fn header(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    /// Text that matches the search: underlined even without colors.
    pub fn search_match(&self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
        if self.color {
            s.fg(Color::Black).bg(Color::Yellow)
        } else {
            s
        }
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
}

pub fn class_color(class: SyscallClass) -> Color {
    match class {
        SyscallClass::File => Color::Blue,
        SyscallClass::Network => Color::Magenta,
        SyscallClass::Process => Color::Cyan,
        SyscallClass::Memory => Color::Yellow,
        SyscallClass::Signal => Color::Red,
        SyscallClass::Ipc => Color::LightMagenta,
        SyscallClass::Time => Color::LightBlue,
        SyscallClass::Io => Color::LightCyan,
        SyscallClass::Security => Color::LightRed,
        SyscallClass::System => Color::LightYellow,
        SyscallClass::Other => Color::Reset,
    }
}
