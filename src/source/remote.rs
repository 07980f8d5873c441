//! Remote nodes (`--node`, `--nodes-dns`): the streams of `systrace-tui
//! agent`s, merged into one source. One thread per node keeps its stream
//! going: it reconnects with backoff when the agent goes away, resumes
//! from the last event it holds (nothing is shown twice), and reports the
//! node down and back up, with what it missed, as `Event::Node`.
//!
//! Events keep their node's number (`model::node`); their cgroup ids carry
//! it in the top 16 bits, so containers of different nodes (whose cgroup
//! ids are inode numbers of different machines) never collide. Event times
//! are moved to this machine's clock with the offset the agent reports.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{anyhow, Result};
use crossbeam_channel::{bounded, Receiver, SendTimeoutError, Sender};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use crate::clock::Clock;
use crate::model::event::{Event, LostEvents, NodeEvent};
use crate::model::node::{self, NodeState};
use crate::model::stop::Stop;
use crate::model::syscalls::Arch;
use crate::wire::{self, pb, Decoded};

/// The bits of a cgroup id left to the node's own id.
const CGROUP_BITS: u64 = (1 << 48) - 1;

/// A node's cgroup id as this client knows it.
pub fn remap_cgroup(node: u16, cgroup_id: u64) -> u64 {
    ((node as u64) << 48) | (cgroup_id & CGROUP_BITS)
}

/// Where an agent is.
#[derive(Clone, Debug)]
pub struct Target {
    /// `HOST:PORT`, as given or resolved.
    pub addr: String,
    /// The name its certificate must carry, when not the host of `addr`
    /// (an address resolved from `--nodes-dns NAME`).
    pub server_name: Option<String>,
}

/// TLS material for the client side.
#[derive(Clone, Debug)]
pub struct ClientTls {
    pub ca_pem: Vec<u8>,
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

#[derive(Clone, Debug)]
pub struct RemoteOptions {
    pub targets: Vec<Target>,
    /// None: `--insecure`.
    pub tls: Option<ClientTls>,
    pub filter: pb::ClientFilter,
    pub clock: Clock,
    /// Ask for batches as columns (`WatchRequest.columns`); false only to
    /// measure the per-event form against them.
    pub columns: bool,
}

/// One node's accounting, for the closing lines.
#[derive(Clone, Debug, Default)]
pub struct NodeCount {
    pub addr: String,
    pub name: Option<String>,
    pub received: u64,
    /// Lost in streams that ended (kernel, agent capture, client queue).
    pub lost_done: pb::Lost,
    /// Lost in the current stream so far.
    pub lost_now: pb::Lost,
    /// Streams the node was reached in.
    pub sessions: u64,
}

impl NodeCount {
    pub fn lost(&self) -> pb::Lost {
        pb::Lost {
            kernel: self.lost_done.kernel + self.lost_now.kernel,
            channel: self.lost_done.channel + self.lost_now.channel,
            client: self.lost_done.client + self.lost_now.client,
        }
    }

    /// `node a: 10 events, 0 lost (...)`.
    pub fn summary(&self) -> String {
        let l = self.lost();
        let name = self.name.as_deref().unwrap_or(&self.addr);
        format!(
            "node {} ({}): {} events received, {} lost (kernel {}, agent {}, queue {})",
            crate::model::escape::plain(name.as_bytes(), 64),
            self.addr,
            self.received,
            l.kernel + l.channel + l.client,
            l.kernel,
            l.channel,
            l.client
        )
    }
}

type Counts = Arc<Mutex<Vec<NodeCount>>>;

/// The running remote source.
pub struct Remote {
    pub events: Receiver<Vec<Event>>,
    clock: Clock,
    threads: Vec<JoinHandle<()>>,
    halt: Arc<AtomicBool>,
    counts: Counts,
}

/// How it ended.
pub struct RemoteEnd {
    pub lost: LostEvents,
    pub nodes: Vec<NodeCount>,
}

fn total_lost(counts: &[NodeCount]) -> LostEvents {
    counts.iter().fold(LostEvents::default(), |acc, c| {
        let l = c.lost();
        LostEvents {
            kernel: acc.kernel + l.kernel,
            channel: acc.channel + l.channel + l.client,
        }
    })
}

impl Remote {
    pub fn start(opts: RemoteOptions, stop: &Stop) -> Result<Remote> {
        let (tx, rx) = bounded(256);
        let halt = Arc::new(AtomicBool::new(false));
        let counts: Counts = Arc::new(Mutex::new(
            opts.targets
                .iter()
                .map(|t| NodeCount {
                    addr: t.addr.clone(),
                    ..Default::default()
                })
                .collect(),
        ));
        let mut threads = Vec::new();
        for (i, t) in opts.targets.iter().enumerate() {
            let w = NodeWorker {
                index: i,
                target: t.clone(),
                opts: opts.clone(),
                tx: tx.clone(),
                halt: halt.clone(),
                stop: stop.clone(),
                counts: counts.clone(),
            };
            threads.push(
                std::thread::Builder::new()
                    .name(format!("node-{i}"))
                    .spawn(move || w.run())?,
            );
        }
        Ok(Remote {
            events: rx,
            clock: opts.clock,
            threads,
            halt,
            counts,
        })
    }

