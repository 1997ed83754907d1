// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HPT fd's real code (book3s_hv_htab_fd.c, book3s_hv_hpte_changes.c)
 * against a simulated guest: random sequences checked by the reference
 * model, then directed tests of buffer sizes, bolted-only, start index,
 * run limits, errors and the write path.
 *
 * HPTs are drawn left to right, one character per HPTE:
 *   V valid   B valid and bolted   . invalid
 */
#include "kselftest_harness.h"

#include "htab_model.h"

#define HEADER_BYTES	sizeof(struct kvm_get_htab_header)
#define HPTE_BYTES	16
#define VRMA_V		(HPTE_V_1TB_SEG | (VRMA_VSID << (40 - 16)))
#define RAM_BYTES	(64UL << 20)
#define HPTE_R_M_SHIM	0x10	/* memory coherence: a bit with no meaning here */

/* ---- Helpers ---- */

static struct kvm *vm_with_table(unsigned int order, const char *picture)
{
	struct kvm *kvm = sim_vm_create(order, RAM_BYTES);
	unsigned long i;

	for (i = 0; picture && picture[i]; i++) {
		u64 v = (i << 12) | HPTE_V_VALID, r = (i % 256) << 16 | HPTE_R_M_SHIM;

		if (picture[i] == '.')
			continue;
		if (picture[i] == 'B')
			v |= HPTE_V_BOLTED;
		if (sim_h_enter(kvm, i, v, r) != H_SUCCESS)
			abort();
	}
	return kvm;
}

/*
 * What the first pass must return for a buffer of @count bytes from
 * HPTE *@cursor, built from the guest's view: greedy records of a valid
 * run then an invalid run, each at most 65535 long, as many as fit.
 */
static size_t expected_read(struct kvm *kvm, u64 flags, unsigned long *cursor, size_t count,
			    u8 *out)
{
	unsigned long npte = sim_npte(kvm), i = *cursor;
	size_t len = 0;

	while (i < npte && count - len >= HEADER_BYTES) {
		struct kvm_get_htab_header hdr = { .index = i };
		bool full = false;
		u64 v, r;

		for (; i < npte; i++) {
			bool valid = sim_guest_view(kvm, i, &v, &r) &&
				     (!(flags & KVM_GET_HTAB_BOLTED_ONLY) || (v & HPTE_V_BOLTED));

			if (!valid)
				break;
			if (hdr.n_valid == U16_MAX ||
			    count - len - HEADER_BYTES - hdr.n_valid * HPTE_BYTES < HPTE_BYTES) {
				full = true;
				break;
			}
			v = htobe64(v);
			r = htobe64(r);
			memcpy(out + len + HEADER_BYTES + hdr.n_valid * HPTE_BYTES, &v, 8);
			memcpy(out + len + HEADER_BYTES + hdr.n_valid * HPTE_BYTES + 8, &r, 8);
			hdr.n_valid++;
		}
		for (; !full && i < npte && hdr.n_invalid < U16_MAX; i++) {
			bool valid = sim_guest_view(kvm, i, &v, &r) &&
				     (!(flags & KVM_GET_HTAB_BOLTED_ONLY) || (v & HPTE_V_BOLTED));

			if (valid)
				break;
			hdr.n_invalid++;
		}
		if (!hdr.n_valid && !hdr.n_invalid)
			break;
		memcpy(out + len, &hdr, HEADER_BYTES);
		len += HEADER_BYTES + hdr.n_valid * HPTE_BYTES;
	}
	*cursor = i;
	return len;
}

static struct kvm_get_htab_header record_at(const u8 *buf, size_t pos)
{
	struct kvm_get_htab_header hdr;

	memcpy(&hdr, buf + pos, HEADER_BYTES);
	return hdr;
}

struct model_totals {
	u64 sequences, ops, changes, reads, bytes, zeros;
};

static void print_totals(const struct model_totals *t)
{
	ksft_print_msg("%llu sequences: %llu operations (%llu changes), ",
		       t->sequences, t->ops, t->changes);
	printf("%llu reads checked (%llu returned 0), %llu bytes of stream\n",
	       t->reads, t->zeros, t->bytes);
}

/* Run a random sequence on a fresh VM and a migration target. */
static void run_model(struct __test_metadata *_metadata, struct model_totals *totals,
		      unsigned int order, bool arch_300, u64 seed, unsigned long steps)
{
	struct kvm *kvm, *dest;
	struct choice choice = { .state = seed };
	struct model m;
	long allocs = shim_allocs_live;

	shim_cpu_is_arch_300 = arch_300;
	kvm = sim_vm_create(order, RAM_BYTES);
	dest = sim_vm_create(order, RAM_BYTES);
	model_init(&m, kvm);
	m.dest = dest;
	model_run(&m, &choice, steps);
	model_check_dest(&m);
	model_free(&m);
	totals->sequences++;
	totals->ops += m.ops;
	totals->changes += m.changes;
	totals->reads += m.reads;
	totals->bytes += m.bytes;
	totals->zeros += m.zeros;
	ASSERT_EQ(0, shim_warnings);
	ASSERT_EQ(0, shim_open_files());
	sim_vm_destroy(dest);
	sim_vm_destroy(kvm);
	ASSERT_EQ(allocs, shim_allocs_live);
}

/* ---- Random sequences against the model ---- */

#define RANDOM_SEEDS	200

/* A 256-entry HPT: every operation lands near every other. */
TEST(random_small_table)
{
	struct model_totals totals = {};
	u64 seed;

	for (seed = 1; seed <= RANDOM_SEEDS; seed++)
		run_model(_metadata, &totals, 12, false, seed, 2000);
	print_totals(&totals);
}

/* The same with ISA v3.00's HPTE layout, which the stream never shows. */
TEST(random_small_table_arch_300)
{
	struct model_totals totals = {};
	u64 seed;

	for (seed = 1; seed <= RANDOM_SEEDS; seed++)
		run_model(_metadata, &totals, 12, true, seed * 7919, 2000);
	print_totals(&totals);
}

/*
 * 16384 entries: reads span several 64K chunks.  About 20 s under ASan on
 * an idle machine, past the default 30 s on a loaded one: 120 s allowed.
 */
FIXTURE(long_run) {};
FIXTURE_SETUP(long_run) {}
FIXTURE_TEARDOWN(long_run) {}

TEST_F_TIMEOUT(long_run, random_larger_table, 120)
{
	struct model_totals totals = {};
	u64 seed;

	for (seed = 1; seed <= 10; seed++)
		run_model(_metadata, &totals, 18, seed & 1, seed * 104729, 20000);
	print_totals(&totals);
}

/* ---- The first pass ---- */

/*
 * Every buffer size from 0 to three records' worth, on
 *   B V V . . V . . . . B B V . . .   (repeated)
 * each read is exactly the greedy records that fit, and they add up to
 * the table.
 */
TEST(first_pass_every_buffer_size)
{
	static const char picture[] = "BVV..V....BBV...";
	char table[257] = "";
	size_t count, three_records = 3 * (HEADER_BYTES + 3 * HPTE_BYTES) + 8;
	int k;

	for (k = 0; k < 16; k++)
		strcat(table, picture);

	for (count = 0; count <= three_records; count++) {
		struct kvm *kvm = vm_with_table(12, table);
		int fd = sim_get_htab_fd(kvm, 0, 0);
		unsigned long cursor = 0;
		u8 got[256], want[256];
		int reads = 0;

		ASSERT_LE(100, fd);
		while (cursor < sim_npte(kvm)) {
			size_t want_len = expected_read(kvm, 0, &cursor, count, want);
			ssize_t n = sim_read(fd, got, count);

			if (count < HEADER_BYTES + HPTE_BYTES) {
				ASSERT_EQ(-EINVAL, n) TH_LOG("count %zu", count);
				break;
			}
			ASSERT_EQ((ssize_t)want_len, n) TH_LOG("count %zu read %d", count, reads);
			ASSERT_EQ(0, memcmp(want, got, n))
				TH_LOG("count %zu read %d", count, reads);
			ASSERT_LT(++reads, 1000);
		}
		if (count >= HEADER_BYTES + HPTE_BYTES)
			ASSERT_EQ(0, sim_read(fd, got, count));	/* nothing changed */
		ASSERT_EQ(0, sim_close(fd));
		sim_vm_destroy(kvm);
	}
}

