// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_PPC_GET_HTAB_FD under stress, for a debug kernel (PROVE_LOCKING,
 * KASAN, DEBUG_ATOMIC_SLEEP) to watch: readers and writers of the fd race
 * memslot add/delete, vcpu creation, HPT resize and reallocation, while a
 * guest churns its HPT.  Here every call must end as api.rst says, every
 * thread must get somewhere and, once the racing stops, no stream may have
 * lost a change.  Nor may the kernel have reported anything: a WARN or a
 * KASAN report taints it, a lockdep report switches lockdep off (the runner
 * also watches the console).
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hpte_churn.h"
#include "htab.h"
#include "kvm_test_harness.h"
#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

/* How long each test races; the first spends half of it with the guest churning. */
#define STRESS_SECONDS		5
/*
 * A test goes on past STRESS_SECONDS until every thread got somewhere, for
 * at most so many rounds: counted, not timed, since the emulated hosts'
 * clock can leap seconds ahead while a guest runs.
 */
#define MAX_CHURN_ROUNDS	64
#define MAX_REPLACE_CYCLES	64
#define MAX_VM_ROUNDS		64
#define MAX_RESIZE_ATTEMPTS	5000
#define MAX_VCPU_RUNS		2000

/* QEMU's reads: migration passes, and debug reads of one PTEG's 8 HPTEs. */
#define MIGRATION_BUFSIZE	2048
#define DEBUG_READ_BYTES	(8 + 8 * HPTE_SIZE)
/* Debug reads start below this PTEG: inside the HPT whatever its order. */
#define DEBUG_PTEGS		(hpt_npte(HPT_ORDER_DEFAULT) / 8)
#define HPT_ORDER_RESIZED	(HPT_ORDER_DEFAULT + 1)
/* A reader that finds nothing changed pauses, as QEMU does between passes. */
#define IDLE_READ_US		200
#define RESIZE_POLL_US		1000
#define DEBUG_PAUSE_US		500
#define REALLOC_PAUSE_US	1000
#define VCPU_PAUSE_US		2000
#define SLOT_PRESENT_US		2000
#define IDLE_GUEST_LOOPS	10000
#define MAX_RACING_VCPUS	4
#define MAX_THREADS		8

/* A memslot no guest uses, added and deleted over and over. */
#define EXTRA_SLOT		2
#define EXTRA_GPA		0x20000000ULL
#define EXTRA_PAGES		16

/* Writers: HPTEs of their own, mapping RAM in memslot 0 or the extra slot. */
#define NR_WRITERS		2
#define WRITER_SLOTS		32
#define WRITER_FIRST_PTEG	1000
#define WRITER_RAM_GPA		0x200000ULL

/* What a test's host threads share; each counter has a single writer. */
struct stress {
	struct kvm_vm *vm;
	bool stop;
	pthread_t threads[MAX_THREADS];
	int nr_threads;
	void *extra_mem;
	uint64_t toggles;
	/* The migration stream: its fd, what it sent, reads, reopenings. */
	int fd;
	struct htab_mirror sent;
	uint64_t reads, stale;
	/* Debug reads that returned records, and those that found the HPT replaced. */
	uint64_t debug_reads, debug_stale;
	unsigned int debug_pause_us;	/* between debug reads; 0: none */
	uint64_t reallocs;
};

static uint64_t idle_spins;

/* For vcpus that only need to run: a little work, then back to the host. */
static void guest_idle(void)
{
	uint64_t i;

	for (;;) {
		for (i = 0; i < IDLE_GUEST_LOOPS; i++)
			WRITE_ONCE(idle_spins, idle_spins + 1);
		GUEST_SYNC(1);
	}
}

static bool stopping(struct stress *s)
{
	return READ_ONCE(s->stop);
}

/*
 * The extra slot's memory is touched first: its host pages are present,
 * so HPTEs into it are real mappings, which deleting the slot takes away.
 */
