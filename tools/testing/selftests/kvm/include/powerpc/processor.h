/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * powerpc (Book3S HV) processor support for KVM selftests.
 *
 * Guests run in real mode (MSR[IR,DR] = 0) on a hashed page table (HPT)
 * VM: the guest's effective address is its real address, and the VRMA that
 * KVM builds on the first KVM_RUN maps guest real addresses 1:1 onto guest
 * physical ones, so the library's gva == gpa.  Exceptions land on small
 * stubs in guest page 0 that report the vector to the host.
 */
#ifndef SELFTEST_KVM_PROCESSOR_H
#define SELFTEST_KVM_PROCESSOR_H

#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/types.h>

#include "hcall.h"

#define MSR_SF		BIT_ULL(63)
#define MSR_VEC		BIT_ULL(25)
#define MSR_VSX		BIT_ULL(23)
#define MSR_FP		BIT_ULL(13)
#define MSR_ME		BIT_ULL(12)
#define MSR_LE		BIT_ULL(0)

/* 64-bit, little-endian, real mode, with FP and vector units usable. */
#define GUEST_MSR	(MSR_SF | MSR_VEC | MSR_VSX | MSR_FP | MSR_ME | MSR_LE)

#define LPCR_ILE	BIT_ULL(25)

/* Every HV KVM guest needs an HPT of at least 2^18 bytes. */
#define HPT_ORDER_DEFAULT	18

/* Guest page 0 holds the exception stubs: never handed out as a gva. */
#define GUEST_VECTORS_END	0x2000

#ifndef __ASSEMBLY__
#include <pthread.h>
#include <stdint.h>

struct kvm_vcpu;

/* Run @vcpu until the guest's GUEST_SYNC(@stage); fails on anything else. */
void vcpu_run_to_sync(struct kvm_vcpu *vcpu, uint64_t stage);

/*
 * Run @vcpu to the guest's GUEST_SYNC(@stage) in a thread of its own, so the
 * host can act while the guest runs; background_vcpu_join() waits for it.
 */
struct background_vcpu {
	pthread_t thread;
	struct kvm_vcpu *vcpu;
	uint64_t stage;
};

void background_vcpu_start(struct background_vcpu *vt, struct kvm_vcpu *vcpu, uint64_t stage);
void background_vcpu_join(struct background_vcpu *vt);
#endif

#endif /* SELFTEST_KVM_PROCESSOR_H */
