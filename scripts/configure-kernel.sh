#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# configure-kernel.sh SRC OBJ FRAGMENT...: configure a ppc64le build of the
# tree SRC in OBJ as tinyconfig with the fragments merged on top, in order
# (a later fragment's word on an option wins), and fail unless every option
# the fragments ask for, set or "is not set", survived olddefconfig.
set -euo pipefail

src=${1:?source tree}
obj=${2:?object directory}
shift 2
kmake=(make -s -C "$src" O="$obj" ARCH=powerpc CROSS_COMPILE=powerpc64le-linux-gnu-)

mkdir -p "$obj"
"${kmake[@]}" tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$@" >"$obj/merge.log" 2>&1
"${kmake[@]}" olddefconfig >/dev/null

bad=0
while read -r want; do
	case $want in
	"# CONFIG_"*" is not set") ! grep -q "^${want:2:-11}=" "$obj/.config" ;;
	*) grep -qx -- "$want" "$obj/.config" ;;
	esac || { echo "configure: $want did not stick" >&2; bad=1; }
done < <(grep -h -e '^CONFIG_' -e '^# CONFIG_.* is not set' "$@" |
	 sed 's/^# \(CONFIG_[A-Z0-9_]*\) is not set/\1 &/; s/^\(CONFIG_[A-Z0-9_]*\)=/\1 &/' |
	 tac | sort -s -u -k1,1 | cut -d' ' -f2-)
exit $bad
