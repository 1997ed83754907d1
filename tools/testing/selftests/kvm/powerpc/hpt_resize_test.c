// SPDX-License-Identifier: GPL-2.0-only
/*
 * HPT resizes while userspace streams the HPT (api.rst,
 * KVM_PPC_RESIZE_HPT_PREPARE and KVM_PPC_RESIZE_HPT_COMMIT).  QEMU
 * announces the HPT's size once, when a migration starts, and opens its
 * reader later; a resize in between, or while the reader streams, would send
 * a table of one size announced as another.  So while a reader of
 * KVM_PPC_GET_HTAB_FD is open, or the memslot holding guest physical
 * address 0 is dirty-logged, KVM_PPC_RESIZE_HPT_PREPARE of a new size
 * answers "retry later" (a positive number of milliseconds, which QEMU
 * hands the guest as H_LONG_BUSY) and drops what it had prepared;
 * cancelling (shift 0) still succeeds; KVM_PPC_RESIZE_HPT_COMMIT fails with
 * EBUSY.  Once the stream ends, the next resize goes through.  Also: a
 * prepared resize goes with the HPT it was for (reset, VM destruction), and
 * an early commit is refused without a kernel warning.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "htab.h"
#include "kvm_test_harness.h"
#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#define READ_BUFSIZE		2048
#define HPT_ORDER_RESIZED	(HPT_ORDER_DEFAULT + 1)
/* A resize that must go through is prepared within 10 s. */
#define PREPARE_TRIES		1000

/* A second memslot, as a display's framebuffer: logged for its own sake. */
#define FB_SLOT			1
#define FB_GPA			0x20000000ULL
#define FB_PAGES		16

/* The guest only runs: its first KVM_RUN sets the VRMA up (the MMU is ready). */
static void guest_code(void)
{
	for (;;)
		GUEST_SYNC(1);
}

static int prepare_until_done(struct kvm_vm *vm, uint32_t shift)
{
	return vm_resize_hpt_prepare_polled(vm, shift, PREPARE_TRIES);
}

/* A resize of @vm's HPT to @shift, prepared and committed: it must go through. */
static void resize_hpt(struct kvm_vcpu *vcpu, uint32_t shift)
{
	int ret = prepare_until_done(vcpu->vm, shift);

	TEST_ASSERT(!ret, "KVM_PPC_RESIZE_HPT_PREPARE(%u): %d, %s", shift, ret,
		    ret < 0 ? strerror(errno) : "still in progress");
	ret = vm_resize_hpt_ioctl(vcpu->vm, KVM_PPC_RESIZE_HPT_COMMIT, shift);
	TEST_ASSERT(!ret, "KVM_PPC_RESIZE_HPT_COMMIT(%u): %s", shift, strerror(errno));
	/* The guest runs on the new table. */
	vcpu_run_to_sync(vcpu, 1);
}

/* Nothing is left prepared to commit: @why says what should have dropped it. */
static void assert_nothing_prepared(struct kvm_vm *vm, const char *why)
{
	int ret = vm_resize_hpt_ioctl(vm, KVM_PPC_RESIZE_HPT_COMMIT, HPT_ORDER_RESIZED);

	TEST_ASSERT(ret == -1 && errno == ENXIO, "%s: commit %d (%s)", why, ret,
		    ret < 0 ? strerror(errno) : "committed");
}

/* The HPT's size as a fresh reader's first pass finds it; also checks @m if given. */
static uint64_t hpt_npte_read(struct kvm_vm *vm, const struct htab_mirror *m)
{
	struct htab_mirror fresh;
	uint64_t npte, i;
	int fd;

	htab_mirror_init(&fresh, hpt_npte(HPT_ORDER_RESIZED));
	fd = vm_htab_fd(vm, 0, 0);
	htab_read_until_empty(fd, READ_BUFSIZE, &fresh, NULL);
	close(fd);
	for (npte = fresh.npte; npte && !fresh.touched[npte - 1]; npte--)
		;
	for (i = 0; m && i < m->npte; i++)
		TEST_ASSERT(m->hpte[i].v == fresh.hpte[i].v && m->hpte[i].r == fresh.hpte[i].r,
			    "HPTE %lu: stream 0x%lx 0x%lx, fresh reader 0x%lx 0x%lx", i,
			    m->hpte[i].v, m->hpte[i].r, fresh.hpte[i].v, fresh.hpte[i].r);
	htab_mirror_free(&fresh);
	return npte;
}

FIXTURE(resize) {
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
};

FIXTURE_SETUP(resize)
{
	self->vm = vm_create_with_one_vcpu(&self->vcpu, guest_code);
	vcpu_run_to_sync(self->vcpu, 1);
}

