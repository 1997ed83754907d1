// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_PPC_GET_HTAB_FD: what a reader of the HPT stream can rely on.
 *
 * The guest enters a handful of HPTEs, one per PTEG, then (after the host
 * has taken a first pass) removes one, changes the protection of another
 * and enters a new one.  The host rebuilds the HPT from the stream and
 * checks it against what the guest did; the only other valid entries may
 * be the VRMA's, which KVM bolts in on the first KVM_RUN.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "htab.h"
#include "kvm_test_harness.h"
#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#define READ_BUFSIZE		(64 * 1024)

#define GUEST_RPN(i)		(0x100000ULL + (i) * 0x1000)
#define GUEST_V(avpn, flags)	(HPTE_V_1TB_SEG | (avpn) << HPTE_V_AVPN_SHIFT | \
				 (flags) | HPTE_V_VALID)
#define GUEST_R(i, pp)		(GUEST_RPN(i) | HPTE_R_M | (pp))

struct guest_hpte {
	uint64_t group;
	uint64_t v;
	uint64_t r;
};

/*
 * Stage 1, one entry per PTEG ("B" = bolted):
 *
 *   PTEG:  64   200   333   1000   1500   2047
 *          V    V B   V     V B    V      V
 *
 * Stage 2: remove [0], read-only [2], enter [NR_STAGE1] in PTEG 777.
 */
#define NR_STAGE1	6
#define IDX_REMOVED	0
#define IDX_PROTECTED	2
#define IDX_ADDED	NR_STAGE1
#define NR_GUEST_HPTES	(NR_STAGE1 + 1)

/* Every stage-1 entry is there. */
static const bool all_stage1[NR_STAGE1] = { true, true, true, true, true, true };

static const struct guest_hpte guest_hptes[NR_GUEST_HPTES] = {
	{   64, GUEST_V(0x1000, 0),		GUEST_R(0, 2) },
	{  200, GUEST_V(0x1001, HPTE_V_BOLTED),	GUEST_R(1, 2) },
	{  333, GUEST_V(0x1002, 0),		GUEST_R(2, 2) },
	{ 1000, GUEST_V(0x1003, HPTE_V_BOLTED),	GUEST_R(3, 2) },
	{ 1500, GUEST_V(0x1004, 0),		GUEST_R(4, 2) },
	{ 2047, GUEST_V(0x1005, 0),		GUEST_R(5, 2) },
	{  777, GUEST_V(0x1006, 0),		GUEST_R(6, 2) },
};

/* Where H_ENTER put each entry: written by the guest, read by the host. */
static uint64_t guest_ptex[NR_GUEST_HPTES];

static void guest_enter(int i)
{
	unsigned long ptex;

	GUEST_ASSERT_EQ(h_enter(0, guest_hptes[i].group * 8, guest_hptes[i].v,
				guest_hptes[i].r, &ptex), H_SUCCESS);
	guest_ptex[i] = ptex;
}

static void guest_code(void)
{
	int i;

	for (i = 0; i < NR_STAGE1; i++)
		guest_enter(i);
	GUEST_SYNC(1);

	GUEST_ASSERT_EQ(h_remove(0, guest_ptex[IDX_REMOVED], 0, NULL), H_SUCCESS);
	GUEST_ASSERT_EQ(h_protect(1, guest_ptex[IDX_PROTECTED], 0), H_SUCCESS);
	guest_enter(IDX_ADDED);
	GUEST_SYNC(2);

	GUEST_DONE();
}

static void run_to_sync(struct kvm_vcpu *vcpu, uint64_t stage)
{
	struct ucall uc;

	vcpu_run(vcpu);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT_EQ(uc.args[1], stage);
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("Unexpected exit: %s, ucall %lu",
			  exit_reason_str(vcpu->run->exit_reason), uc.cmd);
	}
	sync_global_from_guest(vcpu->vm, guest_ptex);
}

/*
 * The base kernel hands out V with its HPTE lock bit held; what this test
 * checks is the rest of the ABI, so compare V without it.
 */
static uint64_t hpte_v_seen(uint64_t v)
{
	return v & ~HPTE_V_HVLOCK;
}

static int guest_hpte_at(uint64_t ptex, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		if (guest_ptex[i] == ptex)
			return i;
	return -1;
}

static uint64_t vrma_entries_expected(struct kvm_vm *vm)
{
	return memslot2region(vm, 0)->region.memory_size / getpagesize();
}

/*
 * @m must hold exactly the guest's entries @expect[0..nr) where @present
 * says so, plus the VRMA's; with @bolted_only, only the bolted ones.
 */
