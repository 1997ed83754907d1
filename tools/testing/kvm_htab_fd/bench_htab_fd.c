// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cost of the HPT fd's read side, the real code built with -O2, at the HPT
 * sizes QEMU gives guests (1/128 of RAM: 2^22 HPTEs for 8 GiB, 2^28 for
 * 256 GiB).  A sixteenth of the entries are valid, at random, entered as a
 * Linux guest enters them (R set, C set unless read-only).  For each size:
 *
 *   first      the first pass
 *   a 0%..10%  a later pass (reads until 0) after that share of the entries
 *              changed (H_PROTECT of a valid entry, H_ENTER then H_REMOVE
 *              of an invalid one), no vcpu having run since the last pass
 *   b 0.1%     the same after a vcpu ran meanwhile: QEMU's final pass, once
 *              the guest it stopped has run
 *   debug      QEMU's HPTE-group lookup: open at a random group, read 136
 *              bytes, close, with the stream's reader open
 *
 * Columns: the pass's time (best of 3), its reads, its longest read, the
 * most entries one read visited (covered by its records, or locked beyond
 * them: R/C sweeps), the readers' memory at its peak (for "debug", the
 * debug reader's own, with its read buffer), and the stream's size.  Reads
 * use QEMU's 2048-byte buffer (-b to change).
 *
 * The shim's HPTE lock is a plain load and store where the kernel's is a
 * ldarx/stdcx. pair, so per-entry costs here are a lower bound.
 *
 * With -c, each measured phase is bracketed with callgrind client
 * requests instead: run it under valgrind --tool=callgrind for instruction
 * counts, which do not depend on what else the machine is doing.
 */
#include <time.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include "htab_sim.h"

#define RUNS		3
#define RAM_BYTES	BIT(30)
#define DEBUG_BYTES	136	/* QEMU's kvmppc_read_hptes(): a header, 8 HPTEs */

static const double changed_pct[] = { 0, 0.1, 1, 10 };

static size_t buffer_bytes = 2048;
static bool callgrind;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static u64 rng_state = 88172645463325252ULL;

static u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void enter(struct kvm *kvm, unsigned long i)
{
	u64 v = ((rng() & ((1ULL << 45) - 1)) << 7) | HPTE_V_VALID;
	u64 r = (rng() % (RAM_BYTES >> 12)) << 12 | HPTE_R_R | HPTE_R_C | 0x12;

	if (sim_h_enter(kvm, i, v, r) != H_SUCCESS)
		abort();
}

static void change(struct kvm *kvm, unsigned long n)
{
	unsigned long c, i, npte = sim_npte(kvm);

	for (c = 0; c < n; c++) {
		i = rng() % npte;
		if (sim_h_protect(kvm, i, 2) != H_SUCCESS) {
			enter(kvm, i);
			sim_h_remove(kvm, i);
		}
	}
}

struct pass {
	double ns;		/* best of the runs */
	double longest_ns;	/* longest read, in the best run */
	unsigned long reads;
	unsigned long max_visited;
	long peak_bytes;	/* the VM's allocations beyond its own, at their peak */
	size_t bytes;
};

/* The VM's own allocations: what the readers hold is beyond them. */
static long vm_bytes;

static void note_read(struct pass *run, double ns, const u8 *buf, size_t n, unsigned long locks);

/* Entries the records of one read cover. */
static unsigned long covered(const u8 *buf, size_t len, unsigned long *valid)
{
	unsigned long n = 0;
	size_t pos = 0;

	*valid = 0;
	while (pos < len) {
		struct kvm_get_htab_header hdr;

		memcpy(&hdr, buf + pos, sizeof(hdr));
		n += hdr.n_valid + hdr.n_invalid;
		*valid += hdr.n_valid;
		pos += sizeof(hdr) + hdr.n_valid * 16UL;
	}
	return n;
}

/* One read of a pass: @n bytes in @buf, @ns long, with @locks HPTE locks before it. */
static void note_read(struct pass *run, double ns, const u8 *buf, size_t n, unsigned long locks)
{
	unsigned long valid, visited;

	run->reads++;
	run->bytes += n;
	if (ns > run->longest_ns)
		run->longest_ns = ns;
	visited = covered(buf, n, &valid) + (shim_hpte_locks - locks - valid);
	if (visited > run->max_visited)
		run->max_visited = visited;
	if (shim_alloc_bytes_live - vm_bytes > run->peak_bytes)
		run->peak_bytes = shim_alloc_bytes_live - vm_bytes;
}

/* Read until 0; keep the run if it was the fastest. */
static void timed_pass(int fd, const char *name, struct pass *best)
{
	u8 buf[64 * 1024];
	struct pass run = {};
	double start, t;

	CALLGRIND_ZERO_STATS;
	start = now_ns();
	for (;;) {
		unsigned long locks = shim_hpte_locks;
		ssize_t n;

		t = now_ns();
		n = sim_read(fd, buf, buffer_bytes);
		t = now_ns() - t;
		if (n < 0)
			abort();
		if (!n)
			break;
		note_read(&run, t, buf, n, locks);
	}
	run.ns = now_ns() - start;
	CALLGRIND_DUMP_STATS_AT(name);
	if (!best->ns || run.ns < best->ns)
		*best = run;
}

static void print_row(unsigned long npte, const char *pass, const struct pass *p)
{
	printf("2^%-2d  %-8s  %9.2f  %7lu  %8.3f  %9lu  %9.1f  %9.2f\n",
	       __builtin_ctzl(npte), pass, p->ns / 1e6, p->reads, p->longest_ns / 1e6,
	       p->max_visited, p->peak_bytes / 1024.0, p->bytes / 1e6);
	fflush(stdout);
}

