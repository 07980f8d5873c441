//! What colour means, once, for both painters: the TUI (ratatui) and the
//! headless lines (ANSI). Only the 16 ANSI colours are named, so the
//! terminal's own palette keeps them readable on light and dark
//! backgrounds.

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

/// `NO_COLOR` set to anything but the empty string turns colours off.
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}
