//! The session file format: JSON Lines, a header first, then one line per
//! event. Pure data and conversions (no I/O), so it can be fuzzed.
//! docs/session-format.md is the user-facing description of the same thing.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::scan::Cursor;
use crate::clock::Clock;
use crate::model::container::{
    self as model, ContainerAddEvent, ContainerDelEvent, PodInfo, Runtime,
};
use crate::model::event::{Event, LostEvents, Namespaces, TraceEvent};
use crate::model::identity::{intern, Identity};
use crate::model::raw::{
    push_chunk_head, set_chunk_len, CAP_ARGV, CAP_BUF_IN, CAP_BUF_OUT, CAP_SOCKADDR, CAP_STR,
    CHUNK_HEAD, COMM_LEN,
};
use crate::model::syscalls::Arch;
use crate::model::{errno, jsonw};

/// The `format` value of every header.
pub const FORMAT_NAME: &str = "systrace-tui-session";
/// The version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The first line of every session file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Header {
    #[serde(rename = "type")]
    pub kind: String,
    pub format: String,
    pub version: u32,
    pub tool_version: String,
    pub host: String,
    pub kernel: String,
    /// Syscall numbering of every event in the file (`x86_64`, `aarch64`).
    pub arch: String,
    /// Unix time in ns at CLOCK_MONOTONIC zero: wall clock = boot_time_ns + start.
    pub boot_time_ns: i64,
    pub boot_time: String,
    /// When recording started (RFC 3339).
    pub start_time: String,
    pub filters: Filters,
    /// When this file was cut from another session file: that file's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_from: Option<String>,
    /// How the items after this line are written: absent for JSON Lines,
    /// `binary-1` for the binary format (see `session::binary`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<String>,
}

/// The filters in force while recording.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(default)]
pub struct Filters {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pids: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comm: Option<String>,
    /// `--filter` expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The TUI's view filter, when the file holds only matching events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
    /// `--pod`, `--namespace`, `--container` regexes and `--host`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub host: bool,
}

impl Header {
    pub fn new(
        host: String,
        kernel: String,
        arch: Arch,
        clock: Clock,
        start_ns: u64,
        filters: Filters,
    ) -> Header {
        Header {
            kind: "header".into(),
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            host,
            kernel,
            arch: arch.name().into(),
            boot_time_ns: clock.boot_unix_ns as i64,
            boot_time: clock.rfc3339(0),
            start_time: clock.rfc3339(start_ns),
            filters,
            cut_from: None,
            records: None,
        }
    }

    pub fn clock(&self) -> Clock {
        Clock {
            boot_unix_ns: self.boot_time_ns as i128,
        }
    }

    pub fn arch(&self) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.name() == self.arch)
    }
}

/// Only what is needed to tell a session file and its version apart, so a
/// wrong version is reported as such rather than as a missing field.
#[derive(Deserialize)]
pub struct HeaderProbe {
    pub format: Option<String>,
    pub version: Option<u64>,
}

/// A container's identity as topology resolves it. Every field but `id` and
/// `runtime` may be unknown.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(default)]
pub struct ContainerInfo {
    pub id: String,
    pub name: Option<String>,
    pub image: Option<String>,
    pub pod: Option<String>,
    pub namespace: Option<String>,
    pub runtime: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_id: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sandbox: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub resolved: bool,
}

impl ContainerInfo {
    pub fn from_model(c: &model::ContainerInfo) -> ContainerInfo {
        let pod = c.pod.as_ref();
        ContainerInfo {
            id: c.id.clone(),
            name: c.name.clone(),
            image: c.image.clone(),
            pod: pod.and_then(|p| p.name.clone()),
            namespace: pod.and_then(|p| p.namespace.clone()),
            runtime: c.runtime.as_str().into(),
            pod_uid: pod.and_then(|p| p.uid.clone()),
            pod_id: pod.and_then(|p| p.id.clone()),
            sandbox: c.sandbox,
            node: c.node.clone(),
            service: c.service.clone(),
            resolved: c.resolved,
        }
    }

