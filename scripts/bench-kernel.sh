#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-kernel: htab_fd_bench (tools/testing/selftests/kvm/powerpc) on
# the emulated POWER9 hash host, our kernel and the base built with the same
# config, booted in turn BENCH_RUNS times each (default 3); each figure is
# the median over boots, with its spread, and the ratio base / ours (how
# many times less time, or instructions, ours takes; for the memory figure,
# how many times less memory ours holds).
#
# BENCH_CLOCK says what a millisecond is:
#
# icount (the default): QEMU runs with -icount shift=0, so the guest's clock,
# which the bench reads, advances 1 ns per instruction the emulated CPUs
# execute and stands still otherwise.  A figure is then a count of every
# instruction both emulated CPUs ran in the timed interval (interrupts,
# other tasks and the other CPU's included), nearly the same from boot to
# boot whatever the machine running QEMU is doing: within 0.2% at 2^20
# entries and over, 1% at 2^16, and the smallest figures (a few thousand
# instructions) within tens of percent.  It does not see what an
# instruction costs: cache and TLB misses are free.  Debian 12's QEMU 7.2
# cannot run powernv9 under -icount, so this uses bookworm-backports' QEMU
# (scripts/fetch-qemu-icount.sh), whose version the table's header names.
#
# wall: Debian 12's QEMU 7.2, as the tests run, in real time.  Emulated
# timings vary up to 1.5x between boots, and with the link's layout: QEMU's
# TCG never chains into a translation block that spans two 4 KiB pages, so
# a hot loop that straddles a page boundary runs up to twice as slowly as
# the same loop moved off it (the base's scan of pass a0 at 2^22: 53 ms or
# 26 ms as the link places it).  So boot r of n pads the start of
# init/main.c's text with (r - 1) / n of 4 KiB (in 64-byte steps), both
# kernels alike, and the medians are over layouts spread across a page, not
# over one accident of the link.  The trees are restored, and the kernels
# rebuilt as they were, when the script ends.  QEMU's software TLB refills
# through the emulated hash MMU at every 4 KiB page, which makes reading
# scattered HPTEs cost far more than on hardware (docs/evidence.md).
#
# BENCH_ORDERS: HPT orders, comma separated (default 20,24,26,28: 2^16 to
# 2^24 entries; the 256 MiB HPT of 2^24 comes from a CMA area the host
# reserves with kvm_cma_resv_ratio=).  The table goes to stdout and to
# docs/bench-kernel.txt.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-3}
orders=${BENCH_ORDERS:-20,24,26,28}
clock=${BENCH_CLOCK:-icount}
out="$top/build/bench-kernel"

# The source tree of kernel $1 (host, base), as build-kernel.sh builds it.
tree_of() {
	[ "$1" = base ] && echo "$top/build/linux-base" || echo "$top/build/linux"
}

restore_trees() {
	for k in host base; do
		local f
		f="$(tree_of $k)/init/main.c"
		if [ -f "$out/main.c.$k" ]; then
			cp "$out/main.c.$k" "$f"	# a new mtime: rebuilt as it was
			rm "$out/main.c.$k"
			"$top/scripts/build-kernel.sh" "$k" >/dev/null
		fi
	done
}
restore_trees		# what a killed run left
rm -rf "$out" && mkdir -p "$out"
trap restore_trees EXIT

# Build kernel $1 with its text moved by $2 bytes into $3.
build_layout() {
	local f
	f="$(tree_of "$1")/init/main.c"
	[ -f "$out/main.c.$1" ] || cp "$f" "$out/main.c.$1"
	cp "$out/main.c.$1" "$f"
	printf '\nasm(".pushsection .text, \\"ax\\"\\n.skip %d\\n.popsection");\n' "$2" >>"$f"
	"$top/scripts/build-kernel.sh" "$1" >/dev/null
	cp "$top/build/obj/$1/vmlinux" "$3"
}

