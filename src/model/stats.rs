//! Per-syscall and per-group statistics, like `strace -c` plus latency
//! percentiles. Latencies go into a log-bucket histogram (8 buckets per
//! power of two, so a percentile is within ~6% of the true value, and never
//! outside the observed minimum and maximum) instead of stored samples:
//! memory stays fixed however many events arrive. Up to 16 samples are also
//! kept as they are, and their percentiles are exact.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write;

use super::event::TraceEvent;
use super::syscalls::{self, Arch};

/// Buckets per power of two.
const SUB: u64 = 8;
const SUB_BITS: u32 = 3;
/// Exact buckets 0..8, then 8 per octave up to 2^64.
const BUCKETS: usize = (SUB as usize) + (64 - SUB_BITS as usize) * SUB as usize;

/// Up to this many samples a histogram also keeps them, so the percentiles
/// of a few slow calls are the samples themselves.
const EXACT: usize = 16;

/// `counts` grows only up to the highest bucket used: there is one histogram
/// per syscall and per container ever seen, and most never see a latency
/// above a few milliseconds (bucket ~140 of 496).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    /// Smallest and largest sample (meaningful when `total > 0`).
    min: u64,
    max: u64,
    /// Every sample, sorted, while `total <= EXACT`; empty (freed) after.
    /// Sorted so that the order of recording does not show.
    exact: Vec<u64>,
}

fn bucket(ns: u64) -> usize {
    if ns < SUB {
        return ns as usize;
    }
    let e = 63 - ns.leading_zeros();
    let mantissa = (ns >> (e - SUB_BITS)) - SUB;
    (SUB + u64::from(e - SUB_BITS) * SUB + mantissa) as usize
}

/// `[low, high)` of bucket `i` (the last bucket's end saturates).
pub fn bucket_range(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < SUB {
        return (i, i + 1);
    }
    let e = (i - SUB) / SUB;
    let m = (i - SUB) % SUB;
    let low = (SUB + m) << e;
    let high = u64::try_from(u128::from(SUB + m + 1) << e).unwrap_or(u64::MAX);
    (low, high)
}

impl Histogram {
    pub fn record(&mut self, ns: u64) {
        let b = bucket(ns);
        debug_assert!(b < BUCKETS);
        if b >= self.counts.len() {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] += 1;
        if self.total == 0 || ns < self.min {
            self.min = ns;
        }
        self.max = self.max.max(ns);
        if self.total < EXACT as u64 {
            let at = self.exact.partition_point(|&v| v <= ns);
            self.exact.insert(at, ns);
        } else if self.total == EXACT as u64 {
            self.exact = Vec::new();
        }
        self.total += 1;
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// Adds `count` samples known only to lie in `[lo, hi)` (a coarser
    /// histogram's bucket), spread evenly over the buckets there.
    pub fn add_spread(&mut self, lo: u64, hi: u64, count: u64) {
        if count == 0 {
            return;
        }
        let hi = hi.max(lo + 1);
        let (first, last) = (bucket(lo), bucket(hi - 1));
        if last >= self.counts.len() {
            self.counts.resize(last + 1, 0);
        }
        let n = (last - first + 1) as u64;
        for (j, c) in self.counts[first..=last].iter_mut().enumerate() {
            *c += count / n + u64::from((j as u64) < count % n);
        }
        if self.total == 0 || lo < self.min {
            self.min = lo;
        }
        self.max = self.max.max(hi - 1);
        // The samples themselves are not known.
        self.exact = Vec::new();
        self.total += count;
    }

    /// The largest sample, when it is known better than its bucket.
    pub fn set_max(&mut self, max: u64) {
        if self.total > 0 && max >= self.min {
            self.max = max;
        }
    }

    fn merge(&mut self, other: &Histogram) {
        if other.total == 0 {
            return;
        }
        if other.counts.len() > self.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        if self.total == 0 || other.min < self.min {
            self.min = other.min;
        }
        self.max = self.max.max(other.max);
        if self.total + other.total <= EXACT as u64 {
            self.exact.extend_from_slice(&other.exact);
            self.exact.sort_unstable();
        } else {
            self.exact = Vec::new();
        }
        self.total += other.total;
    }

    /// The value below which a fraction `q` of the samples lie (nearest
    /// rank); 0 when empty. Exact up to `EXACT` samples. Past that, an
    /// estimate inside the bucket that holds the rank, narrowed to the
    /// observed minimum and maximum (so a percentile never lies outside the
    /// data, and samples that are all alike give that value), placed by the
    /// rank's position among the bucket's samples.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).clamp(1, self.total);
        if self.exact.len() as u64 == self.total {
            return self.exact[rank as usize - 1];
        }
        // The extremes are known exactly.
        if rank == 1 {
            return self.min;
        }
        if rank == self.total {
            return self.max;
        }
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            if seen + c >= rank {
                let (lo, hi) = bucket_range(i);
                let lo = lo.max(self.min);
                let hi = hi.saturating_sub(1).min(self.max).max(lo);
                // The k-th of the bucket's c samples sits at (k - 1/2) / c
                // of its (narrowed) range.
                let frac = ((rank - seen) as f64 - 0.5) / c as f64;
                return lo + ((hi - lo) as f64 * frac) as u64;
            }
            seen += c;
        }
        self.max
    }

    /// Non-empty buckets as `(low, high, count)`, in order.
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| {
                let (lo, hi) = bucket_range(i);
                (lo, hi, c)
            })
    }
}

