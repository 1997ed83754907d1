// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the HPT fd's write path.  Input:
 *
 *   byte 0      bit 0: ISA v3.00 HPTE layout; bit 1: a vcpu is running;
 *               bits 2-3: how many writes the stream is cut into (1-4)
 *   bytes 1-4   where the cuts fall (each a byte, scaled to the stream)
 *   the rest    the stream, as records
 *
 * into a 256-entry HPT that already holds a few entries.  Every write must
 * apply whole records and nothing else: the records before its return
 * value applied exactly (valid entries entered, invalid ones removed), the
 * record it stopped at untouched, and the errno one the API documents.
 * The table is then read back through a read fd and must match.
 */
#include "htab_sim.h"

#define ORDER		12
#define NPTE		(1UL << (ORDER - 4))
#define RAM_BYTES	(64UL << 20)
#define HEADER_BYTES	sizeof(struct kvm_get_htab_header)

struct entry {
	bool valid;
	u64 v, r;
};

static void fail(const char *what, unsigned long i)
{
	fprintf(stderr, "fuzz_htab_write: %s (HPTE %lu)\n", what, i);
	abort();
}

/* The API's rules for an HPTE in the stream (Documentation/virt/kvm/api.rst). */
static bool acceptable(struct kvm *kvm, u64 v, u64 r)
{
	unsigned long psize = kvmppc_actual_pgsz(v, r), gpa;
	int k;

	if (!(v & HPTE_V_VALID) || (v >> HPTE_V_SSIZE_SHIFT) > 1 || !psize)
		return false;
	gpa = (r & HPTE_R_RPN) & ~(psize - 1);
	for (k = 0; k < kvm->nr_memslots; k++) {
		struct kvm_memory_slot *s = &kvm->memslots[k];
		unsigned long start = s->base_gfn << PAGE_SHIFT;
		unsigned long end = start + (s->npages << PAGE_SHIFT);

		if (gpa < start || gpa >= end)
			continue;
		return slot_is_aligned(s, psize) && gpa + psize <= end;
	}
	return true;	/* outside guest RAM: emulated MMIO */
}

/*
 * Apply the stream's whole records to @table the way the API says, up to
 * @len bytes, stopping at the first record that is cut short or invalid.
 * Returns the bytes a write of @len must consume, or -EINVAL.
 */
static ssize_t expect_write(struct kvm *kvm, struct entry *table, const u8 *buf, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		struct kvm_get_htab_header hdr;
		size_t bytes;
		unsigned long k;

		if (len - pos < HEADER_BYTES)
			break;
		memcpy(&hdr, buf + pos, HEADER_BYTES);
		bytes = HEADER_BYTES + hdr.n_valid * 16UL;
		if ((u64)hdr.index + hdr.n_valid + hdr.n_invalid > NPTE || len - pos < bytes)
			break;
		for (k = 0; k < hdr.n_valid; k++) {
			u64 v, r;

			memcpy(&v, buf + pos + HEADER_BYTES + 16 * k, 8);
			memcpy(&r, buf + pos + HEADER_BYTES + 16 * k + 8, 8);
			if (!acceptable(kvm, be64toh(v), be64toh(r)))
				break;
		}
		if (k < hdr.n_valid)
			break;
		for (k = 0; k < hdr.n_valid; k++) {
			struct entry *e = &table[hdr.index + k];
			u64 v, r;

			memcpy(&v, buf + pos + HEADER_BYTES + 16 * k, 8);
			memcpy(&r, buf + pos + HEADER_BYTES + 16 * k + 8, 8);
			v = be64toh(v) & ~(HPTE_V_HVLOCK | HPTE_V_ABSENT);
			r = be64toh(r);
			/* What an ISA v3.00 HPTE can hold of it. */
			if (shim_cpu_is_arch_300)
				v = hpte_new_to_old_v(hpte_old_to_new_v(v),
						      hpte_old_to_new_r(v, r));
			e->valid = true;
			e->v = v;
			e->r = r & ~HPTE_GR_RESERVED;
		}
		for (k = 0; k < hdr.n_invalid; k++)
			table[hdr.index + hdr.n_valid + k].valid = false;
		pos += bytes;
	}
	return pos ? (ssize_t)pos : (len ? -EINVAL : 0);
}

