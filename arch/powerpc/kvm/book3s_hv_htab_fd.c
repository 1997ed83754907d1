// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_PPC_GET_HTAB_FD: reading and writing an HV guest's hashed page table
 * (HPT) through a file descriptor, for QEMU's savevm/loadvm and live
 * migration.  Documentation/virt/kvm/api.rst describes the behaviour.
 *
 * The stream is a sequence of records:
 *
 *   struct kvm_get_htab_header { u32 index; u16 n_valid; u16 n_invalid; }
 *   n_valid HPTEs, each two big-endian u64: V, then R (pre-ISA-3.0 layout)
 *
 * covering HPTEs [index, index + n_valid) as given and
 * [index + n_valid, index + n_valid + n_invalid) as invalid.
 *
 * A reader's first pass returns every HPTE from its start index to the end
 * of the table; later reads return the HPTEs changed since this fd last
 * returned them (see book3s_hv_hpte_changes.c), and 0 only when there are
 * none.  A writer creates, replaces and invalidates HPTEs as records say.
 *
 * Each read() and write() costs what it returns or takes, plus a bounded
 * amount of work: at any table size, QEMU's 5 ms iterations stay 5 ms.
 * Records are built and applied under kvm->arch.mmu_setup_lock, which keeps
 * the HPT from being resized, reallocated or switched to radix meanwhile;
 * userspace memory is copied with only the fd's own lock held.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/kvm_host.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <asm/kvm_book3s.h>
#include <asm/kvm_book3s_hpte_changes.h>
#include <asm/kvm_ppc.h>

#include "book3s_hv_hpte_changes.h"

#define HTAB_HPTE_BYTES		(2 * sizeof(__be64))
#define HTAB_HEADER_BYTES	sizeof(struct kvm_get_htab_header)
/* The smallest read that can always make progress: one record, one HPTE. */
#define HTAB_READ_MIN		(HTAB_HEADER_BYTES + HTAB_HPTE_BYTES)
/* Records are built in a kernel buffer of at most this size, then copied. */
#define HTAB_READ_CHUNK		SZ_64K
#define HTAB_RUN_MAX		U16_MAX
/*
 * What one read() may do beyond the entries it returns: visit this many
 * HPTEs it does not return in full (invalid runs, R/C sweep candidates),
 * and harvest KVMPPC_HPTE_HARVEST_WORDS per record buffer.
 */
#define HTAB_READ_VISITS	8192
/* A write() takes records 64 KiB at a time, touching this many entries at most. */
#define HTAB_WRITE_CHUNK	SZ_64K
#define HTAB_WRITE_ENTRIES	SZ_64K

struct kvm_htab_fd {
	struct kvm *kvm;
	u64 flags;
	struct mutex lock;		/* one read() or write() at a time */
	/* Readers only. */
	struct kvmppc_hpte_changes_reader changes;
	unsigned long cursor;		/* next HPTE index to look at */
	bool first_pass;
	/* Writers only: records copied in, then room for the entries they replace. */
	u8 *record;
	size_t record_size;
};

static bool htab_fd_is_writer(struct kvm_htab_fd *fd)
{
	return fd->flags & KVM_GET_HTAB_WRITE;
}

/* ---- Record encoding ---- */

/* Whole records, built in a kernel buffer before going to userspace. */
struct htab_out {
	u8 *buf;
	size_t len;
	size_t size;
};

/* Start a record at @index, if a header still fits. */
static struct kvm_get_htab_header *htab_out_begin(struct htab_out *out, u32 index)
{
	struct kvm_get_htab_header *hdr;

	if (out->size - out->len < HTAB_HEADER_BYTES)
		return NULL;
	hdr = (struct kvm_get_htab_header *)(out->buf + out->len);
	hdr->index = index;
	hdr->n_valid = 0;
	hdr->n_invalid = 0;
	out->len += HTAB_HEADER_BYTES;
	return hdr;
}

/* Drop a record that got no entry. */
static void htab_out_cancel(struct htab_out *out)
{
	out->len -= HTAB_HEADER_BYTES;
}

static bool htab_out_has_room_for_hpte(struct htab_out *out)
{
	return out->size - out->len >= HTAB_HPTE_BYTES;
}

static void htab_out_add_hpte(struct htab_out *out, struct kvm_get_htab_header *hdr,
			      u64 v, u64 r)
{
	__be64 *hpte = (__be64 *)(out->buf + out->len);

	hpte[0] = cpu_to_be64(v);
	hpte[1] = cpu_to_be64(r);
	out->len += HTAB_HPTE_BYTES;
	hdr->n_valid++;
}

static size_t htab_record_bytes(const struct kvm_get_htab_header *hdr)
{
	return HTAB_HEADER_BYTES + hdr->n_valid * HTAB_HPTE_BYTES;
}

/* ---- One HPTE as the guest sees it ---- */

