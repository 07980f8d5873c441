//! Reading the kernel's aggregation (map `agg`: key -> slot, `agg_cells`:
//! the per-CPU counters by slot) on a timer: each entry summed over the CPUs, less what the last read found, merged into
//! the shared `Counts`. Histogram buckets are u32 in the kernel and are
//! differenced modulo 2^32, so a read at least every 2^32 calls of one
//! entry (minutes at tens of millions per second) loses nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use libbpf_rs::{MapCore, MapFlags};

use crate::model::counts::{Counts, Delta, Key, Misses, BUCKETS};

/// st_agg_key / st_agg_val in systrace.h.
const KEY_SIZE: usize = 16;
pub(super) const VAL_SIZE: usize = 24 + 4 * BUCKETS;

/// One entry summed over the CPUs, as last read.
#[derive(Clone)]
struct Raw {
    calls: u64,
    total_ns: u64,
    max_ns: u64,
    hist: [u32; BUCKETS],
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn sum_cpus(vals: &[Vec<u8>]) -> Raw {
    let mut r = Raw {
        calls: 0,
        total_ns: 0,
        max_ns: 0,
        hist: [0; BUCKETS],
    };
    for v in vals.iter().filter(|v| v.len() >= VAL_SIZE) {
        r.calls += u64_at(v, 0);
        r.total_ns = r.total_ns.wrapping_add(u64_at(v, 8));
        r.max_ns = r.max_ns.max(u64_at(v, 16));
        for (i, h) in r.hist.iter_mut().enumerate() {
            *h = h.wrapping_add(u32_at(v, 24 + 4 * i));
        }
    }
    r
}

/// Turns successive reads of the kernel's maps into deltas.
pub struct Reader {
    last: HashMap<Key, Raw>,
    pub counts: Arc<Mutex<Counts>>,
}

impl Reader {
    pub fn new(counts: Arc<Mutex<Counts>>) -> Reader {
        Reader {
            last: HashMap::new(),
            counts,
        }
    }

    /// Reads the maps and merges what changed. `tick`: a full interval
    /// (see `Counts::merge`).
    pub fn read(
        &mut self,
        agg: &dyn MapCore,
        cells: &dyn MapCore,
        misses: &dyn MapCore,
        tick: bool,
    ) {
        let mut deltas = Vec::new();
        for kb in agg.keys() {
            if kb.len() < KEY_SIZE {
                continue;
            }
            let key = Key {
                cgroup_id: u64_at(&kb, 0),
                nr: u32_at(&kb, 8),
                errno: u32_at(&kb, 12),
            };
            let Ok(Some(slot)) = agg.lookup(&kb, MapFlags::ANY) else {
                continue;
            };
            let Ok(Some(vals)) = cells.lookup_percpu(&slot, MapFlags::ANY) else {
                continue;
            };
            let now = sum_cpus(&vals);
            let before = self.last.get(&key);
            let mut d = Delta {
                calls: now.calls - before.map_or(0, |b| b.calls.min(now.calls)),
                total_ns: now.total_ns.wrapping_sub(before.map_or(0, |b| b.total_ns)),
                max_ns: now.max_ns,
                ..Delta::default()
            };
            for (i, h) in d.hist.iter_mut().enumerate() {
                *h = u64::from(now.hist[i].wrapping_sub(before.map_or(0, |b| b.hist[i])));
            }
            if d.calls > 0 {
                deltas.push((key, d));
            }
            self.last.insert(key, now);
        }
        let m = read_misses(misses);
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        c.merge(&deltas, m, tick);
    }
}

fn read_misses(map: &dyn MapCore) -> Misses {
    let key = 0u32.to_ne_bytes();
    let mut m = Misses::default();
    if let Ok(Some(vals)) = map.lookup_percpu(&key, MapFlags::ANY) {
        for v in vals.iter().filter(|v| v.len() >= 16) {
            m.full += u64_at(v, 0);
            m.unentered += u64_at(v, 8);
        }
    }
    m
}
