#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build build/initramfs.cpio.gz: Debian's static ppc64el busybox, our init,
# and the statically cross-built test programs under /tests.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
root="$top/build/initramfs"
out="$top/build/initramfs.cpio.gz"
deb=$(ls "$top"/build/dl/busybox-static_*_ppc64el.deb | head -n1)

rm -rf "$root" "$top/build/busybox"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,tests} "$top/build/busybox"
dpkg-deb -x "$deb" "$top/build/busybox"
cp "$top/build/busybox/bin/busybox" "$root/bin/busybox"
install -m 755 "$top/scripts/initramfs-init" "$root/init"
for t in "$top"/build/obj/selftests/powerpc/*; do
	case "$t" in *.o|*.d) continue ;; esac
	install -m 755 "$t" "$root/tests/"
done
(cd "$root" && find . | sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
echo "initramfs: $(ls "$root/tests" | tr '\n' ' ')($(du -k "$out" | cut -f1) KiB)"
