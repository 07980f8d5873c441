//! The TUI's state and the dispatch of keys, mouse and events. Each part
//! keeps its own state and keys: the stream (list.rs), the statistics tab
//! (stats.rs), the overlays (overlay.rs), the prompt (prompt.rs) and the
//! export dialog (export.rs); `App` routes to whichever has the focus and
//! carries out what reaches beyond it. The views only read it while
//! drawing and never do I/O.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Constraint, Layout};
use ratatui::Frame;
use regex::Regex;

use super::export::ExportUi;
use super::intake::Rate;
use super::keys::{self, Action};
use super::list::EventList;
pub use super::overlay::Overlay;
use super::overlay::{OverlayKey, Overlays};
use super::prompt::{self, Prompt, PromptError, PromptKind, PromptOutcome};
use super::refilter::{Scan, REFILTER_SLICE};
use super::stats::{StatsKey, StatsView};
use super::store::Store;
use super::theme::Theme;
use super::tree::Tree;
use super::{detail, help, stats, status, stream};
use crate::clock::Clock;
use crate::consumer::line::Fields;
use crate::model::container::{ContainerInfo, ContainerMap};
use crate::model::event::{LostEvents, TraceEvent};
use crate::model::filter::Filter;
use crate::model::flow::Recycler;
use crate::model::stats::Stats;

/// Where the events come from: live capture or a saved session.
pub use crate::model::flow::Origin as Source;

/// The main view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Stream,
    Stats,
    Top,
}

pub struct App {
    pub store: Store,
    /// The stream: its rows, selection, scrolling and search.
    pub list: EventList,
    pub theme: Theme,
    pub clock: Clock,
    pub source: Source,
    pub tab: Tab,
    pub overlay: Overlays,
    /// The open text prompt, if any; it takes the keys while open.
    pub prompt: Option<Prompt>,
    /// Rows in the table drawn last (for paging).
    pub page: u64,
    pub total: u64,
    pub lost: LostEvents,
    pub quit: bool,
    /// Which container each live cgroup is (the container pane). Labels
    /// are looked up at draw time in `labels`, so names that arrive late
    /// relabel earlier events too.
    pub containers: ContainerMap,
    /// Containers whose cgroup is gone, with the sequence number their
    /// events end before: kept while any of those may still be retained, so
    /// an export still names them.
    pub(super) gone: HashMap<u64, (Arc<ContainerInfo>, u64)>,
    /// The live containers and the gone ones: what names an event (its
    /// label, the view filter, statistics, details), so the events of a
    /// container that exited are not shown as `host`.
    pub(super) labels: ContainerMap,
    /// The container/pod pane; its selection narrows the stream.
    pub tree: Tree,
    /// The view filter (`f`); capture goes on regardless.
    pub filter: Option<Filter>,
    pub errors_only: bool,
    /// Statistics of the events the stream shows, since the view filter
    /// last changed (retained events included at that moment).
    pub stats: Stats,
    /// The statistics tab's sort order and selection.
    pub stats_view: StatsView,
    /// A one-line note for the user (search misses, copy done, ...).
    pub message: Option<String>,
    /// Text waiting to go to the terminal's clipboard (OSC 52); the event
    /// loop writes it, because drawing does no I/O.
    pub clipboard: Option<String>,
    /// Start of the first event seen: "relative" times count from here.
    pub first_ns: Option<u64>,
    /// How long the last re-filter of the retained events took.
    pub last_refilter: Option<Duration>,
    /// The `w` export prompt and job.
    pub export: ExportUi,
    pub(super) rate: Rate,
    /// Whether the container pane fitted beside the stream at the last
    /// draw.
    pub(super) pane_fits: bool,
    /// A re-filter still going through the retained events.
    pub(super) scan: Option<Scan>,
    /// Live: where emptied batches go back to the capture thread.
    pub recycler: Option<Recycler>,
    /// Live: the top view (calls counted in the kernel).
    pub top_view: Option<Box<super::top::TopState>>,
}

/// The terminal width from which the container pane stays beside the
/// stream.
const PANE_MIN_WIDTH: u16 = 100;

impl App {
    pub fn new(retain: usize, theme: Theme, clock: Clock, source: Source) -> App {
        App {
            store: Store::new(retain),
            list: EventList::default(),
            theme,
            clock,
            source,
            tab: Tab::Stream,
            overlay: Overlays::default(),
            prompt: None,
            page: 20,
            total: 0,
            lost: LostEvents::default(),
            quit: false,
            containers: ContainerMap::default(),
            gone: HashMap::new(),
            labels: ContainerMap::default(),
            tree: Tree::default(),
            filter: None,
            errors_only: false,
            stats: Stats::default(),
            stats_view: StatsView::default(),
            message: None,
            clipboard: None,
            first_ns: None,
            last_refilter: None,
            export: ExportUi::default(),
            rate: Rate::new(),
            pane_fits: true,
            scan: None,
            recycler: None,
            top_view: None,
        }
    }

