//! The agent's wire format: the messages of `proto/systrace.proto`
//! (generated with prost, the service with tonic) and their conversion to
//! and from the model's events. Everything decoded here comes from the
//! network: it is checked as a ring-buffer record from the kernel is, and a
//! bad message is an error, never a panic.

use std::sync::Arc;

use thiserror::Error;

use crate::model::container::{
    ContainerAddEvent, ContainerDelEvent, ContainerInfo, PodInfo, Runtime,
};
use crate::model::event::{LostEvents, Namespaces, TraceEvent};
use crate::model::identity::{intern, Identity};
use crate::model::raw::{Chunks, COMM_LEN};
use crate::model::syscalls::Arch;

/// The generated messages and service.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("systrace.v1");
}

pub mod redis;

pub use pb::frame::Body;

/// What is wrong with a message from the network.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum WireError {
    #[error("undecodable message: {0}")]
    Decode(String),
    #[error("unknown architecture {0:?}")]
    Arch(String),
    #[error("unknown container runtime {0:?}")]
    Runtime(String),
    #[error("event {index}: {what}")]
    Event { index: usize, what: String },
    #[error("a frame without a body")]
    Empty,
}

/// The arch's name on the wire.
pub fn arch_name(arch: Arch) -> &'static str {
    arch.name()
}

pub fn parse_arch(s: &str) -> Result<Arch, WireError> {
    Arch::ALL
        .into_iter()
        .find(|a| a.name() == s)
        .ok_or_else(|| WireError::Arch(s.to_string()))
}

/// Encodes syscalls into a batch (times as deltas, see the .proto).
pub fn encode_batch<'a>(events: impl IntoIterator<Item = &'a TraceEvent>) -> pb::Batch {
    let mut prev = 0u64;
    let events = events
        .into_iter()
        .map(|e| {
            let delta = e.start_ns.wrapping_sub(prev) as i64;
            prev = e.start_ns;
            encode_syscall(e, delta)
        })
        .collect();
    pb::Batch {
        events,
        columns: None,
    }
}

fn encode_syscall(e: &TraceEvent, start_delta: i64) -> pb::Syscall {
    pb::Syscall {
        start_delta,
        duration_ns: e.finish_ns.wrapping_sub(e.start_ns),
        args: e.args.to_vec(),
        ret: e.ret,
        cgroup_id: e.id.cgroup_id,
        context_sw: e.context_sw.into(),
        pid: e.id.pid,
        tid_delta: e.id.tid.wrapping_sub(e.id.pid) as i32,
        uid: e.id.uid,
        gid: e.id.gid,
        container_pid: e.id.container_pid,
        session: e.id.session,
        nr: e.nr,
        ns: Some(pb::Namespaces {
            pid: e.id.ns.pid,
            mnt: e.id.ns.mnt,
            uts: e.id.ns.uts,
            ipc: e.id.ns.ipc,
            cgroup: e.id.ns.cgroup,
            net: e.id.ns.net,
        }),
        flags: e.flags as u32,
        comm: e.comm_bytes().to_vec(),
        tail: e.tail.as_deref().map(<[u8]>::to_vec).unwrap_or_default(),
    }
}

/// Decodes a batch from node `node` (a `model::node` number) whose events
/// read in `arch`'s numbering. Checks what the kernel's records are checked
/// for: sizes, and a well-formed tail of captured chunks.
pub fn decode_batch(b: pb::Batch, arch: Arch, node: u16) -> Result<Vec<TraceEvent>, WireError> {
    let mut prev = 0u64;
    let mut out = Vec::with_capacity(batch_len(&b));
    for (index, s) in b.events.into_iter().enumerate() {
        let bad = |what: String| WireError::Event { index, what };
        if s.args.len() > 6 {
            return Err(bad(format!("{} arguments, at most 6", s.args.len())));
        }
        let comm = check_comm(&s.comm).map_err(bad)?;
        let flags = check_flags(s.flags).map_err(bad)?;
        check_tail(&s.tail).map_err(bad)?;
        let start_ns = prev.wrapping_add(s.start_delta as u64);
        prev = start_ns;
        let mut args = [0u64; 6];
        args[..s.args.len()].copy_from_slice(&s.args);
        out.push(TraceEvent {
            start_ns,
            finish_ns: start_ns.saturating_add(s.duration_ns),
            args,
            ret: s.ret,
            // A node's events of one thread share its identity, as local
            // ones do.
            id: intern(Identity {
                cgroup_id: s.cgroup_id,
                pid: s.pid,
                tid: s.pid.wrapping_add(s.tid_delta as u32),
                uid: s.uid,
                gid: s.gid,
                container_pid: s.container_pid,
                session: s.session,
                ns: namespaces(s.ns.unwrap_or_default()),
                comm,
            }),
            tail: (!s.tail.is_empty()).then(|| s.tail.into()),
            // The kernel counts in 32 bits; a larger count is no real one.
            context_sw: s.context_sw.min(u32::MAX as u64) as u32,
            nr: s.nr,
            flags,
            node,
            arch,
        });
    }
    if let Some(c) = b.columns {
        decode_columns(c, arch, node, &mut out)?;
    }
    Ok(out)
}

