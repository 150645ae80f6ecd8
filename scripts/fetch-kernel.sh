#!/bin/bash
# Fetch Debian 12's cloud-amd64 kernel (image, headers, kbuild and, with --dbg, the debug vmlinux
# and System.map) into a private cache, without installing anything, and print one path on stdout.
#
# Usage: scripts/fetch-kernel.sh [--dbg] [--release RELEASE] [--print kdir|vmlinuz|vmlinux|root]
#   --release  a kernel release such as 6.1.0-57-cloud-amd64 (default: the one that the archive's
#              linux-image-cloud-amd64 meta-package depends on now).
#   --print    what to print: the module build tree (kdir, the default), the bootable image
#              (vmlinuz), the debug vmlinux (vmlinux, which implies --dbg) or the extracted root.
#
# The cache is the one kgpc reads: $KGPC_CACHE_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/kgpc.
# It holds debs/*.deb, kernels/<release>/{release,root/}, kernels/current (the release resolved
# last) and lock. A tree is renamed into place only once it is complete, and a complete tree is
# reused without downloading anything. The release file is written last, when all is in place.
set -euo pipefail

FLAVOUR=cloud-amd64
CACHE=${KGPC_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:?}/.cache}/kgpc}
DEBS=$CACHE/debs
APT=(apt-get -q -o APT::Sandbox::User=root)
USAGE="usage: $0 [--dbg] [--release RELEASE] [--print kdir|vmlinuz|vmlinux|root]"
ARGS=("$@")

say() { printf 'fetch-kernel: %s\n' "$*" >&2; }
die() { printf 'fetch-kernel: error: %s\n' "$*" >&2; exit 1; }

dbg=0 release='' print=kdir
while [ $# -gt 0 ]; do
  case $1 in
    --dbg) dbg=1 ;;
    --release) [ $# -ge 2 ] || die "$USAGE"; release=$2; shift ;;
    --print) [ $# -ge 2 ] || die "$USAGE"; print=$2; shift ;;
    -h | --help) echo "$USAGE"; exit 0 ;;
    *) die "unknown argument '$1'; $USAGE" ;;
  esac
  shift
done
case $print in
  kdir | vmlinuz | root) ;;
  vmlinux) dbg=1 ;;
  *) die "--print takes kdir, vmlinuz, vmlinux or root, not '$print'" ;;
esac

# Refresh apt's package lists, at most once per run (a rerun after a refresh says so in its
# environment). This needs root and network access to Debian's archive.
updated=${KGPC_FETCH_UPDATED:-0}
apt_update() {
  say "refreshing apt's package lists (apt-get update)"
  "${APT[@]}" --error-on=any update >&2 || die "apt-get update failed (see above): run as root" \
    "with network access to deb.debian.org, or set KGPC_KDIR to an existing kernel build tree"
  updated=1
}

# Print what apt's local lists say about the candidate version of package $1 (no network), and
# pick field $1 out of such a text on stdin.
pkginfo() { apt-cache show --no-all-versions "$1" 2>/dev/null || true; }
field() { sed -n "s/^$1: //p" | head -n1; }

# Without --release, take the release that the meta-package depends on in apt's lists. Each
# apt-cache run parses all the lists (these machines turn apt's binary cache off), which takes most
# of a second, so the answer is kept in kernels/current and reused while nothing in apt's lists or
# configuration is newer. Lists without the meta-package are refreshed, unless a previous run left
# a complete tree to use.
current=$CACHE/kernels/current
lists=$(apt-config shell x Dir::State::lists/d | sed "s/^x='\(.*\)'$/\1/")
lists=${lists:-/var/lib/apt/lists}
if [ -z "$release" ] && [ -f "$current" ] && [ -z "$(find "$lists" /etc/apt \
  -newer "$current" ! -name lock -print -quit 2>/dev/null)" ]; then
  release=$(cat "$current")
fi
if [ -z "$release" ]; then
  meta=$(pkginfo "linux-image-$FLAVOUR" | field Depends)
  previous=$(cat "$current" 2>/dev/null || true)
  if [ -z "$meta" ] && [ -f "$CACHE/kernels/${previous:-none}/root/.kgpc-complete" ]; then
    say "apt's lists name no linux-image-$FLAVOUR; using the cached $previous"
    meta=linux-image-$previous
  elif [ -z "$meta" ] && [ "$updated" = 0 ]; then
    apt_update
    meta=$(pkginfo "linux-image-$FLAVOUR" | field Depends)
  fi
  release=$(echo "$meta" | sed -n "s/^linux-image-\([0-9][^ ,]*-$FLAVOUR\)\([ ,].*\)\?$/\1/p")
  [ -n "$release" ] || die "cannot resolve the kernel release: apt has no linux-image-$FLAVOUR;" \
    "check that /etc/apt/sources.list.d names Debian 12 (bookworm) main"
  resolved=1
fi
case $release in
  *[!A-Za-z0-9.+~-]*) die "'$release' is not a release of the form 6.1.0-57-$FLAVOUR" ;;
  [0-9]*-"$FLAVOUR") ;;
  *) die "'$release' is not a release of the form 6.1.0-57-$FLAVOUR" ;;
esac
K=$CACHE/kernels/$release
ROOT=$K/root

# Runs take turns on one cache, and the first thing a run does is delete the leftovers of
# interrupted ones.
mkdir -p "$DEBS" "$K"
exec 9>"$CACHE/lock"
flock 9
rm -rf "$DEBS"/.partial.* "$K"/.tmp.*
tmp=''
trap 'rm -rf "$tmp"' EXIT