    /// A key press: the export dialog, then the open prompt, get it first,
    /// then the key table.
    pub fn on_key(&mut self, k: &KeyEvent) {
        if super::export::on_key(self, k) {
            return;
        }
        if let Some(p) = &mut self.prompt {
            match p.key(k) {
                PromptOutcome::Cancel => self.prompt = None,
                PromptOutcome::Submit => self.submit_prompt(),
                PromptOutcome::Edited | PromptOutcome::Unchanged => {}
            }
            return;
        }
        if let Some(a) = keys::action_for(k) {
            self.on_action(a);
        }
    }

    fn submit_prompt(&mut self) {
        let Some(mut p) = self.prompt.take() else {
            return;
        };
        let input = p.input.clone();
        let text = input.trim();
        match p.kind {
            PromptKind::Filter => {
                if text.is_empty() {
                    self.filter = None;
                } else {
                    match Filter::parse(text) {
                        Ok(f) => self.filter = Some(f),
                        Err(e) => {
                            // Keep the prompt open on the mistake.
                            p.error = Some(PromptError::from(e));
                            self.prompt = Some(p);
                            return;
                        }
                    }
                }
                self.start_refilter();
                if let Some(s) = &mut self.scan {
                    s.announce = true;
                }
                self.refilter_step(REFILTER_SLICE);
            }
            PromptKind::Search => {
                if text.is_empty() {
                    self.list.search = None;
                    return;
                }
                match Regex::new(text) {
                    Ok(re) => {
                        self.list.search = Some(re);
                        self.jump_match(true, true);
                    }
                    Err(_) => {
                        p.error = prompt::validate(PromptKind::Search, text).err();
                        self.prompt = Some(p);
                    }
                }
            }
        }
    }

    /// An action goes to the open overlay, else to the statistics tab when
    /// it is shown, else to the stream.
    pub fn on_action(&mut self, a: Action) {
        self.message = None;
        if self.overlay.open != Overlay::None {
            match self.overlay.on_action(a, self.page as u16) {
                OverlayKey::Done => {}
                OverlayKey::Quit => self.quit = true,
                OverlayKey::Close => self.overlay.open = Overlay::None,
                OverlayKey::OpenHelp => self.overlay.open_help(),
                OverlayKey::Copy => self.copy_selected(),
            }
            return;
        }
        if super::top::on_action(self, a) {
            return;
        }
        if self.tab == Tab::Stats {
            match self.stats_view.on_action(a, self.page as usize) {
                StatsKey::Done => {}
                StatsKey::Leave => self.tab = Tab::Stream,
                StatsKey::Pass => self.on_stream_action(a),
            }
            return;
        }
        self.on_stream_action(a);
    }

    fn on_stream_action(&mut self, a: Action) {
        let picks = self.list.picks();
        match a {
            Action::SwitchPane => self.switch_pane(),
            Action::Up | Action::Down if self.tree.focused && self.shows_containers() => {
                let d = if a == Action::Up { -1 } else { 1 };
                if self.tree.move_by(d, &self.containers) {
                    self.begin_refilter();
                }
            }
            Action::Quit => self.quit = true,
            Action::Help => self.overlay.open_help(),
            Action::Filter => {
                let text = self.filter.as_ref().map_or("", |f| f.text());
                self.prompt = Some(Prompt::new(PromptKind::Filter, text));
            }
            Action::ErrorsOnly => {
                self.errors_only = !self.errors_only;
                self.begin_refilter();
            }
            Action::Search => {
                let text = self.list.search.as_ref().map_or("", |r| r.as_str());
                self.prompt = Some(Prompt::new(PromptKind::Search, text));
            }
            Action::NextMatch => self.jump_match(true, false),
            Action::PrevMatch => self.jump_match(false, false),
            Action::Details => {
                if self.selected_event().is_some() {
                    // Opening details holds the event still.
                    let cur = self.current();
                    self.select(cur);
                    self.overlay.open_details();
                }
            }
            Action::Stats => self.tab = Tab::Stats,
            Action::Copy => self.copy_selected(),
            Action::SortNext | Action::SortReverse | Action::GroupBy => {}
            Action::TopView => super::top::open(self),
            Action::Export => super::export::open(self),
            _ => {
                self.list.on_action(&self.store, a, self.page);
            }
        }
        self.keep_selection(picks);
    }

    /// A re-filter in progress comes back to the event chosen last.
    fn keep_selection(&mut self, picks_before: u64) {
        if self.list.picks() != picks_before {
            if let Some(s) = &mut self.scan {
                s.keep = self.list.selected;
            }
        }
    }

    /// Tab: focus the container pane or the stream. The pane is never
    /// focused while it is not drawn, so no key moves a selection nobody
    /// sees: with no containers there is no pane, and on a narrow
    /// terminal the pane is drawn beside a narrower stream while it has
    /// the focus.
    fn switch_pane(&mut self) {
        if !self.shows_containers() {
            self.tree.focused = false;
            self.message =
                Some("no containers seen yet: the container pane shows once there are".into());
            return;
        }
        self.tree.focused = !self.tree.focused;
        if self.tree.focused && !self.pane_fits {
            self.message = Some(format!(
                "container pane shown while focused (Tab: back; stays from \
                 {PANE_MIN_WIDTH} columns)"
            ));
        }
    }

