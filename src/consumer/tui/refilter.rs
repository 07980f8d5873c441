//! Re-filtering the retained events after the view filter changed (`f`,
//! `e`, the container pane, container names arriving): in slices between
//! frames, each slice split over the cores.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::app::App;
use super::rows::Rows;
use super::store::Store;
use super::tree::{NodeKey, Tree};
use crate::model::container::{ContainerMap, HOST};
use crate::model::event::TraceEvent;
use crate::model::filter::Filter;
use crate::model::stats::Stats;

/// A re-filter in progress. The retained events are tested from the newest
/// back, a slice per turn of the event loop, so keys keep being handled
/// while a million events are filtered. Found rows go in front of the rows
/// held, new events behind them, so the rows stay in order throughout and
/// the newest matches show first.
pub struct Scan {
    /// Events below this sequence number are still to be tested.
    pub(super) hi: u64,
    /// Where the scan began.
    pub(super) from: u64,
    /// The event to select when done (if not following).
    pub(super) keep: u64,
    /// Time spent so far (the slices, not the pauses between them).
    pub(super) busy: Duration,
    /// Say how many events are shown when done.
    pub(super) announce: bool,
}

/// Events tested between looks at the clock, one thread.
const SCAN_CHUNK: u64 = 1 << 16;

/// Events a thread takes at a time when a re-filter is split over threads.
const PIECE: u64 = 4096;

/// Filters at least this costly (`args`: rendering every event's argument
/// text) are split over the cores. Cheaper ones are not: their work is
/// smaller than what a thread start and join cost on a busy machine.
const PARALLEL_FROM_COST: u32 = 50;

/// How long a key that changes the view filter waits for the re-filter
/// before the next frame; the rest is done between frames.
pub const REFILTER_SLICE: Duration = Duration::from_millis(20);

/// The view's tests, borrowed from the App so that worker threads can run
/// them over parts of the store.
pub(super) struct ViewTest<'a> {
    filter: Option<&'a Filter>,
    errors_only: bool,
    /// The container pane's test; None when it selects everything, so the
    /// loop does not reach through each event's identity for nothing.
    pane: Option<&'a Tree>,
    containers: &'a ContainerMap,
}

impl<'a> ViewTest<'a> {
    pub(super) fn new(
        filter: Option<&'a Filter>,
        errors_only: bool,
        tree: &'a Tree,
        containers: &'a ContainerMap,
    ) -> Self {
        let pane = (*tree.selected() != NodeKey::All).then_some(tree);
        ViewTest {
            filter,
            errors_only,
            pane,
            containers,
        }
    }

    pub(super) fn accepts(&self, ev: &TraceEvent) -> bool {
        (!self.errors_only || ev.errno().is_some())
            && self
                .pane
                .is_none_or(|t| t.accepts(ev.id.cgroup_id, self.containers))
            && self.filter.is_none_or(|f| f.matches(ev, self.containers))
    }

    /// Appends the sequence numbers in `[lo, hi)` of the events shown, and
    /// counts them in `stats` if given: in the same pass, while the event
    /// is in the cache (a second pass over a chunk misses on every event).
    fn collect(
        &self,
        store: &Store,
        lo: u64,
        hi: u64,
        out: &mut Vec<u64>,
        mut stats: Option<&mut Stats>,
    ) {
        let lo = lo.max(store.first_seq());
        for (i, ev) in store.range(lo, hi).enumerate() {
            if self.accepts(ev) {
                out.push(lo + i as u64);
                if let Some(s) = stats.as_deref_mut() {
                    s.record(ev, &group_label(self.containers, ev));
                }
            }
        }
    }
}

/// Threads a re-filter uses: the cores there are, up to 4.
fn refilter_threads() -> u64 {
    static N: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *N.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get() as u64)
            .min(4)
    })
}

/// The group an event is counted under in the statistics.
/// Events of cluster nodes are grouped per node (`node:label`).
pub(super) fn group_label(containers: &ContainerMap, ev: &TraceEvent) -> Cow<'static, str> {
    if ev.node != crate::model::node::LOCAL {
        return Cow::Owned(crate::model::node::with_node(
            ev.node,
            containers.label(ev.id.cgroup_id),
        ));
    }
    match containers.get(ev.id.cgroup_id) {
        Some(c) => Cow::Owned(c.label()),
        // Most events: no allocation.
        None => Cow::Borrowed(HOST),
    }
}