/*
 *   B V V . . V . . B B V . B . . .
 * bolted-only sees
 *   B . . . . . . . B B . . B . . .
 */
TEST(bolted_only)
{
	struct kvm *kvm = vm_with_table(12, "BVV..V..BBV.B...");
	unsigned long cursor = 0;
	u8 got[8192], want[8192];
	size_t want_len = expected_read(kvm, KVM_GET_HTAB_BOLTED_ONLY, &cursor, sizeof(want), want);
	int fd = sim_get_htab_fd(kvm, KVM_GET_HTAB_BOLTED_ONLY, 0);
	struct kvm_get_htab_header hdr;

	ASSERT_EQ((ssize_t)want_len, sim_read(fd, got, sizeof(got)));
	ASSERT_EQ(0, memcmp(want, got, want_len));
	hdr = record_at(got, 0);
	ASSERT_EQ(0, hdr.index);
	ASSERT_EQ(1, hdr.n_valid);
	ASSERT_EQ(7, hdr.n_invalid);
	hdr = record_at(got, HEADER_BYTES + HPTE_BYTES);
	ASSERT_EQ(8, hdr.index);
	ASSERT_EQ(2, hdr.n_valid);
	ASSERT_EQ(2, hdr.n_invalid);

	/* Unbolting HPTE 0 is a change: it now reads invalid. */
	ASSERT_EQ(H_SUCCESS, sim_h_remove(kvm, 0));
	ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, 0, HPTE_V_VALID, 0x190));
	ASSERT_EQ(HEADER_BYTES, sim_read(fd, got, sizeof(got)));
	hdr = record_at(got, 0);
	ASSERT_EQ(0, hdr.index);
	ASSERT_EQ(0, hdr.n_valid);
	ASSERT_EQ(1, hdr.n_invalid);
	ASSERT_EQ(0, sim_read(fd, got, sizeof(got)));
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/*
 * A first pass from a start index covers [start, end) and stops there;
 * later passes go round the whole table.
 */
TEST(start_index)
{
	unsigned long start;

	for (start = 0; start < 256; start += 37) {
		struct kvm *kvm = vm_with_table(12, "VV.V....VVVVV..B");
		int fd = sim_get_htab_fd(kvm, 0, start);
		unsigned long cursor = start;
		u8 got[8192], want[8192];
		size_t want_len = expected_read(kvm, 0, &cursor, sizeof(want), want);
		struct kvm_get_htab_header hdr;

		ASSERT_LE(100, fd);
		ASSERT_EQ((ssize_t)want_len, sim_read(fd, got, sizeof(got)));
		ASSERT_EQ(0, memcmp(want, got, want_len));
		hdr = record_at(got, 0);
		ASSERT_EQ(start, hdr.index);

		/* A change before the start index comes in the next pass. */
		ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, 255, HPTE_V_VALID, 0));
		ASSERT_EQ(H_SUCCESS, sim_h_remove(kvm, 1));
		ASSERT_EQ(2 * HEADER_BYTES + HPTE_BYTES, sim_read(fd, got, sizeof(got)));
		hdr = record_at(got, 0);
		ASSERT_EQ(1, hdr.index);
		ASSERT_EQ(0, hdr.n_valid);
		ASSERT_EQ(1, hdr.n_invalid);
		hdr = record_at(got, HEADER_BYTES);
		ASSERT_EQ(255, hdr.index);
		ASSERT_EQ(1, hdr.n_valid);
		ASSERT_EQ(0, sim_read(fd, got, sizeof(got)));
		ASSERT_EQ(0, sim_close(fd));
		sim_vm_destroy(kvm);
	}
}

/*
 * A read's work is bounded beyond what it returns: 70000 valid entries,
 * then 192144 invalid to the end of a 262144-entry table, read with a
 * 4 MiB buffer.  Valid runs are split by the 64K chunks records are built
 * in; a read visits at most HTAB_READ_VISITS = 8192 entries past the first
 * of each record that it does not return in full (invalid ones), so the
 * invalid tail takes many reads, each ending early.
 */
TEST(bounded_reads)
{
	struct kvm *kvm = sim_vm_create(22, RAM_BYTES);
	size_t count = 4 << 20;
	u8 *buf = malloc(count);
	unsigned long i, covered = 0, valid = 0, reads = 0;
	int fd;

	for (i = 0; i < 70000; i++)
		ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, i, (i << 7) | HPTE_V_VALID, 0x10));
	fd = sim_get_htab_fd(kvm, 0, 0);
	while (covered < 262144) {
		unsigned long invalid = 0, records = 0;
		ssize_t n = sim_read(fd, buf, count);
		size_t pos = 0;

		ASSERT_LT(0, n);
		reads++;
		while (pos < (size_t)n) {
			struct kvm_get_htab_header hdr = record_at(buf, pos);

			ASSERT_EQ(covered, hdr.index);
			covered += hdr.n_valid + hdr.n_invalid;
			valid += hdr.n_valid;
			invalid += hdr.n_invalid;
			records++;
			ASSERT_TRUE(hdr.index + hdr.n_valid <= 70000 || !hdr.n_valid);
			pos += HEADER_BYTES + hdr.n_valid * HPTE_BYTES;
		}
		ASSERT_EQ(n, pos);
		ASSERT_GE(8192 + records, invalid);
	}
	ASSERT_EQ(262144, covered);
	ASSERT_EQ(70000, valid);
	/* 192144 invalid entries, 8193 at most per read. */
	ASSERT_LE(192144 / 8193 + 1, reads);
	ASSERT_EQ(0, sim_read(fd, buf, count));
	ASSERT_EQ(0, sim_close(fd));
	free(buf);
	sim_vm_destroy(kvm);
}

/* ---- Later passes ---- */

/* A reader sees each change once; R and C the hardware set count as changes. */
TEST(later_pass_returns_changes_once)
{
	struct kvm *kvm = vm_with_table(12, "VVVV");
	int fd = sim_get_htab_fd(kvm, 0, 0);
	u8 buf[4096];
	u64 v, r;

	ASSERT_LT(0, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));

	/* Nobody told KVM: only the read before returning 0 finds it. */
	ASSERT_TRUE(sim_hw_set_rc(kvm, 2, HPTE_R_C));
	ASSERT_EQ(HEADER_BYTES + HPTE_BYTES, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(2, record_at(buf, 0).index);
	memcpy(&r, buf + HEADER_BYTES + 8, 8);
	ASSERT_TRUE(be64toh(r) & HPTE_R_C);
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));

	ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, 1, 3));
	ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, 1, 2));
	ASSERT_EQ(HEADER_BYTES + HPTE_BYTES, sim_read(fd, buf, sizeof(buf)));
	ASSERT_TRUE(sim_guest_view(kvm, 1, &v, &r));
	ASSERT_EQ(2, r & HPTE_R_PP);
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/* One reader returning a change, or folding in R/C, hides nothing from another. */
TEST(readers_are_independent)
{
	struct kvm *kvm = vm_with_table(12, "VVVV");
	int a = sim_get_htab_fd(kvm, 0, 0), b = sim_get_htab_fd(kvm, 0, 0);
	u8 buf[4096];

	ASSERT_LT(0, sim_read(a, buf, sizeof(buf)));
	ASSERT_LT(0, sim_read(b, buf, sizeof(buf)));
	ASSERT_EQ(H_SUCCESS, sim_h_remove(kvm, 3));
	ASSERT_TRUE(sim_hw_set_rc(kvm, 0, HPTE_R_R));
	/* A: the removal; R only once nothing else is pending. */
	ASSERT_EQ(HEADER_BYTES, sim_read(a, buf, sizeof(buf)));
	ASSERT_EQ(HEADER_BYTES + HPTE_BYTES, sim_read(a, buf, sizeof(buf)));
	ASSERT_EQ(0, sim_read(a, buf, sizeof(buf)));
	/* B: both, though A found and returned them first. */
	ASSERT_EQ(2 * HEADER_BYTES + HPTE_BYTES, sim_read(b, buf, sizeof(buf)));
	ASSERT_EQ(0, sim_read(b, buf, sizeof(buf)));
	ASSERT_EQ(0, sim_close(a));
	ASSERT_EQ(0, sim_close(b));
	sim_vm_destroy(kvm);
}

