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
 * Everything below runs under kvm->arch.mmu_setup_lock, which keeps the
 * HPT from being resized, reallocated or switched to radix meanwhile.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/kvm_host.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <asm/kvm_book3s.h>
#include <asm/kvm_book3s_hpte_changes.h>
#include <asm/kvm_ppc.h>

#define HTAB_HPTE_BYTES		(2 * sizeof(__be64))
#define HTAB_HEADER_BYTES	sizeof(struct kvm_get_htab_header)
/* The smallest read that can always make progress: one record, one HPTE. */
#define HTAB_READ_MIN		(HTAB_HEADER_BYTES + HTAB_HPTE_BYTES)
/* Records are built in a kernel buffer of at most this size, then copied. */
#define HTAB_READ_CHUNK		SZ_64K
#define HTAB_RUN_MAX		U16_MAX

struct kvm_htab_fd {
	struct kvm *kvm;
	u64 flags;
	/* Readers only. */
	struct kvmppc_hpte_changes_reader changes;
	unsigned long cursor;		/* next HPTE index to look at */
	bool first_pass;
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
 * Read HPTE @i for reader @fd, locked so that it is never torn.  R and C the
 * hardware set are folded into the reverse map: a change for the other
 * readers; this one returns it now.  Returns false for an invalid entry, and
 * for a valid one a bolted-only reader does not want.
 */
static bool htab_read_hpte(struct kvm_htab_fd *fd, unsigned long i, u64 *v_out, u64 *r_out)
{
	struct kvm *kvm = fd->kvm;
	__be64 *hptep = htab_hptep(kvm, i);
	unsigned long v, rc;
	bool valid;

	v = htab_lock_hpte(hptep);
	valid = htab_guest_view(kvm, i, v_out, r_out, &rc);
	if (rc) {
		kvm->arch.hpt.rev[i].guest_rpte |= rc;
		kvmppc_hpte_changes_note_for_others(kvm, &fd->changes, i);
	}
	htab_unlock_hpte(hptep, v);

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

static bool htab_wanted(struct kvm_htab_fd *fd, unsigned long i)
{
	return fd->first_pass || test_bit(i, fd->changes.pending);
}

/*
 * Fill one record starting at HPTE @i with the run of valid entries there,
 * then the run of invalid ones, stopping before @end, at an entry this read
 * does not return, at a full run or a full buffer.  What decides the
 * record is read once only (a running guest may change an entry between two
 * reads): the entry that ends a run is read again, locked, by the next
 * record.  Returns the index after the record.
 */
static unsigned long htab_fill_record(struct kvm_htab_fd *fd, struct htab_out *out,
				      struct kvm_get_htab_header *hdr,
				      unsigned long i, unsigned long end)
{
	u64 v, r;

	for (; i < end && htab_wanted(fd, i); i++) {
		if (!htab_read_hpte(fd, i, &v, &r))
			break;
		if (hdr->n_valid == HTAB_RUN_MAX || !htab_out_has_room_for_hpte(out))
			return i;
		htab_out_add_hpte(out, hdr, v, r);
	}
	if (i >= end || !htab_wanted(fd, i))
		return i;

	/* HPTE @i was read invalid.  A run may be 65535 entries long. */
	do {
		hdr->n_invalid++;
		i++;
		if (!(i % SZ_1K))
			cond_resched();
	} while (i < end && htab_wanted(fd, i) && hdr->n_invalid < HTAB_RUN_MAX &&
		 !htab_read_hpte(fd, i, &v, &r));
	return i;
}

/*
 * Fill @out with whole records from the cursor on: on the first pass every
 * HPTE up to the end of the table, later the changed HPTEs, going round the
 * table once at most.
 */
static void htab_fill(struct kvm_htab_fd *fd, struct htab_out *out)
{
	unsigned long npte = kvmppc_hpt_npte(&fd->kvm->arch.hpt);
	unsigned long i = fd->cursor, end = npte;
	bool wrapped = false;

	for (;;) {
		struct kvm_get_htab_header *hdr;

		if (!fd->first_pass) {
			i = find_next_bit(fd->changes.pending, end, i);
			if (i >= end) {
				if (wrapped || !fd->cursor)
					break;
				wrapped = true;
				end = fd->cursor;
				i = 0;
				continue;
			}
		} else if (i >= npte) {
			break;
		}

		hdr = htab_out_begin(out, i);
		if (!hdr)
			break;
		i = htab_fill_record(fd, out, hdr, i, end);
		if (!hdr->n_valid && !hdr->n_invalid) {
			htab_out_cancel(out);
			break;
		}
		if (fd->first_pass && i >= npte)
			break;		/* a read ends where the first pass ends */
	}
}

/*
 * Userspace has the records in @out: the HPTEs they cover are no longer
 * pending for this fd, and the next read starts after the last of them.
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
	if (fd->cursor >= npte) {
		fd->cursor = 0;
		fd->first_pass = false;
	}
}

static ssize_t kvm_htab_fd_read(struct file *file, char __user *buf, size_t count,
				loff_t *ppos)
{
	struct kvm_htab_fd *fd = file->private_data;
	struct kvm *kvm = fd->kvm;
	struct htab_out out = {};
	ssize_t done = 0;
	int ret = 0;

	if (count < HTAB_READ_MIN)
		return -EINVAL;
	out.buf = kvmalloc(min_t(size_t, count, HTAB_READ_CHUNK), GFP_KERNEL_ACCOUNT);
	if (!out.buf)
		return -ENOMEM;

	mutex_lock(&kvm->arch.mmu_setup_lock);
	ret = htab_fd_check_table(fd);
	if (ret)
		goto unlock;

	kvmppc_hpte_changes_harvest(kvm);
	if (!fd->first_pass && !fd->changes.nr_pending) {
		/* Only 0 if nothing changed at all: R/C bits included. */
		kvmppc_hpte_changes_sweep_rc(kvm);
		kvmppc_hpte_changes_harvest(kvm);
	}

