// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_PPC_GET_HTAB_FD: what a reader of the HPT stream can rely on.
 *
 * The guest enters a handful of HPTEs, one per PTEG, then (after the host
 * has taken a first pass) removes one, changes the protection of another
 * and enters a new one, and last enters one near the start of the table.
 * The host rebuilds the HPT from the stream and checks it against what the
 * guest did; the only other valid entries may be the VRMA's, which KVM
 * bolts in on the first KVM_RUN.  A second guest churns HPTEs while the
 * host reads.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hpte_churn.h"
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
 * Stage 2: remove [0], read-only [2], enter [6] in PTEG 777.
 * Stage 3: enter [7] in PTEG 10, before all of them.
 */
#define NR_STAGE1	6
#define IDX_REMOVED	0
#define IDX_PROTECTED	2
#define IDX_ADDED	6
#define NR_STAGE2	7
#define IDX_BEHIND	7
#define NR_GUEST_HPTES	8

static const struct guest_hpte guest_hptes[NR_GUEST_HPTES] = {
	{   64, GUEST_V(0x1000, 0),		GUEST_R(0, 2) },
	{  200, GUEST_V(0x1001, HPTE_V_BOLTED),	GUEST_R(1, 2) },
	{  333, GUEST_V(0x1002, 0),		GUEST_R(2, 2) },
	{ 1000, GUEST_V(0x1003, HPTE_V_BOLTED),	GUEST_R(3, 2) },
	{ 1500, GUEST_V(0x1004, 0),		GUEST_R(4, 2) },
	{ 2047, GUEST_V(0x1005, 0),		GUEST_R(5, 2) },
	{  777, GUEST_V(0x1006, 0),		GUEST_R(6, 2) },
	{   10, GUEST_V(0x1007, 0),		GUEST_R(7, 2) },
};

/* Which entries are in the HPT after stage 1 and after stage 2. */
static const bool after_stage1[NR_GUEST_HPTES] = { 1, 1, 1, 1, 1, 1, 0, 0 };
static const bool after_stage2[NR_GUEST_HPTES] = { 0, 1, 1, 1, 1, 1, 1, 0 };

/* Where H_ENTER put each entry, ~0 until then: written by the guest. */
static uint64_t guest_ptex[NR_GUEST_HPTES] = { [0 ... NR_GUEST_HPTES - 1] = ~0ULL };

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

	guest_enter(IDX_BEHIND);
	GUEST_SYNC(3);
	GUEST_DONE();
}

static void run_to_stage(struct kvm_vcpu *vcpu, uint64_t stage)
{
	vcpu_run_to_sync(vcpu, stage);
	sync_global_from_guest(vcpu->vm, guest_ptex);
}

/* The entries as the guest made them by the end of stage 2. */
static void stage2_entries(struct guest_hpte expect[NR_GUEST_HPTES])
{
	memcpy(expect, guest_hptes, sizeof(guest_hptes));
	expect[IDX_PROTECTED].r = (expect[IDX_PROTECTED].r & ~HPTE_R_PP) | 1;
}

static int guest_hpte_at(uint64_t ptex)
{
	int i;

	for (i = 0; i < NR_GUEST_HPTES; i++)
		if (guest_ptex[i] == ptex)
			return i;
	return -1;
}

static uint64_t vrma_entries_expected(struct kvm_vm *vm)
{
	return memslot2region(vm, 0)->region.memory_size / getpagesize();
}

/*
 * The kernel's own bits in V; no_kernel_bits checks that none reaches
 * userspace, the other tests compare what is left.
 */
#define HPTE_V_KERNEL_BITS	(HPTE_V_HVLOCK | HPTE_V_ABSENT)
#define HPTE_R_KERNEL_BITS	BIT_ULL(62)	/* HPTE_GR_MODIFIED */

static uint64_t guest_view_v(uint64_t v)
{
	return v & ~HPTE_V_KERNEL_BITS;
}

/*
 * @m must hold exactly the guest's entries @expect where @present says so,
 * plus the VRMA's; with @bolted_only, only the bolted ones.
 */
