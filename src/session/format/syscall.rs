//! The `syscall` line: written by hand, read back by a fast path or by
//! serde_json.

use std::borrow::Cow;

use serde::Deserialize;

use super::bytes::{kind_name, write_bytes, BytesIn, ChunkIn, KindIn};
use crate::model::event::{Namespaces, TraceEvent};
use crate::model::identity::{intern, Identity};
use crate::model::raw::{push_chunk_head, set_chunk_len, CHUNK_HEAD, COMM_LEN};
use crate::model::syscalls::Arch;
use crate::model::{errno, jsonw};
use crate::session::scan::Cursor;

/// Appends one `syscall` line (without its newline) to `out`. Field names
/// follow the seed's TraceEvent. Written by hand rather than through a
/// `Serialize` struct: this runs for every exported event, and building
/// the decoded `args` as a `serde_json::Value` dominated the cost.
/// `wall_time` is passed in so the caller can cache its formatting;
/// `container` is the container's JSON (`ContainerInfo`), serialized once
/// per container rather than once per event.
pub fn write_syscall(
    out: &mut Vec<u8>,
    ev: &TraceEvent,
    wall_time: &str,
    container: Option<&[u8]>,
) {
    out.extend_from_slice(br#"{"type":"syscall","syscall":{"nr":"#);
    jsonw::uint(out, ev.nr.into());
    out.extend_from_slice(br#","name":"#);
    jsonw::str(out, &ev.name());
    out.extend_from_slice(br#","class":"#);
    jsonw::str(out, ev.class().name());
    out.extend_from_slice(br#"},"pid":"#);
    jsonw::uint(out, ev.id.pid.into());
    out.extend_from_slice(br#","tid":"#);
    jsonw::uint(out, ev.id.tid.into());
    out.extend_from_slice(br#","container_pid":"#);
    jsonw::uint(out, ev.id.container_pid.into());
    out.extend_from_slice(br#","uid":"#);
    jsonw::uint(out, ev.id.uid.into());
    out.extend_from_slice(br#","gid":"#);
    jsonw::uint(out, ev.id.gid.into());
    out.extend_from_slice(br#","comm":"#);
    write_bytes(out, ev.comm_bytes());
    out.extend_from_slice(br#","session":"#);
    jsonw::uint(out, ev.id.session.into());
    out.extend_from_slice(br#","container":"#);
    out.extend_from_slice(container.unwrap_or(b"null"));
    out.extend_from_slice(br#","error":"#);
    match ev.errno() {
        Some(e) => jsonw::str(out, errno::name(e).unwrap_or("E?")),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(br#","return":"#);
    if ev.returns() {
        jsonw::int(out, ev.ret);
    } else {
        out.extend_from_slice(b"null");
    }
    let ns = &ev.id.ns;
    let fields: [(&[u8], u64); 10] = [
        (br#","pid_ns":"#, ns.pid.into()),
        (br#","uts_ns":"#, ns.uts.into()),
        (br#","mount_ns":"#, ns.mnt.into()),
        (br#","ipc_ns":"#, ns.ipc.into()),
        (br#","cgroup_ns":"#, ns.cgroup.into()),
        (br#","net_ns":"#, ns.net.into()),
        (br#","cgroup_id":"#, ev.id.cgroup_id),
        (br#","context_sw":"#, ev.context_sw.into()),
        (br#","start":"#, ev.start_ns),
        (br#","finish":"#, ev.finish_ns),
    ];
    for (key, v) in fields {
        out.extend_from_slice(key);
        jsonw::uint(out, v);
    }
    out.extend_from_slice(br#","wall_time":"#);
    jsonw::str(out, wall_time);
    out.extend_from_slice(br#","args":"#);
    crate::model::args::write_args_json(ev, out);
    out.extend_from_slice(br#","raw_args":"#);
    jsonw::list(out, &ev.args, |out, a| jsonw::uint(out, *a));
    out.extend_from_slice(br#","flags":"#);
    jsonw::uint(out, ev.flags.into());
    let mut chunks = ev.chunks().peekable();
    if chunks.peek().is_some() {
        out.extend_from_slice(br#","data":["#);
        for (k, c) in chunks.enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(br#"{"arg":"#);
            jsonw::uint(out, c.arg.into());
            out.extend_from_slice(br#","kind":"#);
            match kind_name(c.kind) {
                Some(n) => jsonw::str(out, n),
                None => jsonw::uint(out, c.kind.into()),
            }
            out.extend_from_slice(br#","value":"#);
            write_bytes(out, c.data);
            out.push(b'}');
        }
        out.push(b']');
    }
    // Events of remote nodes (cluster mode) say which; local ones do not.
    if let Some(n) = crate::model::node::name(ev.node) {
        out.extend_from_slice(br#","node":"#);
        jsonw::str(out, &n);
    }
    out.push(b'}');
}

#[derive(Deserialize, Debug)]
struct SyscallRefIn {
    nr: u32,
}

/// A syscall line as read. Derived fields (`syscall.name`, `error`,
/// `args`, `wall_time`) are not needed to rebuild the event and are ignored,
/// and so is `container` (the `container_add` lines carry it).
#[derive(Deserialize, Debug)]
pub struct SyscallIn<'a> {
    syscall: SyscallRefIn,
    pid: u32,
    tid: u32,
    #[serde(default)]
    container_pid: u32,
    #[serde(default)]
    uid: u32,
    #[serde(default)]
    gid: u32,
    #[serde(borrow)]
    comm: Option<BytesIn<'a>>,
    #[serde(default)]
    session: u32,
    #[serde(default, rename = "return")]
    ret: Option<i64>,
    #[serde(default)]
    pid_ns: u32,
    #[serde(default)]
    uts_ns: u32,
    #[serde(default)]
    mount_ns: u32,
    #[serde(default)]
    ipc_ns: u32,
    #[serde(default)]
    cgroup_ns: u32,
    #[serde(default)]
    net_ns: u32,
    #[serde(default)]
    cgroup_id: u64,
    #[serde(default)]
    context_sw: u64,
    start: u64,
    finish: u64,
    #[serde(default)]
    raw_args: [u64; 6],
    #[serde(default)]
    flags: u16,
    #[serde(default, borrow)]
    data: Vec<ChunkIn<'a>>,
    /// The node (cluster mode); absent for this machine's events.
    #[serde(default, borrow)]
    node: Option<Cow<'a, str>>,
}

/// How every line `write_syscall` writes starts.
pub const SYSCALL_PREFIX: &str = r#"{"type":"syscall","#;

impl<'a> SyscallIn<'a> {
    /// Reads a line laid out exactly as `write_syscall` writes it (its key
    /// order, no whitespace, no escapes in the strings kept) without the
    /// general JSON machinery: matching the keys and skipping the derived
    /// fields took most of a replay's time. `None` for anything else, which
    /// then goes through serde_json (and its error messages); when this
    /// says yes, serde_json reads the line the same way (tested).
    pub fn parse_fast(line: &'a str) -> Option<SyscallIn<'a>> {
        let mut c = Cursor::new(line);
        c.lit(br#"{"type":"syscall","syscall":{"nr":"#)?;
        let nr = u32::try_from(c.uint()?).ok()?;
        c.lit(br#","name":"#)?;
        c.skip_value()?;
        c.lit(br#","class":"#)?;
        c.skip_value()?;
        let u32_at = |c: &mut Cursor<'a>, key: &[u8]| {
            c.lit(key)?;
            u32::try_from(c.uint()?).ok()
        };
        let pid = u32_at(&mut c, br#"},"pid":"#)?;
        let tid = u32_at(&mut c, br#","tid":"#)?;
        let container_pid = u32_at(&mut c, br#","container_pid":"#)?;
        let uid = u32_at(&mut c, br#","uid":"#)?;
        let gid = u32_at(&mut c, br#","gid":"#)?;
        c.lit(br#","comm":"#)?;
        let comm = if c.lit(b"null").is_some() {
            None
        } else {
            Some(fast_bytes(&mut c)?)
        };
        let session = u32_at(&mut c, br#","session":"#)?;
        c.lit(br#","container":"#)?;
        c.skip_value()?;
        c.lit(br#","error":"#)?;
        c.skip_value()?;
        c.lit(br#","return":"#)?;
        let ret = if c.lit(b"null").is_some() {
            None
        } else {
            Some(c.int()?)
        };
        let pid_ns = u32_at(&mut c, br#","pid_ns":"#)?;
        let uts_ns = u32_at(&mut c, br#","uts_ns":"#)?;
        let mount_ns = u32_at(&mut c, br#","mount_ns":"#)?;
        let ipc_ns = u32_at(&mut c, br#","ipc_ns":"#)?;
        let cgroup_ns = u32_at(&mut c, br#","cgroup_ns":"#)?;
        let net_ns = u32_at(&mut c, br#","net_ns":"#)?;
        c.lit(br#","cgroup_id":"#)?;
        let cgroup_id = c.uint()?;
        c.lit(br#","context_sw":"#)?;
        let context_sw = c.uint()?;
        c.lit(br#","start":"#)?;
        let start = c.uint()?;
        c.lit(br#","finish":"#)?;
        let finish = c.uint()?;
        c.lit(br#","wall_time":"#)?;
        c.skip_value()?;
        c.lit(br#","args":"#)?;
        c.skip_value()?;
        c.lit(br#","raw_args":["#)?;
        let mut raw_args = [0u64; 6];
        for (k, a) in raw_args.iter_mut().enumerate() {
            if k > 0 {
                c.lit(b",")?;
            }
            *a = c.uint()?;
        }
        c.lit(br#"],"flags":"#)?;
        let flags = u16::try_from(c.uint()?).ok()?;
        let mut data = Vec::new();
        if c.lit(br#","data":["#).is_some() {
            loop {
                c.lit(br#"{"arg":"#)?;
                let arg = u8::try_from(c.uint()?).ok()?;
                c.lit(br#","kind":"#)?;
                let kind = match c.plain_str() {
                    Some(name) => KindIn::named(name),
                    None => KindIn(Ok(u8::try_from(c.uint()?).ok()?)),
                };
                c.lit(br#","value":"#)?;
                let value = fast_bytes(&mut c)?;
                c.lit(b"}")?;
                data.push(ChunkIn { arg, kind, value });
                if c.lit(b",").is_none() {
                    break;
                }
            }
            c.lit(b"]")?;
        }
        let node = match c.lit(br#","node":"#) {
            Some(_) => Some(Cow::Borrowed(c.plain_str()?)),
            None => None,
        };
        c.lit(b"}")?;
        if !c.at_end() {
            return None;
        }
        Some(SyscallIn {
            syscall: SyscallRefIn { nr },
            pid,
            tid,
            container_pid,
            uid,
            gid,
            comm,
            session,
            ret,
            pid_ns,
            uts_ns,
            mount_ns,
            ipc_ns,
            cgroup_ns,
            net_ns,
            cgroup_id,
            context_sw,
            start,
            finish,
            raw_args,
            flags,
            data,
            node,
        })
    }
}

/// `BytesIn` in the fast path: a plain string or `{"base64":"..."}`.
fn fast_bytes<'a>(c: &mut Cursor<'a>) -> Option<BytesIn<'a>> {
    if c.lit(br#"{"base64":"#).is_some() {
        let b = c.plain_str()?;
        c.lit(b"}")?;
        Some(BytesIn::Base64(Cow::Borrowed(b)))
    } else {
        Some(BytesIn::Text(Cow::Borrowed(c.plain_str()?)))
    }
}

impl SyscallIn<'_> {
    /// Rebuilds the event exactly as it was captured.
    pub fn into_event(self, arch: Arch) -> Result<TraceEvent, String> {
        let mut comm = [0u8; COMM_LEN];
        if let Some(c) = self.comm {
            let mut b = Vec::new();
            let b = match &c {
                BytesIn::Text(t) => t.as_bytes(),
                BytesIn::Base64(_) => {
                    c.append_to(&mut b)?;
                    &b
                }
            };
            if b.len() > COMM_LEN {
                return Err(format!("comm is {} bytes, at most {COMM_LEN}", b.len()));
            }
            comm[..b.len()].copy_from_slice(b);
        }
        // The captured data, encoded as `encode_chunks` does, straight from
        // the line: one allocation per event.
        let size: usize = self
            .data
            .iter()
            .map(|c| match &c.value {
                BytesIn::Text(t) => CHUNK_HEAD + t.len(),
                // Decoding gives at most 3 bytes per 4.
                BytesIn::Base64(b) => CHUNK_HEAD + b.len() / 4 * 3 + 3,
            })
            .sum();
        let mut tail = Vec::with_capacity(size);
        for c in &self.data {
            let kind = c.kind.0.clone()?;
            let at = tail.len();
            push_chunk_head(&mut tail, c.arg, kind);
            c.value.append_to(&mut tail)?;
            let len = tail.len() - at - CHUNK_HEAD;
            if len > u16::MAX as usize {
                return Err(format!("data of arg {} is {len} bytes", c.arg));
            }
            set_chunk_len(&mut tail[at..], len as u16);
        }
        if tail.len() > u16::MAX as usize {
            return Err(format!("captured data is {} bytes in all", tail.len()));
        }
        Ok(TraceEvent {
            start_ns: self.start,
            finish_ns: self.finish,
            args: self.raw_args,
            // Calls that never return are recorded with 0 by the kernel side.
            ret: self.ret.unwrap_or(0),
            // Replayed events of one thread share its identity, as live
            // ones do.
            id: intern(Identity {
                cgroup_id: self.cgroup_id,
                pid: self.pid,
                tid: self.tid,
                uid: self.uid,
                gid: self.gid,
                container_pid: self.container_pid,
                session: self.session,
                ns: Namespaces {
                    pid: self.pid_ns,
                    mnt: self.mount_ns,
                    uts: self.uts_ns,
                    ipc: self.ipc_ns,
                    cgroup: self.cgroup_ns,
                    net: self.net_ns,
                },
                comm,
            }),
            // The kernel counts in 32 bits, as the binary format stores.
            context_sw: self.context_sw.min(u32::MAX as u64) as u32,
            nr: self.syscall.nr,
            flags: self.flags,
            arch,
            node: match self.node.as_deref() {
                Some(n) => crate::model::node::intern(n)
                    .ok_or_else(|| format!("too many nodes (at {n:?})"))?,
                None => crate::model::node::LOCAL,
            },
            tail: (!tail.is_empty()).then(|| tail.into()),
        })
    }
}