static __be64 *htab_hptep(struct kvm *kvm, unsigned long i)
{
	return (__be64 *)(kvm->arch.hpt.virt + (i << 4));
}

/*
 * Could HPTE @i be, or be about to be, valid?  An unlocked look: one that is
 * not is invalid as it stands, with nothing of it to return, and whoever
 * locks it to enter it marks the change after a read harvested.
 */
static bool htab_hpte_present(struct kvm *kvm, unsigned long i)
{
	return be64_to_cpu(READ_ONCE(htab_hptep(kvm, i)[0])) &
	       (HPTE_V_VALID | HPTE_V_ABSENT | HPTE_V_HVLOCK);
}

/* Lock HPTE @i against hcalls and other readers; returns its first dword. */
static unsigned long htab_lock_hpte(__be64 *hptep)
{
	preempt_disable();
	while (!try_lock_hpte(hptep, HPTE_V_HVLOCK))
		cpu_relax();
	return be64_to_cpu(hptep[0]);
}

static void htab_unlock_hpte(__be64 *hptep, unsigned long v)
{
	unlock_hpte(hptep, v);
	preempt_enable();
}

/*
 * HPTE @i as the guest sees it, in H_ENTER's pre-ISA-3.0 layout whatever the
 * CPU: valid if the host paged it out, R and C set by the hardware folded in
 * (*@new_rc: those the reverse map lacks), none of the kernel's own bits.
 * Call with the HPTE locked.  Returns false for an invalid entry.
 */
static bool htab_guest_view(struct kvm *kvm, unsigned long i, u64 *v_out, u64 *r_out,
			    unsigned long *new_rc)
{
	__be64 *hptep = htab_hptep(kvm, i);
	struct revmap_entry *rev = &kvm->arch.hpt.rev[i];
	unsigned long v = be64_to_cpu(hptep[0]) & ~HPTE_V_HVLOCK;
	unsigned long hr = be64_to_cpu(hptep[1]);

	/* Only a present entry has R and C from the hardware. */
	*new_rc = v & HPTE_V_VALID ? hr & (HPTE_R_R | HPTE_R_C) & ~rev->guest_rpte : 0;
	if (!(v & (HPTE_V_VALID | HPTE_V_ABSENT)))
		return false;
	if (cpu_has_feature(CPU_FTR_ARCH_300))
		v = hpte_new_to_old_v(v, hr);
	*v_out = (v & ~HPTE_V_ABSENT) | HPTE_V_VALID;
	*r_out = (rev->guest_rpte | *new_rc) & ~HPTE_GR_RESERVED;
	return true;
}

/*
 * Read HPTE @i for reader @fd.  A valid entry is read locked, so that it is
 * never torn; R and C the hardware set are folded into the reverse map: a
 * change for the other readers, this one returns it now.  A locked one may
 * be on its way to valid (H_ENTER marks it before it sets V): wait for it.
 * One that is not present needs no lock, see htab_hpte_present().
 * Returns 1 for a valid entry the reader wants, 0 for an invalid one (or a
 * valid one a bolted-only reader does not want), or -ENOMEM if the entry
 * could not be tracked for R and C (not returned).
 */
static int htab_read_hpte(struct kvm_htab_fd *fd, unsigned long i, u64 *v_out, u64 *r_out)
{
	struct kvm *kvm = fd->kvm;
	__be64 *hptep = htab_hptep(kvm, i);
	unsigned long v, rc;
	bool valid = false;
	int ret;

	if (htab_hpte_present(kvm, i)) {
		v = htab_lock_hpte(hptep);
		valid = htab_guest_view(kvm, i, v_out, r_out, &rc);
		if (rc)
			kvm->arch.hpt.rev[i].guest_rpte |= rc;
		htab_unlock_hpte(hptep, v);
		if (rc)
			kvmppc_hpte_changes_note_for_others(kvm, &fd->changes, i);
	}
	ret = kvmppc_hpte_changes_track_rc(kvm, i, valid, valid ? *r_out : 0);
	if (ret)
		return ret;
	return valid && (!(fd->flags & KVM_GET_HTAB_BOLTED_ONLY) || (*v_out & HPTE_V_BOLTED));
}

/* ---- Read path ---- */

/* The stream describes the table this reader was opened on, or nothing. */
static int htab_fd_check_table(struct kvm_htab_fd *fd)
{
	struct kvm *kvm = fd->kvm;

	if (kvm_is_radix(kvm) || !kvm->arch.hpt.virt ||
	    fd->changes.hpt_generation != kvm->arch.hpt_generation)
		return -ESTALE;
	return 0;
}

/*
 * Is HPTE @i, before @end, one this read returns?  On the first pass every
 * one is; later, the pending ones, whose runs are learnt a word of the
 * pending set at a time: *@run_end is where the run known so far ends, the
 * run's true end unless it is a word's.
 */
