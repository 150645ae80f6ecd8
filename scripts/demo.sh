#!/bin/bash
# Sets up this machine and runs kgpc's main job on an example: check
# examples/livepatch-sample.kgp against Debian 12's cloud kernel (its debug
# vmlinux), compile and build the livepatch module with the kernel's build
# system, then prove it by loading it into that kernel under QEMU.
#
# It also installs what the tests need, so that `cargo nextest run` works
# afterwards. The first run downloads about 330 MB of kernel packages and
# builds tree-sitter-cli (several minutes); later runs reuse both.
#
# Usage: scripts/demo.sh [SPEC]   (default: examples/livepatch-sample.kgp)
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:-examples/livepatch-sample.kgp}

scripts/setup.sh
scripts/editor-tools.sh
cargo build --release --locked --quiet
kgpc=target/release/kgpc
vmlinux=$($kgpc kernel fetch --print vmlinux)
release=${vmlinux##*/vmlinux-}

name=$(basename "$spec" .kgp)
out=target/demo/$name
echo "== kgpc check: the spec against $release's debug vmlinux"
$kgpc check "$spec" --release "$release" --vmlinux "$vmlinux"
echo "== kgpc build: generated source and module in $out/"
$kgpc build "$spec" --release "$release" -o "$out"
echo "== kgpc test: the module in $release under QEMU"
$kgpc test "$spec" --release "$release"