static void stress_init(struct stress *s, struct kvm_vm *vm)
{
	size_t size = EXTRA_PAGES * getpagesize();

	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->fd = -1;
	s->extra_mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(s->extra_mem != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(s->extra_mem, 0x5a, size);
}

static void stress_start(struct stress *s, void *(*fn)(void *), void *arg)
{
	TEST_ASSERT(s->nr_threads < MAX_THREADS, "too many threads");
	TEST_ASSERT(!pthread_create(&s->threads[s->nr_threads++], NULL, fn, arg),
		    "pthread_create failed");
}

/* Stop and join every thread; the counters are then safe to read. */
static void stress_stop(struct stress *s)
{
	WRITE_ONCE(s->stop, true);
	while (s->nr_threads)
		TEST_ASSERT(!pthread_join(s->threads[--s->nr_threads], NULL),
			    "pthread_join failed");
	WRITE_ONCE(s->stop, false);
}

static void stress_free(struct stress *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->sent.hpte)
		htab_mirror_free(&s->sent);
	kvm_vm_free(s->vm);
	munmap(s->extra_mem, EXTRA_PAGES * getpagesize());
}

/* A stale stream cannot be resumed: start over on a new fd, from nothing. */
static void stream_open(struct stress *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = vm_htab_fd(s->vm, 0, 0);
	memset(s->sent.hpte, 0, s->sent.npte * sizeof(*s->sent.hpte));
	htab_mirror_clear_touched(&s->sent);
}

/*
 * The migration stream as QEMU reads it: one fd, 2048-byte reads of whole
 * records.  Only a replaced HPT may make a read fail (ESTALE).
 */
static void *migration_reader(void *arg)
{
	struct stress *s = arg;
	char buf[MIGRATION_BUFSIZE];
	ssize_t n;

	while (!stopping(s)) {
		n = read(s->fd, buf, sizeof(buf));
		if (n < 0) {
			TEST_ASSERT(errno == ESTALE, "migration read: %s", strerror(errno));
			s->stale++;
			stream_open(s);
			continue;
		}
		TEST_ASSERT(n <= (ssize_t)sizeof(buf), "read returned %zd", n);
		htab_mirror_apply(&s->sent, buf, n, NULL);
		if (n)
			s->reads++;
		else
			usleep(IDLE_READ_US);
	}
	return NULL;
}

/*
 * QEMU's debug reads (monitor, gdbstub): a short-lived fd at a PTEG and one
 * read of its 8 HPTEs, whose first record must start there (QEMU treats
 * anything else as fatal).  The HPT may be replaced between open and read.
 */
static void *debug_reader(void *arg)
{
	struct guest_random_state rand = new_guest_random_state(1);
	struct kvm_get_htab_header hdr;
	char buf[DEBUG_READ_BYTES];
	struct stress *s = arg;

	while (!stopping(s)) {
		uint64_t index = guest_random_u32(&rand) % DEBUG_PTEGS * 8;
		int fd = vm_htab_fd(s->vm, 0, index);
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0) {
			TEST_ASSERT(errno == ESTALE, "debug read at %lu: %s", index,
				    strerror(errno));
			s->debug_stale++;
		} else {
			TEST_ASSERT(n >= (ssize_t)sizeof(hdr) && n <= (ssize_t)sizeof(buf),
				    "debug read at %lu returned %zd", index, n);
			memcpy(&hdr, buf, sizeof(hdr));
			TEST_ASSERT(hdr.index == index, "debug read at %lu began at %u",
				    index, hdr.index);
			htab_mirror_apply(NULL, buf, n, NULL);
			s->debug_reads++;
		}
		close(fd);
		if (s->debug_pause_us)
			usleep(s->debug_pause_us);
	}
	return NULL;
}

/*
 * Memory hot(un)plug: each change takes slots_lock and waits for the SRCU
 * readers (hcalls, HPT fd writes) that may be looking at the old slots.
 */
static void *memslot_toggler(void *arg)
{
	uint64_t size = EXTRA_PAGES * getpagesize();
	struct stress *s = arg;

	while (!stopping(s)) {
		vm_set_user_memory_region(s->vm, EXTRA_SLOT, 0, EXTRA_GPA, size, s->extra_mem);
		usleep(SLOT_PRESENT_US);
		vm_set_user_memory_region(s->vm, EXTRA_SLOT, 0, EXTRA_GPA, 0, s->extra_mem);
		s->toggles++;
	}
	return NULL;
}