/// Counters for one syscall or one group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    pub calls: u64,
    pub errors: u64,
    pub total_ns: u64,
    pub latency: Histogram,
}

impl Row {
    fn record(&mut self, ev: &TraceEvent) {
        self.calls += 1;
        if ev.errno().is_some() {
            self.errors += 1;
        }
        if ev.returns() {
            let d = ev.duration_ns();
            self.total_ns = self.total_ns.saturating_add(d);
            self.latency.record(d);
        }
    }

    fn merge(&mut self, other: &Row) {
        self.calls += other.calls;
        self.errors += other.errors;
        self.total_ns = self.total_ns.saturating_add(other.total_ns);
        self.latency.merge(&other.latency);
    }

    pub fn error_rate(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            self.errors as f64 / self.calls as f64
        }
    }

    pub fn mean_ns(&self) -> u64 {
        self.total_ns.checked_div(self.latency.count()).unwrap_or(0)
    }

    pub fn p50(&self) -> u64 {
        self.latency.quantile(0.5)
    }

    pub fn p99(&self) -> u64 {
        self.latency.quantile(0.99)
    }
}

/// Seconds of events-per-second history kept per group.
pub const RATE_SECONDS: usize = 60;

/// Events per second of a group, by event time (so replays look the same).
#[derive(Clone, Debug, Default)]
pub struct RateHistory {
    /// The second of the last entry in `counts`.
    last_sec: u64,
    counts: VecDeque<u64>,
}

impl RateHistory {
    fn record(&mut self, sec: u64) {
        self.add(sec, 1);
    }

    fn merge(&mut self, other: &RateHistory) {
        let n = other.counts.len() as u64;
        for (i, &c) in other.counts.iter().enumerate() {
            if c > 0 {
                self.add(other.last_sec + 1 + i as u64 - n, c);
            }
        }
    }

    fn add(&mut self, sec: u64, n: u64) {
        if self.counts.is_empty() {
            self.last_sec = sec;
            self.counts.push_back(0);
        }
        if sec > self.last_sec {
            let gap = (sec - self.last_sec).min(RATE_SECONDS as u64);
            for _ in 0..gap {
                self.counts.push_back(0);
            }
            self.last_sec = sec;
            while self.counts.len() > RATE_SECONDS {
                self.counts.pop_front();
            }
        }
        // Events arrive roughly, not strictly, in time order, and a re-filter
        // counts the retained events newest first: a second older than the
        // first one kept still counts while it is inside the window.
        let back = (self.last_sec - sec) as usize;
        if back >= RATE_SECONDS {
            return;
        }
        while self.counts.len() <= back {
            self.counts.push_front(0);
        }
        let i = self.counts.len() - 1 - back;
        self.counts[i] += n;
    }