/* Read until 0; the number of reads that returned records. */
static int drain(int fd)
{
	u8 buf[8192];
	ssize_t n;
	int reads = 0;

	while ((n = sim_read(fd, buf, sizeof(buf))) > 0)
		reads++;
	return n ? -1 : reads;
}

/*
 * R and C the hardware sets are found by a sweep of the candidates, the
 * valid entries a reader returned without R (or writable without C), and
 * only once a vcpu has run since the last sweep: with none having run, a
 * read that finds nothing changed returns 0 at once.
 */
TEST(rc_sweep_after_a_vcpu_ran)
{
	struct kvm *kvm = sim_vm_create(12, RAM_BYTES);
	unsigned long i, locks;
	u8 buf[4096];
	int fd;

	/* HPTEs 0-2 have R and C already: the hardware can add nothing. */
	for (i = 0; i < 8; i++)
		ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, i, (i << 12) | HPTE_V_VALID,
						 (i << 16) | (i < 3 ? HPTE_R_R | HPTE_R_C : 0)));
	fd = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_EQ(1, drain(fd));

	locks = shim_hpte_locks;
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(locks, shim_hpte_locks);

	/* A vcpu ran and touched nothing: one sweep of the 5 candidates. */
	sim_vcpu_run(kvm, true);
	sim_vcpu_run(kvm, false);
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(locks + 5, shim_hpte_locks);
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(locks + 5, shim_hpte_locks);

	/* While a vcpu runs, every read that would return 0 sweeps. */
	sim_vcpu_run(kvm, true);
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(locks + 15, shim_hpte_locks);
	ASSERT_TRUE(sim_hw_set_rc(kvm, 4, HPTE_R_R | HPTE_R_C));
	ASSERT_EQ(HEADER_BYTES + HPTE_BYTES, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(4, record_at(buf, 0).index);
	sim_vcpu_run(kvm, false);

	/* HPTE 4 is no candidate now: 4 left, swept once after the vcpu stopped. */
	locks = shim_hpte_locks;
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(locks + 4, shim_hpte_locks);
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(locks + 4, shim_hpte_locks);

	/* HPTE 5, removed and returned invalid, is no candidate either: 3 left. */
	ASSERT_EQ(H_SUCCESS, sim_h_remove(kvm, 5));
	ASSERT_EQ(HEADER_BYTES, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(5, record_at(buf, 0).index);
	ASSERT_EQ(1, record_at(buf, 0).n_invalid);
	sim_vcpu_run(kvm, true);
	sim_vcpu_run(kvm, false);
	locks = shim_hpte_locks;
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(locks + 3, shim_hpte_locks);
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/*
 * A reader left open on a replaced table keeps the VM's sweep state alive:
 * a reader of the new table still has the hardware's R/C found.
 */
TEST(rc_sweep_after_reallocation)
{
	struct kvm *kvm = sim_vm_create(12, RAM_BYTES);
	int stale = sim_get_htab_fd(kvm, 0, 0), fd;
	u8 buf[4096];

	sim_vm_reallocate(kvm, 12);
	ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, 3, (3 << 12) | HPTE_V_VALID, 0));
	fd = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_EQ(1, drain(fd));
	ASSERT_TRUE(sim_hw_set_rc(kvm, 3, HPTE_R_R));
	ASSERT_EQ(HEADER_BYTES + HPTE_BYTES, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(3, record_at(buf, 0).index);
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(-ESTALE, sim_read(stale, buf, sizeof(buf)));
	ASSERT_EQ(0, sim_close(fd));
	ASSERT_EQ(0, sim_close(stale));
	sim_vm_destroy(kvm);
}

/*
 * A sweep visits at most 8192 candidates per read.  One that is not over
 * has not shown that nothing changed, and 0 would say so: such a read
 * returns a true record instead, the last candidate it looked at, as the
 * guest sees it.
 */
TEST(rc_sweep_is_bounded)
{
	struct kvm *kvm = sim_vm_create(22, RAM_BYTES);
	unsigned long i, locks;
	u8 buf[2048];
	int fd, reads;

	for (i = 0; i < 20000; i++)
		ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, 8 * i, (i << 12) | HPTE_V_VALID, i << 16));
	fd = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_LT(0, drain(fd));
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));

	sim_vcpu_run(kvm, true);
	sim_vcpu_run(kvm, false);
	for (reads = 0; ; reads++) {
		struct kvm_get_htab_header hdr;
		ssize_t n;
		u64 v, r, want_v, want_r;

		locks = shim_hpte_locks;
		n = sim_read(fd, buf, sizeof(buf));
		ASSERT_GE(8192 + 1, shim_hpte_locks - locks);
		if (!n)
			break;
		ASSERT_EQ(HEADER_BYTES + HPTE_BYTES, n);
		hdr = record_at(buf, 0);
		ASSERT_EQ(1, hdr.n_valid);
		ASSERT_EQ(0, hdr.n_invalid);
		memcpy(&v, buf + HEADER_BYTES, 8);
		memcpy(&r, buf + HEADER_BYTES + 8, 8);
		ASSERT_TRUE(sim_guest_view(kvm, hdr.index, &want_v, &want_r));
		ASSERT_EQ(want_v, be64toh(v));
		ASSERT_EQ(want_r, be64toh(r));
	}
	/* 20000 candidates: 8192, 8192, then the last 3616 and 0. */
	ASSERT_EQ(2, reads);
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/*
 * A read harvests at most 256 words of 64 HPTEs from the shared log; the
 * rest waits for the next read, and nothing is lost on the way: 3000
 * changes in 3000 words of a 2^18-entry table, read 2048 bytes at a time.
 */
TEST(harvest_is_bounded)
{
	struct kvm *kvm = sim_vm_create(22, RAM_BYTES);
	unsigned long i, returned = 0;
	u8 buf[2048];
	ssize_t n;
	int fd;

	fd = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_LT(0, drain(fd));
	for (i = 0; i < 3000; i++)
		ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, 64 * i + i % 32 * 2, (i << 12) | HPTE_V_VALID,
						 HPTE_R_R | HPTE_R_C));
	while ((n = sim_read(fd, buf, sizeof(buf))) > 0) {
		size_t pos = 0;

		while (pos < (size_t)n) {
			struct kvm_get_htab_header hdr = record_at(buf, pos);

			ASSERT_EQ(1, hdr.n_valid);
			ASSERT_EQ(0, hdr.n_invalid);
			ASSERT_EQ(hdr.index / 64 % 32 * 2, hdr.index % 64);
			returned++;
			pos += HEADER_BYTES + HPTE_BYTES;
		}
	}
	ASSERT_EQ(0, n);
	ASSERT_EQ(3000, returned);
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/*
 * After a guest changed a long stretch of its HPT, a later pass finds one
 * long run of pending entries, valid and invalid by turns: records of one
 * of each.  Each record learns the run's end a word of the reader's set at
 * a time, so that a read looks up as many of the set's chunks as a read
 * over a short run would, however long the run (the shim counts lookups;
 * a search within a chunk is not seen).  A second reader is open, as
 * QEMU's debug reads are at times: the first then harvests into its set.
 */
