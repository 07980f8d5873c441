#!/usr/bin/env bash
# Installs missing build dependencies, builds in release mode and starts the
# TUI as root. Arguments are passed to systrace-tui.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release --locked
if [ "$(id -u)" -eq 0 ]; then
  exec target/release/systrace-tui "$@"
else
  exec sudo target/release/systrace-tui "$@"
fi