    /// Counts per second for the `RATE_SECONDS` up to and including `now_sec`.
    pub fn series(&self, now_sec: u64) -> Vec<u64> {
        let mut out = vec![0; RATE_SECONDS];
        for (i, &c) in self.counts.iter().rev().enumerate() {
            let sec = self.last_sec.saturating_sub(i as u64);
            if sec <= now_sec && now_sec - sec < RATE_SECONDS as u64 {
                out[RATE_SECONDS - 1 - (now_sec - sec) as usize] = c;
            }
        }
        out
    }
}

#[derive(Clone, Debug, Default)]
pub struct Group {
    pub row: Row,
    pub rate: RateHistory,
}

impl Group {
    fn merge(&mut self, other: &Group) {
        self.row.merge(&other.row);
        self.rate.merge(&other.rate);
    }
}

/// Groups kept by name. Past this many, the least recently active group is
/// folded into [`EARLIER_GROUPS`], so a long run on a host where containers
/// come and go keeps bounded memory while every event stays counted.
pub const GROUPS_MAX: usize = 1024;
/// The row that holds the folded groups.
pub const EARLIER_GROUPS: &str = "(earlier groups)";

/// Columns the tables can be sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Total,
    Calls,
    Errors,
    ErrorRate,
    Mean,
    P50,
    P99,
    Name,
}

impl SortKey {
    pub const ALL: [SortKey; 8] = [
        SortKey::Total,
        SortKey::Calls,
        SortKey::Errors,
        SortKey::ErrorRate,
        SortKey::Mean,
        SortKey::P50,
        SortKey::P99,
        SortKey::Name,
    ];

    pub fn next(self) -> SortKey {
        let i = SortKey::ALL.iter().position(|&k| k == self).unwrap_or(0);
        SortKey::ALL[(i + 1) % SortKey::ALL.len()]
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Total => "total time",
            SortKey::Calls => "calls",
            SortKey::Errors => "errors",
            SortKey::ErrorRate => "error rate",
            SortKey::Mean => "mean",
            SortKey::P50 => "p50",
            SortKey::P99 => "p99",
            SortKey::Name => "name",
        }
    }
}

/// Orders rows by `key`, biggest first (names A to Z); `reverse` flips it.
pub fn sort_rows<K: AsRef<str>>(rows: &mut [(K, &Row)], key: SortKey, reverse: bool) {
    rows.sort_by(|(an, a), (bn, b)| {
        let ord = match key {
            SortKey::Total => b.total_ns.cmp(&a.total_ns),
            SortKey::Calls => b.calls.cmp(&a.calls),
            SortKey::Errors => b.errors.cmp(&a.errors),
            SortKey::ErrorRate => b.error_rate().total_cmp(&a.error_rate()),
            SortKey::Mean => b.mean_ns().cmp(&a.mean_ns()),
            SortKey::P50 => b.p50().cmp(&a.p50()),
            SortKey::P99 => b.p99().cmp(&a.p99()),
            SortKey::Name => an.as_ref().cmp(bn.as_ref()),
        }
        .then_with(|| an.as_ref().cmp(bn.as_ref()));
        if reverse {
            ord.reverse()
        } else {
            ord
        }
    });
}

/// Syscall numbers below this get a direct slot; others (bogus numbers from
/// a foreign kernel) are searched for.
const SLOTS_MAX: u32 = 4096;

/// Statistics of a stream of events. `record` runs for every shown event and
/// every retained one on a re-filter, so rows are found without hashing in
/// the common cases: syscalls by a slot per number, groups by remembering
/// the last one (most events in a row come from the same group).
#[derive(Clone, Debug, Default)]
pub struct Stats {
    syscalls: Vec<((Arch, u32), Row)>,
    /// Per architecture: index + 1 into `syscalls` by number, 0 for none.
    slots: [Vec<u32>; 2],
    groups: Vec<(String, Group)>,
    group_index: HashMap<String, usize>,
    last_group: usize,
    /// GROUPS_MAX when 0 (tests set a small one).
    group_cap: usize,
    /// How many groups were folded into EARLIER_GROUPS.
    pub folded_groups: u64,
    pub events: u64,
    /// The newest event second seen (the end of the rate series).
    pub last_sec: u64,
}