/* A guest reset wipes the HPT: KVM refuses (EBUSY) while a vcpu runs. */
static void *reallocator(void *arg)
{
	uint32_t order = HPT_ORDER_DEFAULT;
	struct stress *s = arg;

	while (!stopping(s)) {
		if (!__vm_ioctl(s->vm, KVM_PPC_ALLOCATE_HTAB, &order))
			s->reallocs++;
		else
			TEST_ASSERT(errno == EBUSY, "KVM_PPC_ALLOCATE_HTAB: %s", strerror(errno));
		usleep(REALLOC_PAUSE_US);
	}
	return NULL;
}

/*
 * While a reader is open KVM holds a resize off: a prepare of a new size is
 * told to retry, a commit refused, a cancel succeeds.
 */
static void resize_held(struct kvm_vm *vm, uint32_t shift)
{
	assert_resize_prepare_held(vm, shift, "with a reader open");
	assert_resize_commit_refused(vm, shift, "with a reader open");
	TEST_ASSERT_EQ(vm_resize_hpt_ioctl(vm, KVM_PPC_RESIZE_HPT_PREPARE, 0), 0);
}

/* While the guest churns, KVM must refuse to wipe its HPT; readers hold resizes off. */
static void reallocation_refused(struct kvm_vm *vm)
{
	uint32_t order = HPT_ORDER_DEFAULT;

	TEST_ASSERT(__vm_ioctl(vm, KVM_PPC_ALLOCATE_HTAB, &order) == -1 && errno == EBUSY,
		    "KVM_PPC_ALLOCATE_HTAB while the guest runs: expected EBUSY");
	resize_held(vm, HPT_ORDER_RESIZED);
}

/*
 * With the guest stopped, replace its HPT: a resize is held off (the stream
 * is open), so wipe it in place or reallocate it at the other order.  The
 * idle vcpu runs after each, as the guest would: its KVM_RUN sets the VRMA
 * up again.  Returns the new order.
 */
static uint32_t replace_hpt(struct kvm_vm *vm, struct kvm_vcpu *idle, uint32_t order,
			    bool wipe)
{
	uint32_t other = order == HPT_ORDER_DEFAULT ? HPT_ORDER_RESIZED : HPT_ORDER_DEFAULT;
	uint32_t alloc = wipe ? order : other;

	resize_held(vm, other);
	vm_ioctl(vm, KVM_PPC_ALLOCATE_HTAB, &alloc);
	vcpu_run_to_sync(idle, 1);
	return alloc;
}

/* Nothing lost: the stream, read to its end, is the HPT a fresh reader sees. */
static void check_stream(struct stress *s)
{
	struct htab_mirror fresh;
	uint64_t i;
	int fd;

	htab_read_until_empty(s->fd, MIGRATION_BUFSIZE, &s->sent, NULL);
	htab_mirror_init(&fresh, s->sent.npte);
	fd = vm_htab_fd(s->vm, 0, 0);
	htab_read_until_empty(fd, MIGRATION_BUFSIZE, &fresh, NULL);
	close(fd);
	for (i = 0; i < fresh.npte; i++)
		TEST_ASSERT(s->sent.hpte[i].v == fresh.hpte[i].v &&
			    s->sent.hpte[i].r == fresh.hpte[i].r,
			    "HPTE %lu: stream 0x%lx 0x%lx, fresh reader 0x%lx 0x%lx", i,
			    s->sent.hpte[i].v, s->sent.hpte[i].r, fresh.hpte[i].v, fresh.hpte[i].r);
	htab_mirror_free(&fresh);
}

/* Readers of both kinds and the memslot toggler, on @s's VM. */
static void start_readers(struct stress *s)
{
	stress_start(s, migration_reader, s);
	stress_start(s, debug_reader, s);
	stress_start(s, memslot_toggler, s);
}