    pub fn to_model(&self) -> Result<model::ContainerInfo, String> {
        let runtime = Runtime::ALL
            .into_iter()
            .find(|r| r.as_str() == self.runtime)
            .ok_or_else(|| format!("unknown container runtime {:?}", self.runtime))?;
        let mut c = model::ContainerInfo::new(&self.id, runtime);
        c.name = self.name.clone();
        c.image = self.image.clone();
        let pod = PodInfo {
            name: self.pod.clone(),
            namespace: self.namespace.clone(),
            uid: self.pod_uid.clone(),
            id: self.pod_id.clone(),
        };
        c.pod = (pod != PodInfo::default()).then_some(pod);
        c.sandbox = self.sandbox;
        c.node = self.node.clone();
        c.service = self.service.clone();
        c.resolved = self.resolved;
        Ok(c)
    }
}

/// `container_add` / `container_del` lines: the cgroup and its container.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ContainerLine {
    #[serde(rename = "type")]
    pub kind: String,
    pub cgroup_id: u64,
    pub container: ContainerInfo,
}

impl ContainerLine {
    pub fn new(kind: &str, cgroup_id: u64, c: &model::ContainerInfo) -> ContainerLine {
        ContainerLine {
            kind: kind.into(),
            cgroup_id,
            container: ContainerInfo::from_model(c),
        }
    }

    pub fn to_event(&self) -> Result<Event, String> {
        let container = Arc::new(self.container.to_model()?);
        let cgroup_id = self.cgroup_id;
        Ok(if self.kind == "container_del" {
            Event::ContainerDel(ContainerDelEvent {
                cgroup_id,
                container,
            })
        } else {
            Event::ContainerAdd(ContainerAddEvent {
                cgroup_id,
                container,
            })
        })
    }
}

/// `lost` lines: cumulative counts. The last line of a complete file is a
/// lost line with `final: true` and the number of events written.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LostLine {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub kernel: u64,
    #[serde(default)]
    pub channel: u64,
    #[serde(default)]
    pub total: u64,
    #[serde(default, rename = "final")]
    pub is_final: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
}

impl LostLine {
    pub fn new(l: LostEvents, events: Option<u64>) -> LostLine {
        LostLine {
            kind: "lost".into(),
            kernel: l.kernel,
            channel: l.channel,
            total: l.total(),
            is_final: events.is_some(),
            events,
        }
    }

    pub fn lost(&self) -> LostEvents {
        LostEvents {
            kernel: self.kernel,
            channel: self.channel,
        }
    }
}

/// A string borrowed from the line when it has no escapes.
struct Text<'a>(Cow<'a, str>);

struct TextVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
    type Value = Text<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(v)))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor(PhantomData))
    }
}

