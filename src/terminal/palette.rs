//! What colour means, once, for both painters: the TUI (ratatui) and the
//! headless lines (ANSI). Only the 16 ANSI colours are named, so the
//! terminal's own palette keeps them readable on light and dark
//! backgrounds.

use std::fmt::Write;

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
    DarkGray,
}

impl Ansi {
    /// The SGR code that makes this the foreground colour.
    const fn sgr(self) -> u8 {
        match self {
            Ansi::Default => 39,
            Ansi::Red => 31,
            Ansi::Green => 32,
            Ansi::Yellow => 33,
            Ansi::Blue => 34,
            Ansi::Magenta => 35,
            Ansi::Cyan => 36,
            Ansi::DarkGray => 90,
            Ansi::LightRed => 91,
            Ansi::LightYellow => 93,
            Ansi::LightBlue => 94,
            Ansi::LightMagenta => 95,
            Ansi::LightCyan => 96,
        }
    }
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
/// The container label in front of a headless line.
pub const LABEL: Ink = Ink::plain(Ansi::DarkGray);

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

/// How the ANSI painter inks a piece: plain text and fast calls not at
/// all (no escape codes around them).
fn ansi_ink(class: Class) -> Option<Ink> {
    match class {
        Class::Plain => None,
        Class::Label => Some(LABEL),
        Class::Call(c) => Some(self::class(c)),
        Class::Error => Some(ERROR),
        Class::Ok => Some(OK),
        Class::Duration(ns) => Some(duration(ns)).filter(|i| i.color != Ansi::Default),
    }
}

/// The ANSI painter: the pieces as one string, with SGR escape codes when
/// `color`.
pub fn ansi(pieces: &[Piece], color: bool) -> String {
    let mut out = String::with_capacity(pieces.iter().map(|p| p.text.len()).sum::<usize>() + 32);
    for p in pieces {
        match ansi_ink(p.class).filter(|_| color) {
            Some(ink) => {
                let bold = if ink.bold { "1;" } else { "" };
                let _ = write!(out, "\x1b[{bold}{}m{}\x1b[0m", ink.color.sgr(), p.text);
            }
            None => out.push_str(&p.text),
        }
    }
    out
}

/// `NO_COLOR` set to anything but the empty string turns colours off.
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nu_ansi_term::Color;

    /// The escape codes are the ones nu-ansi-term wrote for the headless
    /// lines before, byte for byte.
    #[test]
    fn ansi_painter_writes_what_nu_ansi_term_did() {
        #[rustfmt::skip]
        let pairs = [
            (Ansi::Default, Color::Default), (Ansi::Red, Color::Red), (Ansi::Green, Color::Green),
            (Ansi::Yellow, Color::Yellow), (Ansi::Blue, Color::Blue), (Ansi::Magenta, Color::Magenta),
            (Ansi::Cyan, Color::Cyan), (Ansi::DarkGray, Color::DarkGray), (Ansi::LightRed, Color::LightRed),
            (Ansi::LightYellow, Color::LightYellow), (Ansi::LightBlue, Color::LightBlue),
            (Ansi::LightMagenta, Color::LightMagenta), (Ansi::LightCyan, Color::LightCyan),
        ];
        let nu = |c: Ansi| pairs.iter().find(|p| p.0 == c).expect("every colour").1;
        let mut classes: Vec<Class> = SyscallClass::ALL.into_iter().map(Class::Call).collect();
        classes.extend([
            Class::Label,
            Class::Error,
            Class::Ok,
            Class::Duration(SLOW_NS),
            Class::Duration(VERY_SLOW_NS),
        ]);
        for c in classes {
            let ink = ansi_ink(c).unwrap();
            let st = if ink.bold {
                nu(ink.color).bold()
            } else {
                nu(ink.color).normal()
            };
            let want = st.paint("openat").to_string();
            assert_eq!(ansi(&[Piece::new("openat", c)], true), want, "{c:?}");
            assert_eq!(ansi(&[Piece::new("openat", c)], false), "openat");
        }
        for c in [Class::Plain, Class::Duration(0)] {
            assert_eq!(ansi(&[Piece::new("x", c)], true), "x", "{c:?}");
        }
    }
}
