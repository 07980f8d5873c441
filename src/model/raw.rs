//! The Rust mirror of the records in src/source/kernel/systrace.h (`WireCall`,
//! `WireIdent`; checked against the C at build time in
//! src/source/kernel/wire.rs), their join (`Identities` -> `RawEvent`), and
//! the parser for the variable tail of captured data that follows a call.

use std::fmt;
use std::mem::offset_of;
use std::sync::Arc;

use super::identity::Identity;

/// Length of `comm` in the kernel (TASK_COMM_LEN).
pub const COMM_LEN: usize = 16;

/// Record flag: the syscall never returns (exit, exit_group); emitted at enter.
pub const F_NO_RETURN: u16 = 0x1;
/// Record flag: a captured string or buffer was cut short.
pub const F_TRUNCATED: u16 = 0x2;

/// Capture kinds, as in `ST_CAP_*`.
pub const CAP_NONE: u8 = 0;
pub const CAP_STR: u8 = 1;
pub const CAP_ARGV: u8 = 2;
pub const CAP_BUF_IN: u8 = 3;
pub const CAP_BUF_OUT: u8 = 4;
pub const CAP_SOCKADDR: u8 = 5;
/// `struct sockaddr` filled by the kernel; its length is read at exit
/// through the pointer in arg `len_arg` (accept, getsockname, recvfrom).
pub const CAP_SOCKADDR_OUT: u8 = 6;
/// A structure: `size` bytes from the argument pointer.
pub const CAP_MEM: u8 = 7;
/// An array of `size`-byte elements; the count is arg `len_arg` or, with
/// [`LEN_RET`], the return value.
pub const CAP_ARR: u8 = 8;
/// `struct iovec[]` and each element's bytes: `[u32 n][n iovecs][u16 len,
/// bytes]...`.
pub const CAP_IOV: u8 = 9;
/// `struct msghdr`, `[u32 name length][name]`, then as [`CAP_IOV`].
pub const CAP_MSGHDR: u8 = 10;
/// `len_arg` of an array: the count is the return value.
pub const LEN_RET: u8 = 0xff;
/// When a structure is copied: always (an input), when the call succeeded,
/// or when it returned a positive count.
pub const W_ALWAYS: u8 = 0;
pub const W_OK: u8 = 1;
pub const W_RET: u8 = 2;
/// `CAP_MEM` only: `min(ret, size)` bytes, when `ret > 0` (getdents64).
pub const W_RET_BYTES: u8 = 3;
/// User-space only: the path an fd argument refers to, added by the fd
/// table (`-y`); `arg` 0xff stands for the returned fd.
pub const CAP_FD_PATH: u8 = 0x80;

/// Plan flags, as in `ST_P_*`.
pub const P_NO_RETURN: u32 = 0x1;
pub const P_REFRESH: u32 = 0x2;
pub const P_AT_ENTER: u32 = 0x4;
/// `flags >> P_NARGS_SHIFT`: 1 + the number of arguments the call takes
/// (0: not known, the kernel sends all six).
pub const P_NARGS_SHIFT: u32 = 8;

/// A syscall with who made it: a call record joined with its thread's
/// identity record (see [`Identities`]). Not a wire layout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawEvent {
    pub start_ns: u64,
    pub finish_ns: u64,
    pub args: [u64; 6],
    pub ret: i64,
    pub cgroup_id: u64,
    pub context_sw: u64,
    pub pid: u32,
    pub tid: u32,
    pub uid: u32,
    pub gid: u32,
    pub ns_pid: u32,
    pub session: u32,
    pub pid_ns: u32,
    pub mnt_ns: u32,
    pub uts_ns: u32,
    pub ipc_ns: u32,
    pub cgroup_ns: u32,
    pub net_ns: u32,
    pub nr: u32,
    pub flags: u16,
    pub tail_len: u16,
    pub comm: [u8; COMM_LEN],
}

/// Record kinds (`ST_K_*`): the first u16 of every ring-buffer record.
pub const K_CALL: u16 = 1;
pub const K_IDENT: u16 = 2;
pub const K_SHORT: u16 = 3;

