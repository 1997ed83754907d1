/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel, as far as book3s_hv_htab_fd.c and book3s_hv_hpte_changes.c
 * see it, for building them unchanged in userspace.  Every kernel header
 * those files include is a one-line stub under shim/ that includes this
 * file, so no real kernel header can be pulled in by accident; the
 * exceptions are asm/kvm_book3s_hpte_changes.h and book3s_hv_hpte_changes.h,
 * which are ours and are used as they are.
 *
 * Three kinds of definitions, as in tools/testing/vma:
 *  - no-op stubs (preemption, RCU-like SRCU, module ownership);
 *  - definitions duplicated from the kernel: keep in sync;
 *  - custom versions that record what happened, so that tests can assert
 *    on it (allocations, HPTE locks, lock ownership, copies to and from
 *    "userspace", warnings, the fds anon_inode_getfd() handed out).
 *
 * Everything is single-threaded: a test that wants a guest to change its
 * HPT in the middle of a read does so from the copy_to_user() hook.
 */
#ifndef KVM_HTAB_SHIM_H
#define KVM_HTAB_SHIM_H

#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* The configuration the HPT fd is built in: HV KVM. */
#define CONFIG_KVM_BOOK3S_HV_POSSIBLE 1

/* The UAPI is the contract: use the base kernel's own definitions. */
#include UAPI_ASM_KVM_H

/* ---- Types and compiler ---- */

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
/* As the kernel has them: u64 is unsigned long long. */
typedef unsigned long long u64;
typedef long long s64;
typedef u64 gfn_t;

#define __user
#define __packed		__attribute__((packed))
#define __aligned(x)		__attribute__((aligned(x)))
#define __printf(a, b)		__attribute__((format(printf, a, b)))
#define ARRAY_SIZE(arr)		(sizeof(arr) / sizeof((arr)[0]))
#define BIT(nr)			(1UL << (nr))

#define U16_MAX		((u16)~0U)
#define U32_MAX		((u32)~0U)
#define SZ_1K		0x400
#define SZ_4K		0x1000
#define SZ_64K		0x10000

/* The host kernel of interest uses 64K pages. */
#define PAGE_SHIFT	16
#define PAGE_SIZE	BIT(PAGE_SHIFT)

#define READ_ONCE(x)		(*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, val)	(*(volatile typeof(x) *)&(x) = (val))
#define xchg(ptr, val)		__atomic_exchange_n((ptr), (val), __ATOMIC_SEQ_CST)
#define xchg_relaxed(ptr, val)	__atomic_exchange_n((ptr), (val), __ATOMIC_RELAXED)
/* Barriers as fences: single-threaded here, but kept in place. */
#define smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)	/* full */
#define smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)	/* stores */
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)	/* loads */
#define smp_mb__before_atomic()	smp_mb()
#define smp_mb__after_atomic()	smp_mb()	/* full */

#define min_t(type, a, b)	((type)(a) < (type)(b) ? (type)(a) : (type)(b))
#define max_t(type, a, b)	((type)(a) > (type)(b) ? (type)(a) : (type)(b))
/* The kernel's min()/max() insist on one type and read each argument once: so do these. */
#define min(a, b)		__builtin_choose_expr(					\
	__builtin_types_compatible_p(typeof(a), typeof(b)),				\
	({ typeof(a) __a = (a); typeof(b) __b = (b); __a < __b ? __a : __b; }), (void)0)
#define max(a, b)		__builtin_choose_expr(					\
	__builtin_types_compatible_p(typeof(a), typeof(b)),				\
	({ typeof(a) __a = (a); typeof(b) __b = (b); __a > __b ? __a : __b; }), (void)0)
#define ULONG_MAX		(~0UL)
/* Custom: a kernel warning is counted, printed, and fails the test that sees it. */
extern int shim_warnings;
void shim_warn(const char *what);
#define WARN_ON_ONCE(cond)	({ bool __c = (cond); if (__c) shim_warn(#cond); __c; })

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define cpu_to_be64(x)	htobe64(x)
#define be64_to_cpu(x)	be64toh(x)

/* ---- Bit operations (non-atomic here: the harness is single-threaded) ---- */

#define BITS_PER_LONG		64
#define BIT_WORD(nr)		((nr) / BITS_PER_LONG)
#define BIT_MASK(nr)		(1UL << ((nr) % BITS_PER_LONG))
#define BITS_TO_LONGS(nr)	(((nr) + BITS_PER_LONG - 1) / BITS_PER_LONG)