impl App {
    /// Rebuilds the rows (and statistics) from the retained events after
    /// the view filter changed, all at once. The selection stays on the
    /// same event, or the nearest shown one before it.
    pub fn refilter(&mut self) {
        self.start_refilter();
        self.refilter_step(Duration::MAX);
    }

    /// Starts a re-filter and does its first slice: on a small store all of
    /// it, on a big one the newest events, the rest between frames.
    pub(super) fn begin_refilter(&mut self) {
        self.start_refilter();
        self.refilter_step(REFILTER_SLICE);
    }

    /// Starts a re-filter; `refilter_step` does the work.
    pub fn start_refilter(&mut self) {
        // A re-filter that replaces one in progress keeps its selection:
        // the rows found so far are partial.
        let keep = match &self.scan {
            Some(s) => s.keep,
            None => self.current(),
        };
        self.list.rows = if self.unfiltered() {
            Rows::all()
        } else {
            Rows::filtered(VecDeque::new())
        };
        self.stats = Stats::default();
        self.stats_view.selected = 0;
        let end = self.store.end_seq();
        self.scan = Some(Scan {
            hi: end,
            from: end,
            keep,
            busy: Duration::ZERO,
            announce: false,
        });
    }

    /// Continues a re-filter for about `budget`; true while one is pending.
    pub fn refilter_step(&mut self, budget: Duration) -> bool {
        let Some(mut scan) = self.scan.take() else {
            return false;
        };
        let t0 = Instant::now();
        let filtered = self.list.rows.is_filtered();
        let threads = match &self.filter {
            Some(f) if f.cost() >= PARALLEL_FROM_COST => refilter_threads(),
            _ => 1,
        };
        let mut hits = Vec::new();
        let parallel = filtered && threads > 1;
        if parallel {
            // One pass over all that is left, split over the threads, for
            // as long as the budget lasts.
            let first = self.store.first_seq();
            let lo = self.matching_on(threads, first, scan.hi, (t0, budget), &mut hits);
            self.list.rows.prepend(&hits);
            // Costly filters select few events: counting them after the
            // threads are done costs little.
            for ev in hits.iter().filter_map(|&s| self.store.get(s)) {
                self.stats.record(ev, &group_label(&self.labels, ev));
            }
            scan.hi = lo;
        }
        while !parallel && scan.hi > self.store.first_seq() {
            let lo = scan
                .hi
                .saturating_sub(SCAN_CHUNK)
                .max(self.store.first_seq());
            if filtered {
                hits.clear();
                let view = ViewTest::new(
                    self.filter.as_ref(),
                    self.errors_only,
                    &self.tree,
                    &self.labels,
                );
                view.collect(&self.store, lo, scan.hi, &mut hits, Some(&mut self.stats));
                self.list.rows.prepend(&hits);
            } else {
                for ev in self.store.range(lo, scan.hi) {
                    self.stats.record(ev, &group_label(&self.labels, ev));
                }
            }
            scan.hi = lo;
            if t0.elapsed() >= budget {
                break;
            }
        }
        scan.busy += t0.elapsed();
        if scan.hi > self.store.first_seq() {
            self.scan = Some(scan);
            return true;
        }
        if !self.list.follow {
            self.list.selected = scan.keep;
        }
        if scan.announce {
            self.message = Some(format!(
                "{} of {} retained events shown",
                self.row_count(),
                self.store.len()
            ));
        }
        self.last_refilter = Some(scan.busy);
        false
    }

    /// The share of the retained events a pending re-filter has tested.
    pub fn refilter_progress(&self) -> Option<f64> {
        let s = self.scan.as_ref()?;
        let total = s.from.saturating_sub(self.store.first_seq()).max(1);
        Some(s.from.saturating_sub(s.hi.max(self.store.first_seq())) as f64 / total as f64)
    }