/// `struct st_short`: a call without captured data, cut after the
/// `nargs` arguments the call takes (the kernel writes `WIRE_SHORT_HEAD +
/// 8 * nargs` bytes of it).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireShort {
    pub kind: u16,
    pub flags: u16,
    pub nargs: u16,
    pub pad: u16,
    pub tid: u32,
    pub gen: u32,
    pub nr: u32,
    pub context_sw: u32,
    pub start_ns: u64,
    pub finish_ns: u64,
    pub ret: i64,
    pub args: [u64; 6],
}
pub const WIRE_SHORT_HEAD: usize = offset_of!(WireShort, args);

/// `struct st_event`: the fixed part of a syscall record, exactly as the
/// kernel writes it; captured chunks follow (`tail_len` bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireCall {
    pub kind: u16,
    pub flags: u16,
    pub tail_len: u16,
    pub pad: u16,
    pub tid: u32,
    /// The generation of `tid`'s identity the call was made under.
    pub gen: u32,
    pub nr: u32,
    pub context_sw: u32,
    pub start_ns: u64,
    pub finish_ns: u64,
    pub args: [u64; 6],
    pub ret: i64,
}
pub const WIRE_CALL_SIZE: usize = 96;
const _: () = assert!(std::mem::size_of::<WireCall>() == WIRE_CALL_SIZE);

/// `struct st_ident`: generation `gen` of thread `tid`'s identity, sent
/// before the first call made under it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireIdent {
    pub kind: u16,
    pub pad: u16,
    pub tid: u32,
    pub gen: u32,
    pub pid: u32,
    pub cgroup_id: u64,
    pub uid: u32,
    pub gid: u32,
    pub ns_pid: u32,
    pub session: u32,
    pub pid_ns: u32,
    pub mnt_ns: u32,
    pub uts_ns: u32,
    pub ipc_ns: u32,
    pub cgroup_ns: u32,
    pub net_ns: u32,
    pub comm: [u8; COMM_LEN],
}
pub const WIRE_IDENT_SIZE: usize = 80;
const _: () = assert!(std::mem::size_of::<WireIdent>() == WIRE_IDENT_SIZE);

/// Mirror of `struct st_cap` / `struct st_plan` (the per-syscall capture plan).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cap {
    pub kind: u8,
    pub arg: u8,
    pub len_arg: u8,
    pub at_enter: u8,
    /// `CAP_MEM`: bytes; `CAP_ARR`: bytes per element.
    pub size: u16,
    /// `CAP_ARR`: most elements copied.
    pub max: u8,
    /// `W_*`.
    pub when: u8,
}

/// Captures per syscall (`ST_MAX_CAPS`).
pub const MAX_CAPS: usize = 4;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub caps: [Cap; MAX_CAPS],
    pub flags: u32,
}
pub const PLAN_SIZE: usize = MAX_CAPS * 8 + 4;
const _: () = assert!(std::mem::size_of::<Plan>() == PLAN_SIZE);

impl Plan {
    pub fn as_bytes(&self) -> [u8; PLAN_SIZE] {
        const CAP: usize = std::mem::size_of::<Cap>();
        let mut b = [0u8; PLAN_SIZE];
        for (i, c) in self.caps.iter().enumerate() {
            let o = offset_of!(Plan, caps) + i * CAP;
            let cap = &mut b[o..o + CAP];
            cap[offset_of!(Cap, kind)] = c.kind;
            cap[offset_of!(Cap, arg)] = c.arg;
            cap[offset_of!(Cap, len_arg)] = c.len_arg;
            cap[offset_of!(Cap, at_enter)] = c.at_enter;
            let s = offset_of!(Cap, size);
            cap[s..s + 2].copy_from_slice(&c.size.to_ne_bytes());
            cap[offset_of!(Cap, max)] = c.max;
            cap[offset_of!(Cap, when)] = c.when;
        }
        let f = offset_of!(Plan, flags);
        b[f..f + 4].copy_from_slice(&self.flags.to_ne_bytes());
        b
    }
}

