//! The binary session format (a file named `*.strc`): the JSON header line
//! of the JSON Lines format (version 2, `"records":"binary-1"`), then frames, the
//! whole zstd-compressed. A frame is a u32 (little-endian: length << 8 |
//! kind) and its payload:
//!
//! - [`F_RECORD`]: one record exactly as the kernel writes it into the ring
//!   buffer (`st_ident` or `st_event` and its tail, native byte order of
//!   the header's architecture), so recording costs a copy, not a format;
//! - [`F_JSON`]: one JSON Lines line (`container_add`, `container_del`,
//!   `lost`, and the syscalls of remote nodes, whose node name the kernel's
//!   records cannot hold), for the rare items whose layout is the text
//!   format's;
//! - [`F_CALL`] (`binary-2`): a call record packed against the call before
//!   it in the file (see [`Packed`]). Calls are nearly all of a recording,
//!   and the compressor's time grows with its input: 96 bytes of record
//!   became about 10 before zstd, which is most of what recording costs.
//!
//! Pure encoding and decoding; the I/O is in `writer.rs` and `reader.rs`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::event::TraceEvent;
use crate::model::identity::Identity;
use crate::model::raw::{TidHasher, WireCall, WireIdent, F_NO_RETURN, K_CALL, K_IDENT};

/// The header's `version` of a binary session (older builds, which read
/// only version 1, say so instead of misreading the frames as lines).
pub const BINARY_VERSION: u32 = 2;
/// The header's `records` value of the binary sessions written now.
pub const RECORDS_BINARY: &str = "binary-2";
/// The first binary encoding: the same frames without [`F_CALL`]. Read,
/// no longer written.
pub const RECORDS_BINARY_1: &str = "binary-1";
/// The file name ending that chooses the binary format.
pub const EXTENSION: &str = "strc";

pub const F_RECORD: u8 = 1;
pub const F_JSON: u8 = 2;
pub const F_CALL: u8 = 3;

/// Largest frame payload accepted: a record's fixed part and a full tail,
/// or a JSON line, fit with room to spare.
pub const MAX_FRAME: usize = 1 << 20;

/// Whether `path` asks for the binary format.
pub fn is_binary_path(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e == EXTENSION)
}

/// Appends a frame header for a payload of `len` bytes.
pub fn frame_head(out: &mut Vec<u8>, kind: u8, len: usize) {
    out.extend_from_slice(&(((len as u32) << 8) | kind as u32).to_le_bytes());
}

/// Splits a frame header into (kind, payload length).
pub fn parse_head(h: [u8; 4]) -> (u8, usize) {
    let v = u32::from_le_bytes(h);
    ((v & 0xff) as u8, (v >> 8) as usize)
}

/// Turns events back into the records the kernel sent: an identity record
/// whenever a thread's identity differs from the last one written for it,
/// then the call, packed.
#[derive(Default)]
pub struct Encoder {
    /// Thread ids are not chosen by an attacker: a multiply, not SipHash
    /// (this runs once per recorded event).
    last: HashMap<u32, WireIdent, std::hash::BuildHasherDefault<TidHasher>>,
    /// The identity of the last call written, and its generation: a busy
    /// thread's calls share one, so comparing the pointer saves building
    /// and comparing its record. The clone keeps it alive and shared, so
    /// its address is not reused and it is not changed in place.
    hot: Option<(Arc<Identity>, u32)>,
    packed: Packed,
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// The generation of `ev`'s identity, after the identity record when
    /// it is new or changed.
    fn generation(&mut self, out: &mut Vec<u8>, ev: &TraceEvent) -> u32 {
        if let Some((id, gen)) = &self.hot {
            if Arc::ptr_eq(id, &ev.id) {
                return *gen;
            }
        }
        let mut id = WireIdent {
            kind: K_IDENT,
            pad: 0,
            tid: ev.id.tid,
            gen: 0,
            pid: ev.id.pid,
            cgroup_id: ev.id.cgroup_id,
            uid: ev.id.uid,
            gid: ev.id.gid,
            ns_pid: ev.id.container_pid,
            session: ev.id.session,
            pid_ns: ev.id.ns.pid,
            mnt_ns: ev.id.ns.mnt,
            uts_ns: ev.id.ns.uts,
            ipc_ns: ev.id.ns.ipc,
            cgroup_ns: ev.id.ns.cgroup,
            net_ns: ev.id.ns.net,
            comm: ev.id.comm,
        };
        let gen = match self.last.get_mut(&ev.id.tid) {
            Some(last)
                if WireIdent {
                    gen: last.gen,
                    ..id
                } == *last =>
            {
                last.gen
            }
            prev => {
                id.gen = prev.map_or(1, |p| p.gen.wrapping_add(1));
                let b = id.to_bytes();
                frame_head(out, F_RECORD, b.len());
                out.extend_from_slice(&b);
                self.last.insert(ev.id.tid, id);
                id.gen
            }
        };
        self.hot = Some((ev.id.clone(), gen));
        gen
    }