case "$clock" in
icount)
	"$top/scripts/fetch-qemu-icount.sh"
	qemu=(--qemu "$top/build/qemu-icount/qemu-system-ppc64" --icount 0)
	for r in $(seq "$runs"); do	# the layout counts no instructions
		for k in host base; do
			cp "$top/build/obj/$k/vmlinux" "$out/$k-$r.vmlinux"
		done
	done
	;;
wall)
	qemu=()
	for r in $(seq "$runs"); do
		pad=$(( (r - 1) * 4096 / runs / 64 * 64 ))
		for k in host base; do
			echo "bench-kernel: layout $r of $runs (text moved $pad bytes), $k kernel"
			build_layout "$k" "$pad" "$out/$k-$r.vmlinux"
		done
	done
	restore_trees
	;;
*)
	echo "bench-kernel: BENCH_CLOCK is icount or wall, not $clock" >&2
	exit 1
	;;
esac

for r in $(seq "$runs"); do
	for k in host base; do
		echo "bench-kernel: boot $r of $runs, $k kernel"
		"$top/scripts/run-host.py" --host powernv9-hash --kernel "$out/$k-$r.vmlinux" \
			--initrd "$top/build/initramfs.cpio.gz" --mode demo --run htab_fd_bench \
			--args "$orders" --memory 4G --append kvm_cma_resv_ratio=15 --timeout 3600 \
			"${qemu[@]}" --log "$out/$k-$r.log" | tee "$out/$k-$r.out" | grep -v '^\s*bench ' || true
		grep -E '^\s*bench ' "$out/$k-$r.out" | sed 's/^\s*//' > "$out/$k-$r.txt" || true
		[ -s "$out/$k-$r.txt" ] || { echo "bench-kernel: no figures from $k, boot $r" >&2; exit 1; }
	done
done

python3 - "$out" "$runs" "$clock" "$(cat "$top/build/qemu-icount/version" 2>/dev/null)" <<'PY' | tee "$top/docs/bench-kernel.txt"
import statistics, sys, collections, datetime
out, runs, clock, qemu_version = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
fig = collections.defaultdict(list)          # (kernel, log, name) -> [ms]
order = []
for k in ("host", "base"):
    for r in range(1, runs + 1):
        for line in open(f"{out}/{k}-{r}.txt"):
            _, log, name, ms = line.split()
            key = (int(log), name)
            if key not in order:
                order.append(key)
            fig[(k, *key)].append(float(ms))
print(f"# make bench-kernel, {datetime.date.today()}: htab_fd_bench on powernv9-hash (QEMU TCG),")
if clock == "icount":
    print(f"# {runs} boots per kernel, alternating; BENCH_CLOCK=icount: QEMU -icount shift=0")
    print(f"# (bookworm-backports' QEMU {qemu_version}), 1 ms = 1,000,000 instructions of the")
    print("# emulated CPUs")
else:
    print(f"# {runs} boots per kernel, alternating; BENCH_CLOCK=wall: Debian 12's QEMU, real time,")
    print("# each boot with the text moved (see scripts/bench-kernel.sh)")
print("# median (min-max) in ms, debug_reader_kib in KiB; x = base / ours; the base cannot")
print("# take a whole stream in one write(), so restore_stream's base column is its")
print("# restore_record")
print(f"{'entries':8} {'figure':16} {'ours':>24} {'base':>24} {'x':>9}")
for log, name in order:
    o, b = fig[("host", log, name)], fig[("base", log, name)]
    if name == "restore_stream" and not b:
        b = fig[("base", log, "restore_record")]
    def cell(v):
        return f"{statistics.median(v):9.3f} ({min(v):.3f}-{max(v):.3f})" if v else f"{'-':>24}"
    ratio = statistics.median(b) / statistics.median(o) if o and b and statistics.median(o) else None
    print(f"2^{log:<6} {name:16} {cell(o):>24} {cell(b):>24} {ratio and f'{ratio:9.2f}' or '-':>9}")
PY
