//! Serving a node's events to remote clients (`systrace-tui agent`): the
//! fan-out hub and the gRPC service of `proto/systrace.proto`.
//!
//! One hub thread takes the capture's batches, numbers the syscalls (the
//! node's sequence), keeps a short history for clients that reconnect, and
//! hands each client what passes its own filter through a bounded queue. A
//! full queue never waits: the events are counted as that client's loss
//! and reported to it, so a slow client slows neither the node nor the
//! other clients. The kernel is asked for the union of what the clients
//! want.

use std::collections::{BTreeSet, VecDeque};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use regex::bytes::Regex;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::model::container::ContainerMap;
use crate::model::event::{Event, LostEvents, TraceEvent};
use crate::model::filter::{regex_problem, Filter};
use crate::model::flow::{KernelFilter, Recycler};
use crate::model::syscalls::{self, Arch};
use crate::stage::UserFilter;
use crate::wire::{self, pb, Body};

/// Syscalls kept for clients that reconnect (a resume from further back
/// is reported as a gap).
const HISTORY_EVENTS: usize = 1 << 16;
/// How often a client hears its lost counts (when they changed).
const LOST_EVERY: Duration = Duration::from_millis(200);

/// Applies the union of the clients' kernel filters (None: no client is
/// connected) and returns once the kernel has it (or gave up).
pub type KernelSetter = Box<dyn Fn(Option<KernelFilter>) + Send + Sync>;
/// The node's own loss so far (kernel ring buffer, capture channel).
pub type NodeLost = Arc<dyn Fn() -> LostEvents + Send + Sync>;

/// What the hub needs to know about its node.
pub struct HubOptions {
    pub node: String,
    /// Changes with every start of the agent (see `Frame.run`).
    pub run: u64,
    pub arch: Arch,
    pub boot_unix_ns: i64,
    /// The kernel's syscall bitmap size (numbers at or above it cannot be
    /// filtered in the kernel).
    pub max_nr: u32,
    pub set_kernel: KernelSetter,
    pub node_lost: NodeLost,
    pub recycler: Option<Recycler>,
    /// Events a client may have queued before more count as lost.
    pub client_queue: usize,
    /// Where `--metrics` finds container names for its labels.
    pub labels: Option<Arc<Mutex<ContainerMap>>>,
}

/// One client's filter, compiled.
struct ClientFilter {
    user: UserFilter,
    syscalls: Option<BTreeSet<u32>>,
    /// What of it the kernel can do.
    kernel: KernelFilter,
}

impl ClientFilter {
    fn matches(&self, ev: &TraceEvent, containers: &ContainerMap) -> bool {
        self.syscalls.as_ref().is_none_or(|s| s.contains(&ev.nr))
            && self.user.matches(ev, containers)
    }
}

