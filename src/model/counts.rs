//! Calls counted in the kernel (in-kernel aggregation): per (cgroup,
//! syscall, errno), a count, the total and largest latency and a
//! log-linear latency histogram, merged from the kernel's per-CPU maps on a
//! timer. One model for the top view, `--summary`/`--quiet` and the
//! Prometheus metrics.

use std::collections::{HashMap, VecDeque};
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

/// What one entry gained since the last read (or in all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delta {
    pub calls: u64,
    pub total_ns: u64,
    /// The largest latency so far (not per interval: the kernel keeps one).
    pub max_ns: u64,
    pub hist: Box<[u64; BUCKETS]>,
}

impl Default for Delta {
    fn default() -> Self {
        Delta {
            calls: 0,
            total_ns: 0,
            max_ns: 0,
            hist: Box::new([0; BUCKETS]),
        }
    }
}

impl Delta {
    /// `calls` calls of `ns` each (for tests and benches).
    #[cfg(any(test, feature = "testing"))]
    pub fn uniform(calls: u64, ns: u64) -> Delta {
        let mut d = Delta {
            calls,
            total_ns: calls * ns,
            max_ns: ns,
            ..Delta::default()
        };
        d.hist[bucket_of(ns)] = calls;
        d
    }
}

impl Delta {
    fn add(&mut self, d: &Delta) {
        self.calls += d.calls;
        self.total_ns = self.total_ns.saturating_add(d.total_ns);
        self.max_ns = self.max_ns.max(d.max_ns);
        for (a, b) in self.hist.iter_mut().zip(d.hist.iter()) {
            *a += b;
        }
    }

    /// Calls with a latency (those that returned).
    pub fn timed(&self) -> u64 {
        self.hist.iter().sum()
    }

    /// Nearest-rank quantile, placed inside its bucket by rank and capped
    /// at the largest latency seen; 0 when nothing returned.
    pub fn quantile(&self, q: f64) -> u64 {
        quantile(&self.hist, self.max_ns, q)
    }
}

/// Quantile `q` of a kernel histogram whose largest sample is `max`.
pub fn quantile(hist: &[u64; BUCKETS], max: u64, q: f64) -> u64 {
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return 0;
    }
    let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    for (i, &c) in hist.iter().enumerate() {
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

/// One entry's totals and its recent per-tick calls.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    pub total: Delta,
    /// Calls per tick, newest last (at most SERIES).
    pub series: VecDeque<u64>,
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
            for c in self.cells.values_mut() {
                c.series.push_back(0);
                if c.series.len() > SERIES {
                    c.series.pop_front();
                }
            }
        }
        for (k, d) in deltas {
            if d.calls == 0 {
                continue;
            }
            let cell = self.cells.entry(*k).or_insert_with(|| Cell {
                total: Delta::default(),
                series: VecDeque::from([0]),
            });
            cell.total.add(d);
            if let Some(last) = cell.series.back_mut() {
                *last += d.calls;
            }
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
    for (i, &c) in d.hist.iter().enumerate() {
        if c > 0 {
            let (lo, hi) = bucket_range(i);
            latency.add_spread(lo, hi.min(d.max_ns.saturating_add(1)).max(lo + 1), c);
        }
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
        let mut d = Delta {
            calls: 10,
            total_ns: 10_000,
            max_ns: 2_000,
            ..Delta::default()
        };
        d.hist[bucket_of(1_000)] = 10;
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
        assert_eq!(cell.series, [10, 20]);
        assert_eq!(c.misses.full, 3);
        let p50 = cell.total.quantile(0.5);
        let (lo, hi) = bucket_range(bucket_of(1_000));
        assert!(lo <= p50 && p50 < hi, "{p50}");
        let s = c.stats(&ContainerMap::default());
        let row = s.syscall(Arch::X86_64, 110).unwrap();
        assert_eq!((row.calls, row.errors, row.latency.count()), (30, 0, 30));
    }
}