/// Events a batch holds, in either form.
pub fn batch_len(b: &pb::Batch) -> usize {
    b.events.len() + b.columns.as_ref().map_or(0, |c| c.ident.len())
}

fn encode_ident(id: &Identity) -> pb::Ident {
    pb::Ident {
        cgroup_id: id.cgroup_id,
        pid: id.pid,
        tid_delta: id.tid.wrapping_sub(id.pid) as i32,
        uid: id.uid,
        gid: id.gid,
        container_pid: id.container_pid,
        session: id.session,
        ns: Some(pb::Namespaces {
            pid: id.ns.pid,
            mnt: id.ns.mnt,
            uts: id.ns.uts,
            ipc: id.ns.ipc,
            cgroup: id.ns.cgroup,
            net: id.ns.net,
        }),
        comm: {
            let n = id.comm.iter().position(|&b| b == 0).unwrap_or(COMM_LEN);
            id.comm[..n].to_vec()
        },
    }
}

/// A column that is empty when all of it is 0 (see the .proto).
fn zero_when_empty<T: Default + PartialEq>(v: &mut Vec<T>) {
    if v.iter().all(|x| *x == T::default()) {
        v.clear();
    }
}

/// Encodes syscalls into a batch of columns (see `Columns` in the .proto).
pub fn encode_columns<'a>(events: impl IntoIterator<Item = &'a TraceEvent>) -> pb::Batch {
    let events = events.into_iter();
    let mut c = pb::Columns::default();
    let n = events.size_hint().0;
    for v in [
        &mut c.ident,
        &mut c.nr,
        &mut c.args_changed,
        &mut c.context_sw,
        &mut c.flags,
        &mut c.tail_len,
    ] {
        v.reserve(n);
    }
    c.start_delta.reserve(n);
    c.duration_ns.reserve(n);
    c.ret_delta.reserve(n);
    // Events of one identity share an Arc (capture and intern hand out
    // one): its address finds it. Equal identities behind two Arcs are
    // only sent twice.
    let mut table: std::collections::HashMap<*const Identity, u32> = Default::default();
    let mut last: Option<(*const Identity, u32)> = None;
    let (mut prev_start, mut prev_ret, mut prev_args) = (0u64, 0i64, [0u64; 6]);
    for e in events {
        let key = Arc::as_ptr(&e.id);
        let idx = match last {
            Some((k, i)) if k == key => i,
            _ => {
                let i = *table.entry(key).or_insert_with(|| {
                    c.idents.push(encode_ident(&e.id));
                    c.idents.len() as u32 - 1
                });
                last = Some((key, i));
                i
            }
        };
        c.ident.push(idx);
        c.start_delta
            .push(e.start_ns.wrapping_sub(prev_start) as i64);
        prev_start = e.start_ns;
        c.duration_ns.push(e.finish_ns.wrapping_sub(e.start_ns));
        c.nr.push(e.nr);
        c.ret_delta.push(e.ret.wrapping_sub(prev_ret));
        prev_ret = e.ret;
        let mut mask = 0u32;
        for (i, (&a, p)) in e.args.iter().zip(prev_args.iter_mut()).enumerate() {
            if a != *p {
                mask |= 1 << i;
                c.args.push(a.wrapping_sub(*p) as i64);
                *p = a;
            }
        }
        c.args_changed.push(mask);
        c.context_sw.push(e.context_sw);
        c.flags.push(e.flags as u32);
        let tail = e.tail.as_deref().unwrap_or_default();
        c.tail_len.push(tail.len() as u32);
        c.tails.extend_from_slice(tail);
    }
    zero_when_empty(&mut c.ret_delta);
    zero_when_empty(&mut c.args_changed);
    zero_when_empty(&mut c.context_sw);
    zero_when_empty(&mut c.flags);
    zero_when_empty(&mut c.tail_len);
    pb::Batch {
        events: Vec::new(),
        columns: Some(c),
    }
}

