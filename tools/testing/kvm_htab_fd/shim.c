// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel services kvm_htab_shim.h declares: counted allocations,
 * copies to and from a "userspace" that faults where a test says, a file
 * table for anon_inode_getfd(), memslots, and H_ENTER/H_REMOVE keeping the
 * HPT the way the kernel's do.
 */
#include <assert.h>
#include <stdint.h>

#include "kvm_htab_shim.h"
#include "htab_sim.h"

int shim_preempt_count;
int shim_warnings;
bool shim_cpu_is_arch_300;
struct shim_user_hole shim_user_hole;
struct shim_copy_hook shim_copy_to_user_hook;
long shim_allocs_live;
unsigned long shim_alloc_bytes;
long shim_alloc_bytes_live;
unsigned long shim_hpte_locks;
unsigned long shim_xa_loads;
long shim_fail_alloc_in = -1;
bool shim_fatal_signal;

void shim_bug(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: kernel BUG: %s\n", file, line, what);
	abort();
}

struct shim_copy_hook shim_cpu_relax_hook;

void shim_cpu_relax(void)
{
	struct shim_copy_hook hook = shim_cpu_relax_hook;

	if (!hook.fn)
		shim_bug(__FILE__, __LINE__, "spinning on an HPTE lock nobody will release");
	/* Another CPU, holding the lock, runs now: once. */
	shim_cpu_relax_hook.fn = NULL;
	hook.fn(hook.arg);
}

/* ---- Memory ---- */

/* Every allocation carries a header: its size and whether it is vmalloc. */
struct shim_alloc_header {
	size_t size;
	bool vmalloc;
	unsigned long magic;
} __aligned(16);

#define SHIM_ALLOC_MAGIC	0x4854414246440a00UL

/* Live vmalloc allocations, for kvmppc_real_vmalloc_addr(). */
#define SHIM_MAX_VMALLOC	64
static struct {
	uintptr_t start, end;
} shim_vmalloc[SHIM_MAX_VMALLOC];

static void shim_vmalloc_track(void *p, size_t size, bool add)
{
	int k;

	for (k = 0; k < SHIM_MAX_VMALLOC; k++) {
		if (add && !shim_vmalloc[k].start) {
			shim_vmalloc[k].start = (uintptr_t)p;
			shim_vmalloc[k].end = (uintptr_t)p + size;
			return;
		}
		if (!add && shim_vmalloc[k].start == (uintptr_t)p) {
			shim_vmalloc[k].start = 0;
			return;
		}
	}
	shim_bug(__FILE__, __LINE__, "vmalloc tracking table full or lost");
}

void *shim_alloc(size_t size, bool zero, bool vmalloc)
{
	struct shim_alloc_header *h;

	if (shim_fail_alloc_in >= 0 && shim_fail_alloc_in-- == 0)
		return NULL;
	if (size > SIZE_MAX - sizeof(*h))
		return NULL;
	h = zero ? calloc(1, sizeof(*h) + size) : malloc(sizeof(*h) + size);
	if (!h)
		return NULL;
	h->size = size;
	h->vmalloc = vmalloc;
	h->magic = SHIM_ALLOC_MAGIC;
	shim_allocs_live++;
	shim_alloc_bytes += size;
	shim_alloc_bytes_live += size;
	if (vmalloc)
		shim_vmalloc_track(h + 1, size, true);
	return h + 1;
}

static struct shim_alloc_header *shim_alloc_header(const void *p)
{
	struct shim_alloc_header *h = (struct shim_alloc_header *)p - 1;

	SHIM_FATAL_IF(h->magic != SHIM_ALLOC_MAGIC);
	return h;
}

void shim_free(const void *p)
{
	struct shim_alloc_header *h;

	if (!p)
		return;
	h = shim_alloc_header(p);
	if (h->vmalloc)
		shim_vmalloc_track((void *)p, h->size, false);
	h->magic = 0;
	shim_allocs_live--;
	shim_alloc_bytes_live -= h->size;
	free(h);
}

/*
 * The marker in asm/kvm_book3s_hpte_changes.h runs in real mode, where the
 * kernel reaches its map through the linear-map alias of vmalloc memory.
 * Check it only ever asks for vmalloc memory: the map must be vzalloc()ed.
 */
void *kvmppc_real_vmalloc_addr(void *p)
{
	uintptr_t addr = (uintptr_t)p;
	int k;

	for (k = 0; k < SHIM_MAX_VMALLOC; k++)
		if (addr >= shim_vmalloc[k].start && addr < shim_vmalloc[k].end)
			return p;
	shim_bug(__FILE__, __LINE__, "real-mode access to memory that is not vmalloc");
	return NULL;
}

