#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare build/linux: Debian's linux-source-6.12 as a git repository whose
# history is
#
#   base     the unpacked Debian source, as shipped
#   stripped the base's HPT fd implementation removed (strip-base-htab-fd.py)
#   patched  one commit per entry of patches/series (git am)
#   HEAD     one commit placing our overlay (arch/ include/ Documentation/
#            tools/ of this repository, at the same paths)
#
# Re-running only redoes what changed: a changed series or strip script
# resets to base and redoes both; a changed overlay file is copied (others keep their mtime,
# so kbuild rebuilds only what depends on it) and the overlay commit is
# amended.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tree="$top/build/linux"
tarball=/usr/src/linux-source-6.12.tar.xz
overlay_dirs=(arch include Documentation tools)

author="HPT fd team <hpt-fd@localhost>"
g() { git -C "$tree" -c user.name="${author% <*}" -c user.email="hpt-fd@localhost" \
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

# Strip the base's HPT fd, then the patches: one commit each, all redone
# from base when the strip script or the series changes.
prep_sum=$( (cat "$top/scripts/strip-base-htab-fd.py" && cd "$top/patches" && cat series &&
	{ grep -v "^#" series || true; } | xargs -r cat) | sha1sum)
if [ "$(cat "$tree/.git/hpt-series" 2>/dev/null)" != "$prep_sum" ]; then
	log "stripping the base HPT fd, applying patches/series"
	g reset -q --hard base
	g clean -q -fd
	python3 "$top/scripts/strip-base-htab-fd.py" "$tree"
	g add -f arch/powerpc/kvm/book3s_64_mmu_hv.c
	g commit -q -F - <<-EOF
	KVM: PPC: Book3S HV: Remove the base HPT fd implementation

	The HPT fd project replaces KVM_PPC_GET_HTAB_FD's implementation with
	its own.  Remove the base's: its context, read, write, release, file
	operations and ioctl entry.  Done by scripts/strip-base-htab-fd.py.

	Signed-off-by: $author
	EOF
	g tag -f stripped >/dev/null
	mapfile -t patches < <({ grep -v -e "^#" -e "^$" "$top/patches/series" || true; } | sed "s|^|$top/patches/|")
	if [ ${#patches[@]} -gt 0 ]; then
		g am -q "${patches[@]}" || { g am --abort; echo "tree: git am failed" >&2; exit 1; }
	fi
	g tag -f patched >/dev/null
	echo "$prep_sum" >"$tree/.git/hpt-series"
fi

# Overlay: files git tracks (or would track) under the overlay directories.
mapfile -t files < <(cd "$top" && git ls-files --cached --others --exclude-standard \
	-- "${overlay_dirs[@]}" | sort -u)
touched=()
for f in "${files[@]}"; do
	[ -f "$top/$f" ] || continue
	if ! cmp -s "$top/$f" "$tree/$f"; then
		mkdir -p "$(dirname "$tree/$f")"
		cp "$top/$f" "$tree/$f"
		touched+=("$f")
	fi
done
# Files the previous overlay placed that are gone now: back to the patched state.
# (A lookup table, not grep -q on a pipe: with pipefail, grep leaving early
# can fail the pipe and make a file look gone.)
declare -A in_overlay=()
for f in "${files[@]}"; do
	in_overlay[$f]=1
done
while read -r f; do
	[ -n "$f" ] || continue
	if [ -z "${in_overlay[$f]:-}" ]; then
		if g cat-file -e "patched:$f" 2>/dev/null; then
			g checkout -q patched -- "$f"
		else
			rm -f "$tree/$f"
		fi
		touched+=("$f")
	fi
done < <(g diff --name-only patched HEAD)

msg="KVM: PPC: Book3S HV: Add the HPT fd project's own files

Files of the HPT fd project that are not edits of upstream files, placed
at the path they take in the kernel tree:

$(printf '  %s\n' "${files[@]}")

Signed-off-by: $author"
# Only our files: anything else lying in the tree stays out of the commit.
[ ${#touched[@]} -eq 0 ] || g add -A -f -- "${touched[@]}"
if [ "$(g rev-parse HEAD)" = "$(g rev-parse patched)" ]; then
	g commit -q --allow-empty -m "$msg"
	log "overlay commit $(g rev-parse --short HEAD) (${#files[@]} files)"
elif [ ${#touched[@]} -gt 0 ] || [ "$(g log -1 --format=%B)" != "$msg" ]; then
	g commit -q --allow-empty --amend --reset-author -m "$msg"
	log "overlay commit $(g rev-parse --short HEAD) (${#files[@]} files)"
fi

# Hand edits (experiments) stay, but say so: they are in no commit.
dirty=$(g status --porcelain --untracked-files=no | head -n 5)
[ -z "$dirty" ] || log "warning: local changes not in any commit:
$dirty"
log "ready: $(g log --oneline base..HEAD | wc -l) commits over base"
