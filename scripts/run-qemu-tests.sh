#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-qemu-tests.sh KERNEL CASE: boot the POWER9 hash host with
# build/obj/KERNEL/vmlinux and the QEMU initramfs, and run the real QEMU
# cases of tools/testing/htab_fd_qemu up to and including CASE, then the
# cases of a guest resizing its HPT; the log
# goes to build/logs/qemu-KERNEL.log.  Used by make check (our kernel,
# live_migration), make check-base (the base, every case) and make
# check-qemu / check-qemu-base.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:?kernel: host or base}
case=${2:?the last case to run}
timeout=2700				# every case: about 185 s measured
[ "$case" = live_migration ] && timeout=1200	# 64-124 s measured

exec "$top/scripts/run-host.py" --host powernv9-hash --memory 3G --timeout "$timeout" \
	--kernel "$top/build/obj/$kernel/vmlinux" --initrd "$top/build/initramfs-qemu.cpio.gz" \
	--run htab_fd_qemu --args="-t,$case,-r" --log "$top/build/logs/qemu-$kernel.log"
