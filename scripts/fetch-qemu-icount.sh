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
#   build/dl/qemu-icount/             apt's lists
#   build/qemu-icount/root/           the packages' files
#   build/qemu-icount/qemu-system-ppc64   runs that QEMU with its firmware
#   build/qemu-icount/version         its Debian version
#
# Once unpacked, it is used as it is, with no network.  QEMU_ICOUNT_MIRROR
# overrides the mirror (default http://deb.debian.org/debian).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dl="$top/build/dl/qemu-icount"
out="$top/build/qemu-icount"
suite=bookworm-backports
mirror=${QEMU_ICOUNT_MIRROR:-http://deb.debian.org/debian}

if [ -x "$out/qemu-system-ppc64" ] && [ -s "$out/version" ]; then
	echo "qemu-icount: QEMU $(cat "$out/version")"
	exit 0
fi

fail() {
	echo "qemu-icount: $*; BENCH_CLOCK=wall runs the bench on Debian 12's QEMU instead" >&2
	exit 1
}

mkdir -p "$dl/lists/partial"
echo "deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
	"$mirror $suite main" >"$dl/sources.list"
apt_opts=(-q -o Dir::Etc::SourceList="$dl/sources.list" -o Dir::Etc::SourceParts=/dev/null
	  -o Dir::State::Lists="$dl/lists" -o Dir::Cache="$dl" -o APT::Sandbox::User=root)

echo "qemu-icount: fetching QEMU from $suite"
apt-get "${apt_opts[@]}" update >/dev/null || fail "no package lists from $mirror $suite"
ver=$(apt-cache "${apt_opts[@]}" madison qemu-system-ppc |
      awk -F' *[|] *' -v s="$suite" '$3 ~ s { print $2; exit }')
[ -n "$ver" ] || fail "no qemu-system-ppc in $suite"

# Into a directory of its own, moved into place whole: an interrupted
# download leaves nothing behind.
tmp=$(mktemp -d "$dl/download.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get "${apt_opts[@]}" download "qemu-system-ppc=$ver" \
	"qemu-system-data=$ver" >/dev/null) || fail "cannot download QEMU $ver"
rm -rf "$out.new" && mkdir -p "$out.new"
for d in "$tmp"/*.deb; do
	dpkg-deb -x "$d" "$out.new/root"
done
cat >"$out.new/qemu-system-ppc64" <<-'EOF'
	#!/bin/sh
	d=$(dirname "$0")
	exec "$d/root/usr/bin/qemu-system-ppc64" -L "$d/root/usr/share/qemu" "$@"
EOF
chmod +x "$out.new/qemu-system-ppc64"
if ldd "$out.new/root/usr/bin/qemu-system-ppc64" | grep 'not found' >&2; then
	fail "QEMU $ver needs the libraries above"
fi
echo "$ver" >"$out.new/version"
rm -rf "$out" && mv "$out.new" "$out"
echo "qemu-icount: QEMU $ver"
