//! The session file format: JSON Lines, a header first, then one line per
//! event. Pure data and conversions (no I/O), so it can be fuzzed.
//! docs/session-format.md is the user-facing description of the same thing.

use std::borrow::Cow;
use std::fmt::Write as _;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use std::sync::Arc;

use crate::clock::Clock;
use crate::model::container::{
    self as model, ContainerAddEvent, ContainerDelEvent, PodInfo, Runtime,
};
use crate::model::errno;
use crate::model::event::{Event, LostEvents, Namespaces, TraceEvent};
use crate::model::raw::{
    encode_chunks, Chunk, CAP_ARGV, CAP_BUF_IN, CAP_BUF_OUT, CAP_SOCKADDR, CAP_STR, COMM_LEN,
};
use crate::model::syscalls::Arch;

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
    pub resolved: bool,
}

const RUNTIMES: [Runtime; 5] = [
    Runtime::Docker,
    Runtime::ContainerdCri,
    Runtime::Containerd,
    Runtime::CriO,
    Runtime::Podman,
];

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
            resolved: c.resolved,
        }
    }

    pub fn to_model(&self) -> Result<model::ContainerInfo, String> {
        let runtime = RUNTIMES
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

/// Bytes from a traced process, written reversibly: a JSON string when they
/// are valid UTF-8, else `{"base64": "..."}`.
struct BytesOut<'a>(&'a [u8]);

impl Serialize for BytesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(self.0) {
            Ok(t) => s.serialize_str(t),
            Err(_) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("base64", &B64.encode(self.0))?;
                m.end()
            }
        }
    }
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
pub enum BytesIn<'a> {
    #[serde(borrow)]
    Text(Cow<'a, str>),
    Base64 {
        #[serde(borrow)]
        base64: Cow<'a, str>,
    },
}

impl BytesIn<'_> {
    fn into_bytes(self) -> Result<Vec<u8>, String> {
        match self {
            BytesIn::Text(t) => Ok(t.into_owned().into_bytes()),
            BytesIn::Base64 { base64 } => B64
                .decode(base64.as_bytes())
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

struct KindOut(u8);

impl Serialize for KindOut {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match kind_name(self.0) {
            Some(n) => s.serialize_str(n),
            None => s.serialize_u8(self.0),
        }
    }
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum KindIn<'a> {
    Num(u8),
    #[serde(borrow)]
    Name(Cow<'a, str>),
}

impl KindIn<'_> {
    fn code(&self) -> Result<u8, String> {
        match self {
            KindIn::Num(n) => Ok(*n),
            KindIn::Name(s) => KIND_NAMES
                .iter()
                .find(|(_, n)| *n == s.as_ref())
                .map(|(k, _)| *k)
                .ok_or_else(|| format!("unknown data kind {s:?}")),
        }
    }
}

#[derive(Serialize)]
struct ChunkOut<'a> {
    arg: u8,
    kind: KindOut,
    value: BytesOut<'a>,
}

#[derive(Deserialize, Debug)]
struct ChunkIn<'a> {
    arg: u8,
    #[serde(borrow)]
    kind: KindIn<'a>,
    #[serde(borrow)]
    value: BytesIn<'a>,
}

#[derive(Serialize)]
struct SyscallRefOut {
    nr: u32,
    name: Cow<'static, str>,
    class: &'static str,
}

#[derive(Deserialize, Debug)]
struct SyscallRefIn {
    nr: u32,
}

/// A syscall line as written: field names follow the seed's TraceEvent.
#[derive(Serialize)]
pub struct SyscallOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    syscall: SyscallRefOut,
    pid: u32,
    tid: u32,
    container_pid: u32,
    uid: u32,
    gid: u32,
    comm: BytesOut<'a>,
    session: u32,
    container: Option<&'a ContainerInfo>,
    error: Option<&'static str>,
    #[serde(rename = "return")]
    ret: Option<i64>,
    pid_ns: u32,
    uts_ns: u32,
    mount_ns: u32,
    ipc_ns: u32,
    cgroup_ns: u32,
    net_ns: u32,
    cgroup_id: u64,
    context_sw: u64,
    start: u64,
    finish: u64,
    wall_time: &'a str,
    /// Decoded arguments for people and jq (`model::args::args_json`).
    args: serde_json::Value,
    raw_args: [u64; 6],
    flags: u16,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    data: Vec<ChunkOut<'a>>,
}