static bool htab_in_run(struct kvm_htab_fd *fd, unsigned long i, unsigned long end,
			unsigned long *run_end)
{
	if (i < *run_end)
		return true;
	if (*run_end % BITS_PER_LONG || fd->first_pass || i >= end)
		return false;
	*run_end = kvmppc_hpte_changes_run_end(&fd->changes, i, end);
	return i < *run_end;
}

/*
 * Does HPTE @i continue a run of invalid entries?  One that is not present
 * does, unread: the R/C tracking of such entries is dropped a stretch at a
 * time, from *@unread on.  A present one is read by the next record,
 * unless a bolted-only reader reads it here and does not want it.
 */
static bool htab_invalid_continues(struct kvm_htab_fd *fd, unsigned long i,
				   unsigned long *unread)
{
	u64 v, r;

	if (!htab_hpte_present(fd->kvm, i))
		return true;
	if (!(fd->flags & KVM_GET_HTAB_BOLTED_ONLY))
		return false;
	kvmppc_hpte_changes_untrack_rc(fd->kvm, *unread, i);
	if (htab_read_hpte(fd, i, &v, &r)) {
		*unread = i;
		return false;
	}
	*unread = i + 1;
	return true;
}

/*
 * Fill one record starting at HPTE @i with the run of valid entries there,
 * then the run of invalid ones, stopping before @end, at an entry this read
 * does not return (@run_end: where the run of them @i starts is known to
 * end so far, see htab_in_run()), at a full run or a full buffer, or once *@budget
 * invalid entries past the record's first were visited.  What decides the
 * record is read once only (a running guest may change an entry between two
 * reads): the entry that ends a run is read by the next record.
 * Returns the index after the record, or -ENOMEM for an entry that could
 * not be read (it starts the next record).
 */
static long htab_fill_record(struct kvm_htab_fd *fd, struct htab_out *out,
			     struct kvm_get_htab_header *hdr, unsigned long i,
			     unsigned long end, unsigned long run_end, unsigned long *budget)
{
	unsigned long unread;
	u64 v, r;
	int ret;

	for (;; i++) {
		if (!htab_in_run(fd, i, end, &run_end))
			return i;
		/* One not present is invalid, unread, see htab_invalid_continues() */
		if (!htab_hpte_present(fd->kvm, i)) {
			unread = i;
			break;
		}
		ret = htab_read_hpte(fd, i, &v, &r);
		if (ret < 0)
			return hdr->n_valid ? i : ret;
		if (!ret) {
			unread = i + 1;
			break;
		}
		if (hdr->n_valid == HTAB_RUN_MAX || !htab_out_has_room_for_hpte(out))
			return i;
		htab_out_add_hpte(out, hdr, v, r);
	}

	/* HPTE @i is invalid: count it and the invalid run after it. */
	if (hdr->n_valid) {
		if (!*budget)
			return i;
		--*budget;
	}
	hdr->n_invalid = 1;
	i++;
	while (htab_in_run(fd, i, end, &run_end) && hdr->n_invalid < HTAB_RUN_MAX &&
	       htab_invalid_continues(fd, i, &unread)) {
		if (!*budget)
			break;
		--*budget;
		hdr->n_invalid++;
		if (!(++i % SZ_1K))
			cond_resched();
	}
	if (unread < i)
		kvmppc_hpte_changes_untrack_rc(fd->kvm, unread, i);
	return i;
}

/* Fill @out with records of the HPTEs from @i, up to @end, that this read returns. */
static int htab_fill_range(struct kvm_htab_fd *fd, struct htab_out *out, unsigned long i,
			   unsigned long end, unsigned long *budget, unsigned long *next)
{
	for (;;) {
		unsigned long run_end = end;
		struct kvm_get_htab_header *hdr;
		long after;

		if (!fd->first_pass)
			i = kvmppc_hpte_changes_next(&fd->changes, i, end, &run_end);
		*next = i;
		if (i >= end)
			return 0;
		hdr = htab_out_begin(out, i);
		if (!hdr)
			return 0;
		after = htab_fill_record(fd, out, hdr, i, end, run_end, budget);
		if (after < 0 || (!hdr->n_valid && !hdr->n_invalid)) {
			htab_out_cancel(out);
			return after < 0 ? after : 0;
		}
		i = after;
		*next = i;
		if (!*budget)
			return 0;
	}
}

/* The changed HPTEs, from the cursor on, going round the table once at most. */
static int htab_fill_changed(struct kvm_htab_fd *fd, struct htab_out *out,
			     unsigned long *budget)
{
	unsigned long npte = kvmppc_hpt_npte(&fd->kvm->arch.hpt), next;
	int ret;

	ret = htab_fill_range(fd, out, fd->cursor, npte, budget, &next);
	if (ret || next < npte || !fd->cursor)
		return ret;
	return htab_fill_range(fd, out, 0, fd->cursor, budget, &next);
}

