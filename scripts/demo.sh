#!/bin/bash
# Sets up this machine and runs kgpc's main job on an example: compile
# examples/livepatch-sample.kgp into a livepatch module's source and build it
# with the kernel build system against Debian 12's cloud kernel headers.
#
# Usage: scripts/demo.sh [SPEC]   (default: examples/livepatch-sample.kgp)
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:-examples/livepatch-sample.kgp}

scripts/setup.sh
kdir=$(scripts/fetch-kernel.sh)
release=${kdir##*/linux-headers-}
cargo build --release --locked --quiet

name=$(basename "$spec" .kgp)
out=target/demo/$name
target/release/kgpc compile "$spec" --release "$release" -o "$out"
make -C "$out" KDIR="$kdir"
echo
echo "Built $(ls "$out"/*.ko) for $release from $spec."
echo "Generated source: $out/$(cd "$out" && ls livepatch-*.c)"
