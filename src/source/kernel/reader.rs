//! The capture thread: owns the loaded program, drains the ring buffer on a
//! short timer (or when the kernel side wakes it because the ring is
//! filling), decodes records and hands them on in batches. It never blocks
//! on the consumer: a full channel is counted as lost events.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};

use super::aggregate;
use super::loader::{KernelFilter, KernelMode, LoadOptions, Tracer};
use crate::model::counts::Counts;
use crate::model::event::{Event, LostEvents, TraceEvent};
use crate::model::flow::FilterTarget;
use crate::model::flow::ModeTarget;
pub use crate::model::flow::Recycler;
use crate::model::raw::Identities;
use crate::model::syscalls::Arch;

/// Events per batch sent to the consumer.
const BATCH: usize = 4096;
/// Most records taken from the ring between two looks at the control channel.
const DRAIN_SLICE: usize = 1 << 16;
/// Batches the channel holds before the reader starts counting drops.
const CHANNEL_BATCHES: usize = 512;
/// How long a part-filled batch may wait before it is sent anyway (full
/// batches go at once). Bounds the latency the TUI sees.
const PARTIAL_FLUSH: Duration = Duration::from_millis(5);
/// Emptied batches kept for reuse.
const POOL_BATCHES: usize = 64;

#[derive(Clone, Debug)]
pub struct CaptureOptions {
    pub load: LoadOptions,
    pub filter: KernelFilter,
    /// How often the ring is drained when the kernel side does not wake us.
    pub drain_every: Duration,
    /// Give up capabilities not needed once attached (see `privs`).
    pub drop_privileges: bool,
    /// Where the kernel's counts are merged (when the mode counts).
    pub counts: Option<Arc<Mutex<Counts>>>,
    /// How often the counts are read.
    pub count_every: Duration,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            load: LoadOptions::default(),
            filter: KernelFilter::default(),
            drain_every: Duration::from_millis(10),
            drop_privileges: false,
            counts: None,
            count_every: Duration::from_secs(1),
        }
    }
}

/// Commands to the capture thread.
#[derive(Debug)]
pub enum Control {
    SetFilter(KernelFilter),
    SetMode(KernelMode),
    /// Answered once every earlier command is done (a filter is in the
    /// kernel when its `SetFilter` is followed by an answered `Sync`).
    Sync(Sender<()>),
    Stop,
}

/// Switches the kernel's mode of a running capture from another thread.
#[derive(Clone, Debug)]
pub struct ModeHandle(Sender<Control>);

impl ModeTarget for ModeHandle {
    fn set_mode(&self, m: KernelMode) {
        let _ = self.0.send(Control::SetMode(m));
    }
}

/// Changes the in-kernel filter of a running capture from another thread.
#[derive(Clone, Debug)]
pub struct FilterHandle(Sender<Control>);

impl FilterHandle {
    /// Sets the filter and waits (at most `limit`) until the kernel has it.
    pub fn set_and_wait(&self, f: KernelFilter, limit: Duration) -> bool {
        let (tx, rx) = bounded(1);
        self.0.send(Control::SetFilter(f)).is_ok()
            && self.0.send(Control::Sync(tx)).is_ok()
            && rx.recv_timeout(limit).is_ok()
    }
}

impl FilterTarget for FilterHandle {
    fn set(&self, f: KernelFilter) {
        let _ = self.0.send(Control::SetFilter(f));
    }
}

/// Counters shared with the consumer side.
#[derive(Debug, Default)]
pub struct CaptureStats {
    pub received: AtomicU64,
    pub kernel_lost: AtomicU64,
    pub channel_lost: AtomicU64,
    pub bad_records: AtomicU64,
}

impl CaptureStats {
    pub fn lost(&self) -> LostEvents {
        LostEvents {
            kernel: self.kernel_lost.load(Ordering::Relaxed),
            channel: self.channel_lost.load(Ordering::Relaxed),
        }
    }
}

/// A running capture.
pub struct Capture {
    pub events: Receiver<Vec<Event>>,
    pub stats: Arc<CaptureStats>,
    pub recycler: Recycler,
    control: Sender<Control>,
    thread: Option<JoinHandle<Result<()>>>,
}

