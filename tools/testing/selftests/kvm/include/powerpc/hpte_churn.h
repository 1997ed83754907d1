/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A guest that keeps changing its HPT: it enters, removes and re-protects
 * HPTEs in PTEGs HPTE_CHURN_FIRST_PTEG.. until the host tells it to stop,
 * keeping its own record of what it left where.
 */
#ifndef SELFTEST_KVM_HPTE_CHURN_H
#define SELFTEST_KVM_HPTE_CHURN_H

#include <stdint.h>

#include "htab.h"
#include "kvm_util.h"

#define HPTE_CHURN_SLOTS	256
#define HPTE_CHURN_FIRST_PTEG	100
/* The guest's GUEST_SYNC() stage once it has stopped. */
#define HPTE_CHURN_STOPPED	9

struct hpte_churn_slot {
	uint64_t ptex;
	uint64_t v;
	uint64_t r;
	uint64_t present;
};

extern struct hpte_churn_slot hpte_churn[HPTE_CHURN_SLOTS];

/* Guest code: churn until told to stop, then GUEST_SYNC(HPTE_CHURN_STOPPED). */
void guest_hpte_churn(void);

/* Host: how many changes the guest has made so far. */
uint64_t hpte_churn_changes(struct kvm_vm *vm);
/* Host: tell the guest to stop; it then reaches HPTE_CHURN_STOPPED. */
void hpte_churn_stop(struct kvm_vm *vm);
/*
 * Host, once the guest stopped: @m must hold exactly the guest's entries
 * (comparing V without @v_ignore) besides the VRMA's.  Returns the number of
 * guest entries.
 */
uint64_t hpte_churn_check(struct kvm_vm *vm, struct htab_mirror *m, uint64_t v_ignore);

#endif /* SELFTEST_KVM_HPTE_CHURN_H */