FIXTURE_TEARDOWN(resize)
{
	kvm_vm_free(self->vm);
}

/* Nothing streams the HPT: a resize goes through, and a reader sees the new size. */
TEST_F(resize, without_reader)
{
	resize_hpt(self->vcpu, HPT_ORDER_RESIZED);
	TEST_ASSERT_EQ(hpt_npte_read(self->vm, NULL), hpt_npte(HPT_ORDER_RESIZED));
	resize_hpt(self->vcpu, HPT_ORDER_DEFAULT);
	TEST_ASSERT_EQ(hpt_npte_read(self->vm, NULL), hpt_npte(HPT_ORDER_DEFAULT));
}

/*
 * A reader opens after the guest asked for a resize and before it was
 * prepared: the prepare is dropped and told to retry, a cancel succeeds;
 * once the reader closed, the guest's next resize goes through.
 */
TEST_F(resize, asked_before_reader_opens)
{
	int fd;

	TEST_ASSERT(vm_resize_hpt_ioctl(self->vm, KVM_PPC_RESIZE_HPT_PREPARE,
					HPT_ORDER_RESIZED) > 0,
		    "a new prepare starts in the background");
	fd = vm_htab_fd(self->vm, 0, 0);
	assert_resize_prepare_held(self->vm, HPT_ORDER_RESIZED, "with a reader open");
	TEST_ASSERT_EQ(vm_resize_hpt_ioctl(self->vm, KVM_PPC_RESIZE_HPT_PREPARE, 0), 0);
	assert_resize_prepare_held(self->vm, HPT_ORDER_RESIZED, "after a cancel, reader open");
	close(fd);

	resize_hpt(self->vcpu, HPT_ORDER_RESIZED);
	TEST_ASSERT_EQ(hpt_npte_read(self->vm, NULL), hpt_npte(HPT_ORDER_RESIZED));
}

/*
 * Prepared before the reader opened: the commit is refused and the table
 * stays what the reader streams; the prepared HPT is dropped, so after
 * the reader closed the guest prepares again.
 */
TEST_F(resize, prepared_before_reader_opens)
{
	struct htab_mirror m;
	int fd;

	TEST_ASSERT_EQ(prepare_until_done(self->vm, HPT_ORDER_RESIZED), 0);
	fd = vm_htab_fd(self->vm, 0, 0);
	assert_resize_commit_refused(self->vm, HPT_ORDER_RESIZED, "with a reader open");
	vcpu_run_to_sync(self->vcpu, 1);

	htab_mirror_init(&m, hpt_npte(HPT_ORDER_DEFAULT));
	htab_read_until_empty(fd, READ_BUFSIZE, &m, NULL);
	TEST_ASSERT(m.touched[m.npte - 1], "the stream did not reach the end of its table");
	TEST_ASSERT_EQ(hpt_npte_read(self->vm, &m), hpt_npte(HPT_ORDER_DEFAULT));
	close(fd);
	htab_mirror_free(&m);

	assert_nothing_prepared(self->vm, "the refused commit left a prepared HPT behind");
	resize_hpt(self->vcpu, HPT_ORDER_RESIZED);
}

/*
 * Halfway through a reader's first pass the guest asks for a resize: it
 * is held off, the reader goes on to the end of the table and its stream is
 * what a fresh reader sees; the guest keeps running meanwhile.
 */
TEST_F(resize, asked_mid_pass)
{
	char buf[READ_BUFSIZE];
	struct htab_mirror m;
	ssize_t n;
	int fd;

	htab_mirror_init(&m, hpt_npte(HPT_ORDER_DEFAULT));
	fd = vm_htab_fd(self->vm, 0, 0);
	n = read(fd, buf, sizeof(buf));
	TEST_ASSERT(n > 0, "first read: %s", strerror(errno));
	htab_mirror_apply(&m, buf, n, NULL);
	TEST_ASSERT(!m.touched[m.npte - 1], "one 2 KiB read covered the whole table");

	assert_resize_prepare_held(self->vm, HPT_ORDER_RESIZED, "mid-pass");
	assert_resize_commit_refused(self->vm, HPT_ORDER_RESIZED, "mid-pass");
	vcpu_run_to_sync(self->vcpu, 1);
	assert_resize_prepare_held(self->vm, HPT_ORDER_RESIZED, "mid-pass, after the guest ran");

	htab_read_until_empty(fd, READ_BUFSIZE, &m, NULL);
	TEST_ASSERT(m.touched[m.npte - 1], "the stream did not reach the end of its table");
	TEST_ASSERT_EQ(hpt_npte_read(self->vm, &m), hpt_npte(HPT_ORDER_DEFAULT));
	close(fd);
	htab_mirror_free(&m);

	resize_hpt(self->vcpu, HPT_ORDER_RESIZED);
}