static void check_mirror(struct kvm_vm *vm, struct htab_mirror *m,
			 const struct guest_hpte *expect, const bool *present,
			 bool bolted_only)
{
	uint64_t i, nr_vrma = 0;

	for (i = 0; i < m->npte; i++) {
		int g = guest_hpte_at(i);
		bool want = g >= 0 && present[g] &&
			    (!bolted_only || (expect[g].v & HPTE_V_BOLTED));

		if (want) {
			TEST_ASSERT(guest_view_v(m->hpte[i].v) == expect[g].v &&
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
 * Since @m's touched marks were cleared, exactly the entries of @changed
 * came back, and VRMA entries (their R and C bits), but nothing else.
 */
static void check_returned(struct htab_mirror *m, const uint64_t *vrma_v,
			   const int *changed, int nr_changed)
{
	uint64_t i;
	int k;

	for (k = 0; k < nr_changed; k++)
		TEST_ASSERT(m->touched[guest_ptex[changed[k]]],
			    "change to guest entry %d (HPTE %lu) not returned",
			    changed[k], guest_ptex[changed[k]]);
	for (i = 0; i < m->npte; i++) {
		int g = guest_hpte_at(i);
		bool is_changed = false;

		for (k = 0; k < nr_changed; k++)
			is_changed |= g == changed[k];
		if (!m->touched[i] || is_changed)
			continue;
		/* The guest never touches its entries' pages: no R/C change either. */
		TEST_ASSERT(g < 0, "unchanged guest entry %d at %lu returned again", g, i);
		TEST_ASSERT(vrma_v[i] && guest_view_v(m->hpte[i].v) == guest_view_v(vrma_v[i]),
			    "HPTE %lu returned but the guest did not change it (v 0x%lx)",
			    i, m->hpte[i].v);
	}
}

/* V of every VRMA entry in @m, 0 elsewhere: the entries allowed back. */
static uint64_t *vrma_snapshot(struct htab_mirror *m)
{
	uint64_t i, *vrma_v = calloc(m->npte, sizeof(*vrma_v));

	TEST_ASSERT(vrma_v, "out of memory");
	for (i = 0; i < m->npte; i++)
		vrma_v[i] = hpte_is_vrma(m->hpte[i].v) ? m->hpte[i].v : 0;
	return vrma_v;
}

/*
 * Read @fd until it returns 0: it must bring @m to the HPT as it is after
 * stage 2, returning exactly the stage-2 changes (and VRMA R/C updates).
 */
static void read_stage2_changes(struct kvm_vcpu *vcpu, int fd, struct htab_mirror *m,
				const uint64_t *vrma_v)
{
	static const int changed[] = { IDX_REMOVED, IDX_PROTECTED, IDX_ADDED };
	struct guest_hpte expect[NR_GUEST_HPTES];

	htab_mirror_clear_touched(m);
	htab_read_until_empty(fd, READ_BUFSIZE, m, NULL);
	stage2_entries(expect);
	check_mirror(vcpu->vm, m, expect, after_stage2, false);
	check_returned(m, vrma_v, changed, ARRAY_SIZE(changed));
}

/*
 * Run the guest through stage 1, then take a whole first pass through a new
 * fd opened with @flags into @m.  Returns the fd, still open.
 */
static int stage1_then_first_pass(struct kvm_vcpu *vcpu, uint64_t flags,
				  struct htab_mirror *m, struct htab_stats *st)
{
	int fd;

	run_to_stage(vcpu, 1);
	htab_mirror_init(m, hpt_npte(HPT_ORDER_DEFAULT));
	fd = vm_htab_fd(vcpu->vm, flags, 0);
	htab_read_until_empty(fd, READ_BUFSIZE, m, st);
	return fd;
}

static int htab_fd_args(struct kvm_vm *vm, uint64_t flags, uint64_t start,
			uint64_t reserved0, uint64_t reserved1)
{
	struct kvm_get_htab_fd ghf = {
		.flags = flags,
		.start_index = start,
		.reserved = { reserved0, reserved1 },
	};

	return __vm_ioctl(vm, KVM_PPC_GET_HTAB_FD, &ghf);
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
	/* lseek() is ignored: the first pass still starts at start_index. */
	TEST_ASSERT_EQ(lseek(fd, 4096, SEEK_SET), 0);
	TEST_ASSERT(read(fd, buf, sizeof(buf)) > 0, "read after lseek: %s", strerror(errno));
	TEST_ASSERT_EQ(((struct kvm_get_htab_header *)buf)->index, 0);
	close(fd);

	fd = vm_htab_fd(vcpu->vm, KVM_GET_HTAB_WRITE, 0);
	fl = fcntl(fd, F_GETFL);
	TEST_ASSERT_EQ(fl & O_ACCMODE, O_WRONLY);
	TEST_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC, "write fd is not close-on-exec");
	TEST_ASSERT(read(fd, buf, sizeof(buf)) == -1 && errno == EBADF,
		    "read() on a write fd: expected EBADF");
	close(fd);
}

/* An open fd keeps the VM alive: it reads the HPT after every other fd closed. */
TEST(fd_keeps_vm_alive)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	struct htab_mirror m;
	uint64_t i, valid = 0;
	int fd;

	vcpu_run_to_sync(vcpu, 1);
	fd = vm_htab_fd(vm, 0, 0);
	kvm_vm_free(vm);

	htab_mirror_init(&m, hpt_npte(HPT_ORDER_DEFAULT));
	htab_read_until_empty(fd, READ_BUFSIZE, &m, NULL);
	for (i = 0; i < m.npte; i++)
		valid += !!m.hpte[i].v;
	TEST_ASSERT(valid, "no valid HPTE read after the VM's own fds closed");
	close(fd);
	htab_mirror_free(&m);
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

/* Reserved fields must be zero; a reader's start_index must be in the HPT. */
KVM_ONE_VCPU_TEST(htab_fd, bad_arguments, guest_code)
{
	uint64_t npte = hpt_npte(HPT_ORDER_DEFAULT);
	struct kvm_get_htab_header hdr;
	char buf[READ_BUFSIZE];
	int fd;

	TEST_ASSERT(htab_fd_args(vcpu->vm, 0, 0, 1, 0) == -1 && errno == EINVAL,
		    "reserved[0] != 0: expected EINVAL");
	TEST_ASSERT(htab_fd_args(vcpu->vm, KVM_GET_HTAB_WRITE, 0, 0, 1) == -1 &&
		    errno == EINVAL, "reserved[1] != 0: expected EINVAL");
	TEST_ASSERT(htab_fd_args(vcpu->vm, 0, npte, 0, 0) == -1 && errno == EINVAL,
		    "start_index == number of HPTEs: expected EINVAL");
	TEST_ASSERT(htab_fd_args(vcpu->vm, 0, 1ULL << 40, 0, 0) == -1 && errno == EINVAL,
		    "start_index past the HPT: expected EINVAL");

	/* The last entry alone is a whole first pass. */
	fd = htab_fd_args(vcpu->vm, 0, npte - 1, 0, 0);
	TEST_ASSERT(fd >= 0, "start_index npte - 1 refused: %s", strerror(errno));
	TEST_ASSERT_EQ(read(fd, buf, sizeof(buf)), sizeof(hdr));
	memcpy(&hdr, buf, sizeof(hdr));
	TEST_ASSERT(hdr.index == npte - 1 && hdr.n_valid == 0 && hdr.n_invalid == 1,
		    "got {%u, %u, %u}", hdr.index, hdr.n_valid, hdr.n_invalid);
	close(fd);
}

/*
 * Before the first KVM_RUN the HPT is empty: records of invalid entries
 * only, each read a header alone, visiting at most 8192 entries past its
 * first (a read's bounded work).
 */
KVM_ONE_VCPU_TEST(htab_fd, empty_hpt, guest_code)
{
	uint64_t npte = hpt_npte(HPT_ORDER_DEFAULT);
	struct htab_stats st = {};
	int fd = vm_htab_fd(vcpu->vm, 0, 0);

	htab_read_until_empty(fd, READ_BUFSIZE, NULL, &st);
	TEST_ASSERT(st.valid == 0 && st.invalid == npte && st.bytes == st.reads * 8 &&
		    st.records == st.reads && st.reads == (npte + 8192) / 8193,
		    "empty HPT of %lu entries read as %lu valid, %lu invalid in %lu reads of %lu bytes",
		    npte, st.valid, st.invalid, st.reads, st.bytes);
	close(fd);
}

/* The first pass shows the guest's entries and the VRMA's, nothing else. */
KVM_ONE_VCPU_TEST(htab_fd, first_pass, guest_code)
{
	struct htab_stats st = {};
	struct htab_mirror m;
	int fd = stage1_then_first_pass(vcpu, 0, &m, &st);

	check_mirror(vcpu->vm, &m, guest_hptes, after_stage1, false);
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

	check_mirror(vcpu->vm, &m, guest_hptes, after_stage1, true);
	TEST_ASSERT_EQ(st.valid, 2 + vrma_entries_expected(vcpu->vm));
	close(fd);
	htab_mirror_free(&m);
}

/* From start_index on; what lies before comes back only if it changes. */
KVM_ONE_VCPU_TEST(htab_fd, start_index, guest_code)
{
	struct htab_mirror m;
	uint64_t start, i;
	int fd;

	run_to_stage(vcpu, 1);
	start = guest_ptex[3];
	htab_mirror_init(&m, hpt_npte(HPT_ORDER_DEFAULT));
	fd = vm_htab_fd(vcpu->vm, 0, start);
	htab_read_until_empty(fd, READ_BUFSIZE, &m, NULL);
	for (i = start; i < m.npte; i++)
		TEST_ASSERT(m.touched[i], "HPTE %lu after start_index %lu not returned",
			    i, start);
	for (i = 0; i < start; i++)
		TEST_ASSERT(!m.touched[i] || guest_hpte_at(i) < 0,
			    "unchanged guest entry at %lu, before start_index, returned", i);
	close(fd);
	htab_mirror_free(&m);
}

/* Userspace gets the guest's view: none of the kernel's own bits. */
KVM_ONE_VCPU_TEST(htab_fd, no_kernel_bits, guest_code)
{
	struct htab_mirror m;
	int fd = stage1_then_first_pass(vcpu, 0, &m, NULL);
	uint64_t i;

	for (i = 0; i < m.npte; i++) {
		TEST_ASSERT(!(m.hpte[i].v & HPTE_V_KERNEL_BITS),
			    "HPTE %lu: V 0x%lx has kernel bits 0x%llx", i, m.hpte[i].v,
			    m.hpte[i].v & HPTE_V_KERNEL_BITS);
		TEST_ASSERT(!(m.hpte[i].r & HPTE_R_KERNEL_BITS),
			    "HPTE %lu: R 0x%lx has kernel bits", i, m.hpte[i].r);
	}
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
	struct htab_mirror m;
	int fd = stage1_then_first_pass(vcpu, 0, &m, NULL);
	uint64_t *vrma_v = vrma_snapshot(&m);

	run_to_stage(vcpu, 2);
	read_stage2_changes(vcpu, fd, &m, vrma_v);

	free(vrma_v);
	close(fd);
	htab_mirror_free(&m);
}

/* Two readers: what one returns stays pending for the other. */
KVM_ONE_VCPU_TEST(htab_fd, readers_are_independent, guest_code)
{
	struct htab_mirror m, other;
	int fd = stage1_then_first_pass(vcpu, 0, &m, NULL);
	int other_fd = vm_htab_fd(vcpu->vm, 0, 0);
	uint64_t *vrma_v = vrma_snapshot(&m);

	htab_mirror_init(&other, m.npte);
	htab_read_until_empty(other_fd, READ_BUFSIZE, &other, NULL);

	/* The other reader takes the changes first, and each still reaches the first. */
	run_to_stage(vcpu, 2);
	read_stage2_changes(vcpu, other_fd, &other, vrma_v);
	read_stage2_changes(vcpu, fd, &m, vrma_v);

	free(vrma_v);
	close(other_fd);
	close(fd);
	htab_mirror_free(&other);
	htab_mirror_free(&m);
}

/*
 * A read returns 0 only when nothing changed anywhere, not merely between
 * where the last read stopped and the end of the table: QEMU's last pass
 * stops at the first 0.
 */
KVM_ONE_VCPU_TEST(htab_fd, zero_means_nothing_changed_anywhere, guest_code)
{
	uint64_t last, behind;
	struct htab_mirror m;
	char buf[40];
	int fd = stage1_then_first_pass(vcpu, 0, &m, NULL);
	ssize_t n;

	run_to_stage(vcpu, 2);
	last = max(guest_ptex[IDX_REMOVED], max(guest_ptex[IDX_PROTECTED], guest_ptex[IDX_ADDED]));

	/* One record per read, until the last change in the table is back. */
	htab_mirror_clear_touched(&m);
	while (!m.touched[last]) {
		n = read(fd, buf, sizeof(buf));
		TEST_ASSERT(n > 0, "read %zd before HPTE %lu came back", n, last);
		htab_mirror_apply(&m, buf, n, NULL);
	}

	/* Now a change behind that point. */
	run_to_stage(vcpu, 3);
	behind = guest_ptex[IDX_BEHIND];
	TEST_ASSERT(behind < last, "HPTE %lu is not behind %lu", behind, last);
	htab_mirror_clear_touched(&m);
	htab_read_until_empty(fd, READ_BUFSIZE, &m, NULL);
	TEST_ASSERT(m.touched[behind] &&
		    guest_view_v(m.hpte[behind].v) == guest_hptes[IDX_BEHIND].v,
		    "the change at HPTE %lu was lost: a read returned 0 first", behind);
	close(fd);
	htab_mirror_free(&m);
}

/* A read into a bad buffer fails with EFAULT, and loses nothing. */
KVM_ONE_VCPU_TEST(htab_fd, efault_loses_nothing, guest_code)
{
	void *bad = (void *)(uintptr_t)getpagesize();	/* never mapped */
	struct htab_mirror m;
	int fd = stage1_then_first_pass(vcpu, 0, &m, NULL);
	uint64_t *vrma_v = vrma_snapshot(&m);

	run_to_stage(vcpu, 2);
	TEST_ASSERT(read(fd, bad, READ_BUFSIZE) == -1 && errno == EFAULT,
		    "read into an unmapped buffer: expected EFAULT");
	read_stage2_changes(vcpu, fd, &m, vrma_v);

	free(vrma_v);
	close(fd);
	htab_mirror_free(&m);
}

/* A read needs room for one record with one entry, and never splits one. */
KVM_ONE_VCPU_TEST(htab_fd, smallest_read, guest_code)
{
	char buf[24];
	struct htab_stats st = {};
	struct htab_mirror m;
	ssize_t n;
	int fd;

	run_to_stage(vcpu, 1);
	fd = vm_htab_fd(vcpu->vm, 0, 0);
	TEST_ASSERT(read(fd, buf, 23) == -1 && errno == EINVAL,
		    "23-byte read: expected EINVAL");
	TEST_ASSERT(read(fd, buf, 8) == -1 && errno == EINVAL,
		    "8-byte read: expected EINVAL");

	htab_mirror_init(&m, hpt_npte(HPT_ORDER_DEFAULT));
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		TEST_ASSERT(n == 8 || n == 24, "a 24-byte read returned %zd", n);
		htab_mirror_apply(&m, buf, n, &st);
		st.reads++;
	}
	TEST_ASSERT_EQ(n, 0);
	TEST_ASSERT_EQ(st.records, st.reads);
	check_mirror(vcpu->vm, &m, guest_hptes, after_stage1, false);
	close(fd);
	htab_mirror_free(&m);
}

/* A wiped or replaced HPT is not what the stream describes any more. */
KVM_ONE_VCPU_TEST(htab_fd, stale_after_reallocation, guest_code)
{
	uint32_t order = HPT_ORDER_DEFAULT;
	struct htab_stats st = {};
	char buf[READ_BUFSIZE];
	struct htab_mirror m;
	int fd = stage1_then_first_pass(vcpu, 0, &m, NULL);

	vm_ioctl(vcpu->vm, KVM_PPC_ALLOCATE_HTAB, &order);
	TEST_ASSERT(read(fd, buf, sizeof(buf)) == -1 && errno == ESTALE,
		    "read after the HPT was wiped: expected ESTALE");
	TEST_ASSERT(read(fd, buf, sizeof(buf)) == -1 && errno == ESTALE,
		    "second read after the HPT was wiped: expected ESTALE");
	close(fd);

	fd = vm_htab_fd(vcpu->vm, 0, 0);
	htab_read_until_empty(fd, READ_BUFSIZE, NULL, &st);
	TEST_ASSERT(st.valid == 0 && st.invalid == m.npte,
		    "wiped HPT read as %lu valid, %lu invalid", st.valid, st.invalid);
	close(fd);
	htab_mirror_free(&m);
}

/* A VM without an HPT: radix on a radix host, none yet on a hash host. */
TEST(no_hpt)
{
	struct kvm_vm *vm = vm_create_barebones();
	bool radix = kvm_check_cap(KVM_CAP_PPC_MMU_RADIX) > 0;
	int fd = __vm_htab_fd(vm, 0, 0);

	ASSERT_EQ(fd, -1);
	ASSERT_EQ(errno, radix ? EINVAL : ENODEV);
	kvm_vm_free(vm);
}

/* ---- Every path that changes an HPTE makes a reader return it ---- */

/* Entries in PTEGs 400.., entered with R and C set in the guest view. */
#define NR_PATH_HPTES	5
#define PATH_R(k)	(GUEST_R(16 + (k), 2) | HPTE_R_R | HPTE_R_C)

static uint64_t path_ptex[NR_PATH_HPTES];

static uint64_t path_v(int k)
{
	return GUEST_V(0x2000 + k, 0);
}

/*
 * Stage 1: enter five entries.  Stage 2: H_BULK_REMOVE [0] and [1].
 * Stage 3: H_CLEAR_REF [2], H_CLEAR_MOD [3].
 */
static void guest_paths(void)
{
	unsigned long ptex;
	int k;

	for (k = 0; k < NR_PATH_HPTES; k++) {
		GUEST_ASSERT_EQ(h_enter(0, (400 + k) * 8, path_v(k), PATH_R(k), &ptex),
				H_SUCCESS);
		path_ptex[k] = ptex;
	}
	GUEST_SYNC(1);
	GUEST_ASSERT_EQ(h_bulk_remove2(path_ptex[0], path_ptex[1]), H_SUCCESS);
	GUEST_SYNC(2);
	GUEST_ASSERT_EQ(hcall2(H_CLEAR_REF, 0, path_ptex[2]), H_SUCCESS);
	GUEST_ASSERT_EQ(hcall2(H_CLEAR_MOD, 0, path_ptex[3]), H_SUCCESS);
	GUEST_SYNC(3);
	GUEST_DONE();
}

/*
 * Read @fd until 0: of the guest's path entries exactly those in @changed
 * must come back, as @v and @r say (v 0: invalid); VRMA entries may.
 */
static void check_path_changes(int fd, struct htab_mirror *m, uint64_t changed,
			       const uint64_t *v, const uint64_t *r)
{
	uint64_t i;
	int k;

	htab_mirror_clear_touched(m);
	htab_read_until_empty(fd, READ_BUFSIZE, m, NULL);
	for (k = 0; k < NR_PATH_HPTES; k++) {
		struct hpte *e = &m->hpte[path_ptex[k]];

		TEST_ASSERT(m->touched[path_ptex[k]] == !!(changed & BIT(k)),
			    "path entry %d at %lu: %s", k, path_ptex[k],
			    changed & BIT(k) ? "change not returned" : "returned unchanged");
		TEST_ASSERT(guest_view_v(e->v) == v[k] && e->r == r[k],
			    "path entry %d: v 0x%lx r 0x%lx, expected 0x%lx 0x%lx",
			    k, e->v, e->r, v[k], r[k]);
	}
	for (i = 0; i < m->npte; i++) {
		bool is_path = false;

		for (k = 0; k < NR_PATH_HPTES; k++)
			is_path |= path_ptex[k] == i;
		TEST_ASSERT(!m->touched[i] || is_path || hpte_is_vrma(m->hpte[i].v),
			    "HPTE %lu returned, nobody changed it", i);
	}
}

/*
 * Run guest_paths through stage 1 and take a first pass into @m through a
 * new fd, which is returned; @v and @r get the entries as entered.
 */
static int paths_stage1_then_first_pass(struct kvm_vcpu *vcpu, struct htab_mirror *m,
					uint64_t *v, uint64_t *r)
{
	int fd, k;

	vcpu_run_to_sync(vcpu, 1);
	sync_global_from_guest(vcpu->vm, path_ptex);
	htab_mirror_init(m, hpt_npte(HPT_ORDER_DEFAULT));
	fd = vm_htab_fd(vcpu->vm, 0, 0);
	htab_read_until_empty(fd, READ_BUFSIZE, m, NULL);
	for (k = 0; k < NR_PATH_HPTES; k++) {
		v[k] = path_v(k);
		r[k] = PATH_R(k);
	}
	return fd;
}

/* KVM handles these only once userspace enables them, as QEMU does. */
static void enable_hcall(struct kvm_vm *vm, unsigned long nr)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_PPC_ENABLE_HCALL,
		.args = { nr, 1 },
	};

	vm_ioctl(vm, KVM_ENABLE_CAP, &cap);
}

