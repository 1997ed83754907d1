/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which HPTEs of an HV guest's hashed page table changed, for the readers of
 * KVM_PPC_GET_HTAB_FD.
 *
 * Every path that changes an HPTE as the guest sees it (hcalls, R/C bits
 * harvested by aging, dirty logging or a host unmap, the HPT fd's own
 * writes) calls
 * kvmppc_hpte_note_change() with the HPTE locked; a reader that folds R/C
 * into an entry it is returning tells only the others.  That sets the entry's bit
 * in its HPT's @changed map and the bit of that map's word in
 * @changed_words, so that a harvest finds it without scanning the whole
 * map.  Harvesting moves the bits into a private @pending map of every open
 * reader: what one reader returns is never hidden from another.
 *
 * Marking runs in real mode on POWER8 (and POWER9 with a hash host), where
 * vmalloc addresses cannot be used: the maps are reached through their
 * linear-map alias, as the reverse map is.
 *
 * Include after <linux/kvm_host.h>: the marking reads struct kvm.
 */
#ifndef __ASM_KVM_BOOK3S_HPTE_CHANGES_H__
#define __ASM_KVM_BOOK3S_HPTE_CHANGES_H__

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/list.h>
#include <asm/pte-walk.h>

/* One reader's view: HPTEs changed since this reader last returned them. */
struct kvmppc_hpte_changes_reader {
	struct list_head node;		/* in kvm->arch.hpte_readers */
	u64 hpt_generation;		/* the table @pending describes */
	unsigned long *pending;		/* one bit per HPTE */
	unsigned long nr_pending;
};

#ifdef CONFIG_KVM_BOOK3S_HV_POSSIBLE
/* Only HV KVM has an HPT of its own: PR-only builds include this header too. */

static inline unsigned long *kvmppc_hpte_changes_word(unsigned long *map, unsigned long bit)
{
	return __va(ppc_find_vmap_phys((unsigned long)(map + BIT_WORD(bit))));
}

/*
 * Note that HPTE @index of @kvm's HPT changed.  Call with the HPTE locked:
 * a reader that opened before the lock was taken then either sees the
 * change when it reads the entry or finds the entry marked.  Real-mode safe.
 */
static inline void kvmppc_hpte_note_change(struct kvm *kvm, unsigned long index)
{
	struct kvm_hpt_info *hpt = &kvm->arch.hpt;
	unsigned long *word;

	if (!atomic_read(&kvm->arch.hpte_mod_interest))
		return;

	word = kvmppc_hpte_changes_word(hpt->changed, index);
	if (test_bit(index % BITS_PER_LONG, word))
		return;		/* whoever set it also sets its word's bit */
	set_bit(index % BITS_PER_LONG, word);

	/* A harvest reads @changed_words before @changed. */
	smp_wmb();
	word = kvmppc_hpte_changes_word(hpt->changed_words, BIT_WORD(index));
	set_bit(BIT_WORD(index) % BITS_PER_LONG, word);
}

int kvmppc_hpte_changes_alloc(struct kvm_hpt_info *info);
void kvmppc_hpte_changes_free(struct kvm_hpt_info *info);

int kvmppc_hpte_changes_add_reader(struct kvm *kvm,
				   struct kvmppc_hpte_changes_reader *reader);
void kvmppc_hpte_changes_remove_reader(struct kvm *kvm,
				       struct kvmppc_hpte_changes_reader *reader);
void kvmppc_hpte_changes_harvest(struct kvm *kvm);
void kvmppc_hpte_changes_sweep_rc(struct kvm *kvm);
void kvmppc_hpte_changes_note_for_others(struct kvm *kvm,
					 struct kvmppc_hpte_changes_reader *reader,
					 unsigned long index);
void kvmppc_hpte_changes_consume(struct kvm *kvm, struct kvmppc_hpte_changes_reader *reader,
				 unsigned long index, unsigned long n);

#endif /* CONFIG_KVM_BOOK3S_HV_POSSIBLE */
#endif /* __ASM_KVM_BOOK3S_HPTE_CHANGES_H__ */