    /// Stops every node's stream (what is queued can still be received).
    pub fn stop(&self) {
        self.halt.store(true, Ordering::Relaxed);
    }

    pub fn finish(self) -> Result<RemoteEnd> {
        self.stop();
        drop(self.events);
        for t in self.threads {
            t.join().map_err(|_| anyhow!("a node's thread panicked"))?;
        }
        let nodes = self
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        Ok(RemoteEnd {
            lost: total_lost(&nodes),
            nodes,
        })
    }
}

impl super::Source for Remote {
    fn events(&self) -> &Receiver<Vec<Event>> {
        &self.events
    }

    fn origin(&self) -> crate::model::flow::Origin {
        crate::model::flow::Origin::Live
    }

    fn banner(&self) -> &'static str {
        "tracing on the nodes given"
    }

    fn clock(&self) -> Clock {
        self.clock
    }

    fn header(&self, filters: crate::session::format::Filters) -> crate::session::format::Header {
        crate::session::writer::live_header(self.clock, filters)
    }

    fn stop(&mut self) -> Result<()> {
        Remote::stop(self);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<super::End> {
        let end = (*self).finish()?;
        Ok(super::End {
            lost: end.lost,
            notes: end.nodes.iter().map(NodeCount::summary).collect(),
            ..Default::default()
        })
    }
}

fn now_unix_ns() -> i64 {
    let c = Clock::measure();
    (c.boot_unix_ns + Clock::monotonic_now() as i128) as i64
}

/// Why a stream ended.
enum End {
    /// Stop raised: no reconnect.
    Halted,
    /// The node went away or misbehaved; `bool`: it had been reached.
    Down(String, bool),
}

struct NodeWorker {
    index: usize,
    target: Target,
    opts: RemoteOptions,
    tx: Sender<Vec<Event>>,
    halt: Arc<AtomicBool>,
    stop: Stop,
    counts: Counts,
}

/// Where a stream resumes: the agent's run and the last sequence number held.
#[derive(Clone, Copy, Debug, Default)]
struct Resume {
    run: u64,
    seq: u64,
}

impl Resume {
    /// A frame of run `run` accounts for the node's events up to `seq`.
    fn advance(&mut self, run: u64, seq: u64) {
        if run == self.run {
            self.seq = self.seq.max(seq);
        }
    }
}

impl NodeWorker {
    fn halted(&self) -> bool {
        self.halt.load(Ordering::Relaxed) || self.stop.is_raised()
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Vec<NodeCount>> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends a batch on, waiting while the consumer is busy (the agent
    /// counts what its queue for us cannot take). False once stopping.
    fn send(&self, mut batch: Vec<Event>) -> bool {
        loop {
            match self.tx.send_timeout(batch, Duration::from_millis(100)) {
                Ok(()) => return true,
                Err(SendTimeoutError::Timeout(b)) if !self.halted() => batch = b,
                Err(_) => return false,
            }
        }
    }

    fn run(self) {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                crate::say!("systrace-tui: node {}: {e}", self.target.addr);
                return;
            }
        };
        let mut resume: Option<Resume> = None;
        let mut node_id = 0u16;
        let mut backoff = Duration::from_millis(100);
        // Down is reported once per outage; the first failure to connect
        // is one too.
        let mut down_reported = false;
        loop {
            let end = rt.block_on(self.session(&mut resume, &mut node_id, &mut down_reported));
            let reached = match end {
                End::Halted => break,
                End::Down(why, reached) => {
                    {
                        let mut c = self.counts();
                        let c = &mut c[self.index];
                        let now = std::mem::take(&mut c.lost_now);
                        c.lost_done.kernel += now.kernel;
                        c.lost_done.channel += now.channel;
                        c.lost_done.client += now.client;
                    }
                    if !down_reported {
                        down_reported = true;
                        let at = now_unix_ns();
                        node::set_state(
                            node_id,
                            NodeState {
                                up: false,
                                since_unix_ns: at,
                                detail: why.clone(),
                            },
                        );
                        let ev = Event::Node(NodeEvent {
                            node: node_id,
                            addr: self.target.addr.clone(),
                            up: false,
                            at_unix_ns: at,
                            detail: why,
                        });
                        if !self.send(vec![ev]) {
                            break;
                        }
                    }
                    reached
                }
            };
            if reached {
                backoff = Duration::from_millis(100);
            }
            let mut waited = Duration::ZERO;
            while waited < backoff && !self.halted() {
                std::thread::sleep(Duration::from_millis(50));
                waited += Duration::from_millis(50);
            }
            if self.halted() {
                break;
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    async fn connect(&self) -> Result<pb::agent_client::AgentClient<tonic::transport::Channel>> {
        let scheme = if self.opts.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let mut ep = Endpoint::from_shared(format!("{scheme}://{}", self.target.addr))?
            .connect_timeout(Duration::from_secs(3))
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(10));
        if let Some(tls) = &self.opts.tls {
            let mut cfg = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&tls.ca_pem));
            if let Some((cert, key)) = &tls.identity {
                cfg = cfg.identity(Identity::from_pem(cert, key));
            }
            if let Some(name) = &self.target.server_name {
                cfg = cfg.domain_name(name.clone());
            }
            ep = ep.tls_config(cfg)?;
        }
        let ch = ep.connect().await?;
        Ok(pb::agent_client::AgentClient::new(ch).max_decoding_message_size(64 << 20))
    }