fn arch_slot(a: Arch) -> usize {
    match a {
        Arch::X86_64 => 0,
        Arch::Aarch64 => 1,
    }
}

impl Stats {
    /// Counts one event into its syscall's row and into `group`'s row.
    pub fn record(&mut self, ev: &TraceEvent, group: &str) {
        self.events += 1;
        let i = self.syscall_index(ev.arch, ev.nr);
        self.syscalls[i].1.record(ev);
        let sec = ev.finish_ns.max(ev.start_ns) / 1_000_000_000;
        self.last_sec = self.last_sec.max(sec);
        let gi = self.group_index(group);
        let g = &mut self.groups[gi].1;
        g.row.record(ev);
        g.rate.record(sec);
    }

    /// Counts a row of calls counted elsewhere (the kernel's aggregation)
    /// into its syscall's row and into `group`'s row.
    pub fn add_row(&mut self, arch: Arch, nr: u32, group: &str, row: &Row) {
        self.events += row.calls;
        let i = self.syscall_index(arch, nr);
        self.syscalls[i].1.merge(row);
        let gi = self.group_index(group);
        self.groups[gi].1.row.merge(row);
    }

    fn syscall_index(&mut self, arch: Arch, nr: u32) -> usize {
        let key = (arch, nr);
        if nr >= SLOTS_MAX {
            return match self.syscalls.iter().position(|(k, _)| *k == key) {
                Some(i) => i,
                None => {
                    self.syscalls.push((key, Row::default()));
                    self.syscalls.len() - 1
                }
            };
        }
        let slots = &mut self.slots[arch_slot(arch)];
        if slots.len() <= nr as usize {
            slots.resize(nr as usize + 1, 0);
        }
        match slots[nr as usize] {
            0 => {
                self.syscalls.push((key, Row::default()));
                slots[nr as usize] = self.syscalls.len() as u32;
                self.syscalls.len() - 1
            }
            i => i as usize - 1,
        }
    }

