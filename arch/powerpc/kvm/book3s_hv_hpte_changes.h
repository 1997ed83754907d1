/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The readers' side of the HPT change log (asm/kvm_book3s_hpte_changes.h
 * has the marking): what the HPT fd, book3s_hv_htab_fd.c, uses.
 *
 * Harvesting moves the marks of the @changed map into a private set of
 * every open reader: what one reader returns is never hidden from another.
 * The only reader open, past its first pass, takes them from the map in
 * place instead, a word of level 1 at a time.
 *
 * Include after <linux/kvm_host.h>: the reader's fast paths below read
 * struct kvm.
 */
#ifndef __POWERPC_KVM_BOOK3S_HV_HPTE_CHANGES_H__
#define __POWERPC_KVM_BOOK3S_HV_HPTE_CHANGES_H__

#include <linux/bitops.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/xarray.h>

/*
 * A set of HPTE indices, kept in chunks of 4032 allocated as the set grows:
 * its memory follows what it holds, not the size of the HPT.
 */
struct kvmppc_hpte_set {
	struct xarray chunks;		/* chunk number -> its bitmap */
	unsigned long nr;		/* indices in the set */
	void *spare;			/* empty chunks, kept for the next changes */
	void *last;			/* the chunk looked up last, */
	unsigned long last_c;		/* and its number */
};

/* An HPT's @changed map: its words, and where each level starts. */
struct kvmppc_hpte_changed_map {
	unsigned long *words;
	unsigned long level_start[11];	/* 2^64 HPTEs take 11 levels */
	int top;			/* the level of a single word */
};

/* One reader's view: HPTEs changed since this reader last returned them. */
struct kvmppc_hpte_changes_reader {
	struct list_head node;		/* in kvm->arch.hpte_readers */
	u64 hpt_generation;		/* the table @pending describes */
	struct kvmppc_hpte_set pending;
	/*
	 * Changes at or past this index are not kept: the reader's first pass
	 * has yet to read those entries.  The end of the table once it has.
	 */
	unsigned long track_end;
	/*
	 * The only reader, past its first pass, needs no harvest: it takes
	 * the changes from the shared map as it reaches them, a block of 4096
	 * HPTEs (a word of level 1) at a time, kept here until it returns them
	 * or gives them back.
	 */
	bool solo;
	struct kvmppc_hpte_changed_map map;
	/*
	 * ULONG_MAX except from a solo read's take to the read's end (or a
	 * wrap): @window is allocated then.
	 */
	unsigned long window_block;
	unsigned long window_from;	/* where the read was as it took it */
	unsigned long window_nonempty;	/* bit w: window[w] != 0 */
	unsigned long *window;		/* BITS_PER_LONG words, from its first solo read */
};

/*
 * The hardware sets R and C in an HPTE without telling anyone, and only
 * while a vcpu runs.  Only a valid entry that a reader returned without R,
 * or writable and without C, can gain one unseen: such entries are
 * @candidates, and a sweep after a vcpu ran looks at those only.  One per
 * VM while a reader is open, under mmu_setup_lock.
 */
struct kvmppc_hpte_rc_sweep {
	struct kvmppc_hpte_set candidates;
	u64 hpt_generation;		/* the table @candidates describes */
	unsigned long cursor;		/* next candidate, while @active */
	bool active;
};

/* A harvest by one read() or one open: words of 64 changed HPTEs at most. */
#define KVMPPC_HPTE_HARVEST_WORDS	256

/* A solo reader takes the changes of 4096 HPTEs at once: a word of level 1. */
#define KVMPPC_HPTE_SOLO_BLOCK		(BITS_PER_LONG * BITS_PER_LONG)

int kvmppc_hpte_changes_add_reader(struct kvm *kvm,
				   struct kvmppc_hpte_changes_reader *reader);
void kvmppc_hpte_changes_remove_reader(struct kvm *kvm,
				       struct kvmppc_hpte_changes_reader *reader);
int kvmppc_hpte_changes_harvest(struct kvm *kvm, unsigned long *budget);
void kvmppc_hpte_changes_read_begin(struct kvm *kvm,
				    struct kvmppc_hpte_changes_reader *reader,
				    bool first_pass, bool start);
int kvmppc_hpte_changes_gather(struct kvm *kvm, struct kvmppc_hpte_changes_reader *reader,
			       unsigned long *budget);
void kvmppc_hpte_changes_read_end(struct kvm *kvm,
				  struct kvmppc_hpte_changes_reader *reader);
void kvmppc_hpte_changes_note_for_others(struct kvm *kvm,
					 struct kvmppc_hpte_changes_reader *reader,
					 unsigned long index);
void kvmppc_hpte_changes_unconsume(struct kvm *kvm, struct kvmppc_hpte_changes_reader *reader,
				   unsigned long index, unsigned long n);
unsigned long kvmppc_hpte_changes_run_end(struct kvmppc_hpte_changes_reader *reader,
					  unsigned long from, unsigned long end);
unsigned long __kvmppc_hpte_changes_next(struct kvmppc_hpte_changes_reader *reader,
					 unsigned long from, unsigned long end,
					 unsigned long *run_end);