/// Bytes as `write_bytes` writes them: a string, or `{"base64": "..."}`.
/// Visited directly rather than as an untagged enum, which would buffer
/// every value before trying the variants.
#[derive(Debug)]
pub enum BytesIn<'a> {
    Text(Cow<'a, str>),
    Base64(Cow<'a, str>),
}

struct BytesVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for BytesVisitor<'a> {
    type Value = BytesIn<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(r#"a string or {"base64": "..."}"#)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<BytesIn<'a>, E> {
        Ok(BytesIn::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<BytesIn<'a>, E> {
        Ok(BytesIn::Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<BytesIn<'a>, E> {
        Ok(BytesIn::Text(Cow::Owned(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<BytesIn<'a>, A::Error> {
        let mut b64 = None;
        while let Some(k) = m.next_key::<Text<'a>>()? {
            if k.0 == "base64" {
                b64 = Some(m.next_value::<Text<'a>>()?.0);
            } else {
                m.next_value::<de::IgnoredAny>()?;
            }
        }
        b64.map(BytesIn::Base64)
            .ok_or_else(|| de::Error::missing_field("base64"))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for BytesIn<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BytesVisitor(PhantomData))
    }
}

impl BytesIn<'_> {
    /// Appends the bytes to `out`.
    fn append_to(&self, out: &mut Vec<u8>) -> Result<(), String> {
        match self {
            BytesIn::Text(t) => {
                out.extend_from_slice(t.as_bytes());
                Ok(())
            }
            BytesIn::Base64(b) => B64
                .decode_vec(b.as_bytes(), out)
                .map_err(|e| format!("bad base64: {e}")),
        }
    }
}

/// Capture kinds by name; unknown kinds are written as their number.
const KIND_NAMES: [(u8, &str); 5] = [
    (CAP_STR, "str"),
    (CAP_ARGV, "argv"),
    (CAP_BUF_IN, "buf_in"),
    (CAP_BUF_OUT, "buf_out"),
    (CAP_SOCKADDR, "sockaddr"),
];

fn kind_name(k: u8) -> Option<&'static str> {
    KIND_NAMES.iter().find(|(n, _)| *n == k).map(|(_, s)| *s)
}

/// A capture kind as written: its name, or a number.
#[derive(Debug)]
struct KindIn(Result<u8, String>);

impl KindIn {
    fn named(s: &str) -> KindIn {
        KindIn(
            KIND_NAMES
                .iter()
                .find(|(_, n)| *n == s)
                .map(|(k, _)| *k)
                .ok_or_else(|| format!("unknown data kind {s:?}")),
        )
    }
}

impl<'de> Deserialize<'de> for KindIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KindIn;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a data kind name or number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KindIn, E> {
                u8::try_from(v)
                    .map(|k| KindIn(Ok(k)))
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<KindIn, E> {
                Ok(KindIn::named(s))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize, Debug)]
struct ChunkIn<'a> {
    arg: u8,
    kind: KindIn,
    #[serde(borrow)]
    value: BytesIn<'a>,
}

/// Bytes from a traced process, written reversibly: a JSON string when
/// they are valid UTF-8, else `{"base64": "..."}`.
fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    match std::str::from_utf8(b) {
        Ok(t) => jsonw::str(out, t),
        Err(_) => {
            out.extend_from_slice(b"{\"base64\":");
            jsonw::str(out, &B64.encode(b));
            out.push(b'}');
        }
    }
}

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

/// Formats `wall_time` quickly: the date and time up to the second is
/// formatted once per second, the nanoseconds every time.
pub struct WallClock {
    clock: Clock,
    sec: i64,
    prefix: String,
    pub buf: String,
}

impl WallClock {
    pub fn new(clock: Clock) -> WallClock {
        WallClock {
            clock,
            sec: i64::MIN,
            prefix: String::new(),
            buf: String::with_capacity(40),
        }
    }

