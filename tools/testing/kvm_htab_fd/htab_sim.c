// SPDX-License-Identifier: GPL-2.0-only
/*
 * The simulated guest and host: every change to an HPTE is made the way
 * the kernel makes it, under the HPTE lock and noted with the real
 * kvmppc_hpte_note_change().  The hardware's R/C updates are not noted,
 * as on a real machine.
 */
#include "htab_sim.h"

struct kvm *sim_vm_create(unsigned int order, unsigned long ram_bytes)
{
	struct kvm *kvm = calloc(1, sizeof(*kvm));

	SHIM_FATAL_IF(!kvm);
	kvm->users = 1;
	INIT_LIST_HEAD(&kvm->arch.hpte_readers);
	kvm->nr_memslots = 1;
	kvm->memslots[0].base_gfn = 0;
	kvm->memslots[0].npages = ram_bytes >> PAGE_SHIFT;
	sim_vm_reallocate(kvm, order);
	kvm->arch.mmu_ready = 1;
	return kvm;
}

static void sim_vm_free_hpt(struct kvm *kvm)
{
	struct kvm_hpt_info *hpt = &kvm->arch.hpt;

	if (!hpt->virt)
		return;
	kvmppc_hpte_changes_free(hpt);
	free((void *)hpt->virt);
	free(hpt->rev);
	hpt->virt = 0;
	hpt->rev = NULL;
	hpt->order = 0;		/* as kvmppc_free_hpt() leaves it */
}

/* As kvmppc_set_hpt() does, with the generation bump of our series. */
void sim_vm_reallocate(struct kvm *kvm, unsigned int order)
{
	struct kvm_hpt_info *hpt = &kvm->arch.hpt;
	unsigned long npte = 1UL << (order - 4);

	mutex_lock(&kvm->arch.mmu_setup_lock);
	sim_vm_free_hpt(kvm);
	hpt->order = order;
	hpt->virt = (unsigned long)aligned_alloc(1UL << 18 > (1UL << order) ?
						 1UL << order : 1UL << 18, 1UL << order);
	hpt->rev = calloc(npte, sizeof(*hpt->rev));
	SHIM_FATAL_IF(!hpt->virt || !hpt->rev);
	memset((void *)hpt->virt, 0, 1UL << order);
	SHIM_FATAL_IF(kvmppc_hpte_changes_alloc(hpt));
	kvm->arch.radix = false;
	kvm->arch.hpt_generation++;
	mutex_unlock(&kvm->arch.mmu_setup_lock);
}

void sim_vm_make_radix(struct kvm *kvm)
{
	mutex_lock(&kvm->arch.mmu_setup_lock);
	sim_vm_free_hpt(kvm);
	kvm->arch.radix = true;
	kvm->arch.hpt_generation++;
	mutex_unlock(&kvm->arch.mmu_setup_lock);
}

void sim_vm_destroy(struct kvm *kvm)
{
	SHIM_FATAL_IF(kvm->users != 1);	/* an fd still holds the VM */
	SHIM_FATAL_IF(atomic_read(&kvm->arch.hpte_mod_interest));
	SHIM_FATAL_IF(kvm->arch.hpte_readers.next != &kvm->arch.hpte_readers);
	sim_vm_free_hpt(kvm);
	free(kvm);
}

/* ---- HPTE changes ---- */

static __be64 *sim_hptep(struct kvm *kvm, unsigned long i)
{
	SHIM_FATAL_IF(i >= sim_npte(kvm));
	return (__be64 *)(kvm->arch.hpt.virt + (i << 4));
}

static unsigned long sim_lock(struct kvm *kvm, unsigned long i)
{
	__be64 *hptep = sim_hptep(kvm, i);

	SHIM_FATAL_IF(!try_lock_hpte(hptep, HPTE_V_HVLOCK));
	return be64_to_cpu(hptep[0]) & ~HPTE_V_HVLOCK;
}

