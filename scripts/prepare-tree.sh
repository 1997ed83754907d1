#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare build/linux: Debian's linux-source-6.12 as a git repository whose
# history is
#
#   base     the unpacked Debian source, as shipped (tag "base")
#   ...      one commit per stanza of patches/series (tags series/NAME), see
#            scripts/series.py
#
# Re-running only rewrites the files whose content changed, so kbuild
# rebuilds only what depends on them.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tree="$top/build/linux"
tarball=/usr/src/linux-source-6.12.tar.xz
# The base commit is no one's: a fixed identity, no sign-off.
g() { git -C "$tree" -c user.name="prepared tree" -c user.email=prepared-tree@invalid \
	-c commit.gpgsign=false "$@"; }

log() { echo "tree: $*"; }

if [ ! -d "$tree/.git" ]; then
	[ -r "$tarball" ] || { echo "tree: $tarball missing (run make deps)" >&2; exit 1; }
	rm -rf "$tree" "$top/build/linux.tmp"
	mkdir -p "$top/build/linux.tmp"
	log "unpacking $tarball"
	tar -xJf "$tarball" -C "$top/build/linux.tmp"
	mv "$top/build/linux.tmp"/linux-source-6.12 "$tree"
	rmdir "$top/build/linux.tmp"
	pkg=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	kver=$(make -s -C "$tree" kernelversion)
	printf 'debian-package: linux-source-6.12 %s\nkernel-version: %s\n' "$pkg" "$kver" \
		>"$top/build/base-version.txt"
	log "base is Linux $kver from linux-source-6.12 $pkg"
	g init -q -b base-tree
	# Debian's .gitignore ignores the whole top level: add by force.
	g add -A -f .
	g commit -q -m "Linux $kver (Debian linux-source-6.12 $pkg)"
	g tag -f base >/dev/null
fi

# The series: one commit per stanza of patches/series, rebuilt from base
# whenever an input changed (only the files that differ are rewritten).
python3 "$top/scripts/series.py" build "$tree"

# Hand edits (experiments) stay, but say so: they are in no commit.
dirty=$(g status --porcelain --untracked-files=no | head -n 5)
[ -z "$dirty" ] || log "warning: local changes not in any commit:
$dirty"