/// Why a record could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RawError {
    #[error("record too short: {got} bytes, header needs {need}")]
    Short { got: usize, need: usize },
    #[error("record tail is {got} bytes, header says {declared}")]
    TailMismatch { got: usize, declared: usize },
    #[error("captured chunk at offset {offset} runs past the end of the record")]
    BadChunk { offset: usize },
    #[error("short call record of {got} bytes with {nargs} arguments")]
    ShortArgs { nargs: usize, got: usize },
    #[error("unknown record kind {0}")]
    Kind(u16),
    #[error("call of thread {tid} under identity {gen}, which was never sent")]
    NoIdentity { tid: u32, gen: u32 },
}

fn rd_u64(b: &[u8], o: usize) -> u64 {
    u64::from_ne_bytes(b[o..o + 8].try_into().expect("8 bytes"))
}
fn rd_u32(b: &[u8], o: usize) -> u32 {
    u32::from_ne_bytes(b[o..o + 4].try_into().expect("4 bytes"))
}
fn rd_u16(b: &[u8], o: usize) -> u16 {
    u16::from_ne_bytes(b[o..o + 2].try_into().expect("2 bytes"))
}

/// One ring-buffer record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record<'a> {
    /// A call and its validated tail.
    Call(WireCall, &'a [u8]),
    Ident(WireIdent),
}

/// Parses one record, field by field (an unaligned buffer is fine). The
/// ring buffer may pad a record to 8 bytes: up to 7 extra are allowed.
pub fn parse_record(bytes: &[u8]) -> Result<Record<'_>, RawError> {
    if bytes.len() < 2 {
        return Err(RawError::Short {
            got: bytes.len(),
            need: WIRE_IDENT_SIZE,
        });
    }
    match rd_u16(bytes, 0) {
        K_CALL => WireCall::from_bytes(bytes).map(|(c, t)| Record::Call(c, t)),
        K_SHORT => WireCall::from_short(bytes).map(|c| Record::Call(c, &[])),
        K_IDENT => WireIdent::from_bytes(bytes).map(Record::Ident),
        k => Err(RawError::Kind(k)),
    }
}

impl WireCall {
    /// Parses a short call record (`st_short`): the arguments it does not
    /// carry, which the call does not take, are 0.
    pub fn from_short(bytes: &[u8]) -> Result<WireCall, RawError> {
        if bytes.len() < WIRE_SHORT_HEAD {
            return Err(RawError::Short {
                got: bytes.len(),
                need: WIRE_SHORT_HEAD,
            });
        }
        macro_rules! at {
            ($rd:ident, $f:ident) => {
                $rd(bytes, offset_of!(WireShort, $f))
            };
        }
        let nargs = at!(rd_u16, nargs) as usize;
        let need = WIRE_SHORT_HEAD + 8 * nargs;
        // The ring pads a record to 8 bytes: never more than 7 extra.
        if nargs > 6 || bytes.len() < need || bytes.len() > need + 7 {
            return Err(RawError::ShortArgs {
                nargs,
                got: bytes.len(),
            });
        }
        let mut args = [0u64; 6];
        for (i, a) in args[..nargs].iter_mut().enumerate() {
            *a = rd_u64(bytes, WIRE_SHORT_HEAD + i * 8);
        }
        Ok(WireCall {
            kind: K_CALL,
            flags: at!(rd_u16, flags),
            tail_len: 0,
            pad: 0,
            tid: at!(rd_u32, tid),
            gen: at!(rd_u32, gen),
            nr: at!(rd_u32, nr),
            context_sw: at!(rd_u32, context_sw),
            start_ns: at!(rd_u64, start_ns),
            finish_ns: at!(rd_u64, finish_ns),
            args,
            ret: at!(rd_u64, ret) as i64,
        })
    }