    /// Appends the frames of one event to `out`.
    pub fn syscall(&mut self, out: &mut Vec<u8>, ev: &TraceEvent) {
        let gen = self.generation(out, ev);
        let tail = ev.tail.as_deref().unwrap_or(&[]);
        let call = WireCall {
            kind: K_CALL,
            flags: ev.flags,
            tail_len: tail.len() as u16,
            pad: 0,
            tid: ev.id.tid,
            gen,
            nr: ev.nr,
            context_sw: ev.context_sw,
            start_ns: ev.start_ns,
            finish_ns: ev.finish_ns,
            args: ev.args,
            ret: ev.ret,
        };
        // The reader forgets a thread's identity after its last call
        // (`Identities::done`): so must the writer, or a reused thread id
        // with an equal identity would name one the reader dropped.
        if ev.flags & F_NO_RETURN != 0 {
            self.last.remove(&ev.id.tid);
            self.hot = None;
        }
        let mut p = [0u8; PACKED_MAX];
        let n = self.packed.pack(&call, tail.len(), &mut p);
        // A copy of a fixed size is a few moves, one of n bytes a call to
        // memmove (15 % of this thread's time): most calls pack to fewer
        // than 32 bytes with their frame head.
        if n <= SHORT_COPY {
            let at = out.len();
            out.extend_from_slice(&p[..SHORT_COPY]);
            out.truncate(at + n);
        } else {
            out.extend_from_slice(&p[..n]);
        }
        if !tail.is_empty() {
            out.extend_from_slice(tail);
        }
    }

    /// Appends a JSON line (without its newline) as a frame.
    pub fn json(&mut self, out: &mut Vec<u8>, line: &[u8]) {
        frame_head(out, F_JSON, line.len());
        out.extend_from_slice(line);
    }
}

/// A packed call ([`F_CALL`]) is written against the previous packed call
/// of the file, which writer and reader both keep here. Its payload:
///
/// - a byte of flags: 1 the same thread and generation as before (then
///   neither follows), 2 the same syscall number, 4 the same call flags,
///   8 a fresh start: the previous call counts as all zeros (written every
///   [`FRESH_EVERY`] calls, so that a reader skipping a bad frame finds its
///   way back); other bits are reserved (zero);
/// - a byte whose bit `i` says argument `i` differs from the previous
///   call's (then its difference follows);
/// - LEB128 varints, in this order: thread, generation, syscall number,
///   call flags (each unless flagged the same), context switches, the
///   start time's difference from the previous call's, the duration
///   (finish - start), the differing arguments' differences, the return
///   value. Differences and the return value are zigzag-coded
///   (wrapping: any u64 round-trips);
/// - the captured tail: the rest of the frame.
#[derive(Default, Clone, Debug)]
pub struct Packed {
    /// Calls packed since the last fresh start.
    since_fresh: u32,
    tid: u32,
    gen: u32,
    nr: u32,
    flags: u16,
    start_ns: u64,
    args: [u64; 6],
}

/// Largest packed call with its frame head, without its tail: the head,
/// two bytes and 14 varints.
pub const PACKED_MAX: usize = 4 + 2 + 14 * 10;
const SHORT_COPY: usize = 32;

const SAME_THREAD: u8 = 1;
const SAME_NR: u8 = 2;
const SAME_FLAGS: u8 = 4;
const FRESH: u8 = 8;

/// How often a packed call starts afresh (see [`Packed`]).
pub const FRESH_EVERY: u32 = 1024;

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