TEST(long_pending_run_is_read_in_bounded_steps)
{
	struct kvm *kvm = sim_vm_create(22, RAM_BYTES);
	unsigned long i, loads, most = 0, run = sim_npte(kvm) / 2, expected = 0;
	u8 buf[2048];
	ssize_t n;
	int fd, other;

	fd = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_LT(0, drain(fd));
	other = sim_get_htab_fd(kvm, 0, 0);
	for (i = 0; i < run; i++) {
		ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, i, (i << 12) | HPTE_V_VALID,
						 HPTE_R_R | HPTE_R_C));
		if (i % 2)
			ASSERT_EQ(H_SUCCESS, sim_h_remove(kvm, i));
	}
	do {
		size_t pos = 0;

		loads = shim_xa_loads;
		n = sim_read(fd, buf, sizeof(buf));
		loads = shim_xa_loads - loads;
		ASSERT_LE(0, n);
		/* The harvest's few chunks, the cursor's, the next one's */
		ASSERT_GE(16, loads);
		most = max(most, loads);
		while (pos < (size_t)n) {
			struct kvm_get_htab_header hdr = record_at(buf, pos);

			ASSERT_EQ(expected, hdr.index);
			ASSERT_EQ(1, hdr.n_valid);
			ASSERT_EQ(1, hdr.n_invalid);
			expected += 2;
			pos += HEADER_BYTES + HPTE_BYTES;
		}
	} while (n);
	ASSERT_EQ(run, expected);
	TH_LOG("at most %lu lookups in a read", most);
	ASSERT_EQ(0, sim_close(other));
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/*
 * A writer that marks an entry while a read takes its word sets the summary
 * bits above after the read emptied the word below.  The only reader, which
 * searches the shared map itself, clears such bits as it meets them: they
 * would otherwise send every later search down to empty words.  Here, a
 * table of 2^14 HPTEs: 256 words of level 0, 4 of level 1, 1 of level 2.
 */
