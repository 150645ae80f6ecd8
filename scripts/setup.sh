#!/bin/bash
# Install the Debian 12 packages that kgpc's tests and CI need. When all of them are installed
# already it runs neither apt-get update nor apt-get install, so a prepared machine pays nothing.
set -euo pipefail

# gcc-12 and make build the modules. libelf1 and libssl3 are what the prebuilt tools of
# linux-kbuild-6.1 link against: `kgpc kernel fetch` unpacks that package without installing it, so
# apt never resolves its dependencies. cpio, gzip and busybox-static make the test initramfs,
# qemu-system-x86 boots it, xz-utils handles .xz data and kmod provides modinfo. binutils links
# the kernel-facts test fixtures; dwarves' pahole is the peer bench/kernel-facts.sh compares with,
# measured with time's /usr/bin/time. gcc and libc6-dev's libc.a build a test's `program`s for
# the guest, statically. debuginfod (elfutils) is the real server tests/debuginfod.rs fetches
# from; lz4 decompresses the payload of Debian's vmlinuz, whose build id kgpc asks it by; openssl
# makes the certificates of its https server and serves it, and makes the signing tests' keys;
# dpkg-deb (dpkg) builds `kgpc package`'s .deb and lintian checks it; systemd's systemd-analyze
# checks its unit.
PACKAGES=(gcc-12 gcc libc6-dev make libelf1 libssl3 cpio gzip xz-utils busybox-static qemu-system-x86 kmod dwarves binutils time debuginfod lz4 openssl dpkg lintian systemd)

missing=()
for p in "${PACKAGES[@]}"; do
  # The second letter of dpkg's abbreviated status is "i" only for a fully installed package.
  # shellcheck disable=SC2016 # The format is dpkg-query's, not the shell's.
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [ "${status:1:1}" = i ] || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0

# Installing bookworm's qemu-system-x86 may remove a backported qemu-utils, which nothing here
# needs; -y accepts that, and --allow-downgrades accepts the rare downgrade of a backport.
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
echo "setup: installing ${missing[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o Dpkg::Use-Pty=0 \
  --no-install-recommends --allow-downgrades install "${missing[@]}"
