#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what the build and the tests need, once.  A second run checks and
# installs nothing.  The ppc64el busybox is downloaded (not installed) into
# build/dl and unpacked for the initramfs.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dl="$top/build/dl"

packages=(
	build-essential bc bison flex cpio xz-utils git kmod python3 python3-ply python3-git rsync
	libelf-dev libssl-dev
	gcc-powerpc64le-linux-gnu libc6-dev-ppc64el-cross
	qemu-system-ppc qemu-system-data
	linux-source-6.12
	sparse coccinelle ocaml-nox
	clang libclang-rt-14-dev valgrind
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo

if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	# With ppc64el added, its security index may fail: the rest still works.
	$sudo apt-get update -q || true
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Static busybox for the emulated ppc64le host's initramfs.
if ! ls "$dl"/busybox-static_*_ppc64el.deb >/dev/null 2>&1; then
	if ! dpkg --print-foreign-architectures | grep -qx ppc64el; then
		$sudo dpkg --add-architecture ppc64el
	fi
	# One of the ppc64el indexes (security) may fail; the main one is enough.
	$sudo apt-get update -q || true
	mkdir -p "$dl"
	(cd "$dl" && apt-get download -q busybox-static:ppc64el)
fi
echo "deps: ok"
