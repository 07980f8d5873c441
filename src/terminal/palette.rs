//! What colour means, once, for both painters: the TUI (ratatui) and the
//! headless lines (ANSI). Only the 16 ANSI colours are named, so the
//! terminal's own palette keeps them readable on light and dark
//! backgrounds.

use nu_ansi_term::{Color, Style};

use crate::model::syscalls::SyscallClass;

/// Calls at least this slow are marked yellow, and red from `VERY_SLOW_NS`.
pub const SLOW_NS: u64 = 1_000_000;
pub const VERY_SLOW_NS: u64 = 100_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ansi {
    Default,
    Red,
    Green,
    Yellow,
    Blue,
    Magenta,
    Cyan,
    LightRed,
    LightYellow,
    LightBlue,
    LightMagenta,
    LightCyan,
}

/// A colour and whether it is bold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ink {
    pub color: Ansi,
    pub bold: bool,
}

impl Ink {
    const fn plain(color: Ansi) -> Ink {
        Ink { color, bold: false }
    }
}

pub const ERROR: Ink = Ink {
    color: Ansi::Red,
    bold: true,
};
pub const OK: Ink = Ink::plain(Ansi::Green);

pub fn class(c: SyscallClass) -> Ink {
    Ink::plain(match c {
        SyscallClass::File => Ansi::Blue,
        SyscallClass::Network => Ansi::Magenta,
        SyscallClass::Process => Ansi::Cyan,
        SyscallClass::Memory => Ansi::Yellow,
        SyscallClass::Signal => Ansi::Red,
        SyscallClass::Ipc => Ansi::LightMagenta,
        SyscallClass::Time => Ansi::LightBlue,
        SyscallClass::Io => Ansi::LightCyan,
        SyscallClass::Security => Ansi::LightRed,
        SyscallClass::System => Ansi::LightYellow,
        SyscallClass::Other => Ansi::Default,
    })
}

/// Slow calls stand out: yellow, then bold red.
pub fn duration(ns: u64) -> Ink {
    if ns >= VERY_SLOW_NS {
        ERROR
    } else if ns >= SLOW_NS {
        Ink::plain(Ansi::Yellow)
    } else {
        Ink::plain(Ansi::Default)
    }
}

/// What a piece of a line is; each painter gives it its own look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Plain,
    /// The container label: in the background.
    Label,
    /// The syscall's name, in its class's colour.
    Call(SyscallClass),
    /// A failed call's result.
    Error,
    /// A successful call's result.
    Ok,
    /// A call's duration (nanoseconds): slow ones stand out.
    Duration(u64),
}

/// A piece of text and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub class: Class,
}

impl Piece {
    pub fn new(text: impl Into<String>, class: Class) -> Piece {
        Piece {
            text: text.into(),
            class,
        }
    }

    pub fn plain(text: impl Into<String>) -> Piece {
        Piece::new(text, Class::Plain)
    }
}

/// The ANSI style of a palette colour.
fn style(ink: Ink) -> Style {
    let c = match ink.color {
        Ansi::Default => Color::Default,
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
    };
    if ink.bold {
        c.bold()
    } else {
        c.normal()
    }
}

/// The ANSI style of a piece: plain text and fast calls get none (no
/// escape codes around them).
fn ansi_style(class: Class) -> Style {
    match class {
        Class::Plain => Style::new(),
        Class::Label => Color::DarkGray.normal(),
        Class::Call(c) => style(self::class(c)),
        Class::Error => style(ERROR),
        Class::Ok => style(OK),
        Class::Duration(ns) => match duration(ns) {
            i if i.color == Ansi::Default => Style::new(),
            i => style(i),
        },
    }
}

/// The ANSI painter: the pieces as one string, with escape codes when
/// `color`.
pub fn ansi(pieces: &[Piece], color: bool) -> String {
    let mut out = String::with_capacity(pieces.iter().map(|p| p.text.len()).sum::<usize>() + 32);
    for p in pieces {
        let st = ansi_style(p.class);
        if color && !st.is_plain() {
            use std::fmt::Write;
            let _ = write!(out, "{}", st.paint(p.text.as_str()));
        } else {
            out.push_str(&p.text);
        }
    }
    out
}

/// `NO_COLOR` set to anything but the empty string turns colours off.
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}
