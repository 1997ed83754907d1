/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace side of KVM_PPC_GET_HTAB_FD for selftests: open the fd, and
 * replay the record stream it yields into a mirror of the HPT.
 *
 * Stream, as documented in Documentation/virt/kvm/api.rst:
 *
 *   +-------+---------+-----------+------------------------+---
 *   | index | n_valid | n_invalid | n_valid x (be64 V, R)  | next record ...
 *   +-------+---------+-----------+------------------------+---
 *     u32     u16       u16          16 bytes each
 */
#ifndef SELFTEST_KVM_HTAB_H
#define SELFTEST_KVM_HTAB_H

#include <linux/bits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"

#define HPTE_SIZE		16
#define HPTE_V_VALID		0x1ULL
#define HPTE_V_SECONDARY	0x2ULL
#define HPTE_V_LARGE		0x4ULL
#define HPTE_V_BOLTED		0x10ULL
/* Kernel-private software bits of V: the HPTE lock and "host page absent". */
#define HPTE_V_HVLOCK		0x40ULL
#define HPTE_V_ABSENT		0x20ULL
#define HPTE_V_1TB_SEG		BIT_ULL(62)
#define HPTE_V_AVPN_SHIFT	7

#define HPTE_R_PP0		BIT_ULL(63)
#define HPTE_R_R		0x100ULL
#define HPTE_R_C		0x80ULL
#define HPTE_R_M		0x10ULL
#define HPTE_R_N		0x4ULL
#define HPTE_R_PP		0x3ULL

/* The VRMA's bolted entries: 1T segment, VSID 0x1ffffff. */
#define VRMA_VSID		0x1ffffffULL
#define HPTE_V_VSID_1T_SHIFT	24

struct hpte {
	uint64_t v;
	uint64_t r;
};

/* The HPT as rebuilt from a stream; @touched marks indexes records covered. */
struct htab_mirror {
	uint64_t npte;
	struct hpte *hpte;	/* v == 0: invalid */
	bool *touched;
};

struct htab_stats {
	uint64_t reads;
	uint64_t records;
	uint64_t valid;
	uint64_t invalid;
	uint64_t bytes;
};

int __vm_htab_fd(struct kvm_vm *vm, uint64_t flags, uint64_t start_index);
int vm_htab_fd(struct kvm_vm *vm, uint64_t flags, uint64_t start_index);

static inline uint64_t hpt_npte(unsigned int order)
{
	return 1ULL << (order - 4);
}

static inline bool hpte_is_vrma(uint64_t v)
{
	return (v & HPTE_V_1TB_SEG) && (v & HPTE_V_BOLTED) &&
	       ((v >> HPTE_V_VSID_1T_SHIFT) & VRMA_VSID) == VRMA_VSID;
}

void htab_mirror_init(struct htab_mirror *m, uint64_t npte);
void htab_mirror_free(struct htab_mirror *m);
void htab_mirror_clear_touched(struct htab_mirror *m);

/*
 * Apply @len bytes of whole records to @m (or only count them, if @m is
 * NULL); asserts the stream is well formed.
 */
void htab_mirror_apply(struct htab_mirror *m, const void *buf, size_t len,
		       struct htab_stats *stats);

void htab_stats_add(struct htab_stats *total, const struct htab_stats *st);

/*
 * CLOCK_MONOTONIC in seconds, to time passes over the HPT.  By system call:
 * on emulated POWER hosts whose CPUs' timebases drift apart, the vDSO's
 * clock has been seen to step by 2^40 ns once KVM guests run.
 */
static inline double monotonic_seconds(void)
{
	struct timespec ts;

	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * read() @fd with a @bufsize buffer, applying what comes back, until a read
 * returns 0.  Returns the number of reads that returned data.
 */
uint64_t htab_read_until_empty(int fd, size_t bufsize, struct htab_mirror *m,
			       struct htab_stats *stats);

/* ---- HPT resizes, which KVM holds off while the HPT is streamed ---- */

/* KVM_PPC_RESIZE_HPT_PREPARE or _COMMIT of @order: the ioctl's return. */
#define vm_resize_hpt_ioctl(vm, cmd, order) ({				\
	struct kvm_ppc_resize_hpt __rhpt = { .shift = (order) };	\
	__vm_ioctl(vm, cmd, &__rhpt);					\
})

/*
 * Ask KVM_PPC_RESIZE_HPT_PREPARE(@order) up to @tries times, 10 ms apart,
 * until it answers 0 or an error: its last answer.  Preparing a small HPT
 * takes milliseconds; a prepare held off never ends.
 */
int vm_resize_hpt_prepare_polled(struct kvm_vm *vm, uint32_t order, int tries);

/*
 * While the HPT is streamed, a prepare of a new size is told to retry for
 * as long as the stream lasts (half a second of asking, here), and a
 * commit is refused with EBUSY.  @why names the case in a failure.
 */
void assert_resize_prepare_held(struct kvm_vm *vm, uint32_t order, const char *why);
void assert_resize_commit_refused(struct kvm_vm *vm, uint32_t order, const char *why);

#endif /* SELFTEST_KVM_HTAB_H */
