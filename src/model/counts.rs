//! Calls counted in the kernel (in-kernel aggregation): per (cgroup,
//! syscall, errno), a count, the total and largest latency and a
//! log-linear latency histogram, merged from the kernel's per-CPU maps on a
//! timer. One model for the top view, `--summary`/`--quiet` and the
//! Prometheus metrics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::container::ContainerMap;
use super::stats::{Histogram, Row, Stats};
use super::syscalls::Arch;

/// Latency buckets of the kernel's histogram (ST_AGG_BUCKETS).
pub const BUCKETS: usize = 128;

/// Ticks of per-tick counts kept per cell (the sparkline).
pub const SERIES: usize = 60;

/// `[low, high)` in ns of kernel bucket `i`: [0,4) one ns each, then 4 per
/// power of two. The last one is open-ended (`u64::MAX`).
pub fn bucket_range(i: usize) -> (u64, u64) {
    if i < 4 {
        return (i as u64, i as u64 + 1);
    }
    let e = (i - 4) / 4 + 2;
    let m = ((i - 4) % 4) as u64;
    let low = (4 + m) << (e - 2);
    if i == BUCKETS - 1 {
        return (low, u64::MAX);
    }
    (low, (5 + m) << (e - 2))
}

/// The kernel bucket of a latency (what systrace.bpf.c's agg_bucket does).
pub fn bucket_of(ns: u64) -> usize {
    if ns < 4 {
        return ns as usize;
    }
    let e = 63 - ns.leading_zeros() as usize;
    let b = 4 + (e - 2) * 4 + ((ns >> (e - 2)) & 3) as usize;
    b.min(BUCKETS - 1)
}

/// The key of one kernel entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub cgroup_id: u64,
    pub nr: u32,
    /// errno of failed calls, 0 for successes.
    pub errno: u32,
}

impl Key {
    /// The entry of `cgroup_id`'s calls of `nr` ending in `errno` (for
    /// tests and benches).
    #[cfg(any(test, feature = "testing"))]
    pub fn new(cgroup_id: u64, nr: u32, errno: u32) -> Key {
        Key {
            cgroup_id,
            nr,
            errno,
        }
    }
}

/// A latency histogram over the kernel's buckets that keeps only the
/// buckets holding calls (a cell's calls mostly fall in a few of the 128):
/// each is one u64, the bucket in the top 7 bits and its count in the low
/// 57, in bucket order. 16 bytes plus 8 per bucket in use, instead of the
/// 1 KB of the dense form; summing two walks both lists once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hist(Box<[u64]>);

const COUNT_BITS: u32 = 57;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

fn pack(bucket: usize, count: u64) -> u64 {
    // 2^57 calls in one bucket is centuries at a billion calls a second:
    // saturate rather than spill into the bucket number.
    ((bucket as u64) << COUNT_BITS) | count.min(COUNT_MASK)
}

fn unpack(v: u64) -> (usize, u64) {
    ((v >> COUNT_BITS) as usize, v & COUNT_MASK)
}

impl Hist {
    /// The buckets that hold calls, in order: (bucket, calls).
    pub fn iter(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.0.iter().map(|&v| unpack(v))
    }

    /// From (bucket, calls) pairs in bucket order; empty ones are dropped.
    pub fn from_sorted(pairs: impl IntoIterator<Item = (usize, u64)>) -> Hist {
        Hist(
            pairs
                .into_iter()
                .filter(|&(b, c)| c > 0 && b < BUCKETS)
                .map(|(b, c)| pack(b, c))
                .collect(),
        )
    }

    pub fn from_dense(d: &[u64; BUCKETS]) -> Hist {
        Hist::from_sorted(d.iter().copied().enumerate())
    }

    pub fn to_dense(&self) -> [u64; BUCKETS] {
        let mut d = [0; BUCKETS];
        self.add_to(&mut d);
        d
    }

    /// Adds these counts to a dense histogram (a row's sum of many cells).
    pub fn add_to(&self, d: &mut [u64; BUCKETS]) {
        for (b, c) in self.iter() {
            d[b] += c;
        }
    }

    /// Calls in all buckets.
    pub fn total(&self) -> u64 {
        self.iter().map(|(_, c)| c).sum()
    }