	while (count - done >= HTAB_READ_MIN) {
		bool first_pass = fd->first_pass;

		out.len = 0;
		out.size = min_t(size_t, count - done, HTAB_READ_CHUNK);
		htab_fill(fd, &out);
		if (!out.len)
			break;
		/* Nothing is consumed unless userspace got it. */
		if (copy_to_user(buf + done, out.buf, out.len)) {
			ret = -EFAULT;
			break;
		}
		htab_consume(fd, &out);
		done += out.len;
		if (first_pass && !fd->first_pass)
			break;
		cond_resched();
	}
unlock:
	mutex_unlock(&kvm->arch.mmu_setup_lock);
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

/* Make HPTE @i invalid, whatever it was.  Under kvm->srcu. */
static void htab_clear_hpte(struct kvm *kvm, unsigned long i)
{
	unsigned long old[2];

	if (be64_to_cpu(READ_ONCE(htab_hptep(kvm, i)[0])) & (HPTE_V_VALID | HPTE_V_ABSENT))
		kvmppc_do_h_remove(kvm, 0, i, 0, old);
}

/*
 * Put @v, @r (H_ENTER's layout; V 0 for an invalid entry) at HPTE @i, in
 * place of whatever is there.  Under kvm->srcu.
 */
static long htab_replace_hpte(struct kvm *kvm, unsigned long i, u64 v, u64 r)
{
	unsigned long idx_ret;

	htab_clear_hpte(kvm, i);
	if (!(v & HPTE_V_VALID))
		return H_SUCCESS;
	return kvmppc_virtmode_do_h_enter(kvm, H_EXACT, i, v, r, &idx_ret);
}

/* HPTE @i as the guest sees it (V 0 if invalid), to put it back later. */
static void htab_save_hpte(struct kvm *kvm, unsigned long i, __be64 *saved)
{
	__be64 *hptep = htab_hptep(kvm, i);
	unsigned long v_locked, rc;
	u64 v = 0, r = 0;

	v_locked = htab_lock_hpte(hptep);
	if (!htab_guest_view(kvm, i, &v, &r, &rc))
		v = 0;
	htab_unlock_hpte(hptep, v_locked);
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
 * then make the @n_invalid after them invalid.  All or nothing, under
 * kvm->srcu from the check to the last H_ENTER.
 */
static int htab_apply_record(struct kvm *kvm, unsigned long index, __be64 *hptes,
			     unsigned long n, unsigned long n_invalid, bool *vrma)
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
		ret = htab_enter_hptes(kvm, index, hptes, hptes + 2 * n, n);
		if (ret)
			goto out;
	}
	if (vrma_k >= 0) {
		htab_set_vrma(kvm, be64_to_cpu(hptes[2 * vrma_k]),
			      be64_to_cpu(hptes[2 * vrma_k + 1]));
		*vrma = true;
	}
	for (k = 0; k < n_invalid; k++) {
		htab_clear_hpte(kvm, index + n + k);
		if (!((k + 1) % SZ_1K))
			cond_resched();
	}
out:
	srcu_read_unlock(&kvm->srcu, idx);
	return ret;
}

