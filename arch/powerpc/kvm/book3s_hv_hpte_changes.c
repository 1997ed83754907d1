// SPDX-License-Identifier: GPL-2.0-only
/*
 * Change tracking of HV guests' HPTEs for the readers of KVM_PPC_GET_HTAB_FD.
 *
 * Writers (every path that changes an HPTE) mark it in the HPT's shared
 * @changed map, see asm/kvm_book3s_hpte_changes.h.  Readers never clear the
 * shared map themselves: a harvest moves its bits into the private @pending
 * map of every registered reader at once, and a reader clears its own bits
 * only once it has handed the entries to userspace.  So one reader (QEMU's
 * migration stream, say) never loses a change another reader (a short-lived
 * debug read) returned, and a reader knows exactly which entries changed
 * since it last returned them.
 *
 * Locking: the list of readers, the harvest and every reader's @pending map
 * are protected by kvm->arch.mmu_setup_lock, which also keeps the HPT from
 * being replaced under a reader.
 */
#include <linux/kvm_host.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <asm/kvm_book3s.h>
#include <asm/kvm_book3s_hpte_changes.h>
#include <asm/kvm_ppc.h>

int kvmppc_hpte_changes_alloc(struct kvm_hpt_info *info)
{
	unsigned long npte = 1UL << (info->order - 4);

	/*
	 * vmalloc, not kvmalloc: real mode reaches these through the vmap.
	 * Charged to the memory cgroup of the task allocating the HPT.
	 */
	info->changed = __vmalloc(BITS_TO_LONGS(npte) * sizeof(long),
				  GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	info->changed_words = __vmalloc(BITS_TO_LONGS(BITS_TO_LONGS(npte)) * sizeof(long),
					GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!info->changed || !info->changed_words) {
		kvmppc_hpte_changes_free(info);
		return -ENOMEM;
	}
	return 0;
}

void kvmppc_hpte_changes_free(struct kvm_hpt_info *info)
{
	vfree(info->changed);
	vfree(info->changed_words);
	info->changed = NULL;
	info->changed_words = NULL;
}

/*
 * Move every bit of the shared map into every reader's @pending map.  With
 * no reader registered, this just forgets what changed.
 */
void kvmppc_hpte_changes_harvest(struct kvm *kvm)
{
	struct kvm_hpt_info *hpt = &kvm->arch.hpt;
	unsigned long nwords = BITS_TO_LONGS(kvmppc_hpt_npte(hpt));
	struct kvmppc_hpte_changes_reader *reader;
	unsigned long k;

	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	for (k = 0; k < BITS_TO_LONGS(nwords); k++) {
		unsigned long words, bit;

		if (!READ_ONCE(hpt->changed_words[k]))
			continue;
		/* Full barrier: a word's bits are set before its summary bit. */
		words = xchg(&hpt->changed_words[k], 0);
		for_each_set_bit(bit, &words, BITS_PER_LONG) {
			unsigned long w = k * BITS_PER_LONG + bit;
			unsigned long changed = xchg(&hpt->changed[w], 0);

			list_for_each_entry(reader, &kvm->arch.hpte_readers, node) {
				/* A reader of a replaced table only fails from now on. */
				if (reader->hpt_generation != kvm->arch.hpt_generation)
					continue;
				reader->nr_pending += hweight_long(changed & ~reader->pending[w]);
				reader->pending[w] |= changed;
			}
		}
	}
}

int kvmppc_hpte_changes_add_reader(struct kvm *kvm,
				   struct kvmppc_hpte_changes_reader *reader)
{
	unsigned long npte = kvmppc_hpt_npte(&kvm->arch.hpt);

	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	reader->pending = kvcalloc(BITS_TO_LONGS(npte), sizeof(long), GFP_KERNEL_ACCOUNT);
	if (!reader->pending)
		return -ENOMEM;
	reader->nr_pending = 0;
	reader->hpt_generation = kvm->arch.hpt_generation;

	/*
	 * Hcalls and MMU notifiers change HPTEs under kvm->srcu, HPT fd writes
	 * under mmu_setup_lock: once a grace period is over, they see the
	 * interest and mark every change, below the start index too.  (Two
	 * paths only fold R/C outside kvm->srcu, KVM_GET_DIRTY_LOG and memslot
	 * flushes; a fold racing an open may go unmarked below its start index.)
	 * With a reader open already, that grace period is behind us: opened
	 * under this lock, it waited for one or relied on an earlier reader.
	 */
	if (atomic_inc_return(&kvm->arch.hpte_mod_interest) == 1)
		synchronize_srcu_expedited(&kvm->srcu);

	/*
	 * What changed before this reader existed goes to the others only:
	 * its first pass returns the table as it is.
	 */
	kvmppc_hpte_changes_harvest(kvm);
	list_add(&reader->node, &kvm->arch.hpte_readers);
	return 0;
}

void kvmppc_hpte_changes_remove_reader(struct kvm *kvm,
				       struct kvmppc_hpte_changes_reader *reader)
{
	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	atomic_dec(&kvm->arch.hpte_mod_interest);
	list_del(&reader->node);
	kvfree(reader->pending);
	reader->pending = NULL;
}

/*
 * @reader folded R/C the hardware set into HPTE @index and is returning it:
 * a change for every other reader, but not one @reader must send again.
 */
void kvmppc_hpte_changes_note_for_others(struct kvm *kvm,
					 struct kvmppc_hpte_changes_reader *reader,
					 unsigned long index)
{
	struct kvmppc_hpte_changes_reader *other;

	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	list_for_each_entry(other, &kvm->arch.hpte_readers, node) {
		if (other == reader || other->hpt_generation != kvm->arch.hpt_generation)
			continue;
		if (!__test_and_set_bit(index, other->pending))
			other->nr_pending++;
	}
}

/* @reader has returned HPTEs [@index, @index + @n) to userspace. */
void kvmppc_hpte_changes_consume(struct kvm *kvm, struct kvmppc_hpte_changes_reader *reader,
				 unsigned long index, unsigned long n)
{
	unsigned long i;

	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	for (i = index; i < index + n; i++)
		if (__test_and_clear_bit(i, reader->pending))
			reader->nr_pending--;
}

/*
 * The hardware sets R and C in an HPTE without telling anyone.  Fold such
 * bits into the guest view of every valid HPTE and mark those entries
 * changed.  Costs a read of the whole HPT: done only before a reader would
 * report that nothing changed.
 */
void kvmppc_hpte_changes_sweep_rc(struct kvm *kvm)
{
	struct kvm_hpt_info *hpt = &kvm->arch.hpt;
	unsigned long i, npte = kvmppc_hpt_npte(hpt);

	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	for (i = 0; i < npte; i++) {
		__be64 *hptep = (__be64 *)(hpt->virt + (i << 4));
		struct revmap_entry *rev = &hpt->rev[i];
		unsigned long rc;

		if (!(i % SZ_4K))
			cond_resched();
		if (!(be64_to_cpu(READ_ONCE(hptep[0])) & HPTE_V_VALID))
			continue;
		rc = be64_to_cpu(READ_ONCE(hptep[1])) & (HPTE_R_R | HPTE_R_C);
		if (!(rc & ~READ_ONCE(rev->guest_rpte)))
			continue;

		preempt_disable();
		while (!try_lock_hpte(hptep, HPTE_V_HVLOCK))
			cpu_relax();
		if (be64_to_cpu(hptep[0]) & HPTE_V_VALID) {
			rc = be64_to_cpu(hptep[1]) & (HPTE_R_R | HPTE_R_C) & ~rev->guest_rpte;
			if (rc) {
				rev->guest_rpte |= rc;
				kvmppc_hpte_note_change(kvm, i);
			}
		}
		unlock_hpte(hptep, be64_to_cpu(hptep[0]));
		preempt_enable();
	}
}
