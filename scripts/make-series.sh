#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make-series.sh OUT: export the prepared tree's series as mails into OUT,
# signed off by whoever sends it: AUTHOR='Name <email>', else the
# repository's git config user.name and user.email.  No identity, no series.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?output directory}
ident=${AUTHOR:-}
if [ -z "$ident" ]; then
	name=$(git -C "$top" config user.name || true)
	email=$(git -C "$top" config user.email || true)
	[ -n "$name" ] && [ -n "$email" ] && ident="$name <$email>"
fi
if [ -z "$ident" ]; then
	echo "series: who sends it?  Set git config user.name and user.email," >&2
	echo "series: or AUTHOR='Name <email>': it becomes the author and Signed-off-by." >&2
	exit 1
fi
python3 "$top/scripts/series.py" export "$top/build/linux" "$out" "$ident"
ls "$out"
