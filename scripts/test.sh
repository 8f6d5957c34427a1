#!/usr/bin/env bash
# Installs what is missing, builds skiff, and runs the whole test suite: unit tests,
# then the integration tests that drive the real binary rootless and as root.
set -euo pipefail
. "$(dirname "$0")/common.sh"
setup_machine
cd "$TOP"
export SKIFF_TEST_USER=$TEST_USER
# `skiff` by name for every user (binary, completions, man pages), from this build.
cargo build --quiet
if [ "$(id -u)" -eq 0 ]; then "$TOP/scripts/install.sh" "$TOP/target/debug/skiff"; fi
# Two test threads: the machine has two cores and many tests start processes.
cargo test --workspace --no-fail-fast -- --test-threads="${SKIFF_TEST_THREADS:-2}"