/* A guest's hcalls run under kvm->srcu, as in the kernel's guest entry. */
long sim_h_enter(struct kvm *kvm, unsigned long i, u64 v, u64 r)
{
	int srcu_idx = srcu_read_lock(&kvm->srcu);
	unsigned long idx;
	long ret;

	ret = kvmppc_virtmode_do_h_enter(kvm, H_EXACT, i, v, r, &idx);
	srcu_read_unlock(&kvm->srcu, srcu_idx);
	return ret;
}

long sim_h_remove(struct kvm *kvm, unsigned long i)
{
	int srcu_idx = srcu_read_lock(&kvm->srcu);
	unsigned long old[2];
	long ret;

	ret = kvmppc_do_h_remove(kvm, 0, i, 0, old);
	srcu_read_unlock(&kvm->srcu, srcu_idx);
	return ret;
}

/*
 * An hcall that rewrites bits of a valid entry's second dword (H_PROTECT,
 * H_CLEAR_REF): the guest's view and the hardware's alike, marked changed.
 */
static long sim_update_r(struct kvm *kvm, unsigned long i, u64 mask, u64 bits)
{
	__be64 *hptep = sim_hptep(kvm, i);
	struct revmap_entry *rev = &kvm->arch.hpt.rev[i];
	unsigned long v = sim_lock(kvm, i);

	if (!(v & (HPTE_V_VALID | HPTE_V_ABSENT))) {
		unlock_hpte(hptep, v);
		return H_NOT_FOUND;
	}
	rev->guest_rpte = (rev->guest_rpte & ~mask) | (bits & mask);
	hptep[1] = cpu_to_be64((be64_to_cpu(hptep[1]) & ~mask) | (bits & mask));
	kvmppc_hpte_note_change(kvm, i);
	unlock_hpte(hptep, v);
	return H_SUCCESS;
}

long sim_h_protect(struct kvm *kvm, unsigned long i, u64 pp_n)
{
	return sim_update_r(kvm, i, HPTE_R_PP0 | HPTE_R_PP | HPTE_R_N, pp_n);
}

long sim_h_clear_ref(struct kvm *kvm, unsigned long i)
{
	return sim_update_r(kvm, i, HPTE_R_R, 0);
}

bool sim_hw_set_rc(struct kvm *kvm, unsigned long i, u64 rc)
{
	__be64 *hptep = sim_hptep(kvm, i);

	if (!(be64_to_cpu(hptep[0]) & HPTE_V_VALID))
		return false;
	/* A store the HPTE does not allow sets no C. */
	if (!hpte_is_writable(be64_to_cpu(hptep[1])))
		rc &= ~HPTE_R_C;
	hptep[1] |= cpu_to_be64(rc & (HPTE_R_R | HPTE_R_C));
	/* Only a vcpu in the guest touches memory: one ran, and has left KVM_RUN. */
	kvmppc_hpte_changes_vcpu_ran(kvm);
	return true;
}

void sim_vcpu_run(struct kvm *kvm, bool running)
{
	if (running) {
		atomic_inc(&kvm->arch.vcpus_running);
		return;
	}
	/* As kvmppc_vcpu_run_hv() leaves. */
	kvmppc_hpte_changes_vcpu_ran(kvm);
	/* Readers read vcpus_running, then whether a vcpu ran. */
	smp_mb__before_atomic();
	atomic_dec(&kvm->arch.vcpus_running);
}

bool sim_host_unmap(struct kvm *kvm, unsigned long i)
{
	__be64 *hptep = sim_hptep(kvm, i);
	struct revmap_entry *rev = &kvm->arch.hpt.rev[i];
	unsigned long v = sim_lock(kvm, i), rc;

	if (!(v & HPTE_V_VALID)) {
		unlock_hpte(hptep, v);
		return false;
	}
	/* As kvmppc_unmap_hpte(): a change only if R/C were new to the guest view. */
	rc = be64_to_cpu(hptep[1]) & (HPTE_R_R | HPTE_R_C) & ~rev->guest_rpte;
	if (rc) {
		rev->guest_rpte |= rc;
		kvmppc_hpte_note_change(kvm, i);
	}
	unlock_hpte(hptep, (v & ~HPTE_V_VALID) | HPTE_V_ABSENT);
	return true;
}

