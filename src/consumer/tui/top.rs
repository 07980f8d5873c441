//! The top view (`t`, `--top`): calls counted in the kernel, per
//! container (or pod, or host) and syscall — calls/s, errors/s with the
//! most frequent errno, p50/p99 and a sparkline of calls per second —
//! sortable, narrowed by the view filter (on the fields counting keeps).
//! Enter on a row switches full capture on in the kernel for that row's
//! cgroups and syscall only and shows the stream; Esc (or `t`) goes back
//! and switches it off again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};
use ratatui::Frame;

use super::app::{App, Tab};
use super::keys::Action;
use super::text::sparkline;
use crate::clock::fmt_duration;
use crate::model::container::{ContainerMap, HOST};
use crate::model::counts::Counted;
use crate::model::counts::{quantile, Counts, Key, Misses, BUCKETS};
use crate::model::errno;
use crate::model::event::TraceEvent;
use crate::model::filter::{Field, Filter};
use crate::model::flow::{KernelMode, ModeTarget};
use crate::model::raw::RawEvent;
use crate::model::syscalls::{self, Arch};
use crate::stage::UserFilter;

/// The fields a counted call still has (no pid, comm, arguments, times).
pub const FIELDS: [Field; 6] = [
    Field::Pod,
    Field::Namespace,
    Field::Container,
    Field::Syscall,
    Field::Class,
    Field::Errno,
];

/// What a row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// container (or host) and syscall
    ContainerSyscall,
    /// pod (or container outside pods, or host) and syscall
    PodSyscall,
    /// container, all its syscalls
    Container,
    /// pod, all its syscalls
    Pod,
    /// syscall, everywhere
    Syscall,
}

impl GroupBy {
    fn next(self) -> GroupBy {
        match self {
            GroupBy::ContainerSyscall => GroupBy::PodSyscall,
            GroupBy::PodSyscall => GroupBy::Container,
            GroupBy::Container => GroupBy::Pod,
            GroupBy::Pod => GroupBy::Syscall,
            GroupBy::Syscall => GroupBy::ContainerSyscall,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            GroupBy::ContainerSyscall => "container + syscall",
            GroupBy::PodSyscall => "pod + syscall",
            GroupBy::Container => "container",
            GroupBy::Pod => "pod",
            GroupBy::Syscall => "syscall",
        }
    }

    fn per_group(self) -> bool {
        self != GroupBy::Syscall
    }

    fn per_syscall(self) -> bool {
        !matches!(self, GroupBy::Container | GroupBy::Pod)
    }
}

/// Sort columns of the top view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopSort {
    Rate,
    Errors,
    P99,
    P50,
    Calls,
    Name,
}

impl TopSort {
    fn next(self) -> TopSort {
        match self {
            TopSort::Rate => TopSort::Errors,
            TopSort::Errors => TopSort::P99,
            TopSort::P99 => TopSort::P50,
            TopSort::P50 => TopSort::Calls,
            TopSort::Calls => TopSort::Name,
            TopSort::Name => TopSort::Rate,
        }
    }
}

/// One row: a group and/or a syscall, summed over its cgroups and errnos.
#[derive(Clone, Debug)]
pub struct TopRow {
    pub group: String,
    pub nr: Option<u32>,
    pub cgroups: Vec<u64>,
    pub calls: u64,
    /// Calls and errors per second over the last read.
    pub rate: f64,
    pub err_rate: f64,
    pub errors: u64,
    pub top_errno: Option<u32>,
    pub p50: u64,
    pub p99: u64,
    /// Calls per read: filled in by `detail` for the rows on screen only
    /// (60 numbers a row would be 144 MB for 300,000 rows).
    pub series: Vec<u64>,
    pub detailed: bool,
    /// The counted cells summed in this row.
    pub keys: Vec<Key>,
}

/// What the rows are asked to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Want {
    pub by: GroupBy,
    pub sort: TopSort,
    pub reverse: bool,
    /// The filter applied (its text; empty for none).
    pub filter: String,
}

/// Rows built by the worker, ready to be swapped in.
pub struct Built {
    pub want: Want,
    /// The read they were built from (`Counts::ticks`).
    pub ticks: u64,
    /// Numbers each table, so series asked for one are not put in another.
    pub gen: u64,
    pub rows: Vec<TopRow>,
    pub per_sec: f64,
    pub misses: Misses,
    /// The worker's CPU time for this table.
    pub cpu: Duration,
}

/// Series for rows of table `.0`: (row, calls per read).
type SeriesOf = (u64, Vec<(usize, Vec<u64>)>);

enum ToWorker {
    Build(Want, Option<Filter>, std::ops::Range<usize>),
    /// Series for rows of table `gen`: (row, its cells).
    Detail(u64, Vec<(usize, Vec<Key>)>),
    /// Rows swapped out, freed off the UI thread.
    Free(Vec<TopRow>),
}

/// The worker's side: builds the rows after each read and when the UI asks
/// for another grouping, order or filter, off the UI thread (300,000 rows
/// take hundreds of ms; a frame has 33). The UI never waits: it shows the
/// last table until a newer one is in `ready`.
struct Worker {
    counted: Counted,
    rx: Receiver<ToWorker>,
    ready: Arc<Mutex<Option<Built>>>,
    series: Sender<SeriesOf>,
    /// When the UI last drew the top view (ms since `epoch`): no rows are
    /// built for a view nobody looks at.
    seen: Arc<AtomicU64>,
    epoch: Instant,
}

/// How often the worker looks for a new read. Reads come once a second;
/// each wait also spins a few sched_yield calls in the channel before it
/// sleeps, so at 20 ms the idle view made ~480 syscalls/s that every
/// tracer on the machine saw.
const POLL: Duration = Duration::from_millis(100);
/// The worker stops building this long after the view was last drawn.
const UNSEEN: u64 = 2_000;

