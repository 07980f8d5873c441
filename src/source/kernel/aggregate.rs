//! Reading the kernel's aggregation (map `agg`: key -> slot, `agg_cells`:
//! the per-CPU counters by slot) on a timer: each entry summed over the
//! CPUs, less what the last read found, merged into
//! the shared `Counts`. Histogram buckets are u32 in the kernel and are
//! differenced modulo 2^32, so a read at least every 2^32 calls of one
//! entry (minutes at tens of millions per second) loses nothing.
//!
//! Both maps are read in batches (BPF_MAP_LOOKUP_BATCH, Linux 5.6+: one
//! system call per few thousand entries; the cells only up to the highest
//! slot in use, as slots are handed out from 0 up) and key by key (three
//! system calls per entry) when the kernel refuses batches.

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};

use libbpf_rs::libbpf_sys;
use libbpf_rs::{MapCore, MapFlags};

use crate::model::counts::{Counts, Delta, Hist, Key, Misses, BUCKETS};

/// st_agg_key / st_agg_val in systrace.h.
pub const KEY_SIZE: usize = 16;
pub const VAL_SIZE: usize = 24 + 4 * BUCKETS;

/// Entries asked for per batch call. A hash bucket's entries come in one
/// call (ENOSPC when they do not fit: the batch then grows).
const BATCH: u32 = 4096;

/// One entry summed over the CPUs, as last read; the histogram keeps only
/// its non-zero buckets, each `bucket << 32 | count`.
struct Raw {
    calls: u64,
    total_ns: u64,
    hist: Box<[u64]>,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// One entry's values on every CPU, summed: (calls, total ns, max ns,
/// buckets).
fn sum_cpus<'a>(vals: impl Iterator<Item = &'a [u8]>) -> (u64, u64, u64, [u32; BUCKETS]) {
    let (mut calls, mut total, mut max) = (0u64, 0u64, 0u64);
    let mut hist = [0u32; BUCKETS];
    for v in vals.filter(|v| v.len() >= VAL_SIZE) {
        let n = u64_at(v, 0);
        if n == 0 {
            // Nothing on this CPU (an entry is created at its first call,
            // so most CPUs of a quiet entry hold zeros).
            continue;
        }
        calls += n;
        total = total.wrapping_add(u64_at(v, 8));
        max = max.max(u64_at(v, 16));
        for (i, c) in v[24..VAL_SIZE].chunks_exact(4).enumerate() {
            hist[i] = hist[i].wrapping_add(u32::from_ne_bytes(c.try_into().expect("4 bytes")));
        }
    }
    (calls, total, max, hist)
}

/// Turns successive reads of the kernel's maps into deltas.
pub struct Reader {
    last: HashMap<Key, Raw>,
    pub counts: Arc<Mutex<Counts>>,
    /// False once the kernel refused a batch lookup (or when asked).
    batch: bool,
    batch_size: u32,
    keys: Vec<u8>,
    vals: Vec<u8>,
}

impl Reader {
    pub fn new(counts: Arc<Mutex<Counts>>) -> Reader {
        Reader {
            last: HashMap::new(),
            counts,
            batch: true,
            batch_size: BATCH,
            keys: Vec::new(),
            vals: Vec::new(),
        }
    }

    /// Reads key by key from now on (the fallback; for comparing both).
    pub fn set_batch(&mut self, on: bool) {
        self.batch = on;
    }

    /// Whether reads go in batches (false after the kernel refused one).
    pub fn batched(&self) -> bool {
        self.batch
    }

    /// Reads both maps and merges what changed. `tick`: a full interval
    /// (see `Counts::merge`).
    pub fn read(
        &mut self,
        agg: &dyn MapCore,
        cells: &dyn MapCore,
        misses: &dyn MapCore,
        tick: bool,
    ) {
        let mut deltas = Vec::new();
        let mut read = false;
        if self.batch {
            match self.read_batched(agg, cells, &mut deltas) {
                Ok(()) => read = true,
                Err(_) => {
                    // Refused (before 5.6, or a kernel built without it):
                    // key by key for the rest of the run. What a broken-off
                    // batch read had found is read again below; deltas are
                    // against `last`, so nothing counts twice.
                    self.batch = false;
                }
            }
        }
        if !read {
            for kb in agg.keys() {
                if kb.len() < KEY_SIZE {
                    continue;
                }
                let Ok(Some(slot)) = agg.lookup(&kb, MapFlags::ANY) else {
                    continue;
                };
                let Ok(Some(vals)) = cells.lookup_percpu(&slot, MapFlags::ANY) else {
                    continue;
                };
                self.entry(&kb, vals.iter().map(Vec::as_slice), &mut deltas);
            }
        }
        let m = read_misses(misses);
        // Only the merge holds the lock (the top view's rows are built
        // under it too).
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        c.merge(&deltas, m, tick);
    }

