#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The userspace harness of tools/testing/kvm_htab_fd, built against the
# prepared tree (for the base UAPI header and kselftest_harness.h), into
# build/kvm_htab_fd:
#
#   harness.sh check   the model-checked tests under ASan and UBSan, the
#                      fuzz corpus replayed, then each fuzz target for
#                      FUZZ_SECONDS (default 30); the last line is
#                      "harness: N passed, N failed, N skipped"
#   harness.sh fuzz    each fuzz target for FUZZ_SECONDS (default 300)
#   harness.sh bench   the benchmark, then instruction counts under
#                      callgrind; both tables are kept in the repository
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
src="$top/tools/testing/kvm_htab_fd"
out="$top/build/kvm_htab_fd"
mk=(make -s -C "$src" KSRC="$top/build/linux" OUTPUT="$out")
passed=0 failed=0 skipped=0

result() {	# name, status
	if [ "$2" = 0 ]; then
		passed=$((passed + 1))
		echo "harness: ok $1"
	else
		failed=$((failed + 1))
		echo "harness: FAIL $1"
	fi
}

# Instruction counts of each measured phase, from callgrind's dumps.
bench_callgrind() {
	local f
	rm -rf "$out/callgrind" && mkdir -p "$out/callgrind"
	(cd "$out/callgrind" && valgrind --tool=callgrind --callgrind-out-file=callgrind.out \
		../bench_htab_fd -c -s 16 -S 20 >/dev/null 2>valgrind.log) ||
		{ cat "$out/callgrind/valgrind.log" >&2; return 1; }
	echo "pass     entries  instructions  instructions/HPTE"
	# Dumps are numbered in the order the phases ran; "settle" is no phase.
	for f in $(ls -v "$out"/callgrind/callgrind.out.*); do
		awk '/^desc: Trigger: Client Request: / { split($0, a, "Request: "); label = a[2] }
		     /^(summary|totals):/ { ir = $2 }
		     END { if (label !~ /2\^/) exit; split(label, l, " "); n = 2 ^ substr(l[2], 3);
			   printf "%-8s %-8s %12d  %17.1f\n", l[1], l[2], ir, ir / n }' "$f"
	done
}

fuzz_all() {	# seconds
	local t log st
	for t in write read; do
		log="$out/fuzz-$t.log"
		mkdir -p "$out/fuzz-work/$t"
		"$out/fuzz_htab_$t" -max_total_time="$1" -print_final_stats=1 \
			-artifact_prefix="$out/fuzz-work/$t-" "$out/fuzz-work/$t" "$src/corpus/$t" \
			>"$log" 2>&1
		st=$?
		echo "harness: fuzz_htab_$t: $1 s, $(sed -n 's/^stat::number_of_executed_units: *//p' "$log") executions, $(grep -c '^==[0-9]*==ERROR\|^SUMMARY' "$log") crashes, corpus $(ls "$out/fuzz-work/$t" | wc -l) new + $(ls "$src/corpus/$t" | wc -l) committed inputs"
		[ $st = 0 ] || grep -E 'ERROR|SUMMARY|model:|fuzz_htab|Test unit written' "$log" | head -20
		result "fuzz_htab_$t for $1 s" $st
	done
}

case "${1:-check}" in
check)
	"${mk[@]}" all || { result build 1; echo "harness: $passed passed, $failed failed, $skipped skipped"; exit 1; }
	log="$out/htab_fd_model_test.log"
	"$out/htab_fd_model_test" >"$log" 2>&1
	st=$?
	grep -E '^(ok|not ok) |^# [0-9]+ sequences' "$log" | sed 's/^/harness: /'
	[ $st = 0 ] || grep -E '^# .*(Expected|model:|kernel BUG|ERROR)|^model:|kernel BUG|runtime error' "$log" | head -20
	read -r p f s < <(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) .*skip:\([0-9]*\).*/\1 \2 \3/p' "$log")
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))
	# Crashed before its totals: one failure.
	[ -n "${p:-}" ] || failed=$((failed + 1))
	for t in write read; do
		"$out/fuzz_htab_$t" -runs=0 "$src/corpus/$t" >"$out/replay-$t.log" 2>&1
		result "fuzz_htab_$t replays corpus/$t ($(ls "$src/corpus/$t" | wc -l) inputs)" $?
	done
	fuzz_all "${FUZZ_SECONDS:-30}"
	echo "harness: $passed passed, $failed failed, $skipped skipped"
	[ $failed = 0 ]
	;;
fuzz)
	"${mk[@]}" fuzzers || exit 1
	fuzz_all "${FUZZ_SECONDS:-300}"
	echo "harness: new inputs in $out/fuzz-work; merge the useful ones with"
	echo "  $out/fuzz_htab_<t> -set_cover_merge=1 $src/corpus/<t> $out/fuzz-work/<t>"
	[ $failed = 0 ]
	;;
bench)
	"${mk[@]}" "$out/bench_htab_fd" || exit 1
	results="$src/bench-results.txt"
	{
		echo "# make bench, $(date -u +%Y-%m-%d)"
		echo "# machine: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) cpus, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), $(cc --version | head -1)"
		"$out/bench_htab_fd" || exit 1
		echo
		echo "# The same phases under callgrind (2^16..2^20 entries): instructions, not time"
		bench_callgrind || exit 1
	} | tee "$results.new" && [ "${PIPESTATUS[0]}" = 0 ] && mv "$results.new" "$results" &&
		echo "bench: table kept in ${results#"$top"/}"
	;;
*)
	echo "usage: $0 check|fuzz|bench" >&2
	exit 2
	;;
esac