TEST(stale_summary_bits_are_cleared)
{
	struct kvm *kvm = sim_vm_create(18, RAM_BYTES);
	unsigned long *level1 = kvm->arch.hpt.changed + 256, *level2 = level1 + 4, w;
	u8 buf[2048];
	int fd;

	fd = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_LT(0, drain(fd));
	ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, 8000, HPTE_V_VALID, HPTE_R_R | HPTE_R_C));
	/* Level 0's word 5 and level 1's word 3 are empty */
	level1[0] |= BIT(5);
	*level2 |= BIT(3);
	ASSERT_EQ(HEADER_BYTES + HPTE_BYTES, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(8000, record_at(buf, 0).index);
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
	for (w = 0; w < 256 + 4 + 1; w++)
		ASSERT_EQ(0, kvm->arch.hpt.changed[w]);
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/*
 * A writer marks an entry's bit before the summary bits above it: a read
 * in between finds the mark in the word it starts at without the summary.
 * The only reader takes that word with the rest of its block all the same,
 * and returns the entry at once.
 */
TEST(mark_not_yet_summed_up_is_taken)
{
	struct kvm *kvm = sim_vm_create(18, RAM_BYTES);
	unsigned long *level1 = kvm->arch.hpt.changed + 256, *level2 = level1 + 4;
	u8 buf[2048];
	int fd;

	fd = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_LT(0, drain(fd));
	ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, 3, HPTE_V_VALID, HPTE_R_R | HPTE_R_C));
	ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, 70, HPTE_V_VALID, HPTE_R_R | HPTE_R_C));
	/* The writer of entry 3 has yet to set its word's bit and the one above */
	level1[0] &= ~BIT(0);
	ASSERT_EQ(BIT(0), *level2);
	ASSERT_EQ(2 * (HEADER_BYTES + HPTE_BYTES), sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(3, record_at(buf, 0).index);
	ASSERT_EQ(70, record_at(buf, HEADER_BYTES + HPTE_BYTES).index);
	ASSERT_EQ(0, shim_warnings);
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/*
 * The only reader takes the shared map's marks 4096 entries at a time, a
 * word of level 1: a run of changes across two such blocks is one record
 * all the same, and each mark is cleared once returned.  2^14 HPTEs: four
 * blocks.
 */
TEST(solo_record_crosses_a_block)
{
	struct kvm *kvm = sim_vm_create(18, RAM_BYTES);
	unsigned long i, w;
	u8 buf[2048];
	int fd;

	fd = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_LT(0, drain(fd));
	for (i = 4090; i < 4102; i++)
		ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, i, HPTE_V_VALID, HPTE_R_R | HPTE_R_C));
	ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, 9000, HPTE_V_VALID, HPTE_R_R | HPTE_R_C));
	ASSERT_EQ(2 * HEADER_BYTES + 13 * HPTE_BYTES, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(4090, record_at(buf, 0).index);
	ASSERT_EQ(12, record_at(buf, 0).n_valid);
	ASSERT_EQ(0, record_at(buf, 0).n_invalid);
	ASSERT_EQ(9000, record_at(buf, HEADER_BYTES + 12 * HPTE_BYTES).index);
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
	for (w = 0; w < 256 + 4 + 1; w++)
		ASSERT_EQ(0, kvm->arch.hpt.changed[w]);
	ASSERT_EQ(0, shim_warnings);
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/*
 * QEMU reads 8 HPTEs through a new fd for every monitor or gdbstub lookup,
 * while its migration stream reads on: such a read allocates the same at
 * 2^8 HPTEs as at 2^18, nothing that grows with the table.
 */
static unsigned long debug_read_bytes(unsigned int order)
{
	struct kvm *kvm = sim_vm_create(order, RAM_BYTES);
	unsigned long npte = sim_npte(kvm), i, bytes;
	int stream = sim_get_htab_fd(kvm, 0, 0), fd;
	u8 buf[136];

	for (i = 0; i < npte; i += 16)
		if (sim_h_enter(kvm, i, (i << 12) | HPTE_V_VALID, HPTE_R_R | HPTE_R_C) != H_SUCCESS)
			abort();
	/* The guest changes entries all over the table, the stream reads them. */
	for (i = 0; i < npte; i += npte / 8)
		sim_h_remove(kvm, i);
	if (drain(stream) < 1)
		abort();

	bytes = shim_alloc_bytes;
	fd = sim_get_htab_fd(kvm, 0, npte - 64);
	if (sim_read(fd, buf, sizeof(buf)) <= 0 || sim_close(fd))
		abort();
	bytes = shim_alloc_bytes - bytes;

	if (drain(stream) || sim_close(stream))
		abort();
	sim_vm_destroy(kvm);
	return bytes;
}

TEST(debug_read_costs_what_it_reads)
{
	unsigned long small = debug_read_bytes(12), large = debug_read_bytes(22);

	ASSERT_GT(1024, small);
	ASSERT_EQ(small, large);
}

/*
 * An hcall on another CPU, caught between its mark and its unlock: HPTE @i
 * locked, V @v_locked, R @r written already.  The reader's first spin on
 * the lock lets it finish: V becomes @v, unlocked.
 */
struct hcall_in_flight {
	__be64 *hptep;
	u64 v;
};

static void hcall_finish(void *arg)
{
	struct hcall_in_flight *h = arg;

	h->hptep[0] = cpu_to_be64(h->v);
}

static void hcall_begin(struct kvm *kvm, struct hcall_in_flight *h, unsigned long i,
			u64 v_locked, u64 r, u64 v)
{
	h->hptep = (__be64 *)(kvm->arch.hpt.virt + (i << 4));
	h->v = v;
	h->hptep[0] = cpu_to_be64(v_locked | HPTE_V_HVLOCK);
	kvm->arch.hpt.rev[i].guest_rpte = r;
	h->hptep[1] = cpu_to_be64(r);
	kvmppc_hpte_note_change(kvm, i);
	shim_cpu_relax_hook.fn = hcall_finish;
	shim_cpu_relax_hook.arg = h;
}

/* The one record a later read returns, for HPTE @i: its V and R. */
static void read_one_hpte(struct __test_metadata *_metadata, int fd, unsigned long i,
			  u64 *v, u64 *r)
{
	u8 buf[4096];

	ASSERT_EQ(HEADER_BYTES + HPTE_BYTES, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(i, record_at(buf, 0).index);
	memcpy(v, buf + HEADER_BYTES, 8);
	memcpy(r, buf + HEADER_BYTES + 8, 8);
	*v = be64toh(*v);
	*r = be64toh(*r);
	ASSERT_EQ(NULL, shim_cpu_relax_hook.fn);
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
}

/*
 * H_ENTER marks an entry with its lock held, before it sets V.  A read that
 * takes the mark meanwhile waits for the entry: reporting it invalid would
 * drop the change for good.
 */
TEST(entry_being_entered_is_waited_for)
{
	struct kvm *kvm = vm_with_table(12, "V");
	int fd = sim_get_htab_fd(kvm, 0, 0);
	struct hcall_in_flight h_enter;
	u64 v, r;

	ASSERT_EQ(1, drain(fd));
	hcall_begin(kvm, &h_enter, 5, 0, HPTE_R_R | HPTE_R_C, (5 << 12) | HPTE_V_VALID);
	read_one_hpte(_metadata, fd, 5, &v, &r);
	ASSERT_EQ((5 << 12) | HPTE_V_VALID, v);
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/*
 * A valid entry is read under its lock: a read that finds it in the middle
 * of an update waits, and returns V and R both old or both new, never torn.
 */
TEST(valid_entry_is_never_torn)
{
	struct kvm *kvm = vm_with_table(12, "V");
	int fd = sim_get_htab_fd(kvm, 0, 0);
	u64 r_new = (7 << 16) | HPTE_R_M_SHIM | HPTE_R_PP, v, r;
	struct hcall_in_flight update;

	ASSERT_EQ(1, drain(fd));
	/* HPTE 0 is (0 << 12) | valid: R first, then V. */
	hcall_begin(kvm, &update, 0, HPTE_V_VALID, r_new, (7 << 12) | HPTE_V_VALID);
	read_one_hpte(_metadata, fd, 0, &v, &r);
	ASSERT_EQ((7 << 12) | HPTE_V_VALID, v);
	ASSERT_EQ(r_new, r);
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/*
 * A reader left behind while the guest changed much (a stalled migration)
 * makes no other fd's open or first-pass read fail: QEMU opens its
 * HPTE-group readers with &error_abort and stops the guest on a failed
 * read.  What that reader could not be given stays shared, for later.
 */
TEST(backlog_of_another_reader_fails_no_debug_read)
{
	struct kvm *kvm = vm_with_table(12, "VVVVVVVV");
	int behind = sim_get_htab_fd(kvm, 0, 0), debug;
	const size_t debug_bytes = HEADER_BYTES + 8 * HPTE_BYTES;
	u8 buf[4096];
	unsigned long i;

	ASSERT_EQ(1, drain(behind));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, i, 1));

	/* The new fd itself, then the first chunk of @behind's set, which fails. */
	shim_fail_alloc_in = 1;
	debug = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_LE(0, debug);
	/* The read's buffer, then that chunk again. */
	shim_fail_alloc_in = 1;
	ASSERT_EQ(debug_bytes, sim_read(debug, buf, debug_bytes));
	shim_fail_alloc_in = -1;
	ASSERT_EQ(0, sim_close(debug));

	ASSERT_EQ(HEADER_BYTES + 8 * HPTE_BYTES, sim_read(behind, buf, sizeof(buf)));
	ASSERT_EQ(0, record_at(buf, 0).index);
	ASSERT_EQ(8, record_at(buf, 0).n_valid);
	ASSERT_EQ(0, sim_read(behind, buf, sizeof(buf)));
	ASSERT_EQ(0, sim_close(behind));
	sim_vm_destroy(kvm);
}

/* A read that faults, or cannot allocate, consumes nothing. */
TEST(failed_read_loses_nothing)
{
	struct kvm *kvm = vm_with_table(12, "VV..V");
	int fd = sim_get_htab_fd(kvm, 0, 0);
	u8 buf[8192], again[8192];
	ssize_t n;

	shim_user_hole.start = (uintptr_t)buf + 40;
	shim_user_hole.end = shim_user_hole.start + 1;
	ASSERT_EQ(-EFAULT, sim_read(fd, buf, sizeof(buf)));
	shim_user_hole.end = 0;

	shim_fail_alloc_in = 0;
	ASSERT_EQ(-ENOMEM, sim_read(fd, buf, sizeof(buf)));
	shim_fail_alloc_in = -1;

	n = sim_read(fd, buf, sizeof(buf));
	ASSERT_EQ(2 * HEADER_BYTES + 3 * HPTE_BYTES, n);

	/* Later passes too. */
	ASSERT_EQ(H_SUCCESS, sim_h_remove(kvm, 4));
	shim_user_hole.start = (uintptr_t)again;
	shim_user_hole.end = shim_user_hole.start + 1;
	ASSERT_EQ(-EFAULT, sim_read(fd, again, sizeof(again)));
	shim_user_hole.end = 0;
	ASSERT_EQ(HEADER_BYTES, sim_read(fd, again, sizeof(again)));
	ASSERT_EQ(0, sim_read(fd, again, sizeof(again)));
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/* A read whose buffer faults part way returns the records before the fault. */
TEST(fault_after_first_chunk_returns_what_was_copied)
{
	struct kvm *kvm = sim_vm_create(20, RAM_BYTES);
	size_t count = 1 << 20;
	u8 *buf = malloc(count);
	unsigned long i;
	ssize_t n;
	int fd;

	for (i = 0; i < 65536; i++)
		ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, i, (i << 7) | HPTE_V_VALID, 0x190));
	fd = sim_get_htab_fd(kvm, 0, 0);
	shim_user_hole.start = (uintptr_t)buf + SZ_64K + 100;
	shim_user_hole.end = shim_user_hole.start + 1;
	n = sim_read(fd, buf, count);
	shim_user_hole.end = 0;
	ASSERT_LT(0, n);
	ASSERT_GE(SZ_64K, n);
	/* The rest comes next, from where the copied records ended. */
	i = record_at(buf, 0).n_valid;
	n = sim_read(fd, buf, count);
	ASSERT_LT(0, n);
	ASSERT_EQ(i, record_at(buf, 0).index);
	ASSERT_EQ(0, sim_close(fd));
	free(buf);
	sim_vm_destroy(kvm);
}

/* A replaced or removed table is never streamed as if it were the old one. */
TEST(stale_after_replacement)
{
	struct kvm *kvm = vm_with_table(12, "VV");
	int fd = sim_get_htab_fd(kvm, 0, 0);
	int wfd = sim_get_htab_fd(kvm, KVM_GET_HTAB_WRITE, 0);
	u8 buf[4096];

	sim_vm_reallocate(kvm, 12);
	ASSERT_EQ(-ESTALE, sim_read(fd, buf, sizeof(buf)));
	sim_vm_make_radix(kvm);
	ASSERT_EQ(-ESTALE, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(-ESTALE, sim_write(wfd, buf, HEADER_BYTES));
	ASSERT_EQ(0, sim_close(fd));
	ASSERT_EQ(0, sim_close(wfd));
	sim_vm_destroy(kvm);
}

/* ---- The ioctl ---- */

/*
 * Opening the first reader raises the interest, then waits for a grace
 * period of kvm->srcu: hcalls in flight finish, and later ones see the
 * interest and mark every change, below the start index too.  Readers
 * opened while one is open need not wait (QEMU's debug reads during a
 * migration); once all are closed, the next one waits again.
 */
TEST(open_waits_for_hcalls_in_flight)
{
	struct kvm *kvm = sim_vm_create(12, RAM_BYTES);
	int fd = sim_get_htab_fd(kvm, 0, 128), fd2;

	ASSERT_LE(0, fd);
	ASSERT_EQ(1, kvm->srcu.grace_periods);
	ASSERT_EQ(1, kvm->interest_at_grace_period);
	fd2 = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(1, kvm->srcu.grace_periods);
	ASSERT_EQ(0, sim_close(fd2));
	ASSERT_EQ(0, sim_close(fd));
	fd = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_EQ(2, kvm->srcu.grace_periods);
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

TEST(ioctl_errors)
{
	struct kvm *kvm = sim_vm_create(12, RAM_BYTES);
	struct kvm_get_htab_fd ghf = {};
	long allocs = shim_allocs_live;
	int fd;

	ASSERT_EQ(-EINVAL, sim_get_htab_fd(kvm, 4, 0));
	ASSERT_EQ(-EINVAL, sim_get_htab_fd(kvm, 0, 256));
	ASSERT_EQ(-EINVAL, sim_get_htab_fd(kvm, 0, 1ULL << 40));
	ghf.reserved[1] = 1;
	ASSERT_EQ(-EINVAL, kvm_vm_ioctl_get_htab_fd(kvm, &ghf));

	/* The fd's own allocations failing. */
	shim_fail_alloc_in = 0;
	ASSERT_EQ(-ENOMEM, sim_get_htab_fd(kvm, 0, 0));
	shim_fail_alloc_in = 1;
	ASSERT_EQ(-ENOMEM, sim_get_htab_fd(kvm, 0, 0));
	shim_fail_alloc_in = 2;
	ASSERT_EQ(-ENFILE, sim_get_htab_fd(kvm, 0, 0));
	shim_fail_alloc_in = -1;
	ASSERT_EQ(allocs, shim_allocs_live);
	ASSERT_EQ(1, kvm->users);
	ASSERT_EQ(0, atomic_read(&kvm->arch.hpte_mod_interest));

	/* A write fd ignores start_index. */
	fd = sim_get_htab_fd(kvm, KVM_GET_HTAB_WRITE, 1ULL << 40);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sim_close(fd));

	/* More than 2^32 entries cannot be indexed by the stream. */
	kvm->arch.hpt.order = 37;
	ASSERT_EQ(-EOVERFLOW, sim_get_htab_fd(kvm, 0, 0));
	kvm->arch.hpt.order = 36;
	ASSERT_EQ(-EINVAL, sim_get_htab_fd(kvm, 0, 1ULL << 32));
	kvm->arch.hpt.order = 12;

	sim_vm_make_radix(kvm);
	ASSERT_EQ(-EINVAL, sim_get_htab_fd(kvm, 0, 0));
	kvm->arch.radix = false;
	ASSERT_EQ(-ENODEV, sim_get_htab_fd(kvm, 0, 0));
	ASSERT_EQ(-ENODEV, sim_get_htab_fd(kvm, KVM_GET_HTAB_WRITE, 0));
	sim_vm_destroy(kvm);
}

/* ---- The write path ---- */

struct record3 {
	struct kvm_get_htab_header hdr;
	__be64 hpte[3][2];
} __packed;

static size_t record(struct record3 *rec, u32 index, u16 n_valid, u16 n_invalid,
		     const u64 (*hptes)[2])
{
	int k;

	rec->hdr.index = index;
	rec->hdr.n_valid = n_valid;
	rec->hdr.n_invalid = n_invalid;
	for (k = 0; k < n_valid; k++) {
		rec->hpte[k][0] = htobe64(hptes[k][0]);
		rec->hpte[k][1] = htobe64(hptes[k][1]);
	}
	return HEADER_BYTES + n_valid * HPTE_BYTES;
}

/* Table unchanged: the guest view of every HPTE is as in @before. */
static bool table_equals(struct kvm *kvm, const u64 (*before)[3])
{
	unsigned long i;

	for (i = 0; i < sim_npte(kvm); i++) {
		u64 v = 0, r = 0;
		bool valid = sim_guest_view(kvm, i, &v, &r);

		if (valid != !!before[i][0] || (valid && (v != before[i][1] || r != before[i][2])))
			return false;
	}
	return true;
}

static void snapshot(struct kvm *kvm, u64 (*out)[3])
{
	unsigned long i;

	for (i = 0; i < sim_npte(kvm); i++)
		out[i][0] = sim_guest_view(kvm, i, &out[i][1], &out[i][2]);
}

/*
 * Each bad record is refused whole with EINVAL (or EFAULT), nothing of it
 * applied; records before it are applied and counted.  A record the host
 * refuses part-way fails with EIO, undone.
 */
TEST(write_errors)
{
	const u64 good[3][2] = {
		{ HPTE_V_VALID | 0x1000, 0x10190 },
		{ HPTE_V_VALID | HPTE_V_LARGE | 0x2000, 0x1000 | (1UL << 16) },	/* 64K */
		{ HPTE_V_VALID | HPTE_V_BOLTED, (1ULL << 40) | 0x190 },		/* MMIO */
	};
	const struct {
		const char *what;
		u64 v, r;
	} bad[] = {
		{ "not valid", 0x1000, 0x10190 },
		{ "segment size 2", HPTE_V_VALID | (2ULL << HPTE_V_SSIZE_SHIFT), 0 },
		{ "no such page size", HPTE_V_VALID | HPTE_V_LARGE, 2UL << 12 },
		{ "16M page in a memslot of 16M + 64K", HPTE_V_VALID | HPTE_V_LARGE, 1UL << 29 },
	};
	const u64 not_valid[1][2] = { { 0x1000, 0x10190 } };
	struct kvm *kvm = vm_with_table(12, "V...V");
	int fd = sim_get_htab_fd(kvm, KVM_GET_HTAB_WRITE, 0);
	u64 (*before)[3] = calloc(sim_npte(kvm), sizeof(*before));
	struct record3 rec[2];
	size_t len, k;
	u64 v, r;

	/* Guest RAM at 512M that large pages cannot map. */
	kvm->memslots[1].base_gfn = (1UL << 29) >> PAGE_SHIFT;
	kvm->memslots[1].npages = ((1UL << 24) >> PAGE_SHIFT) + 1;
	kvm->nr_memslots = 2;
	snapshot(kvm, before);

	/* Headers and bounds. */
	len = record(&rec[0], 0, 1, 0, good);
	ASSERT_EQ(-EINVAL, sim_write(fd, &rec[0], HEADER_BYTES - 1));
	ASSERT_EQ(-EINVAL, sim_write(fd, &rec[0], len - 1));		/* cut short */
	record(&rec[0], 255, 1, 1, good);
	ASSERT_EQ(-EINVAL, sim_write(fd, &rec[0], len));		/* past the end */
	record(&rec[0], 0xffffffff, 0, 2, good);
	ASSERT_EQ(-EINVAL, sim_write(fd, &rec[0], HEADER_BYTES));	/* wraps u32 */
	ASSERT_TRUE(table_equals(kvm, before));

	/* Entries: three valid ones, the third made bad in turn. */
	for (k = 0; k < ARRAY_SIZE(bad); k++) {
		u64 hptes[3][2];

		memcpy(hptes, good, sizeof(hptes));
		hptes[2][0] = bad[k].v;
		hptes[2][1] = bad[k].r;
		len = record(&rec[0], 10, 3, 2, hptes);
		ASSERT_EQ(-EINVAL, sim_write(fd, &rec[0], len)) TH_LOG("%s", bad[k].what);
		ASSERT_TRUE(table_equals(kvm, before)) TH_LOG("%s", bad[k].what);
	}

	/* Faults: in the header, in the entries. */
	len = record(&rec[0], 10, 3, 0, good);
	shim_user_hole.start = (uintptr_t)&rec[0] + 2;
	shim_user_hole.end = shim_user_hole.start + 1;
	ASSERT_EQ(-EFAULT, sim_write(fd, &rec[0], len));
	shim_user_hole.start = (uintptr_t)&rec[0].hpte[2][1];
	shim_user_hole.end = shim_user_hole.start + 1;
	ASSERT_EQ(-EFAULT, sim_write(fd, &rec[0], len));
	shim_user_hole.end = 0;
	ASSERT_TRUE(table_equals(kvm, before));

	/* A good record, then a bad one: the first is applied and counted. */
	len = record(&rec[0], 20, 2, 0, good);
	record(&rec[1], 30, 1, 0, not_valid);
	memmove((u8 *)&rec[0] + len, &rec[1], HEADER_BYTES + HPTE_BYTES);
	ASSERT_EQ((ssize_t)len, sim_write(fd, &rec[0], len + HEADER_BYTES + HPTE_BYTES));
	ASSERT_TRUE(sim_guest_view(kvm, 21, &v, &r));
	ASSERT_EQ(good[1][0], v);
	ASSERT_FALSE(sim_guest_view(kvm, 30, &v, &r));
	/* Writing the rest returns the error. */
	ASSERT_EQ(-EINVAL, sim_write(fd, (u8 *)&rec[0] + len, HEADER_BYTES + HPTE_BYTES));

	/*
	 * H_ENTER refusing what passed the checks (a host-side limit), in the
	 * middle of a record over valid entries:
	 *
	 *   before:  V . . . V        record [0: 3 valid, 2 invalid], entry 1 refused
	 *   after:   V . . . V        EIO, a warning, the record undone
	 */
	snapshot(kvm, before);
	kvm->h_enter_refused_r = good[1][1];
	len = record(&rec[0], 0, 3, 2, good);
	ASSERT_EQ(-EIO, sim_write(fd, &rec[0], len));
	ASSERT_TRUE(table_equals(kvm, before));
	ASSERT_EQ(1, shim_warnings);
	shim_warnings = 0;
	kvm->h_enter_refused_r = 0;

	/* A running vcpu: EBUSY, and mmu_ready as it was. */
	atomic_inc(&kvm->arch.vcpus_running);
	ASSERT_EQ(-EBUSY, sim_write(fd, &rec[0], len));
	ASSERT_EQ(1, kvm->arch.mmu_ready);
	atomic_dec(&kvm->arch.vcpus_running);

	ASSERT_EQ(0, sim_close(fd));
	free(before);
	sim_vm_destroy(kvm);
}

/*
 *   before:  V . . . V V V V
 *   write:   [0: 2 valid, 3 invalid] [6: 0 valid, 2 invalid]
 *   after:   V V . . . V . .
 * Valid entries replace what was there, whatever it was.
 */
TEST(write_creates_replaces_removes)
{
	/* The kernel's own bits of V (lock, host-absent) are ignored. */
	const u64 hptes[2][2] = {
		{ HPTE_V_VALID | HPTE_V_HVLOCK | HPTE_V_ABSENT | 0x5000, 0x20190 },
		{ HPTE_V_VALID | HPTE_V_BOLTED | 0x6000, (1ULL << 40) | 0x3 },
	};
	struct kvm *kvm = vm_with_table(12, "V...VVVV");
	int fd = sim_get_htab_fd(kvm, KVM_GET_HTAB_WRITE, 0);
	struct record3 rec[2];
	size_t len = record(&rec[0], 0, 2, 3, hptes);
	static const char after[] = "VV...V..";
	u64 v, r;
	int i;

	record(&rec[1], 6, 0, 2, hptes);
	memmove((u8 *)&rec[0] + len, &rec[1], HEADER_BYTES);
	ASSERT_EQ((ssize_t)(len + HEADER_BYTES), sim_write(fd, &rec[0], len + HEADER_BYTES));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(after[i] == 'V', sim_guest_view(kvm, i, &v, &r)) TH_LOG("HPTE %d", i);
	ASSERT_TRUE(sim_guest_view(kvm, 0, &v, &r));
	ASSERT_EQ(hptes[0][0] & ~(HPTE_V_HVLOCK | HPTE_V_ABSENT), v);
	ASSERT_EQ(hptes[0][1], r);
	ASSERT_TRUE(sim_hpte_present(kvm, 0));		/* RAM */
	ASSERT_TRUE(sim_guest_view(kvm, 1, &v, &r));
	ASSERT_EQ(hptes[1][1], r);
	ASSERT_FALSE(sim_hpte_present(kvm, 1));		/* MMIO: host-absent */
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/*
 * A written VRMA entry sets the VRMA up from its base page size: a 16M page
 * made of 64K base pages is encoded as 64K.  Before ISA v3.00 LPCR[VRMASD]
 * says it; from v3.00 on the partition-table entry does, and LPCR is left
 * alone.
 */
/*
 * A write() of many records applies them 64 KiB of records at a time, each
 * batch under one hold of mmu_setup_lock (QEMU restores a saved stream in
 * one write: a lock hold per record would cost more than the entries), and
 * a batch touches at most 65536 entries past its first record.
 */
TEST(write_batches_records)
{
	struct kvm *kvm = sim_vm_create(22, RAM_BYTES);
	size_t nrec = 40000, len = nrec * (HEADER_BYTES + HPTE_BYTES), pos = 0;
	u8 *buf = malloc(len);
	unsigned long i, holds;
	int fd = sim_get_htab_fd(kvm, KVM_GET_HTAB_WRITE, 0);
	u64 v, r;

	for (i = 0; i < nrec; i++) {
		struct kvm_get_htab_header hdr = { 4 * i, 1, 3 };
		u64 hpte[2] = { htobe64((i << 12) | HPTE_V_VALID), htobe64(i << 16) };

		memcpy(buf + pos, &hdr, HEADER_BYTES);
		memcpy(buf + pos + HEADER_BYTES, hpte, HPTE_BYTES);
		pos += HEADER_BYTES + HPTE_BYTES;
	}
	holds = kvm->arch.mmu_setup_lock.acquired;
	ASSERT_EQ((ssize_t)len, sim_write(fd, buf, len));
	holds = kvm->arch.mmu_setup_lock.acquired - holds;
	/* 960,000 bytes in batches of 64 KiB, 2730 records each: 15 holds. */
	ASSERT_EQ((len + SZ_64K - 1) / SZ_64K, holds);
	ASSERT_TRUE(sim_guest_view(kvm, 4 * (nrec - 1), &v, &r));
	ASSERT_EQ(((nrec - 1) << 12) | HPTE_V_VALID, v);

	/* A task being killed stops after the batch under way. */
	shim_fatal_signal = true;
	ASSERT_EQ(SZ_64K / (HEADER_BYTES + HPTE_BYTES) * (HEADER_BYTES + HPTE_BYTES),
		  sim_write(fd, buf, len));
	shim_fatal_signal = false;

	/* Records of 65535 invalid entries: one per hold. */
	for (i = 0; i < 3; i++) {
		struct kvm_get_htab_header hdr = { 65535 * i, 0, 65535 };

		memcpy(buf + i * HEADER_BYTES, &hdr, HEADER_BYTES);
	}
	holds = kvm->arch.mmu_setup_lock.acquired;
	ASSERT_EQ(3 * HEADER_BYTES, sim_write(fd, buf, 3 * HEADER_BYTES));
	ASSERT_EQ(3, kvm->arch.mmu_setup_lock.acquired - holds);
	ASSERT_FALSE(sim_guest_view(kvm, 4 * (nrec - 1), &v, &r));
	ASSERT_EQ(0, sim_close(fd));
	free(buf);
	sim_vm_destroy(kvm);
}

TEST(write_vrma)
{
	const u64 vrma[2][1][2] = {
		{ { VRMA_V | HPTE_V_BOLTED | HPTE_V_LARGE | HPTE_V_VALID,
		    0x1000 | (1UL << 12) | 0x190 } },				/* 64K */
		{ { VRMA_V | HPTE_V_BOLTED | HPTE_V_LARGE | HPTE_V_VALID,
		    0x1000000 | (8UL << 12) | 0x190 } },			/* 16M in 64K */
	};
	const u64 senc = SLB_VSID_L | SLB_VSID_LP_01;
	int isa300, k;

	for (isa300 = 0; isa300 < 2; isa300++) {
		for (k = 0; k < 2; k++) {
			struct kvm *kvm = sim_vm_create(12, RAM_BYTES);
			int fd = sim_get_htab_fd(kvm, KVM_GET_HTAB_WRITE, 0);
			struct record3 rec;
			size_t len = record(&rec, 0, 1, 0, vrma[k]);

			kvm->arch.mmu_ready = 0;
			shim_cpu_is_arch_300 = isa300;
			ASSERT_EQ((ssize_t)len, sim_write(fd, &rec, len));
			ASSERT_EQ(1, kvm->arch.mmu_ready);
			ASSERT_EQ(isa300, kvm->arch.partition_table_updates);
			ASSERT_EQ(isa300 ? 0 : senc << (LPCR_VRMASD_SH - 4), kvm->arch.lpcr)
				TH_LOG("ISA v3.00 %d, entry %d", isa300, k);
			ASSERT_EQ(senc | SLB_VSID_B_1T | (VRMA_VSID << SLB_VSID_SHIFT_1T),
				  kvm->arch.vrma_slb_v) TH_LOG("entry %d", k);
			ASSERT_EQ(0, sim_close(fd));
			sim_vm_destroy(kvm);
		}
	}
	shim_cpu_is_arch_300 = false;
}

/* Closing every fd leaves nothing behind. */
TEST(release_frees_everything)
{
	struct kvm *kvm = vm_with_table(12, "VVV");
	long allocs = shim_allocs_live;
	int fds[4], k;
	u8 buf[4096];

	for (k = 0; k < 4; k++) {
		fds[k] = sim_get_htab_fd(kvm, k == 3 ? KVM_GET_HTAB_WRITE : 0, k);
		ASSERT_LE(100, fds[k]);
	}
	ASSERT_LT(0, sim_read(fds[1], buf, sizeof(buf)));
	ASSERT_EQ(5, kvm->users);
	ASSERT_EQ(3, atomic_read(&kvm->arch.hpte_mod_interest));
	for (k = 0; k < 4; k++)
		ASSERT_EQ(0, sim_close(fds[k]));
	ASSERT_EQ(1, kvm->users);
	ASSERT_EQ(0, atomic_read(&kvm->arch.hpte_mod_interest));
	ASSERT_EQ(allocs, shim_allocs_live);
	sim_vm_destroy(kvm);
}

/*
 * The only reader's read goes round the table from its cursor, then from 0
 * back up to the cursor, taking words of the shared map as it goes: the
 * cursor's word twice when marks lie on both sides of it.  An entry the
 * first half returned and a vcpu changed again before the second half took
 * the word is a change for the next read.  Here the cursor is at 74, 70 and
 * 74 are pending, and a vcpu's hcall on 200 is in flight: as the read waits
 * for it, the vcpu changes 74 again.
 */
struct hcall_then_protect {
	struct hcall_in_flight hcall;
	struct kvm *kvm;
	unsigned long i;
};

static void hcall_finish_then_protect(void *arg)
{
	struct hcall_then_protect *h = arg;

	hcall_finish(&h->hcall);
	if (sim_h_protect(h->kvm, h->i, 2) != H_SUCCESS)
		abort();
}

TEST(change_during_a_read_that_wraps_is_kept)
{
	struct kvm *kvm = vm_with_table(18, NULL);
	static const unsigned long valid[] = { 70, 73, 74, 200 };
	struct hcall_then_protect h = { .kvm = kvm, .i = 74 };
	u64 v = (200 << 12) | HPTE_V_VALID, r;
	u8 buf[4096];
	unsigned long k;
	int fd;

	for (k = 0; k < ARRAY_SIZE(valid); k++)
		ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, valid[k], (valid[k] << 12) | HPTE_V_VALID,
						 HPTE_R_R | HPTE_R_C));
	fd = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_LT(0, drain(fd));
	ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, 73, 1));
	ASSERT_EQ(HEADER_BYTES + HPTE_BYTES, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(73, record_at(buf, 0).index);
	ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, 70, 1));
	ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, 74, 1));
	hcall_begin(kvm, &h.hcall, 200, v, HPTE_R_R | HPTE_R_C, v);
	shim_cpu_relax_hook.fn = hcall_finish_then_protect;
	shim_cpu_relax_hook.arg = &h;

	ASSERT_EQ(3 * (HEADER_BYTES + HPTE_BYTES), sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(NULL, shim_cpu_relax_hook.fn);
	ASSERT_EQ(74, record_at(buf, 0).index);
	ASSERT_EQ(200, record_at(buf, HEADER_BYTES + HPTE_BYTES).index);
	ASSERT_EQ(70, record_at(buf, 2 * (HEADER_BYTES + HPTE_BYTES)).index);
	read_one_hpte(_metadata, fd, 74, &v, &r);
	ASSERT_EQ(2, r & HPTE_R_PP);
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/*
 * The next read of @fd returns one-entry records at @after, from the cursor
 * on, then at @before, after its wrap; the read after it returns nothing.
 */
static void wrapped_read_returns(struct __test_metadata *_metadata, int fd,
				 unsigned long after, unsigned long before)
{
	u8 buf[4096];

	ASSERT_EQ(2 * (HEADER_BYTES + HPTE_BYTES), sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(after, record_at(buf, 0).index);
	ASSERT_EQ(before, record_at(buf, HEADER_BYTES + HPTE_BYTES).index);
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
}

/* One read returns the marks on both sides of the cursor, in its word. */
TEST(read_that_wraps_returns_both_sides_of_the_cursor)
{
	struct kvm *kvm = vm_with_table(12, "...V.....V..V");
	u8 buf[4096];
	int fd;

	fd = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_LT(0, drain(fd));
	ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, 9, 1));
	ASSERT_EQ(HEADER_BYTES + HPTE_BYTES, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, 3, 1));
	ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, 12, 1));
	wrapped_read_returns(_metadata, fd, 12, 3);
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/*
 * The same where the cursor is one past a block's first entry: the read
 * takes that block of 4096 entries from the cursor on only, and the mark
 * before the cursor, given back, is found after the wrap.
 */
