// SPDX-License-Identifier: GPL-2.0-only
/*
 * Change tracking of HV guests' HPTEs for the readers of KVM_PPC_GET_HTAB_FD.
 *
 * Writers (every path that changes an HPTE) mark it in the HPT's shared
 * @changed map, see asm/kvm_book3s_hpte_changes.h; book3s_hv_hpte_changes.h
 * has the readers' side.  With several readers open, a harvest moves the
 * map's bits into the private @pending set of every one of them at once, and
 * a reader clears its own bits as it hands the entries to userspace (setting
 * them again if the copy fails).  So one reader (QEMU's migration stream,
 * say) never loses a change another reader (a short-lived debug read)
 * returned, and a reader knows exactly which entries changed since it last
 * returned them.  The only reader open, past its first pass (the migration
 * stream, mostly), has every change to itself: its read takes them from the
 * shared map as it reaches them, with no harvest and no set, and marks again
 * what it took and did not return.
 *
 * R and C bits the hardware sets are nobody's change until someone looks:
 * the readers do for the entries they return, and a sweep does for the
 * candidates they leave behind, once a vcpu has run since the last sweep.
 *
 * Every call here costs what it visits, never the size of the table: a
 * harvest descends to changed entries only, sets grow by chunks, and the
 * callers give harvests and sweeps a budget.
 *
 * Locking: the list of readers, every clear of the shared map (writers
 * only set bits), every reader's @pending set and window, and the sweep
 * are protected by kvm->arch.mmu_setup_lock, which also keeps the HPT from
 * being replaced under a reader.
 */
#include <linux/kvm_host.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <asm/kvm_book3s.h>
#include <asm/kvm_book3s_hpte_changes.h>
#include <asm/kvm_ppc.h>

#include "book3s_hv_hpte_changes.h"

/* ---- Sets of HPTE indices ---- */

/*
 * A chunk is 512 bytes: a bit for each of 4032 HPTEs, and a summary with a
 * bit for each of its words that is not 0, so that finding the next index
 * looks at the words that hold some only.
 */
#define HPTE_SET_CHUNK_LONGS	63
#define HPTE_SET_CHUNK_BITS	(HPTE_SET_CHUNK_LONGS * BITS_PER_LONG)

struct hpte_set_chunk {
	union {
		unsigned long nonempty;			/* bit w: bits[w] != 0 */
		struct hpte_set_chunk *next_spare;	/* while a spare */
	};
	unsigned long bits[HPTE_SET_CHUNK_LONGS];
};

static void hpte_set_init(struct kvmppc_hpte_set *set)
{
	xa_init(&set->chunks);
	set->nr = 0;
	set->spare = NULL;
	set->last = NULL;
}

/* Chunk @c, if there is one: runs of HPTEs ask for the same one in a row. */
static struct hpte_set_chunk *hpte_set_chunk(struct kvmppc_hpte_set *set, unsigned long c)
{
	if (!set->last || set->last_c != c) {
		set->last = xa_load(&set->chunks, c);
		set->last_c = c;
	}
	return set->last;
}

static void hpte_set_destroy(struct kvmppc_hpte_set *set)
{
	struct hpte_set_chunk *chunk;
	unsigned long c;

	xa_for_each(&set->chunks, c, chunk)
		kfree(chunk);
	xa_destroy(&set->chunks);
	while (set->spare) {
		chunk = set->spare;
		set->spare = chunk->next_spare;
		kfree(chunk);
	}
	hpte_set_init(set);
}

/* Add the indices of @mask in word @word (index / BITS_PER_LONG) to @set. */
static int hpte_set_add_word(struct kvmppc_hpte_set *set, unsigned long word,
			     unsigned long mask)
{
	unsigned long c = word / HPTE_SET_CHUNK_LONGS, w = word % HPTE_SET_CHUNK_LONGS;
	struct hpte_set_chunk *chunk = hpte_set_chunk(set, c);

	/* A summary bit for every word, and a chunk of 512 bytes */
	BUILD_BUG_ON(HPTE_SET_CHUNK_LONGS >= BITS_PER_LONG);
	BUILD_BUG_ON(sizeof(*chunk) != 512);

	if (!mask)
		return 0;
	if (!chunk) {
		int ret;

		/*
		 * Chunks a set emptied are kept, zeroed, for the next changes:
		 * a set keeps as many as it ever held at once.
		 */
		chunk = set->spare;
		if (chunk)
			set->spare = chunk->next_spare;
		else
			chunk = kzalloc(sizeof(*chunk), GFP_KERNEL_ACCOUNT);
		if (!chunk)
			return -ENOMEM;
		chunk->nonempty = 0;
		ret = xa_err(xa_store(&set->chunks, c, chunk, GFP_KERNEL_ACCOUNT));
		if (ret) {
			kfree(chunk);
			return ret;
		}
		set->last = chunk;
		set->last_c = c;
	}
	set->nr += hweight_long(mask & ~chunk->bits[w]);
	chunk->bits[w] |= mask;
	chunk->nonempty |= BIT(w);
	return 0;
}

