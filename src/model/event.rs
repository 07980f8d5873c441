//! `TraceEvent`: one decoded syscall, and the `Event` stream the pipeline
//! carries (syscalls, lost-event counts, containers coming and going).

use std::borrow::Cow;

use super::container::{ContainerAddEvent, ContainerDelEvent};
use super::errno;
use super::raw::{
    parse_record, Chunk, Chunks, Identities, RawError, RawEvent, Record, WireCall, WireIdent,
    CAP_ARGV, COMM_LEN, F_NO_RETURN, F_TRUNCATED,
};
use super::syscalls::{self, Arch, SyscallClass, SyscallInfo};

/// Namespace inodes of the calling task (as in `readlink /proc/PID/ns/*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Namespaces {
    pub pid: u32,
    pub mnt: u32,
    pub uts: u32,
    pub ipc: u32,
    pub cgroup: u32,
    pub net: u32,
}

/// One completed (or non-returning) syscall. Kept compact: a retained
/// session holds a million of these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    pub start_ns: u64,
    pub finish_ns: u64,
    pub args: [u64; 6],
    pub ret: i64,
    pub cgroup_id: u64,
    pub context_sw: u64,
    /// Thread-group id in the host pid namespace (what users call the pid).
    pub pid: u32,
    pub tid: u32,
    pub uid: u32,
    pub gid: u32,
    /// The pid as seen inside the task's own pid namespace.
    pub container_pid: u32,
    pub session: u32,
    pub nr: u32,
    pub ns: Namespaces,
    pub flags: u16,
    pub arch: Arch,
    /// The node the call was made on (`model::node`); 0 for this machine.
    pub node: u16,
    pub comm: [u8; COMM_LEN],
    /// Captured user memory (paths, argv, buffers), as chunks; validated.
    pub tail: Option<Box<[u8]>>,
}

/// Lost-event counters, cumulative since capture started (the seed's
/// KernelLostEvent, plus what user space itself had to drop).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LostEvents {
    /// Failed ring-buffer writes in the kernel.
    pub kernel: u64,
    /// Events dropped because the consumer fell behind the reader.
    pub channel: u64,
}

impl LostEvents {
    pub fn total(&self) -> u64 {
        self.kernel + self.channel
    }
}

/// A remote node's stream went down or came (back) up (cluster mode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeEvent {
    /// `model::node` number; 0 while the node's name is not known yet.
    pub node: u16,
    /// The address the client reaches it at.
    pub addr: String,
    pub up: bool,
    /// When, as Unix ns.
    pub at_unix_ns: i64,
    /// Why it went down; when it came back, what was missed (a gap).
    pub detail: String,
}

/// What flows from the capture side to the consumers. Events travel in
/// batches (`Vec<Event>`), so the syscall variant is stored inline.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Event {
    Syscall(TraceEvent),
    Lost(LostEvents),
    ContainerAdd(ContainerAddEvent),
    ContainerDel(ContainerDelEvent),
    Node(NodeEvent),
}

impl TraceEvent {
    /// Decodes one ring-buffer record: an identity is remembered in `ids`
    /// (`None`), a call comes back joined with it.
    pub fn from_record(
        ids: &mut Identities,
        bytes: &[u8],
        arch: Arch,
    ) -> Result<Option<TraceEvent>, RawError> {
        match parse_record(bytes)? {
            Record::Ident(id) => {
                ids.insert(id);
                Ok(None)
            }
            Record::Call(c, tail) => {
                let ev = TraceEvent::from_wire(&c, ids.lookup(&c)?, tail, arch);
                ids.done(&c);
                Ok(Some(ev))
            }
        }
    }

    /// A call record joined with the identity it was made under.
    pub fn from_wire(c: &WireCall, id: &WireIdent, tail: &[u8], arch: Arch) -> TraceEvent {
        TraceEvent {
            start_ns: c.start_ns,
            finish_ns: c.finish_ns,
            args: c.args,
            ret: c.ret,
            cgroup_id: id.cgroup_id,
            context_sw: c.context_sw as u64,
            pid: id.pid,
            tid: c.tid,
            uid: id.uid,
            gid: id.gid,
            container_pid: id.ns_pid,
            session: id.session,
            nr: c.nr,
            ns: Namespaces {
                pid: id.pid_ns,
                mnt: id.mnt_ns,
                uts: id.uts_ns,
                ipc: id.ipc_ns,
                cgroup: id.cgroup_ns,
                net: id.net_ns,
            },
            flags: c.flags,
            arch,
            node: crate::model::node::LOCAL,
            comm: id.comm,
            tail: (!tail.is_empty()).then(|| tail.into()),
        }
    }

