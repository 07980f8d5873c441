//! `RawEvent`: the Rust mirror of `struct st_event` in src/source/kernel/systrace.h
//! (checked against the C at build time in src/source/kernel/wire.rs),
//! and the parser for the variable tail of captured data that follows it.

use std::fmt;
use std::mem::offset_of;

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

/// The fixed part of every record, exactly as the kernel writes it.
#[repr(C)]
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

/// Size of the wire header; must equal `sizeof(struct st_event)`.
pub const RAW_EVENT_SIZE: usize = 160;
const _: () = assert!(std::mem::size_of::<RawEvent>() == RAW_EVENT_SIZE);

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

impl RawEvent {
    /// Parses the header from the start of `bytes` and returns it with the
    /// tail that follows. Field by field, so an unaligned buffer is fine.
    pub fn from_bytes(bytes: &[u8]) -> Result<(RawEvent, &[u8]), RawError> {
        if bytes.len() < RAW_EVENT_SIZE {
            return Err(RawError::Short {
                got: bytes.len(),
                need: RAW_EVENT_SIZE,
            });
        }
        let b = &bytes[..RAW_EVENT_SIZE];
        macro_rules! at {
            ($rd:ident, $f:ident) => {
                $rd(b, offset_of!(RawEvent, $f))
            };
        }
        let mut args = [0u64; 6];
        for (i, a) in args.iter_mut().enumerate() {
            *a = rd_u64(b, offset_of!(RawEvent, args) + i * 8);
        }
        let mut comm = [0u8; COMM_LEN];
        let c = offset_of!(RawEvent, comm);
        comm.copy_from_slice(&b[c..c + COMM_LEN]);
        let ev = RawEvent {
            start_ns: at!(rd_u64, start_ns),
            finish_ns: at!(rd_u64, finish_ns),
            args,
            ret: at!(rd_u64, ret) as i64,
            cgroup_id: at!(rd_u64, cgroup_id),
            context_sw: at!(rd_u64, context_sw),
            pid: at!(rd_u32, pid),
            tid: at!(rd_u32, tid),
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
            nr: at!(rd_u32, nr),
            flags: at!(rd_u16, flags),
            tail_len: at!(rd_u16, tail_len),
            comm,
        };
        // The ring buffer pads records to 8 bytes, so allow up to 7 extra.
        let tail = &bytes[RAW_EVENT_SIZE..];
        let declared = ev.tail_len as usize;
        if tail.len() < declared || tail.len() > declared + 7 {
            return Err(RawError::TailMismatch {
                got: tail.len(),
                declared,
            });
        }
        let tail = &tail[..declared];
        // Validate now so later readers of the tail cannot fail.
        Chunks::new(tail).try_for_each(|c| c.map(|_| ()))?;
        Ok((ev, tail))
    }

    /// Serializes the header as the kernel would (used by tests and fuzzing).
    pub fn to_bytes(&self) -> [u8; RAW_EVENT_SIZE] {
        let mut b = [0u8; RAW_EVENT_SIZE];
        macro_rules! put {
            ($f:ident, $v:expr) => {{
                let v = $v;
                let o = offset_of!(RawEvent, $f);
                b[o..o + v.len()].copy_from_slice(&v);
            }};
        }
        put!(start_ns, self.start_ns.to_ne_bytes());
        put!(finish_ns, self.finish_ns.to_ne_bytes());
        for (i, a) in self.args.iter().enumerate() {
            let o = offset_of!(RawEvent, args) + i * 8;
            b[o..o + 8].copy_from_slice(&a.to_ne_bytes());
        }
        put!(ret, self.ret.to_ne_bytes());
        put!(cgroup_id, self.cgroup_id.to_ne_bytes());
        put!(context_sw, self.context_sw.to_ne_bytes());
        put!(pid, self.pid.to_ne_bytes());
        put!(tid, self.tid.to_ne_bytes());
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
        put!(nr, self.nr.to_ne_bytes());
        put!(flags, self.flags.to_ne_bytes());
        put!(tail_len, self.tail_len.to_ne_bytes());
        put!(comm, self.comm);
        b
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
    fn sample() -> RawEvent {
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
            .raw()
    }

    #[test]
    fn round_trips_through_bytes() {
        let ev = sample();
        let bytes = ev.to_bytes();
        let (back, tail) = RawEvent::from_bytes(&bytes).unwrap();
        assert_eq!(back, ev);
        assert!(tail.is_empty());
    }

    #[test]
    fn truncated_header_is_an_error() {
        let bytes = sample().to_bytes();
        for n in [0, 1, 8, 100, RAW_EVENT_SIZE - 1] {
            assert_eq!(
                RawEvent::from_bytes(&bytes[..n]).unwrap_err(),
                RawError::Short {
                    got: n,
                    need: RAW_EVENT_SIZE
                }
            );
        }
    }

    #[test]
    fn tail_is_parsed_and_padding_tolerated() {
        let tail = encode_chunks(&[Chunk {
            arg: 1,
            kind: CAP_STR,
            data: b"/etc/passwd",
        }]);
        let mut ev = sample();
        ev.tail_len = tail.len() as u16;
        let mut bytes = ev.to_bytes().to_vec();
        bytes.extend_from_slice(&tail);
        bytes.extend_from_slice(&[0; 5]); // ring-buffer alignment padding
        let (_, t) = RawEvent::from_bytes(&bytes).unwrap();
        let chunks: Vec<_> = Chunks::new(t).map(|c| c.unwrap()).collect();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].data, b"/etc/passwd");
        assert_eq!(chunks[0].arg, 1);
    }

    #[test]
    fn oversized_or_inconsistent_records_are_errors() {
        let mut ev = sample();
        ev.tail_len = 10;
        let mut bytes = ev.to_bytes().to_vec();
        bytes.extend_from_slice(&[0; 4]);
        assert!(matches!(
            RawEvent::from_bytes(&bytes),
            Err(RawError::TailMismatch { .. })
        ));
        // More than padding beyond the declared tail.
        let mut bytes = sample().to_bytes().to_vec();
        bytes.extend_from_slice(&[0; 64]);
        assert!(matches!(
            RawEvent::from_bytes(&bytes),
            Err(RawError::TailMismatch { .. })
        ));
        // A chunk that claims more data than is there.
        let mut ev = sample();
        let tail = [200u8, 0, 1, 1, b'a', b'b'];
        ev.tail_len = tail.len() as u16;
        let mut bytes = ev.to_bytes().to_vec();
        bytes.extend_from_slice(&tail);
        assert_eq!(
            RawEvent::from_bytes(&bytes).unwrap_err(),
            RawError::BadChunk { offset: 0 }
        );
    }
}