# Set HEADERS to apt's entry for the headers of $release and VERSION to their version (which the
# debug image, kbuild, compiler and common headers share), refreshing the lists once if need be.
lookup_headers() {
  HEADERS=$(pkginfo "linux-headers-$release")
  if [ -z "$HEADERS" ] && [ "$updated" = 0 ]; then
    apt_update
    HEADERS=$(pkginfo "linux-headers-$release")
  fi
  [ -n "$HEADERS" ] || die "apt's lists have no linux-headers-$release; pass a --release that" \
    "Debian's archive still has (see apt-cache search linux-headers-.*-$FLAVOUR)"
  VERSION=$(field Version <<<"$HEADERS")
}

# Download the packages "$@" (name=version) into debs/ unless they are there already, and set FILES
# to their file names. A "404 Not Found" before any refresh refreshes the lists and runs the script
# again: the archive keeps only the newest kernel of a suite, so old lists name files now gone.
download() {
  local f missing=()
  FILES=$("${APT[@]}" download --print-uris "$@" | awk '{print $2}') ||
    die "apt cannot locate all of $*"
  for f in $FILES; do [ -f "$DEBS/$f" ] || missing+=("$f"); done
  [ ${#missing[@]} -gt 0 ] || return 0
  say "downloading ${missing[*]}"
  tmp=$(mktemp -d "$DEBS/.partial.XXXXXX")
  if ! (cd "$tmp" && "${APT[@]}" download "$@") 2>&1 | tee "$tmp/apt.log" >&2; then
    if [ "$updated" = 0 ] && grep -q ' 404 ' "$tmp/apt.log"; then
      exec 9>&-
      apt_update
      KGPC_FETCH_UPDATED=1 exec "$0" "${ARGS[@]}"
    fi
    grep -q ' 404 ' "$tmp/apt.log" && die "Debian's archive no longer has some of $* even" \
      "after apt-get update; pass a --release that it has, or set KGPC_KDIR to a kernel build tree"
    die "could not download $* from Debian's archive (apt's messages are above): check" \
      "network access to deb.debian.org, or set KGPC_KDIR to an existing kernel build tree"
  fi
  mv "$tmp"/*.deb "$DEBS"/
  rm -rf "$tmp"
}

# The image, the headers and what the headers depend on (common headers, kbuild and compiler,
# all built from the same source version), unpacked into a temporary tree renamed into place.
if [ ! -f "$ROOT/.kgpc-complete" ]; then
  lookup_headers
  deps=$(field Depends <<<"$HEADERS" | tr ',' '\n' | sed 's/^ *//; s/[ |].*//')
  pkgs=("linux-image-$release" "linux-headers-$release=$VERSION")
  for d in $deps; do pkgs+=("$d=$VERSION"); done
  download "${pkgs[@]}"
  say "unpacking $release into $ROOT"
  rm -rf "$ROOT"
  tmp=$(mktemp -d "$K/.tmp.XXXXXX")
  # The packages are unpacked side by side, which saves a second or two on two cores.
  pids=()
  for f in $FILES; do dpkg -x "$DEBS/$f" "$tmp" & pids+=("$!"); done
  for p in "${pids[@]}"; do wait "$p" || die "dpkg -x failed on one of $FILES in $DEBS"; done
  # The arch headers' Makefile includes the common one by its absolute /usr/src path: point it
  # at the final (not the temporary) tree.
  mk=$tmp/usr/src/linux-headers-$release/Makefile
  escaped=$(printf '%s' "$ROOT" | sed 's/[&|\\]/\\&/g')
  sed -i "s|^include /usr/src/|include $escaped/usr/src/|" "$mk"
  grep -q "^include $ROOT/usr/src/" "$mk" || die "unexpected layout of $mk: no include of /usr/src"
  touch "$tmp/.kgpc-complete"
  mv "$tmp" "$ROOT"
  tmp=''
fi

# From the debug package only the vmlinux and the real System.map, which come first in its data:
# tar stops after them and dpkg-deb then dies of SIGPIPE, which is expected.
if [ "$dbg" = 1 ] && [ ! -f "$ROOT/.kgpc-dbg-complete" ]; then
  [ -n "${VERSION:-}" ] || lookup_headers
  download "linux-image-$release-dbg=$VERSION"
  say "unpacking the debug vmlinux and System.map of $release"
  tmp=$(mktemp -d "$K/.tmp.XXXXXX")
  { dpkg-deb --fsys-tarfile "$DEBS/$FILES" 2>/dev/null || true; } |
    tar -x -C "$tmp" --occurrence=1 --wildcards '*/boot/vmlinux-*' '*/boot/System.map-*'
  mkdir -p "$ROOT/usr/lib/debug/boot"
  mv "$tmp/usr/lib/debug/boot/vmlinux-$release" "$tmp/usr/lib/debug/boot/System.map-$release" \
    "$ROOT/usr/lib/debug/boot/"
  touch "$ROOT/.kgpc-dbg-complete"
fi

# Record the release, and a freshly resolved one as current (which also renews the file's date).
[ -f "$K/release" ] || echo "$release" >"$K/release"
if [ -n "${resolved:-}" ]; then
  echo "$release" >"$current.tmp"
  mv "$current.tmp" "$current"
fi
case $print in
  kdir) echo "$ROOT/usr/src/linux-headers-$release" ;;
  vmlinuz) echo "$ROOT/boot/vmlinuz-$release" ;;
  vmlinux) echo "$ROOT/usr/lib/debug/boot/vmlinux-$release" ;;
  root) echo "$ROOT" ;;
esac
