#!/usr/bin/env bash
# Builds systrace-tui for aarch64 (arm64) Linux on an x86_64 Debian/Ubuntu
# machine, so the arm64 build is checked where no arm64 machine is at hand:
#
#   bash scripts/cross-aarch64.sh
#
# The eBPF program is compiled with __TARGET_ARCH_arm64 (build.rs) and loads on
# an arm64 kernel through CO-RE. The aarch64 syscall table and decoders are
# unit-tested on any host (they take the architecture as a parameter).
# The binary lands in target/aarch64-unknown-linux-gnu/debug/systrace-tui.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=aarch64-unknown-linux-gnu

if [ "$(uname -m)" = aarch64 ]; then
  # A native arm64 machine needs no cross toolchain: the plain build is it.
  exec cargo build --locked
fi

# Cross C compiler (libbpf is built from source by libbpf-sys), arm64
# libelf/zlib to link against (Debian multiarch).
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  if [ "$(id -u)" -ne 0 ]; then sudo dpkg --add-architecture arm64; else dpkg --add-architecture arm64; fi
fi
bash scripts/deps.sh only gcc-aarch64-linux-gnu libc6-dev-arm64-cross libelf-dev:arm64 zlib1g-dev:arm64
if ! rustup target list --installed | grep -qx "$TARGET"; then
  rustup target add "$TARGET"
fi

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
# pkg-config must describe the arm64 libraries, not the host's.
export PKG_CONFIG_ALLOW_CROSS=1
export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig

# The workload too: scripts/kernel-matrix.sh runs both on an arm64 kernel.
cargo build --locked --target "$TARGET" --bin systrace-tui --example workload
# The result must really be an arm64 executable.
bin="target/$TARGET/debug/systrace-tui"
machine=$(od -An -t u2 -j 18 -N 2 "$bin" | tr -d ' ')
if [ "$machine" != 183 ]; then
  echo "cross-aarch64: $bin is not an aarch64 ELF (e_machine $machine)" >&2
  exit 1
fi
echo "cross-aarch64: built $bin (ELF aarch64)"