static void check_mirror(struct kvm_vm *vm, struct htab_mirror *m,
			 const struct guest_hpte *expect, const bool *present,
			 int nr, bool bolted_only)
{
	uint64_t i, nr_vrma = 0;

	for (i = 0; i < m->npte; i++) {
		int g = guest_hpte_at(i, nr);
		bool want = g >= 0 && present[g] &&
			    (!bolted_only || (expect[g].v & HPTE_V_BOLTED));

		if (want) {
			TEST_ASSERT(hpte_v_seen(m->hpte[i].v) == expect[g].v &&
				    m->hpte[i].r == expect[g].r,
				    "HPTE %lu: got v 0x%lx r 0x%lx, guest entered v 0x%lx r 0x%lx",
				    i, m->hpte[i].v, m->hpte[i].r, expect[g].v, expect[g].r);
		} else if (m->hpte[i].v) {
			TEST_ASSERT(hpte_is_vrma(m->hpte[i].v),
				    "HPTE %lu: unexpected entry v 0x%lx r 0x%lx",
				    i, m->hpte[i].v, m->hpte[i].r);
			nr_vrma++;
		}
	}
	TEST_ASSERT_EQ(nr_vrma, vrma_entries_expected(vm));
}

/*
 * Run the guest through stage 1, then take a whole first pass through a new
 * fd opened with @flags into @m.  Returns the fd, still open.
 */
static int stage1_then_first_pass(struct kvm_vcpu *vcpu, uint64_t flags,
				  struct htab_mirror *m, struct htab_stats *st)
{
	int fd;

	run_to_sync(vcpu, 1);
	htab_mirror_init(m, hpt_npte(HPT_ORDER_DEFAULT));
	fd = vm_htab_fd(vcpu->vm, flags, 0);
	htab_read_until_empty(fd, READ_BUFSIZE, m, st);
	return fd;
}

KVM_ONE_VCPU_TEST_SUITE(htab_fd);

TEST(capability)
{
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_PPC_HTAB_FD));
	ASSERT_EQ(kvm_check_cap(KVM_CAP_PPC_HTAB_FD), 1);
}

KVM_ONE_VCPU_TEST(htab_fd, fd_access_mode, guest_code)
{
	char buf[32] = {};
	int fd, fl;

	fd = vm_htab_fd(vcpu->vm, 0, 0);
	TEST_ASSERT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	TEST_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC, "read fd is not close-on-exec");
	TEST_ASSERT(write(fd, buf, sizeof(buf)) == -1 && errno == EBADF,
		    "write() on a read fd: expected EBADF");
	close(fd);

	fd = vm_htab_fd(vcpu->vm, KVM_GET_HTAB_WRITE, 0);
	fl = fcntl(fd, F_GETFL);
	TEST_ASSERT_EQ(fl & O_ACCMODE, O_WRONLY);
	TEST_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC, "write fd is not close-on-exec");
	TEST_ASSERT(read(fd, buf, sizeof(buf)) == -1 && errno == EBADF,
		    "read() on a write fd: expected EBADF");
	close(fd);
}

KVM_ONE_VCPU_TEST(htab_fd, unknown_flags, guest_code)
{
	static const uint64_t bad_flags[] = { 0x4, 0x8, 1ULL << 63, ~0ULL,
		~(uint64_t)(KVM_GET_HTAB_BOLTED_ONLY | KVM_GET_HTAB_WRITE) };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		int fd = __vm_htab_fd(vcpu->vm, bad_flags[i], 0);

		TEST_ASSERT(fd == -1 && errno == EINVAL,
			    "flags 0x%lx: expected EINVAL, got fd %d errno %d",
			    bad_flags[i], fd, errno);
	}
}

/* Before the first KVM_RUN the HPT is empty: one record, all invalid. */
KVM_ONE_VCPU_TEST(htab_fd, empty_hpt, guest_code)
{
	uint64_t npte = hpt_npte(HPT_ORDER_DEFAULT);
	struct kvm_get_htab_header hdr;
	char buf[READ_BUFSIZE];
	int fd = vm_htab_fd(vcpu->vm, 0, 0);
	ssize_t n;

	n = read(fd, buf, sizeof(buf));
	TEST_ASSERT_EQ(n, sizeof(hdr));
	memcpy(&hdr, buf, sizeof(hdr));
	TEST_ASSERT(hdr.index == 0 && hdr.n_valid == 0 && hdr.n_invalid == npte,
		    "empty HPT read as {%u, %u, %u}, expected {0, 0, %lu}",
		    hdr.index, hdr.n_valid, hdr.n_invalid, npte);
	TEST_ASSERT_EQ(read(fd, buf, sizeof(buf)), 0);
	close(fd);
}