/*
 * Apply one record of at most @len bytes at @ubuf, all or nothing: it is
 * copied in first (no fault under kvm->srcu), checked whole before the HPT
 * is touched, and undone if the host refuses one of its entries.  Returns
 * the bytes it took, or an error.
 */
static ssize_t htab_write_record(struct kvm *kvm, const char __user *ubuf, size_t len,
				 bool *vrma)
{
	unsigned long npte = kvmppc_hpt_npte(&kvm->arch.hpt);
	struct kvm_get_htab_header hdr;
	__be64 *hptes = NULL;
	size_t bytes;
	int ret;

	if (len < HTAB_HEADER_BYTES)
		return -EINVAL;
	if (copy_from_user(&hdr, ubuf, HTAB_HEADER_BYTES))
		return -EFAULT;
	if ((u64)hdr.index + hdr.n_valid + hdr.n_invalid > npte)
		return -EINVAL;
	bytes = HTAB_HEADER_BYTES + (size_t)hdr.n_valid * HTAB_HPTE_BYTES;
	if (len < bytes)
		return -EINVAL;

	if (hdr.n_valid) {
		/* The record's entries, then room to keep the ones they replace. */
		hptes = kvmalloc_array(hdr.n_valid, 2 * HTAB_HPTE_BYTES, GFP_KERNEL_ACCOUNT);
		if (!hptes)
			return -ENOMEM;
		if (copy_from_user(hptes, ubuf + HTAB_HEADER_BYTES, bytes - HTAB_HEADER_BYTES)) {
			kvfree(hptes);
			return -EFAULT;
		}
	}
	ret = htab_apply_record(kvm, hdr.index, hptes, hdr.n_valid, hdr.n_invalid, vrma);
	kvfree(hptes);
	return ret ? ret : bytes;
}

/*
 * Entries must not change under a running guest: with mmu_ready clear no
 * vcpu enters the guest, and if one is in KVM_RUN already, refuse.
 */
static int htab_keep_vcpus_out(struct kvm *kvm, bool *mmu_was_ready)
{
	*mmu_was_ready = kvm->arch.mmu_ready;
	kvm->arch.mmu_ready = 0;
	/* Pairs with kvmppc_vcpu_run_hv(): vcpus_running, then mmu_ready. */
	smp_mb();
	if (!atomic_read(&kvm->arch.vcpus_running))
		return 0;
	kvm->arch.mmu_ready = *mmu_was_ready;
	return -EBUSY;
}

static ssize_t kvm_htab_fd_write(struct file *file, const char __user *buf, size_t count,
				 loff_t *ppos)
{
	struct kvm_htab_fd *fd = file->private_data;
	struct kvm *kvm = fd->kvm;
	bool mmu_was_ready, vrma = false;
	ssize_t done = 0, ret = 0;

	mutex_lock(&kvm->arch.mmu_setup_lock);
	if (kvm_is_radix(kvm) || !kvm->arch.hpt.virt) {
		ret = -ESTALE;
		goto unlock;
	}

	ret = htab_keep_vcpus_out(kvm, &mmu_was_ready);
	if (ret)
		goto unlock;

	while (done < count) {
		ret = htab_write_record(kvm, buf + done, count - done, &vrma);
		if (ret < 0)
			break;
		done += ret;
		cond_resched();
	}

	/* With the VRMA restored the guest can run as it did; else KVM_RUN sets it up. */
	if (vrma && cpu_has_feature(CPU_FTR_ARCH_300))
		kvmppc_setup_partition_table(kvm);
	/* vcpus read mmu_ready without the lock: the HPT and VRMA first. */
	smp_wmb();
	kvm->arch.mmu_ready = mmu_was_ready || vrma;
unlock:
	mutex_unlock(&kvm->arch.mmu_setup_lock);
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
	fd->cursor = ghf->start_index;
	fd->first_pass = true;

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
	kfree(fd);
	return ret;
}
