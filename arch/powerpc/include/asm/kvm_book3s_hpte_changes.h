/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which HPTEs of an HV guest's hashed page table changed, for the readers of
 * KVM_PPC_GET_HTAB_FD: the marking, which the rest of KVM calls.  The
 * readers' side is private to the HPT fd (arch/powerpc/kvm/
 * book3s_hv_hpte_changes.h).
 *
 * Every path that changes an HPTE as the guest sees it (hcalls, R/C bits
 * harvested by aging, dirty logging or a host unmap, the HPT fd's own
 * writes) calls kvmppc_hpte_note_change() with the HPTE locked.  That sets
 * the entry's bit in its HPT's @changed map, a tree of bitmaps: level 0 has
 * one bit per HPTE, each level above one bit per word of the level below,
 * up to a single word.  A harvest descends from that word to the changed
 * entries only, so its cost follows what changed, not the table's size.
 *
 * Marking runs in real mode on POWER8 (and POWER9 with a hash host), where
 * vmalloc addresses cannot be used: the map is reached through its
 * linear-map alias, as the reverse map is, by kvmppc_real_vmalloc_addr(),
 * built in (book3s_hv_rm_mmu.c) since the walk needs init_mm.
 *
 * Include after <linux/kvm_host.h>: the marking reads struct kvm.
 */
#ifndef __ASM_KVM_BOOK3S_HPTE_CHANGES_H__
#define __ASM_KVM_BOOK3S_HPTE_CHANGES_H__

#include <linux/atomic.h>
#include <linux/bitops.h>

#ifdef CONFIG_KVM_BOOK3S_HV_POSSIBLE
/* Only HV KVM has an HPT of its own: PR-only builds include this header too. */

void *kvmppc_real_vmalloc_addr(void *addr);

/*
 * Note that HPTE @index of @kvm's HPT changed.  Call with the HPTE locked:
 * a reader that opened before the lock was taken then either sees the
 * change when it reads the entry or finds the entry marked.  Real-mode safe.
 */
static inline void kvmppc_hpte_note_change(struct kvm *kvm, unsigned long index)
{
	struct kvm_hpt_info *hpt = &kvm->arch.hpt;
	unsigned long nbits = 1UL << (hpt->order - 4), level_start = 0;	/* HPTEs */
	unsigned long *word;

	if (!atomic_read(&kvm->arch.hpte_mod_interest))
		return;

	/*
	 * Set the entry's bit, then its word's bit one level up, and so on:
	 * stop at a bit already set, whoever set it goes on upwards.  The
	 * fully ordered test_and_set_bit() puts each bit before the test of
	 * the one above, which a reader clears before the one below (a
	 * harvest's xchg(), a take's fully ordered set_mask_bits());
	 * at the entry's own level it puts the HPTE lock before the test, so
	 * that a reader that takes the bit sees the entry locked.
	 */
	for (;;) {
		word = kvmppc_real_vmalloc_addr(hpt->changed + level_start + BIT_WORD(index));
		if (test_and_set_bit(index % BITS_PER_LONG, word))
			return;
		if (nbits <= BITS_PER_LONG)
			return;
		level_start += BITS_TO_LONGS(nbits);
		nbits = BITS_TO_LONGS(nbits);
		index = BIT_WORD(index);
	}
}

int kvmppc_hpte_changes_alloc(struct kvm_hpt_info *info);
void kvmppc_hpte_changes_free(struct kvm_hpt_info *info);

/*
 * A vcpu is leaving KVM_RUN: the hardware may have set R and C while it ran.
 * Call before vcpus_running drops, which a sweep reads first, with a
 * barrier between the two.
 */
static inline void kvmppc_hpte_changes_vcpu_ran(struct kvm *kvm)
{
	atomic_set(&kvm->arch.hpte_rc_unswept, 1);
}

#endif /* CONFIG_KVM_BOOK3S_HV_POSSIBLE */
#endif /* __ASM_KVM_BOOK3S_HPTE_CHANGES_H__ */
