//! UI state and action dispatch. `App` holds what is shown; the views
//! (stream.rs, help.rs, status.rs, prompt.rs, ...) only read it while
//! drawing and never do I/O.

use std::time::{Duration, Instant};

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::Frame;

use super::keys::{self, Action};
use super::prompt::{Prompt, PromptOutcome};
use super::rows::Rows;
use super::store::Store;
use super::theme::Theme;
use super::tree::Tree;
use super::{help, status, stream};
use crate::clock::Clock;
use crate::model::container::ContainerMap;
use crate::model::event::{Event, LostEvents, TraceEvent};

/// Where the events come from, shown in the header.
#[derive(Clone, Debug)]
pub enum Source {
    Live,
}

/// A window drawn over the main view; it takes the keys while open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
}

pub struct App {
    pub store: Store,
    /// The events the stream shows (all retained, or the filtered ones).
    pub rows: Rows,
    pub theme: Theme,
    pub clock: Clock,
    pub source: Source,
    /// Newest event stays selected and visible.
    pub follow: bool,
    pub paused: bool,
    pub overlay: Overlay,
    /// The open text prompt, if any; it takes the keys while open.
    pub prompt: Option<Prompt>,
    /// Selected event (sequence number).
    pub selected: u64,
    /// Sequence number of the first visible row.
    pub top: u64,
    /// Rows in the event table at the last draw (for paging).
    pub page: u64,
    /// Where the event table was drawn last (for mouse clicks).
    pub stream_area: Rect,
    pub total: u64,
    pub lost: LostEvents,
    pub quit: bool,
    /// Which container each cgroup is (labels are looked up at draw time,
    /// so names that arrive late relabel earlier events too).
    pub containers: ContainerMap,
    /// The container/pod pane; its selection narrows the stream.
    pub tree: Tree,
    rate: Rate,
}

/// Events per second over the last full second.
struct Rate {
    window_start: Instant,
    count: u64,
    per_sec: f64,
}

impl Rate {
    fn new() -> Rate {
        Rate {
            window_start: Instant::now(),
            count: 0,
            per_sec: 0.0,
        }
    }

    fn add(&mut self, n: u64) {
        self.count += n;
        let el = self.window_start.elapsed();
        if el >= Duration::from_secs(1) {
            self.per_sec = self.count as f64 / el.as_secs_f64();
            self.count = 0;
            self.window_start = Instant::now();
        }
    }
}

impl App {
    pub fn new(retain: usize, theme: Theme, clock: Clock, source: Source) -> App {
        App {
            store: Store::new(retain),
            rows: Rows::all(),
            theme,
            clock,
            source,
            follow: true,
            paused: false,
            overlay: Overlay::None,
            prompt: None,
            selected: 0,
            top: 0,
            page: 20,
            stream_area: Rect::default(),
            total: 0,
            lost: LostEvents::default(),
            quit: false,
            containers: ContainerMap::default(),
            tree: Tree::default(),
            rate: Rate::new(),
        }
    }

    /// Whether an event belongs in the stream's rows.
    fn visible(&self, ev: &TraceEvent) -> bool {
        self.tree.accepts(ev.cgroup_id, &self.containers)
    }

    /// Container pane and column are shown once there are containers.
    pub fn shows_containers(&self) -> bool {
        !self.containers.is_empty()
    }

    /// Rebuilds the stream's rows after the tree selection changed.
    fn refilter(&mut self) {
        let first = self.store.first_seq();
        self.rows = if *self.tree.selected() == super::tree::NodeKey::All {
            Rows::all()
        } else {
            Rows::filtered(
                (first..)
                    .zip(self.store.iter())
                    .filter(|(_, e)| self.visible(e))
                    .map(|(s, _)| s)
                    .collect(),
            )
        };
    }

    pub fn ingest(&mut self, ev: Event) {
        match ev {
            Event::Syscall(e) => {
                self.total += 1;
                self.tree.count(e.cgroup_id);
                let show = self.visible(&e);
                let seq = self.store.end_seq();
                self.store.push(e);
                self.rows.evict_before(self.store.first_seq());
                if show {
                    self.rows.push(seq);
                }
            }
            Event::Lost(l) => self.lost = l,
            Event::ContainerAdd(a) => {
                self.containers.add(&a);
                // Names can arrive after a container's first events.
                if *self.tree.selected() != super::tree::NodeKey::All {
                    self.refilter();
                }
            }
            Event::ContainerDel(d) => self.containers.del(&d),
        }
    }