    /// Tests the events in `[lo, hi)` from the newest back, in pieces that
    /// `threads` threads take in turn until none is left or the `budget`
    /// (from its start) is used up. Appends the sequence numbers of the
    /// events shown, in order, and returns where testing stopped: `[stop,
    /// hi)` was tested. Taking pieces in turn instead of halves means a
    /// thread the scheduler runs late (a busy machine) holds nobody up; each
    /// thread has its own copy of the filter, so its regexes have their own
    /// caches.
    fn matching_on(
        &self,
        threads: u64,
        lo: u64,
        hi: u64,
        (t0, budget): (Instant, Duration),
        out: &mut Vec<u64>,
    ) -> u64 {
        if threads < 2 || hi - lo < 2 * PIECE {
            self.view_test().collect(&self.store, lo, hi, out, None);
            return lo;
        }
        let pieces = (hi - lo).div_ceil(PIECE);
        let next = AtomicU64::new(0);
        let store = &self.store;
        // Piece p is [hi - (p + 1) * PIECE, hi - p * PIECE), cut at lo. Pieces
        // are handed out in order and each one taken is finished, so the
        // tested range is always one piece sequence from `hi` down.
        let work = |view: ViewTest<'_>, first_free: bool| {
            let mut found: Vec<(u64, Vec<u64>)> = Vec::new();
            while (first_free && found.is_empty()) || t0.elapsed() < budget {
                let p = next.fetch_add(1, Ordering::Relaxed);
                if p >= pieces {
                    break;
                }
                let b = hi - p * PIECE;
                let mut part = Vec::new();
                view.collect(store, b.saturating_sub(PIECE).max(lo), b, &mut part, None);
                found.push((p, part));
            }
            found
        };
        let mut found = std::thread::scope(|sc| {
            let workers: Vec<_> = (1..threads)
                .map(|_| {
                    let filter = self.filter.clone();
                    let (tree, containers) = (&self.tree, &self.labels);
                    let errors_only = self.errors_only;
                    let work = &work;
                    sc.spawn(move || {
                        work(
                            ViewTest::new(filter.as_ref(), errors_only, tree, containers),
                            false,
                        )
                    })
                })
                .collect();
            // This thread always tests a piece, so every step gets on.
            let mut found = work(self.view_test(), true);
            for w in workers {
                match w.join() {
                    Ok(part) => found.extend(part),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            found
        });
        // Oldest piece first.
        found.sort_unstable_by_key(|&(p, _)| std::cmp::Reverse(p));
        for (_, part) in found {
            out.extend(part);
        }
        let taken = next.load(Ordering::Relaxed).min(pieces);
        hi.saturating_sub(taken * PIECE).max(lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::tui::testutil::{app_with, event};
    use crate::model::event::Event;

    /// A varied set: five syscalls, four commands, failures, paths.
    fn varied(n: u32) -> Vec<TraceEvent> {
        (0..n)
            .map(|i| {
                let (name, ret, path) = match i % 6 {
                    0 => ("openat", -2, Some(format!("/etc/nope{}", i % 11))),
                    1 => ("openat", 3, Some(format!("/usr/lib/lib{}.so", i % 7))),
                    2 => ("read", 512, None),
                    3 => ("connect", -111, None),
                    4 => ("close", if i % 4 == 0 { -9 } else { 0 }, None),
                    _ => ("getppid", 1, None),
                };
                let comm = ["cat", "sh", "nginx", "postgres"][(i % 4) as usize];
                event(name, comm, 100 + i % 37, ret, path.as_deref())
            })
            .collect()
    }

    const FILTERS: [&str; 7] = [
        "errno != 0",
        "class == file",
        "syscall in (openat, close) and comm != sh",
        "args ~ 'lib[35]' or pid == 101",
        "path ~ nope1 and not errno == 0",
        "comm ~ '^post' or class == network",
        "pid > 120",
    ];

    /// The rows one event at a time, as `visible` says.
    fn one_by_one(app: &App) -> Vec<u64> {
        let first = app.store.first_seq();
        app.store
            .iter()
            .enumerate()
            .filter(|(_, e)| app.visible(e))
            .map(|(i, _)| first + i as u64)
            .collect()
    }

    fn rows(app: &App) -> Vec<u64> {
        let (first, end) = (app.store.first_seq(), app.store.end_seq());
        app.list.rows.seqs_from(first, end, 0).collect()
    }

    #[test]
    fn split_over_threads_selects_what_one_by_one_selects() {
        let mut app = app_with(vec![]);
        app.store = Store::new(50_000);
        app.ingest_batch(varied(30_000).into_iter().map(Event::Syscall).collect());
        for text in FILTERS {
            app.filter = Some(Filter::parse(text).unwrap());
            for errors_only in [false, true] {
                app.errors_only = errors_only;
                let want = one_by_one(&app);
                assert!(!want.is_empty() && want.len() < 30_000, "{text}");
                for threads in [1, 2, 3, 4] {
                    let mut got = Vec::new();
                    // An uneven range, so the last piece is short.
                    let all = (Instant::now(), Duration::MAX);
                    let stop = app.matching_on(threads, 7, 30_000, all, &mut got);
                    assert_eq!(stop, 7);
                    let tail: Vec<u64> = want.iter().copied().filter(|&s| s >= 7).collect();
                    assert_eq!(got, tail, "{text}, {threads} threads");
                    // No time at all: at least one piece, from the top down.
                    got.clear();
                    let none = (Instant::now(), Duration::ZERO);
                    let stop = app.matching_on(threads, 7, 30_000, none, &mut got);
                    assert!((7..=30_000 - PIECE).contains(&stop), "{stop}");
                    let tail: Vec<u64> = want.iter().copied().filter(|&s| s >= stop).collect();
                    assert_eq!(got, tail, "{text}, {threads} threads, no time");
                }
                app.refilter();
                assert_eq!(rows(&app), want, "{text}");
            }
        }
    }

    #[test]
    fn slices_with_events_arriving_and_leaving_end_like_one_refilter() {
        let evs = varied(200_000);
        for text in FILTERS {
            let mut app = app_with(vec![]);
            // Several chunks, and small enough that arrivals push old
            // events out mid-scan.
            app.store = Store::new(142_000);
            let stored = 2 * SCAN_CHUNK as usize + 10_000;
            app.ingest_batch(evs[..stored].iter().cloned().map(Event::Syscall).collect());
            app.filter = Some(Filter::parse(text).unwrap());
            app.start_refilter();
            let mut next = stored;
            let mut slices = 0;
            // A zero budget does one chunk per step.
            while app.refilter_step(Duration::ZERO) {
                let p = app.refilter_progress().unwrap();
                assert!((0.0..=1.0).contains(&p), "{p}");
                let more = evs[next..next + 3000].iter().cloned().map(Event::Syscall);
                app.ingest_batch(more.collect());
                next += 3000;
                slices += 1;
                // Rows stay ordered while the scan runs.
                assert!(rows(&app).windows(2).all(|w| w[0] < w[1]), "{text}");
            }
            assert!(slices >= 1, "{text}: the store spans several chunks");
            assert!(app.refilter_progress().is_none());
            assert!(app.store.evicted > 0);
            let got = rows(&app);
            assert_eq!(got, one_by_one(&app), "{text}");
            let counted = app.stats.events;
            app.refilter();
            assert_eq!(rows(&app), got, "{text}");
            // Arrivals are counted as they come, the rest by the scan: every
            // retained row is in the statistics (and some evicted since).
            assert_eq!(app.stats.events, got.len() as u64);
            assert!(counted >= app.stats.events, "{text}");
        }
    }

    #[test]
    fn a_key_during_a_refilter_keeps_its_selection() {
        let mut app = app_with(vec![]);
        app.store = Store::new(300_000);
        app.ingest_batch(varied(200_000).into_iter().map(Event::Syscall).collect());
        app.filter = Some(Filter::parse("syscall == openat").unwrap());
        app.start_refilter();
        assert!(app.refilter_step(Duration::ZERO), "more than one chunk");
        let seq = rows(&app)[5];
        app.select(seq);
        while app.refilter_step(Duration::ZERO) {}
        assert_eq!(app.current(), seq);
        assert!(app.last_refilter.is_some());
    }
}
