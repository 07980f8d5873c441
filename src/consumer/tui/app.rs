//! UI state and action dispatch. `App` holds what is shown; the views
//! (stream.rs, detail.rs, stats.rs, help.rs, status.rs, prompt.rs) only
//! read it while drawing and never do I/O.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::Frame;
use regex::Regex;

use super::export::ExportUi;
use super::keys::{self, Action};
use super::prompt::{Prompt, PromptError, PromptKind, PromptOutcome};
use super::refilter::{group_label, Scan, ViewTest, REFILTER_SLICE};
use super::rows::Rows;
use super::store::Store;
use super::theme::Theme;
use super::tree::{NodeKey, Tree};
use super::{detail, help, stats, status, stream};
use crate::clock::Clock;
use crate::model::args;
use crate::model::container::{ContainerInfo, ContainerMap};
use crate::model::event::{Event, LostEvents, TraceEvent};
use crate::model::filter::Filter;
use crate::model::flow::LoadState;
use crate::model::flow::Recycler;
use crate::model::stats::{SortKey, Stats};

/// Where the events come from, shown in the header.
#[derive(Clone, Debug)]
pub enum Source {
    Live,
    /// A saved session, loading in the background.
    Replay {
        path: PathBuf,
        load: Arc<LoadState>,
    },
}

/// A window drawn over the main view; it takes the keys while open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    Details,
}

/// The main view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Stream,
    Stats,
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
    pub tab: Tab,
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
    /// Containers whose cgroup is gone, with the sequence number their
    /// events end before: kept while any of those may still be retained, so
    /// an export still names them.
    pub(super) gone: HashMap<u64, (Arc<ContainerInfo>, u64)>,
    /// The container/pod pane; its selection narrows the stream.
    pub tree: Tree,
    /// The view filter (`f`); capture goes on regardless.
    pub filter: Option<Filter>,
    pub errors_only: bool,
    /// The search (`/`), over the text of a shown line.
    pub search: Option<Regex>,
    /// Statistics of the events the stream shows, since the view filter
    /// last changed (retained events included at that moment).
    pub stats: Stats,
    pub stats_sort: SortKey,
    pub stats_reverse: bool,
    /// Selected row of the per-syscall statistics table.
    pub stats_selected: usize,
    pub detail_scroll: u16,
    /// First line of the help overlay shown (it scrolls on small screens).
    pub help_scroll: u16,
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
    rate: Rate,
    /// Whether the container pane fitted beside the stream at the last
    /// draw.
    pub(super) pane_fits: bool,
    /// A re-filter still going through the retained events.
    pub(super) scan: Option<Scan>,
    /// Live: where emptied batches go back to the capture thread.
    pub recycler: Option<Recycler>,
}

