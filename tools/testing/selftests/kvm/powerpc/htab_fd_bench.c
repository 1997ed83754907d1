// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_PPC_GET_HTAB_FD's cost at the HPT sizes QEMU gives guests, measured
 * the way QEMU uses the fd, on whatever kernel runs it (make bench-kernel
 * runs it on ours and the base, and compares).  For each HPT order given:
 *
 *   restore_record   populate a sixteenth of the HPT through a write fd,
 *                    one record per write() as QEMU's destination does:
 *                    {i, 1, 15}, entries as a Linux guest makes them (R set,
 *                    C set, writable), mapping the guest's RAM
 *   first            a reader's first pass, 2048-byte reads (QEMU's), then
 *                    an untimed later pass of 0.1% changed (QEMU TCG
 *                    translates code the first time it runs: not the
 *                    kernel's cost)
 *   a<P>             reads until 0 after P% of the entries changed through
 *                    a write fd, no vcpu having run since the last pass
 *   b0.1             the same after 0.1% changed and a vcpu ran (and
 *                    stopped): QEMU's final pass
 *   longest_a0       the longest single read() of pass a0 (nothing changed)
 *   debug            QEMU's HPTE-group lookup: open at a random PTEG, read
 *                    136 bytes, close (mean of 50), the stream's reader open
 *   debug_reader_kib the kernel memory (slab and vmalloc) such a reader
 *                    holds until it is closed, its struct file and dentry
 *                    included: 4096 of them open at once, at PTEGs spread
 *                    over the table
 *   restore_stream   the same population written again, whole, in one
 *                    write(), after KVM_PPC_ALLOCATE_HTAB wiped the HPT
 *
 * Prints "bench <log2 entries> <name> <value>" lines, the value in
 * milliseconds, or KiB for *_kib; a figure the kernel cannot give is left
 * out.  Times are read by system call: on the emulated hosts the vDSO's
 * clock has been seen to jump.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "htab.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "ucall_common.h"

#define READ_BUFSIZE	2048	/* QEMU's MAX_KVM_BUF_SIZE */
#define DEBUG_BYTES	136	/* kvmppc_read_hptes(): a header and 8 HPTEs */
#define DEBUG_READS	50
#define MEMORY_READERS	4096	/* so that a 64 KiB slab page is 16 bytes a reader */
#define SPACING		16	/* one valid entry in 16 */

static const double changed_pct[] = { 0, 0.1, 1, 10 };

static void guest_code(void)
{
	for (;;)
		GUEST_SYNC(0);
}

/* The same choices on every kernel compared. */
static struct guest_random_state rng_state = { .seed = 88172645 };

static uint64_t rng(void)
{
	return guest_random_u64(&rng_state);
}

/* A Linux-like entry for HPTE @i: a 4K page of the guest's first @pages, R and C set. */
static void entry(uint64_t i, uint64_t pages, uint64_t gen, __be64 *hpte)
{
	uint64_t v = HPTE_V_1TB_SEG | (0x4000ULL + i) << HPTE_V_AVPN_SHIFT | HPTE_V_VALID;
	uint64_t r = (GUEST_VECTORS_END + (i + gen) % pages * 0x1000) | HPTE_R_R | HPTE_R_C |
		     HPTE_R_M | 2;

	hpte[0] = htobe64(v);
	hpte[1] = htobe64(r);
}

struct rec {
	struct kvm_get_htab_header hdr;
	__be64 hpte[2];
};

static void write_rec(int fd, uint32_t index, uint16_t n_valid, uint16_t n_invalid,
		      uint64_t pages, uint64_t gen)
{
	struct rec rec = { .hdr = { index, n_valid, n_invalid } };
	size_t len = sizeof(rec.hdr) + n_valid * sizeof(rec.hpte);

	if (n_valid)
		entry(index, pages, gen, rec.hpte);
	TEST_ASSERT_EQ(write(fd, &rec, len), len);
}

/* The population: one record per valid entry, as one buffer. */
static uint8_t *population(uint64_t npte, uint64_t pages, size_t *len)
{
	size_t size = npte / SPACING * sizeof(struct rec);
	uint8_t *buf = malloc(size);
	uint64_t i;

	TEST_ASSERT(buf, "out of memory");
	*len = 0;
	for (i = 0; i < npte; i += SPACING) {
		struct rec *rec = (struct rec *)(buf + *len);

		rec->hdr.index = i;
		rec->hdr.n_valid = 1;
		rec->hdr.n_invalid = SPACING - 1;
		entry(i, pages, 0, rec->hpte);
		*len += sizeof(*rec);
	}
	return buf;
}

struct pass {
	double secs, longest;
	uint64_t reads, bytes;
	uint64_t end;		/* where the last record ended */
};

/*
 * Read @fd until 0 (or, @first, until its records reach the end of the
 * table).  @each: time each read too, for the longest; that costs two
 * system calls a read, which would weigh on a pass of short reads.
 */
static void read_pass(int fd, uint64_t npte, bool first, bool each, struct pass *p)
{
	uint8_t buf[READ_BUFSIZE];
	double start = monotonic_seconds();

	memset(p, 0, sizeof(*p));
	for (;;) {
		double t = each ? monotonic_seconds() : 0;
		ssize_t n = read(fd, buf, sizeof(buf));
		size_t pos = 0;

		TEST_ASSERT(n >= 0, "read: %s", strerror(errno));
		if (each) {
			t = monotonic_seconds() - t;
			if (t > p->longest)
				p->longest = t;
		}
		if (!n)
			break;
		p->reads++;
		p->bytes += n;
		while (pos < (size_t)n) {
			struct kvm_get_htab_header hdr;

			memcpy(&hdr, buf + pos, sizeof(hdr));
			p->end = hdr.index + hdr.n_valid + hdr.n_invalid;
			pos += sizeof(hdr) + hdr.n_valid * 16;
		}
		if (first && p->end >= npte)
			break;
	}
	p->secs = monotonic_seconds() - start;
}

static void report_value(unsigned int log, const char *name, double value)
{
	printf("bench %u %s %.4f\n", log, name, value);
	fflush(stdout);
}

static void report(unsigned int log, const char *name, double secs)
{
	report_value(log, name, secs * 1e3);
}

/* The memory figure's readers fit in the fd table, grown beforehand. */
static bool memory_readers_fit;

/* Slab and vmalloc memory in use, in KiB: where a reader's allocations go. */
static long kernel_kib(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	long kib, sum = 0;
	char line[128];

	TEST_ASSERT(f, "/proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &kib) == 1 ||
		    sscanf(line, "VmallocUsed: %ld kB", &kib) == 1)
			sum += kib;
	fclose(f);
	return sum;
}

/* QEMU's HPTE-group lookup up to its close: open at PTEG @pteg, read 136 bytes. */
static int debug_reader(struct kvm_vm *vm, uint64_t pteg)
{
	uint8_t buf[DEBUG_BYTES];
	int fd = vm_htab_fd(vm, 0, pteg * 8);

	TEST_ASSERT(read(fd, buf, sizeof(buf)) > 0, "debug read");
	return fd;
}

/*
 * Open MEMORY_READERS debug readers at once; the memory each holds.  Their
 * PTEGs are spread evenly, so that the other figures' random choices are
 * the same whether this one is taken or not.
 */
static double debug_reader_kib(struct kvm_vm *vm, uint64_t npte)
{
	static int fds[MEMORY_READERS];
	long before = kernel_kib(), after;
	int k;

	for (k = 0; k < MEMORY_READERS; k++)
		fds[k] = debug_reader(vm, k * (npte / MEMORY_READERS) / 8);
	after = kernel_kib();
	for (k = 0; k < MEMORY_READERS; k++)
		close(fds[k]);
	return (double)(after - before) / MEMORY_READERS;
}

/* Change @n entries through @wfd: re-protect a valid one, or enter and remove another. */
static void change(int wfd, uint64_t npte, uint64_t pages, uint64_t n, uint64_t gen)
{
	uint64_t c;

	for (c = 0; c < n; c++) {
		uint64_t i = rng() % npte;

		/* Slot 7 of a PTEG may hold the VRMA, which the guest runs on. */
		if (i % 8 == 7)
			i--;

		if (!(i % SPACING)) {
			write_rec(wfd, i, 1, 0, pages, gen);
			continue;
		}
		write_rec(wfd, i, 1, 0, pages, gen);
		write_rec(wfd, i, 0, 1, pages, gen);
	}
}

static void bench_order(unsigned int order)
{
	uint64_t npte = hpt_npte(order), pages, gen = 0;
	unsigned int log = order - 4;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct pass p;
	size_t len, k;
	uint8_t *pop;
	int wfd, fd;
	double t;

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_ioctl(vm, KVM_PPC_ALLOCATE_HTAB, &order);
	TEST_ASSERT_EQ(order, log + 4);
	/* The guest's RAM past its vectors, up to 4 MiB: what the entries map. */
	pages = 1024 - GUEST_VECTORS_END / 0x1000;
	pop = population(npte, pages, &len);

	wfd = vm_htab_fd(vm, KVM_GET_HTAB_WRITE, 0);
	t = monotonic_seconds();
	for (k = 0; k < len; k += sizeof(struct rec))
		TEST_ASSERT_EQ(write(wfd, pop + k, sizeof(struct rec)), sizeof(struct rec));
	report(log, "restore_record", monotonic_seconds() - t);

	/* The guest runs once: KVM sets its VRMA up. */
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(get_ucall(vcpu, NULL), UCALL_SYNC);

	fd = vm_htab_fd(vm, 0, 0);
	read_pass(fd, npte, true, false, &p);
	if (p.end >= npte)
		report(log, "first", p.secs);
	else	/* a read returned 0 early: not a pass to time */
		printf("# 2^%u: the first pass stopped at %lu of %lu entries\n", log,
		       (unsigned long)p.end, (unsigned long)npte);
	read_pass(fd, npte, false, false, &p);	/* the end of the first pass */
	/*
	 * Untimed, a later pass of 0.1% changed: on an emulated host, the
	 * first pass through new code also pays for translating it.
	 */
	change(wfd, npte, pages, npte / 1000, ++gen);
	read_pass(fd, npte, false, false, &p);

	for (k = 0; k < ARRAY_SIZE(changed_pct); k++) {
		char name[32];

		change(wfd, npte, pages, npte * changed_pct[k] / 100, ++gen);
		read_pass(fd, npte, false, !k, &p);
		snprintf(name, sizeof(name), "a%g", changed_pct[k]);
		report(log, name, p.secs);
		if (!k)
			report(log, "longest_a0", p.longest);
	}

	change(wfd, npte, pages, npte / 1000, ++gen);
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(get_ucall(vcpu, NULL), UCALL_SYNC);
	read_pass(fd, npte, false, false, &p);
	report(log, "b0.1", p.secs);

	t = monotonic_seconds();
	for (k = 0; k < DEBUG_READS; k++)
		close(debug_reader(vm, rng() % (npte / 8)));
	report(log, "debug", (monotonic_seconds() - t) / DEBUG_READS);
	if (memory_readers_fit)
		report_value(log, "debug_reader_kib", debug_reader_kib(vm, npte));
	close(fd);

	/* A whole stream in one write(), into a wiped HPT. */
	vm_ioctl(vm, KVM_PPC_ALLOCATE_HTAB, &order);
	t = monotonic_seconds();
	if (write(wfd, pop, len) == (ssize_t)len)
		report(log, "restore_stream", monotonic_seconds() - t);
	else
		printf("# 2^%u: a whole stream in one write() failed: %s\n", log, strerror(errno));
	close(wfd);
	free(pop);
	kvm_vm_free(vm);
}

int main(int argc, char **argv)
{
	struct rlimit files;
	int i, fd;

	if (argc < 2) {
		fprintf(stderr, "usage: %s HPT_ORDER...\n", argv[0]);
		return 2;
	}
	/*
	 * Room for the memory figure's readers, and the fd table grown for
	 * them now rather than while they are counted.
	 */
	TEST_ASSERT(!getrlimit(RLIMIT_NOFILE, &files), "RLIMIT_NOFILE: %s", strerror(errno));
	if (files.rlim_cur < MEMORY_READERS + 64) {
		struct rlimit want = {
			MEMORY_READERS + 64, max_t(rlim_t, files.rlim_max, MEMORY_READERS + 64)
		};

		/* Unprivileged, the hard limit may not be raised: up to it, then. */
		files.rlim_cur = files.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &want))
			setrlimit(RLIMIT_NOFILE, &files);
	}
	fd = dup2(0, MEMORY_READERS + 63);
	memory_readers_fit = fd >= 0;
	if (memory_readers_fit)
		close(fd);
	else
		printf("# RLIMIT_NOFILE too low for %d readers: no debug_reader_kib\n",
		       MEMORY_READERS);
	for (i = 1; i < argc; i++)
		bench_order(strtoul(argv[i], NULL, 0));
	return 0;
}