impl Worker {
    fn run(self) {
        let mut want: Option<(Want, Option<Filter>, std::ops::Range<usize>)> = None;
        let mut built: Option<(u64, Want)> = None;
        let mut gen = 0u64;
        loop {
            let mut msgs = Vec::new();
            match self.rx.recv_timeout(POLL) {
                Ok(m) => msgs.push(m),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            msgs.extend(self.rx.try_iter());
            for m in msgs {
                match m {
                    ToWorker::Build(w, f, window) => want = Some((w, f, window)),
                    ToWorker::Free(rows) => drop(rows),
                    ToWorker::Detail(g, rows) if g == gen => {
                        let c = self
                            .counted
                            .counts
                            .lock()
                            .unwrap_or_else(|e| e.into_inner());
                        let out = rows
                            .into_iter()
                            .map(|(i, keys)| (i, series_of(&keys, &c)))
                            .collect();
                        drop(c);
                        let _ = self.series.send((g, out));
                    }
                    ToWorker::Detail(..) => {}
                }
            }
            let Some((w, filter, window)) = &want else {
                continue;
            };
            let now = self.epoch.elapsed().as_millis() as u64;
            if now.saturating_sub(self.seen.load(Ordering::Relaxed)) > UNSEEN {
                continue;
            }
            let ticks = self
                .counted
                .counts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .ticks;
            if built.as_ref() == Some(&(ticks, w.clone())) {
                continue;
            }
            let cpu = thread_cpu();
            let labels = self
                .counted
                .labels
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let c = self
                .counted
                .counts
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let mut rows = build_rows(&c, &labels, w.by, filter.as_ref(), w.sort, w.reverse);
            let end = window.end.min(rows.len());
            for r in rows.get_mut(window.start.min(end)..end).unwrap_or_default() {
                detail(r, &c);
            }
            let (per_sec, misses, ticks) = (per_sec(&c), c.misses, c.ticks);
            drop(c);
            gen += 1;
            let t = Built {
                want: w.clone(),
                ticks,
                gen,
                rows,
                per_sec,
                misses,
                cpu: thread_cpu().saturating_sub(cpu),
            };
            built = Some((ticks, w.clone()));
            // An older table nobody took is freed here, not by the UI.
            let old = self
                .ready
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .replace(t);
            drop(old);
        }
    }
}

/// This thread's CPU time.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out-pointer; the clock exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Calls counted per second over the last read, everywhere.
fn per_sec(c: &Counts) -> f64 {
    let last: u64 = c.cells.values().map(|x| x.series.last(c.ticks)).sum();
    last as f64 / if c.tick_secs > 0.0 { c.tick_secs } else { 1.0 }
}

/// The top view's state (live runs only: it needs the kernel).
pub struct TopState {
    pub counted: Counted,
    modes: Box<dyn ModeTarget>,
    /// The kernel's mode for the plain stream view.
    pub base: KernelMode,
    pub mode: KernelMode,
    pub by: GroupBy,
    pub sort: TopSort,
    pub reverse: bool,
    pub selected: usize,
    /// What Enter switched on, described; None when not drilled down.
    pub drill: Option<String>,
    /// The rows shown: the last table the worker built.
    pub rows: Vec<TopRow>,
    /// What `rows` are (None before the first table), and the read and
    /// table they came from.
    pub shown: Option<Want>,
    pub shown_ticks: u64,
    gen: u64,
    /// Calls counted per second over the last read, everywhere.
    pub per_sec: f64,
    pub misses: Misses,
    pub since: Option<Instant>,
    /// The worker's CPU time for the rows shown.
    pub build_cpu: Duration,
    /// What was last asked of the worker.
    requested: Option<Want>,
    /// The table and rows series were last asked for (one request each).
    asked: Option<(u64, usize)>,
    to_worker: Sender<ToWorker>,
    ready: Arc<Mutex<Option<Built>>>,
    series: Receiver<SeriesOf>,
    seen: Arc<AtomicU64>,
    epoch: Instant,
    /// The view filter tests fields counting does not keep.
    pub filter_unusable: Option<String>,
    /// The command line's filters the kernel does not count by (see
    /// `run_unusable`).
    pub run_unusable: Option<String>,
    /// `-w` is recording: only what streams (after Enter) goes there.
    pub recording: bool,
    /// The view is paused: new reads wait, a new order or filter does not.
    pub paused: bool,
}

impl TopState {
    pub fn new(counted: Counted, modes: Box<dyn ModeTarget>, base: KernelMode) -> TopState {
        let (to_worker, rx) = crossbeam_channel::unbounded();
        let (series_tx, series) = crossbeam_channel::unbounded();
        let ready = Arc::new(Mutex::new(None));
        let seen = Arc::new(AtomicU64::new(0));
        let epoch = Instant::now();
        let w = Worker {
            counted: counted.clone(),
            rx,
            ready: ready.clone(),
            series: series_tx,
            seen: seen.clone(),
            epoch,
        };
        // Ends when the state (its sender) goes.
        let _ = std::thread::Builder::new()
            .name("top-rows".into())
            .spawn(move || w.run());
        TopState {
            counted,
            modes,
            mode: base.clone(),
            base,
            by: GroupBy::ContainerSyscall,
            sort: TopSort::Rate,
            reverse: false,
            selected: 0,
            drill: None,
            rows: Vec::new(),
            shown: None,
            shown_ticks: 0,
            gen: 0,
            per_sec: 0.0,
            misses: Misses::default(),
            since: None,
            build_cpu: Duration::ZERO,
            requested: None,
            asked: None,
            to_worker,
            ready,
            series,
            seen,
            epoch,
            filter_unusable: None,
            run_unusable: None,
            recording: false,
            paused: false,
        }
    }

    fn set_mode(&mut self, m: KernelMode) {
        if m != self.mode {
            self.modes.set_mode(m.clone());
            self.mode = m;
        }
        if self.mode.counts() {
            self.since.get_or_insert_with(Instant::now);
        }
    }

