//! The windows drawn over the main view (help, event details) and what
//! their keys do. While one is open it takes the keys; the text prompt and
//! the export dialog have their own (prompt.rs, export.rs).

use super::keys::Action;

/// A window drawn over the main view; it takes the keys while open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    Details,
}

/// What a key did to an open overlay that the App has to carry out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverlayKey {
    /// Done here (it scrolled).
    Done,
    Quit,
    Close,
    /// From the details: show the help instead.
    OpenHelp,
    /// From the details: copy the event's line.
    Copy,
}

/// The open overlay and how far each one is scrolled.
#[derive(Debug)]
pub struct Overlays {
    pub open: Overlay,
    pub detail_scroll: u16,
    /// First line of the help shown (it scrolls on small screens); drawing
    /// clamps it.
    pub help_scroll: u16,
}

impl Default for Overlays {
    fn default() -> Overlays {
        Overlays {
            open: Overlay::None,
            detail_scroll: 0,
            help_scroll: 0,
        }
    }
}

impl Overlays {
    pub fn open_help(&mut self) {
        self.help_scroll = 0;
        self.open = Overlay::Help;
    }

    pub fn open_details(&mut self) {
        self.detail_scroll = 0;
        self.open = Overlay::Details;
    }

    /// A key while an overlay is open; `page` is the main view's page.
    pub fn on_action(&mut self, a: Action, page: u16) -> OverlayKey {
        match self.open {
            Overlay::None => OverlayKey::Close,
            // The help scrolls, to its end too; other keys close it.
            Overlay::Help => match a {
                Action::Quit => OverlayKey::Quit,
                Action::Bottom => {
                    self.help_scroll = u16::MAX;
                    OverlayKey::Done
                }
                _ if scroll(&mut self.help_scroll, a, page) => OverlayKey::Done,
                _ => OverlayKey::Close,
            },
            Overlay::Details => match a {
                Action::Quit => OverlayKey::Quit,
                Action::Copy => OverlayKey::Copy,
                Action::Help => OverlayKey::OpenHelp,
                _ if scroll(&mut self.detail_scroll, a, page) => OverlayKey::Done,
                _ => OverlayKey::Close,
            },
        }
    }

    /// The mouse wheel over an open overlay.
    pub fn on_wheel(&mut self, down: bool) {
        let s = match self.open {
            Overlay::Help => &mut self.help_scroll,
            Overlay::Details => &mut self.detail_scroll,
            Overlay::None => return,
        };
        *s = if down {
            s.saturating_add(3)
        } else {
            s.saturating_sub(3)
        };
    }
}

/// Moves an overlay's first line shown for the scrolling keys; false for
/// any other key. Drawing clamps it.
fn scroll(s: &mut u16, a: Action, page: u16) -> bool {
    match a {
        Action::Up => *s = s.saturating_sub(1),
        Action::Down => *s = s.saturating_add(1),
        Action::PageUp => *s = s.saturating_sub(page),
        Action::PageDown => *s = s.saturating_add(page),
        Action::Top => *s = 0,
        _ => return false,
    }
    true
}