int kvmppc_hpte_changes_track_rc(struct kvm *kvm, unsigned long index, bool valid,
				 u64 guest_r);
void __kvmppc_hpte_changes_consume(struct kvmppc_hpte_changes_reader *reader,
				   unsigned long index, unsigned long n);
void __kvmppc_hpte_changes_untrack_rc(struct kvm *kvm, unsigned long from, unsigned long to);
int kvmppc_hpte_changes_sweep_rc(struct kvm *kvm, unsigned long *budget,
				 unsigned long *last);

/*
 * A set's chunks and a solo reader's window are bitmaps of up to 64 words
 * with a summary: bit w of @nonempty is set while @words[w] is not 0.
 * The first bit of @words at @bit or after, or @nbits.
 */
static __always_inline unsigned long kvmppc_summed_bitmap_next(const unsigned long *words,
							       unsigned long nonempty,
							       unsigned long bit,
							       unsigned long nbits)
{
	unsigned long w = bit / BITS_PER_LONG, later;
	unsigned long here = words[w] & (~0UL << (bit % BITS_PER_LONG));

	if (here)
		return w * BITS_PER_LONG + __ffs(here);
	later = nonempty & (~1UL << w);
	if (!later)
		return nbits;
	w = __ffs(later);
	return w * BITS_PER_LONG + __ffs(words[w]);
}

/*
 * Where the run of @pending, the bits of @from's word, ends from @from on:
 * at the word's end at most, and @end.
 */
static __always_inline unsigned long kvmppc_word_run_end(unsigned long pending,
							 unsigned long from, unsigned long end)
{
	unsigned long holes = ~pending >> (from % BITS_PER_LONG);

	return min(holes ? from + __ffs(holes) : round_up(from + 1, BITS_PER_LONG), end);
}

/*
 * The first HPTE at @from or after in @reader's window, or its block's end;
 * @from lies in the window's block.
 */
static __always_inline unsigned long
kvmppc_hpte_changes_window_next(struct kvmppc_hpte_changes_reader *reader, unsigned long from)
{
	unsigned long start = reader->window_block * KVMPPC_HPTE_SOLO_BLOCK;

	return start + kvmppc_summed_bitmap_next(reader->window, reader->window_nonempty,
						 from - start, KVMPPC_HPTE_SOLO_BLOCK);
}

/* Where the run of @reader's window from HPTE @i, in the window's block, ends. */
static __always_inline unsigned long
kvmppc_hpte_changes_window_run_end(struct kvmppc_hpte_changes_reader *reader, unsigned long i,
				   unsigned long end)
{
	return kvmppc_word_run_end(reader->window[BIT_WORD(i) % BITS_PER_LONG], i, end);
}

/*
 * The first HPTE pending for @reader in [@from, @end), or @end, and in
 * *@run_end where its run ends, as kvmppc_hpte_changes_run_end() finds it.
 * The migration stream's next change is most often in its solo window, at
 * or after the place it was taken: no call then.
 */
static __always_inline unsigned long
kvmppc_hpte_changes_next(struct kvmppc_hpte_changes_reader *reader, unsigned long from,
			 unsigned long end, unsigned long *run_end)
{
	unsigned long start = reader->window_block * KVMPPC_HPTE_SOLO_BLOCK, i;

	if (!reader->pending.nr && from / KVMPPC_HPTE_SOLO_BLOCK == reader->window_block &&
	    from >= reader->window_from) {
		i = kvmppc_hpte_changes_window_next(reader, from);
		if (i < end && i < start + KVMPPC_HPTE_SOLO_BLOCK) {
			*run_end = kvmppc_hpte_changes_window_run_end(reader, i, end);
			return i;
		}
	}
	return __kvmppc_hpte_changes_next(reader, from, end, run_end);
}

/*
 * @reader has returned HPTEs [@index, @index + @n) to userspace.  At 0.1%
 * changed, most of its records are neither in its private set nor in the
 * block its solo window holds (the last one taken): no call for those.
 * With no window, @start + KVMPPC_HPTE_SOLO_BLOCK wraps to 0.
 */
static __always_inline void kvmppc_hpte_changes_consume(struct kvm *kvm,
							struct kvmppc_hpte_changes_reader *reader,
							unsigned long index, unsigned long n)
{
	unsigned long start = reader->window_block * KVMPPC_HPTE_SOLO_BLOCK;

	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	if (reader->pending.nr ||
	    (index + n > start && index < start + KVMPPC_HPTE_SOLO_BLOCK &&
	     reader->window_nonempty))
		__kvmppc_hpte_changes_consume(reader, index, n);
}

/*
 * A reader returned HPTEs [@from, @to) invalid: the hardware sets R or C in
 * none of them.  Most often no entry is a candidate: no call then.
 */
static __always_inline void kvmppc_hpte_changes_untrack_rc(struct kvm *kvm, unsigned long from,
							   unsigned long to)
{
	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	if (from < to && kvm->arch.hpte_rc_sweep->candidates.nr)
		__kvmppc_hpte_changes_untrack_rc(kvm, from, to);
}

#endif /* __POWERPC_KVM_BOOK3S_HV_HPTE_CHANGES_H__ */
