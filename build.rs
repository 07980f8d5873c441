//! Compiles the eBPF program into a skeleton at build time, so the binary
//! carries its kernel side and needs no bpftool or headers at run time.
use std::env;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

const SRC: &str = "src/bpf/systrace.bpf.c";

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("CARGO_CFG_TARGET_ARCH is set by cargo");
    let target = match arch.as_str() {
        "x86_64" => "x86",
        "aarch64" => "arm64",
        other => other,
    };
    SkeletonBuilder::new()
        .source(SRC)
        .clang_args([
            "-I".to_string(),
            "src/bpf".to_string(),
            format!("-D__TARGET_ARCH_{target}"),
            "-Wall".to_string(),
        ])
        .build_and_generate(out.join("systrace.skel.rs"))
        .expect("building the eBPF program (needs clang; see README)");
    println!("cargo:rerun-if-changed={SRC}");
    println!("cargo:rerun-if-changed=src/bpf/systrace.h");
    println!("cargo:rerun-if-changed=src/bpf/vmlinux.h");
}
