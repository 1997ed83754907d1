/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A simulated HV guest for the HPT fd: a VM with an HPT and guest RAM, the
 * HPTE changes a guest and its host make (each through the same marking
 * the kernel's paths use), and the fd as userspace sees it.
 */
#ifndef HTAB_SIM_H
#define HTAB_SIM_H

#include "kvm_htab_shim.h"
#include <asm/kvm_book3s_hpte_changes.h>
#include "../../../arch/powerpc/kvm/book3s_hv_hpte_changes.h"

/* From asm/kvm_ppc.h, keep in sync: the ioctl under test. */
int kvm_vm_ioctl_get_htab_fd(struct kvm *kvm, struct kvm_get_htab_fd *ghf);

/* ---- Shim controls ---- */

/* Userspace addresses in [start, end) fault; end == 0: none does. */
struct shim_user_hole {
	uintptr_t start, end;
};

extern struct shim_user_hole shim_user_hole;

/* Called at each copy_to_user(): a guest running while the fd is read. */
struct shim_copy_hook {
	void (*fn)(void *arg);
	void *arg;
};

extern struct shim_copy_hook shim_copy_to_user_hook;
/* Called, once, when the kernel spins on a held HPTE lock: the holder finishes. */
extern struct shim_copy_hook shim_cpu_relax_hook;

extern long shim_allocs_live;
/* Bytes ever allocated, bytes allocated now; HPTE locks ever taken (valid entries read, swept). */
extern unsigned long shim_alloc_bytes;
extern long shim_alloc_bytes_live;
extern unsigned long shim_hpte_locks;
/* Fail the allocation after this many more (0: the next one); -1: never. */
extern long shim_fail_alloc_in;
/* fatal_signal_pending(current), while true. */
extern bool shim_fatal_signal;
extern int shim_warnings;
extern int shim_preempt_count;
extern bool shim_cpu_is_arch_300;

struct file *shim_fget(int fd);
int shim_close(int fd);
int shim_open_files(void);

/* ---- The VM ---- */

/* Guest RAM starts at guest real address 0. */
struct kvm *sim_vm_create(unsigned int order, unsigned long ram_bytes);
void sim_vm_destroy(struct kvm *kvm);
/* Replace the HPT with an empty one of @order, as KVM_PPC_ALLOCATE_HTAB does. */
void sim_vm_reallocate(struct kvm *kvm, unsigned int order);
/* Switch the VM to radix: the HPT goes away. */
void sim_vm_make_radix(struct kvm *kvm);

static inline unsigned long sim_npte(struct kvm *kvm)
{
	return kvmppc_hpt_npte(&kvm->arch.hpt);
}

static inline unsigned long sim_ram_bytes(struct kvm *kvm)
{
	return kvm->memslots[0].npages << PAGE_SHIFT;
}

/* ---- What the guest and the host do to the HPT ---- */

long sim_h_enter(struct kvm *kvm, unsigned long i, u64 v, u64 r);
long sim_h_remove(struct kvm *kvm, unsigned long i);
/* H_PROTECT: new PP0, PP and N bits. */
long sim_h_protect(struct kvm *kvm, unsigned long i, u64 pp_n);
/* H_CLEAR_REF: clear R. */
long sim_h_clear_ref(struct kvm *kvm, unsigned long i);
/*
 * The MMU sets R and C in a present entry (C only if it is writable);
 * nobody is told, but a vcpu ran.  False if absent.
 */
bool sim_hw_set_rc(struct kvm *kvm, unsigned long i, u64 rc);
/* A vcpu enters KVM_RUN (true) or leaves it (false). */
void sim_vcpu_run(struct kvm *kvm, bool running);
/* The host takes the page away (MMU notifier): the entry becomes host-absent. */
bool sim_host_unmap(struct kvm *kvm, unsigned long i);
/* A guest access faults the page back in: present again, same guest view. */
bool sim_host_fault_in(struct kvm *kvm, unsigned long i);

/*
 * HPTE @i as the guest sees it, read straight from the HPT: false if
 * invalid.  For checking a destination VM; the fd is what is under test.
 */
bool sim_guest_view(struct kvm *kvm, unsigned long i, u64 *v, u64 *r);
bool sim_hpte_present(struct kvm *kvm, unsigned long i);

/* Abort unless nothing leaked since @allocs live allocations, no warning, no fd open. */
void sim_check_clean(long allocs);

/* ---- The fd, as userspace sees it: -errno on failure ---- */

int sim_get_htab_fd(struct kvm *kvm, u64 flags, u64 start_index);
ssize_t sim_read(int fd, void *buf, size_t count);
ssize_t sim_write(int fd, const void *buf, size_t count);
int sim_close(int fd);

#endif /* HTAB_SIM_H */
