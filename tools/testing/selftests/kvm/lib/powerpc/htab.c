// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading the HPT through KVM_PPC_GET_HTAB_FD: open the fd, replay records;
 * and the HPT resizes that KVM holds off while the HPT is streamed.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "htab.h"

int __vm_htab_fd(struct kvm_vm *vm, uint64_t flags, uint64_t start_index)
{
	struct kvm_get_htab_fd ghf = {
		.flags = flags,
		.start_index = start_index,
	};

	return __vm_ioctl(vm, KVM_PPC_GET_HTAB_FD, &ghf);
}

int vm_htab_fd(struct kvm_vm *vm, uint64_t flags, uint64_t start_index)
{
	int fd = __vm_htab_fd(vm, flags, start_index);

	TEST_ASSERT(fd >= 0, "KVM_PPC_GET_HTAB_FD(flags 0x%lx, start %lu) failed: %s",
		    flags, start_index, strerror(errno));
	return fd;
}

void htab_mirror_init(struct htab_mirror *m, uint64_t npte)
{
	m->npte = npte;
	m->hpte = calloc(npte, sizeof(*m->hpte));
	m->touched = calloc(npte, sizeof(*m->touched));
	TEST_ASSERT(m->hpte && m->touched, "out of memory for %lu HPTEs", npte);
}

void htab_mirror_free(struct htab_mirror *m)
{
	free(m->hpte);
	free(m->touched);
}

void htab_mirror_clear_touched(struct htab_mirror *m)
{
	memset(m->touched, 0, m->npte * sizeof(*m->touched));
}

void htab_mirror_apply(struct htab_mirror *m, const void *buf, size_t len,
		       struct htab_stats *stats)
{
	const uint8_t *p = buf, *end = p + len;

	while (p < end) {
		struct kvm_get_htab_header hdr;
		const __be64 *hpte;
		uint64_t i;

		TEST_ASSERT(end - p >= (ssize_t)sizeof(hdr),
			    "record header cut short: %zd bytes left", end - p);
		memcpy(&hdr, p, sizeof(hdr));
		p += sizeof(hdr);
		TEST_ASSERT(end - p >= (ssize_t)hdr.n_valid * HPTE_SIZE,
			    "record at %u: %u entries but %zd bytes left",
			    hdr.index, hdr.n_valid, end - p);
		hpte = (const __be64 *)p;
		p += hdr.n_valid * HPTE_SIZE;
		if (stats) {
			stats->records++;
			stats->valid += hdr.n_valid;
			stats->invalid += hdr.n_invalid;
		}
		if (!m)
			continue;

		TEST_ASSERT((uint64_t)hdr.index + hdr.n_valid + hdr.n_invalid <= m->npte,
			    "record {%u, %u, %u} runs past the %lu-entry HPT",
			    hdr.index, hdr.n_valid, hdr.n_invalid, m->npte);
		for (i = hdr.index; i < hdr.index + hdr.n_valid; i++, hpte += 2) {
			m->hpte[i].v = be64toh(hpte[0]);
			m->hpte[i].r = be64toh(hpte[1]);
			TEST_ASSERT(m->hpte[i].v & HPTE_V_VALID,
				    "entry %lu sent as valid without V_VALID: v 0x%lx",
				    i, m->hpte[i].v);
			m->touched[i] = true;
		}
		for (; i < hdr.index + hdr.n_valid + hdr.n_invalid; i++) {
			m->hpte[i].v = 0;
			m->hpte[i].r = 0;
			m->touched[i] = true;
		}
	}
	if (stats)
		stats->bytes += len;
}

void htab_stats_add(struct htab_stats *total, const struct htab_stats *st)
{
	total->reads += st->reads;
	total->records += st->records;
	total->valid += st->valid;
	total->invalid += st->invalid;
	total->bytes += st->bytes;
}

uint64_t htab_read_until_empty(int fd, size_t bufsize, struct htab_mirror *m,
			       struct htab_stats *stats)
{
	void *buf = malloc(bufsize);
	uint64_t nr_reads = 0;
	ssize_t n;

	TEST_ASSERT(buf, "out of memory");
	while ((n = read(fd, buf, bufsize)) > 0) {
		TEST_ASSERT((size_t)n <= bufsize, "read returned %zd > %zu", n, bufsize);
		htab_mirror_apply(m, buf, n, stats);
		nr_reads++;
		if (stats)
			stats->reads++;
	}
	TEST_ASSERT(n == 0, "read from HTAB fd failed: %s", strerror(errno));
	free(buf);
	return nr_reads;
}

#define RESIZE_POLL_US		10000
#define RESIZE_HELD_TRIES	50

int vm_resize_hpt_prepare_polled(struct kvm_vm *vm, uint32_t order, int tries)
{
	int ret = 0;

	while (tries-- > 0) {
		ret = vm_resize_hpt_ioctl(vm, KVM_PPC_RESIZE_HPT_PREPARE, order);
		if (ret <= 0)
			break;
		usleep(RESIZE_POLL_US);
	}
	return ret;
}

void assert_resize_prepare_held(struct kvm_vm *vm, uint32_t order, const char *why)
{
	int ret = vm_resize_hpt_prepare_polled(vm, order, RESIZE_HELD_TRIES);

	TEST_ASSERT(ret > 0, "prepare(%u) %s: expected a positive retry delay, got %d (%s)",
		    order, why, ret, ret < 0 ? strerror(errno) : "prepared");
}

void assert_resize_commit_refused(struct kvm_vm *vm, uint32_t order, const char *why)
{
	int ret = vm_resize_hpt_ioctl(vm, KVM_PPC_RESIZE_HPT_COMMIT, order);

	TEST_ASSERT(ret == -1 && errno == EBUSY, "commit(%u) %s: expected EBUSY, got %d (%s)",
		    order, why, ret, ret < 0 ? strerror(errno) : "committed");
}
