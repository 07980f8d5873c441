//! `TraceEvent`: one decoded syscall, and the `Event` stream the pipeline
//! carries (syscalls, lost-event counts, containers coming and going).

use std::borrow::Cow;
use std::sync::Arc;

use super::container::{ContainerAddEvent, ContainerDelEvent};
use super::errno;
use super::identity::{intern, Identity};
use super::raw::{
    parse_record, Chunk, Chunks, Identities, RawError, RawEvent, Record, WireCall, CAP_ARGV,
    COMM_LEN, F_NO_RETURN, F_TRUNCATED,
};
use super::syscalls::{self, Arch, SyscallClass, SyscallInfo};
use super::tail::Tail;

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
/// session holds millions of these, so who made the call is shared with the
/// thread's other calls (`id`) and the captured data sits behind a thin
/// pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    pub start_ns: u64,
    pub finish_ns: u64,
    pub args: [u64; 6],
    pub ret: i64,
    /// Pid, tid, command, cgroup, namespaces...: one allocation per thread
    /// and identity generation, not per event.
    pub id: Arc<Identity>,
    /// Captured user memory (paths, argv, buffers), as chunks; validated.
    pub tail: Option<Tail>,
    /// Context switches during the call (the kernel counts in 32 bits).
    pub context_sw: u32,
    pub nr: u32,
    pub flags: u16,
    /// The node the call was made on (`model::node`); 0 for this machine.
    pub node: u16,
    pub arch: Arch,
}

/// What a retained event costs inline (the budget bench's memory figure is
/// this plus a share of tails and identities).
pub const TRACE_EVENT_MAX_SIZE: usize = 104;
const _: () = assert!(std::mem::size_of::<TraceEvent>() <= TRACE_EVENT_MAX_SIZE);

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
            Record::Call(c, tail) => TraceEvent::from_call(ids, &c, tail, arch).map(Some),
        }
    }

    /// A call joined with its thread's current identity.
    pub fn from_call(
        ids: &mut Identities,
        c: &WireCall,
        tail: &[u8],
        arch: Arch,
    ) -> Result<TraceEvent, RawError> {
        let ev = TraceEvent::from_wire(c, ids.shared(c)?.clone(), tail, arch);
        ids.done(c);
        Ok(ev)
    }

    /// A call record joined with the identity it was made under.
    pub fn from_wire(c: &WireCall, id: Arc<Identity>, tail: &[u8], arch: Arch) -> TraceEvent {
        TraceEvent {
            start_ns: c.start_ns,
            finish_ns: c.finish_ns,
            args: c.args,
            ret: c.ret,
            id,
            tail: (!tail.is_empty()).then(|| tail.into()),
            context_sw: c.context_sw,
            nr: c.nr,
            flags: c.flags,
            node: crate::model::node::LOCAL,
            arch,
        }
    }

    /// An already joined call; its identity is interned (shared with the
    /// other events of this thread that have the same one).
    pub fn from_raw(raw: &RawEvent, tail: &[u8], arch: Arch) -> TraceEvent {
        TraceEvent {
            start_ns: raw.start_ns,
            finish_ns: raw.finish_ns,
            args: raw.args,
            ret: raw.ret,
            id: intern(Identity {
                cgroup_id: raw.cgroup_id,
                pid: raw.pid,
                tid: raw.tid,
                uid: raw.uid,
                gid: raw.gid,
                container_pid: raw.ns_pid,
                session: raw.session,
                ns: Namespaces {
                    pid: raw.pid_ns,
                    mnt: raw.mnt_ns,
                    uts: raw.uts_ns,
                    ipc: raw.ipc_ns,
                    cgroup: raw.cgroup_ns,
                    net: raw.net_ns,
                },
                comm: raw.comm,
            }),
            tail: (!tail.is_empty()).then(|| tail.into()),
            context_sw: raw.context_sw.min(u32::MAX as u64) as u32,
            nr: raw.nr,
            flags: raw.flags,
            node: crate::model::node::LOCAL,
            arch,
        }
    }

    /// The identity, to change one field of it; shared no more (see
    /// [`Self::relabel_cgroup`] for a change made to every event).
    pub fn id_mut(&mut self) -> &mut Identity {
        Arc::make_mut(&mut self.id)
    }

    /// Moves the event to another cgroup id, the new identity interned so
    /// the thread's events keep sharing one.
    pub fn relabel_cgroup(&mut self, cgroup_id: u64) {
        if self.id.cgroup_id != cgroup_id {
            self.id = intern(Identity {
                cgroup_id,
                ..(*self.id).clone()
            });
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
        let comm = &self.id.comm;
        let end = comm.iter().position(|&b| b == 0).unwrap_or(COMM_LEN);
        &comm[..end]
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
        assert_eq!((ev.id.pid, ev.id.tid), (5, 6));
    }

    #[test]
    fn an_event_stays_within_its_size_bound() {
        // The retained-memory budget rests on this (see BENCHMARKS.md).
        let size = std::mem::size_of::<TraceEvent>();
        assert!(size <= TRACE_EVENT_MAX_SIZE && size <= 104, "{size} bytes");
    }

    #[test]
    fn calls_joined_with_one_identity_record_share_it() {
        let mut ids = Identities::new();
        let b = EventBuilder::named("getppid").pid(5).tid(6).comm("sh");
        let other = EventBuilder::named("getppid").pid(5).tid(7).comm("sh");
        let later = b.clone().gen(2).uid(1000);
        let mut join = |bytes: &[u8]| TraceEvent::from_record(&mut ids, bytes, Arch::X86_64);
        assert!(join(&b.ident()).unwrap().is_none());
        assert!(join(&other.ident()).unwrap().is_none());
        let one = join(&b.record()).unwrap().expect("a call");
        let o = join(&other.record()).unwrap().expect("a call");
        let two = join(&b.start(5).record()).unwrap().expect("a call");
        assert!(Arc::ptr_eq(&one.id, &two.id));
        assert!(!Arc::ptr_eq(&one.id, &o.id));
        assert_eq!((one.id.tid, o.id.tid), (6, 7));
        // A new generation is a new identity; the old calls keep theirs.
        assert!(join(&later.ident()).unwrap().is_none());
        let three = join(&later.record()).unwrap().expect("a call");
        assert!(!Arc::ptr_eq(&one.id, &three.id));
        assert_eq!((one.id.uid, three.id.uid), (0, 1000));
    }

    #[test]
    fn crafted_events_of_one_thread_share_their_identity() {
        let b = EventBuilder::named("read").pid(9).comm("cat");
        let (x, y) = (b.build(), b.clone().ret(4).build());
        assert!(Arc::ptr_eq(&x.id, &y.id));
    }

    #[test]
    fn a_relabelled_event_shares_the_relabelled_identity() {
        let b = EventBuilder::named("read").pid(9).comm("cat");
        let (mut x, mut y) = (b.build(), b.build());
        x.relabel_cgroup(42);
        y.relabel_cgroup(42);
        assert_eq!(x.id.cgroup_id, 42);
        assert!(Arc::ptr_eq(&x.id, &y.id));
        assert_ne!(b.build().id.cgroup_id, 42);
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