bool sim_host_fault_in(struct kvm *kvm, unsigned long i)
{
	__be64 *hptep = sim_hptep(kvm, i);
	struct revmap_entry *rev = &kvm->arch.hpt.rev[i];
	unsigned long v = sim_lock(kvm, i), r;

	r = rev->guest_rpte;
	if (cpu_has_feature(CPU_FTR_ARCH_300))
		r = hpte_old_to_new_r(hpte_new_to_old_v(v, be64_to_cpu(hptep[1])), r);
	/* Only RAM comes back: MMIO entries stay host-absent. */
	if (!(v & HPTE_V_ABSENT) ||
	    !kvm->memslots[0].npages ||
	    ((rev->guest_rpte & HPTE_R_RPN) >> PAGE_SHIFT) >= kvm->memslots[0].npages) {
		unlock_hpte(hptep, v);
		return false;
	}
	hptep[1] = cpu_to_be64(r);
	unlock_hpte(hptep, (v & ~HPTE_V_ABSENT) | HPTE_V_VALID);
	return true;
}

bool sim_hpte_present(struct kvm *kvm, unsigned long i)
{
	return be64_to_cpu(sim_hptep(kvm, i)[0]) & HPTE_V_VALID;
}

bool sim_guest_view(struct kvm *kvm, unsigned long i, u64 *v, u64 *r)
{
	__be64 *hptep = sim_hptep(kvm, i);
	struct revmap_entry *rev = &kvm->arch.hpt.rev[i];
	u64 hv = be64_to_cpu(hptep[0]), hr = be64_to_cpu(hptep[1]);

	SHIM_FATAL_IF(hv & HPTE_V_HVLOCK);
	if (!(hv & (HPTE_V_VALID | HPTE_V_ABSENT)))
		return false;
	if (cpu_has_feature(CPU_FTR_ARCH_300))
		hv = hpte_new_to_old_v(hv, hr);
	*v = (hv & ~HPTE_V_ABSENT) | HPTE_V_VALID;
	*r = rev->guest_rpte & ~HPTE_GR_RESERVED;
	if (hv & HPTE_V_VALID)
		*r |= hr & (HPTE_R_R | HPTE_R_C);
	return true;
}

void sim_check_clean(long allocs)
{
	if (!shim_warnings && !shim_open_files() && shim_allocs_live == allocs)
		return;
	fprintf(stderr, "warnings %d, files open %d, allocations leaked %ld\n",
		shim_warnings, shim_open_files(), shim_allocs_live - allocs);
	abort();
}

/* ---- The fd ---- */

int sim_get_htab_fd(struct kvm *kvm, u64 flags, u64 start_index)
{
	struct kvm_get_htab_fd ghf = {
		.flags = flags,
		.start_index = start_index,
	};

	return kvm_vm_ioctl_get_htab_fd(kvm, &ghf);
}

/* read() or write() on @fd, as the VFS would call the fd's file_operations. */
static ssize_t sim_io(int fd, void *buf, size_t count, bool write)
{
	struct file *file = shim_fget(fd);
	loff_t pos = 0;
	ssize_t ret;

	if (!file)
		return -EBADF;
	ret = write ? file->f_op->write(file, buf, count, &pos) :
		      file->f_op->read(file, buf, count, &pos);
	SHIM_FATAL_IF(shim_preempt_count);
	return ret;
}

ssize_t sim_read(int fd, void *buf, size_t count)
{
	return sim_io(fd, buf, count, false);
}

ssize_t sim_write(int fd, const void *buf, size_t count)
{
	return sim_io(fd, (void *)buf, count, true);
}

int sim_close(int fd)
{
	return shim_close(fd);
}