    /// One stream, from connecting to its end.
    async fn session(
        &self,
        resume: &mut Option<Resume>,
        node_id: &mut u16,
        down_reported: &mut bool,
    ) -> End {
        let halt = async {
            while !self.halted() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::select! {
            end = self.stream(resume, node_id, down_reported) => end,
            _ = halt => End::Halted,
        }
    }

    async fn stream(
        &self,
        resume: &mut Option<Resume>,
        node_id: &mut u16,
        down_reported: &mut bool,
    ) -> End {
        let mut client = match self.connect().await {
            Ok(c) => c,
            Err(e) => return End::Down(error_chain(&*e), false),
        };
        let r = resume.unwrap_or_default();
        let req = pb::WatchRequest {
            filter: Some(self.opts.filter.clone()),
            run: r.run,
            after_seq: r.seq,
            columns: self.opts.columns,
        };
        let mut stream = match client.watch(req).await {
            Ok(s) => s.into_inner(),
            Err(e) => return End::Down(status_text(&e), false),
        };
        let mut arch: Option<Arch> = None;
        let mut shift = 0i64;
        loop {
            let frame = match stream.message().await {
                Ok(Some(f)) => f,
                Ok(None) => return End::Down("the agent ended the stream".into(), arch.is_some()),
                Err(e) => return End::Down(status_text(&e), arch.is_some()),
            };
            let id = match node::intern(&frame.node) {
                Some(id) if !frame.node.is_empty() && !frame.node.chars().any(char::is_control) => {
                    id
                }
                _ => {
                    return End::Down(
                        format!("bad node name {:?} from the agent", frame.node),
                        arch.is_some(),
                    )
                }
            };
            *node_id = id;
            let a = arch.unwrap_or(Arch::native());
            let decoded = match wire::decode_body(frame.body, a, id) {
                Ok(d) => d,
                Err(e) => {
                    return End::Down(format!("bad message from the agent: {e}"), arch.is_some())
                }
            };
            let out = match decoded {
                Decoded::Hello {
                    arch: na,
                    boot_unix_ns,
                    gap,
                } => {
                    arch = Some(na);
                    shift = boot_unix_ns.wrapping_sub(self.opts.clock.boot_unix_ns as i64);
                    let detail = match *resume {
                        Some(r) if r.run != frame.run => {
                            "the agent restarted: what it traced while unreachable is not shown"
                                .to_string()
                        }
                        Some(_) if gap > 0 => {
                            format!("{gap} events the agent no longer held are not shown")
                        }
                        Some(_) => "nothing missed".to_string(),
                        None => String::new(),
                    };
                    {
                        let mut c = self.counts();
                        let c = &mut c[self.index];
                        c.name = Some(frame.node.clone());
                        c.sessions += 1;
                    }
                    let at = now_unix_ns();
                    node::set_state(
                        id,
                        NodeState {
                            up: true,
                            since_unix_ns: at,
                            detail: detail.clone(),
                        },
                    );
                    // A first connection is announced too (tests and
                    // scripts wait for it); later ones only after a down.
                    if resume.is_some() && !*down_reported {
                        continue;
                    }
                    *down_reported = false;
                    if resume.is_none() {
                        *resume = Some(Resume {
                            run: frame.run,
                            seq: frame.seq,
                        });
                    } else if let Some(r) = resume.as_mut() {
                        if r.run != frame.run {
                            // Sequence numbers of the new run.
                            *r = Resume {
                                run: frame.run,
                                seq: 0,
                            };
                        }
                    }
                    vec![Event::Node(NodeEvent {
                        node: id,
                        addr: self.target.addr.clone(),
                        up: true,
                        at_unix_ns: at,
                        detail,
                    })]
                }
                _ if arch.is_none() => {
                    return End::Down("the agent sent events before its hello".into(), false)
                }
                Decoded::Batch(evs) => {
                    let n = evs.len() as u64;
                    let batch: Vec<Event> = evs
                        .into_iter()
                        .map(|mut e| {
                            e.start_ns = (e.start_ns as i64).wrapping_add(shift) as u64;
                            e.finish_ns = (e.finish_ns as i64).wrapping_add(shift) as u64;
                            e.relabel_cgroup(remap_cgroup(id, e.id.cgroup_id));
                            Event::Syscall(e)
                        })
                        .collect();
                    self.counts()[self.index].received += n;
                    *resume = Some(Resume {
                        run: frame.run,
                        seq: frame.seq,
                    });
                    batch
                }
                Decoded::ContainerAdd(mut a) => {
                    a.cgroup_id = remap_cgroup(id, a.cgroup_id);
                    vec![Event::ContainerAdd(a)]
                }
                Decoded::ContainerDel(mut d) => {
                    d.cgroup_id = remap_cgroup(id, d.cgroup_id);
                    vec![Event::ContainerDel(d)]
                }
                Decoded::Lost(l) => {
                    // What it covers was told lost: a resume starts after it.
                    if let Some(r) = resume.as_mut() {
                        r.advance(frame.run, frame.seq);
                    }
                    let mut c = self.counts();
                    c[self.index].lost_now = l;
                    vec![Event::Lost(total_lost(&c))]
                }
            };
            if !self.send(out) {
                return End::Halted;
            }
        }
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

fn status_text(s: &tonic::Status) -> String {
    let mut t = format!("{:?}: {}", s.code(), s.message());
    if let Some(src) = std::error::Error::source(s) {
        t.push_str(": ");
        t.push_str(&error_chain(src));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resume_point_moves_on_within_its_run_only() {
        let mut r = Resume { run: 7, seq: 10 };
        r.advance(7, 25);
        assert_eq!(r.seq, 25, "a lost frame's seq covers what it counts");
        r.advance(7, 20);
        assert_eq!(r.seq, 25, "never back");
        r.advance(8, 99);
        assert_eq!((r.run, r.seq), (7, 25), "another run's numbers");
    }
}