    /// Both maps in batch calls; Err(errno) when the kernel refuses.
    fn read_batched(
        &mut self,
        agg: &dyn MapCore,
        cells: &dyn MapCore,
        deltas: &mut Vec<(Key, Delta)>,
    ) -> Result<(), i32> {
        // SAFETY: no arguments; reads sysfs once.
        let cpus = unsafe { libbpf_sys::libbpf_num_possible_cpus() };
        if cpus <= 0 {
            return Err(-cpus);
        }
        let cpus = cpus as usize;
        if (agg.key_size() as usize) < KEY_SIZE
            || agg.value_size() != 4
            || (cells.value_size() as usize) < VAL_SIZE
        {
            return Err(libc::EINVAL);
        }
        // Keys and their slots.
        let mut slots: Vec<(Vec<u8>, u32)> = Vec::new();
        let mut high = None;
        batches(
            (&mut self.keys, &mut self.vals, &mut self.batch_size),
            agg,
            4,
            None,
            |k, v| {
                let slot = u32_at(v, 0);
                high = high.max(Some(slot));
                slots.push((k[..KEY_SIZE].to_vec(), slot));
            },
        )?;
        let Some(high) = high else {
            return Ok(());
        };
        // Per-CPU values come 8-byte aligned, one per possible CPU.
        let per = (cells.value_size() as usize).div_ceil(8) * 8;
        let limit = high as usize + 1;
        // Each slot's key, so that a cell is taken in while it is in the
        // batch buffer (not copied out first).
        let mut key_of: Vec<Option<usize>> = vec![None; limit];
        for (i, (_, slot)) in slots.iter().enumerate() {
            key_of[*slot as usize] = Some(i);
        }
        let (mut keys, mut vals) = (
            std::mem::take(&mut self.keys),
            std::mem::take(&mut self.vals),
        );
        let mut size = self.batch_size;
        let r = batches(
            (&mut keys, &mut vals, &mut size),
            cells,
            per * cpus,
            Some(limit),
            |k, v| {
                if let Some(&Some(i)) = key_of.get(u32_at(k, 0) as usize) {
                    self.entry(&slots[i].0, v.chunks_exact(per), deltas);
                }
            },
        );
        (self.keys, self.vals, self.batch_size) = (keys, vals, size);
        r
    }

    /// One entry read: its delta since the last read, if it moved.
    fn entry<'a>(
        &mut self,
        kb: &[u8],
        vals: impl Iterator<Item = &'a [u8]>,
        deltas: &mut Vec<(Key, Delta)>,
    ) {
        let key = Key {
            cgroup_id: u64_at(kb, 0),
            nr: u32_at(kb, 8),
            errno: u32_at(kb, 12),
        };
        let (calls, total_ns, max_ns, hist) = sum_cpus(vals);
        let before = self.last.get(&key);
        if before.is_some_and(|b| b.calls == calls) {
            // Unchanged since the last read (a call adds to the count and
            // a bucket at once).
            return;
        }
        let mut old = [0u32; BUCKETS];
        if let Some(b) = before {
            for &v in b.hist.iter() {
                old[(v >> 32) as usize % BUCKETS] = v as u32;
            }
        }
        let d = Delta {
            calls: calls - before.map_or(0, |b| b.calls.min(calls)),
            total_ns: total_ns.wrapping_sub(before.map_or(0, |b| b.total_ns)),
            max_ns,
            hist: Hist::from_sorted(
                hist.iter()
                    .zip(old.iter())
                    .enumerate()
                    .map(|(i, (n, o))| (i, u64::from(n.wrapping_sub(*o)))),
            ),
        };
        if d.calls > 0 {
            deltas.push((key, d));
        }
        let hist = hist
            .iter()
            .enumerate()
            .filter(|(_, &c)| c != 0)
            .map(|(i, &c)| (i as u64) << 32 | u64::from(c))
            .collect();
        self.last.insert(
            key,
            Raw {
                calls,
                total_ns,
                hist,
            },
        );
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

/// Every entry of `map` (or its first `limit`, in the kernel's order:
/// an array's by index) in batch calls, `stride` bytes of value each.
fn batches(
    (keys, vals, batch_size): (&mut Vec<u8>, &mut Vec<u8>, &mut u32),
    map: &dyn MapCore,
    stride: usize,
    limit: Option<usize>,
    mut visit: impl FnMut(&[u8], &[u8]),
) -> Result<(), i32> {
    let key_size = map.key_size() as usize;
    let fd = map.as_fd().as_raw_fd();
    // The kernel's position between calls (a hash bucket or an index).
    let mut token = [0u8; 8];
    let mut first = true;
    let mut seen = 0usize;
    loop {
        let want = match limit {
            Some(l) => (*batch_size as usize).min(l - seen),
            None => *batch_size as usize,
        };
        if want == 0 {
            return Ok(());
        }
        keys.resize(want * key_size, 0);
        vals.resize(want * stride, 0);
        let mut count = want as u32;
        let opts = libbpf_sys::bpf_map_batch_opts {
            sz: std::mem::size_of::<libbpf_sys::bpf_map_batch_opts>() as _,
            ..Default::default()
        };
        let mut out = [0u8; 8];
        // SAFETY: the buffers hold `count` keys and values of the
        // map's sizes (per-CPU values: `stride` bytes each), and both
        // batch positions are at least the 4 bytes hash maps and
        // arrays use.
        let r = unsafe {
            libbpf_sys::bpf_map_lookup_batch(
                fd,
                if first {
                    std::ptr::null_mut()
                } else {
                    token.as_mut_ptr().cast()
                },
                out.as_mut_ptr().cast(),
                keys.as_mut_ptr().cast(),
                vals.as_mut_ptr().cast(),
                &mut count,
                &opts,
            )
        };
        let errno = if r < 0 { -r } else { 0 };
        if errno == libc::ENOSPC && *batch_size < (1 << 20) {
            // One hash bucket holds more entries than fit: ask again
            // for more from the same place.
            *batch_size *= 2;
            continue;
        }
        if errno != 0 && errno != libc::ENOENT {
            return Err(errno);
        }
        let n = (count as usize).min(want);
        for i in 0..n {
            visit(
                &keys[i * key_size..(i + 1) * key_size],
                &vals[i * stride..(i + 1) * stride],
            );
        }
        seen += n;
        // ENOENT: the traversal is done (its last entries came with it).
        if errno == libc::ENOENT {
            return Ok(());
        }
        token = out;
        first = false;
    }
}