/* H_BULK_REMOVE, H_CLEAR_REF and H_CLEAR_MOD each make an entry pending. */
KVM_ONE_VCPU_TEST(htab_fd, hcalls_mark_changes, guest_paths)
{
	uint64_t v[NR_PATH_HPTES], r[NR_PATH_HPTES];
	struct htab_mirror m;
	int fd;

	enable_hcall(vcpu->vm, H_CLEAR_REF);
	enable_hcall(vcpu->vm, H_CLEAR_MOD);
	fd = paths_stage1_then_first_pass(vcpu, &m, v, r);

	vcpu_run_to_sync(vcpu, 2);
	memset(v, 0, 2 * sizeof(v[0]));	/* [0] and [1] are gone */
	memset(r, 0, 2 * sizeof(r[0]));
	check_path_changes(fd, &m, BIT(0) | BIT(1), v, r);

	vcpu_run_to_sync(vcpu, 3);
	r[2] &= ~HPTE_R_R;
	r[3] &= ~HPTE_R_C;
	check_path_changes(fd, &m, BIT(2) | BIT(3), v, r);
	close(fd);
	htab_mirror_free(&m);
}

/* Whether the host has paged out HPTE @index of @vm: KVM's debugfs dump says. */
static bool host_absent(struct kvm_vm *vm, uint64_t index)
{
	unsigned long long i, v, hr, gr;
	char path[64], line[128];
	bool absent = false;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/htab", getpid(), vm->fd);
	f = fopen(path, "r");
	TEST_ASSERT(f, "%s: %s (debugfs mounted?)", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %llx %llx %llx", &i, &v, &hr, &gr) == 4 && i == index)
			absent = v & HPTE_V_ABSENT;
	fclose(f);
	return absent;
}

/*
 * The host taking a guest page away (an MMU notifier invalidation; here a
 * change of protection, which KVM handles as an unmap) is no change to the
 * guest: its entries go host-absent, still valid to the guest with the same
 * R, and a reader does not send them again.
 */
KVM_ONE_VCPU_TEST(htab_fd, host_invalidation_is_no_change, guest_paths)
{
	uint64_t v[NR_PATH_HPTES], r[NR_PATH_HPTES], page = getpagesize();
	struct htab_mirror m;
	uint8_t *hva;
	int fd, k;

	/* The pages must be present when entered, to be invalidated later. */
	hva = addr_gpa2hva(vcpu->vm, PATH_R(0) & ~(page - 1));
	TEST_ASSERT(((PATH_R(NR_PATH_HPTES - 1) ^ PATH_R(0)) & ~(page - 1)) == 0,
		    "the path entries do not share one host page");
	memset(hva, 0x5a, page);
	fd = paths_stage1_then_first_pass(vcpu, &m, v, r);
	for (k = 0; k < NR_PATH_HPTES; k++)
		TEST_ASSERT(!host_absent(vcpu->vm, path_ptex[k]),
			    "path entry %d host-absent before the invalidation", k);

	TEST_ASSERT(!mprotect(hva, page, PROT_READ), "mprotect: %s", strerror(errno));
	TEST_ASSERT(!mprotect(hva, page, PROT_READ | PROT_WRITE), "mprotect: %s", strerror(errno));
	/* All five map into that host page: host-absent now, the same to the guest. */
	for (k = 0; k < NR_PATH_HPTES; k++)
		TEST_ASSERT(host_absent(vcpu->vm, path_ptex[k]),
			    "path entry %d not invalidated by the host", k);
	check_path_changes(fd, &m, 0, v, r);
	close(fd);
	htab_mirror_free(&m);
}

/* What a write fd writes, a read fd returns. */
KVM_ONE_VCPU_TEST(htab_fd, writes_mark_changes, guest_code)
{
	struct {
		struct kvm_get_htab_header hdr;
		__be64 hpte[2];
	} rec = {
		.hdr = { .n_valid = 1 },
		.hpte = { htobe64(GUEST_V(0x3333, 0)), htobe64(GUEST_R(3, 1)) },
	};
	struct htab_mirror m;
	int fd = stage1_then_first_pass(vcpu, 0, &m, NULL);
	int wfd = vm_htab_fd(vcpu->vm, KVM_GET_HTAB_WRITE, 0);

	/* An empty slot from PTEG 50 on. */
	for (rec.hdr.index = 50 * 8; m.hpte[rec.hdr.index].v; rec.hdr.index++)
		;

	TEST_ASSERT_EQ(write(wfd, &rec, sizeof(rec)), sizeof(rec));
	htab_mirror_clear_touched(&m);
	htab_read_until_empty(fd, READ_BUFSIZE, &m, NULL);
	TEST_ASSERT(m.touched[rec.hdr.index] &&
		    guest_view_v(m.hpte[rec.hdr.index].v) == GUEST_V(0x3333, 0) &&
		    m.hpte[rec.hdr.index].r == GUEST_R(3, 1),
		    "the written entry did not come back: v 0x%lx r 0x%lx",
		    m.hpte[rec.hdr.index].v, m.hpte[rec.hdr.index].r);
	close(wfd);
	close(fd);
	htab_mirror_free(&m);
}

/* ---- A guest that keeps changing its HPT while the host reads ---- */

#define CHURN_SECONDS		2

/*
 * While the guest churns, one fd streams the HPT the way QEMU's migration
 * does (2048-byte reads, a few per pass) and short-lived fds take 8-entry
 * debug reads the way QEMU's monitor does.  Once the guest stops, a final
 * pass must bring the stream to exactly the guest's table, and to what a
 * fresh reader sees.
 */
KVM_ONE_VCPU_TEST(htab_fd, churn_while_reading, guest_hpte_churn)
{
	struct htab_mirror m, fresh;
	struct background_vcpu bg;
	uint64_t passes = 0, i;
	char buf[2048];
	double end;
	int fd, other;

	htab_mirror_init(&m, hpt_npte(HPT_ORDER_DEFAULT));
	htab_mirror_init(&fresh, m.npte);
	fd = vm_htab_fd(vcpu->vm, 0, 0);

	background_vcpu_start(&bg, vcpu, HPTE_CHURN_STOPPED);
	end = monotonic_seconds() + CHURN_SECONDS;
	while (monotonic_seconds() < end || !hpte_churn_changes(vcpu->vm)) {
		uint64_t pteg = HPTE_CHURN_FIRST_PTEG + passes % HPTE_CHURN_SLOTS;
		ssize_t n = 0;
		int r, dbg;

		for (r = 0; r < 4 && (n = read(fd, buf, sizeof(buf))) > 0; r++)
			htab_mirror_apply(&m, buf, n, NULL);
		TEST_ASSERT(n >= 0, "read during churn: %s", strerror(errno));

		dbg = vm_htab_fd(vcpu->vm, 0, pteg * 8);
		TEST_ASSERT(read(dbg, buf, 8 + 8 * 16) > 0, "debug read: %s", strerror(errno));
		close(dbg);
		passes++;
	}

	hpte_churn_stop(vcpu->vm);
	background_vcpu_join(&bg);
	htab_read_until_empty(fd, sizeof(buf), &m, NULL);
	pr_info("guest made %lu changes during %lu passes\n",
		hpte_churn_changes(vcpu->vm), passes);
	hpte_churn_check(vcpu->vm, &m, HPTE_V_KERNEL_BITS);

	/* A fresh reader's first pass; then the first fd has nothing left. */
	other = vm_htab_fd(vcpu->vm, 0, 0);
	htab_read_until_empty(other, READ_BUFSIZE, &fresh, NULL);
	close(other);
	htab_read_until_empty(fd, sizeof(buf), &m, NULL);
	for (i = 0; i < m.npte; i++)
		TEST_ASSERT(m.hpte[i].v == fresh.hpte[i].v && m.hpte[i].r == fresh.hpte[i].r,
			    "HPTE %lu: stream 0x%lx 0x%lx, fresh reader 0x%lx 0x%lx", i,
			    m.hpte[i].v, m.hpte[i].r, fresh.hpte[i].v, fresh.hpte[i].r);

	close(fd);
	htab_mirror_free(&fresh);
	htab_mirror_free(&m);
}

int main(int argc, char *argv[])
{
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_PPC_HTAB_FD));
	return test_harness_run(argc, argv);
}
