#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-kernel: htab_fd_bench (tools/testing/selftests/kvm/powerpc) on
# the emulated POWER9 hash host, our kernel and the base built with the same
# config, booted in turn BENCH_RUNS times each (default 3): emulated timings
# vary up to 1.5x between boots, so each figure is the median over boots,
# with its spread, and the ratio base / ours (how many times faster ours is).
# BENCH_ORDERS: HPT orders, comma separated (default 20,24,26,28: 2^16 to
# 2^24 entries; the 256 MiB HPT of 2^24 comes from a CMA area the host
# reserves with kvm_cma_resv_ratio=).  The table goes to stdout and to
# docs/bench-kernel.txt.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-3}
orders=${BENCH_ORDERS:-20,24,26,28}
out="$top/build/bench-kernel"
rm -rf "$out" && mkdir -p "$out"

for r in $(seq "$runs"); do
	for k in host base; do
		echo "bench-kernel: boot $r of $runs, $k kernel"
		"$top/scripts/run-host.py" --host powernv9-hash --kernel "$top/build/obj/$k/vmlinux" \
			--initrd "$top/build/initramfs.cpio.gz" --mode demo --run htab_fd_bench \
			--args "$orders" --memory 4G --append kvm_cma_resv_ratio=15 --timeout 3600 \
			--log "$out/$k-$r.log" | tee "$out/$k-$r.out" | grep -v '^\s*bench ' || true
		grep -E '^\s*bench ' "$out/$k-$r.out" | sed 's/^\s*//' > "$out/$k-$r.txt" || true
		[ -s "$out/$k-$r.txt" ] || { echo "bench-kernel: no figures from $k, boot $r" >&2; exit 1; }
	done
done

python3 - "$out" "$runs" <<'PY' | tee "$top/docs/bench-kernel.txt"
import statistics, sys, collections, datetime
out, runs = sys.argv[1], int(sys.argv[2])
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
print(f"# {runs} boots per kernel, alternating; median (min-max) in ms; x = base / ours")
print(f"{'entries':8} {'figure':15} {'ours':>24} {'base':>24} {'x':>9}")
for log, name in order:
    o, b = fig[("host", log, name)], fig[("base", log, name)]
    def cell(v):
        return f"{statistics.median(v):9.3f} ({min(v):.3f}-{max(v):.3f})" if v else f"{'-':>24}"
    ratio = statistics.median(b) / statistics.median(o) if o and b and statistics.median(o) else None
    print(f"2^{log:<6} {name:15} {cell(o):>24} {cell(b):>24} {ratio and f'{ratio:9.2f}' or '-':>9}")
PY