    /// Parses a call record's header and returns it with its validated tail.
    pub fn from_bytes(bytes: &[u8]) -> Result<(WireCall, &[u8]), RawError> {
        if bytes.len() < WIRE_CALL_SIZE {
            return Err(RawError::Short {
                got: bytes.len(),
                need: WIRE_CALL_SIZE,
            });
        }
        let b = &bytes[..WIRE_CALL_SIZE];
        macro_rules! at {
            ($rd:ident, $f:ident) => {
                $rd(b, offset_of!(WireCall, $f))
            };
        }
        let mut args = [0u64; 6];
        for (i, a) in args.iter_mut().enumerate() {
            *a = rd_u64(b, offset_of!(WireCall, args) + i * 8);
        }
        let c = WireCall {
            kind: at!(rd_u16, kind),
            flags: at!(rd_u16, flags),
            tail_len: at!(rd_u16, tail_len),
            pad: at!(rd_u16, pad),
            tid: at!(rd_u32, tid),
            gen: at!(rd_u32, gen),
            nr: at!(rd_u32, nr),
            context_sw: at!(rd_u32, context_sw),
            start_ns: at!(rd_u64, start_ns),
            finish_ns: at!(rd_u64, finish_ns),
            args,
            ret: at!(rd_u64, ret) as i64,
        };
        let tail = &bytes[WIRE_CALL_SIZE..];
        let declared = c.tail_len as usize;
        if tail.len() < declared || tail.len() > declared + 7 {
            return Err(RawError::TailMismatch {
                got: tail.len(),
                declared,
            });
        }
        let tail = &tail[..declared];
        // Validate now so later readers of the tail cannot fail.
        Chunks::new(tail).try_for_each(|c| c.map(|_| ()))?;
        Ok((c, tail))
    }

    /// The header as the kernel writes it (tests, fuzzing, session files).
    pub fn to_bytes(&self) -> [u8; WIRE_CALL_SIZE] {
        let mut b = [0u8; WIRE_CALL_SIZE];
        macro_rules! put {
            ($f:ident, $v:expr) => {{
                let v = $v;
                let o = offset_of!(WireCall, $f);
                b[o..o + v.len()].copy_from_slice(&v);
            }};
        }
        put!(kind, self.kind.to_ne_bytes());
        put!(flags, self.flags.to_ne_bytes());
        put!(tail_len, self.tail_len.to_ne_bytes());
        put!(pad, self.pad.to_ne_bytes());
        put!(tid, self.tid.to_ne_bytes());
        put!(gen, self.gen.to_ne_bytes());
        put!(nr, self.nr.to_ne_bytes());
        put!(context_sw, self.context_sw.to_ne_bytes());
        put!(start_ns, self.start_ns.to_ne_bytes());
        put!(finish_ns, self.finish_ns.to_ne_bytes());
        for (i, a) in self.args.iter().enumerate() {
            let o = offset_of!(WireCall, args) + i * 8;
            b[o..o + 8].copy_from_slice(&a.to_ne_bytes());
        }
        put!(ret, self.ret.to_ne_bytes());
        b
    }
}

impl WireIdent {
    pub fn from_bytes(bytes: &[u8]) -> Result<WireIdent, RawError> {
        if bytes.len() < WIRE_IDENT_SIZE || bytes.len() > WIRE_IDENT_SIZE + 7 {
            return Err(RawError::Short {
                got: bytes.len(),
                need: WIRE_IDENT_SIZE,
            });
        }
        let b = bytes;
        macro_rules! at {
            ($rd:ident, $f:ident) => {
                $rd(b, offset_of!(WireIdent, $f))
            };
        }
        let mut comm = [0u8; COMM_LEN];
        let c = offset_of!(WireIdent, comm);
        comm.copy_from_slice(&b[c..c + COMM_LEN]);
        Ok(WireIdent {
            kind: at!(rd_u16, kind),
            pad: at!(rd_u16, pad),
            tid: at!(rd_u32, tid),
            gen: at!(rd_u32, gen),
            pid: at!(rd_u32, pid),
            cgroup_id: at!(rd_u64, cgroup_id),
            uid: at!(rd_u32, uid),
            gid: at!(rd_u32, gid),
            ns_pid: at!(rd_u32, ns_pid),
            session: at!(rd_u32, session),
            pid_ns: at!(rd_u32, pid_ns),
            mnt_ns: at!(rd_u32, mnt_ns),
            uts_ns: at!(rd_u32, uts_ns),
            ipc_ns: at!(rd_u32, ipc_ns),
            cgroup_ns: at!(rd_u32, cgroup_ns),
            net_ns: at!(rd_u32, net_ns),
            comm,
        })
    }

