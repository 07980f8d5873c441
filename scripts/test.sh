#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit tests and the root-only
# integration tests (real eBPF, real processes, the TUI in tmux).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  # Root-only tests need root; keep the caller's toolchain on PATH.
  exec sudo -E env "PATH=$PATH" bash "$0" "$@"
fi
# Incremental build data only helps edit-compile loops; here it would take
# a gigabyte or more of disk.
export CARGO_INCREMENTAL=0
# A TUI snapshot that differs from the committed one fails the run instead
# of being written aside (insta does the same under CI=true).
export INSTA_UPDATE=no
# Free space decides whether this run can finish; show it with each stage so
# a full disk is plain in the log.
disk() { echo "== $1: $(df -h --output=avail . | tail -1 | tr -d ' ') free on $(df --output=target . | tail -1)"; }
# On a nearly full disk, a finished stage's build output makes room for the
# next one (each stage builds with different flags, so none reuses another's).
make_room() {
  local kib
  kib=$(df -k --output=avail . | tail -1 | tr -d ' ')
  if [ "$kib" -lt $((6 * 1024 * 1024)) ]; then
    echo "== disk is short ($((kib / 1024)) MiB free): removing $1 to make room"
    rm -rf "$1"
  fi
}
disk start
bash scripts/deps.sh test
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked -- --test-threads=2
disk "after the tests"
# Debian's x86_64 kernels 5.10, 6.1 and 6.12 under qemu, with the debug
# builds the tests just made (scripts/kernel-matrix.sh).
bash scripts/kernel-matrix.sh x86_64
make_room target/debug
# A short fuzz smoke of every target (the long runs are bench/fuzz).
bash bench/fuzz 10
disk "after the fuzz smoke"
make_room fuzz/target
# The arm64 build (cross-compiled; see scripts/cross-aarch64.sh).
bash scripts/cross-aarch64.sh
# ... and that build on Debian's arm64 6.1 kernel (full-system emulation).
REQUIRE_ARM64=1 bash scripts/kernel-matrix.sh arm64
disk end
du -sh target fuzz/target 2>/dev/null || true