/* A record of HPTE @i alone, whatever it holds: true, if not news. */
static int htab_fill_one(struct kvm_htab_fd *fd, struct htab_out *out, unsigned long i)
{
	struct kvm_get_htab_header *hdr = htab_out_begin(out, i);
	u64 v, r;
	int ret;

	ret = htab_read_hpte(fd, i, &v, &r);
	if (ret < 0) {
		htab_out_cancel(out);
		return ret;
	}
	if (ret)
		htab_out_add_hpte(out, hdr, v, r);
	else
		hdr->n_invalid = 1;
	return 0;
}

/*
 * Fill @out with whole records: on the first pass every HPTE from the
 * cursor up to the end of the table, later the changed HPTEs.  A read
 * gathers changes in its first fill only (@start): what changes while it
 * copies out comes in the next read.  With nothing changed, R and C the
 * hardware set are all that may be left: sweep for them.  A sweep cut
 * short by the budget has not shown that nothing changed, and a read that
 * returns nothing says so: return the last entry it looked at instead.
 */
static int htab_fill(struct kvm_htab_fd *fd, struct htab_out *out, unsigned long *budget,
		     bool start)
{
	struct kvm *kvm = fd->kvm;
	unsigned long harvest = KVMPPC_HPTE_HARVEST_WORDS, next, last = 0;
	int ret, harvest_err = 0, sweeping;

	/*
	 * Changes a harvest cannot allocate for stay shared, for a later one:
	 * this read goes on with what it has, and fails only if it would
	 * otherwise say that nothing changed.
	 */
	if (start)
		harvest_err = kvmppc_hpte_changes_gather(kvm, &fd->changes, &harvest);
	if (fd->first_pass)
		return htab_fill_range(fd, out, fd->cursor, kvmppc_hpt_npte(&kvm->arch.hpt),
				       budget, &next);

	ret = htab_fill_changed(fd, out, budget);
	if (ret || out->len || !start)
		return ret;
	if (harvest_err)
		return harvest_err;

	sweeping = kvmppc_hpte_changes_sweep_rc(kvm, budget, &last);
	harvest = KVMPPC_HPTE_HARVEST_WORDS;
	ret = kvmppc_hpte_changes_gather(kvm, &fd->changes, &harvest);
	if (!ret)
		ret = htab_fill_changed(fd, out, budget);
	if (ret || out->len || !sweeping)
		return ret;
	return htab_fill_one(fd, out, last);
}

/* Where a reader was, to go back there if userspace does not get a read. */
struct htab_position {
	unsigned long cursor;
	unsigned long track_end;
	bool first_pass;
};

static void htab_save_position(struct kvm_htab_fd *fd, struct htab_position *pos)
{
	pos->cursor = fd->cursor;
	pos->track_end = fd->changes.track_end;
	pos->first_pass = fd->first_pass;
}

/*
 * Userspace is getting the records in @out: the HPTEs they cover are no
 * longer pending for this fd, and the next read starts after the last of
 * them.  On the first pass, changes to the entries it has passed are
 * tracked from now on.
 */
static void htab_consume(struct kvm_htab_fd *fd, struct htab_out *out)
{
	unsigned long npte = kvmppc_hpt_npte(&fd->kvm->arch.hpt);
	size_t pos;

	for (pos = 0; pos < out->len; ) {
		struct kvm_get_htab_header *hdr = (void *)(out->buf + pos);
		unsigned long n = hdr->n_valid + hdr->n_invalid;

		kvmppc_hpte_changes_consume(fd->kvm, &fd->changes, hdr->index, n);
		fd->cursor = hdr->index + n;
		pos += htab_record_bytes(hdr);
	}
	if (fd->first_pass)
		fd->changes.track_end = max(fd->changes.track_end, fd->cursor);
	if (fd->cursor >= npte) {
		fd->cursor = 0;
		fd->first_pass = false;
		fd->changes.track_end = npte;
	}
}

/*
 * The copy of @out to userspace failed: go back to @pos, and have the
 * changed entries @out returned pending again.  The first pass reads its
 * entries again anyway.
 */
static void htab_unconsume(struct kvm_htab_fd *fd, struct htab_out *out,
			   const struct htab_position *pos)
{
	struct kvm *kvm = fd->kvm;
	size_t off;

	mutex_lock(&kvm->arch.mmu_setup_lock);
	if (!pos->first_pass && !htab_fd_check_table(fd)) {
		for (off = 0; off < out->len; ) {
			struct kvm_get_htab_header *hdr = (void *)(out->buf + off);

			kvmppc_hpte_changes_unconsume(kvm, &fd->changes, hdr->index,
						      hdr->n_valid + hdr->n_invalid);
			off += htab_record_bytes(hdr);
		}
	}
	fd->cursor = pos->cursor;
	fd->changes.track_end = pos->track_end;
	fd->first_pass = pos->first_pass;
	mutex_unlock(&kvm->arch.mmu_setup_lock);
}

