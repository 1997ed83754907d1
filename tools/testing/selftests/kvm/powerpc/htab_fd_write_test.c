// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_PPC_GET_HTAB_FD, writing: restoring a saved HPT stream into another
 * VM, and what a write fd refuses.
 *
 * The source guest enters NR_ENTRIES HPTEs over the table; the host saves
 * the stream, writes it into a fresh VM (a record per write(), or all of it
 * in one), reads that VM's HPT back and finally runs its guest, which
 * checks with H_READ that it finds its entries, running in real mode
 * through the restored VRMA.
 */
#include <errno.h>
#include <endian.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "htab.h"
#include "kvm_test_harness.h"
#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#define READ_BUFSIZE	2048
#define NR_ENTRIES	48
#define H_R_XLATE	(1UL << (63 - 25))

/* Entry k: PTEG 37 * k + 5, every third one bolted, 4K pages of RAM. */
static uint64_t entry_v(int k)
{
	return HPTE_V_1TB_SEG | (0x3000ULL + k) << HPTE_V_AVPN_SHIFT |
	       (k % 3 ? 0 : HPTE_V_BOLTED) | HPTE_V_VALID;
}

static uint64_t entry_r(int k)
{
	return (0x200000ULL + k * 0x1000) | HPTE_R_M | 2;
}

static uint64_t entry_ptex[NR_ENTRIES];

static void guest_enter_entries(void)
{
	unsigned long ptex;
	int k;

	for (k = 0; k < NR_ENTRIES; k++) {
		GUEST_ASSERT_EQ(h_enter(0, (37 * k + 5) % 2048 * 8, entry_v(k), entry_r(k),
					&ptex), H_SUCCESS);
		entry_ptex[k] = ptex;
	}
	GUEST_SYNC(1);
	GUEST_DONE();
}

/* In the restored VM: every entry is where the source guest left it. */
static void guest_check_entries(void)
{
	unsigned long hpte[2];
	int k;

	for (k = 0; k < NR_ENTRIES; k++) {
		GUEST_ASSERT_EQ(h_read(H_R_XLATE, entry_ptex[k], hpte), H_SUCCESS);
		GUEST_ASSERT_EQ(hpte[0], entry_v(k));
		GUEST_ASSERT_EQ(hpte[1], entry_r(k));
	}
	GUEST_DONE();
}

static uint64_t spin_count;
static uint64_t spin_stop;

static void guest_spin(void)
{
	while (!READ_ONCE(spin_stop))
		WRITE_ONCE(spin_count, spin_count + 1);
	GUEST_SYNC(1);
}

/* A saved stream: its bytes, and where each record starts. */
struct stream {
	uint8_t *buf;
	size_t len;
	size_t *rec;
	size_t nr_rec;
};

static void stream_save(int fd, struct stream *s)
{
	uint8_t chunk[READ_BUFSIZE];
	ssize_t n;

	memset(s, 0, sizeof(*s));
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		size_t pos = 0;

		s->buf = realloc(s->buf, s->len + n);
		TEST_ASSERT(s->buf, "out of memory");
		memcpy(s->buf + s->len, chunk, n);
		while (pos < (size_t)n) {
			struct kvm_get_htab_header hdr;

			memcpy(&hdr, chunk + pos, sizeof(hdr));
			s->rec = realloc(s->rec, (s->nr_rec + 1) * sizeof(*s->rec));
			TEST_ASSERT(s->rec, "out of memory");
			s->rec[s->nr_rec++] = s->len + pos;
			pos += sizeof(hdr) + hdr.n_valid * HPTE_SIZE;
		}
		s->len += n;
	}
	TEST_ASSERT_EQ(n, 0);
}

static void stream_free(struct stream *s)
{
	free(s->buf);
	free(s->rec);
}

/* A whole first pass of @vm's HPT, as a fresh reader sees it. */
static void read_hpt(struct kvm_vm *vm, struct htab_mirror *m)
{
	int fd = vm_htab_fd(vm, 0, 0);

	htab_mirror_init(m, hpt_npte(HPT_ORDER_DEFAULT));
	htab_read_until_empty(fd, READ_BUFSIZE, m, NULL);
	close(fd);
}

static void check_same_hpt(struct htab_mirror *a, struct htab_mirror *b)
{
	uint64_t i;

	TEST_ASSERT_EQ(a->npte, b->npte);
	for (i = 0; i < a->npte; i++)
		TEST_ASSERT(a->hpte[i].v == b->hpte[i].v && a->hpte[i].r == b->hpte[i].r,
			    "HPTE %lu: v 0x%lx r 0x%lx, expected v 0x%lx r 0x%lx", i,
			    b->hpte[i].v, b->hpte[i].r, a->hpte[i].v, a->hpte[i].r);
}