static bool readers_progressed(struct stress *s)
{
	return (READ_ONCE(s->reads) || READ_ONCE(s->stale)) && READ_ONCE(s->debug_reads) &&
	       READ_ONCE(s->toggles);
}

/* Each phase of the first test must see every thread get somewhere. */
static void check_readers_progressed(struct stress *s, const char *phase)
{
	pr_info("%s: %lu stream reads, %lu reopenings, %lu debug reads (%lu stale), %lu memslot toggles\n",
		phase, s->reads, s->stale, s->debug_reads, s->debug_stale, s->toggles);
	TEST_ASSERT(readers_progressed(s), "%s: no progress", phase);
	s->reads = 0;
	s->stale = 0;
	s->debug_reads = 0;
	s->debug_stale = 0;
	s->toggles = 0;
}

#define TAINT_BAD_PAGE	BIT(5)		/* KASAN reports set it */
#define TAINT_WARN	BIT(9)

/* What the kernel says of itself: its taint, and whether lockdep is still on. */
struct kernel_state {
	unsigned long taint;
	int debug_locks;	/* -1: no lockdep */
};

static struct kernel_state kernel_state(void)
{
	struct kernel_state ks = { .debug_locks = -1 };
	char line[128];
	FILE *f;

	f = fopen("/proc/sys/kernel/tainted", "r");
	TEST_ASSERT(f && fscanf(f, "%lu", &ks.taint) == 1, "reading /proc/sys/kernel/tainted");
	fclose(f);
	f = fopen("/proc/lockdep_stats", "r");
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, " debug_locks: %d", &ks.debug_locks);
	if (f)
		fclose(f);
	return ks;
}

/* Nothing the kernel reports on its own since @before: no WARN, KASAN or lockdep report. */
static void check_kernel_quiet(struct kernel_state before)
{
	struct kernel_state now = kernel_state();

	TEST_ASSERT(!(now.taint & ~before.taint & (TAINT_BAD_PAGE | TAINT_WARN)),
		    "the kernel reported trouble: taint 0x%lx, was 0x%lx", now.taint, before.taint);
	TEST_ASSERT(now.debug_locks == before.debug_locks,
		    "lockdep switched itself off: it reported something");
}

/*
 * First with the guest churning (the HPT stays: no read may fail, and the
 * stream must end up as the guest's table), then with the guest stopped and
 * its HPT wiped and reallocated under the readers (resizes held off).
 */
TEST(readers_race_memslots_and_reallocation)
{
	uint32_t order = HPT_ORDER_DEFAULT;
	uint64_t refusals = 0, cycles = 0, i, nr_valid = 0;
	struct kvm_vcpu *churn, *idle;
	struct background_vcpu bg;
	char buf[MIGRATION_BUFSIZE];
	struct stress s;
	double end;
	struct kernel_state ks = kernel_state();

	stress_init(&s, vm_create_with_one_vcpu(&churn, guest_hpte_churn));
	idle = vm_vcpu_add(s.vm, 1, guest_idle);
	htab_mirror_init(&s.sent, hpt_npte(HPT_ORDER_RESIZED));
	stream_open(&s);

	background_vcpu_start(&bg, churn, HPTE_CHURN_STOPPED);
	while (!hpte_churn_changes(s.vm))
		usleep(1000);
	start_readers(&s);
	end = monotonic_seconds() + STRESS_SECONDS / 2.0;
	for (; (monotonic_seconds() < end || !readers_progressed(&s)) &&
	     refusals < MAX_CHURN_ROUNDS; refusals++)
		reallocation_refused(s.vm);
	stress_stop(&s);
	hpte_churn_stop(s.vm);
	background_vcpu_join(&bg);

	pr_info("guest made %lu changes; %lu reallocations refused\n",
		hpte_churn_changes(s.vm), refusals);
	TEST_ASSERT(!s.stale && !s.debug_stale, "a read failed though the HPT stayed");
	check_readers_progressed(&s, "churning");
	check_stream(&s);
	hpte_churn_check(s.vm, &s.sent, 0);

	/*
	 * A cycle takes long on an emulated host: go on, up to a bound, until
	 * every thread got somewhere (a stream read or a reopening counts).
	 */
	start_readers(&s);
	end = monotonic_seconds() + STRESS_SECONDS / 2.0;
	while ((monotonic_seconds() < end || !readers_progressed(&s)) &&
	       cycles < MAX_REPLACE_CYCLES)
		order = replace_hpt(s.vm, idle, order, cycles++ % 2);
	stress_stop(&s);
	pr_info("%lu reallocation cycles, resizes held off\n", cycles);
	check_readers_progressed(&s, "replacing");

	/* One more wipe, after the stream's last read: it must go stale. */
	order = HPT_ORDER_DEFAULT;
	vm_ioctl(s.vm, KVM_PPC_ALLOCATE_HTAB, &order);
	TEST_ASSERT(read(s.fd, buf, sizeof(buf)) == -1 && errno == ESTALE,
		    "read after the HPT was wiped: expected ESTALE");
	stream_open(&s);
	vcpu_run_to_sync(idle, 1);
	check_stream(&s);
	/* The wiped HPT holds what KVM_RUN put back, the VRMA, and nothing else. */
	for (i = 0; i < s.sent.npte; i++) {
		TEST_ASSERT(!s.sent.hpte[i].v || hpte_is_vrma(s.sent.hpte[i].v),
			    "HPTE %lu survived the wipe: v 0x%lx", i, s.sent.hpte[i].v);
		nr_valid += !!s.sent.hpte[i].v;
	}
	TEST_ASSERT_EQ(nr_valid, memslot2region(s.vm, 0)->region.memory_size / getpagesize());
	stress_free(&s);
	check_kernel_quiet(ks);
}