    fn copy_selected(&mut self) {
        if let Some(ev) = self.selected_event() {
            let line = self.line_text(ev);
            self.clipboard = Some(line);
            self.message = Some("copied the line to the clipboard (OSC 52)".into());
        }
    }

    /// The text of an event's line, as searched and copied: time, process,
    /// container, then the strace-style call.
    pub fn line_text(&self, ev: &TraceEvent) -> String {
        line_text(&self.labels, &self.clock, ev)
    }

    fn jump_match(&mut self, forward: bool, inclusive: bool) {
        if self.tab == Tab::Top && self.top_view.is_some() {
            self.message = super::top::jump_match(self, forward, inclusive);
            return;
        }
        let picks = self.list.picks();
        let (containers, clock) = (&self.labels, &self.clock);
        let note = self.list.jump_match(&self.store, forward, inclusive, |ev| {
            line_text(containers, clock, ev)
        });
        if note.is_some() {
            self.message = note;
        }
        self.keep_selection(picks);
    }

    pub fn on_mouse(&mut self, m: &MouseEvent) {
        if self.overlay.open != Overlay::None || self.prompt.is_some() {
            match m.kind {
                MouseEventKind::ScrollDown => self.overlay.on_wheel(true),
                MouseEventKind::ScrollUp => self.overlay.on_wheel(false),
                _ => {}
            }
            return;
        }
        match m.kind {
            MouseEventKind::ScrollDown => self.on_action(Action::Down),
            MouseEventKind::ScrollUp => self.on_action(Action::Up),
            MouseEventKind::Down(MouseButton::Left) if self.tab == Tab::Stream => {
                let picks = self.list.picks();
                self.list.click(&self.store, m.column, m.row);
                self.keep_selection(picks);
            }
            _ => {}
        }
    }

    pub fn row_count(&self) -> usize {
        self.list.row_count(&self.store)
    }

    /// The selected sequence number: the newest row when following,
    /// otherwise the chosen event (or the nearest row before it).
    pub fn current(&self) -> u64 {
        self.list.current(&self.store)
    }

    /// Index of the selected row.
    pub fn current_row(&self) -> usize {
        self.list.current_row(&self.store)
    }

    /// Selects an event; the user is reading, so following stops.
    pub fn select(&mut self, seq: u64) {
        self.list.select(seq);
        if let Some(s) = &mut self.scan {
            s.keep = seq;
        }
    }

    /// The selected event, if any is retained and visible.
    pub fn selected_event(&self) -> Option<&TraceEvent> {
        self.list.selected_event(&self.store)
    }

    pub fn render(&mut self, f: &mut Frame) {
        let area = f.area();
        let foot_h = self.prompt.as_ref().map_or(1, Prompt::height);
        let head_h = status::header_lines(self, area.width).len() as u16;
        let [head, body, foot] = Layout::vertical([
            Constraint::Length(head_h),
            Constraint::Min(1),
            Constraint::Length(foot_h),
        ])
        .areas(area);
        status::render_header(self, f, head);
        match self.tab {
            Tab::Stream => {
                // The container pane, when the terminal is wide enough for
                // both: as wide as its names need, up to 30% of the screen.
                // Narrower, only while it has the focus, up to 60%.
                self.pane_fits = body.width >= PANE_MIN_WIDTH;
                if !self.shows_containers() {
                    self.tree.focused = false;
                }
                let want = self.tree.width_wanted(&self.containers);
                let tree_w = if !self.shows_containers() {
                    0
                } else if self.pane_fits {
                    want.clamp(36, (body.width * 3 / 10).max(36))
                } else if self.tree.focused {
                    want.min(body.width * 6 / 10).max(36.min(body.width))
                } else {
                    0
                };
                let [left, right] =
                    Layout::horizontal([Constraint::Length(tree_w), Constraint::Min(1)])
                        .areas(body);
                if tree_w > 0 {
                    self.tree.render(f, left, &self.containers, &self.theme);
                }
                stream::render(self, f, right);
            }
            Tab::Stats => stats::render(self, f, body),
            Tab::Top => super::top::render(self, f, body),
        }
        match &self.prompt {
            Some(p) => p.render(f, foot, &self.theme),
            None => status::render_footer(self, f, foot),
        }
        match self.overlay.open {
            Overlay::Help => {
                self.overlay.help_scroll =
                    help::render(f, area, &self.theme, self.overlay.help_scroll)
            }
            Overlay::Details => detail::render(self, f, body),
            Overlay::None => {}
        }
        super::export::render(self, f, area);
    }
}

/// An event's line as searched and copied (`App::line_text`).
fn line_text(containers: &ContainerMap, clock: &Clock, ev: &TraceEvent) -> String {
    let label = containers.get(ev.id.cgroup_id).map(|c| c.label());
    Fields::of(ev, clock, label).text()
}