static int hpte_set_add(struct kvmppc_hpte_set *set, unsigned long index)
{
	return hpte_set_add_word(set, BIT_WORD(index), BIT_MASK(index));
}

/*
 * Clear bits [@first, @last) of @words, a bitmap with a summary (see
 * kvmppc_summed_bitmap_next()); returns how many were set.
 */
static __always_inline unsigned long summed_bitmap_clear(unsigned long *words,
							 unsigned long *nonempty,
							 unsigned long first, unsigned long last)
{
	unsigned long w = first / BITS_PER_LONG, mask = ~0UL << (first % BITS_PER_LONG);
	unsigned long cleared = 0;

	for (; w * BITS_PER_LONG < last; w++, mask = ~0UL) {
		if ((w + 1) * BITS_PER_LONG > last)
			mask &= ~0UL >> ((w + 1) * BITS_PER_LONG - last);
		mask &= words[w];
		if (!mask)
			continue;
		cleared += hweight_long(mask);
		words[w] &= ~mask;
		if (!words[w])
			*nonempty &= ~BIT(w);
	}
	return cleared;
}

/* Remove bits [@first, @last) of @chunk from @set. */
static void hpte_set_chunk_clear(struct kvmppc_hpte_set *set, struct hpte_set_chunk *chunk,
				 unsigned long first, unsigned long last)
{
	set->nr -= summed_bitmap_clear(chunk->bits, &chunk->nonempty, first, last);
}

static void __hpte_set_clear(struct kvmppc_hpte_set *set, unsigned long index,
			     unsigned long n)
{
	unsigned long end = index + n;

	while (index < end && set->nr) {
		unsigned long c = index / HPTE_SET_CHUNK_BITS;
		unsigned long first = index % HPTE_SET_CHUNK_BITS;
		unsigned long last = min(end - c * HPTE_SET_CHUNK_BITS,
					 (unsigned long)HPTE_SET_CHUNK_BITS);
		struct hpte_set_chunk *chunk = hpte_set_chunk(set, c);

		index = (c + 1) * HPTE_SET_CHUNK_BITS;
		if (!chunk)
			continue;
		hpte_set_chunk_clear(set, chunk, first, last);
		if (!chunk->nonempty) {
			xa_erase(&set->chunks, c);
			set->last = NULL;
			chunk->next_spare = set->spare;
			set->spare = chunk;
		}
	}
}

/*
 * Remove [@index, @index + @n) from @set; a chunk left empty goes.  Most
 * sets are empty most of the time: that costs no call.
 */
static __always_inline void hpte_set_clear(struct kvmppc_hpte_set *set, unsigned long index,
					   unsigned long n)
{
	if (set->nr)
		__hpte_set_clear(set, index, n);
}

/* The first bit of @chunk at @bit or after, or HPTE_SET_CHUNK_BITS. */
static unsigned long hpte_set_chunk_next(struct hpte_set_chunk *chunk, unsigned long bit)
{
	return kvmppc_summed_bitmap_next(chunk->bits, chunk->nonempty, bit, HPTE_SET_CHUNK_BITS);
}

static unsigned long __hpte_set_next(struct kvmppc_hpte_set *set, unsigned long from,
				     unsigned long end)
{
	unsigned long c = from / HPTE_SET_CHUNK_BITS, bit;
	struct hpte_set_chunk *chunk;

	/* Most often the next is in the chunk of the last: no tree walk then. */
	chunk = hpte_set_chunk(set, c);
	if (chunk) {
		bit = hpte_set_chunk_next(chunk, from % HPTE_SET_CHUNK_BITS);
		if (bit < HPTE_SET_CHUNK_BITS)
			return min(c * HPTE_SET_CHUNK_BITS + bit, end);
	}
	c++;
	xa_for_each_start(&set->chunks, c, chunk, c) {
		if (c * HPTE_SET_CHUNK_BITS >= end)
			break;
		/* A chunk in the set is never empty */
		set->last = chunk;
		set->last_c = c;
		return min(c * HPTE_SET_CHUNK_BITS + hpte_set_chunk_next(chunk, 0), end);
	}
	return end;
}

