//! Structured random events: a real syscall number, random arguments and a
//! well-formed tail of random captured chunks, so the decoders (flags,
//! sockaddrs, buffers, argv, structures and arrays) see plausible input far
//! more often than with raw bytes. The seeds (fuzz/corpus/decode) are real
//! events of the oracle corpus, one per syscall and outcome: every
//! structure decoder starts from bytes the kernel really wrote.
#![no_main]
use libfuzzer_sys::fuzz_target;
use systrace_tui::model::raw::Chunk;
use systrace_tui::model::testing::EventBuilder;
use systrace_tui::model::{args, escape, syscalls};

fuzz_target!(|data: &[u8]| {
    if data.len() < 64 {
        return;
    }
    let (head, rest) = data.split_at(64);
    let arch = syscalls::Arch::ALL[(head[0] & 1) as usize];
    let table = syscalls::table(arch);
    let info = &table[u16::from_le_bytes([head[1], head[2]]) as usize % table.len()];
    let mut args = [0u64; 6];
    for (i, a) in args.iter_mut().enumerate() {
        *a = u64::from_le_bytes(head[16 + i * 8..24 + i * 8].try_into().unwrap());
    }
    // Chunks: [arg, kind, len (2 bytes, LE)] headers followed by data, until
    // input runs out. Every capture kind, structures (mem, arr, iov, msghdr)
    // included, up to the kernel side's 4096 bytes a chunk.
    let mut chunks = Vec::new();
    let mut r = rest;
    while r.len() >= 4 && chunks.len() < 4 {
        let (arg, kind) = (r[0] % 6, r[1] % 11);
        let len = usize::from(u16::from_le_bytes([r[2], r[3]])) % 4097;
        let body = &r[4..];
        let n = len.min(body.len());
        chunks.push(Chunk { arg, kind, data: &body[..n] });
        r = &body[n..];
    }
    let ev = EventBuilder::new()
        .arch(arch)
        .nr(info.nr)
        .ret(i64::from_le_bytes(head[8..16].try_into().unwrap()))
        .flags(u16::from(head[3] & 3))
        .args(&args)
        .comm(&rest[..16.min(rest.len())])
        .chunks(&chunks)
        .build();
    let line = args::strace_line(&ev);
    assert!(escape::is_safe(&line), "{line:?}");
    // The export's streamed form is the Value form, byte for byte.
    let mut streamed = Vec::new();
    args::write_args_json(&ev, &mut streamed);
    assert_eq!(streamed, args::args_json(&ev).to_string().into_bytes());
});