/* ---- Userspace ---- */

/* Bytes of [p, p + n) before the hole, or n if the range misses it. */
static unsigned long shim_user_reachable(uintptr_t p, unsigned long n)
{
	if (!shim_user_hole.end || p + n <= shim_user_hole.start || p >= shim_user_hole.end)
		return n;
	return p < shim_user_hole.start ? shim_user_hole.start - p : 0;
}

unsigned long copy_to_user(void __user *to, const void *from, unsigned long n)
{
	unsigned long ok;

	if (shim_copy_to_user_hook.fn)
		shim_copy_to_user_hook.fn(shim_copy_to_user_hook.arg);
	ok = shim_user_reachable((uintptr_t)to, n);
	memcpy(to, from, ok);
	return n - ok;
}

unsigned long copy_from_user(void *to, const void __user *from, unsigned long n)
{
	unsigned long ok = shim_user_reachable((uintptr_t)from, n);

	memcpy(to, from, ok);
	memset((char *)to + ok, 0, n - ok);
	return n - ok;
}

/* ---- Files ---- */

#define SHIM_FIRST_FD	100
#define SHIM_MAX_FILES	64
static struct file *shim_files[SHIM_MAX_FILES];

loff_t noop_llseek(struct file *file, loff_t offset, int whence)
{
	return 0;
}

int anon_inode_getfd(const char *name, const struct file_operations *fops, void *priv,
		     int flags)
{
	int fd;

	if (shim_fail_alloc_in >= 0 && shim_fail_alloc_in-- == 0)
		return -ENFILE;
	for (fd = 0; fd < SHIM_MAX_FILES; fd++) {
		if (shim_files[fd])
			continue;
		shim_files[fd] = calloc(1, sizeof(struct file));
		SHIM_FATAL_IF(!shim_files[fd]);
		shim_files[fd]->f_op = fops;
		shim_files[fd]->private_data = priv;
		shim_files[fd]->flags = flags;
		return SHIM_FIRST_FD + fd;
	}
	return -EMFILE;
}

struct file *shim_fget(int fd)
{
	if (fd < SHIM_FIRST_FD || fd >= SHIM_FIRST_FD + SHIM_MAX_FILES)
		return NULL;
	return shim_files[fd - SHIM_FIRST_FD];
}

int shim_close(int fd)
{
	struct file *file = shim_fget(fd);
	int ret;

	if (!file)
		return -EBADF;
	ret = file->f_op->release(NULL, file);
	free(file);
	shim_files[fd - SHIM_FIRST_FD] = NULL;
	return ret;
}

int shim_open_files(void)
{
	int fd, n = 0;

	for (fd = 0; fd < SHIM_MAX_FILES; fd++)
		n += !!shim_files[fd];
	return n;
}

/* ---- KVM ---- */

void synchronize_srcu_expedited(struct srcu_struct *srcu)
{
	struct kvm *kvm = container_of(srcu, struct kvm, srcu);

	/* One thread: no reader can be inside while it waits. */
	SHIM_FATAL_IF(srcu->readers);
	srcu->grace_periods++;
	kvm->interest_at_grace_period = atomic_read(&kvm->arch.hpte_mod_interest);
}

struct kvm_memory_slot *gfn_to_memslot(struct kvm *kvm, gfn_t gfn)
{
	int k;

	SHIM_FATAL_IF(!kvm->srcu.readers);
	for (k = 0; k < kvm->nr_memslots; k++) {
		struct kvm_memory_slot *slot = &kvm->memslots[k];

		if (gfn >= slot->base_gfn && gfn < slot->base_gfn + slot->npages)
			return slot;
	}
	return NULL;
}

void kvmppc_update_lpcr(struct kvm *kvm, unsigned long lpcr, unsigned long mask)
{
	kvm->arch.lpcr = (kvm->arch.lpcr & ~mask) | lpcr;
}

void kvmppc_setup_partition_table(struct kvm *kvm)
{
	kvm->arch.partition_table_updates++;
}

/*
 * Whether the host has the page at @gpa: guest RAM, in a memslot.  Anything
 * else is emulated MMIO, which the kernel enters host-absent.
 */
static bool shim_gpa_is_ram(struct kvm *kvm, u64 v, u64 r)
{
	unsigned long psize = kvmppc_actual_pgsz(v, r);
	struct kvm_memory_slot *slot;
	int idx = srcu_read_lock(&kvm->srcu);

	slot = gfn_to_memslot(kvm, ((r & HPTE_R_RPN) & ~(psize - 1)) >> PAGE_SHIFT);
	srcu_read_unlock(&kvm->srcu, idx);
	return slot && !(slot->flags & KVM_MEMSLOT_INVALID);
}