/* Source VM: guest entries made, stream saved, HPT read. */
static struct kvm_vm *make_source(struct stream *s, struct htab_mirror *m)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_enter_entries);
	int fd;

	vcpu_run_to_sync(vcpu, 1);
	sync_global_from_guest(vm, entry_ptex);
	fd = vm_htab_fd(vm, 0, 0);
	stream_save(fd, s);
	close(fd);
	read_hpt(vm, m);
	return vm;
}

/* The restored guest runs, on the restored VRMA, and finds its entries. */
static void run_restored_guest(struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	struct ucall uc;

	sync_global_to_guest(vm, entry_ptex);
	vcpu_run(vcpu);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_DONE:
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("restored guest: unexpected exit %s",
			  exit_reason_str(vcpu->run->exit_reason));
	}
}

static void restore(bool record_per_write)
{
	struct htab_mirror src_hpt, dst_hpt;
	struct kvm_vcpu *dst_vcpu;
	struct kvm_vm *src, *dst;
	struct stream s;
	size_t k;
	int fd;

	src = make_source(&s, &src_hpt);
	dst = vm_create_with_one_vcpu(&dst_vcpu, guest_check_entries);
	fd = vm_htab_fd(dst, KVM_GET_HTAB_WRITE, 0);
	if (record_per_write) {
		for (k = 0; k < s.nr_rec; k++) {
			size_t end = k + 1 < s.nr_rec ? s.rec[k + 1] : s.len;

			TEST_ASSERT_EQ(write(fd, s.buf + s.rec[k], end - s.rec[k]),
				       end - s.rec[k]);
		}
	} else {
		TEST_ASSERT_EQ(write(fd, s.buf, s.len), s.len);
	}
	close(fd);

	read_hpt(dst, &dst_hpt);
	check_same_hpt(&src_hpt, &dst_hpt);
	run_restored_guest(dst, dst_vcpu);

	htab_mirror_free(&dst_hpt);
	htab_mirror_free(&src_hpt);
	stream_free(&s);
	kvm_vm_free(dst);
	kvm_vm_free(src);
}

TEST(restore_one_record_per_write)
{
	restore(true);
}

TEST(restore_whole_stream_in_one_write)
{
	restore(false);
}

/* A record built by hand: header, then up to two entries. */
struct record {
	struct kvm_get_htab_header hdr;
	__be64 hpte[2 * 2];
};

/* Returns the record's length; the second entry maps the next 4K page. */
static size_t record(struct record *rec, uint32_t index, uint16_t n_valid,
		     uint16_t n_invalid, uint64_t v, uint64_t r)
{
	int k;

	rec->hdr.index = index;
	rec->hdr.n_valid = n_valid;
	rec->hdr.n_invalid = n_invalid;
	for (k = 0; k < 2; k++) {
		rec->hpte[2 * k] = htobe64(v);
		rec->hpte[2 * k + 1] = htobe64(r + k * 0x1000);
	}
	return sizeof(rec->hdr) + min_t(size_t, n_valid, 2) * HPTE_SIZE;
}

#define LARGE_16M	HPTE_V_LARGE	/* with R bits 12-19 clear: a 16M page */
#define LP_MASK		0xf000ULL	/* R bits 12-15, with HPTE_V_LARGE */
#define LP_RESERVED	0x2000ULL	/* 2: no such page size */

/*
 * Each bad write fails with EINVAL and leaves the HPT as it was.  A good
 * record followed by a bad one is applied alone, and the write says so.
 */
