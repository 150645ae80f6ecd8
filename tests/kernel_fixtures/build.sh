#!/bin/sh
# Builds kgpc's kernel fixtures into DIR, the one recipe that the kernel-facts
# tests, the kernel rules' unit tests and the fuzz seeds share:
#   vmlinux   core.c and other.c, linked like the kernel by fixture.lds
#   module.o  a relocatable "module"
#   bare      bare.c alone: no banner, no klp_enable_patch
# Every unit is built as the kernel builds it for ftrace: -pg -mfentry
# -mrecord-mcount, with DWARF. Usage: build.sh DIR
set -eu
src=$(cd "$(dirname "$0")" && pwd)
dir=$1
for f in core.c other.c module.c bare.c fixture.h fixture.lds; do
    cp "$src/$f" "$dir/$f"
done
cd "$dir"
for unit in core other module bare; do
    gcc -O2 -g -pg -mfentry -mrecord-mcount -fno-pic \
        -fno-asynchronous-unwind-tables -fno-stack-protector \
        -c "$unit.c" -o "$unit.o"
done
link="ld --build-id -T fixture.lds --emit-relocs --no-warn-rwx-segments"
$link -o vmlinux core.o other.o
$link -o bare -e add_one bare.o