long kvmppc_virtmode_do_h_enter(struct kvm *kvm, unsigned long flags, long pte_index,
				unsigned long pteh, unsigned long ptel,
				unsigned long *pte_idx_ret)
{
	__be64 *hptep;
	unsigned long v, hr;

	SHIM_FATAL_IF(!(flags & H_EXACT));	/* all the HPT fd and the tests use */
	/* It walks the memslot's reverse map: the memslot must stay. */
	SHIM_FATAL_IF(!kvm->srcu.readers);
	if (pte_index < 0 || pte_index >= (long)kvmppc_hpt_npte(&kvm->arch.hpt))
		return H_PARAMETER;
	pteh &= ~(HPTE_V_HVLOCK | HPTE_V_ABSENT);
	if (!(pteh & HPTE_V_VALID) || !kvmppc_actual_pgsz(pteh, ptel) ||
	    (kvm->h_enter_refused_r && ptel == kvm->h_enter_refused_r))
		return H_PARAMETER;

	hptep = (__be64 *)(kvm->arch.hpt.virt + (pte_index << 4));
	SHIM_FATAL_IF(!try_lock_hpte(hptep, HPTE_V_HVLOCK));
	if (be64_to_cpu(hptep[0]) & (HPTE_V_VALID | HPTE_V_ABSENT)) {
		unlock_hpte(hptep, be64_to_cpu(hptep[0]));
		return H_PTEG_FULL;
	}
	v = pteh;
	if (!shim_gpa_is_ram(kvm, pteh, ptel))
		v = (v & ~HPTE_V_VALID) | HPTE_V_ABSENT;
	hr = ptel;
	if (cpu_has_feature(CPU_FTR_ARCH_300)) {
		hr = hpte_old_to_new_r(v, hr);
		v = hpte_old_to_new_v(v);
	}
	kvm->arch.hpt.rev[pte_index].guest_rpte = ptel;
	hptep[1] = cpu_to_be64(hr);
	kvmppc_hpte_note_change(kvm, pte_index);
	unlock_hpte(hptep, v);
	*pte_idx_ret = pte_index;
	return H_SUCCESS;
}

long kvmppc_do_h_remove(struct kvm *kvm, unsigned long flags, unsigned long pte_index,
			unsigned long avpn, unsigned long *hpret)
{
	__be64 *hptep;
	struct revmap_entry *rev;
	unsigned long v, hr;

	SHIM_FATAL_IF(!kvm->srcu.readers);	/* as for H_ENTER */
	if (pte_index >= kvmppc_hpt_npte(&kvm->arch.hpt))
		return H_PARAMETER;
	hptep = (__be64 *)(kvm->arch.hpt.virt + (pte_index << 4));
	rev = &kvm->arch.hpt.rev[pte_index];
	SHIM_FATAL_IF(!try_lock_hpte(hptep, HPTE_V_HVLOCK));
	v = be64_to_cpu(hptep[0]) & ~HPTE_V_HVLOCK;
	hr = be64_to_cpu(hptep[1]);
	if (!(v & (HPTE_V_VALID | HPTE_V_ABSENT))) {
		unlock_hpte(hptep, v);
		return H_NOT_FOUND;
	}
	/* Taking a present entry out of the hardware harvests its R and C. */
	if (v & HPTE_V_VALID)
		rev->guest_rpte |= hr & (HPTE_R_R | HPTE_R_C);
	if (cpu_has_feature(CPU_FTR_ARCH_300))
		v = hpte_new_to_old_v(v, hr);
	hpret[0] = v;
	hpret[1] = rev->guest_rpte;
	kvmppc_hpte_note_change(kvm, pte_index);
	unlock_hpte(hptep, 0);
	return H_SUCCESS;
}

void *shim_xa_store(struct xarray *xa, unsigned long index, void *entry)
{
	void *old;

	if (index >= xa->size) {
		unsigned long size = xa->size ? xa->size : 64;

		if (!entry)
			return NULL;
		while (size <= index)
			size *= 2;
		xa->slots = realloc(xa->slots, size * sizeof(void *));
		SHIM_FATAL_IF(!xa->slots);
		memset(xa->slots + xa->size, 0, (size - xa->size) * sizeof(void *));
		xa->size = size;
	}
	old = xa->slots[index];
	xa->slots[index] = entry;
	return old;
}

void shim_warn(const char *what)
{
	shim_warnings++;
	fprintf(stderr, "kernel: WARN_ON_ONCE(%s)\n", what);
}