TEST(bad_records)
{
	uint64_t npte = hpt_npte(HPT_ORDER_DEFAULT);
	uint64_t v = entry_v(1), r = entry_r(1), ram_end;
	struct htab_mirror before, after;
	struct record rec, two[2];
	struct stream s;
	struct kvm_vm *vm;
	unsigned int i;
	size_t len;
	int fd;

	vm = make_source(&s, &before);
	ram_end = memslot2region(vm, 0)->region.memory_size;

	const struct {
		const char *what;
		uint64_t index, n_valid, n_invalid, v, r;
		size_t cut;		/* bytes short of the whole record */
	} bad[] = {
		{ "header cut short", 100, 0, 1, v, r, 1 },
		{ "entries cut short", 100, 2, 0, v, r, 1 },
		{ "second entry missing", 100, 2, 0, v, r, HPTE_SIZE },
		{ "past the end", npte - 1, 2, 0, v, r, 0 },
		{ "index at the end", npte, 0, 1, v, r, 0 },
		{ "counts overflow", UINT32_MAX, 0, UINT16_MAX, v, r, 0 },
		{ "entry not valid", 100, 1, 0, v & ~HPTE_V_VALID, r, 0 },
		{ "reserved segment size", 100, 1, 0, v | 2ULL << 62, r, 0 },
		{ "unknown page size", 100, 1, 0, v | HPTE_V_LARGE,
		  (r & ~LP_MASK) | LP_RESERVED, 0 },
		{ "16M page running past the end of RAM", 100, 1, 0, v | LARGE_16M,
		  (ram_end & ~0xffffffULL) | HPTE_R_M | 2, 0 },
	};

	fd = vm_htab_fd(vm, KVM_GET_HTAB_WRITE, 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		len = record(&rec, bad[i].index, bad[i].n_valid, bad[i].n_invalid,
			     bad[i].v, bad[i].r) - bad[i].cut;
		errno = 0;
		ASSERT_EQ(write(fd, &rec, len), -1) TH_LOG("%s: accepted", bad[i].what);
		ASSERT_EQ(errno, EINVAL) TH_LOG("%s: errno %d", bad[i].what, errno);
		read_hpt(vm, &after);
		check_same_hpt(&before, &after);
		htab_mirror_free(&after);
	}

	/* Good then bad: only the good one is applied, and the count says so. */
	len = record(&two[0], 100, 1, 3, v, r);
	record((struct record *)((uint8_t *)&two[0] + len), npte, 1, 0, v, r);
	ASSERT_EQ(write(fd, two, len + sizeof(rec.hdr) + HPTE_SIZE), len);
	read_hpt(vm, &after);
	ASSERT_EQ(after.hpte[100].v, v);
	ASSERT_EQ(after.hpte[100].r, r);
	ASSERT_EQ(after.hpte[101].v, 0);
	htab_mirror_free(&after);

	close(fd);
	htab_mirror_free(&before);
	stream_free(&s);
	kvm_vm_free(vm);
}

#define PPC_FEATURE2_ARCH_3_00	0x00800000
#define LPCR_VRMASD_SH		47
#define LPCR_VRMASD		(0x1fULL << LPCR_VRMASD_SH)
#define SLB_VSID_L		0x100ULL
#define SLB_VSID_LP_01		0x010ULL

/* The VRMA entry's base page size, as the SLB (and LPCR[VRMASD]) encode it. */
static uint64_t vrma_slb_pgsize_encoding(const struct htab_mirror *m)
{
	uint64_t i;

	for (i = 0; i < m->npte; i++) {
		uint64_t v = m->hpte[i].v, r = m->hpte[i].r;

		if (!(v & HPTE_V_VALID) || !hpte_is_vrma(v))
			continue;
		if (!(v & HPTE_V_LARGE))
			return 0;				/* 4K */
		/* R bits 12-15: 0b0001 is a 64K base page, 0 a 16M one. */
		return (r >> 12 & 0xf) == 1 ? SLB_VSID_L | SLB_VSID_LP_01 : SLB_VSID_L;
	}
	TEST_FAIL("no VRMA entry in the stream");
	return 0;
}

/*
 * A restored VRMA entry sets the VRMA up as the first KVM_RUN would: before
 * ISA v3.00, LPCR[VRMASD] says the VRMA's base page size; from v3.00 on the
 * page size lives in the partition-table entry and LPCR stays as it was.
 */
TEST(restored_vrma_lpcr)
{
	bool isa300 = getauxval(AT_HWCAP2) & PPC_FEATURE2_ARCH_3_00;
	uint64_t before, after, want;
	struct htab_mirror src_hpt;
	struct kvm_vcpu *dst_vcpu;
	struct kvm_vm *src, *dst;
	struct stream s;
	int fd;

	src = make_source(&s, &src_hpt);
	dst = vm_create_with_one_vcpu(&dst_vcpu, guest_check_entries);
	vcpu_get_reg(dst_vcpu, KVM_REG_PPC_LPCR_64, &before);
	fd = vm_htab_fd(dst, KVM_GET_HTAB_WRITE, 0);
	ASSERT_EQ(write(fd, s.buf, s.len), s.len);
	close(fd);
	vcpu_get_reg(dst_vcpu, KVM_REG_PPC_LPCR_64, &after);

	want = isa300 ? before : (before & ~LPCR_VRMASD) |
		vrma_slb_pgsize_encoding(&src_hpt) >> 4 << LPCR_VRMASD_SH;
	ASSERT_EQ(after, want) TH_LOG("ISA v3.00: %d, LPCR before 0x%lx", isa300, before);
	run_restored_guest(dst, dst_vcpu);

	htab_mirror_free(&src_hpt);
	stream_free(&s);
	kvm_vm_free(dst);
	kvm_vm_free(src);
}