impl<'a> SyscallOut<'a> {
    /// `wall_time` is passed in so the caller can cache its formatting.
    pub fn new(
        ev: &'a TraceEvent,
        wall_time: &'a str,
        container: Option<&'a ContainerInfo>,
    ) -> SyscallOut<'a> {
        SyscallOut {
            kind: "syscall",
            syscall: SyscallRefOut {
                nr: ev.nr,
                name: ev.name(),
                class: ev.class().name(),
            },
            pid: ev.pid,
            tid: ev.tid,
            container_pid: ev.container_pid,
            uid: ev.uid,
            gid: ev.gid,
            comm: BytesOut(ev.comm_bytes()),
            session: ev.session,
            container,
            error: ev.errno().map(|e| errno::name(e).unwrap_or("E?")),
            ret: ev.returns().then_some(ev.ret),
            pid_ns: ev.ns.pid,
            uts_ns: ev.ns.uts,
            mount_ns: ev.ns.mnt,
            ipc_ns: ev.ns.ipc,
            cgroup_ns: ev.ns.cgroup,
            net_ns: ev.ns.net,
            cgroup_id: ev.cgroup_id,
            context_sw: ev.context_sw,
            start: ev.start_ns,
            finish: ev.finish_ns,
            wall_time,
            args: crate::model::args::args_json(ev),
            raw_args: ev.args,
            flags: ev.flags,
            data: ev
                .chunks()
                .map(|c| ChunkOut {
                    arg: c.arg,
                    kind: KindOut(c.kind),
                    value: BytesOut(c.data),
                })
                .collect(),
        }
    }
}

/// A syscall line as read. Derived fields (`syscall.name`, `error`,
/// `args`, `wall_time`) are not needed to rebuild the event and are ignored.
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
    #[serde(default)]
    pub container: Option<ContainerInfo>,
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
}

impl SyscallIn<'_> {
    /// Rebuilds the event exactly as it was captured.
    pub fn into_event(self, arch: Arch) -> Result<TraceEvent, String> {
        let mut comm = [0u8; COMM_LEN];
        if let Some(c) = self.comm {
            let b = c.into_bytes()?;
            if b.len() > COMM_LEN {
                return Err(format!("comm is {} bytes, at most {COMM_LEN}", b.len()));
            }
            comm[..b.len()].copy_from_slice(&b);
        }
        let mut owned = Vec::with_capacity(self.data.len());
        for c in self.data {
            let kind = c.kind.code()?;
            let data = c.value.into_bytes()?;
            if data.len() > u16::MAX as usize {
                return Err(format!("data of arg {} is {} bytes", c.arg, data.len()));
            }
            owned.push((c.arg, kind, data));
        }
        let chunks: Vec<Chunk<'_>> = owned
            .iter()
            .map(|(arg, kind, data)| Chunk {
                arg: *arg,
                kind: *kind,
                data,
            })
            .collect();
        let tail = encode_chunks(&chunks);
        if tail.len() > u16::MAX as usize {
            return Err(format!("captured data is {} bytes in all", tail.len()));
        }
        Ok(TraceEvent {
            start_ns: self.start,
            finish_ns: self.finish,
            args: self.raw_args,
            // Calls that never return are recorded with 0 by the kernel side.
            ret: self.ret.unwrap_or(0),
            cgroup_id: self.cgroup_id,
            context_sw: self.context_sw,
            pid: self.pid,
            tid: self.tid,
            uid: self.uid,
            gid: self.gid,
            container_pid: self.container_pid,
            session: self.session,
            nr: self.syscall.nr,
            ns: Namespaces {
                pid: self.pid_ns,
                mnt: self.mount_ns,
                uts: self.uts_ns,
                ipc: self.ipc_ns,
                cgroup: self.cgroup_ns,
                net: self.net_ns,
            },
            flags: self.flags,
            arch,
            comm,
            tail: (!tail.is_empty()).then(|| tail.into_boxed_slice()),
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
        let _ = write!(self.buf, "{}.{sub:09}Z", self.prefix);
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::raw::{RawEvent, F_NO_RETURN, F_TRUNCATED};

    fn event(nr: u32, ret: i64, chunks: &[Chunk<'_>]) -> TraceEvent {
        let tail = encode_chunks(chunks);
        let mut raw = RawEvent {
            nr,
            ret,
            start_ns: 1_000,
            finish_ns: 3_500,
            args: [0xffff_ff9c, 0x7ffd_0000_1000, 0o644, 3, 4, u64::MAX],
            pid: 4242,
            tid: 4243,
            uid: 1000,
            gid: 100,
            ns_pid: 7,
            session: 11,
            pid_ns: 4_026_531_836,
            mnt_ns: 4_026_531_841,
            uts_ns: 4_026_531_838,
            ipc_ns: 4_026_531_839,
            cgroup_ns: 4_026_531_835,
            net_ns: 4_026_531_840,
            cgroup_id: 9_999,
            context_sw: 2,
            tail_len: tail.len() as u16,
            ..Default::default()
        };
        raw.comm[..4].copy_from_slice(b"cat\xff");
        TraceEvent::from_raw(&raw, &tail, Arch::X86_64)
    }

    fn round_trip(ev: &TraceEvent) -> (serde_json::Value, TraceEvent) {
        let mut wc = WallClock::new(Clock { boot_unix_ns: 0 });
        let wall = wc.format(ev.start_ns).to_string();
        let line = serde_json::to_string(&SyscallOut::new(ev, &wall, None)).unwrap();
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