    /// Buckets in use (the memory: 8 bytes each).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn add(&mut self, o: &Hist) {
        if o.0.is_empty() {
            return;
        }
        // The usual case: the same buckets again, added in place.
        if self.0.len() == o.0.len()
            && self
                .0
                .iter()
                .zip(o.0.iter())
                .all(|(a, b)| a >> COUNT_BITS == b >> COUNT_BITS)
        {
            for (a, &b) in self.0.iter_mut().zip(o.0.iter()) {
                let (i, x) = unpack(*a);
                *a = pack(i, x.saturating_add(b & COUNT_MASK));
            }
            return;
        }
        let mut out = Vec::with_capacity(self.0.len() + o.0.len());
        let (mut x, mut y) = (self.iter().peekable(), o.iter().peekable());
        loop {
            let next = match (x.peek(), y.peek()) {
                (Some(&(i, a)), Some(&(j, b))) if i == j => {
                    x.next();
                    y.next();
                    (i, a.saturating_add(b))
                }
                (Some(&(i, _)), Some(&(j, _))) if i < j => x.next().expect("peeked"),
                (Some(_), Some(_)) | (None, Some(_)) => y.next().expect("peeked"),
                (Some(_), None) => x.next().expect("peeked"),
                (None, None) => break,
            };
            out.push(pack(next.0, next.1));
        }
        drop(x);
        self.0 = out.into_boxed_slice();
    }

    /// Quantile `q` when the largest sample is `max`: the same as
    /// `quantile` of the dense form.
    pub fn quantile(&self, max: u64, q: f64) -> u64 {
        quantile_of(self.total(), self.iter(), max, q)
    }
}

/// What one entry gained since the last read (or in all).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    pub calls: u64,
    pub total_ns: u64,
    /// The largest latency so far (not per interval: the kernel keeps one).
    pub max_ns: u64,
    pub hist: Hist,
}

impl Delta {
    /// `calls` calls of `ns` each (for tests and benches).
    #[cfg(any(test, feature = "testing"))]
    pub fn uniform(calls: u64, ns: u64) -> Delta {
        Delta {
            calls,
            total_ns: calls * ns,
            max_ns: ns,
            hist: Hist::from_sorted([(bucket_of(ns), calls)]),
        }
    }
}

impl Delta {
    fn add(&mut self, d: &Delta) {
        self.calls += d.calls;
        self.total_ns = self.total_ns.saturating_add(d.total_ns);
        self.max_ns = self.max_ns.max(d.max_ns);
        self.hist.add(&d.hist);
    }

    /// Calls with a latency (those that returned).
    pub fn timed(&self) -> u64 {
        self.hist.total()
    }

    /// Nearest-rank quantile, placed inside its bucket by rank and capped
    /// at the largest latency seen; 0 when nothing returned.
    pub fn quantile(&self, q: f64) -> u64 {
        self.hist.quantile(self.max_ns, q)
    }
}

/// Quantile `q` of a kernel histogram whose largest sample is `max`.
pub fn quantile(hist: &[u64; BUCKETS], max: u64, q: f64) -> u64 {
    quantile_of(hist.iter().sum(), hist.iter().copied().enumerate(), max, q)
}

/// The quantile over (bucket, calls) in bucket order, `total` calls in all
/// (empty buckets change nothing, so the dense and sparse forms agree).
fn quantile_of(total: u64, buckets: impl Iterator<Item = (usize, u64)>, max: u64, q: f64) -> u64 {
    if total == 0 {
        return 0;
    }
    let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    for (i, c) in buckets {
        if c > 0 && seen + c >= rank {
            let (lo, hi) = bucket_range(i);
            let hi = hi.saturating_sub(1).min(max).max(lo);
            let frac = ((rank - seen) as f64 - 0.5) / c as f64;
            return lo + ((hi - lo) as f64 * frac) as u64;
        }
        seen += c;
    }
    max
}

/// Calls the kernel saw but could not count in its map, and exits whose
/// enter it never saw; cumulative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Misses {
    /// The map was full (its size: `--agg-entries`).
    pub full: u64,
    /// In flight when tracing started (their start time is unknown).
    pub unentered: u64,
}

/// One entry's calls per tick over the last SERIES ticks, in a ring (slot
/// `tick % SERIES`). Ticks after `at`, the last one written, had no calls:
/// a tick costs nothing for the cells that got none, and the series is
/// inline (240 bytes) instead of a queue on the heap.
#[derive(Clone, Debug)]
pub struct Series {
    at: u64,
    /// Calls per tick (4 billion calls a tick of one cell saturate).
    ring: [u32; SERIES],
}

impl Default for Series {
    fn default() -> Self {
        Series {
            at: 0,
            ring: [0; SERIES],
        }
    }
}

impl Series {
    /// Adds calls to tick `tick` (the newest; never an older one).
    pub fn add(&mut self, tick: u64, calls: u64) {
        if tick > self.at {
            // The ticks in between had no calls.
            for t in (self.at + 1..=tick).rev().take(SERIES) {
                self.ring[(t % SERIES as u64) as usize] = 0;
            }
            self.at = tick;
        }
        let slot = &mut self.ring[(tick % SERIES as u64) as usize];
        *slot = slot.saturating_add(u32::try_from(calls).unwrap_or(u32::MAX));
    }