fn put(p: &mut [u8; PACKED_MAX], at: &mut usize, mut v: u64) {
    while v >= 0x80 {
        p[*at] = v as u8 | 0x80;
        *at += 1;
        v >>= 7;
    }
    p[*at] = v as u8;
    *at += 1;
}

/// A packed call's fields, read front to back.
struct Fields<'a> {
    b: &'a [u8],
    at: usize,
}

impl Fields<'_> {
    fn next(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let Some(&b) = self.b.get(self.at) else {
                return Err("packed call cut short".into());
            };
            self.at += 1;
            if shift == 63 && b > 1 {
                break;
            }
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("packed call: a number longer than 64 bits".into())
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let v = self.next()?;
        u32::try_from(v).map_err(|_| format!("packed call: {what} {v} does not fit 32 bits"))
    }
}

impl Packed {
    /// Writes the frame head of `c` with a tail of `tail_len` bytes, and
    /// `c` packed, into `p`; returns the length.
    pub fn pack(&mut self, c: &WireCall, tail_len: usize, p: &mut [u8; PACKED_MAX]) -> usize {
        let mut at = 6;
        let mut same = 0;
        if self.since_fresh == 0 {
            *self = Packed::default();
            same |= FRESH;
        }
        if c.tid == self.tid && c.gen == self.gen {
            same |= SAME_THREAD;
        } else {
            put(p, &mut at, c.tid as u64);
            put(p, &mut at, c.gen as u64);
        }
        if c.nr == self.nr {
            same |= SAME_NR;
        } else {
            put(p, &mut at, c.nr as u64);
        }
        if c.flags == self.flags {
            same |= SAME_FLAGS;
        } else {
            put(p, &mut at, c.flags as u64);
        }
        put(p, &mut at, c.context_sw as u64);
        put(
            p,
            &mut at,
            zigzag(c.start_ns.wrapping_sub(self.start_ns) as i64),
        );
        put(
            p,
            &mut at,
            zigzag(c.finish_ns.wrapping_sub(c.start_ns) as i64),
        );
        let mut differ = 0u8;
        for (i, (&a, &b)) in c.args.iter().zip(&self.args).enumerate() {
            if a != b {
                differ |= 1 << i;
                put(p, &mut at, zigzag(a.wrapping_sub(b) as i64));
            }
        }
        put(p, &mut at, zigzag(c.ret));
        let head = (((at - 4 + tail_len) as u32) << 8) | F_CALL as u32;
        p[..4].copy_from_slice(&head.to_le_bytes());
        p[4] = same;
        p[5] = differ;
        *self = Packed {
            since_fresh: (self.since_fresh + 1) % FRESH_EVERY,
            tid: c.tid,
            gen: c.gen,
            nr: c.nr,
            flags: c.flags,
            start_ns: c.start_ns,
            args: c.args,
        };
        at
    }