/// Turns a client's request into a filter, or says what is wrong with it.
fn compile(f: &pb::ClientFilter, arch: Arch, max_nr: u32) -> Result<ClientFilter, String> {
    let re = |r: &str, what: &str| -> Result<Option<Regex>, String> {
        if r.is_empty() {
            return Ok(None);
        }
        Regex::new(r)
            .map(Some)
            .map_err(|e| format!("invalid {what} regex {r:?}: {}", regex_problem(&e)))
    };
    let srx = |r: &str, what: &str| -> Result<Option<regex::Regex>, String> {
        if r.is_empty() {
            return Ok(None);
        }
        regex::Regex::new(r)
            .map(Some)
            .map_err(|e| format!("invalid {what} regex {r:?}: {}", regex_problem(&e)))
    };
    let pod = srx(&f.pod, "pod")?;
    let namespace = srx(&f.namespace, "namespace")?;
    let container = srx(&f.container, "container")?;
    let selection =
        (f.host || pod.is_some() || namespace.is_some() || container.is_some()).then(|| {
            crate::model::selection::Selection {
                pod,
                namespace,
                container,
                host: f.host,
                filter: None,
            }
        });
    let expr = if f.expr.is_empty() {
        None
    } else {
        Some(Filter::parse(&f.expr).map_err(|e| format!("invalid filter: {e}"))?)
    };
    let mut syscalls = None;
    if !f.syscalls.is_empty() {
        let mut set = BTreeSet::new();
        for name in &f.syscalls {
            let info = syscalls::by_name(arch, name)
                .ok_or_else(|| format!("unknown syscall {:?}", name))?;
            set.insert(info.nr);
        }
        syscalls = Some(set);
    }
    let push = expr
        .as_ref()
        .map(|e| e.pushdown(arch, max_nr))
        .unwrap_or_default();
    let mut kpids = push.pids;
    if !f.pids.is_empty() {
        let given: BTreeSet<u32> = f.pids.iter().copied().collect();
        kpids = Some(match kpids {
            Some(p) => p.intersection(&given).copied().collect(),
            None => given,
        });
    }
    let ksys = match (push.syscalls, &syscalls) {
        (Some(a), Some(b)) => Some(a.intersection(b).copied().collect()),
        (Some(a), None) => Some(a),
        (None, Some(b)) => Some(b.clone()),
        (None, None) => None,
    };
    let user = UserFilter {
        comm: re(&f.comm, "comm")?,
        expr,
        pids: f.pids.clone(),
        selection,
    };
    Ok(ClientFilter {
        user,
        syscalls,
        kernel: KernelFilter {
            pids: kpids.map(|p| p.into_iter().collect()),
            cgroups: None,
            cgroups_after: 0,
            syscalls: ksys
                .filter(|s: &BTreeSet<u32>| s.iter().all(|&n| n < max_nr))
                .map(|s| s.into_iter().collect()),
        },
    })
}

/// The union of the clients' kernel filters: a dimension one client leaves
/// open is open for all.
fn union(filters: &[&KernelFilter]) -> KernelFilter {
    fn join<T: Ord + Copy>(sets: impl Iterator<Item = Option<Vec<T>>>) -> Option<Vec<T>> {
        let mut all = BTreeSet::new();
        for s in sets {
            all.extend(s?);
        }
        Some(all.into_iter().collect())
    }
    if filters.is_empty() {
        return KernelFilter::default();
    }
    KernelFilter {
        pids: join(filters.iter().map(|f| f.pids.clone())),
        cgroups: None,
        cgroups_after: 0,
        syscalls: join(filters.iter().map(|f| f.syscalls.clone())),
    }
}

/// Counters one client's stream reports.
#[derive(Debug, Default)]
struct ClientLost {
    /// Events for it dropped at its full queue.
    queue: AtomicU64,
    /// Drops in queue order, one per mark queued: (the sequence number of
    /// the last event dropped, `queue` then). A client is told a loss
    /// only once everything queued before it went, and with the sequence
    /// it covers, so a resume never asks for what it was told is lost.
    marks: Mutex<VecDeque<(u64, u64)>>,
    /// Events (a container change counts one) queued and not yet handed to
    /// the connection.
    queued: AtomicUsize,
}

/// What a frame weighs in a client's queue.
fn weight(f: &pb::Frame) -> usize {
    match &f.body {
        Some(Body::Batch(b)) => wire::batch_len(b),
        // A drop mark: it must go in even when the queue is full.
        Some(Body::Lost(_)) => 0,
        _ => 1,
    }
}

enum Offer {
    Sent,
    Full,
    Closed,
}

struct Client {
    filter: ClientFilter,
    tx: mpsc::UnboundedSender<pb::Frame>,
    lost: Arc<ClientLost>,
    /// A container frame did not fit: send them all again when there is room.
    resync: bool,
    /// The last thing queued is a drop mark (later drops join it, so
    /// marks never outnumber the frames between them).
    marked: bool,
    /// It reads batches as columns (`WatchRequest.columns`).
    columns: bool,
}

impl Client {
    fn encode<'a>(&self, events: impl IntoIterator<Item = &'a TraceEvent>) -> pb::Batch {
        if self.columns {
            wire::encode_columns(events)
        } else {
            wire::encode_batch(events)
        }
    }
}