    pub fn from_raw(raw: &RawEvent, tail: &[u8], arch: Arch) -> TraceEvent {
        TraceEvent {
            start_ns: raw.start_ns,
            finish_ns: raw.finish_ns,
            args: raw.args,
            ret: raw.ret,
            cgroup_id: raw.cgroup_id,
            context_sw: raw.context_sw,
            pid: raw.pid,
            tid: raw.tid,
            uid: raw.uid,
            gid: raw.gid,
            container_pid: raw.ns_pid,
            session: raw.session,
            nr: raw.nr,
            ns: Namespaces {
                pid: raw.pid_ns,
                mnt: raw.mnt_ns,
                uts: raw.uts_ns,
                ipc: raw.ipc_ns,
                cgroup: raw.cgroup_ns,
                net: raw.net_ns,
            },
            flags: raw.flags,
            arch,
            node: crate::model::node::LOCAL,
            comm: raw.comm,
            tail: (!tail.is_empty()).then(|| tail.into()),
        }
    }

    pub fn syscall(&self) -> Option<&'static SyscallInfo> {
        syscalls::lookup(self.arch, self.nr)
    }

    pub fn name(&self) -> Cow<'static, str> {
        syscalls::name_or_unknown(self.arch, self.nr)
    }

    pub fn class(&self) -> SyscallClass {
        self.syscall().map_or(SyscallClass::Other, |s| s.class)
    }

    /// The errno of a failed call (return value in -4095..=-1).
    pub fn errno(&self) -> Option<u32> {
        if self.returns() {
            errno::from_return(self.ret)
        } else {
            None
        }
    }

    /// False for exit/exit_group, which never come back.
    pub fn returns(&self) -> bool {
        self.flags & F_NO_RETURN == 0
    }

    pub fn truncated(&self) -> bool {
        self.flags & F_TRUNCATED != 0
    }

    pub fn duration_ns(&self) -> u64 {
        self.finish_ns.saturating_sub(self.start_ns)
    }

    /// The command name, raw bytes up to the first NUL.
    pub fn comm_bytes(&self) -> &[u8] {
        let end = self.comm.iter().position(|&b| b == 0).unwrap_or(COMM_LEN);
        &self.comm[..end]
    }

    /// Command name, escaped for display.
    pub fn comm(&self) -> String {
        super::escape::plain(self.comm_bytes(), COMM_LEN)
    }

    /// Whether anything was captured (no chunk to look for otherwise).
    pub fn has_tail(&self) -> bool {
        self.tail.is_some()
    }

    /// Captured chunks (paths, argv, buffers).
    pub fn chunks(&self) -> impl Iterator<Item = Chunk<'_>> {
        // The tail was validated when the event was built.
        Chunks::new(self.tail.as_deref().unwrap_or(&[])).filter_map(Result::ok)
    }

    /// The captured data for argument `arg`, if any.
    pub fn chunk(&self, arg: u8) -> Option<Chunk<'_>> {
        self.chunks().find(|c| c.arg == arg && c.kind != CAP_ARGV)
    }

    /// The first captured path-like string (open's path, execve's file).
    pub fn path(&self) -> Option<&[u8]> {
        self.chunks()
            .find(|c| c.kind == super::raw::CAP_STR)
            .map(|c| c.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::EventBuilder;

    pub(crate) fn openat_enoent() -> TraceEvent {
        let b = EventBuilder::named("openat")
            .ret(-2)
            .start(10)
            .duration(20)
            .pid(5)
            .tid(6)
            .comm("cat")
            .path(1, "/nope");
        let mut ids = Identities::new();
        assert!(TraceEvent::from_record(&mut ids, &b.ident(), Arch::X86_64)
            .unwrap()
            .is_none());
        TraceEvent::from_record(&mut ids, &b.record(), Arch::X86_64)
            .unwrap()
            .expect("a call")
    }

    #[test]
    fn decodes_name_errno_path_and_duration() {
        let ev = openat_enoent();
        assert_eq!(ev.name(), "openat");
        assert_eq!(ev.errno(), Some(2));
        assert_eq!(ev.path(), Some(&b"/nope"[..]));
        assert_eq!(ev.duration_ns(), 20);
        assert_eq!(ev.comm(), "cat");
        assert_eq!((ev.pid, ev.tid), (5, 6));
    }

    #[test]
    fn no_return_calls_have_no_errno() {
        let mut ev = openat_enoent();
        ev.flags = F_NO_RETURN;
        ev.ret = -2;
        assert_eq!(ev.errno(), None);
        assert!(!ev.returns());
    }
}
