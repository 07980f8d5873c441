//! `agent --publish redis://...`: the node's frames (those a gRPC client
//! gets, prost-encoded) on a Redis Stream of the node's own, for any number
//! of viewers (`--source redis://...`). Layout: `crate::wire::redis`.
//!
//! Redis never slows the node: every command has a time limit, and the
//! frames come from a bounded client queue of the agent's hub, whose
//! overflow is counted like any client's. While Redis cannot be reached,
//! frames are dropped; viewers see the gap in the sequence numbers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};

use crate::wire::redis::{
    check_url, containers_key, frame_bytes, hello_key, stream_key, FIELD, MAXLEN, NODES,
};
use crate::wire::{pb, Body};

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
    /// The run's hello frame, written again after a reconnect.
    hello: Option<Vec<u8>>,
    /// The node's containers now (cgroup id -> frame), likewise.
    containers: HashMap<u64, Vec<u8>>,
    /// Frames dropped because Redis could not be reached.
    pub dropped: u64,
    retry_at: Instant,
    backoff: Duration,
}

impl Publisher {
    /// Connects; a first failure is an error (the address is likely wrong).
    pub fn connect(url: &str, node: &str) -> Result<Self> {
        let client = check_url(url).map_err(|e| anyhow!("--publish {e}"))?;
        let mut p = Publisher {
            client,
            url: url.to_string(),
            con: None,
            node: node.to_string(),
            stream: stream_key(node),
            hello: None,
            containers: HashMap::new(),
            dropped: 0,
            retry_at: Instant::now(),
            backoff: Duration::from_millis(100),
        };
        p.reconnect()
            .with_context(|| format!("--publish {url}: cannot reach Redis"))?;
        Ok(p)
    }

    /// A new connection, with the node listed and its current state written.
    fn reconnect(&mut self) -> Result<()> {
        self.con = None;
        let mut con = self.client.get_connection_with_timeout(IO_LIMIT)?;
        con.set_read_timeout(Some(IO_LIMIT))?;
        con.set_write_timeout(Some(IO_LIMIT))?;
        let ckey = containers_key(&self.node);
        let mut p = redis::pipe();
        p.del(&ckey).ignore();
        for (id, c) in &self.containers {
            p.hset(&ckey, id, c).ignore();
        }
        if let Some(h) = &self.hello {
            p.set(hello_key(&self.node), h).ignore();
            p.sadd(NODES, &self.node).ignore();
        }
        p.query::<()>(&mut con)?;
        self.con = Some(con);
        self.backoff = Duration::from_millis(100);
        Ok(())
    }

    /// Publishes frames in one round trip. False when they could not be
    /// (Redis away: they are counted as dropped).
    pub fn publish(&mut self, frames: &[pb::Frame]) -> bool {
        if frames.is_empty() {
            return true;
        }
        let mut p = redis::pipe();
        let ckey = containers_key(&self.node);
        for f in frames {
            let bytes = frame_bytes(f);
            match &f.body {
                // Listed once its hello can be read (viewers need the arch).
                Some(Body::Hello(_)) => {
                    p.set(hello_key(&self.node), &bytes).ignore();
                    p.sadd(NODES, &self.node).ignore();
                    self.hello = Some(bytes.clone());
                }
                Some(Body::ContainerAdd(c)) => {
                    p.hset(&ckey, c.cgroup_id, &bytes).ignore();
                    self.containers.insert(c.cgroup_id, bytes.clone());
                }
                Some(Body::ContainerDel(c)) => {
                    p.hdel(&ckey, c.cgroup_id).ignore();
                    self.containers.remove(&c.cgroup_id);
                }
                _ => {}
            }
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
        // A connection Redis closed shows only when used: one new
        // connection and one more try before anything is dropped.
        for attempt in 0..2 {
            if !self.connected() {
                break;
            }
            let con = self.con.as_mut().expect("connected");
            match p.query::<()>(con) {
                Ok(()) => return true,
                Err(e) => {
                    self.con = None;
                    if attempt == 1 {
                        crate::say!("systrace-tui: --publish {}: {e}; retrying", self.url);
                        self.retry_at = Instant::now() + self.backoff;
                    }
                }
            }
        }
        self.dropped += frames.len() as u64;
        false
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
            Ok(()) => true,
            Err(_) => {
                self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                self.retry_at = Instant::now() + self.backoff;
                false
            }
        }
    }
}

/// The publisher as a consumer: frames from `next` (a frame, nothing within
/// the wait, or the end) until the end or `stop`. Frames that come
/// together go in one round trip.
pub fn run(
    mut publisher: Publisher,
    mut next: impl FnMut(Duration) -> Result<Option<pb::Frame>, ()>,
    stop: &dyn Fn() -> bool,
) {
    let mut frames = Vec::new();
    while !stop() {
        match next(Duration::from_millis(100)) {
            Ok(Some(f)) => {
                frames.push(f);
                while frames.len() < 64 {
                    match next(Duration::ZERO) {
                        Ok(Some(f)) => frames.push(f),
                        _ => break,
                    }
                }
                publisher.publish(&frames);
                frames.clear();
            }
            Ok(None) => {}
            Err(()) => break,
        }
    }
}
