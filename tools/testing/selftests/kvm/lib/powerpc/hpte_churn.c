// SPDX-License-Identifier: GPL-2.0-only
/*
 * A guest that keeps changing its HPT, and the host's view of it.
 */
#include "hpte_churn.h"
#include "processor.h"
#include "ucall_common.h"

struct hpte_churn_slot hpte_churn[HPTE_CHURN_SLOTS];
static uint64_t hpte_churn_stop_flag;
static uint64_t hpte_churn_count;

static uint64_t churn_v(int k, uint64_t seed)
{
	return HPTE_V_1TB_SEG | (0x4000 + k + (seed & 0xff00)) << HPTE_V_AVPN_SHIFT |
	       HPTE_V_VALID;
}

static uint64_t churn_r(int k)
{
	return (0x100000ULL + k * 0x1000) | HPTE_R_M | 2;
}

void guest_hpte_churn(void)
{
	uint64_t seed = 12345;

	while (!READ_ONCE(hpte_churn_stop_flag)) {
		struct hpte_churn_slot *s;
		unsigned long ptex;
		int k;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		k = (seed >> 33) % HPTE_CHURN_SLOTS;
		s = &hpte_churn[k];
		if (!s->present) {
			s->v = churn_v(k, seed);
			s->r = churn_r(k);
			GUEST_ASSERT_EQ(h_enter(0, (HPTE_CHURN_FIRST_PTEG + k) * 8, s->v, s->r,
						&ptex), H_SUCCESS);
			s->ptex = ptex;
			s->present = 1;
		} else if ((seed >> 20) % 3 == 0) {
			GUEST_ASSERT_EQ(h_remove(0, s->ptex, 0, NULL), H_SUCCESS);
			s->present = 0;
		} else {
			unsigned long pp = (seed >> 24) % 4;

			GUEST_ASSERT_EQ(h_protect(pp, s->ptex, 0), H_SUCCESS);
			s->r = (s->r & ~HPTE_R_PP) | pp;
		}
		WRITE_ONCE(hpte_churn_count, hpte_churn_count + 1);
	}
	GUEST_SYNC(HPTE_CHURN_STOPPED);
}

uint64_t hpte_churn_changes(struct kvm_vm *vm)
{
	return READ_ONCE(*(uint64_t *)addr_gva2hva(vm, (vm_vaddr_t)&hpte_churn_count));
}

void hpte_churn_stop(struct kvm_vm *vm)
{
	WRITE_ONCE(*(uint64_t *)addr_gva2hva(vm, (vm_vaddr_t)&hpte_churn_stop_flag), 1);
}

uint64_t hpte_churn_check(struct kvm_vm *vm, struct htab_mirror *m, uint64_t v_ignore)
{
	uint64_t i, nr_present = 0, nr_seen = 0;
	int k;

	sync_global_from_guest(vm, hpte_churn);
	for (k = 0; k < HPTE_CHURN_SLOTS; k++) {
		struct hpte_churn_slot *s = &hpte_churn[k];

		if (!s->present)
			continue;
		nr_present++;
		TEST_ASSERT((m->hpte[s->ptex].v & ~v_ignore) == s->v && m->hpte[s->ptex].r == s->r,
			    "slot %d at HPTE %lu: stream has v 0x%lx r 0x%lx, guest 0x%lx 0x%lx",
			    k, s->ptex, m->hpte[s->ptex].v, m->hpte[s->ptex].r, s->v, s->r);
	}
	for (i = 0; i < m->npte; i++)
		nr_seen += m->hpte[i].v && !hpte_is_vrma(m->hpte[i].v);
	TEST_ASSERT(nr_seen == nr_present, "stream has %lu guest entries, guest made %lu",
		    nr_seen, nr_present);
	return nr_present;
}