static void check_table(struct kvm *kvm, const struct entry *table)
{
	unsigned long i;

	for (i = 0; i < NPTE; i++) {
		u64 v = 0, r = 0;
		bool valid = sim_guest_view(kvm, i, &v, &r);

		/*
		 * The stream's R is the guest's: bit 62 of it is the kernel's
		 * own (HPTE_GR_RESERVED), and R/C are compared as the guest
		 * sees them.
		 */
		if (valid != table[i].valid ||
		    (valid && (v != table[i].v || r != table[i].r)))
			fail("table differs from the records written", i);
	}
}

/* Read the whole table back through a read fd: it must be what was written. */
static void check_read_back(struct kvm *kvm, const struct entry *table)
{
	static u8 buf[NPTE * 16 + NPTE * HEADER_BYTES];
	int fd = sim_get_htab_fd(kvm, 0, 0);
	unsigned long next = 0;
	size_t pos = 0;
	ssize_t n;

	if (fd < 0)
		fail("read fd", 0);
	n = sim_read(fd, buf, sizeof(buf));
	while (pos < (size_t)n) {
		struct kvm_get_htab_header hdr;
		unsigned long k;

		memcpy(&hdr, buf + pos, HEADER_BYTES);
		if (hdr.index != next)
			fail("read back: records not contiguous", hdr.index);
		pos += HEADER_BYTES;
		for (k = 0; k < (unsigned long)hdr.n_valid + hdr.n_invalid; k++) {
			const struct entry *e = &table[hdr.index + k];
			u64 v, r;

			if (k >= hdr.n_valid) {
				if (e->valid)
					fail("read back: written entry missing", hdr.index + k);
				continue;
			}
			memcpy(&v, buf + pos, 8);
			memcpy(&r, buf + pos + 8, 8);
			pos += 16;
			if (!e->valid || be64toh(v) != e->v || be64toh(r) != e->r)
				fail("read back: entry differs", hdr.index + k);
		}
		next = hdr.index + hdr.n_valid + hdr.n_invalid;
	}
	if (next != NPTE)
		fail("read back: short first pass", next);
	sim_close(fd);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct entry table[NPTE] = {};
	long allocs = shim_allocs_live;
	size_t cuts[5], pos, len;
	const u8 *stream;
	unsigned long i;
	struct kvm *kvm;
	int fd, k, nr_writes;
	bool running;

	if (size < 5)
		return 0;
	shim_cpu_is_arch_300 = data[0] & 1;
	running = data[0] & 2;
	nr_writes = 1 + ((data[0] >> 2) & 3);
	stream = data + 5;
	len = size - 5;

	kvm = sim_vm_create(ORDER, RAM_BYTES);
	/* A second memslot at 512M that large pages cannot map. */
	kvm->memslots[1].base_gfn = (1UL << 29) >> PAGE_SHIFT;
	kvm->memslots[1].npages = ((1UL << 24) >> PAGE_SHIFT) + 1;
	kvm->nr_memslots = 2;
	for (i = 0; i < NPTE; i += 7) {
		table[i].valid = true;
		table[i].v = (i << 7) | HPTE_V_VALID;
		table[i].r = i << 16;
		if (sim_h_enter(kvm, i, table[i].v, table[i].r) != H_SUCCESS)
			fail("setting up", i);
	}
	if (running)
		atomic_inc(&kvm->arch.vcpus_running);

	fd = sim_get_htab_fd(kvm, KVM_GET_HTAB_WRITE, 0);
	if (fd < 0)
		fail("write fd", 0);

	/* Cut points in order: each write gets [cuts[k], cuts[k + 1]). */
	cuts[0] = 0;
	for (k = 1; k < nr_writes; k++)
		cuts[k] = cuts[k - 1] + (len - cuts[k - 1]) * data[k] / 256;
	cuts[nr_writes] = len;

	for (k = 0, pos = 0; k < nr_writes; k++) {
		size_t end = max_t(size_t, cuts[k + 1], pos);
		ssize_t want, got;

		want = running ? -EBUSY : expect_write(kvm, table, stream + pos, end - pos);
		got = sim_write(fd, stream + pos, end - pos);
		if (got != want) {
			fprintf(stderr, "write %d of %zu bytes at %zu: got %zd, expected %zd\n",
				k, end - pos, pos, got, want);
			abort();
		}
		if (got > 0)
			pos += got;
		check_table(kvm, table);
	}

	if (sim_close(fd))
		fail("close", 0);
	if (running)
		atomic_dec(&kvm->arch.vcpus_running);
	check_read_back(kvm, table);
	sim_vm_destroy(kvm);

	sim_check_clean(allocs);
	return 0;
}