    /// Calls in tick `now` (the current one).
    pub fn last(&self, now: u64) -> u64 {
        if self.at == now {
            u64::from(self.ring[(now % SERIES as u64) as usize])
        } else {
            0
        }
    }

    /// Calls per tick for the SERIES ticks up to `now`, newest first.
    pub fn newest_first(&self, now: u64) -> impl Iterator<Item = u64> + '_ {
        (0..SERIES as u64).map(move |back| match now.checked_sub(back) {
            Some(t) if t <= self.at && self.at - t < SERIES as u64 => {
                u64::from(self.ring[(t % SERIES as u64) as usize])
            }
            _ => 0,
        })
    }
}

/// One entry's totals and its recent per-tick calls.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    pub total: Delta,
    pub series: Series,
}

/// Everything counted so far.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    pub arch: Option<Arch>,
    pub cells: HashMap<Key, Cell>,
    pub misses: Misses,
    /// Reads merged so far.
    pub ticks: u64,
    /// Seconds between reads (for rates).
    pub tick_secs: f64,
}

impl Counts {
    pub fn new(arch: Arch, tick_secs: f64) -> Counts {
        Counts {
            arch: Some(arch),
            tick_secs,
            ..Counts::default()
        }
    }

    /// Merges one read: what each entry gained since the last one.
    /// `tick` is false for a read that is not a full interval (the last
    /// one at the stop): it counts, but starts no new point of the series.
    pub fn merge(&mut self, deltas: &[(Key, Delta)], misses: Misses, tick: bool) {
        self.misses = misses;
        if tick {
            self.ticks += 1;
        }
        for (k, d) in deltas {
            if d.calls == 0 {
                continue;
            }
            let cell = self.cells.entry(*k).or_default();
            cell.total.add(d);
            cell.series.add(self.ticks, d.calls);
        }
    }

    /// Every call counted.
    pub fn calls(&self) -> u64 {
        self.cells.values().map(|c| c.total.calls).sum()
    }

    /// The `--summary` statistics: one row per syscall (and per container
    /// label), as if every call had been seen as an event.
    pub fn stats(&self, containers: &ContainerMap) -> Stats {
        let arch = self.arch.unwrap_or_else(Arch::native);
        let mut s = Stats::default();
        let mut keys: Vec<&Key> = self.cells.keys().collect();
        keys.sort();
        for k in keys {
            let d = &self.cells[k].total;
            s.add_row(
                arch,
                k.nr,
                &containers.label(k.cgroup_id),
                &row_of(d, k.errno),
            );
        }
        s
    }
}

/// A statistics row from kernel counts (latencies spread over the finer
/// buckets of `stats::Histogram`).
pub fn row_of(d: &Delta, errno: u32) -> Row {
    let mut latency = Histogram::default();
    for (i, c) in d.hist.iter() {
        let (lo, hi) = bucket_range(i);
        latency.add_spread(lo, hi.min(d.max_ns.saturating_add(1)).max(lo + 1), c);
    }
    latency.set_max(d.max_ns);
    Row {
        calls: d.calls,
        errors: if errno != 0 { d.calls } else { 0 },
        total_ns: d.total_ns,
        latency,
    }
}

/// Calls counted in the kernel, and the names to label them with: shared
/// by the capture (which merges the kernel's reads into `counts`), the
/// stages (which keep `labels`), and what shows them (the summary, the top
/// view, the metrics).
#[derive(Clone)]
pub struct Counted {
    pub counts: Arc<Mutex<Counts>>,
    pub labels: Arc<Mutex<ContainerMap>>,
}

impl Counted {
    pub fn new(arch: Arch) -> Counted {
        Counted {
            counts: Arc::new(Mutex::new(Counts::new(arch, 1.0))),
            labels: Arc::new(Mutex::new(ContainerMap::default())),
        }
    }