/// The terminal width from which the container pane stays beside the
/// stream.
const PANE_MIN_WIDTH: u16 = 100;

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
            tab: Tab::Stream,
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
            gone: HashMap::new(),
            tree: Tree::default(),
            filter: None,
            errors_only: false,
            search: None,
            stats: Stats::default(),
            stats_sort: SortKey::default(),
            stats_reverse: false,
            stats_selected: 0,
            detail_scroll: 0,
            help_scroll: 0,
            message: None,
            clipboard: None,
            first_ns: None,
            last_refilter: None,
            export: ExportUi::default(),
            rate: Rate::new(),
            pane_fits: true,
            scan: None,
            recycler: None,
        }
    }

    /// Whether an event belongs in the stream's rows.
    pub fn visible(&self, ev: &TraceEvent) -> bool {
        self.view_test().accepts(ev)
    }

    pub(super) fn view_test(&self) -> ViewTest<'_> {
        ViewTest {
            filter: self.filter.as_ref(),
            errors_only: self.errors_only,
            tree: &self.tree,
            containers: &self.containers,
        }
    }

    /// Container pane and column are shown once there are containers.
    pub fn shows_containers(&self) -> bool {
        !self.containers.is_empty() || self.tree.has_nodes()
    }

    /// Whether every retained event is shown (no filter of any kind).
    pub(super) fn unfiltered(&self) -> bool {
        self.filter.is_none() && !self.errors_only && *self.tree.selected() == NodeKey::All
    }

    /// The group an event is counted under in the statistics.
    pub fn group_of(&self, ev: &TraceEvent) -> Cow<'static, str> {
        group_label(&self.containers, ev)
    }

    pub fn ingest(&mut self, ev: Event) {
        match ev {
            Event::Syscall(e) => {
                self.total += 1;
                self.tree.count(e.cgroup_id);
                self.first_ns.get_or_insert(e.start_ns);
                let show = self.visible(&e);
                if show {
                    let g = self.group_of(&e);
                    self.stats.record(&e, &g);
                }
                let seq = self.store.end_seq();
                self.store.push(e);
                self.rows.evict_before(self.store.first_seq());
                if show {
                    self.rows.push(seq);
                }
            }
            Event::Lost(l) => self.lost = l,
            Event::ContainerAdd(a) => {
                self.gone.remove(&a.cgroup_id);
                self.containers.add(&a);
                // Names can arrive after a container's first events. Many
                // arrive at once at start-up: the event loop does the work.
                if !self.unfiltered() {
                    self.start_refilter();
                }
            }
            Event::ContainerDel(d) => {
                // The last names known are the best ones.
                let c = self.containers.get(d.cgroup_id).unwrap_or(&d.container);
                self.gone
                    .insert(d.cgroup_id, (c.clone(), self.store.end_seq()));
                self.containers.del(&d);
            }
            // The tree shows a node's state from `model::node`.
            Event::Node(n) => self.tree.saw_node(n.node),
        }
    }

    pub fn ingest_batch(&mut self, mut batch: Vec<Event>) {
        let n = batch.len() as u64;
        for ev in batch.drain(..) {
            self.ingest(ev);
        }
        self.rate.add(n);
        if let Some(r) = &self.recycler {
            r.give(batch);
        }
    }

    /// Call once per frame: keeps rates fresh when nothing arrives.
    pub fn tick(&mut self) {
        self.rate.add(0);
        self.tree.tick(&self.containers);
        let first = self.store.first_seq();
        self.gone.retain(|_, (_, end)| *end > first);
    }

    /// The container of a cgroup, also when it is gone but some of its
    /// events may still be retained.
    pub fn container_of(&self, cgroup_id: u64) -> Option<&Arc<ContainerInfo>> {
        self.containers
            .get(cgroup_id)
            .or_else(|| self.gone.get(&cgroup_id).map(|(c, _)| c))
    }

    pub fn events_per_sec(&self) -> f64 {
        self.rate.per_sec
    }

    /// A key press: the open prompt gets it first, then the key table.
    pub fn on_key(&mut self, k: &KeyEvent) {
        if super::export::on_key(self, k) {
            return;
        }
        if let Some(p) = &mut self.prompt {
            let kind = p.kind;
            match p.on_key(k) {
                PromptOutcome::Cancel => self.prompt = None,
                PromptOutcome::Submit => self.submit_prompt(),
                PromptOutcome::Edited => {
                    let text = p.input.clone();
                    p.error = validate(kind, &text).err();
                }
                PromptOutcome::Unchanged => {}
            }
            return;
        }
        if let Some(a) = keys::action_for(k) {
            self.on_action(a);
        }
    }

    fn submit_prompt(&mut self) {
        let Some(p) = self.prompt.take() else { return };
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
                            let mut p = p;
                            p.error = Some(PromptError {
                                column: e.column,
                                message: e.message,
                            });
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
                    self.search = None;
                    return;
                }
                match Regex::new(text) {
                    Ok(re) => {
                        self.search = Some(re);
                        self.jump_match(true, true);
                    }
                    Err(_) => {
                        let mut p = p;
                        p.error = validate(PromptKind::Search, text).err();
                        self.prompt = Some(p);
                    }
                }
            }
        }
    }

    pub fn on_action(&mut self, a: Action) {
        self.message = None;
        if self.overlay == Overlay::Help {
            // The help scrolls (drawing clamps it); other keys close it.
            let s = &mut self.help_scroll;
            match a {
                Action::Quit => self.quit = true,
                Action::Up => *s = s.saturating_sub(1),
                Action::Down => *s = s.saturating_add(1),
                Action::PageUp => *s = s.saturating_sub(self.page as u16),
                Action::PageDown => *s = s.saturating_add(self.page as u16),
                Action::Top => *s = 0,
                Action::Bottom => *s = u16::MAX,
                _ => self.overlay = Overlay::None,
            }
            return;
        }
        if self.overlay == Overlay::Details {
            match a {
                Action::Quit => self.quit = true,
                Action::Up => self.detail_scroll = self.detail_scroll.saturating_sub(1),
                Action::Down => self.detail_scroll = self.detail_scroll.saturating_add(1),
                Action::PageUp => {
                    self.detail_scroll = self.detail_scroll.saturating_sub(self.page as u16)
                }
                Action::PageDown => {
                    self.detail_scroll = self.detail_scroll.saturating_add(self.page as u16)
                }
                Action::Top => self.detail_scroll = 0,
                Action::Copy => self.copy_selected(),
                Action::Help => self.open_help(),
                _ => self.overlay = Overlay::None,
            }
            return;
        }
        if self.tab == Tab::Stats {
            match a {
                Action::Up => self.stats_selected = self.stats_selected.saturating_sub(1),
                Action::Down => self.stats_selected += 1,
                Action::PageUp => {
                    self.stats_selected = self.stats_selected.saturating_sub(self.page as usize)
                }
                Action::PageDown => self.stats_selected += self.page as usize,
                Action::Top => self.stats_selected = 0,
                Action::SortNext => {
                    self.stats_sort = self.stats_sort.next();
                    self.stats_selected = 0;
                }
                Action::SortReverse => self.stats_reverse = !self.stats_reverse,
                Action::Stats | Action::Close => self.tab = Tab::Stream,
                Action::Details => {}
                _ => self.on_stream_action(a),
            }
            return;
        }
        self.on_stream_action(a);
    }

    fn on_stream_action(&mut self, a: Action) {
        match a {
            Action::SwitchPane => self.switch_pane(),
            Action::Up | Action::Down if self.tree.focused && self.shows_containers() => {
                let d = if a == Action::Up { -1 } else { 1 };
                if self.tree.move_by(d, &self.containers) {
                    self.begin_refilter();
                }
            }
            Action::Quit => self.quit = true,
            Action::TogglePause => {
                self.paused = !self.paused;
                if self.paused {
                    // Hold the screen as it is: the newest row stays
                    // selected where it is, new events go in below.
                    let cur = self.current();
                    self.select(cur);
                } else {
                    self.follow = true;
                }
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
            Action::Help => self.open_help(),
            Action::Filter => {
                let text = self.filter.as_ref().map_or("", |f| f.text());
                self.prompt = Some(Prompt::new(PromptKind::Filter, text));
            }
            Action::ErrorsOnly => {
                self.errors_only = !self.errors_only;
                self.begin_refilter();
            }
            Action::Search => {
                let text = self.search.as_ref().map_or("", |r| r.as_str());
                self.prompt = Some(Prompt::new(PromptKind::Search, text));
            }
            Action::NextMatch => self.jump_match(true, false),
            Action::PrevMatch => self.jump_match(false, false),
            Action::Details => {
                if self.selected_event().is_some() {
                    // Opening details holds the event still.
                    let cur = self.current();
                    self.select(cur);
                    self.detail_scroll = 0;
                    self.overlay = Overlay::Details;
                }
            }
            Action::Stats => self.tab = Tab::Stats,
            Action::Copy => self.copy_selected(),
            Action::Close => {
                self.search = None;
            }
            Action::SortNext | Action::SortReverse => {}
            Action::Export => super::export::open(self),
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

    fn open_help(&mut self) {
        self.help_scroll = 0;
        self.overlay = Overlay::Help;
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
        let mut s = format!(
            "{} {}[{}/{}] ",
            self.clock.time_of_day(ev.start_ns),
            ev.comm(),
            ev.pid,
            ev.tid
        );
        if let Some(c) = self.containers.get(ev.cgroup_id) {
            s.push_str(&c.label());
            s.push(' ');
        }
        s.push_str(&args::strace_line(ev));
        if ev.returns() {
            s.push_str(&format!(
                " <{}>",
                crate::clock::fmt_duration(ev.duration_ns())
            ));
        }
        s
    }

    /// Moves to the next (or previous) shown event whose line matches the
    /// search; `inclusive` also considers the selected one.
    fn jump_match(&mut self, forward: bool, inclusive: bool) {
        let Some(re) = self.search.clone() else {
            self.message = Some("no search: press / first".into());
            return;
        };
        let n = self.row_count();
        if n == 0 {
            return;
        }
        let cur = self.current_row();
        let hit = |i: usize| {
            self.row_seq(i)
                .and_then(|s| self.store.get(s))
                .is_some_and(|ev| re.is_match(&self.line_text(ev)))
        };
        let found = if forward {
            let start = if inclusive { cur } else { cur + 1 };
            (start..n).find(|&i| hit(i))
        } else {
            let end = if inclusive { cur + 1 } else { cur };
            (0..end).rev().find(|&i| hit(i))
        };
        match found.and_then(|i| self.row_seq(i)) {
            Some(s) => self.select(s),
            None => {
                self.message = Some(format!(
                    "no {} match for /{}/",
                    if forward { "later" } else { "earlier" },
                    re.as_str()
                ))
            }
        }
    }

    pub fn on_mouse(&mut self, m: &MouseEvent) {
        if self.overlay != Overlay::None || self.prompt.is_some() {
            match m.kind {
                MouseEventKind::ScrollDown if self.overlay == Overlay::Details => {
                    self.detail_scroll = self.detail_scroll.saturating_add(3)
                }
                MouseEventKind::ScrollUp if self.overlay == Overlay::Details => {
                    self.detail_scroll = self.detail_scroll.saturating_sub(3)
                }
                MouseEventKind::ScrollDown if self.overlay == Overlay::Help => {
                    self.help_scroll = self.help_scroll.saturating_add(3)
                }
                MouseEventKind::ScrollUp if self.overlay == Overlay::Help => {
                    self.help_scroll = self.help_scroll.saturating_sub(3)
                }
                _ => {}
            }
            return;
        }
        match m.kind {
            MouseEventKind::ScrollDown => self.on_action(Action::Down),
            MouseEventKind::ScrollUp => self.on_action(Action::Up),
            MouseEventKind::Down(MouseButton::Left) if self.tab == Tab::Stream => {
                let a = self.stream_area;
                // The first line of the table is its header.
                if m.column >= a.x && m.column < a.right() && m.row > a.y && m.row < a.bottom() {
                    let first = self.store.first_seq();
                    let top = self.rows.index_of(first, self.top);
                    let i = top + (m.row - a.y - 1) as usize;
                    if let Some(s) = self.row_seq(i) {
                        self.select(s);
                    }
                }
            }
            _ => {}
        }
    }

    pub fn row_count(&self) -> usize {
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
        if let Some(s) = &mut self.scan {
            s.keep = seq;
        }
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
        }
        match &self.prompt {
            Some(p) => p.render(f, foot, &self.theme),
            None => status::render_footer(self, f, foot),
        }
        match self.overlay {
            Overlay::Help => {
                self.help_scroll = help::render(f, area, &self.theme, self.help_scroll)
            }
            Overlay::Details => detail::render(self, f, body),
            Overlay::None => {}
        }
        super::export::render(self, f, area);
    }
}

/// Checks prompt input as it is typed, so the error shows while typing.
fn validate(kind: PromptKind, text: &str) -> Result<(), PromptError> {
    if text.trim().is_empty() {
        return Ok(());
    }
    match kind {
        PromptKind::Filter => Filter::parse(text).map(|_| ()).map_err(|e| PromptError {
            column: e.column,
            message: e.message,
        }),
        PromptKind::Search => Regex::new(text).map(|_| ()).map_err(|e| {
            let msg = e.to_string();
            let last = msg.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
            PromptError {
                column: 1,
                message: format!(
                    "invalid regex: {}",
                    last.trim().trim_start_matches("error: ")
                ),
            }
        }),
    }
}
