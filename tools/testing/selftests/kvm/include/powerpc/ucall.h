/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef SELFTEST_KVM_UCALL_H
#define SELFTEST_KVM_UCALL_H

#include "kvm_util.h"
#include "hcall.h"

#define UCALL_EXIT_REASON	KVM_EXIT_PAPR_HCALL

static inline void ucall_arch_init(struct kvm_vm *vm, vm_paddr_t mmio_gpa)
{
}

/* The ucall's address travels in r4 of an hcall KVM hands to userspace. */
static inline void ucall_arch_do_ucall(vm_vaddr_t uc)
{
	hcall2(KVM_SELFTEST_HCALL_UCALL, uc, 0);
}

#endif /* SELFTEST_KVM_UCALL_H */
