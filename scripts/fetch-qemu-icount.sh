#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A QEMU that runs the powernv9 machine under -icount, for make
# bench-kernel's instruction clock.  Debian 12's QEMU 7.2 cannot: it stops
# in skiboot's first instructions ("qemu: fatal: Raised interrupt while not
# in I/O function").  Debian's bookworm-backports carries a later QEMU, built
# against bookworm's libraries (which Debian 12's QEMU, installed by
# scripts/deps.sh, brings).  apt fetches and verifies it through a source
# list of its own, so the machine's apt sources and its QEMU stay as they
# are:
#
#   build/dl/qemu-icount/             apt's lists and the packages
#   build/qemu-icount/root/           the packages' files
#   build/qemu-icount/qemu-system-ppc64   runs that QEMU with its firmware
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dl="$top/build/dl/qemu-icount"
out="$top/build/qemu-icount"
suite=bookworm-backports
pkgs=(qemu-system-ppc qemu-system-data)

mkdir -p "$dl/lists/partial" "$dl/archives/partial"
echo "deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
	"http://deb.debian.org/debian $suite main" >"$dl/sources.list"
apt_opts=(-q -o Dir::Etc::SourceList="$dl/sources.list" -o Dir::Etc::SourceParts=/dev/null
	  -o Dir::State::Lists="$dl/lists" -o Dir::Cache="$dl" -o Dir::Cache::Archives="$dl/archives"
	  -o APT::Sandbox::User=root)

cd "$dl"
if ! compgen -G "qemu-system-ppc_*_amd64.deb" >/dev/null ||
   ! compgen -G "qemu-system-data_*_all.deb" >/dev/null; then
	echo "qemu-icount: fetching QEMU from $suite"
	apt-get "${apt_opts[@]}" update >/dev/null
	apt-get "${apt_opts[@]}" download "${pkgs[@]/%//$suite}" >/dev/null
fi
v_bin=$(dpkg-deb -f qemu-system-ppc_*_amd64.deb Version)
v_dat=$(dpkg-deb -f qemu-system-data_*_all.deb Version)
[ "$v_bin" = "$v_dat" ] || { echo "qemu-icount: version skew $v_bin / $v_dat" >&2; exit 1; }

if [ ! -x "$out/qemu-system-ppc64" ] || [ "$(cat "$out/version" 2>/dev/null)" != "$v_bin" ]; then
	rm -rf "$out" && mkdir -p "$out"
	for d in qemu-system-ppc_*_amd64.deb qemu-system-data_*_all.deb; do
		dpkg-deb -x "$d" "$out/root"
	done
	cat >"$out/qemu-system-ppc64" <<-EOF
	#!/bin/sh
	exec "$out/root/usr/bin/qemu-system-ppc64" -L "$out/root/usr/share/qemu" "\$@"
	EOF
	chmod +x "$out/qemu-system-ppc64"
	echo "$v_bin" >"$out/version"
fi
if ldd "$out/root/usr/bin/qemu-system-ppc64" | grep 'not found' >&2; then
	echo "qemu-icount: QEMU $v_bin needs the libraries above" >&2
	exit 1
fi
echo "qemu-icount: QEMU $v_bin"