static ssize_t kvm_htab_fd_read(struct file *file, char __user *buf, size_t count,
				loff_t *ppos)
{
	struct kvm_htab_fd *fd = file->private_data;
	struct kvm *kvm = fd->kvm;
	unsigned long budget = HTAB_READ_VISITS;
	struct htab_out out = {};
	ssize_t done = 0;
	int ret = 0;

	if (count < HTAB_READ_MIN)
		return -EINVAL;
	out.buf = kvmalloc(min_t(size_t, count, HTAB_READ_CHUNK), GFP_KERNEL_ACCOUNT);
	if (!out.buf)
		return -ENOMEM;

	mutex_lock(&fd->lock);
	while (count - done >= HTAB_READ_MIN) {
		struct htab_position pos;

		htab_save_position(fd, &pos);
		out.len = 0;
		out.size = min_t(size_t, count - done, HTAB_READ_CHUNK);

		mutex_lock(&kvm->arch.mmu_setup_lock);
		ret = htab_fd_check_table(fd);
		if (!ret) {
			kvmppc_hpte_changes_read_begin(kvm, &fd->changes, fd->first_pass, !done);
			ret = htab_fill(fd, &out, &budget, !done);
			htab_consume(fd, &out);
			kvmppc_hpte_changes_read_end(kvm, &fd->changes);
		}
		mutex_unlock(&kvm->arch.mmu_setup_lock);
		if (!out.len)
			break;

		/* An error after some records waits for the next read. */
		ret = 0;
		if (copy_to_user(buf + done, out.buf, out.len)) {
			htab_unconsume(fd, &out, &pos);
			ret = -EFAULT;
			break;
		}
		done += out.len;
		if ((pos.first_pass && !fd->first_pass) || !budget)
			break;
		cond_resched();
	}
	mutex_unlock(&fd->lock);
	kvfree(out.buf);
	return done ? done : ret;
}

/* ---- Write path ---- */

/*
 * Check an HPTE from the stream the way H_ENTER would: a valid entry, a
 * segment size and page size the MMU knows, and, when its real address is
 * guest RAM, a page lying wholly inside one memslot.  An address outside
 * every memslot is emulated MMIO, as for H_ENTER.  The kernel's own bits in
 * V (lock, host-absent) are ignored, as H_ENTER ignores them.  Call under
 * kvm->srcu, held until the entry is entered: the memslot must not go away
 * between the check and H_ENTER's walk of its reverse map.
 */
static int htab_check_hpte(struct kvm *kvm, u64 v, u64 r)
{
	struct kvm_memory_slot *memslot;
	unsigned long psize, gpa;

	if (!(v & HPTE_V_VALID))
		return -EINVAL;
	if ((v >> HPTE_V_SSIZE_SHIFT) > MMU_SEGSIZE_1T)
		return -EINVAL;
	psize = kvmppc_actual_pgsz(v, r);
	if (!psize)
		return -EINVAL;

	gpa = (r & HPTE_R_RPN) & ~(psize - 1);
	memslot = gfn_to_memslot(kvm, gpa >> PAGE_SHIFT);
	if (memslot && !(memslot->flags & KVM_MEMSLOT_INVALID) &&
	    (!slot_is_aligned(memslot, psize) ||
	     gpa + psize > (memslot->base_gfn + memslot->npages) << PAGE_SHIFT))
		return -EINVAL;
	return 0;
}

/* Make HPTEs [@i, @i + @n) invalid, whatever they were.  Under kvm->srcu. */
static void htab_clear_hptes(struct kvm *kvm, unsigned long i, unsigned long n)
{
	unsigned long old[2], end = i + n;

	for (; i < end; i++) {
		if (be64_to_cpu(READ_ONCE(htab_hptep(kvm, i)[0])) & (HPTE_V_VALID | HPTE_V_ABSENT))
			kvmppc_do_h_remove(kvm, 0, i, 0, old);
		if (!((i + 1) % SZ_1K))
			cond_resched();
	}
}

/*
 * Put @v, @r (H_ENTER's layout; V 0 for an invalid entry) at HPTE @i, in
 * place of whatever is there.  Under kvm->srcu.
 */
static long htab_replace_hpte(struct kvm *kvm, unsigned long i, u64 v, u64 r)
{
	unsigned long idx_ret;

	htab_clear_hptes(kvm, i, 1);
	if (!(v & HPTE_V_VALID))
		return H_SUCCESS;
	return kvmppc_virtmode_do_h_enter(kvm, H_EXACT, i, v, r, &idx_ret);
}

