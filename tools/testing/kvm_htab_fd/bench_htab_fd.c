// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cost of the HPT fd's read side, the real code built with -O2: a first
 * pass over HPTs of 2^16 to 2^24 entries, half of them valid at random,
 * and a later pass after 0%, 0.1%, 1%, 10% or 100% of the entries changed
 * (H_PROTECT of a valid entry, H_ENTER then H_REMOVE of an invalid one).
 * Reads use QEMU's 2048-byte buffer (-b to change).  Each figure is the
 * best of three runs; "memcpy" is a copy of the same stream bytes, the
 * limit no encoding can beat.
 *
 * The shim's HPTE lock is a plain load and store where the kernel's is a
 * ldarx/stdcx. pair, so per-entry costs here are a lower bound.
 *
 * With -c, each measured phase is bracketed with callgrind client
 * requests instead: run it under valgrind --tool=callgrind (make
 * bench-callgrind) for instruction counts, which do not depend on what
 * else the machine is doing.
 */
#include <time.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include "htab_sim.h"

#define RUNS		3
#define RAM_BYTES	BIT(30)

static const double changed_pct[] = { 0, 0.1, 1, 10, 100 };

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
	u64 r = (rng() % (RAM_BYTES >> 12)) << 12 | 0x192;

	if (sim_h_enter(kvm, i, v, r) != H_SUCCESS)
		abort();
}

/* Read until 0 (or the end of a first pass) into @stream; returns the bytes. */
static size_t read_pass(int fd, u8 *stream, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	for (;;) {
		if (cap - len < buffer_bytes)
			abort();
		n = sim_read(fd, stream + len, buffer_bytes);
		if (n < 0)
			abort();
		if (!n)
			return len;
		len += n;
	}
}

struct result {
	double ns;
	size_t bytes;
};

/* One measured pass (a callgrind phase named @name); keeps the best time. */
static void timed_pass(int fd, u8 *stream, size_t cap, const char *name, struct result *res)
{
	double t;

	CALLGRIND_ZERO_STATS;
	t = now_ns();
	res->bytes = read_pass(fd, stream, cap);
	t = now_ns() - t;
	CALLGRIND_DUMP_STATS_AT(name);
	if (t < res->ns)
		res->ns = t;
}

static void print_row(unsigned long npte, const char *changed, const char *pass,
		      struct result *res, double memcpy_ns)
{
	double mb = res->bytes / 1e6;

	printf("2^%-2d  %8s  %-5s  %10.2f  %8.2f  %9.2f  %9.0f  %9.0f\n",
	       __builtin_ctzl(npte), changed, pass, res->ns / 1e6, res->ns / npte, mb,
	       res->bytes ? mb / (res->ns / 1e9) : 0,
	       res->bytes ? mb / (memcpy_ns / 1e9) : 0);
	fflush(stdout);
}

static double time_memcpy(u8 *dst, const u8 *src, size_t len)
{
	double best = 1e30;
	int run;

	for (run = 0; run < RUNS; run++) {
		double t = now_ns();

		memcpy(dst, src, len);
		__asm__ volatile("" : : "r"(dst) : "memory");
		t = now_ns() - t;
		if (t < best)
			best = t;
	}
	return best;
}

static void label(char *buf, size_t size, const char *pass, unsigned long npte,
		  const char *changed)
{
	snprintf(buf, size, "%s 2^%d %s", pass, __builtin_ctzl(npte), changed);
}

static void bench_order(unsigned int order)
{
	struct kvm *kvm = sim_vm_create(order, RAM_BYTES);
	unsigned long npte = sim_npte(kvm), i;
	size_t cap = npte * 16 + npte * 8 + buffer_bytes;
	u8 *stream = malloc(cap), *copy = malloc(cap);
	struct result first = { 1e30, 0 };
	char name[64];
	unsigned int k;
	int run, fd = -1;

	if (!stream || !copy)
		abort();
	memset(copy, 0, cap);
	for (i = 0; i < npte; i++)
		if (rng() & 1)
			enter(kvm, i);

	label(name, sizeof(name), "first", npte, "-");
	for (run = 0; run < RUNS; run++) {
		if (fd >= 0)
			sim_close(fd);
		fd = sim_get_htab_fd(kvm, 0, 0);
		timed_pass(fd, stream, cap, name, &first);
		if (callgrind)
			break;
	}
	print_row(npte, "-", "first", &first, time_memcpy(copy, stream, first.bytes));

	/* The first pass's last read did not return 0: reach the quiet state. */
	read_pass(fd, stream, cap);

	for (k = 0; k < ARRAY_SIZE(changed_pct); k++) {
		unsigned long nchanged = npte * changed_pct[k] / 100;
		struct result later = { 1e30, 0 };
		char pct[16];

		snprintf(pct, sizeof(pct), "%g%%", changed_pct[k]);
		label(name, sizeof(name), "later", npte, pct);
		for (run = 0; run < RUNS; run++) {
			unsigned long c;

			for (c = 0; c < nchanged; c++) {
				i = nchanged == npte ? c : rng() % npte;
				if (sim_h_protect(kvm, i, rng() & 3) != H_SUCCESS) {
					enter(kvm, i);
					sim_h_remove(kvm, i);
				}
			}
			timed_pass(fd, stream, cap, name, &later);
			if (callgrind)
				break;
		}
		print_row(npte, pct, "later", &later, time_memcpy(copy, stream, later.bytes));
	}
	sim_close(fd);
	free(stream);
	free(copy);
	sim_vm_destroy(kvm);
}

int main(int argc, char **argv)
{
	unsigned int min_log = 16, max_log = 24, log;
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
	if (buffer_bytes < 24 || min_log < 8 || max_log > 28 || min_log > max_log)
		return 2;

	printf("# HPT fd read cost: book3s_hv_htab_fd.c at -O2 in userspace, %zu-byte reads,\n",
	       buffer_bytes);
	printf("# HPT half full at random; best of %d; ns/HPTE is per entry of the table\n",
	       callgrind ? 1 : RUNS);
	printf("entries  changed  pass          ms   ns/HPTE  stream MB       MB/s  memcpy MB/s\n");
	for (log = min_log; log <= max_log; log += 2)
		bench_order(log + 4);
	return 0;
}