static inline void set_bit(unsigned long nr, unsigned long *addr)
{
	addr[BIT_WORD(nr)] |= BIT_MASK(nr);
}

static inline bool test_bit(unsigned long nr, const unsigned long *addr)
{
	return addr[BIT_WORD(nr)] & BIT_MASK(nr);
}

static inline bool __test_and_clear_bit(unsigned long nr, unsigned long *addr)
{
	bool old = test_bit(nr, addr);

	addr[BIT_WORD(nr)] &= ~BIT_MASK(nr);
	return old;
}

static inline bool __test_and_set_bit(unsigned long nr, unsigned long *addr)
{
	bool old = test_bit(nr, addr);

	addr[BIT_WORD(nr)] |= BIT_MASK(nr);
	return old;
}

#define test_and_set_bit(nr, addr)	__test_and_set_bit(nr, addr)
#define test_and_clear_bit(nr, addr)	__test_and_clear_bit(nr, addr)

#define BITMAP_FIRST_WORD_MASK(start)	(~0UL << ((start) & (BITS_PER_LONG - 1)))
#define BITMAP_LAST_WORD_MASK(nbits)	(~0UL >> (-(nbits) & (BITS_PER_LONG - 1)))
#define round_down(x, y)		((x) & ~((__typeof__(x))((y) - 1)))
#define round_up(x, y)			((((x) - 1) | ((__typeof__(x))((y) - 1))) + 1)
#define ilog2(n)			(63 - __builtin_clzll(n))

static inline void __clear_bit(unsigned long nr, unsigned long *addr)
{
	addr[BIT_WORD(nr)] &= ~BIT_MASK(nr);
}

#define clear_bit(nr, addr)	__clear_bit(nr, addr)

/* Clear @mask in *@ptr and set @bits, atomically in the kernel; the old value. */
static inline unsigned long set_mask_bits(unsigned long *ptr, unsigned long mask,
					  unsigned long bits)
{
	unsigned long old = *ptr;

	*ptr = (old & ~mask) | bits;
	return old;
}

#define BUILD_BUG_ON(cond)	static_assert(!(cond), #cond)

static inline unsigned int hweight_long(unsigned long w)
{
	return __builtin_popcountl(w);
}

static inline unsigned long __ffs(unsigned long word)
{
	return __builtin_ctzl(word);
}

static inline unsigned long find_next_bit(const unsigned long *addr, unsigned long size,
					  unsigned long offset)
{
	unsigned long word;

	if (offset >= size)
		return size;
	word = addr[BIT_WORD(offset)] & (~0UL << (offset % BITS_PER_LONG));
	for (;;) {
		if (word) {
			unsigned long bit = BIT_WORD(offset) * BITS_PER_LONG +
					    __builtin_ctzl(word);

			return min_t(unsigned long, bit, size);
		}
		offset = (BIT_WORD(offset) + 1) * BITS_PER_LONG;
		if (offset >= size)
			return size;
		word = addr[BIT_WORD(offset)];
	}
}

static inline unsigned long find_first_bit(const unsigned long *addr, unsigned long size)
{
	return find_next_bit(addr, size, 0);
}

#define for_each_set_bit(bit, addr, size)				\
	for ((bit) = find_next_bit((addr), (size), 0); (bit) < (size);	\
	     (bit) = find_next_bit((addr), (size), (bit) + 1))

#define for_each_set_bit_from(bit, addr, size)				\
	for ((bit) = find_next_bit((addr), (size), (bit)); (bit) < (size);	\
	     (bit) = find_next_bit((addr), (size), (bit) + 1))

/* ---- Lists ---- */

struct list_head {
	struct list_head *next, *prev;
};

static inline void INIT_LIST_HEAD(struct list_head *list)
{
	list->next = list;
	list->prev = list;
}

static inline void list_add(struct list_head *new, struct list_head *head)
{
	new->next = head->next;
	new->prev = head;
	head->next->prev = new;
	head->next = new;
}

static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

static inline bool list_is_singular(const struct list_head *head)
{
	return !list_empty(head) && head->next == head->prev;
}