TEST(read_that_wraps_at_a_block_returns_both_sides)
{
	struct kvm *kvm = sim_vm_create(18, RAM_BYTES);
	u8 buf[4096];
	int fd;

	ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, 4096, (1ULL << 12) | HPTE_V_VALID, 1 << 16));
	ASSERT_EQ(H_SUCCESS, sim_h_enter(kvm, 4097, (2ULL << 12) | HPTE_V_VALID, 2 << 16));
	fd = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_LT(0, drain(fd));
	/* A read of one entry leaves the cursor at 4097. */
	ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, 4096, 1));
	ASSERT_EQ(HEADER_BYTES + HPTE_BYTES, sim_read(fd, buf, HEADER_BYTES + HPTE_BYTES));
	ASSERT_EQ(4096, record_at(buf, 0).index);
	ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, 4096, 2));
	ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, 4097, 1));
	wrapped_read_returns(_metadata, fd, 4097, 4096);
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/*
 * Entries pending in the only reader's set (left by a harvest while another
 * reader was open) and marked again in the shared map since: the record
 * that returns them takes the marks too, or a later read would return the
 * entries again, unchanged.  Here 10 and 11 go to the set, 11 is marked
 * again, and a run from 10 covers both.
 */
TEST(run_from_the_set_takes_marks_it_covers)
{
	struct kvm *kvm = vm_with_table(12, "..........VV");
	u8 buf[4096];
	int fd, other;

	fd = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_LT(0, drain(fd));
	other = sim_get_htab_fd(kvm, 0, 0);
	ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, 10, 1));
	ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, 11, 1));
	/* The other reader's read harvests 10 and 11 into this one's set */
	ASSERT_LT(0, sim_read(other, buf, sizeof(buf)));
	ASSERT_EQ(0, sim_close(other));
	ASSERT_EQ(H_SUCCESS, sim_h_protect(kvm, 11, 2));

	ASSERT_EQ(HEADER_BYTES + 2 * HPTE_BYTES, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(10, record_at(buf, 0).index);
	ASSERT_EQ(2, record_at(buf, 0).n_valid);
	ASSERT_EQ(0, sim_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, sim_close(fd));
	sim_vm_destroy(kvm);
}