    pub fn to_bytes(&self) -> [u8; WIRE_IDENT_SIZE] {
        let mut b = [0u8; WIRE_IDENT_SIZE];
        macro_rules! put {
            ($f:ident, $v:expr) => {{
                let v = $v;
                let o = offset_of!(WireIdent, $f);
                b[o..o + v.len()].copy_from_slice(&v);
            }};
        }
        put!(kind, self.kind.to_ne_bytes());
        put!(pad, self.pad.to_ne_bytes());
        put!(tid, self.tid.to_ne_bytes());
        put!(gen, self.gen.to_ne_bytes());
        put!(pid, self.pid.to_ne_bytes());
        put!(cgroup_id, self.cgroup_id.to_ne_bytes());
        put!(uid, self.uid.to_ne_bytes());
        put!(gid, self.gid.to_ne_bytes());
        put!(ns_pid, self.ns_pid.to_ne_bytes());
        put!(session, self.session.to_ne_bytes());
        put!(pid_ns, self.pid_ns.to_ne_bytes());
        put!(mnt_ns, self.mnt_ns.to_ne_bytes());
        put!(uts_ns, self.uts_ns.to_ne_bytes());
        put!(ipc_ns, self.ipc_ns.to_ne_bytes());
        put!(cgroup_ns, self.cgroup_ns.to_ne_bytes());
        put!(net_ns, self.net_ns.to_ne_bytes());
        put!(comm, self.comm);
        b
    }
}

impl RawEvent {
    /// Joins a call with the identity it was made under.
    pub fn join(c: &WireCall, id: &WireIdent) -> RawEvent {
        RawEvent {
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
            ns_pid: id.ns_pid,
            session: id.session,
            pid_ns: id.pid_ns,
            mnt_ns: id.mnt_ns,
            uts_ns: id.uts_ns,
            ipc_ns: id.ipc_ns,
            cgroup_ns: id.cgroup_ns,
            net_ns: id.net_ns,
            nr: c.nr,
            flags: c.flags,
            tail_len: c.tail_len,
            comm: id.comm,
        }
    }

    /// Splits into the two records the kernel would send (identity
    /// generation `gen`): the event builder (`model::testing`).
    pub fn to_wire(&self, gen: u32) -> (WireIdent, WireCall) {
        (
            WireIdent {
                kind: K_IDENT,
                pad: 0,
                tid: self.tid,
                gen,
                pid: self.pid,
                cgroup_id: self.cgroup_id,
                uid: self.uid,
                gid: self.gid,
                ns_pid: self.ns_pid,
                session: self.session,
                pid_ns: self.pid_ns,
                mnt_ns: self.mnt_ns,
                uts_ns: self.uts_ns,
                ipc_ns: self.ipc_ns,
                cgroup_ns: self.cgroup_ns,
                net_ns: self.net_ns,
                comm: self.comm,
            },
            WireCall {
                kind: K_CALL,
                flags: self.flags,
                tail_len: self.tail_len,
                pad: 0,
                tid: self.tid,
                gen,
                nr: self.nr,
                context_sw: self.context_sw as u32,
                start_ns: self.start_ns,
                finish_ns: self.finish_ns,
                args: self.args,
                ret: self.ret,
            },
        )
    }
}

/// The identities seen so far, per thread: joins each call record with
/// the identity record it names. Entries go when a thread's last call
/// (exit, exit_group) has been joined; a thread id reused later starts with
/// a new identity record anyway.
#[derive(Debug, Default)]
pub struct Identities {
    /// Looked up at every call. No "last used" copy in front of it: the
    /// CPUs' calls interleave in the ring, so it mostly missed, and each
    /// miss cloned an identity (two reference-count changes).
    by_tid: std::collections::HashMap<u32, Known, std::hash::BuildHasherDefault<TidHasher>>,
}

/// An identity record as sent, and the shared form events hold (built once
/// per record).
type Known = (WireIdent, Arc<Identity>);

/// Thread ids are small integers, not attacker-chosen keys: one multiply
/// instead of SipHash (the join runs once per event).
#[derive(Debug, Default)]
pub struct TidHasher(u64);

impl std::hash::Hasher for TidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

impl Identities {
    pub fn new() -> Identities {
        Identities::default()
    }

