//! Compiles the eBPF programs into skeletons at build time, so the binary
//! carries its kernel side and needs no bpftool or headers at run time.
use std::env;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

/// (source, skeleton name): the tracer, and the empty "floor" programs the
/// overhead benchmark compares it with (examples/floor.rs).
const PROGRAMS: [(&str, &str); 2] = [
    ("src/bpf/systrace.bpf.c", "systrace"),
    ("src/bpf/floor.bpf.c", "floor"),
];

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("CARGO_CFG_TARGET_ARCH is set by cargo");
    let target = match arch.as_str() {
        "x86_64" => "x86",
        "aarch64" => "arm64",
        other => other,
    };
    for (src, name) in PROGRAMS {
        SkeletonBuilder::new()
            .source(src)
            .clang_args([
                "-I".to_string(),
                "src/bpf".to_string(),
                format!("-D__TARGET_ARCH_{target}"),
                "-Wall".to_string(),
            ])
            .build_and_generate(out.join(format!("{name}.skel.rs")))
            .unwrap_or_else(|e| panic!("building {src} (needs clang; see README): {e}"));
        println!("cargo:rerun-if-changed={src}");
    }
    println!("cargo:rerun-if-changed=src/bpf/systrace.h");
    println!("cargo:rerun-if-changed=src/bpf/vmlinux.h");
}
