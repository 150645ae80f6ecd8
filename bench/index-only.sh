#!/bin/bash
# Benchmark of facts without the disks (issue 14, item 3): in a kgpc cache of its own,
# hard-linked to the real cache's release (nothing of the real cache is removed), it
#   - checks every example against the debug vmlinux, 3 times each, and prints the mean;
#   - drops the debug files (`kgpc kernel drop-debug`), printing the time it takes;
#   - checks every example again from the index alone, 3 times each;
#   - prints `du -sb` of the release (its tree, its -dbg package, its index files)
#     before and after.
#
# Usage: bench/index-only.sh [RELEASE]   (default: the release of the cached debug vmlinux);
#        KGPC=PATH runs that kgpc instead of building target/release/kgpc.
set -euo pipefail
shopt -s nullglob
export LC_ALL=C
cd "$(dirname "$0")/.."

if [ -z "${KGPC:-}" ]; then
    cargo build --release --quiet
fi
kgpc=${KGPC:-$PWD/target/release/kgpc}
vmlinux=$("$kgpc" kernel fetch ${1:+"$1"} --print vmlinux)
release=$(basename "$vmlinux"); release=${release#vmlinux-}
real=$(dirname "$(dirname "$(dirname "$(dirname "$(dirname "$(dirname "$vmlinux")")")")")")
real=$(dirname "$(dirname "$real")")
id=$(readelf -n "$vmlinux" | awk '/Build ID/ {print $3}')

work=$(mktemp -d -p "$PWD/target")
trap 'rm -rf "$work"' EXIT
cache=$work/cache
mkdir -p "$cache/kernels" "$cache/debs" "$cache/index"
cp -al "$real/kernels/$release" "$cache/kernels/"
for f in "$real"/debs/linux-image-"$release"-dbg_*.deb; do ln "$f" "$cache/debs/"; done
for f in "$real"/index/"$id"*; do ln "$f" "$cache/index/"; done

size() {
    du -sb --total "$cache/kernels/$release" "$cache"/debs/linux-image-"$release"-dbg_*.deb \
        "$cache"/index/"$id"* 2>/dev/null | tail -1 | cut -f1
}
checks() {
    local start end n=0
    start=$(date +%s.%N)
    for spec in examples/*.kgp; do
        for _ in 1 2 3; do
            KGPC_CACHE_DIR=$cache KGPC_RUNNING_RELEASE= "$kgpc" check "$spec" --release "$release" >/dev/null 2>&1 || true
            n=$((n + 1))
        done
    done
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" -v n="$n" 'BEGIN { printf "%.3f s per check (%d checks)", (e - s) / n, n }'
}

before=$(size)
echo "check with the debug vmlinux:  $(checks)"
start=$(date +%s.%N)
KGPC_CACHE_DIR=$cache "$kgpc" kernel drop-debug "$release" >/dev/null
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "drop-debug (render the facts, remove the files): %.1f s\n", e - s }'
echo "check from the index alone:    $(checks)"
after=$(size)
echo "release $release: $before bytes before, $after bytes after (du -sb of its tree, -dbg package and index files)"