/* The first index of @set in [@from, @end), or @end; an empty set costs no call. */
static __always_inline unsigned long hpte_set_next(struct kvmppc_hpte_set *set,
						   unsigned long from, unsigned long end)
{
	if (!set->nr || from >= end)
		return end;
	return __hpte_set_next(set, from, end);
}

/* Word @word (index / BITS_PER_LONG) of @set. */
static __always_inline unsigned long hpte_set_word(struct kvmppc_hpte_set *set,
						   unsigned long word)
{
	struct hpte_set_chunk *chunk;

	if (!set->nr)
		return 0;
	chunk = hpte_set_chunk(set, word / HPTE_SET_CHUNK_LONGS);
	return chunk ? chunk->bits[word % HPTE_SET_CHUNK_LONGS] : 0;
}

/* ---- The shared map ---- */

/*
 * The levels of the map of an HPT of @npte entries, at @words, as
 * asm/kvm_book3s_hpte_changes.h lays them out.
 */
static void changed_map_init(struct kvmppc_hpte_changed_map *m, unsigned long *words,
			     unsigned long npte)
{
	unsigned long nbits = npte;

	m->words = words;
	m->level_start[0] = 0;
	for (m->top = 0; nbits > BITS_PER_LONG; m->top++) {
		m->level_start[m->top + 1] = m->level_start[m->top] + BITS_TO_LONGS(nbits);
		nbits = BITS_TO_LONGS(nbits);
	}
}