impl Capture {
    /// Loads and attaches the program on a new thread; returns once it is
    /// attached (or with the reason it could not be).
    pub fn start(opts: CaptureOptions) -> Result<Capture> {
        let (tx, rx) = bounded(CHANNEL_BATCHES);
        let (pool_tx, pool_rx) = bounded(POOL_BATCHES);
        let (ctl_tx, ctl_rx) = bounded(64);
        let (ready_tx, ready_rx) = bounded::<Result<()>>(1);
        let stats = Arc::new(CaptureStats::default());
        let st = stats.clone();
        let thread = std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || run(opts, tx, pool_rx, ctl_rx, ready_tx, st))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Capture {
                events: rx,
                stats,
                recycler: Recycler::new(pool_tx, BATCH),
                control: ctl_tx,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => match thread.join() {
                Ok(Err(e)) => Err(e),
                _ => Err(anyhow!("the capture thread stopped while loading")),
            },
        }
    }

    pub fn set_filter(&self, f: KernelFilter) {
        let _ = self.control.send(Control::SetFilter(f));
    }

    /// A handle other threads (the topology) use to change the filter.
    pub fn filter_handle(&self) -> FilterHandle {
        FilterHandle(self.control.clone())
    }

    pub fn set_mode(&self, m: KernelMode) {
        let _ = self.control.send(Control::SetMode(m));
    }

    /// A handle the consumer uses to switch the kernel's mode.
    pub fn mode_handle(&self) -> ModeHandle {
        ModeHandle(self.control.clone())
    }

    /// Stops capture, drains what is left in the ring and joins the thread.
    pub fn stop(&mut self) -> Result<()> {
        let _ = self.control.send(Control::Stop);
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| anyhow!("the capture thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

struct Batcher {
    out: Sender<Vec<Event>>,
    pool: Receiver<Vec<Event>>,
    batch: Vec<Event>,
    last_flush: Instant,
    stats: Arc<CaptureStats>,
    arch: Arch,
    /// Who each thread is: identity records, joined with calls here.
    ids: Identities,
    /// Test-only knob: pretend the consumer is slow by sleeping per batch.
    slow: Option<Duration>,
}

impl Batcher {
    fn push(&mut self, data: &[u8]) {
        match TraceEvent::from_record(&mut self.ids, data, self.arch) {
            Ok(Some(ev)) => {
                self.batch.push(Event::Syscall(ev));
                if self.batch.len() >= BATCH {
                    self.flush();
                }
            }
            Ok(None) => {}
            Err(_) => {
                self.stats.bad_records.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn flush_if_older(&mut self, age: Duration) {
        if self.last_flush.elapsed() >= age {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.last_flush = Instant::now();
        if self.batch.is_empty() {
            return;
        }
        let n = self.batch.len() as u64;
        let fresh = self
            .pool
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let batch = std::mem::replace(&mut self.batch, fresh);
        match self.out.try_send(batch) {
            Ok(()) => {}
            // A part-filled batch is kept while the consumer is behind: a
            // trickle flushed every few ms would otherwise fill the
            // channel's slots with tiny batches during a short stall and
            // lose events that fit easily. Only full batches are dropped.
            Err(TrySendError::Full(b)) if b.len() < BATCH => {
                self.batch = b;
                return;
            }
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.stats.channel_lost.fetch_add(n, Ordering::Relaxed);
            }
        }
        self.stats.received.fetch_add(n, Ordering::Relaxed);
        if let Some(d) = self.slow {
            std::thread::sleep(d);
        }
    }

    /// The last batch: waited for briefly (a kept one may be waiting for
    /// the consumer), counted as lost if it still does not fit.
    fn flush_final(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        let n = batch.len() as u64;
        match self.out.send_timeout(batch, Duration::from_millis(100)) {
            Ok(()) => self.stats.received.fetch_add(n, Ordering::Relaxed),
            Err(_) => self.stats.channel_lost.fetch_add(n, Ordering::Relaxed),
        };
    }

    fn send_lost(&mut self, lost: LostEvents) {
        self.flush();
        // The lost marker itself must not be dropped silently: block briefly.
        let _ = self
            .out
            .send_timeout(vec![Event::Lost(lost)], Duration::from_millis(100));
    }
}

fn run(
    opts: CaptureOptions,
    tx: Sender<Vec<Event>>,
    pool: Receiver<Vec<Event>>,
    ctl: Receiver<Control>,
    ready: Sender<Result<()>>,
    stats: Arc<CaptureStats>,
) -> Result<()> {
    let mut tracer = match Tracer::load(&opts.load).and_then(|mut t| {
        t.set_filter(&opts.filter)?;
        t.set_mode(&opts.load.mode)?;
        t.attach()?;
        Ok(t)
    }) {
        Ok(t) => t,
        Err(e) => {
            let _ = ready.send(Err(e));
            return Ok(());
        }
    };
    let slow = std::env::var("SYSTRACE_TEST_SLOW_CONSUMER_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis);
    let mut batcher = Batcher {
        out: tx,
        pool,
        batch: Vec::with_capacity(BATCH),
        last_flush: Instant::now(),
        stats: stats.clone(),
        arch: Arch::native(),
        ids: Identities::new(),
        slow,
    };
    let ring = super::ring::Ring::new(tracer.events().as_fd(), tracer.events().max_entries())?;
    if opts.drop_privileges {
        if let Err(e) = crate::privs::drop_privileges() {
            let _ = ready.send(Err(e));
            return Ok(());
        }
    }
    let _ = ready.send(Ok(()));

    let mut counter = opts.counts.clone().map(aggregate::Reader::new);
    let mut last_count = Instant::now();
    let mut last_lost = LostEvents::default();
    let mut last_check = Instant::now();
    loop {
        // Wait for a forced wake-up or the drain timer, then drain in bounded
        // slices: under a flood the ring never empties, and an unbounded
        // drain (what libbpf's poll/consume do) would never get back to the
        // control messages (stop, new filters).
        wait_readable(ring.epoll_fd(), opts.drain_every);
        ring.consume_n(DRAIN_SLICE, |d| batcher.push(d));
        // A part-filled batch waits a little for company: under load the
        // ring wakes us often with few records each time, and a channel
        // message per wake-up (with a thread wake-up on the other side)
        // filled the channel faster than the consumers were scheduled.
        batcher.flush_if_older(PARTIAL_FLUSH);

        let stop = loop {
            match ctl.try_recv() {
                Ok(Control::SetFilter(f)) => tracer.set_filter(&f)?,
                Ok(Control::SetMode(m)) => tracer.set_mode(&m)?,
                Ok(Control::Sync(done)) => {
                    let _ = done.send(());
                }
                Ok(Control::Stop) => break true,
                Err(crossbeam_channel::TryRecvError::Empty) => break false,
                Err(crossbeam_channel::TryRecvError::Disconnected) => break true,
            }
        };
        if let Some(c) = counter.as_mut() {
            let due = last_count.elapsed() >= opts.count_every;
            if due || stop {
                if due {
                    last_count = Instant::now();
                }
                let (agg, cells, misses) = tracer.agg_maps();
                c.read(agg, cells, misses, due);
            }
        }
        if stop || last_check.elapsed() >= Duration::from_millis(200) {
            last_check = Instant::now();
            if stop {
                ring.consume_n(DRAIN_SLICE, |d| batcher.push(d));
                batcher.flush_final();
            }
            let k = tracer.kernel_lost();
            stats.kernel_lost.store(k, Ordering::Relaxed);
            let lost = stats.lost();
            if lost != last_lost || stop {
                last_lost = lost;
                batcher.send_lost(lost);
            }
        }
        if stop {
            break;
        }
    }
    Ok(())
}

/// Blocks until the ring's epoll fd is readable or `timeout` passes.
fn wait_readable(epfd: i32, timeout: Duration) {
    let mut ev = [libc::epoll_event { events: 0, u64: 0 }; 1];
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: `ev` is valid for one entry; an error (EINTR) only ends the wait early.
    unsafe { libc::epoll_wait(epfd, ev.as_mut_ptr(), 1, ms) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::EventBuilder;

    fn batcher(out: Sender<Vec<Event>>) -> (Batcher, Arc<CaptureStats>) {
        let stats = Arc::new(CaptureStats::default());
        let (_pool_tx, pool) = bounded(1);
        let b = Batcher {
            out,
            pool,
            batch: Vec::new(),
            last_flush: Instant::now(),
            stats: stats.clone(),
            arch: Arch::native(),
            ids: Identities::new(),
            slow: None,
        };
        (b, stats)
    }

    #[test]
    fn a_part_filled_batch_waits_out_a_full_channel_instead_of_being_lost() {
        let (tx, rx) = bounded(1);
        let (mut b, stats) = batcher(tx);
        // The consumer is behind: the channel's one slot is taken.
        b.batch
            .push(Event::Syscall(EventBuilder::new().nr(1).build()));
        b.flush();
        for n in 2..5 {
            b.batch
                .push(Event::Syscall(EventBuilder::new().nr(n).build()));
            b.flush();
        }
        assert_eq!(stats.lost().channel, 0, "kept, not dropped");
        assert_eq!(b.batch.len(), 3);
        // It catches up: the kept events go in one batch, in order.
        assert_eq!(rx.recv().unwrap().len(), 1);
        b.flush();
        let nrs: Vec<u32> = rx
            .recv()
            .unwrap()
            .iter()
            .map(|e| match e {
                Event::Syscall(t) => t.nr,
                _ => 0,
            })
            .collect();
        assert_eq!(nrs, [2, 3, 4]);
        assert_eq!(stats.received.load(Ordering::Relaxed), 4);
        // At the stop a kept batch is counted when it cannot be handed over.
        b.batch.push(Event::Syscall(EventBuilder::new().build()));
        b.flush();
        b.batch.push(Event::Syscall(EventBuilder::new().build()));
        b.flush();
        b.flush_final();
        assert_eq!(stats.lost().channel, 1);
        // A full batch is still dropped (and counted) when nobody reads.
        b.batch = (0..BATCH)
            .map(|_| Event::Syscall(EventBuilder::new().build()))
            .collect();
        b.flush();
        assert_eq!(rx.len(), 1);
        assert_eq!(stats.lost().channel, 1 + BATCH as u64);
    }
}
