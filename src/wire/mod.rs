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
    pb::Batch { events }
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
    let mut out = Vec::with_capacity(b.events.len());
    for (index, s) in b.events.into_iter().enumerate() {
        let bad = |what: String| WireError::Event { index, what };
        if s.args.len() > 6 {
            return Err(bad(format!("{} arguments, at most 6", s.args.len())));
        }
        if s.comm.len() > COMM_LEN {
            return Err(bad(format!(
                "comm is {} bytes, at most {COMM_LEN}",
                s.comm.len()
            )));
        }
        if s.flags > u16::MAX as u32 {
            return Err(bad(format!("flags {:#x} out of range", s.flags)));
        }
        if s.tail.len() > u16::MAX as usize {
            return Err(bad(format!("captured data is {} bytes", s.tail.len())));
        }
        if let Some(Err(e)) = Chunks::new(&s.tail).find(Result::is_err) {
            return Err(bad(format!("captured data: {e}")));
        }
        let start_ns = prev.wrapping_add(s.start_delta as u64);
        prev = start_ns;
        let mut args = [0u64; 6];
        args[..s.args.len()].copy_from_slice(&s.args);
        // A name ends at its first NUL, as the kernel's does: bytes after
        // one would be kept here but never sent on (nor shown).
        let name = s.comm.split(|&b| b == 0).next().unwrap_or_default();
        let mut comm = [0u8; COMM_LEN];
        comm[..name.len()].copy_from_slice(name);
        let ns = s.ns.unwrap_or_default();
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
                ns: Namespaces {
                    pid: ns.pid,
                    mnt: ns.mnt,
                    uts: ns.uts,
                    ipc: ns.ipc,
                    cgroup: ns.cgroup,
                    net: ns.net,
                },
                comm,
            }),
            tail: (!s.tail.is_empty()).then(|| s.tail.into()),
            // The kernel counts in 32 bits; a larger count is no real one.
            context_sw: s.context_sw.min(u32::MAX as u64) as u32,
            nr: s.nr,
            flags: s.flags as u16,
            node,
            arch,
        });
    }
    Ok(out)
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
        }
    }
}