/* The first pass: until the read whose records reach the end of the table. */
static void first_pass(struct kvm *kvm, int fd, struct pass *best, const char *name)
{
	unsigned long npte = sim_npte(kvm), end = 0;
	struct pass run = {};
	u8 buf[64 * 1024];
	double start, t;

	CALLGRIND_ZERO_STATS;
	start = now_ns();
	while (end < npte) {
		unsigned long locks = shim_hpte_locks;
		size_t pos = 0;
		ssize_t n;

		t = now_ns();
		n = sim_read(fd, buf, buffer_bytes);
		t = now_ns() - t;
		if (n <= 0)
			abort();
		note_read(&run, t, buf, n, locks);
		while (pos < (size_t)n) {
			struct kvm_get_htab_header hdr;

			memcpy(&hdr, buf + pos, sizeof(hdr));
			end = hdr.index + hdr.n_valid + hdr.n_invalid;
			pos += sizeof(hdr) + hdr.n_valid * 16UL;
		}
	}
	run.ns = now_ns() - start;
	CALLGRIND_DUMP_STATS_AT(name);
	if (!best->ns || run.ns < best->ns)
		*best = run;
}

static void bench_order(unsigned int order)
{
	struct kvm *kvm = sim_vm_create(order, RAM_BYTES);
	unsigned long npte = sim_npte(kvm), i;
	struct pass first = {}, debug = {};
	char name[64];
	unsigned int k;
	int run, fd = -1;

	for (i = 0; i < npte; i++)
		if (!(rng() % 16))
			enter(kvm, i);
	vm_bytes = shim_alloc_bytes_live;

	snprintf(name, sizeof(name), "first 2^%d", order - 4);
	for (run = 0; run < (callgrind ? 1 : RUNS); run++) {
		if (fd >= 0)
			sim_close(fd);
		fd = sim_get_htab_fd(kvm, 0, 0);
		first_pass(kvm, fd, &first, name);
	}
	print_row(npte, "first", &first);
	/* The first pass's last read was no 0: reach the quiet state. */
	timed_pass(fd, "settle", &(struct pass){});

	for (k = 0; k <= ARRAY_SIZE(changed_pct); k++) {
		/* The last round: 0.1% again, after a vcpu ran. */
		bool vcpu_ran = k == ARRAY_SIZE(changed_pct);
		double pct = vcpu_ran ? 0.1 : changed_pct[k];
		struct pass later = {};
		char label[16];

		snprintf(label, sizeof(label), "%s %g%%", vcpu_ran ? "b" : "a", pct);
		snprintf(name, sizeof(name), "%s:%g%% 2^%d", vcpu_ran ? "b" : "a", pct, order - 4);
		for (run = 0; run < (callgrind ? 1 : RUNS); run++) {
			change(kvm, npte * pct / 100);
			if (vcpu_ran) {
				sim_vcpu_run(kvm, true);
				sim_vcpu_run(kvm, false);
			}
			timed_pass(fd, name, &later);
		}
		print_row(npte, label, &later);
	}

	/* QEMU's debug read, the stream's reader open. */
	snprintf(name, sizeof(name), "debug 2^%d", order - 4);
	for (run = 0; run < (callgrind ? 1 : RUNS * 10); run++) {
		unsigned long start_index = (rng() % (npte / 8)) * 8, locks = shim_hpte_locks;
		long bytes = shim_alloc_bytes_live;
		u8 buf[DEBUG_BYTES];
		long reader_bytes;
		struct pass one = {};
		double t;
		int dfd;
		ssize_t n;

		CALLGRIND_ZERO_STATS;
		t = now_ns();
		dfd = sim_get_htab_fd(kvm, 0, start_index);
		n = sim_read(dfd, buf, sizeof(buf));
		/* The debug reader's own, beyond the stream reader's. */
		reader_bytes = shim_alloc_bytes_live - bytes;
		sim_close(dfd);
		one.ns = now_ns() - t;
		CALLGRIND_DUMP_STATS_AT(name);
		if (n <= 0)
			abort();
		one.reads = 1;
		one.longest_ns = one.ns;
		one.bytes = n;
		one.max_visited = covered(buf, n, &i) + (shim_hpte_locks - locks - i);
		one.peak_bytes = reader_bytes;
		if (!debug.ns || one.ns < debug.ns)
			debug = one;
	}
	print_row(npte, "debug", &debug);

	sim_close(fd);
	sim_vm_destroy(kvm);
}

int main(int argc, char **argv)
{
	unsigned int min_log = 16, max_log = 28, log;
	int opt;

	while ((opt = getopt(argc, argv, "b:cs:S:")) != -1) {
		switch (opt) {
		case 'b':
			buffer_bytes = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			callgrind = true;
			break;
		case 's':
			min_log = strtoul(optarg, NULL, 0);
			break;
		case 'S':
			max_log = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-b bytes] [-c] [-s log2 min] [-S log2 max]\n",
				argv[0]);
			return 2;
		}
	}
	if (buffer_bytes < 24 || buffer_bytes > 64 * 1024 || min_log < 8 || max_log > 28 ||
	    min_log > max_log)
		return 2;

	printf("# HPT fd read cost: book3s_hv_htab_fd.c at -O2 in userspace, %zu-byte reads;\n",
	       buffer_bytes);
	printf("# 1/16 of the HPT valid at random, R and C set; best of %d\n",
	       callgrind ? 1 : RUNS);
	printf("entries  pass     total ms    reads  max read  max visit  reader KiB  stream MB\n");
	printf("                                         ms    per read\n");
	for (log = min_log; log <= max_log; log += 2)
		bench_order(log + 4);
	return 0;
}