    /// Takes one record: an identity is remembered (`None`), a call comes
    /// back joined with its tail.
    pub fn push<'a>(&mut self, bytes: &'a [u8]) -> Result<Option<(RawEvent, &'a [u8])>, RawError> {
        match parse_record(bytes)? {
            Record::Ident(id) => {
                self.insert(id);
                Ok(None)
            }
            Record::Call(c, tail) => self.join(&c).map(|r| Some((r, tail))),
        }
    }

    /// Remembers an identity record.
    pub fn insert(&mut self, id: WireIdent) {
        let known = (id, Arc::new(Identity::from_wire(&id)));
        self.by_tid.insert(id.tid, known);
    }

    fn find(&mut self, c: &WireCall) -> Result<&Known, RawError> {
        match self.by_tid.get(&c.tid) {
            Some(k) if k.0.gen == c.gen => Ok(k),
            _ => Err(RawError::NoIdentity {
                tid: c.tid,
                gen: c.gen,
            }),
        }
    }

    /// The identity a call was made under, as sent.
    pub fn lookup(&mut self, c: &WireCall) -> Result<&WireIdent, RawError> {
        self.find(c).map(|k| &k.0)
    }

    /// The identity a call was made under, as events share it.
    pub fn shared(&mut self, c: &WireCall) -> Result<&Arc<Identity>, RawError> {
        self.find(c).map(|k| &k.1)
    }

    /// After a call was joined: a thread's last call (exit, exit_group)
    /// ends its identity.
    pub fn done(&mut self, c: &WireCall) {
        if c.flags & F_NO_RETURN != 0 {
            self.by_tid.remove(&c.tid);
        }
    }

    /// Joins a call with its thread's current identity.
    pub fn join(&mut self, c: &WireCall) -> Result<RawEvent, RawError> {
        let r = RawEvent::join(c, self.lookup(c)?);
        self.done(c);
        Ok(r)
    }

    /// Threads with an identity on hand.
    pub fn len(&self) -> usize {
        self.by_tid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_tid.is_empty()
    }
}

/// One captured item from a record's tail.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    pub arg: u8,
    pub kind: u8,
    pub data: &'a [u8],
}

impl fmt::Debug for Chunk<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Chunk{{arg:{}, kind:{}, {:?}}}",
            self.arg,
            self.kind,
            String::from_utf8_lossy(self.data)
        )
    }
}

/// Iterator over the chunks of a tail: `u16 len, u8 arg, u8 kind, data`.
pub struct Chunks<'a> {
    tail: &'a [u8],
    off: usize,
}

impl<'a> Chunks<'a> {
    pub fn new(tail: &'a [u8]) -> Self {
        Chunks { tail, off: 0 }
    }
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<Chunk<'a>, RawError>;
    fn next(&mut self) -> Option<Self::Item> {
        let rest = &self.tail[self.off..];
        if rest.is_empty() {
            return None;
        }
        let offset = self.off;
        if rest.len() < 4 {
            self.off = self.tail.len();
            return Some(Err(RawError::BadChunk { offset }));
        }
        let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
        if rest.len() < 4 + len {
            self.off = self.tail.len();
            return Some(Err(RawError::BadChunk { offset }));
        }
        self.off += 4 + len;
        Some(Ok(Chunk {
            arg: rest[2],
            kind: rest[3],
            data: &rest[4..4 + len],
        }))
    }
}

/// Bytes before each chunk's data: `u16 len, u8 arg, u8 kind`.
pub const CHUNK_HEAD: usize = 4;

/// Starts a chunk at the end of `v` with length 0: append its data, then
/// [`set_chunk_len`] on the slice from here (replay, which decodes each
/// chunk's data in place).
pub fn push_chunk_head(v: &mut Vec<u8>, arg: u8, kind: u8) {
    v.extend_from_slice(&[0, 0, arg, kind]);
}

/// Sets the length of the chunk that `chunk` starts with.
pub fn set_chunk_len(chunk: &mut [u8], len: u16) {
    chunk[..2].copy_from_slice(&len.to_ne_bytes());
}