    /// What the user asked the rows to be (not yet built, maybe).
    fn want(&self, filter: &str) -> Want {
        Want {
            by: self.by,
            sort: self.sort,
            reverse: self.reverse,
            filter: filter.to_string(),
        }
    }

    /// Asks the worker for rows as `want` unless it was asked already.
    fn request(&mut self, want: Want, filter: Option<Filter>, page: usize) {
        self.seen
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        if self.requested.as_ref() == Some(&want) {
            return;
        }
        // Series come with the table for the rows around the selection.
        let first = self.selected.saturating_sub(page);
        let window = first..self.selected + 2 * page.max(1);
        let _ = self
            .to_worker
            .send(ToWorker::Build(want.clone(), filter, window));
        self.requested = Some(want);
    }

    /// Swaps in a table the worker finished, and series it sent, without
    /// waiting for either. True when the rows changed.
    fn take(&mut self) -> bool {
        while let Ok((gen, series)) = self.series.try_recv() {
            if gen != self.gen {
                continue;
            }
            for (i, s) in series {
                if let Some(r) = self.rows.get_mut(i) {
                    r.series = s;
                    r.detailed = true;
                }
            }
        }
        let table = match self.ready.try_lock() {
            Ok(mut slot) => {
                // Paused: the same table of a newer read waits in its slot.
                let newer_read = slot
                    .as_ref()
                    .is_some_and(|t| self.shown.as_ref() == Some(&t.want));
                if self.paused && newer_read {
                    None
                } else {
                    slot.take()
                }
            }
            Err(_) => None,
        };
        let Some(t) = table else {
            return false;
        };
        if Some(&t.want) != self.requested.as_ref() {
            // Built for an order or filter no longer asked for.
            let _ = self.to_worker.send(ToWorker::Free(t.rows));
            return false;
        }
        // The selection stays on its row as the order changes.
        let was = self
            .rows
            .get(self.selected)
            .map(|r| (r.group.clone(), r.nr));
        let old = std::mem::replace(&mut self.rows, t.rows);
        let _ = self.to_worker.send(ToWorker::Free(old));
        if let Some((g, nr)) = was {
            if let Some(i) = self.rows.iter().position(|r| r.nr == nr && r.group == g) {
                self.selected = i;
            }
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        self.shown = Some(t.want);
        self.shown_ticks = t.ticks;
        self.gen = t.gen;
        self.per_sec = t.per_sec;
        self.misses = t.misses;
        self.build_cpu = t.cpu;
        self.asked = None;
        true
    }

    /// The grouping of the rows shown.
    pub fn shown_by(&self) -> GroupBy {
        self.shown.as_ref().map_or(self.by, |w| w.by)
    }

    /// Whether the rows shown are what was last asked for.
    pub fn current(&self) -> bool {
        self.shown.is_some() && self.shown == self.requested
    }

    /// Asks for the series of the rows `first..first + n` that lack them.
    fn ask_series(&mut self, first: usize, n: usize) {
        if self.asked == Some((self.gen, first)) {
            return;
        }
        let rows: Vec<(usize, Vec<Key>)> = self
            .rows
            .iter()
            .enumerate()
            .skip(first)
            .take(n)
            .filter(|(_, r)| !r.detailed)
            .map(|(i, r)| (i, r.keys.clone()))
            .collect();
        if rows.is_empty() {
            return;
        }
        let _ = self.to_worker.send(ToWorker::Detail(self.gen, rows));
        self.asked = Some((self.gen, first));
    }

    /// Waits (bounded) until the worker has built the rows last asked for
    /// and the series of rows `first..first + n`; for tests and benches,
    /// which draw a given state. The UI itself never waits.
    pub fn settle(&mut self, first: usize, n: usize) {
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            // The worker builds only for a view that is looked at.
            self.seen
                .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
            self.take();
            if self.current() {
                let done = self.rows.iter().skip(first).take(n).all(|r| r.detailed);
                if done {
                    return;
                }
                self.ask_series(first, n);
            }
            assert!(
                Instant::now() < end,
                "the top view's rows were not built in 30 s"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// The fields of `f` that are not among `known`, named, or None.
fn fields_outside(f: &Filter, known: &[Field]) -> Option<String> {
    let bad: Vec<&str> = f
        .fields()
        .into_iter()
        .filter(|x| !known.contains(x))
        .map(Field::name)
        .collect();
    (!bad.is_empty()).then(|| bad.join(", "))
}

/// The fields of `f` that counting does not keep, named.
pub fn unusable_fields(f: &Filter) -> Option<String> {
    fields_outside(f, &FIELDS)
}

/// The fields of the kernel's own filters (pid set, syscall bitmap,
/// cgroup set): what `--filter` can narrow the counts by.
const KERNEL_FIELDS: [Field; 5] = [
    Field::Pid,
    Field::Syscall,
    Field::Pod,
    Field::Namespace,
    Field::Container,
];

/// What of the command line's filters the counts leave out, named: the
/// kernel counts by pid, syscall and cgroup, so `--comm` and `--filter`'s
/// other fields narrow the captured stream only.
pub fn run_unusable(f: &UserFilter) -> Option<String> {
    let mut bad: Vec<String> = Vec::new();
    if f.comm.is_some() {
        bad.push("--comm".into());
    }
    if let Some(fields) = f
        .expr
        .as_ref()
        .and_then(|e| fields_outside(e, &KERNEL_FIELDS))
    {
        bad.push(format!("--filter's {fields}"));
    }
    (!bad.is_empty()).then(|| bad.join(", "))
}

/// The group a cgroup is counted under.
fn group_name(by: GroupBy, labels: &ContainerMap, cg: u64) -> String {
    match labels.get(cg) {
        None => HOST.to_string(),
        Some(c) => match by {
            GroupBy::PodSyscall | GroupBy::Pod => match (c.namespace(), c.pod_name()) {
                (Some(ns), Some(p)) => format!("{ns}/{p}"),
                (None, Some(p)) => p.to_string(),
                _ => c.label(),
            },
            _ => c.label(),
        },
    }
}

/// Calls per read of `keys`' cells summed, newest last.
fn series_of(keys: &[Key], c: &Counts) -> Vec<u64> {
    let mut series = vec![0; crate::model::counts::SERIES];
    let n = series.len();
    for k in keys {
        let Some(cell) = c.cells.get(k) else {
            continue;
        };
        for (i, v) in cell.series.newest_first(c.ticks).enumerate().take(n) {
            series[n - 1 - i] += v;
        }
    }
    series
}

/// Fills in a row's series from its cells.
pub fn detail(row: &mut TopRow, c: &Counts) {
    row.series = series_of(&row.keys, c);
    row.detailed = true;
}

/// A row's latency quantiles (p50, p99) from its cells' histograms.
fn quantiles(keys: &[Key], c: &Counts) -> (u64, u64) {
    let mut cells = keys.iter().filter_map(|k| c.cells.get(k));
    if keys.len() == 1 {
        // One cell (a container + syscall row without errors): its own.
        return cells.next_back().map_or((0, 0), |cell| {
            (cell.total.quantile(0.5), cell.total.quantile(0.99))
        });
    }
    let mut hist = [0u64; BUCKETS];
    let mut max = 0;
    for cell in cells {
        cell.total.hist.add_to(&mut hist);
        max = max.max(cell.total.max_ns);
    }
    (quantile(&hist, max, 0.5), quantile(&hist, max, 0.99))
}

/// Builds the rows from the counts: grouped, filtered, sorted, with their
/// quantiles. Called once a read (a second) over every counted cell (by the
/// worker), so it keys its sums by numbers and leaves the series to
/// `detail`, asked for the rows on screen only (10,000 containers make
/// 300,000 cells; see BENCHMARKS.md).
pub fn build_rows(
    c: &Counts,
    labels: &ContainerMap,
    by: GroupBy,
    filter: Option<&Filter>,
    sort: TopSort,
    reverse: bool,
) -> Vec<TopRow> {
    let arch = c.arch.unwrap_or_else(Arch::native);
    struct Acc {
        group: u32,
        nr: Option<u32>,
        keys: Vec<Key>,
        calls: u64,
        last: u64,
        last_err: u64,
        errors: Vec<(u32, u64)>,
    }
    // Group names, numbered; a cgroup's group is looked up once.
    let mut groups: Vec<String> = Vec::new();
    let mut group_ids: HashMap<String, u32> = HashMap::new();
    let mut group_of: HashMap<u64, u32> = HashMap::new();
    let mut index: HashMap<(u32, Option<u32>), usize> = HashMap::new();
    let mut accs: Vec<Acc> = Vec::new();
    for (k, cell) in &c.cells {
        if let Some(f) = filter {
            let raw = RawEvent {
                nr: k.nr,
                ret: -i64::from(k.errno),
                cgroup_id: k.cgroup_id,
                ..RawEvent::default()
            };
            if !f.matches(&TraceEvent::from_raw(&raw, &[], arch), labels) {
                continue;
            }
        }
        let group = if by.per_group() {
            *group_of.entry(k.cgroup_id).or_insert_with(|| {
                let name = group_name(by, labels, k.cgroup_id);
                *group_ids.entry(name).or_insert_with_key(|name| {
                    groups.push(name.clone());
                    groups.len() as u32 - 1
                })
            })
        } else {
            0
        };
        let nr = by.per_syscall().then_some(k.nr);
        let i = *index.entry((group, nr)).or_insert_with(|| {
            accs.push(Acc {
                group,
                nr,
                keys: Vec::new(),
                calls: 0,
                last: 0,
                last_err: 0,
                errors: Vec::new(),
            });
            accs.len() - 1
        });
        let a = &mut accs[i];
        a.keys.push(*k);
        a.calls += cell.total.calls;
        let last = cell.series.last(c.ticks);
        a.last += last;
        if k.errno != 0 {
            match a.errors.iter_mut().find(|(e, _)| *e == k.errno) {
                Some((_, n)) => *n += cell.total.calls,
                None => a.errors.push((k.errno, cell.total.calls)),
            }
            a.last_err += last;
        }
    }
    let secs = if c.tick_secs > 0.0 { c.tick_secs } else { 1.0 };
    let no_group = String::new();
    // Each row with its name for the sort, made once.
    let mut rows: Vec<(TopRow, std::borrow::Cow<'static, str>)> = accs
        .into_iter()
        .map(|a| {
            let group = groups.get(a.group as usize).unwrap_or(&no_group).clone();
            let name = a.nr.map_or(std::borrow::Cow::Borrowed(""), |n| {
                syscalls::name_or_unknown(arch, n)
            });
            let mut cgroups: Vec<u64> = a.keys.iter().map(|k| k.cgroup_id).collect();
            cgroups.sort_unstable();
            cgroups.dedup();
            let mut row = TopRow {
                group,
                nr: a.nr,
                cgroups,
                calls: a.calls,
                rate: a.last as f64 / secs,
                err_rate: a.last_err as f64 / secs,
                errors: a.errors.iter().map(|(_, n)| n).sum(),
                top_errno: a
                    .errors
                    .iter()
                    .max_by_key(|(e, n)| (*n, std::cmp::Reverse(*e)))
                    .map(|(e, _)| *e),
                p50: 0,
                p99: 0,
                series: Vec::new(),
                detailed: false,
                keys: a.keys,
            };
            (row.p50, row.p99) = quantiles(&row.keys, c);
            (row, name)
        })
        .collect();
    let by_name = |a: &(TopRow, std::borrow::Cow<str>), b: &(TopRow, std::borrow::Cow<str>)| {
        (&a.0.group, &a.1).cmp(&(&b.0.group, &b.1))
    };
    rows.sort_unstable_by(|x, y| {
        let (a, b) = (&x.0, &y.0);
        let o = match sort {
            TopSort::Rate => b.rate.total_cmp(&a.rate).then(b.calls.cmp(&a.calls)),
            TopSort::Errors => b
                .err_rate
                .total_cmp(&a.err_rate)
                .then(b.errors.cmp(&a.errors)),
            TopSort::P99 => b.p99.cmp(&a.p99),
            TopSort::P50 => b.p50.cmp(&a.p50),
            TopSort::Calls => b.calls.cmp(&a.calls),
            TopSort::Name => std::cmp::Ordering::Equal,
        }
        .then_with(|| by_name(x, y));
        if reverse {
            o.reverse()
        } else {
            o
        }
    });
    rows.into_iter().map(|(r, _)| r).collect()
}

/// Asks for rows as the user wants them and swaps in any the worker has
/// finished; never waits for them (called every frame).
pub fn refresh(app: &mut App) {
    let filter = app.filter.clone();
    let errors_only = app.errors_only;
    let page = app.page as usize;
    let paused = app.list.paused;
    let Some(t) = app.top_view.as_mut() else {
        return;
    };
    t.paused = paused;
    t.filter_unusable = filter.as_ref().and_then(unusable_fields);
    let mut usable = filter.filter(|_| t.filter_unusable.is_none());
    // `e` narrows the rows as it narrows the stream: errno is counted.
    if errors_only {
        let text = usable.as_ref().map_or("errno != 0".to_string(), |f| {
            format!("({}) and errno != 0", f.text())
        });
        usable = Filter::parse(&text).ok().or(usable);
    }
    let ftext = usable
        .as_ref()
        .map_or(String::new(), |f| f.text().to_string());
    let want = t.want(&ftext);
    t.request(want, usable, page);
    t.take();
}

/// Opens the top view: the kernel counts only.
pub fn open(app: &mut App) {
    let Some(t) = app.top_view.as_mut() else {
        app.message = Some("the top view counts in the kernel: live tracing only".into());
        return;
    };
    t.drill = None;
    t.set_mode(KernelMode::Aggregate);
    app.tab = Tab::Top;
    refresh(app);
}

/// Keys the top view handles (in the top view, and in a drilled-down
/// stream: going back). True when the key was taken.
pub fn on_action(app: &mut App, a: Action) -> bool {
    let Some(t) = app.top_view.as_mut() else {
        return false;
    };
    if app.tab != Tab::Top {
        // The drilled-down stream: Esc or `t` go back to the table.
        if t.drill.is_some() && matches!(a, Action::Close | Action::TopView) {
            open(app);
            return true;
        }
        return false;
    }
    let page = app.page as usize;
    match a {
        Action::Up => t.selected = t.selected.saturating_sub(1),
        Action::Down => t.selected = (t.selected + 1).min(t.rows.len().saturating_sub(1)),
        Action::PageUp => t.selected = t.selected.saturating_sub(page),
        Action::PageDown => t.selected = (t.selected + page).min(t.rows.len().saturating_sub(1)),
        Action::Top => t.selected = 0,
        Action::Bottom => t.selected = t.rows.len().saturating_sub(1),
        Action::SortNext => {
            t.sort = t.sort.next();
            t.selected = 0;
        }
        Action::SortReverse => t.reverse = !t.reverse,
        Action::GroupBy => {
            t.by = t.by.next();
            t.selected = 0;
        }
        Action::Details => {
            let Some(r) = t.rows.get(t.selected).cloned() else {
                return true;
            };
            let arch = Arch::native();
            // The grouping of the rows shown (a new one may be building).
            let per_group = t.shown_by().per_group();
            let what = match (per_group, r.nr) {
                (true, Some(nr)) => format!("{} {}", r.group, syscalls::name_or_unknown(arch, nr)),
                (true, None) => r.group.clone(),
                (false, Some(nr)) => syscalls::name_or_unknown(arch, nr).into_owned(),
                (false, None) => "everything".into(),
            };
            t.set_mode(KernelMode::Drill {
                cgroups: per_group.then(|| r.cgroups.clone()),
                syscalls: r.nr.map(|n| vec![n]),
            });
            t.drill = Some(what);
            app.tab = Tab::Stream;
            app.list.follow = true;
        }
        Action::TopView | Action::Close => {
            // Back to the plain stream: the kernel's mode for it.
            let base = t.base.clone();
            t.set_mode(base);
            app.tab = Tab::Stream;
        }
        Action::Stats => {
            let base = t.base.clone();
            t.set_mode(base);
            app.tab = Tab::Stats;
        }
        // Quit, help, filter, export...: as everywhere.
        _ => return false,
    }
    refresh(app);
    true
}

/// `/`, `n` and `N` in the top view: the next (or previous) row whose
/// name as shown (its group, and its syscall) matches the search, as the
/// stream's search finds lines. A note when there is none.
pub fn jump_match(app: &mut App, forward: bool, inclusive: bool) -> Option<String> {
    let Some(re) = app.list.search.clone() else {
        return Some("no search: press / first".into());
    };
    let t = app.top_view.as_mut()?;
    let arch = Arch::native();
    let hit = |r: &TopRow| {
        re.is_match(&r.group)
            || r.nr
                .is_some_and(|nr| re.is_match(&syscalls::name_or_unknown(arch, nr)))
    };
    let rows = &t.rows;
    let found =
        super::list::find_from(
            t.selected,
            rows.len(),
            forward,
            inclusive,
            |i| hit(&rows[i]),
        );
    match found {
        Some(i) => {
            t.selected = i;
            refresh(app);
            None
        }
        None => Some(format!(
            "no {} row matches /{}/",
            if forward { "later" } else { "earlier" },
            re.as_str()
        )),
    }
}

/// The header's piece on the kernel: its mode and what it costs.
pub fn kernel_piece(app: &App) -> Option<Vec<Span<'static>>> {
    let t = app.top_view.as_ref()?;
    let th = &app.theme;
    let mut v = vec![
        Span::raw(" | kernel: "),
        Span::styled(t.mode.describe(), th.warn()),
    ];
    if let Some(d) = &t.drill {
        v.push(Span::raw(format!(" ({d}; Esc: back)")));
    }
    if t.mode.counts() {
        v.push(Span::raw(format!(
            ", {} calls/s counted, {:.0} records/s",
            si(t.per_sec),
            app.events_per_sec()
        )));
    }
    Some(v)
}

/// 1234567 -> "1.2M".
fn si(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

pub fn render(app: &mut App, f: &mut Frame, area: Rect) {
    refresh(app);
    let th = app.theme;
    let Some(t) = app.top_view.as_mut() else {
        return;
    };
    let since = t.since.map_or(String::new(), |s| {
        format!("counting for {:.0}s", s.elapsed().as_secs_f64())
    });
    // What the rows shown are: a new grouping, order or filter shows the
    // old rows until the worker has built the new ones.
    let (by, sort, reverse) = t
        .shown
        .as_ref()
        .map_or((t.by, t.sort, t.reverse), |w| (w.by, w.sort, w.reverse));
    let mut spans = vec![Span::raw(format!(
        "{since} · rows: {} (b) · sort: {:?}{} (o/O) · Enter: capture this row",
        by.label(),
        sort,
        if reverse { " reversed" } else { "" }
    ))];
    if !t.current() {
        spans.push(Span::styled(" · updating…", th.dim()));
    }
    // Warnings go on lines of their own, so a narrow terminal cuts the
    // hints of the first line, not them.
    let mut lines = Vec::new();
    if let Some(bad) = &t.filter_unusable {
        lines.push(Line::styled(
            format!("filter not applied: counting keeps no {bad}"),
            th.warn(),
        ));
    }
    if let Some(bad) = &t.run_unusable {
        lines.push(Line::styled(
            format!("counted without {bad}: the kernel counts by pid, syscall and container"),
            th.warn(),
        ));
    }
    if t.recording {
        lines.push(Line::styled(
            "recording (-w): the calls of a stream opened with Enter, not the counts",
            th.warn(),
        ));
    }
    let not_counted = format!(
        "not counted: {} (map full: --agg-entries), {} exits without enter",
        t.misses.full, t.misses.unentered
    );
    if t.misses.full > 0 {
        lines.push(Line::styled(not_counted, th.error()));
    } else if t.misses.unentered > 0 {
        // Calls in flight when counting began: worth a dim word, no line.
        spans.push(Span::styled(format!(" · {not_counted}"), th.dim()));
    }
    lines.insert(0, Line::from(spans));
    let [info, body] =
        Layout::vertical([Constraint::Length(lines.len() as u16), Constraint::Min(1)]).areas(area);
    f.render_widget(Paragraph::new(lines), info);

    let arch = Arch::native();
    let rows_h = body.height.saturating_sub(1) as usize;
    app.page = rows_h.max(1) as u64;
    let first = t.selected.saturating_sub(rows_h.saturating_sub(1));
    let head = [
        "GROUP",
        "SYSCALL",
        "CALLS/S",
        "ERR/S",
        "ERRNO",
        "P50",
        "P99",
        "CALLS",
        "CALLS/S (60s)",
    ];
    // Series for the rows on screen only (see build_rows), from the
    // worker: a row scrolled to draws without its sparkline until then.
    t.ask_series(first, rows_h);
    let group_w = t
        .rows
        .iter()
        .skip(first)
        .take(rows_h)
        .map(|r| r.group.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 40) as u16;
    let widths = [
        Constraint::Length(group_w),
        Constraint::Length(18),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(10),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(11),
        Constraint::Min(10),
    ];
    // The columns as the table will lay them out, so a value cut to fit
    // is marked with `…` as everywhere else.
    let cols = Layout::horizontal(widths).spacing(1).split(body);
    let rows: Vec<Row> = t
        .rows
        .iter()
        .enumerate()
        .skip(first)
        .take(rows_h)
        .map(|(i, r)| {
            let group = if by.per_group() {
                r.group.clone()
            } else {
                "*".into()
            };
            let name = r.nr.map_or("*".into(), |n| {
                syscalls::name_or_unknown(arch, n).into_owned()
            });
            let errno = r
                .top_errno
                .map(|e| errno::name(e).map_or(e.to_string(), str::to_string))
                .unwrap_or_default();
            let cells = vec![
                group,
                name,
                si(r.rate),
                si(r.err_rate),
                errno,
                fmt_duration(r.p50),
                fmt_duration(r.p99),
                r.calls.to_string(),
                sparkline(r.series.iter().copied(), cols[8].width as usize),
            ];
            let cells: Vec<String> = cells
                .into_iter()
                .zip(cols.iter())
                .map(|(c, a)| super::text::fit(&c, a.width as usize).into_owned())
                .collect();
            let row = Row::new(cells);
            if i == t.selected {
                row.style(th.selected())
            } else {
                row
            }
        })
        .collect();
    let head: Vec<String> = head
        .iter()
        .zip(cols.iter())
        .map(|(h, a)| super::text::fit(h, a.width as usize).into_owned())
        .collect();
    let table = Table::new(rows, widths)
        .header(Row::new(head).style(th.header()))
        .column_spacing(1);
    f.render_widget(table, body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::counts::Delta;

    /// The p50 of every cell of syscall `nr`, merged.
    fn rows_p50(c: &Counts, nr: u32) -> u64 {
        let mut all = Delta::default();
        let mut hist = [0u64; BUCKETS];
        for (k, cell) in &c.cells {
            if k.nr == nr {
                for (x, y) in hist.iter_mut().zip(cell.total.hist.to_dense().iter()) {
                    *x += y;
                }
                all.max_ns = all.max_ns.max(cell.total.max_ns);
            }
        }
        quantile(&hist, all.max_ns, 0.5)
    }

    #[test]
    fn rows_sum_errnos_per_group_and_syscall_and_sort_by_rate() {
        let delta = Delta::uniform;
        let mut c = Counts::new(Arch::X86_64, 1.0);
        let k = Key::new;
        c.merge(
            &[
                (k(1, 2, 2), delta(30, 1000)),
                (k(1, 2, 13), delta(5, 1000)),
                (k(1, 2, 0), delta(10, 1000)),
                (k(1, 110, 0), delta(100, 100)),
                (k(2, 110, 0), delta(7, 100)),
            ],
            Misses::default(),
            true,
        );
        let labels = ContainerMap::default();
        let rows = build_rows(
            &c,
            &labels,
            GroupBy::ContainerSyscall,
            None,
            TopSort::Rate,
            false,
        );
        assert_eq!(rows.len(), 2, "both cgroups are the host here");
        assert_eq!((rows[0].nr, rows[0].calls), (Some(110), 107));
        let open = &rows[1];
        assert_eq!((open.calls, open.errors, open.top_errno), (45, 35, Some(2)));
        assert_eq!(open.err_rate, 35.0);
        assert!(
            !open.detailed,
            "series are filled in for rows on screen only"
        );
        assert_eq!(open.p50, rows_p50(&c, 2));
        let mut open = open.clone();
        detail(&mut open, &c);
        assert_eq!(open.series.last(), Some(&45));
        let by_sys = build_rows(&c, &labels, GroupBy::Syscall, None, TopSort::Name, false);
        assert_eq!(by_sys.len(), 2);
        let f = Filter::parse("errno == ENOENT").unwrap();
        let only = build_rows(
            &c,
            &labels,
            GroupBy::ContainerSyscall,
            Some(&f),
            TopSort::Rate,
            false,
        );
        assert_eq!((only.len(), only[0].calls), (1, 30));
        let bad = Filter::parse("comm == x and syscall == open").unwrap();
        assert_eq!(unusable_fields(&bad).as_deref(), Some("comm"));
    }

    struct NoKernel;

    impl ModeTarget for NoKernel {
        fn set_mode(&self, _: KernelMode) {}
    }

    fn app_with(counted: &Counted) -> App {
        let mut app = App::new(
            10,
            super::super::theme::Theme { color: false },
            crate::clock::Clock { boot_unix_ns: 0 },
            super::super::app::Source::Live,
        );
        app.top_view = Some(Box::new(TopState::new(
            counted.clone(),
            Box::new(NoKernel),
            KernelMode::Stream,
        )));
        app
    }

    /// Rows a read of `n` cgroups' getpid, the busiest cgroup first.
    fn read(counted: &Counted, n: u64, calls: impl Fn(u64) -> u64) {
        let deltas: Vec<(Key, Delta)> = (1..=n)
            .map(|cg| (Key::new(cg, 39, 0), Delta::uniform(calls(cg), 1_000)))
            .collect();
        counted
            .counts
            .lock()
            .unwrap()
            .merge(&deltas, Misses::default(), true);
    }

    /// Counts of cgroup 1: (syscall, errno, calls) cells, 1 us each.
    fn counted_with(cells: &[(u32, u32, u64)], misses: Misses) -> Counted {
        let counted = Counted::new(Arch::X86_64);
        let deltas: Vec<(Key, Delta)> = cells
            .iter()
            .map(|&(nr, err, calls)| (Key::new(1, nr, err), Delta::uniform(calls, 1_000)))
            .collect();
        counted.counts.lock().unwrap().merge(&deltas, misses, true);
        counted
    }

    #[test]
    fn the_worker_builds_rows_for_each_read_and_order_and_the_ui_swaps_them_in() {
        let counted = Counted::new(Arch::X86_64);
        read(&counted, 3, |cg| cg * 10);
        let mut app = app_with(&counted);
        open(&mut app);
        let t = app.top_view.as_mut().unwrap();
        t.settle(0, 3);
        assert!(t.current());
        assert_eq!(t.rows.len(), 1, "all three cgroups are the host");
        assert_eq!((t.rows[0].calls, t.shown_ticks), (60, 1));
        assert!(t.rows[0].detailed, "the rows on screen come with series");
        // A new read: the rows shown stay until the new ones are in.
        read(&counted, 3, |_| 1);
        let t = app.top_view.as_mut().unwrap();
        assert_eq!(t.rows[0].calls, 60);
        while t.shown_ticks < 2 {
            t.settle(0, 3);
        }
        assert_eq!(t.rows[0].calls, 63);
        assert_eq!(t.rows[0].series[58..], [60, 3]);
        // A new grouping is asked for at once and shown when built; until
        // then the header says what the rows shown are.
        on_action(&mut app, Action::GroupBy);
        let t = app.top_view.as_mut().unwrap();
        assert_eq!(t.by, GroupBy::PodSyscall);
        t.settle(0, 3);
        assert_eq!(t.shown_by(), GroupBy::PodSyscall);
    }

    #[test]
    fn what_the_counts_leave_out_is_said_whole_at_80_columns() {
        let counted = counted_with(
            &[(39, 0, 5)],
            Misses {
                full: 3,
                unentered: 2,
            },
        );
        let mut app = app_with(&counted);
        open(&mut app);
        // A view filter on a field counting does not keep, and command
        // line filters the kernel does not count by.
        app.filter = Some(Filter::parse("comm == sh").unwrap());
        let run = UserFilter::new(&[], Some("^sh$"), Some("path ~ x and pid == 1"), None).unwrap();
        let t = app.top_view.as_mut().unwrap();
        t.run_unusable = run_unusable(&run);
        t.recording = true;
        refresh(&mut app);
        app.top_view.as_mut().unwrap().settle(0, 1);
        let s = super::super::testutil::screen(&mut app, 80, 24);
        for said in [
            "recording (-w): the calls of a stream opened with Enter",
            "filter not applied: counting keeps no comm",
            "counted without --comm, --filter's path: the kernel",
            "not counted: 3 (map full: --agg-entries), 2 exits without enter",
        ] {
            assert!(s.contains(said), "{said:?} is not on the screen:\n{s}");
        }
        assert!(s.contains("getpid"), "the rows are still shown:\n{s}");
        // A run filtered by what the kernel counts by has nothing to say.
        let exact =
            UserFilter::new(&[], None, Some("syscall == openat and pod == web"), None).unwrap();
        assert_eq!(run_unusable(&exact), None);
    }

    #[test]
    fn errors_only_counts_the_failed_calls_only() {
        let counted = counted_with(&[(2, 0, 10), (2, 2, 3), (39, 0, 7)], Misses::default());
        let mut app = app_with(&counted);
        open(&mut app);
        app.errors_only = true;
        refresh(&mut app);
        let t = app.top_view.as_mut().unwrap();
        t.settle(0, 2);
        let rows: Vec<_> = t.rows.iter().map(|r| (r.nr, r.calls, r.errors)).collect();
        assert_eq!(rows, [(Some(2), 3, 3)], "only the failed opens");
        // With a view filter too: both apply.
        app.filter = Some(Filter::parse("syscall == getpid").unwrap());
        refresh(&mut app);
        let t = app.top_view.as_mut().unwrap();
        t.settle(0, 1);
        assert!(t.rows.is_empty(), "{:?}", t.rows);
    }

    /// `/` and `n`/`N` find rows in the top view as they find lines in the
    /// stream (they moved the stream's hidden selection instead).
    #[test]
    fn search_finds_rows_in_the_top_view() {
        let counted = counted_with(&[(0, 0, 20), (2, 0, 10), (39, 0, 7)], Misses::default());
        let mut app = app_with(&counted);
        open(&mut app);
        app.top_view.as_mut().unwrap().settle(0, 3);
        let selected_nr = |app: &App| {
            let t = app.top_view.as_ref().unwrap();
            t.rows[t.selected].nr
        };
        assert_eq!(selected_nr(&app), Some(0), "busiest first: read");
        app.on_action(Action::NextMatch);
        assert_eq!(app.message.as_deref(), Some("no search: press / first"));
        app.list.search = Some(regex::Regex::new("^getpid$").unwrap());
        app.on_action(Action::NextMatch);
        assert_eq!(selected_nr(&app), Some(39));
        app.on_action(Action::NextMatch);
        assert_eq!(
            app.message.as_deref(),
            Some("no later row matches /^getpid$/")
        );
        assert_eq!(selected_nr(&app), Some(39), "stays where it was");
        app.list.search = Some(regex::Regex::new("read").unwrap());
        app.on_action(Action::PrevMatch);
        assert_eq!(selected_nr(&app), Some(0));
    }

    #[test]
    fn pausing_holds_the_rows_until_resumed() {
        let counted = Counted::new(Arch::X86_64);
        read(&counted, 1, |_| 10);
        let mut app = app_with(&counted);
        open(&mut app);
        app.top_view.as_mut().unwrap().settle(0, 1);
        app.on_action(Action::TogglePause);
        assert!(app.list.paused);
        read(&counted, 1, |_| 5);
        // The worker builds the newer read; the view keeps the rows it had.
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            refresh(&mut app);
            let t = app.top_view.as_ref().unwrap();
            t.seen
                .store(t.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
            // Built: waiting in its slot, or (wrongly) shown.
            let waiting = t
                .ready
                .lock()
                .unwrap()
                .as_ref()
                .is_some_and(|b| b.ticks == 2);
            if waiting || t.shown_ticks == 2 {
                break;
            }
            assert!(
                Instant::now() < end,
                "the worker did not build the newer read"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        refresh(&mut app);
        let t = app.top_view.as_ref().unwrap();
        assert_eq!(
            (t.rows[0].calls, t.shown_ticks),
            (10, 1),
            "paused rows moved"
        );
        // Resumed, the newer read is shown.
        app.on_action(Action::TogglePause);
        refresh(&mut app);
        let t = app.top_view.as_mut().unwrap();
        while t.shown_ticks < 2 {
            t.settle(0, 1);
        }
        assert_eq!(t.rows[0].calls, 15);
    }

    #[test]
    fn a_table_built_for_an_order_no_longer_wanted_is_not_shown() {
        let counted = Counted::new(Arch::X86_64);
        read(&counted, 2, |cg| cg);
        let mut app = app_with(&counted);
        open(&mut app);
        let t = app.top_view.as_mut().unwrap();
        t.settle(0, 1);
        // The worker finishes a table for the old order after the user
        // asked for another: it is dropped, not shown.
        let stale = Want {
            sort: TopSort::Name,
            ..t.shown.clone().unwrap()
        };
        t.sort = TopSort::Calls;
        refresh(&mut app);
        let t = app.top_view.as_mut().unwrap();
        *t.ready.lock().unwrap() = Some(Built {
            want: stale,
            ticks: 99,
            gen: 99,
            rows: Vec::new(),
            per_sec: 0.0,
            misses: Misses::default(),
            cpu: Duration::ZERO,
        });
        t.take();
        assert_ne!(t.shown_ticks, 99, "a stale table was swapped in");
        t.settle(0, 1);
        assert_eq!(t.shown.as_ref().unwrap().sort, TopSort::Calls);
        assert_eq!(t.rows.len(), 1);
    }

    #[test]
    fn series_asked_for_rows_scrolled_to_arrive_for_that_table_only() {
        let counted = Counted::new(Arch::X86_64);
        // Two syscalls in the host: two rows per syscall grouping.
        counted.counts.lock().unwrap().merge(
            &[
                (Key::new(1, 0, 0), Delta::uniform(5, 100)),
                (Key::new(1, 1, 0), Delta::uniform(7, 100)),
            ],
            Misses::default(),
            true,
        );
        let mut app = app_with(&counted);
        app.page = 1;
        open(&mut app);
        let t = app.top_view.as_mut().unwrap();
        t.settle(0, 1);
        // A row that came without its series (outside the window sent
        // with the table) is asked for when it is on screen.
        t.rows[1].detailed = false;
        t.rows[1].series.clear();
        t.settle(1, 1);
        assert_eq!(t.rows[1].series.last(), Some(&5), "{:?}", t.rows[1]);
    }
}
