//! Compiles the eBPF programs into skeletons at build time, so the binary
//! carries its kernel side and needs no bpftool or headers at run time.
use std::env;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

/// (source, skeleton name, extra clang flags): the tracer, its build for
/// kernels 5.8 to 5.16 (no task storage, BTF task pointer, pointer arguments
/// of global functions or bpf_loop; see src/source/kernel/loader.rs), and the empty
/// "floor" programs the overhead benchmark compares it with (examples/floor.rs).
const PROGRAMS: [(&str, &str, &str); 3] = [
    ("src/source/kernel/systrace.bpf.c", "systrace", ""),
    (
        "src/source/kernel/systrace.bpf.c",
        "systrace_compat",
        "-DST_COMPAT",
    ),
    ("src/source/kernel/floor.bpf.c", "floor", ""),
];

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("CARGO_CFG_TARGET_ARCH is set by cargo");
    let target = match arch.as_str() {
        "x86_64" => "x86",
        "aarch64" => "arm64",
        other => other,
    };
    let mut programs: Vec<(&str, &str, &str)> = PROGRAMS.to_vec();
    // Profiling builds (feature "profile", examples/bpfprof.rs only): the
    // tracer cut after each part of its hot path, without clock reads, and
    // with its short records staged per CPU (never shipped).
    if env::var_os("CARGO_FEATURE_PROFILE").is_some() {
        let t = "src/source/kernel/systrace.bpf.c";
        programs.extend([
            (t, "systrace_abl1", "-DST_ABL=1"),
            (t, "systrace_abl2", "-DST_ABL=2"),
            (t, "systrace_abl3", "-DST_ABL=3"),
            (t, "systrace_abl4", "-DST_ABL=4"),
            (t, "systrace_abl5", "-DST_ABL=5"),
            (t, "systrace_noclock", "-DST_ABL_NO_CLOCK"),
            (t, "systrace_noquery", "-DST_ABL_NO_QUERY"),
            // The fast path's records staged per CPU, written in chunks.
            (t, "systrace_stage", "-DST_STAGE"),
            (t, "systrace_stage1k", "-DST_STAGE -DST_STAGE_BYTES=1024"),
            (t, "systrace_stagenf", "-DST_STAGE -DST_STAGE_NO_FLUSH"),
        ]);
    }
    for (src, name, extra) in programs {
        let mut args = vec![
            "-I".to_string(),
            "src/source/kernel".to_string(),
            format!("-D__TARGET_ARCH_{target}"),
            "-Wall".to_string(),
        ];
        args.extend(extra.split_whitespace().map(String::from));
        SkeletonBuilder::new()
            .source(src)
            // The object's name names the skeleton's types.
            .obj(out.join(format!("{name}.bpf.o")))
            .clang_args(args)
            .build_and_generate(out.join(format!("{name}.skel.rs")))
            .unwrap_or_else(|e| panic!("building {src} (needs clang; see README): {e}"));
        println!("cargo:rerun-if-changed={src}");
    }
    // The agent's wire format (protoc, as for the CRI protos of k8s-cri).
    tonic_prost_build::configure()
        .compile_protos(&["proto/systrace.proto"], &["proto"])
        .unwrap_or_else(|e| {
            panic!("compiling proto/systrace.proto (needs protoc; see README): {e}")
        });
    println!("cargo:rerun-if-changed=proto/systrace.proto");
    println!("cargo:rerun-if-changed=src/source/kernel/systrace.h");
    println!("cargo:rerun-if-changed=src/source/kernel/vmlinux.h");
}