    fn group_index(&mut self, group: &str) -> usize {
        if self
            .groups
            .get(self.last_group)
            .is_some_and(|(name, _)| name == group)
        {
            return self.last_group;
        }
        let i = match self.group_index.get(group) {
            Some(&i) => i,
            None => {
                let cap = if self.group_cap == 0 {
                    GROUPS_MAX
                } else {
                    self.group_cap
                };
                while self.groups.len() >= cap.max(2) {
                    self.fold_least_recent();
                }
                self.groups.push((group.to_string(), Group::default()));
                self.group_index
                    .insert(group.to_string(), self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        self.last_group = i;
        i
    }

    /// Statistics that keep at most `cap` groups (at least 2).
    pub fn with_group_cap(cap: usize) -> Stats {
        Stats {
            group_cap: cap.max(2),
            ..Stats::default()
        }
    }

    /// Folds the group whose newest event is oldest (fewest calls on a tie)
    /// into EARLIER_GROUPS. New groups are rare (a container appearing), so
    /// a scan is fine.
    fn fold_least_recent(&mut self) {
        let Some(victim) = self
            .groups
            .iter()
            .enumerate()
            .filter(|(_, (name, _))| name != EARLIER_GROUPS)
            .min_by_key(|(_, (_, g))| (g.rate.last_sec, g.row.calls))
            .map(|(i, _)| i)
        else {
            return;
        };
        let (name, g) = self.groups.swap_remove(victim);
        self.group_index.remove(&name);
        if let Some((moved, _)) = self.groups.get(victim) {
            self.group_index.insert(moved.clone(), victim);
        }
        self.last_group = usize::MAX;
        self.folded_groups += 1;
        let bucket = match self.group_index.get(EARLIER_GROUPS) {
            Some(&i) => i,
            None => {
                self.groups
                    .push((EARLIER_GROUPS.to_string(), Group::default()));
                self.group_index
                    .insert(EARLIER_GROUPS.to_string(), self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        self.groups[bucket].1.merge(&g);
    }

    /// The row of one syscall, if any event of it was counted.
    pub fn syscall(&self, arch: Arch, nr: u32) -> Option<&Row> {
        self.syscalls
            .iter()
            .find(|(k, _)| *k == (arch, nr))
            .map(|(_, r)| r)
    }

    /// The row of one group, if any event of it was counted.
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.group_index.get(name).map(|&i| &self.groups[i].1)
    }

    pub fn syscall_rows(&self, key: SortKey, reverse: bool) -> Vec<(String, &Row)> {
        let mut rows: Vec<(String, &Row)> = self
            .syscalls
            .iter()
            .map(|((arch, nr), r)| (syscalls::name_or_unknown(*arch, *nr).into_owned(), r))
            .collect();
        sort_rows(&mut rows, key, reverse);
        rows
    }

    pub fn group_rows(&self, key: SortKey, reverse: bool) -> Vec<(&str, &Group)> {
        let mut rows: Vec<(&str, &Row)> = self
            .groups
            .iter()
            .map(|(k, g)| (k.as_str(), &g.row))
            .collect();
        sort_rows(&mut rows, key, reverse);
        rows.into_iter()
            .map(|(k, _)| (k, &self.groups[self.group_index[k]].1))
            .collect()
    }

    /// The `strace -c`-like table, plus percentiles, sorted by total time.
    pub fn table(&self, fmt_ns: impl Fn(u64) -> String) -> String {
        let rows = self.syscall_rows(SortKey::Total, false);
        let total_ns: u64 = rows.iter().map(|(_, r)| r.total_ns).sum();
        let calls: u64 = rows.iter().map(|(_, r)| r.calls).sum();
        let errors: u64 = rows.iter().map(|(_, r)| r.errors).sum();
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:>6} {:>10} {:>10} {:>9} {:>8} {:>6} {:>9} {:>9} {:<16}",
            "% time", "total", "mean", "calls", "errors", "err%", "p50", "p99", "syscall"
        );
        let rule = format!(
            "{} {} {} {} {} {} {} {} {}",
            "-".repeat(6),
            "-".repeat(10),
            "-".repeat(10),
            "-".repeat(9),
            "-".repeat(8),
            "-".repeat(6),
            "-".repeat(9),
            "-".repeat(9),
            "-".repeat(16)
        );
        let _ = writeln!(s, "{rule}");
        for (name, r) in &rows {
            let pct = if total_ns == 0 {
                0.0
            } else {
                100.0 * r.total_ns as f64 / total_ns as f64
            };
            let _ = writeln!(
                s,
                "{:>6.2} {:>10} {:>10} {:>9} {:>8} {:>6.1} {:>9} {:>9} {:<16}",
                pct,
                fmt_ns(r.total_ns),
                fmt_ns(r.mean_ns()),
                r.calls,
                r.errors,
                100.0 * r.error_rate(),
                fmt_ns(r.p50()),
                fmt_ns(r.p99()),
                name
            );
        }
        let _ = writeln!(s, "{rule}");
        let _ = writeln!(
            s,
            "{:>6.2} {:>10} {:>10} {:>9} {:>8} {:>6.1} {:>9} {:>9} {:<16}",
            // Of nothing, no share at all.
            if total_ns == 0 { 0.0 } else { 100.0 },
            fmt_ns(total_ns),
            "",
            calls,
            errors,
            if calls == 0 {
                0.0
            } else {
                100.0 * errors as f64 / calls as f64
            },
            "",
            "",
            "total"
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::EventBuilder;

    fn ev(nr: u32, ret: i64, start: u64, dur: u64) -> TraceEvent {
        EventBuilder::new()
            .nr(nr)
            .ret(ret)
            .start(start)
            .duration(dur)
            .build()
    }

    #[test]
    fn past_the_cap_the_least_recent_groups_fold_and_every_event_stays_counted() {
        let mut s = Stats::with_group_cap(4);
        // Containers come and go: c0 .. c9, one second each, 1 + i events.
        let mut expect_calls = 0;
        for i in 0..10u64 {
            for k in 0..=i {
                let e = ev(
                    39,
                    if k == 0 { -2 } else { 0 },
                    (100 + i) * 1_000_000_000,
                    1_000 * (i + 1),
                );
                s.record(&e, &format!("c{i}"));
                expect_calls += 1;
            }
        }
        let rows = s.group_rows(SortKey::Name, false);
        assert!(rows.len() <= 4, "{} groups kept", rows.len());
        let names: Vec<&str> = rows.iter().map(|(n, _)| *n).collect();
        assert!(names.contains(&"c9") && names.contains(&"c8"), "{names:?}");
        assert!(names.contains(&EARLIER_GROUPS), "{names:?}");
        let calls: u64 = rows.iter().map(|(_, g)| g.row.calls).sum();
        assert_eq!(calls, expect_calls);
        let errors: u64 = rows.iter().map(|(_, g)| g.row.errors).sum();
        assert_eq!(errors, 10);
        let earlier = s.group(EARLIER_GROUPS).unwrap();
        let kept: u64 = names
            .iter()
            .filter(|n| **n != EARLIER_GROUPS)
            .map(|n| s.group(n).unwrap().row.calls)
            .sum();
        assert_eq!(earlier.row.calls + kept, expect_calls);
        assert_eq!(earlier.row.latency.count(), earlier.row.calls);
        assert_eq!(s.folded_groups as usize, 10 - (rows.len() - 1));
        // The folded groups' per-second counts land in their seconds.
        let series = earlier.rate.series(109);
        assert_eq!(series.iter().sum::<u64>(), earlier.row.calls);
        assert_eq!(series[RATE_SECONDS - 10], 1, "c0's one event at second 100");
        // A folded name that comes back starts a new row.
        s.record(&ev(39, 0, 110 * 1_000_000_000, 10), "c0");
        assert_eq!(s.group("c0").unwrap().row.calls, 1);
        assert!(s.group_rows(SortKey::Name, false).len() <= 4);
    }

    #[test]
    fn buckets_cover_every_value_in_order() {
        for v in [0u64, 1, 7, 8, 9, 15, 16, 17, 1000, 1 << 40, u64::MAX] {
            let (lo, hi) = bucket_range(bucket(v));
            assert!(lo <= v && (v < hi || hi == u64::MAX), "{v}: [{lo}, {hi})");
        }
        assert!(bucket(u64::MAX) < BUCKETS);
        for i in 1..BUCKETS {
            assert_eq!(bucket_range(i - 1).1, bucket_range(i).0, "bucket {i}");
        }
    }

    #[test]
    fn a_histogram_holds_buckets_only_up_to_its_largest_sample() {
        let mut h = Histogram::default();
        assert!(h.counts.is_empty());
        for ns in [300u64, 900, 2_000, 1_500] {
            h.record(ns);
        }
        assert_eq!(h.counts.len(), bucket(2_000) + 1);
        assert!(h.counts.len() < BUCKETS / 4);
        // Quantiles and buckets read the same as with every bucket present.
        assert_eq!(h.quantile(1.0), 2_000);
        assert_eq!(h.buckets().map(|(_, _, c)| c).sum::<u64>(), 4);
        h.record(u64::MAX);
        assert_eq!(h.counts.len(), BUCKETS);
    }

    #[test]
    fn percentiles_are_within_the_bucket_error() {
        let mut h = Histogram::default();
        // 1..=10000 us: p50 = 5000us, p99 = 9900us.
        for i in 1..=10_000u64 {
            h.record(i * 1000);
        }
        let near = |got: u64, want: u64| (got as f64 - want as f64).abs() / (want as f64) < 0.07;
        assert!(near(h.quantile(0.5), 5_000_000), "{}", h.quantile(0.5));
        assert!(near(h.quantile(0.99), 9_900_000), "{}", h.quantile(0.99));
        assert_eq!(h.count(), 10_000);
        assert_eq!(Histogram::default().quantile(0.5), 0);
    }

    const MS: u64 = 1_000_000;

    /// Five sleeps of 100.08-100.15 ms and two of 200.1 ms: the midpoints
    /// of their buckets were 96.47 and 192.94 ms, below every sample.
    #[test]
    fn percentiles_of_a_few_samples_are_samples() {
        let mut h = Histogram::default();
        for us in [
            100_080u64, 100_150, 200_100, 100_100, 100_120, 200_100, 100_130,
        ] {
            h.record(us * 1000);
        }
        // Sorted, the 4th of 7 is the median.
        assert_eq!(h.quantile(0.5), 100_130_000);
        assert_eq!(h.quantile(0.99), 200_100_000);
        assert_eq!(h.quantile(0.0), 100_080_000);
        // Sleeps that all took 300.1 ms (the bucket's middle is 285.21 ms).
        let mut h = Histogram::default();
        for _ in 0..5 {
            h.record(300_100_000);
        }
        assert_eq!(
            (h.quantile(0.5), h.quantile(0.99)),
            (300_100_000, 300_100_000)
        );
    }

    /// The same figures, many times over: past the exact samples the
    /// estimate stays inside the bucket that holds the rank and inside the
    /// observed range.
    #[test]
    fn percentiles_of_many_samples_stay_inside_their_bucket_and_the_data() {
        let mut h = Histogram::default();
        for _ in 0..1000 {
            for us in [
                100_080u64, 100_100, 100_120, 100_130, 100_150, 200_100, 200_100,
            ] {
                h.record(us * 1000);
            }
        }
        let inside = |got: u64, sample: u64| {
            let (lo, hi) = bucket_range(bucket(sample));
            lo.max(100_080_000) <= got && got < hi && got <= 200_100_000
        };
        let (p50, p99) = (h.quantile(0.5), h.quantile(0.99));
        assert!(inside(p50, 100_130 * 1000), "p50 {p50}");
        assert!(inside(p99, 200_100 * 1000), "p99 {p99}");
        assert!(p50 >= 100_080_000 && p99 > 199 * MS, "{p50} {p99}");
        let mut h = Histogram::default();
        for _ in 0..1000 {
            h.record(300_100_000);
        }
        assert_eq!(
            (h.quantile(0.5), h.quantile(0.99)),
            (300_100_000, 300_100_000)
        );
        assert_eq!(h.quantile(1.0), 300_100_000);
    }

    #[test]
    fn merged_histograms_keep_exact_samples_only_while_few() {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        for i in 1..=5u64 {
            a.record(i * MS);
            b.record((10 + i) * MS);
        }
        a.merge(&b);
        assert_eq!(
            (a.count(), a.quantile(0.5), a.quantile(1.0)),
            (10, 5 * MS, 15 * MS)
        );
        let mut c = Histogram::default();
        for _ in 0..EXACT {
            c.record(7 * MS);
        }
        a.merge(&c);
        assert!(a.exact.is_empty());
        assert_eq!(a.count(), 10 + EXACT as u64);
        assert_eq!((a.quantile(0.0), a.quantile(1.0)), (MS, 15 * MS));
        let (lo, hi) = bucket_range(bucket(7 * MS));
        assert!((lo..hi).contains(&a.quantile(0.5)), "{}", a.quantile(0.5));
        a.merge(&Histogram::default());
        assert_eq!(a.count(), 10 + EXACT as u64);
    }

    #[test]
    fn rows_count_calls_errors_and_time() {
        let mut s = Stats::default();
        s.record(&ev(257, -2, 0, 1000), "host");
        s.record(&ev(257, 3, 0, 3000), "host");
        s.record(&ev(110, 1, 0, 100), "pod-a");
        let open = s.syscall(Arch::X86_64, 257).unwrap();
        assert_eq!((open.calls, open.errors, open.total_ns), (2, 1, 4000));
        assert_eq!(open.mean_ns(), 2000);
        assert!((open.error_rate() - 0.5).abs() < 1e-9);
        assert_eq!(s.group("host").unwrap().row.calls, 2);
        let rows = s.syscall_rows(SortKey::Calls, false);
        assert_eq!(rows[0].0, "openat");
        let rows = s.syscall_rows(SortKey::Calls, true);
        assert_eq!(rows[0].0, "getppid");
        let rows = s.syscall_rows(SortKey::Name, false);
        assert_eq!(rows[0].0, "getppid");
        let groups = s.group_rows(SortKey::Total, false);
        assert_eq!(groups[0].0, "host");
        let t = s.table(|ns| format!("{ns}ns"));
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[0].contains("% time") && lines[0].contains("p99"),
            "{t}"
        );
        assert!(
            lines[2].ends_with("openat") || lines[2].trim_end().ends_with("openat"),
            "{t}"
        );
        assert!(lines[2].contains(" 2 ") && lines[2].contains("50.0"), "{t}");
        assert!(lines.last().unwrap().contains(" 3 "), "{t}");
        assert!(lines.last().unwrap().starts_with("100.00"), "{t}");
        // Nothing recorded: no share of nothing.
        let empty = Stats::default().table(|ns| format!("{ns}ns"));
        assert!(
            empty.lines().last().unwrap().starts_with("  0.00"),
            "{empty}"
        );
    }

    #[test]
    fn the_order_of_recording_does_not_matter() {
        // A re-filter counts the retained events newest first.
        let evs: Vec<(TraceEvent, &str)> = (0..200u64)
            .map(|i| {
                let nr = [0, 1, 257, 110, 5000][(i % 5) as usize];
                let ret = if i % 7 == 0 { -2 } else { 1 };
                let g = ["host", "pod-a", "pod-b"][(i % 3) as usize];
                (ev(nr, ret, 10_000_000_000 + i * 250_000_000, 100 + i), g)
            })
            .collect();
        let mut fwd = Stats::default();
        let mut back = Stats::default();
        for (e, g) in &evs {
            fwd.record(e, g);
        }
        for (e, g) in evs.iter().rev() {
            back.record(e, g);
        }
        assert_eq!(fwd.events, back.events);
        assert_eq!(fwd.last_sec, back.last_sec);
        for nr in [0, 1, 257, 110, 5000] {
            let (a, b) = (
                fwd.syscall(Arch::X86_64, nr),
                back.syscall(Arch::X86_64, nr),
            );
            assert!(a.is_some_and(|r| r.calls == 40), "{nr}");
            assert_eq!(a, b, "{nr}");
        }
        for g in ["host", "pod-a", "pod-b"] {
            let (a, b) = (fwd.group(g).unwrap(), back.group(g).unwrap());
            assert_eq!(a.row, b.row, "{g}");
            assert_eq!(
                a.rate.series(fwd.last_sec),
                b.rate.series(fwd.last_sec),
                "{g}"
            );
            assert!(a.rate.series(fwd.last_sec).iter().sum::<u64>() > 0);
        }
        assert!(fwd.syscall(Arch::Aarch64, 0).is_none());
        assert!(fwd.group("nope").is_none());
    }

    #[test]
    fn rate_history_counts_per_second_and_shifts() {
        let mut s = Stats::default();
        for i in 0..5 {
            s.record(&ev(110, 1, 10_000_000_000 + i, 1), "g");
        }
        s.record(&ev(110, 1, 12_000_000_000, 1), "g");
        let series = s.group("g").unwrap().rate.series(12);
        assert_eq!(series.len(), RATE_SECONDS);
        assert_eq!(&series[RATE_SECONDS - 3..], &[5, 0, 1]);
        // Later: the old seconds scroll left.
        let later = s.group("g").unwrap().rate.series(14);
        assert_eq!(&later[RATE_SECONDS - 5..], &[5, 0, 1, 0, 0]);
    }
}