fn check_comm(comm: &[u8]) -> Result<[u8; COMM_LEN], String> {
    if comm.len() > COMM_LEN {
        return Err(format!("comm is {} bytes, at most {COMM_LEN}", comm.len()));
    }
    // A name ends at its first NUL, as the kernel's does: bytes after one
    // would be kept here but never sent on (nor shown).
    let name = comm.split(|&b| b == 0).next().unwrap_or_default();
    let mut out = [0u8; COMM_LEN];
    out[..name.len()].copy_from_slice(name);
    Ok(out)
}

fn check_flags(flags: u32) -> Result<u16, String> {
    u16::try_from(flags).map_err(|_| format!("flags {flags:#x} out of range"))
}

fn check_tail(tail: &[u8]) -> Result<(), String> {
    if tail.len() > u16::MAX as usize {
        return Err(format!("captured data is {} bytes", tail.len()));
    }
    if let Some(Err(e)) = Chunks::new(tail).find(Result::is_err) {
        return Err(format!("captured data: {e}"));
    }
    Ok(())
}

fn namespaces(ns: pb::Namespaces) -> Namespaces {
    Namespaces {
        pid: ns.pid,
        mnt: ns.mnt,
        uts: ns.uts,
        ipc: ns.ipc,
        cgroup: ns.cgroup,
        net: ns.net,
    }
}

fn decode_ident(i: pb::Ident) -> Result<Arc<Identity>, String> {
    Ok(intern(Identity {
        cgroup_id: i.cgroup_id,
        pid: i.pid,
        tid: i.pid.wrapping_add(i.tid_delta as u32),
        uid: i.uid,
        gid: i.gid,
        container_pid: i.container_pid,
        session: i.session,
        ns: namespaces(i.ns.unwrap_or_default()),
        comm: check_comm(&i.comm)?,
    }))
}

