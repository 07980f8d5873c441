use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use super::bytes::kind_name;
use super::*;
use crate::clock::Clock;
use crate::model::container::{self as model, PodInfo, Runtime};
use crate::model::errno;
use crate::model::event::{Namespaces, TraceEvent};
use crate::model::raw::{Chunk, F_NO_RETURN, F_TRUNCATED};
use crate::model::raw::{CAP_ARGV, CAP_STR, COMM_LEN};
use crate::model::syscalls::Arch;
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
fn reference(ev: &TraceEvent, wall: &str, container: Option<&ContainerInfo>) -> serde_json::Value {
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
    let doc = include_str!("../../../docs/session-format.md");
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