/// Builds a tail from chunks (tests, fuzzing, replay).
pub fn encode_chunks(chunks: &[Chunk<'_>]) -> Vec<u8> {
    let mut v = Vec::new();
    for c in chunks {
        let at = v.len();
        push_chunk_head(&mut v, c.arg, c.kind);
        v.extend_from_slice(c.data);
        set_chunk_len(&mut v[at..], c.data.len() as u16);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::Namespaces;
    use crate::model::testing::EventBuilder;

    /// Every field set, and each to a different value.
    fn builder() -> EventBuilder {
        EventBuilder::new()
            .nr(257)
            .start(100)
            .duration(150)
            .args(&[1, 2, 3, 4, 5, 6])
            .ret(-2)
            .cgroup(77)
            .pid(10)
            .tid(11)
            .uid(1000)
            .gid(1001)
            .flags(F_TRUNCATED)
            .comm("bash")
            .context_switches(3)
            .ns_pid(1, 9)
            .ns(Namespaces {
                pid: 0xf000_0001,
                mnt: 0xf000_0002,
                uts: 0xf000_0003,
                ipc: 0xf000_0004,
                cgroup: 0xf000_0005,
                net: 0xf000_0006,
            })
    }

    fn sample() -> RawEvent {
        builder().raw()
    }

    #[test]
    fn joins_back_what_was_split() {
        let ev = sample();
        let [id, call] = builder().records();
        let mut ids = Identities::new();
        assert_eq!(ids.push(&id).unwrap(), None);
        let (back, tail) = ids.push(&call).unwrap().unwrap();
        assert_eq!(back, ev);
        assert!(tail.is_empty());
    }

    /// A short record as the kernel writes it: `nargs` arguments, `pad`
    /// bytes of the ring's alignment after them.
    fn short(c: &WireCall, nargs: u16, pad: usize) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&K_SHORT.to_ne_bytes());
        b.extend_from_slice(&c.flags.to_ne_bytes());
        b.extend_from_slice(&nargs.to_ne_bytes());
        b.extend_from_slice(&[0, 0]);
        for v in [c.tid, c.gen, c.nr, c.context_sw] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        for v in [c.start_ns, c.finish_ns, c.ret as u64] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        assert_eq!(b.len(), WIRE_SHORT_HEAD);
        for a in &c.args[..usize::from(nargs).min(6)] {
            b.extend_from_slice(&a.to_ne_bytes());
        }
        b.resize(b.len() + pad, 0xee);
        b
    }

    #[test]
    fn short_records_carry_the_arguments_the_call_takes() {
        let (_, c) = builder().wire();
        for nargs in 0..=6u16 {
            let n = usize::from(nargs);
            let mut want = WireCall { tail_len: 0, ..c };
            want.args[n..].fill(0);
            for pad in [0, 7] {
                let b = short(&c, nargs, pad);
                let Record::Call(got, tail) = parse_record(&b).unwrap() else {
                    panic!("not a call")
                };
                assert_eq!((got, tail), (want, &[][..]), "{nargs} args, {pad} padding");
            }
            // Cut short, padded beyond the ring's 7 bytes: errors.
            for bad in [
                short(&c, nargs, 8),
                short(&c, nargs, 0)[..WIRE_SHORT_HEAD + 8 * n - 1].to_vec(),
            ] {
                assert!(parse_record(&bad).is_err(), "{nargs}: {} bytes", bad.len());
            }
        }
        // More arguments than a call has.
        let mut seven = short(&c, 6, 0);
        seven[4] = 7;
        seven.extend_from_slice(&[0; 8]);
        assert_eq!(
            parse_record(&seven).unwrap_err().to_string(),
            "short call record of 104 bytes with 7 arguments"
        );
    }

    #[test]
    fn field_offsets_match_the_c_layout() {
        let (id, call) = builder().gen(7).wire();
        // Same bytes as a raw memory copy of the repr(C) structs.
        let mem: [u8; WIRE_CALL_SIZE] = unsafe { std::mem::transmute(call) };
        assert_eq!(mem, call.to_bytes());
        let mem: [u8; WIRE_IDENT_SIZE] = unsafe { std::mem::transmute(id) };
        assert_eq!(mem, id.to_bytes());
        assert_eq!(WireIdent::from_bytes(&id.to_bytes()).unwrap(), id);
    }

    #[test]
    fn a_call_under_an_identity_never_sent_is_an_error() {
        let ev = builder();
        let [id, call] = ev.clone().gen(2).records();
        let mut ids = Identities::new();
        assert_eq!(
            ids.push(&call).unwrap_err(),
            RawError::NoIdentity { tid: 11, gen: 2 }
        );
        ids.push(&id).unwrap();
        // An older generation is not the current one either.
        let old = ev.clone().gen(1).record();
        assert_eq!(
            ids.push(&old).unwrap_err(),
            RawError::NoIdentity { tid: 11, gen: 1 }
        );
        assert!(ids.push(&call).unwrap().is_some());
        // A newer generation replaces the one just used (and cached).
        let [id3, call3] = ev.clone().gen(3).records();
        ids.push(&id3).unwrap();
        assert_eq!(
            ids.push(&call).unwrap_err(),
            RawError::NoIdentity { tid: 11, gen: 2 }
        );
        assert!(ids.push(&call3).unwrap().is_some());
        // Another thread in between, then back.
        let [id12, call12] = ev.tid(12).records();
        ids.push(&id12).unwrap();
        assert_eq!(ids.push(&call12).unwrap().unwrap().0.tid, 12);
        assert_eq!(ids.push(&call3).unwrap().unwrap().0.tid, 11);
    }

    #[test]
    fn a_new_generation_replaces_the_old_and_exit_forgets_the_thread() {
        let mut ids = Identities::new();
        ids.push(&builder().ident()).unwrap();
        let [id, call] = builder()
            .uid(0)
            .comm("sudo")
            .flags(F_NO_RETURN)
            .gen(2)
            .records();
        ids.push(&id).unwrap();
        let (back, _) = ids.push(&call).unwrap().unwrap();
        assert_eq!((back.uid, &back.comm[..4]), (0, &b"sudo"[..]));
        assert!(ids.is_empty());
    }

    #[test]
    fn truncated_records_are_errors() {
        let [id, call] = builder().records();
        for n in [0, 1, 8, 60, WIRE_CALL_SIZE - 1] {
            assert!(matches!(
                parse_record(&call[..n]),
                Err(RawError::Short { .. })
            ));
        }
        for n in [2, 40, WIRE_IDENT_SIZE - 1] {
            assert!(matches!(
                parse_record(&id[..n]),
                Err(RawError::Short { .. })
            ));
        }
        let mut odd = call.clone();
        odd[0] = 9;
        assert_eq!(parse_record(&odd).unwrap_err(), RawError::Kind(9));
    }

    #[test]
    fn tail_is_parsed_and_padding_tolerated() {
        let mut bytes = builder().path(1, "/etc/passwd").record();
        bytes.extend_from_slice(&[0; 5]); // ring-buffer alignment padding
        let (_, t) = WireCall::from_bytes(&bytes).unwrap();
        let chunks: Vec<_> = Chunks::new(t).map(|c| c.unwrap()).collect();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].data, b"/etc/passwd");
        assert_eq!(chunks[0].arg, 1);
    }

    #[test]
    fn oversized_or_inconsistent_records_are_errors() {
        let mut bytes = builder().record();
        let at = offset_of!(WireCall, tail_len);
        bytes[at..at + 2].copy_from_slice(&10u16.to_ne_bytes()); // 4 bytes there
        bytes.extend_from_slice(&[0; 4]);
        assert!(matches!(
            WireCall::from_bytes(&bytes),
            Err(RawError::TailMismatch { .. })
        ));
        // More than padding beyond the declared tail.
        let mut bytes = builder().record();
        bytes.extend_from_slice(&[0; 64]);
        assert!(matches!(
            WireCall::from_bytes(&bytes),
            Err(RawError::TailMismatch { .. })
        ));
        // A chunk that claims more data than is there.
        let mut bytes = builder().chunk(1, CAP_STR, "ab").record();
        bytes[WIRE_CALL_SIZE] = 200; // its length
        assert_eq!(
            WireCall::from_bytes(&bytes).unwrap_err(),
            RawError::BadChunk { offset: 0 }
        );
    }
}