    /// RFC 3339 in UTC with nanoseconds, as `Clock::rfc3339` writes it.
    pub fn format(&mut self, mono_ns: u64) -> &str {
        let ns = self.clock.boot_unix_ns + mono_ns as i128;
        let sec = ns.div_euclid(1_000_000_000) as i64;
        let sub = ns.rem_euclid(1_000_000_000) as u32;
        if sec != self.sec {
            self.sec = sec;
            self.prefix = chrono::DateTime::from_timestamp(sec, 0)
                .unwrap_or_default()
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string();
        }
        self.buf.clear();
        self.buf.push_str(&self.prefix);
        self.buf.push('.');
        // Nine digits with leading zeros, without the formatting machinery.
        let mut digits = [b'0'; 9];
        let mut v = sub;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        self.buf.extend(digits.iter().map(|&d| char::from(d)));
        self.buf.push('Z');
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::raw::{Chunk, F_NO_RETURN, F_TRUNCATED};
    use crate::model::testing::EventBuilder;
    use serde_json::json;

    /// The initial namespaces of a typical host.
    const HOST_NS: Namespaces = Namespaces {
        pid: 4_026_531_836,
        mnt: 4_026_531_841,
        uts: 4_026_531_838,
        ipc: 4_026_531_839,
        cgroup: 4_026_531_835,
        net: 4_026_531_840,
    };

    fn event(nr: u32, ret: i64, chunks: &[Chunk<'_>]) -> TraceEvent {
        EventBuilder::new()
            .nr(nr)
            .ret(ret)
            .start(1_000)
            .duration(2_500)
            .args(&[0xffff_ff9c, 0x7ffd_0000_1000, 0o644, 3, 4, u64::MAX])
            .pid(4242)
            .tid(4243)
            .uid(1000)
            .gid(100)
            .cgroup(9_999)
            .comm(b"cat\xff")
            .chunks(chunks)
            .ns_pid(7, 11)
            .ns(HOST_NS)
            .context_switches(2)
            .build()
    }

    fn line_of(ev: &TraceEvent, clock: Clock, container: Option<&[u8]>) -> String {
        let mut wc = WallClock::new(clock);
        let mut out = Vec::new();
        write_syscall(&mut out, ev, wc.format(ev.start_ns), container);
        String::from_utf8(out).unwrap()
    }

    fn round_trip(ev: &TraceEvent) -> (serde_json::Value, TraceEvent) {
        let line = line_of(ev, Clock { boot_unix_ns: 0 }, None);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let back: SyscallIn = serde_json::from_str(&line).unwrap();
        (v, back.into_event(Arch::X86_64).unwrap())
    }

    #[test]
    fn syscall_lines_round_trip_losslessly() {
        let ev = event(
            257,
            -2,
            &[Chunk {
                arg: 1,
                kind: CAP_STR,
                data: b"/etc/\xc3\xa9t\xe9\x00\x1b[31m",
            }],
        );
        let (v, back) = round_trip(&ev);
        assert_eq!(back, ev);
        assert_eq!(v["type"], "syscall");
        assert_eq!(v["syscall"]["name"], "openat");
        assert_eq!(v["syscall"]["class"], "file");
        assert_eq!(v["error"], "ENOENT");
        assert_eq!(v["return"], -2);
        assert_eq!(v["comm"]["base64"], B64.encode(b"cat\xff"));
        assert_eq!(v["container"], serde_json::Value::Null);
        assert_eq!(v["mount_ns"], 4_026_531_841u64);
        assert_eq!(v["wall_time"], "1970-01-01T00:00:00.000001000Z");
        // Invalid UTF-8 in the path is kept byte for byte as base64.
        assert_eq!(
            v["data"][0]["value"]["base64"],
            B64.encode(b"/etc/\xc3\xa9t\xe9\x00\x1b[31m")
        );
        assert_eq!(v["data"][0]["kind"], "str");
        assert_eq!(v["args"], crate::model::args::args_json(&ev));
        assert_eq!(v["raw_args"][5], u64::MAX);
    }

    #[test]
    fn argv_buffers_flags_and_no_return_round_trip() {
        let ev = event(
            59,
            0,
            &[
                Chunk {
                    arg: 0,
                    kind: CAP_STR,
                    data: b"/bin/ls",
                },
                Chunk {
                    arg: 1,
                    kind: CAP_ARGV,
                    data: b"ls\0-l\0",
                },
                Chunk {
                    arg: 2,
                    kind: 77,
                    data: b"",
                },
            ],
        );
        let (v, back) = round_trip(&ev);
        assert_eq!(back, ev);
        assert_eq!(v["args"], crate::model::args::args_json(&ev));
        assert_eq!(v["data"][1]["value"], "ls\u{0}-l\u{0}");
        assert_eq!(v["data"][2]["kind"], 77);
        let mut ev = event(231, 0, &[]);
        ev.flags = F_NO_RETURN | F_TRUNCATED;
        let (v, back) = round_trip(&ev);
        assert_eq!(back, ev);
        assert_eq!(v["return"], serde_json::Value::Null);
        assert_eq!(v["error"], serde_json::Value::Null);
        assert!(v.get("data").is_none());
        // A number no table knows still round-trips, with positional names.
        let ev = event(100_000, 5, &[]);
        let (v, back) = round_trip(&ev);
        assert_eq!(back, ev);
        assert_eq!(v["raw_args"][5], u64::MAX);
    }

    /// What a syscall line holds, as a `Value`: the reference the
    /// hand-written `write_syscall` is checked against.
    fn reference(
        ev: &TraceEvent,
        wall: &str,
        container: Option<&ContainerInfo>,
    ) -> serde_json::Value {
        let bytes = |b: &[u8]| match std::str::from_utf8(b) {
            Ok(t) => json!(t),
            Err(_) => json!({ "base64": B64.encode(b) }),
        };
        let data: Vec<serde_json::Value> = ev
            .chunks()
            .map(|c| {
                let kind = kind_name(c.kind).map_or_else(|| json!(c.kind), |n| json!(n));
                json!({"arg": c.arg, "kind": kind, "value": bytes(c.data)})
            })
            .collect();
        let mut v = json!({
            "type": "syscall",
            "syscall": {"nr": ev.nr, "name": ev.name(), "class": ev.class().name()},
            "pid": ev.id.pid, "tid": ev.id.tid, "container_pid": ev.id.container_pid,
            "uid": ev.id.uid, "gid": ev.id.gid, "comm": bytes(ev.comm_bytes()),
            "session": ev.id.session, "container": container,
            "error": ev.errno().map(|e| errno::name(e).unwrap_or("E?")),
            "return": ev.returns().then_some(ev.ret),
            "pid_ns": ev.id.ns.pid, "uts_ns": ev.id.ns.uts, "mount_ns": ev.id.ns.mnt,
            "ipc_ns": ev.id.ns.ipc, "cgroup_ns": ev.id.ns.cgroup, "net_ns": ev.id.ns.net,
            "cgroup_id": ev.id.cgroup_id, "context_sw": ev.context_sw,
            "start": ev.start_ns, "finish": ev.finish_ns, "wall_time": wall,
            "args": crate::model::args::args_json(ev),
            "raw_args": ev.args, "flags": ev.flags,
        });
        if !data.is_empty() {
            v["data"] = json!(data);
        }
        v
    }

    /// Every decoder path, with and without a container: the line holds
    /// exactly the reference fields, and reads back as the same event.
    #[test]
    fn written_lines_match_the_reference_and_read_back() {
        let clock = Clock {
            boot_unix_ns: 1_795_616_590_589_457_199,
        };
        let mut c = model::ContainerInfo::new("3f2a", Runtime::ContainerdCri);
        c.name = Some("web \"1\"".into());
        c.pod = Some(PodInfo {
            name: Some("web-1".into()),
            namespace: Some("default".into()),
            ..Default::default()
        });
        let info = ContainerInfo::from_model(&c);
        let info_json = serde_json::to_vec(&info).unwrap();
        for (i, ev) in crate::model::args::varied_events().iter().enumerate() {
            let container = (i % 2 == 1).then_some(&info);
            let line = line_of(ev, clock, container.map(|_| &info_json[..]));
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            let wall = clock.rfc3339(ev.start_ns);
            assert_eq!(v, reference(ev, &wall, container), "{line}");
            let back: SyscallIn = serde_json::from_str(&line).unwrap();
            assert_eq!(&back.into_event(ev.arch).unwrap(), ev, "{line}");
        }
    }

    fn both_ways(
        line: &str,
    ) -> (
        Option<Result<TraceEvent, String>>,
        Result<TraceEvent, String>,
    ) {
        let fast = SyscallIn::parse_fast(line).map(|s| s.into_event(Arch::X86_64));
        let slow = serde_json::from_str::<SyscallIn>(line)
            .map_err(|e| e.to_string())
            .and_then(|s| s.into_event(Arch::X86_64));
        (fast, slow)
    }

    fn corpus_lines() -> Vec<String> {
        let info = serde_json::to_vec(&ContainerInfo::from_model(&model::ContainerInfo::new(
            "3f2a",
            Runtime::Podman,
        )))
        .unwrap();
        let evs = crate::model::args::varied_events();
        evs.iter()
            .enumerate()
            .map(|(i, ev)| {
                let c = (i % 3 == 0).then_some(&info[..]);
                let mut ev = ev.clone();
                // Some lines with bytes that are not UTF-8 (base64) or absent.
                if i % 7 == 0 {
                    ev.id_mut().comm[..3].copy_from_slice(b"\xffab");
                } else if i % 11 == 0 {
                    ev.id_mut().comm = [0; COMM_LEN];
                }
                line_of(&ev, Clock { boot_unix_ns: 0 }, c)
            })
            .collect()
    }

    /// The fast path reads what `write_syscall` writes, as serde_json does.
    #[test]
    fn fast_path_reads_written_lines_as_serde_json_does() {
        let lines = corpus_lines();
        let mut fast = 0;
        for line in &lines {
            let (f, s) = both_ways(line);
            assert!(s.is_ok(), "{line}");
            match f {
                Some(f) => {
                    assert_eq!(f, s, "{line}");
                    fast += 1;
                }
                // Only strings with escapes are left to serde_json.
                None => assert!(line.contains('\\'), "{line}"),
            }
        }
        assert!(fast * 2 > lines.len(), "{fast} of {}", lines.len());
    }

    /// Damaged lines: whenever the fast path accepts one, serde_json reads
    /// it to the same event (or the same error); otherwise serde_json has
    /// the last word.
    #[test]
    fn fast_path_never_disagrees_with_serde_json_on_damaged_lines() {
        let lines = corpus_lines();
        let mut rnd = crate::session::reader::tests::rng();
        let (mut tried, mut accepted) = (0, 0);
        for round in 0..20_000 {
            let mut b = lines[rnd(lines.len())].clone().into_bytes();
            for _ in 0..1 + round % 3 {
                let at = rnd(b.len());
                match rnd(6) {
                    0 => b[at] = b"0123456789"[rnd(10)],
                    1 => {
                        let set = b"0-9.e\"\\ ,:{}[]nt";
                        b.insert(at, set[rnd(set.len())]);
                    }
                    2 => {
                        b.remove(at);
                    }
                    3 => b[at] ^= 1 << rnd(7),
                    4 => b.truncate(at),
                    _ => {
                        // Repeat a piece: duplicated keys, values, brackets.
                        let end = (at + 1 + rnd(24)).min(b.len());
                        let piece = b[at..end].to_vec();
                        b.splice(at..at, piece);
                    }
                }
                if b.is_empty() {
                    break;
                }
            }
            let Ok(line) = std::str::from_utf8(&b) else {
                continue;
            };
            tried += 1;
            let (f, s) = both_ways(line);
            if let Some(f) = f {
                accepted += 1;
                assert_eq!(f, s, "{line}");
            }
        }
        assert!(tried > 15_000, "{tried}");
        // Digit changes and the like keep many lines valid: the check bites.
        assert!(accepted > 1_000, "{accepted}");
    }

    /// The example in docs/session-format.md is what this code writes, byte
    /// for byte (field order included), for the event it reads from it.
    #[test]
    fn the_documented_example_is_written_byte_for_byte() {
        let doc = include_str!("../../docs/session-format.md");
        let header = doc
            .lines()
            .find(|l| l.starts_with(r#"{"type":"header""#))
            .unwrap();
        let line = doc
            .lines()
            .find(|l| l.starts_with(r#"{"type":"syscall""#))
            .unwrap();
        let h: Header = serde_json::from_str(header).unwrap();
        let s: SyscallIn = serde_json::from_str(line).unwrap();
        let ev = s.into_event(h.arch().unwrap()).unwrap();
        assert_eq!(line_of(&ev, h.clock(), None), line);
    }

    #[test]
    fn wall_clock_matches_chrono() {
        let c = Clock {
            boot_unix_ns: 1_700_000_000_123_456_789,
        };
        let mut wc = WallClock::new(c);
        for ns in [0u64, 1, 999_999_999, 1_000_000_000, 86_400_000_000_123] {
            assert_eq!(wc.format(ns), c.rfc3339(ns));
        }
    }

    #[test]
    fn bad_values_are_errors() {
        let line = r#"{"type":"syscall","syscall":{"nr":1},"pid":1,"tid":1,"start":0,"finish":0,"comm":"0123456789abcdefg"}"#;
        let s: SyscallIn = serde_json::from_str(line).unwrap();
        assert!(s.into_event(Arch::X86_64).unwrap_err().contains("comm"));
        let line = r#"{"type":"syscall","syscall":{"nr":1},"pid":1,"tid":1,"start":0,"finish":0,"data":[{"arg":0,"kind":"nope","value":"x"}]}"#;
        let s: SyscallIn = serde_json::from_str(line).unwrap();
        assert!(s.into_event(Arch::X86_64).unwrap_err().contains("kind"));
        let line = r#"{"type":"syscall","syscall":{"nr":1},"pid":1,"tid":1,"start":0,"finish":0,"data":[{"arg":0,"kind":"str","value":{"base64":"!!"}}]}"#;
        let s: SyscallIn = serde_json::from_str(line).unwrap();
        assert!(s.into_event(Arch::X86_64).unwrap_err().contains("base64"));
    }
}
