//! The stream's state: which retained events are rows, which one is
//! selected, where the table is scrolled to, the search, and the keys that
//! move among them. The events themselves stay in the `Store`, which the
//! statistics and the export read too; this side only holds sequence
//! numbers into it.

use ratatui::layout::Rect;
use regex::Regex;

use super::keys::Action;
use super::rows::Rows;
use super::store::Store;
use crate::model::event::TraceEvent;

pub struct EventList {
    /// The events the stream shows (all retained, or the filtered ones).
    pub rows: Rows,
    /// Newest event stays selected and visible.
    pub follow: bool,
    pub paused: bool,
    /// Selected event (sequence number).
    pub selected: u64,
    /// Sequence number of the first visible row.
    pub top: u64,
    /// Where the event table was drawn last (for mouse clicks).
    pub area: Rect,
    /// The search (`/`), over the text of a shown line.
    pub search: Option<Regex>,
    /// Counts selections, so the App can tell a re-filter in progress
    /// which event to come back to.
    picks: u64,
}

impl Default for EventList {
    fn default() -> EventList {
        EventList {
            rows: Rows::all(),
            follow: true,
            paused: false,
            selected: 0,
            top: 0,
            area: Rect::default(),
            search: None,
            picks: 0,
        }
    }
}

impl EventList {
    /// A key for the stream alone; false if it is not one of its keys.
    /// `page` is the number of rows drawn last.
    pub fn on_action(&mut self, store: &Store, a: Action, page: u64) -> bool {
        match a {
            Action::TogglePause => {
                self.paused = !self.paused;
                if self.paused {
                    // Hold the screen as it is: the newest row stays
                    // selected where it is, new events go in below.
                    let cur = self.current(store);
                    self.select(cur);
                } else {
                    self.follow = true;
                }
            }
            Action::Up => self.move_rows(store, -1),
            Action::Down => self.move_rows(store, 1),
            Action::PageUp => self.move_rows(store, -(page as i64)),
            Action::PageDown => self.move_rows(store, page as i64),
            Action::Top => {
                let first = store.first_seq();
                let s = self.row_seq(store, 0).unwrap_or(first);
                self.select(s);
            }
            Action::Bottom => {
                self.follow = true;
                self.paused = false;
            }
            Action::Close => self.search = None,
            _ => return false,
        }
        true
    }

    /// A left click at `(column, row)` of the screen selects that row.
    pub fn click(&mut self, store: &Store, column: u16, row: u16) {
        let a = self.area;
        // The first line of the table is its header.
        if column >= a.x && column < a.right() && row > a.y && row < a.bottom() {
            let top = self.rows.index_of(store.first_seq(), self.top);
            let i = top + (row - a.y - 1) as usize;
            if let Some(s) = self.row_seq(store, i) {
                self.select(s);
            }
        }
    }

    pub fn row_count(&self, store: &Store) -> usize {
        self.rows.len(store.first_seq(), store.end_seq())
    }

    pub fn row_seq(&self, store: &Store, i: usize) -> Option<u64> {
        self.rows.seq_at(store.first_seq(), store.end_seq(), i)
    }

    /// The selected sequence number: the newest row when following,
    /// otherwise the chosen event (or the nearest row before it).
    pub fn current(&self, store: &Store) -> u64 {
        let n = self.row_count(store);
        let last = n.checked_sub(1).and_then(|i| self.row_seq(store, i));
        if self.follow {
            return last.unwrap_or(store.first_seq());
        }
        let i = self.rows.index_of(store.first_seq(), self.selected);
        self.row_seq(store, i).unwrap_or(store.first_seq())
    }

    /// Index of the selected row.
    pub fn current_row(&self, store: &Store) -> usize {
        self.rows.index_of(store.first_seq(), self.current(store))
    }

    fn move_rows(&mut self, store: &Store, delta: i64) {
        let n = self.row_count(store);
        if n == 0 {
            return;
        }
        let i = (self.current_row(store) as i64 + delta).clamp(0, n as i64 - 1) as usize;
        if let Some(s) = self.row_seq(store, i) {
            self.select(s);
        }
    }

    /// Selects an event; the user is reading, so following stops.
    pub fn select(&mut self, seq: u64) {
        self.selected = seq;
        self.follow = false;
        self.picks += 1;
    }

    /// How many selections were made so far.
    pub fn picks(&self) -> u64 {
        self.picks
    }

    /// The selected event, if any is retained and visible.
    pub fn selected_event<'s>(&self, store: &'s Store) -> Option<&'s TraceEvent> {
        (self.row_count(store) > 0)
            .then(|| store.get(self.current(store)))
            .flatten()
    }

    /// Moves to the next (or previous) shown event whose line (`line_of`)
    /// matches the search; `inclusive` also considers the selected one.
    /// The note for the user when there is none.
    pub fn jump_match(
        &mut self,
        store: &Store,
        forward: bool,
        inclusive: bool,
        line_of: impl Fn(&TraceEvent) -> String,
    ) -> Option<String> {
        let Some(re) = self.search.clone() else {
            return Some("no search: press / first".into());
        };
        let n = self.row_count(store);
        if n == 0 {
            return None;
        }
        let cur = self.current_row(store);
        let hit = |i: usize| {
            self.row_seq(store, i)
                .and_then(|s| store.get(s))
                .is_some_and(|ev| re.is_match(&line_of(ev)))
        };
        match find_from(cur, n, forward, inclusive, hit).and_then(|i| self.row_seq(store, i)) {
            Some(s) => {
                self.select(s);
                None
            }
            None => Some(format!(
                "no {} match for /{}/",
                if forward { "later" } else { "earlier" },
                re.as_str()
            )),
        }
    }
}

/// The first of `n` rows from row `cur` on for which `hit` holds: after it
/// (at it when `inclusive`), or before it going back when not `forward`.
/// How `/`, `n` and `N` move, in the stream and in the top view.
pub fn find_from(
    cur: usize,
    n: usize,
    forward: bool,
    inclusive: bool,
    hit: impl Fn(usize) -> bool,
) -> Option<usize> {
    if forward {
        let start = if inclusive { cur } else { cur + 1 };
        (start..n).find(|&i| hit(i))
    } else {
        let end = if inclusive { cur + 1 } else { cur };
        (0..end.min(n)).rev().find(|&i| hit(i))
    }
}
