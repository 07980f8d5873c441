//! `--publish redis://...`: a node's events as frames on a Redis Stream of
//! its own (layout in `crate::wire::redis`), for any number of viewers
//! (`--source redis://...`). The frames are the gRPC stream's.
//!
//! Redis is never allowed to slow the node: every command has a time
//! limit, and while Redis cannot be reached, events are counted (in the
//! frames' sequence numbers, which viewers see as a gap) instead of kept.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::model::event::{Event, LostEvents, TraceEvent};
use crate::model::syscalls::Arch;
use crate::pipeline::stop::Stop;
use crate::wire::redis::{
    check_url, containers_key, frame_bytes, hello_key, stream_key, FIELD, MAXLEN, NODES,
};
use crate::wire::{self, pb, Body};

/// How long one Redis command may take before the connection counts as
/// broken.
const IO_LIMIT: Duration = Duration::from_secs(2);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

pub struct Publisher {
    client: redis::Client,
    url: String,
    con: Option<redis::Connection>,
    node: String,
    stream: String,
    run: u64,
    hello: pb::Hello,
    /// Events of this run so far: published, or dropped while Redis was away.
    pub seq: u64,
    /// Events dropped because Redis could not be reached.
    pub dropped: u64,
    /// The node's containers now, rewritten to Redis after a reconnect.
    containers: HashMap<u64, Vec<u8>>,
    lost: LostEvents,
    /// The counts last written (kernel and capture loss, dropped here).
    lost_sent: Option<(LostEvents, u64)>,
    retry_at: Instant,
    backoff: Duration,
}

impl Publisher {
    /// Connects (a first failure is an error: the address is likely wrong),
    /// and announces run `run` of node `node`.
    pub fn connect(url: &str, node: &str, run: u64, arch: Arch, boot_unix_ns: i64) -> Result<Self> {
        let client = check_url(url).map_err(|e| anyhow!("--publish {e}"))?;
        let mut p = Publisher {
            client,
            url: url.to_string(),
            con: None,
            node: node.to_string(),
            stream: stream_key(node),
            run,
            hello: pb::Hello {
                arch: wire::arch_name(arch).to_string(),
                boot_unix_ns,
                version: env!("CARGO_PKG_VERSION").to_string(),
                gap: 0,
            },
            seq: 0,
            dropped: 0,
            containers: HashMap::new(),
            lost: LostEvents::default(),
            lost_sent: None,
            retry_at: Instant::now(),
            backoff: Duration::from_millis(100),
        };
        p.reconnect()
            .with_context(|| format!("--publish {url}: cannot reach Redis"))?;
        Ok(p)
    }

    fn frame(&self, body: Body) -> pb::Frame {
        pb::Frame {
            node: self.node.clone(),
            run: self.run,
            seq: self.seq,
            body: Some(body),
        }
    }