/*
 * HPTE @i as the guest sees it (V 0 if invalid), to put it back later.  No
 * vcpu runs, and mmu_setup_lock keeps other writers out: an entry seen
 * invalid stays so, and needs no lock (a restore writes into invalid ones).
 */
static void htab_save_hpte(struct kvm *kvm, unsigned long i, __be64 *saved)
{
	__be64 *hptep = htab_hptep(kvm, i);
	unsigned long v_locked, rc;
	u64 v = 0, r = 0;

	if (htab_hpte_present(kvm, i)) {
		v_locked = htab_lock_hpte(hptep);
		if (!htab_guest_view(kvm, i, &v, &r, &rc))
			v = 0;
		htab_unlock_hpte(hptep, v_locked);
	}
	saved[0] = cpu_to_be64(v);
	saved[1] = cpu_to_be64(r);
}

/*
 * A VRMA entry describes how the guest's real mode is mapped: set the VRMA
 * up to match, as the first KVM_RUN would have.  The SLB encodes the base
 * page size; from ISA v3.00 on, the partition-table entry (set up once the
 * write is done) carries it, not LPCR.
 */
static void htab_set_vrma(struct kvm *kvm, u64 v, u64 r)
{
	unsigned long senc = slb_pgsize_encoding(1UL << kvmppc_hpte_base_page_shift(v, r));

	kvm->arch.vrma_slb_v = senc | SLB_VSID_B_1T | (VRMA_VSID << SLB_VSID_SHIFT_1T);
	if (!cpu_has_feature(CPU_FTR_ARCH_300))
		kvmppc_update_lpcr(kvm, senc << (LPCR_VRMASD_SH - 4), LPCR_VRMASD);
}

/*
 * Enter the @n entries of @hptes at HPTEs [@index, @index + @n), all or
 * none: the entries they replace are kept in @saved and put back if the
 * host refuses one (a host page smaller than the guest page, say), so that
 * the cost of undoing falls on the failure path only.  Under kvm->srcu.
 */
static int htab_enter_hptes(struct kvm *kvm, unsigned long index, __be64 *hptes,
			    __be64 *saved, unsigned long n)
{
	unsigned long k, j;
	long hret;

	for (k = 0; k < n; k++) {
		u64 v = be64_to_cpu(hptes[2 * k]), r = be64_to_cpu(hptes[2 * k + 1]);

		htab_save_hpte(kvm, index + k, &saved[2 * k]);
		hret = htab_replace_hpte(kvm, index + k, v, r);
		if (hret == H_SUCCESS) {
			if (!((k + 1) % SZ_1K))
				cond_resched();
			continue;
		}

		pr_warn_ratelimited("KVM: HPT fd: host refused HPTE %lu (v %llx r %llx): %ld\n",
				    index + k, v, r, hret);
		for (j = k + 1; j-- > 0; ) {
			v = be64_to_cpu(saved[2 * j]);
			r = be64_to_cpu(saved[2 * j + 1]);
			if (htab_replace_hpte(kvm, index + j, v, r) != H_SUCCESS)
				pr_warn_ratelimited("KVM: HPT fd: HPTE %lu lost putting it back\n",
						    index + j);
		}
		return -EIO;
	}
	return 0;
}

/*
 * Check the @n entries of @hptes and apply them at HPTEs [@index, @index + @n),
 * keeping those they replace in @saved, then make the @n_invalid after them
 * invalid.  All or nothing, under kvm->srcu from the check to the last
 * H_ENTER.
 */
static int htab_apply_record(struct kvm *kvm, unsigned long index, __be64 *hptes,
			     __be64 *saved, unsigned long n, unsigned long n_invalid,
			     bool *vrma)
{
	long vrma_k = -1;
	unsigned long k;
	int ret = 0, idx;

	idx = srcu_read_lock(&kvm->srcu);
	for (k = 0; k < n; k++) {
		u64 v = be64_to_cpu(hptes[2 * k]);

		ret = htab_check_hpte(kvm, v, be64_to_cpu(hptes[2 * k + 1]));
		if (ret)
			goto out;
		if (is_vrma_hpte(v))
			vrma_k = k;
	}
	if (n) {
		ret = htab_enter_hptes(kvm, index, hptes, saved, n);
		if (ret)
			goto out;
	}
	if (vrma_k >= 0) {
		htab_set_vrma(kvm, be64_to_cpu(hptes[2 * vrma_k]),
			      be64_to_cpu(hptes[2 * vrma_k + 1]));
		*vrma = true;
	}
	htab_clear_hptes(kvm, index + n, n_invalid);
out:
	srcu_read_unlock(&kvm->srcu, idx);
	return ret;
}

/*
 * Entries must not change under a running guest: with mmu_ready clear no
 * vcpu enters the guest, and if one is in KVM_RUN already, refuse.
 */
