// SPDX-License-Identifier: GPL-2.0-only
/*
 * ucall support for powerpc: the guest passes the ucall to an
 * hcall number KVM does not handle, so KVM_RUN exits with
 * KVM_EXIT_PAPR_HCALL.
 */
#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

void *ucall_arch_get_ucall(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	if (run->exit_reason != KVM_EXIT_PAPR_HCALL ||
	    run->papr_hcall.nr != KVM_SELFTEST_HCALL_UCALL)
		return NULL;

	/* What the guest finds in r3 when KVM_RUN completes the hcall. */
	run->papr_hcall.ret = H_SUCCESS;
	/* The generic code passes the ucall's host address. */
	return (void *)run->papr_hcall.args[0];
}