/* A prepare held off drops what was prepared: nothing is left to commit. */
TEST_F(resize, held_prepare_drops_prepared)
{
	int fd;

	TEST_ASSERT_EQ(prepare_until_done(self->vm, HPT_ORDER_RESIZED), 0);
	fd = vm_htab_fd(self->vm, 0, 0);
	assert_resize_prepare_held(self->vm, HPT_ORDER_RESIZED, "with a reader open");
	close(fd);
	assert_nothing_prepared(self->vm, "a held prepare left its prepared HPT behind");
	resize_hpt(self->vcpu, HPT_ORDER_RESIZED);
}

/* A short-lived reader (QEMU's debug reads) holds a resize off only while open. */
TEST_F(resize, after_reader_closed)
{
	char buf[8 + 8 * HPTE_SIZE];
	int fd = vm_htab_fd(self->vm, 0, 8 * 100);

	TEST_ASSERT(read(fd, buf, sizeof(buf)) > 0, "debug read: %s", strerror(errno));
	assert_resize_prepare_held(self->vm, HPT_ORDER_RESIZED, "with a debug reader open");
	close(fd);
	resize_hpt(self->vcpu, HPT_ORDER_RESIZED);
}

/*
 * A writer is not a stream: it does not hold resizes off, and each record
 * applies to the table as it is when written.
 */
TEST_F(resize, writer_does_not_hold)
{
	struct {
		struct kvm_get_htab_header hdr;
	} rec = { .hdr = { .index = hpt_npte(HPT_ORDER_RESIZED) - 1, .n_invalid = 1 } };
	int wfd = vm_htab_fd(self->vm, KVM_GET_HTAB_WRITE, 0);

	TEST_ASSERT(write(wfd, &rec, sizeof(rec)) == -1 && errno == EINVAL,
		    "a record past the end of the table was taken");
	resize_hpt(self->vcpu, HPT_ORDER_RESIZED);
	TEST_ASSERT_EQ(write(wfd, &rec, sizeof(rec)), sizeof(rec));
	close(wfd);
}

/*
 * Dirty logging of guest RAM (QEMU's migration, from its setup to its
 * cleanup, before and after its reader) holds resizes off like a reader.
 */
TEST_F(resize, dirty_logging_of_ram)
{
	TEST_ASSERT_EQ(prepare_until_done(self->vm, HPT_ORDER_RESIZED), 0);
	vm_mem_region_set_flags(self->vm, 0, KVM_MEM_LOG_DIRTY_PAGES);
	assert_resize_commit_refused(self->vm, HPT_ORDER_RESIZED, "while RAM is dirty-logged");
	assert_resize_prepare_held(self->vm, HPT_ORDER_RESIZED, "while RAM is dirty-logged");
	TEST_ASSERT_EQ(vm_resize_hpt_ioctl(self->vm, KVM_PPC_RESIZE_HPT_PREPARE, 0), 0);
	vcpu_run_to_sync(self->vcpu, 1);
	TEST_ASSERT_EQ(hpt_npte_read(self->vm, NULL), hpt_npte(HPT_ORDER_DEFAULT));

	/* Migration cancelled or done: logging off, the next resize goes through. */
	vm_mem_region_set_flags(self->vm, 0, 0);
	resize_hpt(self->vcpu, HPT_ORDER_RESIZED);
	TEST_ASSERT_EQ(hpt_npte_read(self->vm, NULL), hpt_npte(HPT_ORDER_RESIZED));
}

/* A display logging its own framebuffer's memslot, always, holds nothing off. */
TEST_F(resize, framebuffer_logging)
{
	size_t size = FB_PAGES * getpagesize();
	void *fb = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TEST_ASSERT(fb != MAP_FAILED, "mmap: %s", strerror(errno));
	vm_set_user_memory_region(self->vm, FB_SLOT, KVM_MEM_LOG_DIRTY_PAGES, FB_GPA, size, fb);
	resize_hpt(self->vcpu, HPT_ORDER_RESIZED);
	TEST_ASSERT_EQ(hpt_npte_read(self->vm, NULL), hpt_npte(HPT_ORDER_RESIZED));
	vm_set_user_memory_region(self->vm, FB_SLOT, 0, FB_GPA, 0, fb);
	munmap(fb, size);
}

/* How many warnings the kernel has printed (also counted when already tainted). */
static long kernel_warn_count(void)
{
	long n;
	FILE *f = fopen("/sys/kernel/warn_count", "r");

	TEST_ASSERT(f && fscanf(f, "%ld", &n) == 1, "reading /sys/kernel/warn_count");
	fclose(f);
	return n;
}