    /// The summary statistics of what was counted.
    pub fn stats(&self) -> (Stats, Misses) {
        let labels = self
            .labels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        (c.stats(&labels), c.misses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_latency_in_order_as_the_kernel_sorts_them() {
        for i in 1..BUCKETS {
            assert_eq!(bucket_range(i - 1).1, bucket_range(i).0, "bucket {i}");
        }
        for ns in [
            0u64,
            3,
            4,
            5,
            7,
            8,
            15,
            16,
            1000,
            123_456,
            1 << 33,
            u64::MAX,
        ] {
            let (lo, hi) = bucket_range(bucket_of(ns));
            assert!(lo <= ns && (ns < hi || hi == u64::MAX), "{ns}: [{lo},{hi})");
        }
    }

    #[test]
    fn merged_reads_add_up_and_the_series_moves_per_tick() {
        let k = Key {
            cgroup_id: 7,
            nr: 110,
            errno: 0,
        };
        let d = Delta {
            calls: 10,
            total_ns: 10_000,
            max_ns: 2_000,
            hist: Hist::from_sorted([(bucket_of(1_000), 10)]),
        };
        let mut c = Counts::new(Arch::X86_64, 1.0);
        c.merge(&[(k, d.clone())], Misses::default(), true);
        c.merge(
            &[(k, d.clone())],
            Misses {
                full: 3,
                unentered: 1,
            },
            true,
        );
        c.merge(
            &[(k, d)],
            Misses {
                full: 3,
                unentered: 1,
            },
            false,
        );
        let cell = &c.cells[&k];
        assert_eq!(cell.total.calls, 30);
        let series: Vec<u64> = cell.series.newest_first(c.ticks).collect();
        assert_eq!(series[..3], [20, 10, 0]);
        assert_eq!(series.len(), SERIES);
        assert_eq!(cell.series.last(c.ticks), 20);
        assert_eq!(cell.series.last(c.ticks + 1), 0);
        assert_eq!(c.misses.full, 3);
        let p50 = cell.total.quantile(0.5);
        let (lo, hi) = bucket_range(bucket_of(1_000));
        assert!(lo <= p50 && p50 < hi, "{p50}");
        let s = c.stats(&ContainerMap::default());
        let row = s.syscall(Arch::X86_64, 110).unwrap();
        assert_eq!((row.calls, row.errors, row.latency.count()), (30, 0, 30));
    }

    /// Dense histograms of a fixed pseudo-random spread (no crate needed).
    fn dense_samples() -> Vec<[u64; BUCKETS]> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut v = vec![[0; BUCKETS]];
        let mut one = [0; BUCKETS];
        one[BUCKETS - 1] = 1;
        v.push(one);
        for n in 0..200 {
            let mut d = [0; BUCKETS];
            for _ in 0..(1 + n % 9) {
                let b = (next() % BUCKETS as u64) as usize;
                d[b] += 1 + next() % if n % 2 == 0 { 3 } else { 1_000_000 };
            }
            v.push(d);
        }
        v
    }

    #[test]
    fn sparse_histograms_sum_and_give_the_dense_quantiles_exactly() {
        let samples = dense_samples();
        for (n, pair) in samples.windows(2).enumerate() {
            let (a, b) = (&pair[0], &pair[1]);
            let mut sum = [0; BUCKETS];
            for i in 0..BUCKETS {
                sum[i] = a[i] + b[i];
            }
            let mut sparse = Hist::from_dense(a);
            assert_eq!(sparse.to_dense(), *a);
            assert_eq!(sparse.len(), a.iter().filter(|&&c| c > 0).count());
            sparse.add(&Hist::from_dense(b));
            assert_eq!(sparse.to_dense(), sum, "sample {n}");
            // The same buckets again: added in place.
            sparse.add(&Hist::from_dense(&sum));
            let twice: Vec<u64> = sum.iter().map(|c| 2 * c).collect();
            assert_eq!(sparse.to_dense().to_vec(), twice, "sample {n}");
            let sparse = Hist::from_dense(&sum);
            for max in [0u64, 1_000, 1 << 40, u64::MAX] {
                for q in [0.0, 0.01, 0.5, 0.9, 0.99, 0.999, 1.0] {
                    assert_eq!(
                        sparse.quantile(max, q),
                        quantile(&sum, max, q),
                        "sample {n}, max {max}, q {q}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_series_skips_ticks_without_calls_and_keeps_the_last_sixty() {
        let mut s = Series::default();
        s.add(1, 5);
        s.add(3, 7);
        s.add(3, 1);
        let v: Vec<u64> = s.newest_first(4).take(5).collect();
        assert_eq!(v, [0, 8, 0, 5, 0]);
        // 100 ticks later the ring has wrapped: what came before is gone.
        s.add(103, 2);
        let v: Vec<u64> = s.newest_first(103).collect();
        assert_eq!(v[0], 2);
        assert!(v[1..].iter().all(|&c| c == 0), "{v:?}");
        // A tick more than SERIES after the last one clears every slot.
        s.add(103 + 2 * SERIES as u64, 1);
        assert_eq!(s.newest_first(103 + 2 * SERIES as u64).sum::<u64>(), 1);
    }
}