/* The first pass shows the guest's entries and the VRMA's, nothing else. */
KVM_ONE_VCPU_TEST(htab_fd, first_pass, guest_code)
{
	struct htab_stats st = {};
	struct htab_mirror m;
	int fd = stage1_then_first_pass(vcpu, 0, &m, &st);

	check_mirror(vcpu->vm, &m, guest_hptes, all_stage1, NR_STAGE1, false);
	TEST_ASSERT_EQ(st.valid, NR_STAGE1 + vrma_entries_expected(vcpu->vm));
	TEST_ASSERT_EQ(st.valid + st.invalid, m.npte);
	close(fd);
	htab_mirror_free(&m);
}

KVM_ONE_VCPU_TEST(htab_fd, bolted_only, guest_code)
{
	struct htab_stats st = {};
	struct htab_mirror m;
	int fd = stage1_then_first_pass(vcpu, KVM_GET_HTAB_BOLTED_ONLY, &m, &st);

	check_mirror(vcpu->vm, &m, guest_hptes, all_stage1, NR_STAGE1, true);
	TEST_ASSERT_EQ(st.valid, 2 + vrma_entries_expected(vcpu->vm));
	close(fd);
	htab_mirror_free(&m);
}

/* Once a pass is complete and nothing changes, a read returns 0. */
KVM_ONE_VCPU_TEST(htab_fd, quiet_read_is_empty, guest_code)
{
	struct htab_stats st = {};
	char buf[READ_BUFSIZE];
	struct htab_mirror m;
	int fd = stage1_then_first_pass(vcpu, 0, &m, &st);

	TEST_ASSERT(st.reads > 0, "the first pass returned nothing");
	TEST_ASSERT_EQ(read(fd, buf, sizeof(buf)), 0);
	TEST_ASSERT_EQ(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	htab_mirror_free(&m);
}

/*
 * After the first pass, reads return what the guest changed: the removed
 * entry as invalid, the new protection, the new entry.  The VRMA's entries
 * may come again for their R/C bits; nothing else may.
 */
KVM_ONE_VCPU_TEST(htab_fd, later_pass_returns_changes, guest_code)
{
	static const bool present[NR_GUEST_HPTES] = {
		[IDX_REMOVED] = false, true, true, true, true, true, true };
	struct guest_hpte expect[NR_GUEST_HPTES];
	struct htab_mirror m;
	uint64_t i, *vrma_v;
	int fd = stage1_then_first_pass(vcpu, 0, &m, NULL);

	vrma_v = calloc(m.npte, sizeof(*vrma_v));
	TEST_ASSERT(vrma_v, "out of memory");
	for (i = 0; i < m.npte; i++)
		vrma_v[i] = hpte_is_vrma(m.hpte[i].v) ? m.hpte[i].v : 0;

	run_to_sync(vcpu, 2);
	htab_mirror_clear_touched(&m);
	htab_read_until_empty(fd, READ_BUFSIZE, &m, NULL);

	memcpy(expect, guest_hptes, sizeof(expect));
	expect[IDX_PROTECTED].r = (expect[IDX_PROTECTED].r & ~HPTE_R_PP) | 1;
	check_mirror(vcpu->vm, &m, expect, present, NR_GUEST_HPTES, false);

	for (i = 0; i < m.npte; i++) {
		int g = guest_hpte_at(i, NR_GUEST_HPTES);

		if (g == IDX_REMOVED || g == IDX_PROTECTED || g == IDX_ADDED) {
			TEST_ASSERT(m.touched[i],
				    "change to HPTE %lu (guest entry %d) not returned", i, g);
		} else if (g >= 0) {
			/* The guest never touches these pages: no R/C change either. */
			TEST_ASSERT(!m.touched[i],
				    "unchanged guest entry %d at %lu returned again", g, i);
		} else if (m.touched[i]) {
			TEST_ASSERT(vrma_v[i] && hpte_v_seen(m.hpte[i].v) == hpte_v_seen(vrma_v[i]),
				    "HPTE %lu returned but the guest did not change it (v 0x%lx)",
				    i, m.hpte[i].v);
		}
	}

	free(vrma_v);
	close(fd);
	htab_mirror_free(&m);
}

int main(int argc, char *argv[])
{
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_PPC_HTAB_FD));
	return test_harness_run(argc, argv);
}
