//! Crafted events for unit and integration tests, benchmarks and fuzz
//! targets (the `testing` feature). One builder, so a test names only what
//! it cares about and the wire encoding is written once, as in
//! `EventBuilder::named("openat").ret(-2).path(1, "/nope").comm("cat").build()`.
//! The ring buffer carries a call as two records, the thread's identity
//! (`ident`, sent once per generation) and the call (`record`).

use super::event::{Namespaces, TraceEvent};
use super::raw::{encode_chunks, Chunk, RawEvent, WireCall, WireIdent, CAP_STR, COMM_LEN};
use super::syscalls::{self, Arch};

/// A syscall record, built field by field. Everything not set is zero; the
/// arch is x86_64 unless set.
#[derive(Clone, Debug)]
pub struct EventBuilder {
    raw: RawEvent,
    arch: Arch,
    /// Resolved in `arch` when the event is built, so `arch` may come later.
    name: Option<String>,
    duration: u64,
    /// The identity generation the call is made under (1 unless set).
    gen: u32,
    tail: Vec<u8>,
}

impl Default for EventBuilder {
    fn default() -> Self {
        EventBuilder {
            raw: RawEvent::default(),
            arch: Arch::X86_64,
            name: None,
            duration: 0,
            gen: 1,
            tail: Vec::new(),
        }
    }
}

/// Setters of one header field each.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty => $field:ident),+ $(,)?) => {
        $($(#[$doc])* pub fn $name(mut self, v: $ty) -> Self {
            self.raw.$field = v;
            self
        })+
    };
}

impl EventBuilder {
    setters! {
        ret: i64 => ret,
        tid: u32 => tid,
        uid: u32 => uid,
        gid: u32 => gid,
        cgroup: u64 => cgroup_id,
        /// When the call started; it ends `duration` later (0 unless set).
        start: u64 => start_ns,
        flags: u16 => flags,
        context_switches: u64 => context_sw,
    }

    pub fn new() -> Self {
        Self::default()
    }

    /// A call of the syscall `name` (looked up in the arch when built).
    pub fn named(name: &str) -> Self {
        Self::new().name(name)
    }

    /// The syscall by name; panics at `build` if the arch has none such.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// The syscall by number (no table needs to know it).
    pub fn nr(mut self, nr: u32) -> Self {
        self.name = None;
        self.raw.nr = nr;
        self
    }

    pub fn arch(mut self, arch: Arch) -> Self {
        self.arch = arch;
        self
    }

    /// The first `args.len()` arguments; the rest stay 0.
    pub fn args(mut self, args: &[u64]) -> Self {
        self.raw.args = [0; 6];
        self.raw.args[..args.len()].copy_from_slice(args);
        self
    }

    /// Appends captured data for argument `arg`.
    pub fn chunk(mut self, arg: u8, kind: u8, data: impl AsRef<[u8]>) -> Self {
        self.tail.extend_from_slice(&encode_chunks(&[Chunk {
            arg,
            kind,
            data: data.as_ref(),
        }]));
        self
    }

    /// Appends captured chunks.
    pub fn chunks(mut self, chunks: &[Chunk<'_>]) -> Self {
        self.tail.extend_from_slice(&encode_chunks(chunks));
        self
    }

    /// Appends a captured path (a string) for argument `arg`.
    pub fn path(self, arg: u8, path: impl AsRef<[u8]>) -> Self {
        self.chunk(arg, CAP_STR, path)
    }

    /// The process, single-threaded: pid and tid both (see [`Self::tid`]).
    pub fn pid(mut self, pid: u32) -> Self {
        self.raw.pid = pid;
        self.raw.tid = pid;
        self
    }

    /// The command name, cut to the kernel's 16 bytes.
    pub fn comm(mut self, comm: impl AsRef<[u8]>) -> Self {
        let c = comm.as_ref();
        let n = c.len().min(COMM_LEN);
        self.raw.comm = [0; COMM_LEN];
        self.raw.comm[..n].copy_from_slice(&c[..n]);
        self
    }

    /// The generation of the thread's identity the call names: a new one
    /// stands for a changed identity (exec, setuid, setns...).
    pub fn gen(mut self, gen: u32) -> Self {
        self.gen = gen;
        self
    }

    pub fn duration(mut self, ns: u64) -> Self {
        self.duration = ns;
        self
    }

    /// The task's namespaces, as `TraceEvent::ns` has them.
    pub fn ns(mut self, ns: Namespaces) -> Self {
        let r = &mut self.raw;
        (r.pid_ns, r.mnt_ns, r.uts_ns) = (ns.pid, ns.mnt, ns.uts);
        (r.ipc_ns, r.cgroup_ns, r.net_ns) = (ns.ipc, ns.cgroup, ns.net);
        self
    }

    /// The pid inside its pid namespace, and the session id.
    pub fn ns_pid(mut self, ns_pid: u32, session: u32) -> Self {
        self.raw.ns_pid = ns_pid;
        self.raw.session = session;
        self
    }

    /// The call joined with its identity, `tail_len` included.
    pub fn raw(&self) -> RawEvent {
        let mut raw = self.raw;
        if let Some(name) = &self.name {
            raw.nr = syscalls::by_name(self.arch, name)
                .unwrap_or_else(|| panic!("no syscall {name} on {:?}", self.arch))
                .nr;
        }
        raw.finish_ns = raw.start_ns + self.duration;
        raw.tail_len = u16::try_from(self.tail.len()).expect("tail fits a record");
        raw
    }

    /// The two wire records: the identity and the call's fixed part.
    pub fn wire(&self) -> (WireIdent, WireCall) {
        self.raw().to_wire(self.gen)
    }

    /// The identity record (`st_ident`) the kernel sends before the first
    /// call of this thread and generation.
    pub fn ident(&self) -> Vec<u8> {
        self.wire().0.to_bytes().to_vec()
    }

    /// The call's ring-buffer record (`st_event`, then the captured tail);
    /// it joins only after [`Self::ident`]'s record.
    pub fn record(&self) -> Vec<u8> {
        let mut bytes = self.wire().1.to_bytes().to_vec();
        bytes.extend_from_slice(&self.tail);
        bytes
    }

    /// Both records, as the ring buffer has them for a thread's first call.
    pub fn records(&self) -> [Vec<u8>; 2] {
        [self.ident(), self.record()]
    }

    pub fn build(&self) -> TraceEvent {
        TraceEvent::from_raw(&self.raw(), &self.tail, self.arch)
    }
}