static int htab_keep_vcpus_out(struct kvm *kvm, bool *mmu_was_ready)
{
	/*
	 * mmu_ready is set only under mmu_setup_lock, which we hold.  If it is
	 * clear already, no barrier is needed to keep vcpus out: one that
	 * sees it clear waits for this lock in kvmhv_setup_mmu() before it
	 * enters the guest.
	 */
	*mmu_was_ready = kvm->arch.mmu_ready;
	if (*mmu_was_ready) {
		kvm->arch.mmu_ready = 0;
		/* Pairs with kvmppc_vcpu_run_hv(): vcpus_running, then mmu_ready. */
		smp_mb();
	}
	if (!atomic_read(&kvm->arch.vcpus_running))
		return 0;
	kvm->arch.mmu_ready = *mmu_was_ready;
	return -EBUSY;
}

/*
 * Apply the whole records in @buf[0, @len), in order, under one hold of
 * mmu_setup_lock: records as in the stream, each entry 8-byte aligned;
 * @saved has room for as many entries.  Returns the bytes of the records
 * applied, or the error of the first if it failed.
 */
static ssize_t htab_apply(struct kvm *kvm, u8 *buf, size_t len, __be64 *saved)
{
	bool mmu_was_ready, vrma = false;
	size_t pos = 0;
	int ret;

	mutex_lock(&kvm->arch.mmu_setup_lock);
	ret = -ESTALE;
	if (kvm_is_radix(kvm) || !kvm->arch.hpt.virt)
		goto unlock;
	ret = htab_keep_vcpus_out(kvm, &mmu_was_ready);
	if (ret)
		goto unlock;

	while (pos < len) {
		struct kvm_get_htab_header hdr;

		memcpy(&hdr, buf + pos, HTAB_HEADER_BYTES);
		ret = -EINVAL;
		if ((u64)hdr.index + hdr.n_valid + hdr.n_invalid >
		    kvmppc_hpt_npte(&kvm->arch.hpt))
			break;
		ret = htab_apply_record(kvm, hdr.index, (__be64 *)(buf + pos + HTAB_HEADER_BYTES),
					saved, hdr.n_valid, hdr.n_invalid, &vrma);
		if (ret)
			break;
		pos += htab_record_bytes(&hdr);
	}

	/* With the VRMA restored the guest can run as it did; else KVM_RUN sets it up. */
	if (vrma && cpu_has_feature(CPU_FTR_ARCH_300))
		kvmppc_setup_partition_table(kvm);
	/* vcpus read mmu_ready without the lock: the HPT and VRMA first. */
	smp_wmb();
	kvm->arch.mmu_ready = mmu_was_ready || vrma;
unlock:
	mutex_unlock(&kvm->arch.mmu_setup_lock);
	return pos ? pos : ret;
}

/*
 * Room for @bytes of records in the first half of the fd's buffer, and for
 * the entries they replace in the second: kept between writes, as QEMU
 * writes one record per write().
 */
static u8 *htab_write_buffer(struct kvm_htab_fd *fd, size_t bytes)
{
	size_t size = 2 * max_t(size_t, bytes, SZ_4K);

	if (size <= fd->record_size)
		return fd->record;
	kvfree(fd->record);
	fd->record_size = 0;
	fd->record = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	if (fd->record)
		fd->record_size = size;
	return fd->record;
}

/*
 * Apply the whole records among the next 64 KiB at @ubuf, at least one
 * however large, as many as HTAB_WRITE_ENTRIES entries, under one lock
 * hold.  They are copied in first, with no lock but the fd's; each is
 * checked whole before the HPT is touched, and undone if the host refuses
 * one of its entries.  Returns the bytes applied, or an error.
 */
static ssize_t htab_write_records(struct kvm_htab_fd *fd, const char __user *ubuf, size_t len)
{
	size_t chunk = min_t(size_t, len, HTAB_WRITE_CHUNK), copied, pos = 0, bytes;
	unsigned long entries = 0;
	struct kvm_get_htab_header hdr;
	u8 *buf;

	if (len < HTAB_HEADER_BYTES)
		return -EINVAL;
	buf = htab_write_buffer(fd, chunk);
	if (!buf)
		return -ENOMEM;
	copied = chunk - copy_from_user(buf, ubuf, chunk);

	while (copied - pos >= HTAB_HEADER_BYTES) {
		memcpy(&hdr, buf + pos, HTAB_HEADER_BYTES);
		bytes = htab_record_bytes(&hdr);
		if (copied - pos < bytes ||
		    (pos && entries + hdr.n_valid + hdr.n_invalid > HTAB_WRITE_ENTRIES))
			break;
		entries += hdr.n_valid + hdr.n_invalid;
		pos += bytes;
	}

	if (!pos) {
		/* The first record: cut short, larger than a chunk, or not copied. */
		if (copied < HTAB_HEADER_BYTES)
			return -EFAULT;
		bytes = htab_record_bytes((struct kvm_get_htab_header *)buf);
		if (len < bytes)
			return -EINVAL;
		if (copied < chunk)
			return -EFAULT;
		buf = htab_write_buffer(fd, bytes);
		if (!buf)
			return -ENOMEM;
		if (copy_from_user(buf, ubuf, bytes))
			return -EFAULT;
		pos = bytes;
	}
	return htab_apply(fd->kvm, buf, pos, (__be64 *)(buf + fd->record_size / 2));
}

