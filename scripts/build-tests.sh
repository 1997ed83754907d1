#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cross-build the powerpc KVM selftests (and the demo) statically from
# build/linux into build/obj/selftests, against build/linux's UAPI headers.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tree="$top/build/linux"
obj="$top/build/obj"
hdr="$obj/headers/usr"
cross=powerpc64le-linux-gnu-

make -s -C "$tree" O="$obj/headers" ARCH=powerpc CROSS_COMPILE=$cross \
	INSTALL_HDR_PATH="$hdr" headers_install
mkdir -p "$obj/selftests"
make -s -C "$tree/tools/testing/selftests/kvm" -j"$(($(nproc) + 1))" \
	ARCH=powerpc CROSS_COMPILE=$cross OUTPUT="$obj/selftests" \
	INSTALL_HDR_PATH="$hdr" KHDR_INCLUDES="-isystem $hdr/include" \
	EXTRA_CFLAGS="-static" "$@"
echo "tests: built $(cd "$obj/selftests" && ls powerpc | grep -v '\.[od]$' | tr '\n' ' ')"