/// The column form of [`decode_batch`]: every column is checked against
/// the event count before any event is made.
fn decode_columns(
    c: pb::Columns,
    arch: Arch,
    node: u16,
    out: &mut Vec<TraceEvent>,
) -> Result<(), WireError> {
    let base = out.len();
    let n = c.ident.len();
    let col = |what: &str, len: usize, zero_ok: bool| {
        if len == n || (zero_ok && len == 0) {
            Ok(())
        } else {
            Err(WireError::Decode(format!(
                "column {what} has {len} entries for {n} events"
            )))
        }
    };
    col("start_delta", c.start_delta.len(), false)?;
    col("duration_ns", c.duration_ns.len(), false)?;
    col("nr", c.nr.len(), false)?;
    col("ret_delta", c.ret_delta.len(), true)?;
    col("args_changed", c.args_changed.len(), true)?;
    col("context_sw", c.context_sw.len(), true)?;
    col("flags", c.flags.len(), true)?;
    col("tail_len", c.tail_len.len(), true)?;
    let ids = c
        .idents
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            decode_ident(id).map_err(|what| WireError::Decode(format!("identity {i}: {what}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let at = |v: &[u32], i: usize| v.get(i).copied().unwrap_or(0);
    let (mut start, mut ret, mut args) = (0u64, 0i64, [0u64; 6]);
    let (mut next_arg, mut next_tail) = (0usize, 0usize);
    out.reserve(n);
    for i in 0..n {
        let index = base + i;
        let bad = |what: String| WireError::Event { index, what };
        let id = ids.get(c.ident[i] as usize).ok_or_else(|| {
            bad(format!(
                "identity {} of a batch with {}",
                c.ident[i],
                ids.len()
            ))
        })?;
        let mask = at(&c.args_changed, i);
        if mask >= 1 << 6 {
            return Err(bad(format!("argument mask {mask:#x}: 6 arguments")));
        }
        for (j, a) in args.iter_mut().enumerate() {
            if mask & (1 << j) != 0 {
                let d = c
                    .args
                    .get(next_arg)
                    .ok_or_else(|| bad("more changed arguments than sent".into()))?;
                *a = a.wrapping_add(*d as u64);
                next_arg += 1;
            }
        }
        let flags = check_flags(at(&c.flags, i)).map_err(bad)?;
        let tlen = at(&c.tail_len, i) as usize;
        let tail = c
            .tails
            .get(next_tail..next_tail.saturating_add(tlen))
            .ok_or_else(|| bad(format!("captured data of {tlen} bytes past the batch's")))?;
        check_tail(tail).map_err(bad)?;
        next_tail += tlen;
        start = start.wrapping_add(c.start_delta[i] as u64);
        ret = ret.wrapping_add(c.ret_delta.get(i).copied().unwrap_or(0));
        out.push(TraceEvent {
            start_ns: start,
            finish_ns: start.saturating_add(c.duration_ns[i]),
            args,
            ret,
            id: id.clone(),
            tail: (!tail.is_empty()).then(|| tail.into()),
            context_sw: at(&c.context_sw, i),
            nr: c.nr[i],
            flags,
            node,
            arch,
        });
    }
    if next_arg != c.args.len() {
        return Err(WireError::Decode(format!(
            "{} changed arguments sent, {next_arg} used",
            c.args.len()
        )));
    }
    if next_tail != c.tails.len() {
        return Err(WireError::Decode(format!(
            "{} bytes of captured data sent, {next_tail} used",
            c.tails.len()
        )));
    }
    Ok(())
}

pub fn encode_container(cgroup_id: u64, c: &ContainerInfo) -> pb::Container {
    pb::Container {
        cgroup_id,
        id: c.id.clone(),
        runtime: c.runtime.as_str().to_string(),
        name: c.name.clone(),
        image: c.image.clone(),
        pod: c.pod.as_ref().map(|p| pb::Pod {
            name: p.name.clone(),
            namespace: p.namespace.clone(),
            uid: p.uid.clone(),
            id: p.id.clone(),
        }),
        sandbox: c.sandbox,
        nested_node: c.node.clone(),
        service: c.service.clone(),
        resolved: c.resolved,
    }
}

/// A container from the network. Its id is shown (short) when it has no
/// name, and `short_id` cuts it by bytes: it must be ASCII.
pub fn decode_container(c: pb::Container) -> Result<(u64, ContainerInfo), WireError> {
    let runtime = Runtime::ALL
        .into_iter()
        .find(|r| r.as_str() == c.runtime)
        .ok_or_else(|| WireError::Runtime(c.runtime.clone()))?;
    if c.id.is_empty() || !c.id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(WireError::Decode(format!("container id {:?}", c.id)));
    }
    // Names are shown as they are: escaped here, as the topology escapes
    // what runtimes say.
    let esc = |s: Option<String>| s.map(|s| crate::model::escape::plain_str(&s, 256));
    let mut info = ContainerInfo::new(&c.id, runtime);
    info.name = esc(c.name);
    info.image = esc(c.image);
    info.pod = c.pod.map(|p| PodInfo {
        name: esc(p.name),
        namespace: esc(p.namespace),
        uid: esc(p.uid),
        id: esc(p.id),
    });
    info.sandbox = c.sandbox;
    info.node = esc(c.nested_node);
    info.service = esc(c.service);
    info.resolved = c.resolved;
    Ok((c.cgroup_id, info))
}

pub fn container_add(ev: &ContainerAddEvent) -> pb::Container {
    encode_container(ev.cgroup_id, &ev.container)
}

pub fn container_del(ev: &ContainerDelEvent) -> pb::Container {
    encode_container(ev.cgroup_id, &ev.container)
}

/// Lost counts for one client: the node's (kernel, capture) and its own
/// queue's overflow.
pub fn encode_lost(node: LostEvents, client: u64) -> pb::Lost {
    pb::Lost {
        kernel: node.kernel,
        channel: node.channel,
        client,
    }
}

/// The client's view: its own queue's drops count as user-space loss.
pub fn decode_lost(l: &pb::Lost) -> LostEvents {
    LostEvents {
        kernel: l.kernel,
        channel: l.channel.saturating_add(l.client),
    }
}

/// A frame, decoded and checked: what a client acts on.
#[derive(Debug)]
pub enum Decoded {
    Hello {
        arch: Arch,
        boot_unix_ns: i64,
        gap: u64,
    },
    Batch(Vec<TraceEvent>),
    ContainerAdd(ContainerAddEvent),
    ContainerDel(ContainerDelEvent),
    Lost(pb::Lost),
}

/// Checks one frame's body. `arch` is the node's, from its hello.
pub fn decode_body(body: Option<Body>, arch: Arch, node: u16) -> Result<Decoded, WireError> {
    Ok(match body.ok_or(WireError::Empty)? {
        Body::Hello(h) => Decoded::Hello {
            arch: parse_arch(&h.arch)?,
            boot_unix_ns: h.boot_unix_ns,
            gap: h.gap,
        },
        Body::Batch(b) => Decoded::Batch(decode_batch(b, arch, node)?),
        Body::ContainerAdd(c) => {
            let (cgroup_id, c) = decode_container(c)?;
            Decoded::ContainerAdd(ContainerAddEvent {
                cgroup_id,
                container: Arc::new(c),
            })
        }
        Body::ContainerDel(c) => {
            let (cgroup_id, c) = decode_container(c)?;
            Decoded::ContainerDel(ContainerDelEvent {
                cgroup_id,
                container: Arc::new(c),
            })
        }
        Body::Lost(l) => Decoded::Lost(l),
    })
}

/// Decodes a frame from bytes (what the fuzz target drives).
pub fn decode_frame(bytes: &[u8]) -> Result<(pb::Frame, Option<Decoded>), WireError> {
    use prost::Message;
    let mut f = pb::Frame::decode(bytes).map_err(|e| WireError::Decode(e.to_string()))?;
    let body = f.body.take();
    let d = decode_body(body, Arch::native(), crate::model::node::LOCAL).ok();
    Ok((f, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::EventBuilder;
    use prost::Message;

    fn event(start: u64, pid: u32, tid: u32) -> TraceEvent {
        EventBuilder::named("openat")
            .ret(-2)
            .start(start)
            .duration(700)
            .pid(pid)
            .tid(tid)
            .cgroup(4242)
            .args(&[1, 2, 3, 4, 5, u64::MAX])
            .comm("cat")
            .path(1, b"/etc/\xffpasswd")
            .build()
    }

    #[test]
    fn batches_round_trip_exactly_through_bytes() {
        // Finish order: the second started earlier (a negative delta).
        let evs = vec![
            event(5_000, 10, 12),
            event(4_000, 10, 9),
            event(9_000_000, 7, 7),
        ];
        let bytes = encode_batch(&evs).encode_to_vec();
        let back = decode_batch(pb::Batch::decode(&bytes[..]).unwrap(), Arch::X86_64, 0).unwrap();
        assert_eq!(back, evs);
        let node = crate::model::node::intern("wire-test").unwrap();
        let back =
            decode_batch(pb::Batch::decode(&bytes[..]).unwrap(), Arch::X86_64, node).unwrap();
        assert!(back.iter().all(|e| e.node == node));
    }

    #[test]
    fn bad_events_are_errors() {
        let mut b = encode_batch(&[event(1, 1, 1)]);
        b.events[0].tail = vec![1, 2, 3];
        assert!(matches!(
            decode_batch(b, Arch::X86_64, 0),
            Err(WireError::Event { index: 0, .. })
        ));
        let mut b = encode_batch(&[event(1, 1, 1)]);
        b.events[0].comm = vec![b'a'; 17];
        assert!(decode_batch(b, Arch::X86_64, 0).is_err());
        let mut b = encode_batch(&[event(1, 1, 1)]);
        b.events[0].args = vec![0; 7];
        assert!(decode_batch(b, Arch::X86_64, 0).is_err());
        assert_eq!(
            decode_body(None, Arch::X86_64, 0).unwrap_err(),
            WireError::Empty
        );
        assert!(decode_frame(&[0xff, 0xff, 0xff]).is_err());
    }

    /// A thread's storm, another thread between, a call with captured
    /// data, a non-returning one: every field the column form codes.
    fn mixed() -> Vec<TraceEvent> {
        let storm = |start: u64, tid: u32| {
            EventBuilder::named("getppid")
                .ret(4000)
                .start(start)
                .duration(300 + start % 7)
                .pid(4001)
                .tid(tid)
                .cgroup(99)
                .args(&[0x7ffd_0000_1000, 3, 0, 0, 0, 0])
                .comm("workload")
                .build()
        };
        let mut v: Vec<TraceEvent> = (0..5).map(|i| storm(1_000 + i * 500, 4001)).collect();
        v.push(event(3_000, 10, 12));
        v.push(storm(4_000, 4002));
        v.push(storm(3_900, 4001));
        let mut odd = event(9_000_000, 7, 7);
        odd.flags = 0x8001;
        odd.context_sw = 3;
        odd.ret = i64::MIN;
        odd.args = [u64::MAX, 0, 1, u64::MAX, 5, 6];
        v.push(odd);
        v
    }

    #[test]
    fn column_batches_round_trip_and_say_each_identity_once() {
        let evs = mixed();
        let b = encode_columns(&evs);
        let c = b.columns.as_ref().unwrap();
        // Three threads of two processes and one more: four identities.
        assert_eq!(c.idents.len(), 4);
        assert_eq!(batch_len(&b), evs.len());
        let bytes = b.encode_to_vec();
        let back = decode_batch(pb::Batch::decode(&bytes[..]).unwrap(), Arch::X86_64, 0).unwrap();
        assert_eq!(back, evs);
        // Both forms in one batch: events first, then columns.
        let mut both = encode_batch(&evs[..2]);
        both.columns = encode_columns(&evs[2..]).columns;
        assert_eq!(decode_batch(both, Arch::X86_64, 0).unwrap(), evs);
        assert_eq!(
            decode_batch(encode_columns([]), Arch::X86_64, 0).unwrap(),
            vec![]
        );
    }

    #[test]
    fn a_storm_costs_a_few_bytes_an_event_as_columns() {
        let evs: Vec<TraceEvent> = (0..1000u64)
            .map(|i| {
                EventBuilder::named("getppid")
                    .ret(4000)
                    .start(1_000_000 + i * 350 + i % 13)
                    .duration(200 + i % 90)
                    .pid(4001)
                    .comm("workload")
                    .build()
            })
            .collect();
        let cols = encode_columns(&evs).encoded_len();
        let events = encode_batch(&evs).encoded_len();
        assert!(cols < 10 * evs.len(), "{cols} bytes");
        assert!(cols * 4 < events, "{cols} vs {events}");
    }

    #[test]
    fn bad_column_batches_are_errors() {
        let evs = mixed();
        let cols = || encode_columns(&evs).columns.unwrap();
        let dec = |c: pb::Columns| {
            decode_batch(
                pb::Batch {
                    events: Vec::new(),
                    columns: Some(c),
                },
                Arch::X86_64,
                0,
            )
        };
        let err = |c: pb::Columns| dec(c).unwrap_err().to_string();
        let mut c = cols();
        c.ident[2] = 4;
        assert_eq!(err(c), "event 2: identity 4 of a batch with 4");
        let mut c = cols();
        c.ident[0] = u32::MAX;
        assert!(err(c).starts_with("event 0: identity 4294967295"));
        let mut c = cols();
        c.nr.pop();
        assert_eq!(
            err(c),
            "undecodable message: column nr has 8 entries for 9 events"
        );
        let mut c = cols();
        c.flags[0] = 1;
        c.flags.pop();
        assert!(err(c).contains("column flags"));
        let mut c = cols();
        c.args.pop();
        assert!(dec(c).is_err());
        let mut c = cols();
        c.args.push(1);
        assert!(err(c).contains("changed arguments"));
        let mut c = cols();
        c.args_changed[1] = 1 << 6;
        assert!(err(c).starts_with("event 1: argument mask"));
        let mut c = cols();
        c.tails.push(0);
        assert!(err(c).contains("bytes of captured data"));
        let mut c = cols();
        c.tail_len[0] = 40;
        assert!(dec(c).is_err());
        let mut c = cols();
        c.tails = vec![1, 2, 3];
        c.tail_len = vec![0; 9];
        c.tail_len[5] = 3;
        assert!(err(c).starts_with("event 5: captured data:"));
        let mut c = cols();
        c.flags = vec![0; 9];
        c.flags[3] = 1 << 16;
        assert!(err(c).starts_with("event 3: flags"));
        let mut c = cols();
        c.idents[1].comm = vec![b'a'; 17];
        assert!(err(c).starts_with("undecodable message: identity 1: comm is 17 bytes"));
    }

    #[test]
    fn containers_round_trip() {
        let mut c = ContainerInfo::new(&"ab".repeat(32), Runtime::ContainerdCri);
        c.name = Some("app".into());
        c.pod = Some(PodInfo {
            name: Some("web-1".into()),
            namespace: Some("shop".into()),
            ..Default::default()
        });
        c.resolved = true;
        let (cg, back) = decode_container(encode_container(77, &c)).unwrap();
        assert_eq!((cg, back), (77, c.clone()));
        let mut hostile = c.clone();
        hostile.name = Some("ev\x1b]0;pwn\x07".into());
        let (_, back) = decode_container(encode_container(1, &hostile)).unwrap();
        assert!(crate::model::escape::is_safe(back.name.as_deref().unwrap()));
        let mut bad = encode_container(1, &ContainerInfo::new("x", Runtime::Docker));
        bad.runtime = "lxc".into();
        assert!(decode_container(bad).is_err());
    }
}

#[cfg(test)]
mod corpus {
    use super::*;
    use prost::Message;

    /// Writes the fuzz corpus seeds (`WIRE_CORPUS=dir cargo test --lib
    /// wire::corpus`); without the variable it only checks they decode.
    #[test]
    fn seeds_decode() {
        let ev = crate::model::testing::EventBuilder::new()
            .nr(110)
            .arch(Arch::native())
            .pid(9)
            .start(1_000)
            .duration(500)
            .comm("work")
            .build();
        let frame = |body| pb::Frame {
            node: "seed".into(),
            run: 1,
            seq: 2,
            body: Some(body),
        };
        let seeds = [
            (
                "hello",
                frame(Body::Hello(pb::Hello {
                    arch: arch_name(Arch::native()).into(),
                    boot_unix_ns: 1,
                    version: "0".into(),
                    gap: 0,
                })),
            ),
            ("batch", frame(Body::Batch(encode_batch([&ev, &ev])))),
            ("columns", frame(Body::Batch(encode_columns([&ev, &ev])))),
            (
                "lost",
                frame(Body::Lost(encode_lost(LostEvents::default(), 3))),
            ),
            (
                "container",
                frame(Body::ContainerAdd(encode_container(
                    5,
                    &ContainerInfo::new(&"ab".repeat(32), Runtime::Podman),
                ))),
            ),
        ];
        for (name, f) in seeds {
            let bytes = f.encode_to_vec();
            assert!(decode_frame(&bytes).unwrap().1.is_some(), "{name}");
            if let Ok(dir) = std::env::var("WIRE_CORPUS") {
                std::fs::write(std::path::Path::new(&dir).join(name), &bytes).unwrap();
            }
        }
    }
}

#[cfg(test)]
mod fuzz_found {
    use super::*;

    /// Found by the `wire` fuzz target: a command name with bytes after a
    /// NUL decoded into an event that did not encode back to itself.
    #[test]
    fn a_name_ends_at_its_first_nul() {
        let data: &[u8] = &[
            10, 4, 115, 101, 101, 100, 16, 1, 24, 2, 42, 55, 10, 27, 8, 208, 15, 16, 244, 3, 26, 6,
            0, 0, 0, 0, 0, 0, 56, 9, 104, 110, 114, 0, 130, 1, 4, 119, 111, 114, 107, 10, 24, 16,
            244, 3, 26, 6, 0, 0, 0, 0, 0, 0, 56, 9, 104, 110, 114, 0, 130, 1, 4, 0, 67, 114, 107,
        ];
        if let Ok((_frame, Some(Decoded::Batch(evs)))) = decode_frame(data) {
            for ev in &evs {
                let line = crate::model::args::strace_line(ev);
                assert!(crate::model::escape::is_safe(&line), "{line:?}");
                assert!(crate::model::escape::is_safe(&ev.comm()));
            }
            let again = decode_batch(encode_batch(&evs), Arch::native(), 0).unwrap();
            assert_eq!(again, evs);
            let again = decode_batch(encode_columns(&evs), Arch::native(), 0).unwrap();
            assert_eq!(again, evs);
        }
    }
}
