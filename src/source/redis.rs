//! `--source redis://HOST:PORT`: every node's frames that `--publish` put
//! on Redis Streams (layout in `crate::wire::redis`), read as one source.
//! Nodes that start publishing later are picked up as they appear.
//!
//! Where a viewer starts and resumes:
//! - without `--viewer`, at the streams' ends when it starts; after a lost
//!   connection it goes on after the last entry it read (stream IDs held
//!   here);
//! - with `--viewer NAME`, as Redis consumer group NAME on each stream: a
//!   new NAME starts at the ends, and a viewer started again with the same
//!   NAME goes on after the last entry it passed on (entries are
//!   acknowledged once handed to the pipeline; those read but not handed
//!   on are read again). Viewers with different names each see
//!   everything.
//!
//! A frame that does not decode is skipped and counted (it came from the
//! network). Events a viewer did not get (the publisher's drops while Redis
//! was away, entries trimmed before they were read) are counted as lost
//! from the frames' sequence numbers.

use std::collections::HashSet;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use crossbeam_channel::{Receiver, SendTimeoutError, Sender};
use prost::Message;
use redis::Value;

use crate::clock::Clock;
use crate::model::event::{Event, LostEvents};
use crate::model::node;
use crate::model::stop::Stop;
use crate::model::syscalls::Arch;
use crate::source::remote::remap_cgroup;
use crate::wire::redis::{check_url, containers_key, hello_key, stream_key, FIELD, NODES};
use crate::wire::{self, pb, Body, Decoded};

const IO_LIMIT: Duration = Duration::from_secs(2);
/// How long a read waits for new entries (the stop is looked at between).
const BLOCK_MS: u64 = 100;
/// Entries per stream per read.
const COUNT: usize = 16;
const BACKOFF_MAX: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct RedisOptions {
    pub url: String,
    /// A consumer group name: resume across restarts.
    pub viewer: Option<String>,
}

/// A running reader.
pub struct RedisFeed {
    pub events: Receiver<Vec<Event>>,
    clock: Clock,
    thread: JoinHandle<ReadEnd>,
}

/// How reading ended.
pub struct ReadEnd {
    pub lost: LostEvents,
    pub warnings: Vec<String>,
}

struct NodeState {
    name: String,
    key: String,
    no: u16,
    arch: Arch,
    /// The publisher's run and the sequence number of its last frame seen.
    seq: Option<(u64, u64)>,
    /// The node's own counts (kernel, capture), from its lost frames.
    lost: LostEvents,
    /// Events this viewer missed (sequence numbers skipped).
    gaps: u64,
    /// Without a group: the last entry read.
    pos: String,
    /// The node's clock to ours (ns), from its hello.
    shift: i64,
    /// With a group: own entries read before but not acknowledged come first.
    pending: bool,
    bad: u64,
}

struct Reader {
    client: redis::Client,
    url: String,
    viewer: Option<String>,
    con: Option<redis::Connection>,
    nodes: Vec<NodeState>,
    known: HashSet<String>,
    out: Sender<Vec<Event>>,
    stop: Stop,
    clock: Clock,
    warnings: Vec<String>,
    lost_sent: Option<LostEvents>,
}

impl RedisFeed {
    /// Checks the address and that Redis answers, then reads on a thread.
    /// Event times are moved to `clock` (this machine's).
    pub fn start(opts: RedisOptions, clock: Clock, stop: &Stop) -> Result<RedisFeed> {
        let client = check_url(&opts.url).map_err(|e| anyhow!("--source {e}"))?;
        if let Some(v) = &opts.viewer {
            if v.is_empty() || v.chars().any(|c| c.is_control() || c == ' ') {
                return Err(crate::model::flow::usage(format!(
                    "--viewer {v:?}: a name without spaces or control characters"
                )));
            }
        }
        let (tx, rx) = crossbeam_channel::bounded(64);
        let mut r = Reader {
            client,
            url: opts.url.clone(),
            viewer: opts.viewer,
            con: None,
            nodes: Vec::new(),
            known: HashSet::new(),
            out: tx,
            stop: stop.clone(),
            clock,
            warnings: Vec::new(),
            lost_sent: None,
        };
        r.connect()
            .with_context(|| format!("--source {}: cannot reach Redis", opts.url))?;
        let thread = std::thread::Builder::new()
            .name("redis".into())
            .spawn(move || r.run())?;
        Ok(RedisFeed {
            events: rx,
            clock,
            thread,
        })
    }

    pub fn finish(self) -> Result<ReadEnd> {
        drop(self.events);
        self.thread
            .join()
            .map_err(|_| anyhow!("the Redis reader panicked"))
    }
}