#define HOST_REFUSED_GPA	0x10000000ULL	/* 256M, in a 16M memslot of its own */
#define HOST_REFUSED_SLOT	1

/*
 * An entry the host cannot back, though well formed: a 16M page on 16M of
 * guest RAM the host backs with smaller pages (it touched them all, so H_ENTER
 * finds them).  Only H_ENTER itself can tell.
 */
static struct kvm_vm *make_source_with_small_host_pages(struct stream *s, struct htab_mirror *m)
{
	struct kvm_vm *vm = make_source(s, m);
	uint64_t size = 16ULL << 20;

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, HOST_REFUSED_GPA,
				    HOST_REFUSED_SLOT, size / vm->page_size, 0);
	memset(addr_gpa2hva(vm, HOST_REFUSED_GPA), 0x5a, size);
	return vm;
}

/*
 *   slots:   index: a valid entry   index + 1: whatever is there
 *   record:  [ good 4K entry      | 16M entry the host refuses ]
 *
 * A record is all or nothing: the host's refusal of its second entry leaves
 * both slots as they were, and the write fails with EIO (not EINVAL: the
 * record is well formed).  A good record before it in the same write() is
 * applied, and the count says where the write stopped.
 */
TEST(host_refusal_applies_nothing)
{
	uint64_t v16m = HPTE_V_1TB_SEG | 0x4000ULL << HPTE_V_AVPN_SHIFT | HPTE_V_LARGE |
			HPTE_V_VALID;
	uint64_t r16m = HOST_REFUSED_GPA | HPTE_R_M | 2;
	struct htab_mirror before, after;
	struct record rec, two[2];
	uint64_t index, other;
	struct kvm_vm *vm;
	struct stream s;
	size_t len;
	int fd;

	vm = make_source_with_small_host_pages(&s, &before);
	/* A valid entry to overwrite, and another valid entry elsewhere. */
	index = entry_ptex[0];
	ASSERT_TRUE(before.hpte[index].v & HPTE_V_VALID);
	other = entry_ptex[1];
	fd = vm_htab_fd(vm, KVM_GET_HTAB_WRITE, 0);

	len = record(&rec, index, 2, 0, entry_v(40), entry_r(40));
	rec.hpte[2] = htobe64(v16m);
	rec.hpte[3] = htobe64(r16m);
	errno = 0;
	ASSERT_EQ(write(fd, &rec, len), -1);
	ASSERT_EQ(errno, EIO);
	read_hpt(vm, &after);
	check_same_hpt(&before, &after);
	htab_mirror_free(&after);

	/* Good, then refused: the good one alone, and its length returned. */
	len = record(&two[0], other, 1, 0, entry_v(41), entry_r(41));
	record((struct record *)((uint8_t *)&two[0] + len), index, 1, 0, v16m, r16m);
	ASSERT_EQ(write(fd, two, len + sizeof(rec.hdr) + HPTE_SIZE), len);
	read_hpt(vm, &after);
	ASSERT_EQ(after.hpte[other].v, entry_v(41));
	ASSERT_EQ(after.hpte[other].r, entry_r(41));
	ASSERT_EQ(after.hpte[index].v, before.hpte[index].v);
	ASSERT_EQ(after.hpte[index].r, before.hpte[index].r);
	htab_mirror_free(&after);

	close(fd);
	htab_mirror_free(&before);
	stream_free(&s);
	kvm_vm_free(vm);
}

/* While a vcpu runs, writes fail with EBUSY; once it stops they work. */
TEST(write_while_vcpu_runs)
{
	struct kvm_vcpu *vcpu;
	struct background_vcpu vt;
	struct record rec;
	struct kvm_vm *vm;
	uint64_t *count;
	size_t len;
	int fd;

	vm = vm_create_with_one_vcpu(&vcpu, guest_spin);
	count = addr_gva2hva(vm, (vm_vaddr_t)&spin_count);
	fd = vm_htab_fd(vm, KVM_GET_HTAB_WRITE, 0);
	len = record(&rec, 100, 1, 0, entry_v(1), entry_r(1));

	background_vcpu_start(&vt, vcpu, 1);
	while (!READ_ONCE(*count))
		usleep(1000);
	errno = 0;
	ASSERT_EQ(write(fd, &rec, len), -1);
	ASSERT_EQ(errno, EBUSY);

	spin_stop = 1;
	sync_global_to_guest(vm, spin_stop);
	background_vcpu_join(&vt);
	ASSERT_EQ(write(fd, &rec, len), len);

	close(fd);
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_PPC_HTAB_FD));
	return test_harness_run(argc, argv);
}