    /// Reads a packed call's payload: the call and its tail. `synced`:
    /// whether the calls before it were all read (after a skipped bad
    /// frame, only a fresh start can be read).
    pub fn unpack<'a>(
        &mut self,
        payload: &'a [u8],
        synced: bool,
    ) -> Result<(WireCall, &'a [u8]), String> {
        let (&[same, differ], _) = payload
            .split_first_chunk::<2>()
            .ok_or("packed call cut short")?;
        if same & !(SAME_THREAD | SAME_NR | SAME_FLAGS | FRESH) != 0 || differ >> 6 != 0 {
            return Err(format!("packed call: unknown flags {same:#x}/{differ:#x}"));
        }
        if same & FRESH != 0 {
            *self = Packed::default();
        } else if !synced {
            return Err(
                "packed call after a bad record: skipped up to the next fresh start".into(),
            );
        }
        let mut f = Fields { b: payload, at: 2 };
        let (tid, gen) = if same & SAME_THREAD != 0 {
            (self.tid, self.gen)
        } else {
            (f.u32("thread")?, f.u32("generation")?)
        };
        let nr = if same & SAME_NR != 0 {
            self.nr
        } else {
            f.u32("syscall number")?
        };
        let flags = if same & SAME_FLAGS != 0 {
            self.flags
        } else {
            let v = f.next()?;
            u16::try_from(v).map_err(|_| format!("packed call: flags {v} do not fit 16 bits"))?
        };
        let context_sw = f.u32("context switches")?;
        let start_ns = self.start_ns.wrapping_add(unzigzag(f.next()?) as u64);
        let finish_ns = start_ns.wrapping_add(unzigzag(f.next()?) as u64);
        let mut args = self.args;
        for (i, a) in args.iter_mut().enumerate() {
            if differ & (1 << i) != 0 {
                *a = a.wrapping_add(unzigzag(f.next()?) as u64);
            }
        }
        let ret = unzigzag(f.next()?);
        let tail = &payload[f.at..];
        let tail_len = u16::try_from(tail.len())
            .map_err(|_| format!("packed call: a tail of {} bytes", tail.len()))?;
        let c = WireCall {
            kind: K_CALL,
            flags,
            tail_len,
            pad: 0,
            tid,
            gen,
            nr,
            context_sw,
            start_ns,
            finish_ns,
            args,
            ret,
        };
        *self = Packed {
            since_fresh: 0,
            tid,
            gen,
            nr,
            flags,
            start_ns,
            args,
        };
        Ok((c, tail))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::model::container::{ContainerAddEvent, ContainerDelEvent, ContainerInfo, Runtime};
    use crate::model::event::{Event, LostEvents};
    use crate::model::testing::EventBuilder;
    use crate::session::convert::convert;
    use crate::session::format::{Filters, Header};
    use crate::session::reader::{self, read_all, tests::sample_event};
    use crate::session::writer::SessionFile;
    use crate::{clock::Clock, model::syscalls::Arch};

    fn header() -> Header {
        Header::new(
            "host".into(),
            "6.1".into(),
            Arch::X86_64,
            Clock {
                boot_unix_ns: 1_700_000_000_000_000_000,
            },
            0,
            Filters::default(),
        )
    }

    /// Events whose identities change under the same thread (credentials,
    /// command name, cgroup, a new process under a reused id), with a
    /// container coming and going and lost counts between them.
    fn events() -> Vec<Event> {
        let c = Arc::new(ContainerInfo {
            id: "ab".repeat(32),
            runtime: Runtime::Podman,
            name: Some("web".into()),
            image: None,
            pod: None,
            sandbox: false,
            node: None,
            service: None,
            resolved: true,
        });
        let mut v = Vec::new();
        for i in 0..300u32 {
            let mut e = sample_event(i);
            e.id_mut().uid = if i >= 100 { 0 } else { 1000 };
            e.context_sw = i % 4;
            if i >= 150 && e.id.tid == 101 {
                e.id_mut().comm[..3].copy_from_slice(b"sed");
                e.id_mut().cgroup_id = 77;
            }
            if i >= 200 && e.id.tid == 102 {
                e.id_mut().pid = 55; // thread 102 now belongs to another process
                e.id_mut().ns.mnt = 0xf000_0002;
                e.id_mut().container_pid = 7;
            }
            if i % 50 == 0 {
                e.tail = None;
            }
            v.push(Event::Syscall(e));
            if i == 120 {
                v.push(Event::ContainerAdd(ContainerAddEvent {
                    cgroup_id: 77,
                    container: c.clone(),
                }));
                v.push(Event::Lost(LostEvents {
                    kernel: 3,
                    channel: 0,
                }));
            }
            if i == 250 {
                v.push(Event::ContainerDel(ContainerDelEvent {
                    cgroup_id: 77,
                    container: c.clone(),
                }));
            }
        }
        v
    }

    fn write(path: &Path, evs: &[Event]) {
        let mut f = SessionFile::create(path, false, &header()).unwrap();
        for e in evs {
            f.event(e).unwrap();
        }
        f.finish(LostEvents {
            kernel: 3,
            channel: 1,
        })
        .unwrap();
    }

    fn replay(path: &Path) -> Vec<String> {
        let (mut r, _) = reader::open(path, false).unwrap();
        let mut out = Vec::new();
        while let Some(e) = r.next_item().unwrap() {
            out.push(format!("{e:?}"));
        }
        assert!(r.warnings().is_empty(), "{:?}", r.warnings());
        out.push(format!("{:?}", r.summary));
        out
    }

    #[test]
    fn a_binary_session_replays_as_its_json_lines_and_converts_to_the_same_text() {
        let d = tempfile::tempdir().unwrap();
        let (jsonl, strc) = (d.path().join("a.jsonl"), d.path().join("a.strc"));
        let evs = events();
        write(&jsonl, &evs);
        write(&strc, &evs);
        let from_bin = replay(&strc);
        assert_eq!(from_bin, replay(&jsonl));
        // Every call came back with the identity it was written with.
        let calls: Vec<String> = evs.iter().map(|e| format!("{e:?}")).collect();
        for c in &calls {
            assert!(from_bin.contains(c) || !c.starts_with("Syscall"), "{c}");
        }
        // Binary -> JSON Lines gives the very text a direct export gives,
        // and JSON Lines -> binary the same session again.
        let back = d.path().join("back.jsonl");
        assert_eq!(convert(&strc, &back, false).unwrap(), 300);
        let (b, j) = (
            std::fs::read_to_string(&back).unwrap(),
            std::fs::read_to_string(&jsonl).unwrap(),
        );
        for (n, (x, y)) in b.lines().zip(j.lines()).enumerate() {
            assert!(x == y, "line {}:\n{x}\n{y}", n + 1);
        }
        assert_eq!(b.lines().count(), j.lines().count());
        let again = d.path().join("again.strc");
        convert(&jsonl, &again, false).unwrap();
        assert_eq!(replay(&again), from_bin);
        // The binary file is zstd-compressed and far smaller.
        let (b, j) = (
            std::fs::metadata(&strc).unwrap().len(),
            std::fs::metadata(&jsonl).unwrap().len(),
        );
        assert!(std::fs::read(&strc)
            .unwrap()
            .starts_with(&[0x28, 0xb5, 0x2f, 0xfd]));
        assert!(b * 4 < j, "binary {b} bytes, JSON Lines {j}");
    }

    #[test]
    fn a_remote_nodes_calls_keep_their_node_in_a_binary_session() {
        let node = crate::model::node::intern("node-b").unwrap();
        let mut evs = events();
        for (i, e) in evs.iter_mut().enumerate() {
            if let Event::Syscall(e) = e {
                if i % 3 == 0 {
                    e.node = node;
                    e.id_mut().cgroup_id |= (node as u64) << 48;
                }
            }
        }
        let d = tempfile::tempdir().unwrap();
        let (jsonl, strc) = (d.path().join("a.jsonl"), d.path().join("a.strc"));
        write(&jsonl, &evs);
        write(&strc, &evs);
        let from_bin = replay(&strc);
        assert_eq!(from_bin, replay(&jsonl));
        assert!(from_bin
            .iter()
            .any(|e| e.contains(&format!("node: {node}"))));
        let back = d.path().join("back.jsonl");
        convert(&strc, &back, false).unwrap();
        assert_eq!(
            std::fs::read_to_string(&back).unwrap(),
            std::fs::read_to_string(&jsonl).unwrap()
        );
    }

    #[test]
    fn replayed_calls_of_one_thread_share_one_identity() {
        let d = tempfile::tempdir().unwrap();
        let (jsonl, strc) = (d.path().join("a.jsonl"), d.path().join("a.strc"));
        // The fixture's identities are each the event's own copy.
        let evs = events();
        write(&jsonl, &evs);
        write(&strc, &evs);
        for path in [jsonl, strc] {
            // Read on a thread of its own, so nothing interned while the
            // fixture was built can be what makes them shared.
            let calls: Vec<TraceEvent> = std::thread::spawn(move || {
                let (mut r, _) = reader::open(&path, false).unwrap();
                let mut calls = Vec::new();
                while let Some(e) = r.next_item().unwrap() {
                    if let Event::Syscall(c) = e {
                        calls.push(c);
                    }
                }
                calls
            })
            .join()
            .unwrap();
            assert_eq!(calls.len(), 300);
            let mut first: HashMap<&crate::model::identity::Identity, &TraceEvent> = HashMap::new();
            let mut shared = 0;
            for c in &calls {
                let f = first.entry(&*c.id).or_insert(c);
                assert!(Arc::ptr_eq(&f.id, &c.id), "{:?}", c.id);
                shared += usize::from(!std::ptr::eq(*f, c));
            }
            // 3 threads, some with 2-3 identities: nearly all calls share.
            assert!(first.len() <= 8, "{} identities", first.len());
            assert_eq!(shared, 300 - first.len());
        }
    }

    /// Any call, however unlike the one before it, packs and unpacks to
    /// itself: extreme times (finish before start, wrap-around), arguments
    /// and return values, thread changes and fresh starts on the way.
    #[test]
    fn packed_calls_round_trip_whatever_they_hold() {
        use proptest::prelude::*;
        let word = prop_oneof![
            Just(0u64),
            Just(u64::MAX),
            Just(1u64 << 63),
            0u64..1000,
            any::<u64>()
        ];
        let call = (
            (0u32..4, any::<u32>(), 0u32..3, 0u16..4, any::<u32>()),
            (
                word.clone(),
                word.clone(),
                proptest::array::uniform6(word.clone()),
                word,
            ),
        )
            .prop_map(
                |((tid, gen, nr, flags, context_sw), (start_ns, finish_ns, args, ret))| WireCall {
                    kind: K_CALL,
                    flags,
                    tail_len: 0,
                    pad: 0,
                    tid,
                    gen: gen % 3,
                    nr,
                    context_sw,
                    start_ns,
                    finish_ns,
                    args,
                    ret: ret as i64,
                },
            );
        let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
            cases: 64,
            ..Default::default()
        });
        runner
            .run(&proptest::collection::vec(call, 1..1200), |calls| {
                let (mut w, mut r) = (Packed::default(), Packed::default());
                for c in &calls {
                    let mut p = [0u8; PACKED_MAX];
                    let n = w.pack(c, 4, &mut p);
                    let (kind, len) = parse_head(p[..4].try_into().unwrap());
                    prop_assert_eq!((kind, len), (F_CALL, n - 4 + 4));
                    let mut framed = p[4..n].to_vec();
                    framed.extend_from_slice(b"tail");
                    let (back, tail) = r.unpack(&framed, true).unwrap();
                    prop_assert_eq!(back, WireCall { tail_len: 4, ..*c });
                    prop_assert_eq!(tail, b"tail");
                }
                Ok(())
            })
            .unwrap();
    }

    /// What the packing is for: one thread's storm of the same call goes
    /// to the compressor as a few bytes per call instead of 100.
    #[test]
    fn a_storm_of_one_call_packs_to_a_few_bytes_each() {
        let mut enc = Encoder::new();
        let mut out = Vec::new();
        let mut ev = EventBuilder::named("getppid").tid(7).build();
        ev.tail = None;
        ev.args = [3, 0x7ffd_1234_5678, 4096, 0, 0, 0];
        for i in 0..10_000u64 {
            ev.start_ns = 1_000_000_000 + i * 380 + i % 7;
            ev.finish_ns = ev.start_ns + 120 + i % 30;
            ev.ret = 4242;
            enc.syscall(&mut out, &ev);
        }
        // The frame head (4), flags (2), context switches (1), start delta
        // (2), duration (2), return value (2): 13 bytes; the identity once
        // and a fresh start every 1024 calls on top.
        assert!(out.len() <= 13 * 10_000 + 400, "{} bytes", out.len());
    }

    /// A thread's last call ends its identity for the reader; a later
    /// thread under the same id and the same identity must get it again.
    #[test]
    fn a_reused_thread_id_after_exit_gets_its_identity_again() {
        let d = tempfile::tempdir().unwrap();
        let strc = d.path().join("a.strc");
        let exit = EventBuilder::named("exit_group")
            .tid(9)
            .flags(F_NO_RETURN)
            .build();
        let again = EventBuilder::named("getppid").tid(9).build();
        assert_eq!(exit.id, again.id);
        let evs = [exit, again.clone(), again].map(Event::Syscall);
        write(&strc, &evs);
        let (mut r, _) = reader::open(&strc, false).unwrap();
        let mut n = 0;
        while let Some(e) = r.next_item().unwrap() {
            n += usize::from(matches!(e, Event::Syscall(_)));
        }
        assert_eq!(n, 3);
    }

    /// Files of the first binary encoding (every call a kernel record)
    /// still replay.
    #[test]
    fn first_encoding_files_still_replay() {
        let b = EventBuilder::named("openat")
            .tid(5)
            .gen(2)
            .path(1, "/etc/hostname")
            .args(&[u64::MAX - 99, 0, 0, 0, 0, 0]);
        let mut h = header();
        h.version = BINARY_VERSION;
        h.records = Some(RECORDS_BINARY_1.into());
        let mut bytes = serde_json::to_vec(&h).unwrap();
        bytes.push(b'\n');
        for rec in b.records() {
            frame_head(&mut bytes, F_RECORD, rec.len());
            bytes.extend_from_slice(&rec);
        }
        let (_, items, skipped) = read_all(&bytes, false).unwrap();
        assert_eq!(skipped, 0);
        let [Event::Syscall(got)] = &items[..] else {
            panic!("{items:?}")
        };
        let want = b.build();
        assert_eq!(format!("{got:?}"), format!("{want:?}"));
    }

    /// With --skip-bad, a damaged packed call costs the calls packed
    /// against it up to the next fresh start, and nothing after.
    #[test]
    fn a_bad_packed_call_is_skipped_up_to_the_next_fresh_start() {
        let d = tempfile::tempdir().unwrap();
        let strc = d.path().join("a.strc");
        let n = 3 * FRESH_EVERY as usize;
        let evs: Vec<Event> = (0..n as u32)
            .map(|i| Event::Syscall(sample_event(i)))
            .collect();
        write(&strc, &evs);
        let mut bytes = plain(&strc);
        // Damage the 10th packed call: reserved flag bits set.
        let at = packed_call(&bytes, 10);
        bytes[at + 4] |= 0x80;
        assert!(read_all(&bytes, false).is_err());
        let (_, items, skipped) = read_all(&bytes, true).unwrap();
        // Calls 10 to 1024 (the next fresh start is the 1025th).
        assert_eq!(skipped, FRESH_EVERY as u64 - 9);
        let got: Vec<String> = items
            .iter()
            .filter(|e| matches!(e, Event::Syscall(_)))
            .map(|e| format!("{e:?}"))
            .collect();
        let want: Vec<String> = evs
            .iter()
            .enumerate()
            .filter(|(i, _)| !(9..FRESH_EVERY as usize).contains(i))
            .map(|(_, e)| format!("{e:?}"))
            .collect();
        assert_eq!(got, want);
    }

    /// A frame whose length cannot be right ends the reading even with
    /// --skip-bad (the next frame cannot be found): the count of skipped
    /// frames must not hide that the rest of the file was not read.
    #[test]
    fn skip_bad_says_when_a_bad_frame_ended_the_reading() {
        let d = tempfile::tempdir().unwrap();
        let strc = d.path().join("a.strc");
        let evs: Vec<Event> = (0..40).map(|i| Event::Syscall(sample_event(i))).collect();
        write(&strc, &evs);
        let mut bytes = plain(&strc);
        // The 5th call damaged in its flags, the 10th in its length.
        let (fifth, tenth) = (packed_call(&bytes, 5), packed_call(&bytes, 10));
        bytes[fifth + 4] |= 0x80;
        bytes[tenth..tenth + 4].copy_from_slice(&(u32::MAX << 8 | 3).to_le_bytes());
        let mut r = reader::Reader::new(&bytes[..], true).unwrap();
        let mut n = 0;
        while let Some(e) = r.next_item().unwrap() {
            n += usize::from(matches!(e, Event::Syscall(_)));
        }
        assert_eq!((n, r.skipped), (4, 6));
        let w = r.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("skipped 6 bad lines (first: record "),
            "{w:?}"
        );
        assert!(w[0].contains("; reading stopped at record "), "{w:?}");
        assert!(w[0].contains("longer than"), "{w:?}");
    }

    /// A damaged input converts into everything before the damage (none
    /// of it left in a buffer), in a file that says it was cut short.
    #[test]
    fn convert_of_a_damaged_file_keeps_what_came_before_the_damage() {
        let d = tempfile::tempdir().unwrap();
        let (strc, damaged) = (d.path().join("a.strc"), d.path().join("d.strc"));
        let evs: Vec<Event> = (0..300).map(|i| Event::Syscall(sample_event(i))).collect();
        write(&strc, &evs);
        let mut bytes = plain(&strc);
        let at = packed_call(&bytes, 201);
        bytes[at + 4] |= 0x80;
        std::fs::write(&damaged, zstd::encode_all(&bytes[..], 3).unwrap()).unwrap();
        for out in ["out.jsonl", "out.strc"] {
            let out = d.path().join(out);
            let e = convert(&damaged, &out, false).unwrap_err().to_string();
            assert!(
                e.contains("record ") && e.contains("the 200 events before it"),
                "{e}"
            );
            let (mut r, _) = reader::open(&out, false).unwrap();
            let mut got = Vec::new();
            let end = loop {
                match r.next_item() {
                    Ok(Some(Event::Syscall(c))) => got.push(format!("{:?}", Event::Syscall(c))),
                    Ok(Some(_)) => {}
                    other => break other,
                }
            };
            let want: Vec<String> = evs[..200].iter().map(|e| format!("{e:?}")).collect();
            assert_eq!(got, want);
            // Ended without its summary: a cut recording.
            assert!(matches!(end, Ok(None)) && r.summary.is_none(), "{end:?}");
        }
    }

    /// Where the `n`th packed call's frame starts in a decompressed session.
    fn packed_call(bytes: &[u8], n: usize) -> usize {
        let mut at = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        let mut calls = 0;
        loop {
            let (kind, len) = parse_head(bytes[at..at + 4].try_into().unwrap());
            calls += usize::from(kind == F_CALL);
            if calls == n {
                return at;
            }
            at += 4 + len;
        }
    }

    /// The decompressed stream of a binary session.
    fn plain(path: &Path) -> Vec<u8> {
        zstd::decode_all(std::fs::File::open(path).unwrap()).unwrap()
    }

    #[test]
    fn corrupt_or_truncated_binary_sessions_are_one_line_errors() {
        let d = tempfile::tempdir().unwrap();
        let strc = d.path().join("a.strc");
        write(&strc, &events());
        let bytes = plain(&strc);
        let head = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        let check = |input: &[u8]| match read_all(input, false) {
            Ok(_) => {}
            Err(e) => {
                let msg = e.to_string();
                assert!(!msg.contains('\n'), "{msg}");
                assert!(e.line == 1 || msg.starts_with("record "), "{msg}");
            }
        };
        // Cut anywhere: an error naming the record, or (at a frame
        // boundary) a session without its summary; never a panic.
        for cut in (head..bytes.len()).step_by(7) {
            let input = &bytes[..cut];
            check(input);
            if let Err(e) = read_all(input, false) {
                assert!(
                    e.to_string().contains("truncated") || e.record,
                    "{cut}: {e}"
                );
            }
        }
        let mid = &bytes[..head + (bytes.len() - head) / 2];
        let e = read_all(&mid[..mid.len() - 3], false);
        if let Err(e) = e {
            assert!(e.to_string().starts_with("record "), "{e}");
        }
        // Bytes changed anywhere after the header: never a panic.
        let mut rnd = crate::session::reader::tests::rng();
        for _ in 0..3000 {
            let mut b = bytes.clone();
            for _ in 0..1 + rnd(4) {
                let at = head + rnd(b.len() - head);
                b[at] ^= 1 << rnd(8);
            }
            check(&b);
        }
        // A frame claiming more than any record holds.
        let mut b = bytes[..head].to_vec();
        b.extend_from_slice(&((u32::MAX << 8) | F_RECORD as u32).to_le_bytes());
        let e = read_all(&b, false).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("record 2: record of 16777215 bytes: longer than {MAX_FRAME} (corrupt file)")
        );
        // A call whose identity never came.
        let mut b = bytes[..head].to_vec();
        let call = EventBuilder::named("getppid").tid(9).gen(4).record();
        frame_head(&mut b, F_RECORD, call.len());
        b.extend_from_slice(&call);
        assert_eq!(
            read_all(&b, false).unwrap_err().to_string(),
            "record 2: call of thread 9 under identity 4, which was never sent"
        );
        // The compressed file cut short.
        let z = std::fs::read(&strc).unwrap();
        let e = read_all(&z[..z.len() / 2], false).unwrap_err();
        assert!(!e.to_string().contains('\n'), "{e}");
    }
}