/// The entries of an XREAD/XREADGROUP reply: (stream key, [(id, frame bytes
/// or None when the entry is gone)]). Anything else in the reply is ignored.
type Entries = Vec<(String, Vec<(String, Option<Vec<u8>>)>)>;

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

fn parse_reply(v: Value) -> Entries {
    let streams = match v {
        Value::Array(a) => a,
        Value::Map(m) => m
            .into_iter()
            .map(|(k, v)| Value::Array(vec![k, v]))
            .collect(),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for s in streams {
        let Value::Array(kv) = s else { continue };
        let (Some(key), Some(Value::Array(items))) =
            (kv.first().and_then(text), kv.get(1).cloned())
        else {
            continue;
        };
        let mut entries = Vec::new();
        for item in items {
            let Value::Array(e) = item else { continue };
            let Some(id) = e.first().and_then(text) else {
                continue;
            };
            let frame = match e.get(1) {
                Some(Value::Array(fields)) => fields.chunks(2).find_map(|p| match p {
                    [k, Value::BulkString(b)] if text(k).as_deref() == Some(FIELD) => {
                        Some(b.clone())
                    }
                    _ => None,
                }),
                _ => None,
            };
            entries.push((id, frame));
        }
        out.push((key, entries));
    }
    out
}

impl Reader {
    fn connect(&mut self) -> Result<()> {
        self.con = None;
        let con = self.client.get_connection_with_timeout(IO_LIMIT)?;
        // A blocked read returns within BLOCK_MS; this only catches a
        // server that stopped answering.
        con.set_read_timeout(Some(IO_LIMIT + Duration::from_millis(BLOCK_MS)))?;
        con.set_write_timeout(Some(IO_LIMIT))?;
        self.con = Some(con);
        // Positions (groups) are set up again on the new connection.
        for n in &mut self.nodes {
            n.pending = true;
        }
        Ok(())
    }

    fn con(&mut self) -> &mut redis::Connection {
        self.con.as_mut().expect("connected")
    }

    fn run(mut self) -> ReadEnd {
        let mut backoff = Duration::from_millis(100);
        let mut refresh = Instant::now();
        // Said once per outage, not per attempt.
        let mut down = false;
        while !self.stop.is_raised() {
            if self.con.is_none() {
                if self.connect().is_err() {
                    std::thread::sleep(self.stop.wait(backoff));
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    continue;
                }
                refresh = Instant::now();
            }
            let step = if Instant::now() >= refresh {
                refresh = Instant::now() + Duration::from_secs(1);
                self.refresh_nodes().and_then(|()| self.read())
            } else {
                self.read()
            };
            match step {
                Ok(()) => {
                    backoff = Duration::from_millis(100);
                    if down {
                        crate::say!("systrace-tui: --source {}: connected again", self.url);
                        down = false;
                    }
                }
                Err(e) => {
                    if !down {
                        crate::say!("systrace-tui: --source {}: {e}; reconnecting", self.url);
                        down = true;
                    }
                    self.con = None;
                    std::thread::sleep(self.stop.wait(backoff));
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        let lost = self.lost_event();
        for n in &self.nodes {
            if n.bad > 0 {
                self.warnings.push(format!(
                    "node {}: {} entries on Redis did not decode and were skipped",
                    crate::model::escape::plain(n.name.as_bytes(), 64),
                    n.bad
                ));
            }
        }
        ReadEnd {
            lost,
            warnings: self.warnings,
        }
    }

    /// Nodes that started publishing, with their hello and containers.
    fn refresh_nodes(&mut self) -> redis::RedisResult<()> {
        let names: Vec<String> = redis::cmd("SMEMBERS").arg(NODES).query(self.con())?;
        let mut names: Vec<String> = names
            .into_iter()
            .filter(|n| {
                !self.known.contains(n) && crate::wire::redis::node_of(&stream_key(n)).is_some()
            })
            .collect();
        names.sort();
        for name in names {
            self.add_node(name)?;
        }
        // After a reconnect: groups may be gone (Redis restarted).
        if let Some(v) = self.viewer.clone() {
            for i in 0..self.nodes.len() {
                if self.nodes[i].pending {
                    let key = self.nodes[i].key.clone();
                    self.create_group(&key, &v)?;
                }
            }
        }
        Ok(())
    }

    fn create_group(&mut self, key: &str, viewer: &str) -> redis::RedisResult<()> {
        let r: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(key)
            .arg(viewer)
            .arg("$")
            .arg("MKSTREAM")
            .query(self.con());
        match r {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            r => r,
        }
    }

    fn add_node(&mut self, name: String) -> redis::RedisResult<()> {
        let hello: Option<Vec<u8>> = redis::cmd("GET").arg(hello_key(&name)).query(self.con())?;
        // Listed before its hello is written: next time.
        let Some(hello) = hello else { return Ok(()) };
        let Ok(no) = node::intern(&name).ok_or(()) else {
            return Ok(());
        };
        let key = stream_key(&name);
        let mut st = NodeState {
            name: name.clone(),
            key: key.clone(),
            no,
            arch: Arch::native(),
            seq: None,
            lost: LostEvents::default(),
            gaps: 0,
            pos: "0-0".into(),
            shift: 0,
            pending: true,
            bad: 0,
        };
        // The position first, then what is current: what changes in
        // between comes again from the stream.
        match self.viewer.clone() {
            Some(v) => self.create_group(&key, &v)?,
            None => {
                let last: Value = redis::cmd("XREVRANGE")
                    .arg(&key)
                    .arg("+")
                    .arg("-")
                    .arg("COUNT")
                    .arg(1)
                    .query(self.con())?;
                if let Some((_, e)) = parse_reply(Value::Array(vec![Value::Array(vec![
                    Value::BulkString(key.clone().into_bytes()),
                    last,
                ])]))
                .into_iter()
                .next()
                {
                    if let Some((id, _)) = e.last() {
                        st.pos = id.clone();
                    }
                }
            }
        }
        crate::say!(
            "systrace-tui: node {}: reading its events from Redis",
            crate::model::escape::plain(name.as_bytes(), 64)
        );
        let mut events = Vec::new();
        self.frame(&mut st, &hello, &mut events, false);
        let cs: Vec<Vec<u8>> = redis::cmd("HVALS")
            .arg(containers_key(&name))
            .query(self.con())?;
        for c in cs {
            self.frame(&mut st, &c, &mut events, false);
        }
        self.known.insert(name);
        self.nodes.push(st);
        if !events.is_empty() {
            self.send(events);
        }
        Ok(())
    }

    /// One frame into events; a bad one is counted and skipped. Sequence
    /// numbers are followed only along the stream (`in_stream`): the
    /// current hello and containers are read from keys, as of any time.
    fn frame(&self, st: &mut NodeState, bytes: &[u8], out: &mut Vec<Event>, in_stream: bool) {
        let Ok(mut f) = pb::Frame::decode(bytes) else {
            st.bad += 1;
            return;
        };
        if let Some(Body::Hello(h)) = &f.body {
            match wire::parse_arch(&h.arch) {
                Ok(a) => {
                    st.arch = a;
                    st.shift = h.boot_unix_ns.wrapping_sub(self.clock.boot_unix_ns as i64);
                }
                Err(_) => {
                    st.bad += 1;
                    return;
                }
            }
            // A new run starts counting again; the same run's hello again
            // (the publisher reconnected) changes nothing.
            if in_stream && st.seq.map(|(run, _)| run) != Some(f.run) {
                st.seq = Some((f.run, f.seq));
            }
            return;
        }
        let body = f.body.take();
        let n_events = match &body {
            Some(Body::Batch(b)) => crate::wire::batch_len(b) as u64,
            _ => 0,
        };
        // As `remote` does: times on this machine's clock, cgroup ids
        // tagged with the node (other machines' ids collide).
        match wire::decode_body(body, st.arch, st.no) {
            Ok(Decoded::Batch(evs)) => out.extend(evs.into_iter().map(|mut e| {
                e.start_ns = (e.start_ns as i64).wrapping_add(st.shift) as u64;
                e.finish_ns = (e.finish_ns as i64).wrapping_add(st.shift) as u64;
                e.relabel_cgroup(remap_cgroup(st.no, e.id.cgroup_id));
                Event::Syscall(e)
            })),
            Ok(Decoded::ContainerAdd(mut c)) => {
                c.cgroup_id = remap_cgroup(st.no, c.cgroup_id);
                out.push(Event::ContainerAdd(c))
            }
            Ok(Decoded::ContainerDel(mut c)) => {
                c.cgroup_id = remap_cgroup(st.no, c.cgroup_id);
                out.push(Event::ContainerDel(c))
            }
            Ok(Decoded::Lost(l)) => {
                // The publisher's own drops show as skipped sequence numbers.
                st.lost = LostEvents {
                    kernel: l.kernel,
                    channel: l.channel,
                };
            }
            Ok(Decoded::Hello { .. }) => {}
            Err(_) => {
                st.bad += 1;
                return;
            }
        }
        if !in_stream {
            return;
        }
        match st.seq {
            Some((run, last)) if run == f.run => {
                let first = f.seq.saturating_sub(n_events);
                st.gaps += first.saturating_sub(last);
                st.seq = Some((run, f.seq.max(last)));
            }
            _ => st.seq = Some((f.run, f.seq)),
        }
    }

    /// Every node's counts together.
    fn lost_event(&self) -> LostEvents {
        let mut lost = LostEvents::default();
        for n in &self.nodes {
            lost.kernel += n.lost.kernel;
            lost.channel += n.lost.channel + n.gaps;
        }
        lost
    }

    /// Hands events on, waiting as long as the pipeline needs (Redis keeps
    /// what is not read yet). False at the stop.
    fn send(&self, mut batch: Vec<Event>) -> bool {
        loop {
            match self.out.send_timeout(batch, Duration::from_millis(100)) {
                Ok(()) => return true,
                Err(SendTimeoutError::Timeout(b)) if !self.stop.is_raised() => batch = b,
                Err(_) => return false,
            }
        }
    }

    fn read(&mut self) -> redis::RedisResult<()> {
        if self.nodes.is_empty() {
            std::thread::sleep(self.stop.wait(Duration::from_millis(BLOCK_MS)));
            return Ok(());
        }
        let mut cmd = match &self.viewer {
            Some(v) => {
                let mut c = redis::cmd("XREADGROUP");
                c.arg("GROUP").arg(v).arg("systrace-tui");
                c
            }
            None => redis::cmd("XREAD"),
        };
        let pending = self.viewer.is_some() && self.nodes.iter().any(|n| n.pending);
        cmd.arg("COUNT").arg(COUNT);
        // Own pending entries are there at once; new ones are waited for.
        if !pending {
            cmd.arg("BLOCK").arg(BLOCK_MS);
        }
        cmd.arg("STREAMS");
        for n in &self.nodes {
            cmd.arg(&n.key);
        }
        for n in &self.nodes {
            match &self.viewer {
                Some(_) if n.pending => cmd.arg("0"),
                Some(_) => cmd.arg(">"),
                None => cmd.arg(&n.pos),
            };
        }
        let reply: Value = cmd.query(self.con())?;
        let entries = parse_reply(reply);
        if pending {
            // A node whose pending list came back empty is done with it.
            for n in self.nodes.iter_mut().filter(|n| n.pending) {
                let got = entries.iter().any(|(k, e)| *k == n.key && !e.is_empty());
                if !got {
                    n.pending = false;
                }
            }
        }
        let mut events = Vec::new();
        let mut acks: Vec<(String, Vec<String>)> = Vec::new();
        for (key, es) in entries {
            let Some(i) = self.nodes.iter().position(|n| n.key == key) else {
                continue;
            };
            let mut st = std::mem::replace(&mut self.nodes[i], placeholder());
            let mut ids = Vec::new();
            for (id, frame) in es {
                // None: trimmed away while pending; its events show as a gap.
                if let Some(b) = frame {
                    self.frame(&mut st, &b, &mut events, true);
                }
                ids.push(id);
            }
            if let Some(last) = ids.last() {
                st.pos = last.clone();
            }
            self.nodes[i] = st;
            acks.push((key, ids));
        }
        let lost = self.lost_event();
        if Some(lost) != self.lost_sent {
            events.push(Event::Lost(lost));
            self.lost_sent = Some(lost);
        }
        if !events.is_empty() && !self.send(events) {
            // Stopped before the pipeline took them: not acknowledged, so a
            // viewer of the same name gets them again.
            return Ok(());
        }
        if let Some(v) = self.viewer.clone() {
            let mut p = redis::pipe();
            for (key, ids) in acks.iter().filter(|(_, ids)| !ids.is_empty()) {
                p.cmd("XACK").arg(key).arg(&v).arg(ids).ignore();
            }
            if !p.is_empty() {
                p.query::<()>(self.con())?;
            }
        }
        Ok(())
    }
}

fn placeholder() -> NodeState {
    NodeState {
        name: String::new(),
        key: String::new(),
        no: node::LOCAL,
        arch: Arch::native(),
        seq: None,
        lost: LostEvents::default(),
        gaps: 0,
        pos: String::new(),
        shift: 0,
        pending: false,
        bad: 0,
    }
}

impl super::Source for RedisFeed {
    fn events(&self) -> &Receiver<Vec<Event>> {
        &self.events
    }

    fn origin(&self) -> crate::model::flow::Origin {
        crate::model::flow::Origin::Live
    }

    fn banner(&self) -> &'static str {
        "reading from Redis"
    }

    fn clock(&self) -> Clock {
        self.clock
    }

    fn header(&self, filters: crate::session::format::Filters) -> crate::session::format::Header {
        crate::session::writer::live_header(self.clock, filters)
    }

    /// The reader looks at the run's stop between reads.
    fn stop(&mut self) -> Result<()> {
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<super::End> {
        let end = (*self).finish()?;
        Ok(super::End {
            lost: end.lost,
            warnings: end.warnings,
            ..Default::default()
        })
    }
}