static void assert_commit_refused_early(struct kvm_vm *vm, const char *when)
{
	long warnings = kernel_warn_count();
	int ret = vm_resize_hpt_ioctl(vm, KVM_PPC_RESIZE_HPT_COMMIT, HPT_ORDER_RESIZED);

	TEST_ASSERT(ret == -1 && errno == EIO, "commit %s: %d (%s)", when, ret,
		    ret < 0 ? strerror(errno) : "committed");
	TEST_ASSERT_EQ(kernel_warn_count(), warnings);
}

/*
 * A reset (KVM_PPC_ALLOCATE_HTAB) discards the resize prepared for the HPT
 * it replaces.  Until the next KVM_RUN the VRMA is not set up: a commit
 * then is refused with EIO, and no kernel warning.
 */
TEST_F(resize, commit_after_reset)
{
	uint32_t order = HPT_ORDER_DEFAULT;

	TEST_ASSERT_EQ(prepare_until_done(self->vm, HPT_ORDER_RESIZED), 0);
	vm_ioctl(self->vm, KVM_PPC_ALLOCATE_HTAB, &order);
	vcpu_run_to_sync(self->vcpu, 1);
	assert_nothing_prepared(self->vm, "the reset left the prepared HPT behind");

	TEST_ASSERT_EQ(prepare_until_done(self->vm, HPT_ORDER_RESIZED), 0);
	vm_ioctl(self->vm, KVM_PPC_ALLOCATE_HTAB, &order);
	assert_commit_refused_early(self->vm, "after a reset, before KVM_RUN");
	vcpu_run_to_sync(self->vcpu, 1);
	resize_hpt(self->vcpu, HPT_ORDER_RESIZED);
}

/* The same before the VM's first KVM_RUN. */
TEST(commit_before_first_run)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_code);

	TEST_ASSERT_EQ(prepare_until_done(vm, HPT_ORDER_RESIZED), 0);
	assert_commit_refused_early(vm, "before the first KVM_RUN");
	vcpu_run_to_sync(vcpu, 1);
	resize_hpt(vcpu, HPT_ORDER_RESIZED);
	kvm_vm_free(vm);
}

/* Guests that prepare a resize and go away: 4 MiB HPTs. */
#define GONE_VMS		32
#define GONE_ORDER		22
#define GONE_LEAK_MAX_KB	(48 * 1024)	/* a leak: 256 MiB (HPTs and reverse maps) */
/* For the memory freed with the last VMs to show in MemFree. */
#define GONE_SETTLE_US		1000000

static long mem_free_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	TEST_ASSERT(f, "opening /proc/meminfo");
	while (fgets(line, sizeof(line), f) && sscanf(line, "MemFree: %ld kB", &kb) != 1)
		;
	fclose(f);
	TEST_ASSERT(kb >= 0, "no MemFree in /proc/meminfo");
	return kb;
}

/* A VM that prepares a resize (@wait: to its end) and goes away. */
static void vm_gone_with_resize(bool wait)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	int ret;

	vcpu_run_to_sync(vcpu, 1);
	if (wait) {
		TEST_ASSERT_EQ(prepare_until_done(vm, GONE_ORDER), 0);
	} else {
		ret = vm_resize_hpt_ioctl(vm, KVM_PPC_RESIZE_HPT_PREPARE, GONE_ORDER);
		TEST_ASSERT(ret > 0, "prepare: %d (%s)", ret, strerror(errno));
	}
	kvm_vm_free(vm);
}

/*
 * A VM destroyed with a resize prepared (or still being prepared: the
 * preparation must not outlive its VM) frees the new HPT with it.
 */
TEST(prepared_resize_freed_with_vm)
{
	long before, after;
	int i;

	vm_gone_with_resize(true);	/* what the first VM allocates for good */
	before = mem_free_kb();
	for (i = 0; i < GONE_VMS; i++)
		vm_gone_with_resize(i % 2);
	usleep(GONE_SETTLE_US);
	after = mem_free_kb();
	pr_info("MemFree: %ld kB before %d VMs with a prepared resize, %ld kB after\n",
		before, GONE_VMS, after);
	TEST_ASSERT(before - after < GONE_LEAK_MAX_KB,
		    "%ld kB less free memory after %d VMs with a %u MiB resize prepared",
		    before - after, GONE_VMS, 1U << (GONE_ORDER - 20));
}

int main(int argc, char *argv[])
{
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_PPC_HTAB_FD));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_SPAPR_RESIZE_HPT));
	return test_harness_run(argc, argv);
}