int kvmppc_hpte_changes_alloc(struct kvm_hpt_info *info)
{
	struct kvmppc_hpte_changed_map m;
	unsigned long words;

	changed_map_init(&m, NULL, 1UL << (info->order - 4));
	words = m.level_start[m.top] + 1;	/* the top level is one word */

	/*
	 * vmalloc, not kvmalloc: real mode reaches it through the vmap.
	 * Charged to the memory cgroup of the task allocating the HPT.
	 */
	info->changed = __vmalloc(words * sizeof(long), GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	return info->changed ? 0 : -ENOMEM;
}

void kvmppc_hpte_changes_free(struct kvm_hpt_info *info)
{
	vfree(info->changed);
	info->changed = NULL;
}

/* Give the changes of word @word of level 0, @bits, to every reader. */
static int harvest_word(struct kvm *kvm, unsigned long word, unsigned long bits)
{
	struct kvmppc_hpte_changes_reader *reader;
	int ret;

	list_for_each_entry(reader, &kvm->arch.hpte_readers, node) {
		unsigned long mask = bits;

		/* A reader of a replaced table only fails from now on. */
		if (reader->hpt_generation != kvm->arch.hpt_generation)
			continue;
		if (word * BITS_PER_LONG >= reader->track_end)
			continue;
		if ((word + 1) * BITS_PER_LONG > reader->track_end)
			mask &= BIT_MASK(reader->track_end) - 1;
		ret = hpte_set_add_word(&reader->pending, word, mask);
		if (ret)
			return ret;
	}
	return 0;
}

/* Word @word of @level: bit b of it stands for word 64 * @word + b below. */
static unsigned long *changed_word(struct kvmppc_hpte_changed_map *m, int level, unsigned long word)
{
	return &m->words[m->level_start[level] + word];
}

/*
 * Bit @bit of @level (above 0) is set: the word below it should hold some.
 * One that holds none lost them to a read while a writer was on its way up:
 * clear the bit, unless the word gained one meanwhile.  Returns the word.
 * Writers only set bits; readers clear them under mmu_setup_lock.
 */
static unsigned long changed_map_prune(struct kvmppc_hpte_changed_map *m, int level,
				       unsigned long bit)
{
	unsigned long *below = changed_word(m, level - 1, bit);
	unsigned long *p = changed_word(m, level, BIT_WORD(bit));
	unsigned long bits = READ_ONCE(*below);

	if (bits)
		return bits;
	clear_bit(bit % BITS_PER_LONG, p);
	/*
	 * The clear before the second look: a writer that set a bit below
	 * after that look finds this one clear, and sets it again.
	 */
	smp_mb__after_atomic();
	bits = READ_ONCE(*below);
	if (bits)
		set_bit(bit % BITS_PER_LONG, p);
	return bits;
}

/*
 * The first HPTE in [@from, @end) marked in @m, or @end: up the levels from
 * @from to the first bit set after it, then down that bit's words.
 */
static unsigned long changed_map_next(struct kvmppc_hpte_changed_map *m, unsigned long from,
				      unsigned long end)
{
	unsigned long pos = from, bits, bit;
	int level = 0;

	if (from >= end)
		return end;
	for (;;) {
		/* @pos is a bit of @level: HPTEs from pos << (6 * level) on */
		for (;;) {
			if (pos > (end - 1) >> (level * ilog2(BITS_PER_LONG)))
				return end;
			bits = READ_ONCE(*changed_word(m, level, BIT_WORD(pos))) &
			       BITMAP_FIRST_WORD_MASK(pos);
			if (bits)
				break;
			if (level == m->top)
				return end;
			pos = BIT_WORD(pos) + 1;
			level++;
		}
		bit = round_down(pos, BITS_PER_LONG) + __ffs(bits);
		for (; level; level--) {
			bits = changed_map_prune(m, level, bit);
			if (!bits)
				break;
			bit = bit * BITS_PER_LONG + __ffs(bits);
		}
		if (!level)
			return min(bit, end);
		pos = bit + 1;
	}
}

/* Mark @bits of word @word of level 0 again, the way writers mark them. */
static void changed_map_give_back(struct kvmppc_hpte_changed_map *m, unsigned long word,
				  unsigned long bits)
{
	int level;

	if (!bits)
		return;
	set_mask_bits(changed_word(m, 0, word), 0, bits);
	for (level = 1; level <= m->top; level++) {
		if (test_and_set_bit(word % BITS_PER_LONG, changed_word(m, level, BIT_WORD(word))))
			return;
		word = BIT_WORD(word);
	}
}

struct harvest {
	struct kvm *kvm;
	struct kvmppc_hpte_changed_map map;
	unsigned long *budget;		/* words of level 0 */
};

/*
 * Harvest what lies under bit @word of @level + 1, that is word @word of
 * @level.  On a budget run out (-EAGAIN) or an error, what is left is put
 * back: first in the words below, then in this one.
 */
static int harvest_level(struct harvest *h, int level, unsigned long word)
{
	unsigned long *p = changed_word(&h->map, level, word);
	unsigned long bits, bit;
	int ret = 0;

	if (!READ_ONCE(*p))
		return 0;
	if (!level) {
		if (!*h->budget)
			return -EAGAIN;
		/* Full barrier: the bits of the entries after the summary bit. */
		bits = xchg(p, 0);
		ret = harvest_word(h->kvm, word, bits);
		if (ret) {
			set_mask_bits(p, 0, bits);
			return ret;
		}
		if (!(--*h->budget % 256))
			cond_resched();
		return 0;
	}

	bits = xchg(p, 0);
	for_each_set_bit(bit, &bits, BITS_PER_LONG) {
		ret = harvest_level(h, level - 1, word * BITS_PER_LONG + bit);
		if (ret) {
			set_mask_bits(p, 0, bits & ~(BIT(bit) - 1));
			break;
		}
	}
	return ret;
}

/*
 * Move the changes of the shared map into every reader's @pending set, at
 * most *@budget words of 64 HPTEs: the rest stays for the next harvest.
 * With no reader registered, this just forgets what changed.  Fails with
 * -ENOMEM only, with the changes it could not give kept in the shared map.
 */
int kvmppc_hpte_changes_harvest(struct kvm *kvm, unsigned long *budget)
{
	struct harvest h = { .kvm = kvm, .budget = budget };
	int ret;

	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	changed_map_init(&h.map, kvm->arch.hpt.changed, kvmppc_hpt_npte(&kvm->arch.hpt));
	ret = harvest_level(&h, h.map.top, 0);
	return ret == -EAGAIN ? 0 : ret;
}

/* ---- Readers ---- */

/* Candidates of a table that was replaced say nothing of the new one. */
static void hpte_rc_sweep_check_table(struct kvm *kvm, struct kvmppc_hpte_rc_sweep *sweep)
{
	if (sweep->hpt_generation == kvm->arch.hpt_generation)
		return;
	hpte_set_destroy(&sweep->candidates);
	sweep->hpt_generation = kvm->arch.hpt_generation;
	sweep->active = false;
}

/*
 * Register @reader, whose @track_end the caller set (its start index): it
 * hears of changes from now on, and allocates nothing until it must keep
 * one.  The first reader of the VM brings its R/C sweep state.
 */
int kvmppc_hpte_changes_add_reader(struct kvm *kvm,
				   struct kvmppc_hpte_changes_reader *reader)
{
	struct kvmppc_hpte_rc_sweep *sweep = kvm->arch.hpte_rc_sweep;
	unsigned long budget;

	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	if (!sweep) {
		sweep = kzalloc(sizeof(*sweep), GFP_KERNEL_ACCOUNT);
		if (!sweep)
			return -ENOMEM;
		hpte_set_init(&sweep->candidates);
		sweep->hpt_generation = kvm->arch.hpt_generation;
	}
	hpte_rc_sweep_check_table(kvm, sweep);

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
	 * What changed before this reader existed goes to the others: its
	 * first pass returns the table as it is.  With others open, only as
	 * much as a read harvests, and never failing: an open neither waits
	 * nor fails for their backlog, and what is left stays shared and
	 * reaches this reader too, later, entries its first pass may send
	 * twice.  With none, what is left of the last readers' changes is
	 * only forgotten, which allocates nothing.
	 */
	budget = list_empty(&kvm->arch.hpte_readers) ? ULONG_MAX : KVMPPC_HPTE_HARVEST_WORDS;
	kvmppc_hpte_changes_harvest(kvm, &budget);
	kvm->arch.hpte_rc_sweep = sweep;
	hpte_set_init(&reader->pending);
	reader->window_nonempty = 0;
	reader->window_block = ULONG_MAX;
	reader->hpt_generation = kvm->arch.hpt_generation;
	list_add(&reader->node, &kvm->arch.hpte_readers);
	return 0;
}

void kvmppc_hpte_changes_remove_reader(struct kvm *kvm,
				       struct kvmppc_hpte_changes_reader *reader)
{
	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	list_del(&reader->node);
	hpte_set_destroy(&reader->pending);
	kfree(reader->window);
	reader->window = NULL;
	if (list_empty(&kvm->arch.hpte_readers)) {
		hpte_set_destroy(&kvm->arch.hpte_rc_sweep->candidates);
		kfree(kvm->arch.hpte_rc_sweep);
		kvm->arch.hpte_rc_sweep = NULL;
	}
	atomic_dec(&kvm->arch.hpte_mod_interest);
}

/*
 * Empty @reader's window, dropping its bits: only for bits already in the
 * read's records, or given back.
 */
static void solo_window_drop(struct kvmppc_hpte_changes_reader *reader)
{
	unsigned long nonempty = reader->window_nonempty;

	while (nonempty) {
		reader->window[__ffs(nonempty)] = 0;
		nonempty &= nonempty - 1;
	}
	reader->window_nonempty = 0;
	reader->window_block = ULONG_MAX;
}

/*
 * Before each fill of a read's buffer, under mmu_setup_lock.  @start: the
 * read's first fill, the only one that brings in changes: what changes
 * while the read copies out comes with the next read.  The only reader,
 * past its first pass, has every change to itself: that fill takes them
 * from the shared map as it reaches them, instead of a harvest
 * (kvmppc_hpte_changes_gather()).
 */
void kvmppc_hpte_changes_read_begin(struct kvm *kvm,
				    struct kvmppc_hpte_changes_reader *reader,
				    bool first_pass, bool start)
{
	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	reader->solo = start && !first_pass && list_is_singular(&kvm->arch.hpte_readers) &&
		       reader->hpt_generation == kvm->arch.hpt_generation;
	if (reader->solo && !reader->window) {
		/* 512 bytes, for the readers that get past their first pass only */
		reader->window = kcalloc(BITS_PER_LONG, sizeof(*reader->window),
					 GFP_KERNEL_ACCOUNT);
		/* Short of memory, the read harvests, as with other readers open */
		if (!reader->window)
			reader->solo = false;
	}
	solo_window_drop(reader);
	if (reader->solo)
		changed_map_init(&reader->map, kvm->arch.hpt.changed,
				 kvmppc_hpt_npte(&kvm->arch.hpt));
}

/* Have the changes within @reader's reach: a harvest, unless it is solo. */
int kvmppc_hpte_changes_gather(struct kvm *kvm, struct kvmppc_hpte_changes_reader *reader,
			       unsigned long *budget)
{
	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	if (reader->solo)
		return 0;
	return kvmppc_hpte_changes_harvest(kvm, budget);
}

/* After the fill: what @reader took and did not return is marked again. */
void kvmppc_hpte_changes_read_end(struct kvm *kvm,
				  struct kvmppc_hpte_changes_reader *reader)
{
	unsigned long w;

	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	for_each_set_bit(w, &reader->window_nonempty, BITS_PER_LONG)
		changed_map_give_back(&reader->map, reader->window_block * BITS_PER_LONG + w,
				      reader->window[w]);
	solo_window_drop(reader);
	reader->solo = false;
}

/*
 * Does @reader's window hold the block of HPTE @from, at or after the place
 * it was taken?  A read that comes back to the block before that place has
 * gone round the table: it returned the window's bits before it wrapped,
 * and the window is dropped.
 */
static bool solo_window_at(struct kvmppc_hpte_changes_reader *reader, unsigned long from)
{
	if (reader->window_block != from / KVMPPC_HPTE_SOLO_BLOCK)
		return false;
	if (from >= reader->window_from)
		return true;
	solo_window_drop(reader);
	return false;
}

/* The bits of word @word that stand for HPTEs in [@from, @end) */
static unsigned long solo_range_mask(unsigned long word, unsigned long from, unsigned long end)
{
	unsigned long mask = ~0UL;

	if (BIT_WORD(from) == word)
		mask &= BITMAP_FIRST_WORD_MASK(from);
	if (BIT_WORD(end) == word)
		mask &= BIT_MASK(end) - 1;
	return mask;
}

/*
 * Take the block of HPTE @at, marked in the shared map, into @reader's
 * window, the read being at HPTE @from in a range that ends at @end.  Only
 * the block's words in the range are taken (and @at's, which a writer may
 * not have summed up yet), and what they mark outside [@from, @end) goes
 * back, for a later read: before @from the read has passed, and past @end,
 * after a wrap, are entries it returned before it wrapped, marked again
 * since.  The previous window the read has passed: its bits are in its
 * records.  Returns the first HPTE taken.
 *
 * The words' summary bits are cleared first, in one fully ordered step, as
 * a harvest does: a writer that marks a word after its take then finds its
 * bit clear, and sets it again.  That step orders the takes of the words,
 * and one barrier after them puts them before the reads of the entries.
 */
static unsigned long solo_take(struct kvmppc_hpte_changes_reader *reader, unsigned long at,
			       unsigned long from, unsigned long end)
{
	struct kvmppc_hpte_changed_map *m = &reader->map;
	unsigned long block = at / KVMPPC_HPTE_SOLO_BLOCK, first_word = block * BITS_PER_LONG;
	unsigned long lo = BIT_WORD(from), hi = BIT_WORD(end - 1);
	unsigned long mask = BITMAP_LAST_WORD_MASK(min(hi - first_word, BITS_PER_LONG - 1UL) + 1);
	unsigned long *window = reader->window;
	unsigned long words, w, nonempty = 0;
	bool whole;
	int level;

	if (lo > first_word)
		mask &= BITMAP_FIRST_WORD_MASK(lo - first_word);
	words = BIT(BIT_WORD(at) - first_word);
	if (m->top)
		words |= set_mask_bits(changed_word(m, 1, block), mask, 0) & mask;

	solo_window_drop(reader);
	reader->window_block = block;
	reader->window_from = max(from, block * KVMPPC_HPTE_SOLO_BLOCK);
	/* Most blocks lie wholly in the range: nothing to give back then. */
	whole = from <= block * KVMPPC_HPTE_SOLO_BLOCK &&
		end >= (block + 1) * KVMPPC_HPTE_SOLO_BLOCK;
	while (words) {
		unsigned long bits, keep;

		w = __ffs(words);
		words &= words - 1;
		bits = xchg_relaxed(changed_word(m, 0, first_word + w), 0);
		keep = bits;
		if (!whole) {
			keep &= solo_range_mask(first_word + w, from, end);
			changed_map_give_back(m, first_word + w, bits & ~keep);
		}
		window[w] = keep;
		nonempty |= (unsigned long)!!keep << w;
	}
	reader->window_nonempty = nonempty;
	/* The takes of the words before the reads of their entries */
	smp_mb();

	/* The summary bits above that now stand for empty words go. */
	for (level = 2, w = block; level <= m->top; level++, w = BIT_WORD(w))
		if (changed_map_prune(m, level, w))
			break;

	/* The caller saw a mark in the range, and only we clear marks */
	if (WARN_ON_ONCE(!reader->window_nonempty))
		return (block + 1) * KVMPPC_HPTE_SOLO_BLOCK;
	return kvmppc_hpte_changes_window_next(reader, reader->window_from);
}

/*
 * The first HPTE in [@from, @bound) that solo @reader has taken or finds in
 * the shared map, or @bound; @end is where the read's range ends.  The
 * window's block is not looked at again in the shared map: what was marked
 * there since it was taken is for the next read.
 */
static __always_inline unsigned long solo_next(struct kvmppc_hpte_changes_reader *reader,
					       unsigned long from, unsigned long bound,
					       unsigned long end)
{
	unsigned long search = from, i;

	if (from >= bound)
		return bound;
	if (solo_window_at(reader, from)) {
		search = (reader->window_block + 1) * KVMPPC_HPTE_SOLO_BLOCK;
		i = kvmppc_hpte_changes_window_next(reader, from);
		if (i < search)
			return min(i, bound);
	}
	i = changed_map_next(&reader->map, search, bound);
	if (i < bound)
		i = min(solo_take(reader, i, from, end), bound);
	return i;
}

/* See kvmppc_hpte_changes_run_end(); inline in __kvmppc_hpte_changes_next(). */
static __always_inline unsigned long reader_run_end(struct kvmppc_hpte_changes_reader *reader,
						    unsigned long from, unsigned long end)
{
	unsigned long word = BIT_WORD(from), pending;

	if (from >= end)
		return end;
	pending = hpte_set_word(&reader->pending, word);
	if (reader->solo) {
		/*
		 * A run from the private set may cover entries marked in the
		 * shared map too: take their block, so that returning them
		 * clears those marks as well.
		 */
		if (solo_window_at(reader, from)) {
			pending |= reader->window[word % BITS_PER_LONG];
		} else if (READ_ONCE(*changed_word(&reader->map, 0, word)) &
			   solo_range_mask(word, from, end)) {
			solo_take(reader, from, from, end);
			pending |= reader->window[word % BITS_PER_LONG];
		}
	}
	return kvmppc_word_run_end(pending, from, end);
}

/*
 * Where the run of HPTEs pending for @reader from @from on ends, up to the
 * end of @from's word at most, and @end: @from if it is not pending.  A
 * record asks again as it reaches the answer, so that each answer costs a
 * word (or the take of a solo reader's block).  Under mmu_setup_lock, as
 * every reader's set.
 */
unsigned long kvmppc_hpte_changes_run_end(struct kvmppc_hpte_changes_reader *reader,
					  unsigned long from, unsigned long end)
{
	return reader_run_end(reader, from, end);
}

/* Call through kvmppc_hpte_changes_next(), under mmu_setup_lock. */
unsigned long __kvmppc_hpte_changes_next(struct kvmppc_hpte_changes_reader *reader,
					 unsigned long from, unsigned long end,
					 unsigned long *run_end)
{
	unsigned long i;

	if (reader->solo && !reader->pending.nr) {
		/* The migration stream's case: the window alone holds the run. */
		i = solo_next(reader, from, end, end);
		if (i >= end) {
			*run_end = end;
			return end;
		}
		*run_end = kvmppc_hpte_changes_window_run_end(reader, i, end);
		return i;
	}
	i = hpte_set_next(&reader->pending, from, end);
	if (reader->solo)
		i = solo_next(reader, from, i, end);
	*run_end = reader_run_end(reader, i, end);
	return i;
}

/*
 * @reader folded R/C the hardware set into HPTE @index and is returning it:
 * a change for every other reader, but not one @reader must send again.
 * Short of memory, mark it in the shared map: everyone gets it then.
 */
void kvmppc_hpte_changes_note_for_others(struct kvm *kvm,
					 struct kvmppc_hpte_changes_reader *reader,
					 unsigned long index)
{
	struct kvmppc_hpte_changes_reader *other;

	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	list_for_each_entry(other, &kvm->arch.hpte_readers, node) {
		if (other == reader || other->hpt_generation != kvm->arch.hpt_generation ||
		    index >= other->track_end)
			continue;
		if (hpte_set_add(&other->pending, index)) {
			kvmppc_hpte_note_change(kvm, index);
			return;
		}
	}
}

/* Call through kvmppc_hpte_changes_consume(), under mmu_setup_lock. */
void __kvmppc_hpte_changes_consume(struct kvmppc_hpte_changes_reader *reader,
				   unsigned long index, unsigned long n)
{
	unsigned long start, from, to;

	hpte_set_clear(&reader->pending, index, n);
	if (!reader->window_nonempty)
		return;
	start = reader->window_block * KVMPPC_HPTE_SOLO_BLOCK;
	from = max(index, start);
	to = min(index + n, start + KVMPPC_HPTE_SOLO_BLOCK);
	if (from < to)
		summed_bitmap_clear(reader->window, &reader->window_nonempty, from - start,
				    to - start);
}

/*
 * @reader consumed HPTEs [@index, @index + @n), but they never reached
 * userspace: pending again.  Short of memory, mark them in the shared map
 * instead (everyone gets them then; with mmu_setup_lock held no reader
 * opens meanwhile, so no HPTE lock is needed).
 */
void kvmppc_hpte_changes_unconsume(struct kvm *kvm, struct kvmppc_hpte_changes_reader *reader,
				   unsigned long index, unsigned long n)
{
	unsigned long i;

	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	for (i = index; i < index + n; i++)
		if (hpte_set_add(&reader->pending, i))
			kvmppc_hpte_note_change(kvm, i);
}

/* ---- R and C set by the hardware ---- */

/* Could the hardware still set R or C in a valid entry whose guest R is @r? */
static bool hpte_rc_may_change(u64 r)
{
	return !(r & HPTE_R_R) || (hpte_is_writable(r) && !(r & HPTE_R_C));
}

/*
 * A reader returned HPTE @index, @valid with guest R @guest_r: keep it among
 * the sweep's candidates if the hardware may still set R or C in it.
 */
int kvmppc_hpte_changes_track_rc(struct kvm *kvm, unsigned long index, bool valid,
				 u64 guest_r)
{
	struct kvmppc_hpte_set *candidates = &kvm->arch.hpte_rc_sweep->candidates;

	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	if (valid && hpte_rc_may_change(guest_r))
		return hpte_set_add(candidates, index);
	hpte_set_clear(candidates, index, 1);
	return 0;
}

/* Call through kvmppc_hpte_changes_untrack_rc(), under mmu_setup_lock. */
void __kvmppc_hpte_changes_untrack_rc(struct kvm *kvm, unsigned long from, unsigned long to)
{
	hpte_set_clear(&kvm->arch.hpte_rc_sweep->candidates, from, to - from);
}

/*
 * Has a vcpu run since the last sweep?  While one runs, always.  A vcpu
 * notes it ran before vcpus_running drops (kvmppc_hpte_changes_vcpu_ran()).
 */
static bool hpte_rc_unswept(struct kvm *kvm)
{
	if (atomic_read(&kvm->arch.vcpus_running))
		return true;
	smp_rmb();	/* vcpus_running, then the flag it was dropped after */
	return atomic_xchg(&kvm->arch.hpte_rc_unswept, 0);
}

/*
 * Fold the R and C the hardware set into HPTE @i's guest view.  Could the
 * hardware still set one in it?
 */
static bool hpte_fold_rc(struct kvm *kvm, unsigned long i)
{
	__be64 *hptep = (__be64 *)(kvm->arch.hpt.virt + (i << 4));
	struct revmap_entry *rev = &kvm->arch.hpt.rev[i];
	unsigned long v, rc;
	bool may_change = false;

	preempt_disable();
	while (!try_lock_hpte(hptep, HPTE_V_HVLOCK))
		cpu_relax();
	v = be64_to_cpu(hptep[0]);
	if (v & HPTE_V_VALID) {
		rc = be64_to_cpu(hptep[1]) & (HPTE_R_R | HPTE_R_C) & ~rev->guest_rpte;
		if (rc) {
			rev->guest_rpte |= rc;
			kvmppc_hpte_note_change(kvm, i);
		}
	}
	if (v & (HPTE_V_VALID | HPTE_V_ABSENT))
		may_change = hpte_rc_may_change(rev->guest_rpte);
	unlock_hpte(hptep, v);
	preempt_enable();
	return may_change;
}

/*
 * Before a reader reports that nothing changed: if a vcpu ran since the
 * last sweep, fold R and C the hardware set into the candidates and mark
 * those that gained one as changed.  Visits at most *@budget candidates,
 * the last in *@last.  Returns 1 if the sweep is not over, else 0: over,
 * or not needed since no vcpu ran.  A sweep started while vcpus ran gives
 * way to a new one once they have all stopped, so that the sweep behind a
 * 0 that QEMU reads with its vcpus stopped is exact.
 */
int kvmppc_hpte_changes_sweep_rc(struct kvm *kvm, unsigned long *budget,
				 unsigned long *last)
{
	struct kvmppc_hpte_rc_sweep *sweep = kvm->arch.hpte_rc_sweep;
	unsigned long npte = kvmppc_hpt_npte(&kvm->arch.hpt);
	bool restarted = false;

	lockdep_assert_held(&kvm->arch.mmu_setup_lock);

	hpte_rc_sweep_check_table(kvm, sweep);
	if (!sweep->active) {
		if (!hpte_rc_unswept(kvm))
			return 0;
		sweep->active = true;
		sweep->cursor = 0;
	}

	while (*budget) {
		unsigned long i = hpte_set_next(&sweep->candidates, sweep->cursor, npte);

		if (i >= npte) {
			sweep->active = false;
			if (restarted || atomic_read(&kvm->arch.vcpus_running) ||
			    !hpte_rc_unswept(kvm))
				return 0;
			/* Once per call: a vcpu in and out of KVM_RUN would keep us here. */
			restarted = true;
			sweep->active = true;
			sweep->cursor = 0;
			continue;
		}
		(*budget)--;
		if (!hpte_fold_rc(kvm, i))
			hpte_set_clear(&sweep->candidates, i, 1);
		*last = i;
		sweep->cursor = i + 1;
		if (!(*budget % 1024))
			cond_resched();
	}
	return 1;
}