/*
 * The guest resizes its HPT (stopped between resizes, as Linux is by
 * stop_machine() around its commit) while QEMU-style debug reads open and
 * close readers at random: a resize goes through only between two of them,
 * else the prepare is told to retry or the commit refused.  A debug read
 * never fails: no reader is open across a resize.
 */
TEST(resizes_race_debug_readers)
{
	uint64_t resizes = 0, refused = 0, retries = 0, attempts = 0;
	uint32_t order = HPT_ORDER_DEFAULT;
	struct kvm_vcpu *idle;
	struct stress s;
	double end;
	struct kernel_state ks = kernel_state();

	stress_init(&s, vm_create_with_one_vcpu(&idle, guest_idle));
	vcpu_run_to_sync(idle, 1);
	/* Back to back, readers would leave a resize almost no gap to go through. */
	s.debug_pause_us = DEBUG_PAUSE_US;
	stress_start(&s, debug_reader, &s);
	stress_start(&s, memslot_toggler, &s);

	end = monotonic_seconds() + STRESS_SECONDS;
	while (monotonic_seconds() < end || !resizes || !READ_ONCE(s.debug_reads) ||
	       !READ_ONCE(s.toggles)) {
		uint32_t other = order == HPT_ORDER_DEFAULT ? HPT_ORDER_RESIZED : HPT_ORDER_DEFAULT;
		int ret;

		TEST_ASSERT(++attempts <= MAX_RESIZE_ATTEMPTS,
			    "%lu resizes, %lu debug reads, %lu memslot toggles in %d resize attempts",
			    resizes, s.debug_reads, s.toggles, MAX_RESIZE_ATTEMPTS);
		ret = vm_resize_hpt_ioctl(s.vm, KVM_PPC_RESIZE_HPT_PREPARE, other);
		if (ret > 0) {
			retries++;
			usleep(RESIZE_POLL_US);
			continue;
		}
		TEST_ASSERT(!ret, "KVM_PPC_RESIZE_HPT_PREPARE(%u): %s", other, strerror(errno));
		ret = vm_resize_hpt_ioctl(s.vm, KVM_PPC_RESIZE_HPT_COMMIT, other);
		if (ret) {
			TEST_ASSERT(errno == EBUSY, "KVM_PPC_RESIZE_HPT_COMMIT(%u): %s",
				    other, strerror(errno));
			refused++;
			continue;
		}
		vcpu_run_to_sync(idle, 1);
		order = other;
		resizes++;
	}
	stress_stop(&s);

	pr_info("%lu resizes, %lu commits refused, %lu prepares told to retry; %lu debug reads, %lu memslot toggles\n",
		resizes, refused, retries, s.debug_reads, s.toggles);
	TEST_ASSERT(!s.debug_stale, "a debug read failed: a reader was open across a resize");
	TEST_ASSERT(s.debug_reads && s.toggles, "a thread made no progress");
	stress_free(&s);
	check_kernel_quiet(ks);
}