    pub fn ingest_batch(&mut self, batch: Vec<Event>) {
        let n = batch.len() as u64;
        for ev in batch {
            self.ingest(ev);
        }
        self.rate.add(n);
    }

    /// Call once per frame: keeps rates fresh when nothing arrives.
    pub fn tick(&mut self) {
        self.rate.add(0);
        self.tree.tick(&self.containers);
    }

    pub fn events_per_sec(&self) -> f64 {
        self.rate.per_sec
    }

    /// A key press: the open prompt or overlay gets it first, then the key table.
    pub fn on_key(&mut self, k: &KeyEvent) {
        if let Some(p) = &mut self.prompt {
            match p.on_key(k) {
                PromptOutcome::Cancel | PromptOutcome::Submit => self.prompt = None,
                PromptOutcome::Edited | PromptOutcome::Unchanged => {}
            }
            return;
        }
        if let Some(a) = keys::action_for(k) {
            self.on_action(a);
        }
    }

    pub fn on_action(&mut self, a: Action) {
        if self.overlay == Overlay::Help && !matches!(a, Action::Quit) {
            // Any key closes the help.
            self.overlay = Overlay::None;
            return;
        }
        match a {
            Action::SwitchPane => self.tree.focused = !self.tree.focused,
            Action::Up | Action::Down if self.tree.focused => {
                let d = if a == Action::Up { -1 } else { 1 };
                if self.tree.move_by(d, &self.containers) {
                    self.refilter();
                }
            }
            Action::Quit => self.quit = true,
            Action::TogglePause => {
                self.paused = !self.paused;
                self.follow = !self.paused;
            }
            Action::Up => self.move_rows(-1),
            Action::Down => self.move_rows(1),
            Action::PageUp => self.move_rows(-(self.page as i64)),
            Action::PageDown => self.move_rows(self.page as i64),
            Action::Top => {
                let first = self.store.first_seq();
                let s = self.row_seq(0).unwrap_or(first);
                self.select(s);
            }
            Action::Bottom => {
                self.follow = true;
                self.paused = false;
            }
            Action::Help => self.overlay = Overlay::Help,
        }
    }

    fn row_count(&self) -> usize {
        self.rows.len(self.store.first_seq(), self.store.end_seq())
    }

    fn row_seq(&self, i: usize) -> Option<u64> {
        self.rows
            .seq_at(self.store.first_seq(), self.store.end_seq(), i)
    }

    /// The selected sequence number: the newest row when following,
    /// otherwise the chosen event (or the nearest row before it).
    pub fn current(&self) -> u64 {
        let n = self.row_count();
        let last = n.checked_sub(1).and_then(|i| self.row_seq(i));
        if self.follow {
            return last.unwrap_or(self.store.first_seq());
        }
        let i = self.rows.index_of(self.store.first_seq(), self.selected);
        self.row_seq(i).unwrap_or(self.store.first_seq())
    }

    /// Index of the selected row.
    pub fn current_row(&self) -> usize {
        self.rows.index_of(self.store.first_seq(), self.current())
    }

    fn move_rows(&mut self, delta: i64) {
        let n = self.row_count();
        if n == 0 {
            return;
        }
        let i = (self.current_row() as i64 + delta).clamp(0, n as i64 - 1) as usize;
        if let Some(s) = self.row_seq(i) {
            self.select(s);
        }
    }

    /// Selects an event; the user is reading, so following stops.
    pub fn select(&mut self, seq: u64) {
        self.selected = seq;
        self.follow = false;
    }

    /// The selected event, if any is retained and visible.
    pub fn selected_event(&self) -> Option<&TraceEvent> {
        (self.row_count() > 0)
            .then(|| self.store.get(self.current()))
            .flatten()
    }

    pub fn render(&mut self, f: &mut Frame) {
        let area = f.area();
        let foot_h = self.prompt.as_ref().map_or(1, Prompt::height);
        let [head, body, foot] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(foot_h),
        ])
        .areas(area);
        status::render_header(self, f, head);
        // The container pane, when the terminal is wide enough for both.
        let tree_w = if body.width >= 100 && self.shows_containers() {
            36
        } else {
            0
        };
        let [left, right] =
            Layout::horizontal([Constraint::Length(tree_w), Constraint::Min(1)]).areas(body);
        if tree_w > 0 {
            self.tree.render(f, left, &self.containers, &self.theme);
        }
        stream::render(self, f, right);
        match &self.prompt {
            Some(p) => p.render(f, foot, &self.theme),
            None => status::render_footer(self, f, foot),
        }
        if self.overlay == Overlay::Help {
            help::render(f, area, &self.theme);
        }
    }
}
