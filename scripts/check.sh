#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: the static checks, the patch series (series-check: git am on a
# fresh base, a build after each patch, the build matrix), the userspace harness (model-checked
# tests under sanitizers, fuzz corpus replay and a short fuzz), the
# selftests on the three emulated hosts (the radix host boots the debug
# kernel), then real QEMU's live migration on the POWER9 hash host.
# check.sh base (make check-base): the same selftests on the three hosts,
# all booting the unmodified base kernel, and every real QEMU case on it;
# no static checks.  Every check and every
# test case counts; a host whose kernel reports trouble, or which never
# reaches the end of its tests, counts as one more failure.  The last line
# is "N passed, N failed, N skipped".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tests=${TESTS:?set by the Makefile}
passed=0 failed=0 skipped=0
start=$(date +%s)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

count() {	# a line "...: N passed, N failed, N skipped ..."
	local p f s
	read -r p f s < <(echo "$1" | sed -n 's/.* \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/\1 \2 \3/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))
	[ -n "$p" ]
}

hosts="powernv9-radix:debug powernv9-hash:host powernv8:host"
if [ "${1:-}" = base ]; then
	hosts="powernv9-radix:base powernv9-hash:base powernv8:base"
else
	echo "check: static checks"
	"$top/scripts/static-checks.sh" | tee "$out"
	count "$(tail -n1 "$out")" || failed=$((failed + 1))
	echo "check: the patch series (series-check) ($(( $(date +%s) - start ))s so far)"
	"$top/scripts/series-check.sh" | tee "$out"
	st=${PIPESTATUS[0]}
	if ! count "$(tail -n1 "$out" | sed 's/failed$/failed, 0 skipped/')" || [ "$st" != 0 ]; then
		grep -q "^not ok" "$out" || failed=$((failed + 1))
	fi
	echo "check: userspace harness (tools/testing/kvm_htab_fd) ($(( $(date +%s) - start ))s so far)"
	"$top/scripts/harness.sh" check | tee "$out"
	count "$(tail -n1 "$out")" || failed=$((failed + 1))
fi

for spec in $hosts; do
	host=${spec%%:*}
	kernel=${spec#*:}
	echo "check: $host, $kernel kernel, $tests ($(( $(date +%s) - start ))s so far)"
	"$top/scripts/run-host.py" --host "$host" --kernel "$top/build/obj/$kernel/vmlinux" \
		--initrd "$top/build/initramfs.cpio.gz" --run "$tests" \
		--log "$top/build/logs/$host-$kernel.log" | tee "$out"
	st=${PIPESTATUS[0]}
	count "$(grep '^== ' "$out")" || true
	# A host-level failure (kernel trouble, timeout, crash) with no failed case.
	if [ "$st" != 0 ] && ! grep -q "test failed:" "$out"; then
		failed=$((failed + 1))
	fi
done

# Real QEMU on the POWER9 hash host: make check runs the live migration and
# the HPT resize cases on our kernel (make check-qemu runs every QEMU case);
# check-base runs every QEMU case on the base kernel.
qkernel=host qcase=live_migration
[ "${1:-}" = base ] && qkernel=base qcase=big_guest
echo "check: powernv9-hash, $qkernel kernel, real QEMU up to $qcase, then the HPT resize cases ($(( $(date +%s) - start ))s so far)"
"$top/scripts/run-qemu-tests.sh" $qkernel $qcase | tee "$out"
st=${PIPESTATUS[0]}
count "$(grep '^== ' "$out")" || true
if [ "$st" != 0 ] && ! grep -q "test failed:" "$out"; then
	failed=$((failed + 1))
fi
echo "check: done in $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