static inline void list_del(struct list_head *entry)
{
	entry->prev->next = entry->next;
	entry->next->prev = entry->prev;
	entry->next = NULL;
	entry->prev = NULL;
}

#define list_for_each_entry(pos, head, member)					\
	for (pos = container_of((head)->next, typeof(*pos), member);		\
	     &pos->member != (head);						\
	     pos = container_of(pos->member.next, typeof(*pos), member))

/* ---- Atomics, locks, scheduling ---- */

typedef struct {
	int counter;
} atomic_t;

static inline int atomic_read(const atomic_t *v)
{
	return READ_ONCE(v->counter);
}

static inline void atomic_set(atomic_t *v, int i)
{
	v->counter = i;
}

static inline void atomic_inc(atomic_t *v)
{
	v->counter++;
}

static inline int atomic_inc_return(atomic_t *v)
{
	return ++v->counter;
}

static inline void atomic_dec(atomic_t *v)
{
	v->counter--;
}

static inline int atomic_xchg(atomic_t *v, int i)
{
	return xchg(&v->counter, i);
}

/* Custom: a mutex that knows whether it is held, for lockdep_assert_held(). */
struct mutex {	/* single-threaded: held or not */
	bool held;
	unsigned long acquired;	/* times it was taken */
};

void shim_bug(const char *file, int line, const char *what);
#define SHIM_FATAL_IF(cond) \
	do { if (cond) shim_bug(__FILE__, __LINE__, #cond); } while (0)

static inline void mutex_lock(struct mutex *m)
{
	SHIM_FATAL_IF(m->held);	/* recursive locking: a deadlock in the kernel */
	m->held = true;
	m->acquired++;
}

static inline void mutex_unlock(struct mutex *m)
{
	SHIM_FATAL_IF(!m->held);
	m->held = false;
}

static inline void mutex_init(struct mutex *m)
{
	m->held = false;
	m->acquired = 0;
}

static inline void mutex_destroy(struct mutex *m)
{
	SHIM_FATAL_IF(m->held);
}

#define lockdep_assert_held(m)	SHIM_FATAL_IF(!(m)->held)

/* Preemption: counted so that a test can see it is balanced. */
extern int shim_preempt_count;
#define preempt_disable()	(shim_preempt_count++)
#define preempt_enable()	(shim_preempt_count--)
#define cond_resched()		SHIM_FATAL_IF(shim_preempt_count)

/* The task: a test says when it has a fatal signal pending. */
struct task_struct;
extern bool shim_fatal_signal;
#define current			((struct task_struct *)NULL)
#define fatal_signal_pending(task)	((void)(task), shim_fatal_signal)

/* Spinning on an HPTE lock in one thread can only mean a lock was leaked. */
void shim_cpu_relax(void);
#define cpu_relax()		shim_cpu_relax()

struct srcu_struct {
	int readers;
	unsigned long grace_periods;
};

static inline int srcu_read_lock(struct srcu_struct *srcu)
{
	return srcu->readers++;
}

static inline void srcu_read_unlock(struct srcu_struct *srcu, int idx)
{
	srcu->readers--;
}

/* Custom, in shim.c: counts grace periods and records the kvm's interest. */
void synchronize_srcu_expedited(struct srcu_struct *srcu);

/* Custom: counted, and printed so that a failing test shows them. */
extern int shim_warnings;
#define pr_warn_ratelimited(fmt, ...) \
	do { shim_warnings++; fprintf(stderr, "kernel: " fmt, ##__VA_ARGS__); } while (0)

/* ---- Memory: custom, counted, with failure injection ---- */

#define GFP_KERNEL		0
#define GFP_KERNEL_ACCOUNT	0
#define __GFP_ZERO		1u
typedef unsigned int gfp_t;

void *shim_alloc(size_t size, bool zero, bool vmalloc);
void shim_free(const void *p);

static inline void *shim_alloc_array(size_t n, size_t size, bool zero)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return shim_alloc(n * size, zero, false);
}

static inline void *kzalloc(size_t size, gfp_t gfp)
{
	return shim_alloc(size, true, false);
}

static inline void *kcalloc(size_t n, size_t size, gfp_t gfp)
{
	return shim_alloc_array(n, size, true);
}

static inline void *kvmalloc(size_t size, gfp_t gfp)
{
	return shim_alloc(size, false, false);
}

static inline void *kvmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	return shim_alloc_array(n, size, false);
}

static inline void *kvcalloc(size_t n, size_t size, gfp_t gfp)
{
	return shim_alloc_array(n, size, true);
}

static inline void *vzalloc(size_t size)
{
	return shim_alloc(size, true, true);
}

static inline void *__vmalloc(size_t size, gfp_t gfp)
{
	return shim_alloc(size, gfp & __GFP_ZERO, true);
}

#define kfree(p)	shim_free(p)
#define kvfree(p)	shim_free(p)
#define vfree(p)	shim_free(p)

/*
 * Custom: an xarray as a flat array of slots, grown as needed.  Its own
 * memory is the shim's, not counted: the entries are the kernel's.
 */
struct xarray {
	void **slots;
	unsigned long size;
};

static inline void xa_init(struct xarray *xa)
{
	xa->slots = NULL;
	xa->size = 0;
}

/* Lookups, counted: a test bounds what a read looks up. */
extern unsigned long shim_xa_loads;

static inline void *xa_load(struct xarray *xa, unsigned long index)
{
	shim_xa_loads++;
	return index < xa->size ? xa->slots[index] : NULL;
}

void *shim_xa_store(struct xarray *xa, unsigned long index, void *entry);

static inline void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)
{
	return shim_xa_store(xa, index, entry);
}

static inline void *xa_erase(struct xarray *xa, unsigned long index)
{
	return shim_xa_store(xa, index, NULL);
}

/* Never an error here: the slot array is the shim's. */
static inline int xa_err(void *entry)
{
	return 0;
}

static inline void xa_destroy(struct xarray *xa)
{
	free(xa->slots);
	xa_init(xa);
}

/* The first entry at *@index or after, moving *@index there; NULL if none. */
static inline void *shim_xa_find(struct xarray *xa, unsigned long *index)
{
	for (; *index < xa->size; ++*index)
		if (xa->slots[*index])
			return xa->slots[*index];
	return NULL;
}

#define xa_for_each_start(xa, index, entry, start)				\
	for ((index) = (start); ((entry) = shim_xa_find((xa), &(index))); (index)++)
#define xa_for_each(xa, index, entry)	xa_for_each_start(xa, index, entry, 0)

/* ---- Userspace: custom copies that fault where a test says ---- */

unsigned long copy_to_user(void __user *to, const void *from, unsigned long n);
unsigned long copy_from_user(void *to, const void __user *from, unsigned long n);

/* ---- Files ---- */

struct inode;
struct module;
#define THIS_MODULE	((struct module *)NULL)

struct file {
	const struct file_operations *f_op;
	void *private_data;
	int flags;
};

struct file_operations {
	struct module *owner;
	ssize_t (*read)(struct file *file, char __user *buf, size_t count, loff_t *ppos);
	ssize_t (*write)(struct file *file, const char __user *buf, size_t count,
			 loff_t *ppos);
	int (*release)(struct inode *inode, struct file *file);
	loff_t (*llseek)(struct file *file, loff_t offset, int whence);
};

loff_t noop_llseek(struct file *file, loff_t offset, int whence);
int anon_inode_getfd(const char *name, const struct file_operations *fops, void *priv,
		     int flags);

/* ---- CPU features ---- */

#define CPU_FTR_ARCH_300	1
extern bool shim_cpu_is_arch_300;
#define cpu_has_feature(f)	((f) == CPU_FTR_ARCH_300 && shim_cpu_is_arch_300)

/* ---- HPTE format: from asm/book3s/64/mmu-hash.h, keep in sync ---- */

#define HPTE_V_SSIZE_SHIFT	62
#define HPTE_V_COMMON_BITS	0x000fffffffffffffUL
#define HPTE_V_AVPN		0x3fffffffffffff80UL
#define HPTE_V_BOLTED		0x0000000000000010UL
#define HPTE_V_LARGE		0x0000000000000004UL
#define HPTE_V_SECONDARY	0x0000000000000002UL
#define HPTE_V_VALID		0x0000000000000001UL
#define HPTE_V_1TB_SEG		0x4000000000000000UL
#define HPTE_R_3_0_SSIZE_SHIFT	58
#define HPTE_R_3_0_SSIZE_MASK	(3ULL << HPTE_R_3_0_SSIZE_SHIFT)
#define HPTE_R_PP0		0x8000000000000000UL
#define HPTE_R_KEY_HI		0x3000000000000000UL
#define HPTE_R_RPN		0x0ffffffffffff000UL
#define HPTE_R_PP		0x0000000000000003UL
#define HPTE_R_N		0x0000000000000004UL
#define HPTE_R_WIMG		0x0000000000000078UL
#define HPTE_R_C		0x0000000000000080UL
#define HPTE_R_R		0x0000000000000100UL
#define HPTE_R_KEY_LO		0x0000000000000e00UL
#define PP_RXRX			3
#define PP_RXXX			(HPTE_R_PP0 | 2)

static inline int hpte_is_writable(unsigned long ptel)
{
	unsigned long pp = ptel & (HPTE_R_PP0 | HPTE_R_PP);

	return pp != PP_RXRX && pp != PP_RXXX;
}

#define MMU_SEGSIZE_1T		1
#define SLB_VSID_B_1T		0x4000000000000000UL
#define SLB_VSID_SHIFT_1T	24
#define SLB_VSID_L		0x0000000000000100UL
#define SLB_VSID_LP_01		0x0000000000000010UL
#define VRMA_VSID		0x1ffffffUL

static inline unsigned long hpte_old_to_new_v(unsigned long v)
{
	return v & HPTE_V_COMMON_BITS;
}

static inline unsigned long hpte_old_to_new_r(unsigned long v, unsigned long r)
{
	return (r & ~HPTE_R_3_0_SSIZE_MASK) |
		(((v) >> HPTE_V_SSIZE_SHIFT) << HPTE_R_3_0_SSIZE_SHIFT);
}

static inline unsigned long hpte_new_to_old_v(unsigned long v, unsigned long r)
{
	return (v & HPTE_V_COMMON_BITS) |
		((r & HPTE_R_3_0_SSIZE_MASK) << (HPTE_V_SSIZE_SHIFT - HPTE_R_3_0_SSIZE_SHIFT));
}

/* ---- LPCR: from asm/reg.h, keep in sync ---- */

#define LPCR_VRMASD_SH	47
#define LPCR_VRMASD	(0x1fUL << LPCR_VRMASD_SH)

/* ---- Hypercall codes: from asm/hvcall.h, keep in sync ---- */

#define H_SUCCESS	0
#define H_NOT_FOUND	-5
#define H_PARAMETER	-4
#define H_PTEG_FULL	-6
#define H_EXACT		(1UL << (63 - 24))

/* ---- KVM ---- */

#define KVM_MEMSLOT_INVALID	BIT(16)

struct kvm_memory_slot {
	gfn_t base_gfn;
	unsigned long npages;
	u32 flags;
};

/* From asm/kvm_host.h, keep in sync. */
struct revmap_entry {
	unsigned long guest_rpte;
	unsigned int forw, back;
};

struct kvm_hpt_info {
	unsigned long virt;
	struct revmap_entry *rev;
	u32 order;
	int cma;
	unsigned long *changed;
};

struct kvm_arch {
	struct kvm_hpt_info hpt;
	unsigned long vrma_slb_v;
	int mmu_ready;
	atomic_t vcpus_running;
	atomic_t hpte_mod_interest;
	struct list_head hpte_readers;
	u64 hpt_generation;
	struct kvmppc_hpte_rc_sweep *hpte_rc_sweep;
	atomic_t hpte_rc_unswept;
	struct mutex mmu_setup_lock;	/* the HPT fd's, as in the kernel */
	/* Shim only. */
	bool radix;
	unsigned long lpcr;
	int partition_table_updates;
};

#define SHIM_MAX_MEMSLOTS	4

struct kvm {
	struct kvm_arch arch;
	struct srcu_struct srcu;
	int users;
	/* Shim only: guest memory as memslots, in guest page frames. */
	struct kvm_memory_slot memslots[SHIM_MAX_MEMSLOTS];
	int nr_memslots;
	/* Shim only: H_ENTER refuses an entry with this R, as a host-side limit would (0: none). */
	u64 h_enter_refused_r;
	/* Shim only: hpte_mod_interest when the last SRCU grace period ended. */
	int interest_at_grace_period;
};

static inline bool kvm_is_radix(struct kvm *kvm)
{
	return kvm->arch.radix;
}

static inline void kvm_get_kvm(struct kvm *kvm)
{
	kvm->users++;
}

static inline void kvm_put_kvm(struct kvm *kvm)
{
	SHIM_FATAL_IF(--kvm->users < 1);	/* the VM fd holds one */
}

static inline void kvm_put_kvm_no_destroy(struct kvm *kvm)
{
	kvm_put_kvm(kvm);
}

struct kvm_memory_slot *gfn_to_memslot(struct kvm *kvm, gfn_t gfn);

void kvmppc_update_lpcr(struct kvm *kvm, unsigned long lpcr, unsigned long mask);
void kvmppc_setup_partition_table(struct kvm *kvm);

/* ---- Book3S HV MMU helpers: from asm/kvm_book3s_64.h, keep in sync ---- */

#define HPTE_V_HVLOCK		0x40UL
#define HPTE_V_ABSENT		0x20UL
#define HPTE_GR_MODIFIED	BIT(62)
#define HPTE_GR_RESERVED	HPTE_GR_MODIFIED

/* Custom: the lock bit, without the atomics one thread does not need. */
extern unsigned long shim_hpte_locks;

/* Custom: the lock bit, without the atomics one thread does not need; counted. */
static inline bool try_lock_hpte(__be64 *hpte, unsigned long bits)
{
	if (be64_to_cpu(hpte[0]) & (bits | HPTE_V_HVLOCK))
		return false;
	hpte[0] |= cpu_to_be64(HPTE_V_HVLOCK);
	shim_hpte_locks++;
	return true;
}

static inline void unlock_hpte(__be64 *hpte, unsigned long hpte_v)
{
	hpte[0] = cpu_to_be64(hpte_v & ~HPTE_V_HVLOCK);
}

static inline unsigned long kvmppc_hpt_npte(struct kvm_hpt_info *hpt)
{
	return 1UL << (hpt->order - 4);
}

static inline int kvmppc_hpte_page_shifts(unsigned long h, unsigned long l)
{
	unsigned int lphi;

	if (!(h & HPTE_V_LARGE))
		return 12;
	lphi = (l >> 16) & 0xf;
	switch ((l >> 12) & 0xf) {
	case 0:
		return !lphi ? 24 : 0;
	case 1:
		return 16;
	case 3:
		return !lphi ? 34 : 0;
	case 7:
		return (16 << 8) + 12;
	case 8:
		if (!lphi)
			return (24 << 8) + 16;
		if (lphi == 3)
			return (24 << 8) + 12;
		break;
	}
	return 0;
}

static inline int kvmppc_hpte_base_page_shift(unsigned long h, unsigned long l)
{
	return kvmppc_hpte_page_shifts(h, l) & 0xff;
}

static inline unsigned long kvmppc_actual_pgsz(unsigned long v, unsigned long r)
{
	int shift = kvmppc_hpte_page_shifts(v, r);

	if (shift >= 0x100)
		shift >>= 8;
	return shift ? 1UL << shift : 0;
}

static inline bool slot_is_aligned(struct kvm_memory_slot *memslot, unsigned long pagesize)
{
	unsigned long mask = (pagesize >> PAGE_SHIFT) - 1;

	if (pagesize <= PAGE_SIZE)
		return true;
	return !(memslot->base_gfn & mask) && !(memslot->npages & mask);
}

static inline unsigned long slb_pgsize_encoding(unsigned long psize)
{
	unsigned long senc = 0;

	if (psize > 0x1000) {
		senc = SLB_VSID_L;
		if (psize == 0x10000)
			senc |= SLB_VSID_LP_01;
	}
	return senc;
}

static inline int is_vrma_hpte(unsigned long hpte_v)
{
	return (hpte_v & ~0xffffffUL) == (HPTE_V_1TB_SEG | (VRMA_VSID << (40 - 16)));
}

/*
 * H_ENTER and H_REMOVE: custom versions, in shim.c, that keep the HPT the
 * way the kernel's do (present or host-absent entries, the guest's view of
 * the second dword in the reverse map, the change noted under the lock).
 */
long kvmppc_virtmode_do_h_enter(struct kvm *kvm, unsigned long flags, long pte_index,
				unsigned long pteh, unsigned long ptel,
				unsigned long *pte_idx_ret);
long kvmppc_do_h_remove(struct kvm *kvm, unsigned long flags, unsigned long pte_index,
			unsigned long avpn, unsigned long *hpret);

#endif /* KVM_HTAB_SHIM_H */