impl Client {
    /// Queues `f` if it fits within `limit` events.
    fn offer(&mut self, f: pb::Frame, limit: usize) -> Offer {
        let w = weight(&f);
        if self.tx.is_closed() {
            return Offer::Closed;
        }
        if self.lost.queued.load(Ordering::Relaxed) + w > limit {
            return Offer::Full;
        }
        self.lost.queued.fetch_add(w, Ordering::Relaxed);
        match self.tx.send(f) {
            Ok(()) => {
                self.marked = false;
                Offer::Sent
            }
            Err(_) => Offer::Closed,
        }
    }

    /// Counts `n` events up to sequence `seq` as lost, in queue order.
    fn dropped(&mut self, seq: u64, n: u64, mark: pb::Frame) {
        let total = self.lost.queue.fetch_add(n, Ordering::Relaxed) + n;
        let mut marks = self.lost.marks.lock().unwrap_or_else(|e| e.into_inner());
        if self.marked {
            // The mark queued last is not taken yet while its entry is there.
            if let Some(last) = marks.back_mut() {
                *last = (seq, total);
                return;
            }
        }
        marks.push_back((seq, total));
        self.marked = true;
        let _ = self.tx.send(mark);
    }
}

/// What a client's stream has told it of its losses.
struct Told {
    /// The node's losses when the stream began.
    base: LostEvents,
    /// Events dropped at its queue, as far as the marks taken say.
    client: u64,
    /// The sequence number accounted for so far (sent or told lost).
    seq: u64,
    sent: pb::Lost,
}

impl Told {
    fn new(base: LostEvents) -> Told {
        Told {
            base,
            client: 0,
            seq: 0,
            sent: pb::Lost::default(),
        }
    }

    /// Takes a frame off the client's queue. Returns the frames to send for
    /// it, in order: a mark becomes a lost frame, a batch is preceded by
    /// one when the counts changed.
    fn take(&mut self, hub: &Hub, lost: &ClientLost, f: pb::Frame) -> Vec<pb::Frame> {
        match f.body {
            Some(Body::Lost(_)) => {
                let mark = lost
                    .marks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .pop_front();
                if let Some((seq, total)) = mark {
                    self.client = total;
                    self.seq = self.seq.max(seq);
                }
                self.changed(hub).into_iter().collect()
            }
            Some(Body::Batch(_)) => {
                // Losses before this batch are told first.
                let mut out: Vec<pb::Frame> = self.changed(hub).into_iter().collect();
                self.seq = self.seq.max(f.seq);
                out.push(f);
                out
            }
            _ => vec![f],
        }
    }

    /// A lost frame, when the counts changed since told.
    fn changed(&mut self, hub: &Hub) -> Option<pb::Frame> {
        let node = (hub.opts.node_lost)();
        let now = wire::encode_lost(
            LostEvents {
                kernel: node.kernel.saturating_sub(self.base.kernel),
                channel: node.channel.saturating_sub(self.base.channel),
            },
            self.client,
        );
        (now != self.sent).then(|| {
            self.sent = now;
            hub.frame(self.seq, Body::Lost(now))
        })
    }
}

struct HubState {
    /// The last sequence number given.
    seq: u64,
    clients: Vec<Client>,
    containers: ContainerMap,
    /// Recent syscalls with their sequence numbers, oldest first.
    history: VecDeque<(u64, TraceEvent)>,
    /// The kernel filter last applied (inside, None: no client).
    applied: Option<Option<KernelFilter>>,
}

/// The fan-out. Shared by the hub thread and the service.
pub struct Hub {
    opts: HubOptions,
    node_id: u16,
    state: Mutex<HubState>,
}