static ssize_t kvm_htab_fd_write(struct file *file, const char __user *buf, size_t count,
				 loff_t *ppos)
{
	struct kvm_htab_fd *fd = file->private_data;
	ssize_t done = 0, ret = 0;

	/* Hints, to fail before parsing: htab_apply() checks under the lock. */
	if (READ_ONCE(fd->kvm->arch.radix) || !READ_ONCE(fd->kvm->arch.hpt.virt))
		return -ESTALE;
	if (atomic_read(&fd->kvm->arch.vcpus_running))
		return -EBUSY;

	mutex_lock(&fd->lock);
	while (done < count) {
		/* A whole stream may take long: a task being killed stops between batches. */
		if (done) {
			if (fatal_signal_pending(current))
				break;
			cond_resched();
		}
		ret = htab_write_records(fd, buf + done, count - done);
		if (ret < 0)
			break;
		done += ret;
	}
	mutex_unlock(&fd->lock);
	return done ? done : ret;
}

/* ---- The fd ---- */

static int kvm_htab_fd_release(struct inode *inode, struct file *file)
{
	struct kvm_htab_fd *fd = file->private_data;
	struct kvm *kvm = fd->kvm;

	if (!htab_fd_is_writer(fd)) {
		mutex_lock(&kvm->arch.mmu_setup_lock);
		kvmppc_hpte_changes_remove_reader(kvm, &fd->changes);
		mutex_unlock(&kvm->arch.mmu_setup_lock);
	}
	kvfree(fd->record);
	mutex_destroy(&fd->lock);
	kfree(fd);
	kvm_put_kvm(kvm);
	return 0;
}

static const struct file_operations kvm_htab_fd_fops = {
	.owner		= THIS_MODULE,
	.read		= kvm_htab_fd_read,
	.write		= kvm_htab_fd_write,
	.release	= kvm_htab_fd_release,
	.llseek		= noop_llseek,
};

/* The table must exist, be an HPT, and fit the stream's 32-bit index. */
static int htab_fd_check_vm(struct kvm *kvm)
{
	if (kvm_is_radix(kvm))
		return -EINVAL;
	if (!kvm->arch.hpt.virt)
		return -ENODEV;
	if (kvmppc_hpt_npte(&kvm->arch.hpt) - 1 > U32_MAX)
		return -EOVERFLOW;
	return 0;
}

int kvm_vm_ioctl_get_htab_fd(struct kvm *kvm, struct kvm_get_htab_fd *ghf)
{
	struct kvm_htab_fd *fd;
	int ret;

	if (ghf->flags & ~(KVM_GET_HTAB_BOLTED_ONLY | KVM_GET_HTAB_WRITE) ||
	    ghf->reserved[0] || ghf->reserved[1])
		return -EINVAL;

	fd = kzalloc(sizeof(*fd), GFP_KERNEL_ACCOUNT);
	if (!fd)
		return -ENOMEM;
	fd->kvm = kvm;
	fd->flags = ghf->flags;
	mutex_init(&fd->lock);
	fd->cursor = ghf->start_index;
	fd->first_pass = true;
	fd->changes.track_end = ghf->start_index;

	mutex_lock(&kvm->arch.mmu_setup_lock);
	ret = htab_fd_check_vm(kvm);
	if (!ret && !htab_fd_is_writer(fd)) {
		ret = -EINVAL;
		if (ghf->start_index < kvmppc_hpt_npte(&kvm->arch.hpt))
			ret = kvmppc_hpte_changes_add_reader(kvm, &fd->changes);
	}
	mutex_unlock(&kvm->arch.mmu_setup_lock);
	if (ret)
		goto out_free;

	kvm_get_kvm(kvm);
	ret = anon_inode_getfd("kvm-htab", &kvm_htab_fd_fops, fd,
			       (htab_fd_is_writer(fd) ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (ret >= 0)
		return ret;

	kvm_put_kvm_no_destroy(kvm);
	if (!htab_fd_is_writer(fd)) {
		mutex_lock(&kvm->arch.mmu_setup_lock);
		kvmppc_hpte_changes_remove_reader(kvm, &fd->changes);
		mutex_unlock(&kvm->arch.mmu_setup_lock);
	}
out_free:
	mutex_destroy(&fd->lock);
	kfree(fd);
	return ret;
}
