#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build build/initramfs-qemu.cpio.gz: the host initramfs of make check-qemu.
# The usual one (busybox, our init, the selftests) plus Debian's ppc64el
# QEMU (scripts/fetch-qemu-ppc64el.sh), the guest kernel, the guest's own
# initramfs (busybox and tools/testing/htab_fd_qemu/guest-init), and the
# host-side test htab_fd_qemu with its HPT dump helper under /tests.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
src="$top/tools/testing/htab_fd_qemu"
root="$top/build/initramfs-qemu"
guest="$top/build/qemu-guest-initramfs"
out="$top/build/initramfs-qemu.cpio.gz"

"$top/scripts/fetch-qemu-ppc64el.sh"

# The guest's initramfs.
rm -rf "$guest" && mkdir -p "$guest"/{bin,dev,proc,sys,tmp}
cp "$top/build/busybox/bin/busybox" "$guest/bin/busybox"
install -m 755 "$src/guest-init" "$guest/init"
(cd "$guest" && find . | sort | cpio -o -H newc --quiet -R 0:0 | gzip -9) >"$top/build/qemu-guest.cpio.gz"

rm -rf "$root" && mkdir -p "$root"
cp -a "$top/build/initramfs/." "$root/"
cp -a "$top/build/qemu/root/." "$root/"
mkdir -p "$root/guest"
cp "$top/build/qemu/guest/vmlinux" "$top/build/qemu/guest/package" "$root/guest/"
cp "$top/build/qemu-guest.cpio.gz" "$root/guest/initrd.cpio.gz"
install -m 755 "$src/htab_fd_qemu" "$root/tests/htab_fd_qemu"
cc=(powerpc64le-linux-gnu-gcc -O2 -Wall -Wextra -Werror)
"${cc[@]}" -static -o "$root/tests/htab_debugfs_dump" "$src/htab_debugfs_dump.c"
"${cc[@]}" -static -o "$root/tests/clock_watch" "$src/clock_watch.c"
"${cc[@]}" -shared -fPIC -o "$root/tests/syscall_clock.so" "$src/syscall_clock.c"
(cd "$root" && find . | sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
echo "initramfs-qemu: QEMU $(cat "$top/build/qemu/guest/package" | cut -d_ -f1) guest," \
	"$(du -sh "$root" | cut -f1) unpacked, $(du -h "$out" | cut -f1) compressed"