/* A writer of the HPT fd, and what it last wrote to each of its HPTEs. */
struct writer {
	struct stress *s;
	int id;
	int fd;
	uint64_t writes, busy;
	struct hpte last[WRITER_SLOTS];	/* v == 0: invalid */
};

/* Writer HPTE @k: a PTEG of its own, never slot 7, where KVM puts the VRMA. */
static uint32_t writer_index(int k)
{
	return (WRITER_FIRST_PTEG + k) * 8 + k % 7;
}

/*
 * Write @gen to writer HPTE @k: a 4K page of RAM in memslot 0 or, for odd
 * @k, in the extra slot (while it is gone, an MMIO address, which the fd
 * accepts as H_ENTER does).  V and pp change with @gen.
 */
static struct hpte writer_entry(int k, uint64_t gen)
{
	uint64_t gpa = (k % 2 ? EXTRA_GPA : WRITER_RAM_GPA) + k * 0x1000;

	return (struct hpte) {
		.v = HPTE_V_1TB_SEG | (0x5000 + gen % 256 * 0x100 + k) << HPTE_V_AVPN_SHIFT |
		     HPTE_V_VALID,
		.r = gpa | HPTE_R_M | gen % 4,
	};
}

/*
 * Write single records (every eighth one an invalidation), as QEMU does
 * when it restores an HPT.  They are well formed and map 4K pages the host
 * can always back, so the only failure allowed is EBUSY while the vcpu runs.
 */
static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	struct guest_random_state rand = new_guest_random_state(w->id + 1);
	struct {
		struct kvm_get_htab_header hdr;
		__be64 hpte[2];
	} rec;
	uint64_t gen;

	for (gen = 1; !stopping(w->s); gen++) {
		int j = guest_random_u32(&rand) % WRITER_SLOTS, k = w->id * WRITER_SLOTS + j;
		struct hpte e = gen % 8 ? writer_entry(k, gen) : (struct hpte){};
		size_t len = sizeof(rec.hdr) + (e.v ? HPTE_SIZE : 0);
		ssize_t n;

		rec.hdr.index = writer_index(k);
		rec.hdr.n_valid = !!e.v;
		rec.hdr.n_invalid = !e.v;
		rec.hpte[0] = htobe64(e.v);
		rec.hpte[1] = htobe64(e.r);
		n = write(w->fd, &rec, len);
		if (n < 0 && errno == EBUSY) {
			w->busy++;
			continue;
		}
		TEST_ASSERT(n == (ssize_t)len, "write to HPTE %u returned %zd: %s",
			    rec.hdr.index, n, n < 0 ? strerror(errno) : "short");
		w->last[j] = e;
		w->writes++;
	}
	return NULL;
}

/* Writers get through only while the vcpu is out of KVM_RUN. */
static bool writers_progressed(struct stress *s, struct writer *writers)
{
	int w;

	for (w = 0; w < NR_WRITERS; w++)
		if (!READ_ONCE(writers[w].writes))
			return false;
	return READ_ONCE(s->reads) && READ_ONCE(s->toggles);
}

/*
 * Writers restore HPTEs while the extra slot comes and goes under their
 * entries, a reader streams the HPT and the vcpu runs now and then.  Once
 * all stop, the stream and a fresh reader hold each writer's last write.
 */
