//! Colors, from one place. Only the 16 ANSI colors (plus bold/reverse) are
//! used so the terminal's own palette keeps them readable on light and dark
//! backgrounds; NO_COLOR turns all of them off.

use ratatui::style::{Color, Modifier, Style};

use crate::model::syscalls::SyscallClass;
use crate::terminal::palette::{self, Ansi, Class, Ink};

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn from_env() -> Theme {
        Theme {
            color: !palette::no_color_env(),
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    fn ink(&self, ink: Ink) -> Style {
        let s = self.fg(color(ink.color));
        if ink.bold {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }

    /// The ratatui painter: the look of a piece of a line.
    pub fn style(&self, class: Class) -> Style {
        match class {
            Class::Plain => Style::default(),
            Class::Label => self.dim(),
            Class::Call(c) => self.class(c),
            Class::Error => self.error(),
            Class::Ok => self.ok(),
            Class::Duration(ns) => self.duration(ns),
        }
    }

    pub fn class(&self, class: SyscallClass) -> Style {
        self.ink(palette::class(class))
    }

    pub fn error(&self) -> Style {
        self.ink(palette::ERROR)
    }

    pub fn ok(&self) -> Style {
        self.ink(palette::OK)
    }

    pub fn duration(&self, ns: u64) -> Style {
        match palette::duration(ns) {
            // Fast calls keep the row's own colour.
            i if i.color == Ansi::Default => Style::default(),
            i => self.ink(i),
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

/// The ratatui colour of a palette colour.
pub fn color(c: Ansi) -> Color {
    match c {
        Ansi::Default => Color::Reset,
        Ansi::Red => Color::Red,
        Ansi::Green => Color::Green,
        Ansi::Yellow => Color::Yellow,
        Ansi::Blue => Color::Blue,
        Ansi::Magenta => Color::Magenta,
        Ansi::Cyan => Color::Cyan,
        Ansi::LightRed => Color::LightRed,
        Ansi::LightYellow => Color::LightYellow,
        Ansi::LightBlue => Color::LightBlue,
        Ansi::LightMagenta => Color::LightMagenta,
        Ansi::LightCyan => Color::LightCyan,
        Ansi::DarkGray => Color::DarkGray,
    }
}
