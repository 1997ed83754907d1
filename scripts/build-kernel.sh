#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh VARIANT: build a kernel into build/obj/VARIANT.
#   host   build/linux, tinyconfig + arch/powerpc/configs/kvm_hpt_host.config
#   debug  the same + kvm_hpt_debug.config (lockdep, KASAN, ...)
#   base   the unmodified base (a worktree of build/linux at tag "base",
#          in build/linux-base) with the host config, for make check-base
# The config is regenerated when a fragment changes; the build is incremental.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
variant=${1:?variant}
tree="$top/build/linux"
obj="$top/build/obj/$variant"
jobs=${JOBS:-$(($(nproc) + 1))}
src="$tree"
if [ "$variant" = base ]; then
	src="$top/build/linux-base"
	[ -d "$src" ] || git -C "$tree" worktree add -q --detach "$src" base
	git -C "$src" checkout -q --detach base
fi
kmake=(make -s -C "$src" O="$obj" ARCH=powerpc CROSS_COMPILE=powerpc64le-linux-gnu- -j"$jobs")

# Config fragments are this repository's own (local in patches/series).
fragments=("$top/arch/powerpc/configs/kvm_hpt_host.config")
[ "$variant" = debug ] && fragments+=("$top/arch/powerpc/configs/kvm_hpt_debug.config")
case "$variant" in host|debug|base) ;; *) echo "unknown variant $variant" >&2; exit 1 ;; esac

mkdir -p "$obj"
sum=$(cat "${fragments[@]}" | sha1sum)
if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.fragments" 2>/dev/null)" != "$sum" ]; then
	echo "kernel[$variant]: configuring"
	"$top/scripts/configure-kernel.sh" "$src" "$obj" "${fragments[@]}"
	echo "$sum" >"$obj/.fragments"
fi

start=$(date +%s)
echo "kernel[$variant]: building vmlinux (-j$jobs)"
"${kmake[@]}" vmlinux 2>&1 | tee "$obj/build.log" | grep -v '^$' || true
[ "${PIPESTATUS[0]}" = 0 ] || { echo "kernel[$variant]: build failed, see $obj/build.log" >&2; exit 1; }
echo "kernel[$variant]: done in $(( $(date +%s) - start ))s"
