#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What a maintainer runs first, on what is ours:
#   series layout        patches/series names every file of ours once
#   checkpatch --strict  on every C file we own (the exported patches: series-check)
#   build warnings       our selftest files and userspace harness build with -Werror
#   sparse, W=1          on the kernel objects built from C files we own
#   coccicheck           (MODE=report) on every C file we own
# Prints one "ok"/"not ok" line per check and ends with "N passed, N failed".
set -uo pipefail

# Debian's python3 first: checkpatch's spdxcheck needs its python3-ply.
export PATH=/usr/bin:/bin:$PATH
top=$(cd "$(dirname "$0")/.." && pwd)
tree="$top/build/linux"
obj="$top/build/obj"
logdir="$top/build/logs/static"
mkdir -p "$logdir"
passed=0 failed=0 skipped=0

result() {	# name, status (0 ok), log
	if [ "$2" = 0 ]; then
		echo "ok - $1"
		passed=$((passed + 1))
	else
		echo "not ok - $1 (see ${3#"$top"/})"
		sed 's/^/#   /' "$3" | head -20
		failed=$((failed + 1))
	fi
}

skip() {
	echo "ok - $1 # SKIP $2"
	skipped=$((skipped + 1))
}

mapfile -t our_c < <(cd "$top" && git ls-files --cached --others --exclude-standard \
	-- arch include tools | grep -E '\.[ch]$')
mapfile -t our_kernel_c < <(printf '%s\n' "${our_c[@]}" | grep -E '^arch/.*\.c$' || true)

# patches/series must name every file of ours once (checkpatch of the
# exported patches themselves is make series-check's).
log="$logdir/series-layout.log"
python3 "$top/scripts/series.py" check >"$log" 2>&1
result "patches/series names every file of ours exactly once" $? "$log"

# The userspace harness defines the kernel's types, READ_ONCE(), list
# macros and attribute macros for itself, and libFuzzer names its entry
# point: what checkpatch says about those is not about our code.
harness_ignore=NEW_TYPEDEFS,VOLATILE,MACRO_ARG_REUSE,PREFER_DEFINED_ATTRIBUTE_MACRO,CAMELCASE

for f in "${our_c[@]}"; do
	log="$logdir/checkpatch-$(echo "$f" | tr / _).log"
	ignore=()
	case "$f" in tools/testing/kvm_htab_fd/*) ignore=(--ignore "$harness_ignore") ;; esac
	(cd "$tree" && scripts/checkpatch.pl --strict -q --no-tree --show-types "${ignore[@]}" \
		-f "$f") >"$log" 2>&1
	result "checkpatch --strict $f" $? "$log"
done

# The userspace harness too: gcc for the tests and the benchmark, clang for
# the fuzzers, all with -Werror.
log="$logdir/harness-werror.log"
rm -rf "$top/build/kvm_htab_fd-werror"
make -C "$top/tools/testing/kvm_htab_fd" KSRC="$tree" OUTPUT="$top/build/kvm_htab_fd-werror" \
	EXTRA_CFLAGS=-Werror all >"$log" 2>&1
result "userspace harness builds without warnings (gcc and clang, -Werror)" $? "$log"

# Rebuild our selftest objects with -Werror: any warning fails the build.
log="$logdir/selftests-werror.log"
mapfile -t st_objs < <(printf '%s\n' "${our_c[@]}" |
	sed -n 's|^tools/testing/selftests/kvm/\(.*\)\.c$|'"$obj"'/selftests/\1.o|p')
rm -f "${st_objs[@]}"
"$top/scripts/build-tests.sh" EXTRA_CFLAGS="-static -Werror" "${st_objs[@]}" >"$log" 2>&1
result "selftest files build without warnings (-Wall -Werror)" $? "$log"

if [ ${#our_kernel_c[@]} -eq 0 ]; then
	skip "sparse and W=1 on our kernel objects" "no kernel C file of ours yet"
else
	for f in "${our_kernel_c[@]}"; do
		log="$logdir/sparse-w1-$(echo "$f" | tr / _).log"
		touch "$tree/$f"
		make -C "$tree" O="$obj/host" ARCH=powerpc CROSS_COMPILE=powerpc64le-linux-gnu- \
			C=1 W=1 "${f%.c}.o" >"$log" 2>&1
		st=$?
		# sparse must have run on it, and said nothing about it.
		grep -q "CHECK .*/$f\$" "$log" || st=1
		grep -F "$f:" "$log" | grep -qiE 'warning|error' && st=1
		result "sparse and W=1: $f" $st "$log"
	done
fi

# The debug kernel's KASAN instruments our virtual-mode files (and, as
# upstream wants, none of the real-mode ones).
log="$logdir/kasan-instrumented.log"
: >"$log"
st=0
if [ -f "$obj/debug/vmlinux" ]; then
	for o in book3s_hv_htab_fd book3s_hv_hpte_changes; do
		n=$(nm "$obj/debug/arch/powerpc/kvm/$o.o" 2>>"$log" | grep -c ' U __asan_')
		echo "$o.o: $n KASAN hooks" >>"$log"
		[ "$n" -gt 0 ] || st=1
	done
	n=$(nm "$obj/debug/arch/powerpc/kvm/book3s_hv_rm_mmu.o" | grep -c ' U __asan_')
	echo "book3s_hv_rm_mmu.o (real mode): $n KASAN hooks" >>"$log"
	[ "$n" = 0 ] || st=1
	result "KASAN instruments book3s_hv_htab_fd.o and book3s_hv_hpte_changes.o, not real mode" $st "$log"
else
	skip "KASAN instrumentation of our files" "no debug kernel built"
fi

# coccicheck takes directories: stage our files in one and check it once.
stage="$tree/.hpt-fd-cocci"
log="$logdir/coccicheck.log"
rm -rf "$stage"
for f in "${our_c[@]}"; do
	mkdir -p "$stage/$(dirname "$f")"
	cp "$top/$f" "$stage/$f"
done
make -s -C "$tree" ARCH=powerpc coccicheck MODE=report M=.hpt-fd-cocci >"$log.raw" 2>&1
st=$?
grep -F ".hpt-fd-cocci/" "$log.raw" | grep -v '^/usr/bin/spatch' | sed 's|\.hpt-fd-cocci/||' >"$log"
[ -s "$log" ] && st=1
rm -rf "$stage"
[ $st = 0 ] || [ -s "$log" ] || cp "$log.raw" "$log"
result "coccicheck MODE=report on ${#our_c[@]} files of ours" $st "$log"

# No code of the base's HPT fd (what the strip commit removed) in what is ours.
log="$logdir/no-base-fd-code.log"
(cd "$top" && python3 scripts/check-no-base-fd.py "$tree" arch include tools patches \
	Documentation scripts) >"$log" 2>&1
result "no code of the base's HPT fd in this repository ($(tail -n1 "$log"))" $? "$log"

echo "static: $passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