    /// A new connection: the hello (stream and key) and the container table.
    fn reconnect(&mut self) -> Result<()> {
        self.con = None;
        let mut con = self.client.get_connection_with_timeout(IO_LIMIT)?;
        con.set_read_timeout(Some(IO_LIMIT))?;
        con.set_write_timeout(Some(IO_LIMIT))?;
        let hello = frame_bytes(&self.frame(Body::Hello(self.hello.clone())));
        let ckey = containers_key(&self.node);
        let mut p = redis::pipe();
        p.sadd(NODES, &self.node).ignore();
        p.set(hello_key(&self.node), &hello).ignore();
        p.del(&ckey).ignore();
        for (id, c) in &self.containers {
            p.hset(&ckey, id, c).ignore();
        }
        p.cmd("XADD")
            .arg(&self.stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(MAXLEN)
            .arg("*")
            .arg(FIELD)
            .arg(&hello)
            .ignore();
        p.query::<()>(&mut con)?;
        self.con = Some(con);
        self.backoff = Duration::from_millis(100);
        self.lost_sent = None;
        Ok(())
    }

    /// Publishes one batch of the pipeline (syscalls, containers, lost
    /// counts). Returns false while Redis is away (the batch's events are
    /// then counted as dropped).
    pub fn publish(&mut self, batch: &[Event]) -> bool {
        let mut p = redis::pipe();
        let mut run: Vec<&TraceEvent> = Vec::new();
        let mut events = 0u64;
        let ckey = containers_key(&self.node);
        for e in batch {
            match e {
                Event::Syscall(t) => {
                    run.push(t);
                    continue;
                }
                Event::ContainerAdd(c) => {
                    self.flush_into(&mut p, &mut run, &mut events);
                    let body = wire::container_add(c);
                    let bytes = frame_bytes(&self.frame(Body::ContainerAdd(body)));
                    self.containers.insert(c.cgroup_id, bytes.clone());
                    p.hset(&ckey, c.cgroup_id, &bytes).ignore();
                    self.xadd(&mut p, &bytes);
                }
                Event::ContainerDel(c) => {
                    self.flush_into(&mut p, &mut run, &mut events);
                    self.containers.remove(&c.cgroup_id);
                    let bytes =
                        frame_bytes(&self.frame(Body::ContainerDel(wire::container_del(c))));
                    p.hdel(&ckey, c.cgroup_id).ignore();
                    self.xadd(&mut p, &bytes);
                }
                Event::Lost(l) => self.lost = *l,
            }
        }
        self.flush_into(&mut p, &mut run, &mut events);
        if self.lost_sent != Some((self.lost, self.dropped)) {
            let body = Body::Lost(wire::encode_lost(self.lost, self.dropped));
            let bytes = frame_bytes(&self.frame(body));
            self.xadd(&mut p, &bytes);
        }
        if !self.connected() {
            self.dropped += events;
            return false;
        }
        if p.is_empty() {
            return true;
        }
        let con = self.con.as_mut().expect("connected");
        match p.query::<()>(con) {
            Ok(()) => {
                self.lost_sent = Some((self.lost, self.dropped));
                true
            }
            Err(e) => {
                crate::say!("systrace-tui: --publish {}: {e}; retrying", self.url);
                self.con = None;
                self.retry_at = Instant::now() + self.backoff;
                self.dropped += events;
                false
            }
        }
    }

    /// Whether there is a connection, reconnecting when the backoff allows.
    fn connected(&mut self) -> bool {
        if self.con.is_some() {
            return true;
        }
        if Instant::now() < self.retry_at {
            return false;
        }
        match self.reconnect() {
            Ok(()) => {
                crate::say!("systrace-tui: --publish {}: connected again", self.url);
                true
            }
            Err(_) => {
                self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                self.retry_at = Instant::now() + self.backoff;
                false
            }
        }
    }

    fn flush_into(&mut self, p: &mut redis::Pipeline, run: &mut Vec<&TraceEvent>, n: &mut u64) {
        if run.is_empty() {
            return;
        }
        self.seq += run.len() as u64;
        *n += run.len() as u64;
        let bytes = frame_bytes(&self.frame(Body::Batch(wire::encode_batch(run.iter().copied()))));
        run.clear();
        self.xadd(p, &bytes);
    }

    fn xadd(&self, p: &mut redis::Pipeline, bytes: &[u8]) {
        p.cmd("XADD")
            .arg(&self.stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(MAXLEN)
            .arg("*")
            .arg(FIELD)
            .arg(bytes)
            .ignore();
    }
}

/// The publisher as a consumer: batches from `events` until the stop or
/// until the sender leaves.
pub fn run(mut publisher: Publisher, events: &Receiver<Vec<Event>>, stop: &Stop) {
    loop {
        match events.recv_timeout(stop.wait(Duration::from_millis(100))) {
            Ok(batch) => {
                publisher.publish(&batch);
            }
            Err(RecvTimeoutError::Timeout) if !stop.is_raised() => {
                // A reconnect (and the lost frame) does not wait for events.
                publisher.publish(&[]);
            }
            Err(_) => break,
        }
    }
}