/* A random word: empty, full, or with bits at one of several densities. */
static unsigned long random_word(struct choice *c)
{
	unsigned long word = 0;
	unsigned int bit, density = choose(c, 6);

	if (density == 0 || density == 5)
		return density ? ~0UL : 0;
	for (bit = 0; bit < BITS_PER_LONG; bit++)
		if (!choose(c, 1U << density))
			word |= 1UL << bit;
	return word;
}

/*
 * The searches the read path inlines on a window (64 words) or a chunk of a
 * set (63), against a walk bit by bit: random words, from every bit.
 */
TEST(summed_bitmap_searches_match_a_walk)
{
	struct choice choice = { .state = 3 };
	unsigned long words[BITS_PER_LONG], nonempty, nbits, bit, w, want, end;
	unsigned int round;

	for (round = 0; round < 128; round++) {
		nbits = (BITS_PER_LONG - round % 2) * BITS_PER_LONG;
		nonempty = 0;
		memset(words, 0, sizeof(words));
		for (w = 0; w < nbits / BITS_PER_LONG; w++) {
			words[w] = choose(&choice, 3) ? 0 : random_word(&choice);
			if (words[w])
				nonempty |= 1UL << w;
		}
		for (bit = 0; bit < nbits; bit++) {
			for (want = bit; want < nbits && !test_bit(want, words); want++)
				;
			ASSERT_EQ(want, kvmppc_summed_bitmap_next(words, nonempty, bit, nbits));

			end = bit + 1 + choose(&choice, 2 * BITS_PER_LONG);
			for (want = bit; want < end && want < round_up(bit + 1, BITS_PER_LONG) &&
			     test_bit(want, words); want++)
				;
			ASSERT_EQ(want, kvmppc_word_run_end(words[bit / BITS_PER_LONG], bit, end));
		}
	}
}

TEST_HARNESS_MAIN