impl Hub {
    pub fn new(opts: HubOptions) -> Arc<Hub> {
        let node_id = crate::model::node::intern(&opts.node).unwrap_or(0);
        Arc::new(Hub {
            opts,
            node_id,
            state: Mutex::new(HubState {
                seq: 0,
                clients: Vec::new(),
                containers: ContainerMap::default(),
                history: VecDeque::new(),
                applied: None,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn frame(&self, seq: u64, body: Body) -> pb::Frame {
        pb::Frame {
            node: self.opts.node.clone(),
            run: self.opts.run,
            seq,
            body: Some(body),
        }
    }

    /// The clients connected now.
    pub fn clients(&self) -> usize {
        self.lock().clients.len()
    }

    /// Takes batches until `events` closes or `stop` says so.
    pub fn run(&self, events: &Receiver<Vec<Event>>, stop: &dyn Fn() -> bool) {
        // Until a client asks, the node traces nothing it would not need
        // (the setter hears that no client is connected); clients that
        // came before this (`agent --publish`, a fast connection) keep
        // their filters.
        {
            let mut st = self.lock();
            st.applied = None;
            self.refilter(&mut st);
        }
        loop {
            match events.recv_timeout(Duration::from_millis(100)) {
                Ok(batch) => self.batch(batch),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if stop() {
                break;
            }
        }
        // Ends every stream.
        self.lock().clients.clear();
    }

    fn batch(&self, mut batch: Vec<Event>) {
        let mut st = self.lock();
        let first = st.seq + 1;
        let mut closed = false;
        // Containers first, in order, so the batch's events find them.
        for ev in &mut batch {
            match ev {
                Event::Syscall(t) => {
                    t.node = self.node_id;
                    st.seq += 1;
                }
                Event::ContainerAdd(a) => {
                    st.containers.add(a);
                    if let Some(l) = &self.opts.labels {
                        l.lock().unwrap_or_else(|e| e.into_inner()).add(a);
                    }
                    let f = self.frame(st.seq, Body::ContainerAdd(wire::container_add(a)));
                    closed |= Self::to_all(&mut st.clients, &f, self.opts.client_queue);
                }
                Event::ContainerDel(d) => {
                    st.containers.del(d);
                    let f = self.frame(st.seq, Body::ContainerDel(wire::container_del(d)));
                    closed |= Self::to_all(&mut st.clients, &f, self.opts.client_queue);
                }
                Event::Lost(_) | Event::Node(_) => {}
            }
        }
        let last = st.seq;
        let st = &mut *st;
        for c in &mut st.clients {
            let limit = self.opts.client_queue;
            if c.resync && c.lost.queued.load(Ordering::Relaxed) < limit / 2 {
                c.resync = false;
                for (cg, ci) in st.containers.iter() {
                    let body = Body::ContainerAdd(wire::encode_container(cg, ci));
                    let f = pb::Frame {
                        node: self.opts.node.clone(),
                        run: self.opts.run,
                        seq: first - 1,
                        body: Some(body),
                    };
                    if !matches!(c.offer(f, limit), Offer::Sent) {
                        c.resync = true;
                        break;
                    }
                }
            }
            let mine: Vec<&TraceEvent> = batch
                .iter()
                .filter_map(|e| match e {
                    Event::Syscall(t) if c.filter.matches(t, &st.containers) => Some(t),
                    _ => None,
                })
                .collect();
            if mine.is_empty() {
                continue;
            }
            let n = mine.len() as u64;
            let f = pb::Frame {
                node: self.opts.node.clone(),
                run: self.opts.run,
                seq: last,
                body: Some(Body::Batch(c.encode(mine))),
            };
            match c.offer(f, limit) {
                Offer::Sent => {}
                Offer::Full => {
                    let mark = self.frame(last, Body::Lost(pb::Lost::default()));
                    c.dropped(last, n, mark);
                }
                Offer::Closed => closed = true,
            }
        }
        // History, for resumes.
        let mut seq = first;
        for ev in batch.drain(..) {
            if let Event::Syscall(t) = ev {
                st.history.push_back((seq, t));
                seq += 1;
            }
        }
        while st.history.len() > HISTORY_EVENTS {
            st.history.pop_front();
        }
        if closed {
            st.clients.retain(|c| !c.tx.is_closed());
            self.refilter(st);
        }
        if let Some(r) = &self.opts.recycler {
            r.give(batch);
        }
    }

    /// Sends a frame every client must have (container changes). Returns
    /// whether a client is gone.
    fn to_all(clients: &mut [Client], f: &pb::Frame, limit: usize) -> bool {
        let mut closed = false;
        for c in clients {
            match c.offer(f.clone(), limit) {
                Offer::Sent => {}
                Offer::Full => c.resync = true,
                Offer::Closed => closed = true,
            }
        }
        closed
    }

    /// Puts the union of the clients' kernel filters into the kernel.
    fn refilter(&self, st: &mut HubState) {
        let want = (!st.clients.is_empty()).then(|| {
            union(
                &st.clients
                    .iter()
                    .map(|c| &c.filter.kernel)
                    .collect::<Vec<_>>(),
            )
        });
        if st.applied.as_ref() != Some(&want) {
            crate::note!(
                "systrace-tui: kernel filter for {} clients: {want:?}",
                st.clients.len()
            );
            (self.opts.set_kernel)(want.clone());
            st.applied = Some(want);
        }
    }

    /// Adds a client: its hello, the containers known, what it missed (on
    /// a resume), then live batches. Returns its queue and lost counters.
    fn register(
        &self,
        req: &pb::WatchRequest,
    ) -> Result<
        (
            mpsc::UnboundedReceiver<pb::Frame>,
            Arc<ClientLost>,
            LostEvents,
        ),
        Status,
    > {
        let filter = compile(
            &req.filter.clone().unwrap_or_default(),
            self.opts.arch,
            self.opts.max_nr,
        )
        .map_err(Status::invalid_argument)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let mut st = self.lock();
        let st = &mut *st;
        // A resume of this run: what the history still holds is sent again,
        // the rest is a gap. A resume of another run (the agent restarted):
        // the events of the old run it did not get are gone; those of this
        // run before it came are sent if still held.
        let resuming = req.run != 0;
        let after = if req.run == self.opts.run {
            req.after_seq
        } else {
            0
        };
        let oldest = st.history.front().map_or(st.seq + 1, |(s, _)| *s);
        let gap = if resuming && after + 1 < oldest {
            oldest - 1 - after
        } else {
            0
        };
        let hello = Body::Hello(pb::Hello {
            arch: wire::arch_name(self.opts.arch).to_string(),
            boot_unix_ns: self.opts.boot_unix_ns,
            version: env!("CARGO_PKG_VERSION").to_string(),
            gap,
        });
        let lost = Arc::new(ClientLost::default());
        let mut client = Client {
            filter,
            tx,
            lost: lost.clone(),
            resync: false,
            marked: false,
            columns: req.columns,
        };
        // The hello and what is known so far go whatever the limit.
        lost.queued
            .fetch_add(1 + st.containers.len(), Ordering::Relaxed);
        let _ = client.tx.send(self.frame(st.seq, hello));
        for (cg, c) in st.containers.iter() {
            let body = Body::ContainerAdd(wire::encode_container(cg, c));
            let _ = client.tx.send(self.frame(st.seq, body));
        }
        if resuming {
            let missed: Vec<&(u64, TraceEvent)> = st
                .history
                .iter()
                .filter(|(s, t)| *s > after && client.filter.matches(t, &st.containers))
                .collect();
            for chunk in missed.chunks(4096) {
                let seq = chunk.last().map_or(0, |(s, _)| *s);
                let b = client.encode(chunk.iter().map(|(_, t)| t));
                let n = chunk.len() as u64;
                let f = self.frame(seq, Body::Batch(b));
                if !matches!(client.offer(f, self.opts.client_queue), Offer::Sent) {
                    let mark = self.frame(seq, Body::Lost(pb::Lost::default()));
                    client.dropped(seq, n, mark);
                    client.resync = true;
                }
            }
        }
        st.clients.push(client);
        self.refilter(st);
        Ok((rx, lost, (self.opts.node_lost)()))
    }

    fn unregister_closed(&self) {
        let mut st = self.lock();
        let before = st.clients.len();
        st.clients.retain(|c| !c.tx.is_closed());
        if st.clients.len() != before {
            self.refilter(&mut st);
        }
    }
}

/// A client inside the agent (`agent --publish`): the frames a gRPC
/// client with the same filter gets, with the same lost frames, from a
/// queue read on a thread of its own.
pub struct Local {
    hub: Arc<Hub>,
    rx: mpsc::UnboundedReceiver<pb::Frame>,
    lost: Arc<ClientLost>,
    told: Told,
    /// Frames to give before taking more from the queue.
    ready: VecDeque<pb::Frame>,
}

impl Hub {
    /// Subscribes as `watch` does, from inside the process.
    pub fn local(self: &Arc<Self>, filter: pb::ClientFilter) -> Result<Local, String> {
        let req = pb::WatchRequest {
            filter: Some(filter),
            ..Default::default()
        };
        let (rx, lost, base) = self.register(&req).map_err(|e| e.message().to_string())?;
        Ok(Local {
            hub: self.clone(),
            rx,
            lost,
            told: Told::new(base),
            ready: VecDeque::new(),
        })
    }
}

impl Local {
    /// The next frame within `wait`: `Ok(None)` when there is none yet,
    /// `Err(())` once the hub ended the stream.
    #[allow(clippy::result_unit_err)]
    pub fn next(&mut self, wait: Duration) -> Result<Option<pb::Frame>, ()> {
        let end = std::time::Instant::now() + wait;
        loop {
            if let Some(f) = self.ready.pop_front() {
                return Ok(Some(f));
            }
            match self.rx.try_recv() {
                Ok(f) => {
                    self.lost.queued.fetch_sub(weight(&f), Ordering::Relaxed);
                    let out = self.told.take(&self.hub, &self.lost, f);
                    self.ready.extend(out);
                    continue;
                }
                Err(mpsc::error::TryRecvError::Disconnected) => return Err(()),
                Err(mpsc::error::TryRecvError::Empty) => {}
            }
            if std::time::Instant::now() >= end {
                return Ok(self.told.changed(&self.hub));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        self.rx.close();
        self.hub.unregister_closed();
    }
}

/// The gRPC service over a hub.
pub struct Service {
    pub hub: Arc<Hub>,
}

type FrameStream = Pin<Box<dyn Stream<Item = Result<pb::Frame, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl pb::agent_server::Agent for Service {
    type WatchStream = FrameStream;

    async fn watch(
        &self,
        request: Request<pb::WatchRequest>,
    ) -> Result<Response<FrameStream>, Status> {
        let peer = request
            .remote_addr()
            .map_or_else(|| "?".to_string(), |a| a.to_string());
        let req = request.into_inner();
        let (mut rx, lost, base) = match self.hub.register(&req) {
            Ok(r) => r,
            Err(e) => {
                crate::say!(
                    "systrace-tui: refused a request from {peer}: {}",
                    e.message()
                );
                return Err(e);
            }
        };
        crate::note!("systrace-tui: client {peer} connected");
        let (out_tx, out_rx) = mpsc::channel::<Result<pb::Frame, Status>>(4);
        let hub = self.hub.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(LOST_EVERY);
            let mut told = Told::new(base);
            'stream: loop {
                let (out, w) = tokio::select! {
                    f = rx.recv() => match f {
                        Some(f) => {
                            let w = weight(&f);
                            (told.take(&hub, &lost, f), w)
                        }
                        // The hub ended the stream (the agent stops).
                        None => break,
                    },
                    _ = tick.tick() => match told.changed(&hub) {
                        Some(l) => (vec![l], 0),
                        None => continue,
                    },
                };
                for f in out {
                    if out_tx.send(Ok(f)).await.is_err() {
                        break 'stream;
                    }
                }
                // Counted in the queue until the connection took it.
                lost.queued.fetch_sub(w, Ordering::Relaxed);
            }
            drop(rx);
            hub.unregister_closed();
            crate::note!("systrace-tui: client {peer} left");
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(out_rx),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub() -> Arc<Hub> {
        Hub::new(HubOptions {
            node: "unit".into(),
            run: 7,
            arch: Arch::X86_64,
            boot_unix_ns: 0,
            max_nr: 1024,
            set_kernel: Box::new(|_| {}),
            node_lost: Arc::new(LostEvents::default),
            recycler: None,
            client_queue: 16,
            labels: None,
        })
    }

    fn getppid(pid: u32) -> Event {
        Event::Syscall(
            crate::model::testing::EventBuilder::named("getppid")
                .pid(pid)
                .comm("x")
                .build(),
        )
    }

    fn request(expr: &str) -> pb::WatchRequest {
        pb::WatchRequest {
            filter: Some(pb::ClientFilter {
                expr: expr.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn drain(rx: &mut mpsc::UnboundedReceiver<pb::Frame>, l: &ClientLost) -> (u64, Vec<u64>) {
        let (mut events, mut seqs) = (0, Vec::new());
        while let Ok(f) = rx.try_recv() {
            l.queued.fetch_sub(weight(&f), Ordering::Relaxed);
            if let Some(Body::Batch(b)) = f.body {
                events += wire::batch_len(&b) as u64;
                seqs.push(f.seq);
            }
        }
        (events, seqs)
    }

    #[test]
    fn a_full_queue_counts_lost_and_the_other_client_gets_everything() {
        let h = hub();
        let (mut slow, slow_lost, _) = h.register(&request("pid == 5")).unwrap();
        let (mut fast, fast_lost, _) = h.register(&request("pid == 5")).unwrap();
        let mut fast_got = drain(&mut fast, &fast_lost).0;
        let batches = 64;
        for _ in 0..batches {
            h.batch(vec![getppid(5), getppid(6), getppid(5)]);
            fast_got += drain(&mut fast, &fast_lost).0;
        }
        let (slow_got, _) = drain(&mut slow, &slow_lost);
        let made = batches * 2;
        assert_eq!(fast_got, made);
        assert_eq!(fast_lost.queue.load(Ordering::Relaxed), 0);
        let lost = slow_lost.queue.load(Ordering::Relaxed);
        assert!(lost > 0);
        assert_eq!(slow_got + lost, made);
    }

    #[test]
    fn a_resume_sends_what_was_missed_once_and_bad_filters_are_refused() {
        let h = hub();
        let (mut a, al, _) = h.register(&request("pid == 5")).unwrap();
        h.batch(vec![getppid(5), getppid(5)]);
        let (n, seqs) = drain(&mut a, &al);
        assert_eq!((n, seqs.as_slice()), (2, &[2][..]));
        drop(a);
        h.batch(vec![getppid(5), getppid(6), getppid(5)]);
        assert_eq!(h.clients(), 0);
        let mut req = request("pid == 5");
        req.run = 7;
        req.after_seq = 2;
        let (mut b, bl, _) = h.register(&req).unwrap();
        let (n, seqs) = drain(&mut b, &bl);
        assert_eq!((n, seqs.as_slice()), (2, &[5][..]));
        let err = h.register(&request("pid ==")).unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        let mut bad = request("");
        bad.filter.as_mut().unwrap().pod = "(".into();
        assert_eq!(
            h.register(&bad).unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
    }

    #[test]
    fn each_client_gets_the_batch_form_it_asked_for() {
        let h = hub();
        let (mut old, _, _) = h.register(&request("pid == 5")).unwrap();
        let mut req = request("pid == 5");
        req.columns = true;
        let (mut new, _, _) = h.register(&req).unwrap();
        h.batch(vec![getppid(5), getppid(6), getppid(5)]);
        let batch = |rx: &mut mpsc::UnboundedReceiver<pb::Frame>| loop {
            if let Some(Body::Batch(b)) = rx.try_recv().expect("a batch").body {
                return b;
            }
        };
        let (o, n) = (batch(&mut old), batch(&mut new));
        assert_eq!((o.events.len(), o.columns.is_none()), (2, true));
        assert_eq!(n.events.len(), 0);
        assert_eq!(wire::batch_len(&n), 2);
        assert_eq!(
            wire::decode_batch(o, Arch::X86_64, 0).unwrap(),
            wire::decode_batch(n, Arch::X86_64, 0).unwrap()
        );
    }

    #[test]
    fn the_kernel_gets_the_union_of_the_clients() {
        let k = |pids: Option<Vec<u32>>, sys: Option<Vec<u32>>| KernelFilter {
            pids,
            cgroups: None,
            cgroups_after: 0,
            syscalls: sys,
        };
        let a = k(Some(vec![1, 2]), Some(vec![110]));
        let b = k(Some(vec![3]), None);
        assert_eq!(union(&[&a, &b]), k(Some(vec![1, 2, 3]), None));
        let f = compile(
            &pb::ClientFilter {
                pids: vec![4, 5],
                expr: "pid == 5 and syscall == getppid".into(),
                ..Default::default()
            },
            Arch::X86_64,
            1024,
        )
        .unwrap();
        assert_eq!(f.kernel, k(Some(vec![5]), Some(vec![110])));
    }
}