TEST(writers_race_memslots)
{
	struct writer writers[NR_WRITERS] = {};
	struct kvm_vcpu *vcpu;
	uint64_t runs = 0;
	struct stress s;
	double end;
	int w, j;
	struct kernel_state ks = kernel_state();

	stress_init(&s, vm_create_with_one_vcpu(&vcpu, guest_idle));
	htab_mirror_init(&s.sent, hpt_npte(HPT_ORDER_DEFAULT));
	stream_open(&s);
	for (w = 0; w < NR_WRITERS; w++) {
		writers[w].s = &s;
		writers[w].id = w;
		writers[w].fd = vm_htab_fd(s.vm, KVM_GET_HTAB_WRITE, 0);
		stress_start(&s, writer_thread, &writers[w]);
	}
	stress_start(&s, migration_reader, &s);
	stress_start(&s, memslot_toggler, &s);

	end = monotonic_seconds() + STRESS_SECONDS;
	for (; (monotonic_seconds() < end || !writers_progressed(&s, writers)) &&
	     runs < MAX_VCPU_RUNS; runs++) {
		vcpu_run_to_sync(vcpu, 1);
		usleep(VCPU_PAUSE_US);
	}
	stress_stop(&s);

	pr_info("%lu vcpu runs, %lu stream reads, %lu memslot toggles\n",
		runs, s.reads, s.toggles);
	TEST_ASSERT(s.reads && s.toggles, "a thread made no progress");
	TEST_ASSERT(!s.stale, "the stream went stale, yet the HPT was never replaced");
	check_stream(&s);
	for (w = 0; w < NR_WRITERS; w++) {
		pr_info("writer %d: %lu writes, %lu refused while the vcpu ran\n",
			w, writers[w].writes, writers[w].busy);
		TEST_ASSERT(writers[w].writes, "writer %d wrote nothing", w);
		for (j = 0; j < WRITER_SLOTS; j++) {
			uint32_t i = writer_index(w * WRITER_SLOTS + j);
			struct hpte *last = &writers[w].last[j];

			TEST_ASSERT(s.sent.hpte[i].v == last->v && s.sent.hpte[i].r == last->r,
				    "HPTE %u: read 0x%lx 0x%lx, last written 0x%lx 0x%lx", i,
				    s.sent.hpte[i].v, s.sent.hpte[i].r, last->v, last->r);
		}
		close(writers[w].fd);
	}
	stress_free(&s);
	check_kernel_quiet(ks);
}

/*
 * Creating a vcpu takes mmu_setup_lock inside kvm->lock; opening a reader
 * takes it and waits for an SRCU grace period; wiping the HPT and memslot
 * changes take SRCU and mmu_setup_lock too.  Race them on fresh VMs, each
 * new vcpu running once (its first KVM_RUN sets the VRMA up).
 */
TEST(vcpu_creation_races_open)
{
	int id, nr_vcpus = min_t(int, MAX_RACING_VCPUS, kvm_check_cap(KVM_CAP_MAX_VCPUS));
	uint64_t rounds = 0, opens = 0, reallocs = 0, toggles = 0;
	double end = monotonic_seconds() + STRESS_SECONDS;
	struct stress s;
	struct kernel_state ks = kernel_state();

	do {
		stress_init(&s, vm_create(nr_vcpus));
		stress_start(&s, debug_reader, &s);
		stress_start(&s, reallocator, &s);
		stress_start(&s, memslot_toggler, &s);
		for (id = 0; id < nr_vcpus; id++) {
			usleep(VCPU_PAUSE_US);
			vcpu_run_to_sync(vm_vcpu_add(s.vm, id, guest_idle), 1);
		}
		stress_stop(&s);
		opens += s.debug_reads + s.debug_stale;
		reallocs += s.reallocs;
		toggles += s.toggles;
		stress_free(&s);
		rounds++;
	} while ((monotonic_seconds() < end || !(opens && reallocs && toggles)) &&
		 rounds < MAX_VM_ROUNDS);

	pr_info("%lu VMs of %d vcpus: %lu opens, %lu reallocations, %lu memslot toggles\n",
		rounds, nr_vcpus, opens, reallocs, toggles);
	TEST_ASSERT(opens && reallocs && toggles, "a thread made no progress");
	check_kernel_quiet(ks);
}

int main(int argc, char *argv[])
{
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_PPC_HTAB_FD));
	return test_harness_run(argc, argv);
}
