#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# series-diff.sh NAME: after editing upstream files in build/linux, write
# their changes back into patches/NAME.diff (see scripts/series.py diff),
# then re-run make tree.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
python3 "$top/scripts/series.py" diff "$top/build/linux" "${1:?stanza name}"
