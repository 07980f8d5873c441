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
//!   format's.
//!
//! Pure encoding and decoding; the I/O is in `writer.rs` and `reader.rs`.

use std::collections::HashMap;

use crate::model::event::TraceEvent;
use crate::model::raw::{TidHasher, WireCall, WireIdent, K_CALL, K_IDENT};

/// The header's `version` of a binary session (older builds, which read
/// only version 1, say so instead of misreading the frames as lines).
pub const BINARY_VERSION: u32 = 2;
/// The header's `records` value of a binary session.
pub const RECORDS_BINARY: &str = "binary-1";
/// The file name ending that chooses the binary format.
pub const EXTENSION: &str = "strc";

pub const F_RECORD: u8 = 1;
pub const F_JSON: u8 = 2;

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
/// then the call.
#[derive(Default)]
pub struct Encoder {
    /// Thread ids are not chosen by an attacker: a multiply, not SipHash
    /// (this runs once per recorded event).
    last: HashMap<u32, WireIdent, std::hash::BuildHasherDefault<TidHasher>>,
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// Appends the frames of one event to `out`.
    pub fn syscall(&mut self, out: &mut Vec<u8>, ev: &TraceEvent) {
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
        frame_head(out, F_RECORD, 96 + tail.len());
        out.extend_from_slice(&call.to_bytes());
        out.extend_from_slice(tail);
    }

    /// Appends a JSON line (without its newline) as a frame.
    pub fn json(&mut self, out: &mut Vec<u8>, line: &[u8]) {
        frame_head(out, F_JSON, line.len());
        out.extend_from_slice(line);
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
