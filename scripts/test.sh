#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit tests and the root-only
# integration tests (real eBPF, real processes, the TUI in tmux).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  # Root-only tests need root; keep the caller's toolchain on PATH.
  exec sudo -E env "PATH=$PATH" bash "$0" "$@"
fi
bash scripts/deps.sh test
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked -- --test-threads=2
# A short fuzz smoke of every target (the long runs are bench/fuzz).
bash bench/fuzz 10
# The arm64 build (cross-compiled; see scripts/cross-aarch64.sh).
bash scripts/cross-aarch64.sh
