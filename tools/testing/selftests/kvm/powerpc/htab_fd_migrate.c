// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live-migrate an HPT between two VMs the way QEMU does, while the source
 * guest keeps changing it: one read fd on the source, one write fd on the
 * destination, passes of 2048-byte reads bounded in time until a pass is
 * small, then the source vcpu stops and a final pass runs to the end.
 * Prints each pass and, at the end, whether the two HPTs are identical.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hpte_churn.h"
#include "htab.h"
#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#define READ_BUFSIZE		2048	/* QEMU's buffer */
#define PASS_SECONDS		0.005	/* QEMU's time limit per iteration */
#define SMALL_PASS_BYTES	4096	/* below this, stop the source */
#define MIN_PASSES		20
#define MAX_PASSES		500
/* Between passes QEMU migrates RAM; the guest runs meanwhile. */
#define BETWEEN_PASSES_US	10000

/*
 * One pass: read from @src, write each chunk to @dst, until a read returns
 * 0 or @limit seconds have gone (no limit if 0).  @sent records which HPTEs
 * the stream has covered.
 */
static void pass(int src, int dst, double limit, struct htab_mirror *sent,
		 struct htab_stats *st)
{
	double start = monotonic_seconds();
	char buf[READ_BUFSIZE];
	ssize_t n;

	while ((n = read(src, buf, sizeof(buf))) > 0) {
		htab_mirror_apply(sent, buf, n, st);
		TEST_ASSERT(write(dst, buf, n) == n, "write to the destination failed");
		st->reads++;
		if (limit && monotonic_seconds() - start > limit)
			return;
	}
	TEST_ASSERT(n == 0, "read from the source failed");
}

/* Has the stream covered every HPTE, i.e. is its first pass over? */
static bool first_pass_done(struct htab_mirror *sent)
{
	uint64_t i;

	for (i = 0; i < sent->npte; i++)
		if (!sent->touched[i])
			return false;
	return true;
}

static void print_pass(const char *what, int nr, const struct htab_stats *st, double secs)
{
	printf("%5d  %-9s %7lu %8lu %8lu %9lu %9.4f\n", nr, what, st->records,
	       st->valid, st->invalid, st->bytes, secs);
}

int main(void)
{
	struct kvm_vcpu *src_vcpu, *dst_vcpu;
	struct htab_stats total = {};
	struct htab_mirror a, b, sent;
	struct background_vcpu bg;
	struct kvm_vm *src, *dst;
	int rfd, wfd, nr = 0;
	uint64_t i;
	double t;

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_PPC_HTAB_FD));
	src = vm_create_with_one_vcpu(&src_vcpu, guest_hpte_churn);
	dst = vm_create_with_one_vcpu(&dst_vcpu, guest_hpte_churn);
	rfd = vm_htab_fd(src, 0, 0);
	wfd = vm_htab_fd(dst, KVM_GET_HTAB_WRITE, 0);

	printf("HPT live migration: order %d (%lu HPTEs), %d-byte reads, %.0f ms per pass\n",
	       HPT_ORDER_DEFAULT, hpt_npte(HPT_ORDER_DEFAULT), READ_BUFSIZE, PASS_SECONDS * 1e3);
	printf("source guest: enters, removes and re-protects HPTEs until stopped\n\n");
	printf("%5s  %-9s %7s %8s %8s %9s %9s\n", "pass", "guest", "records", "valid",
	       "invalid", "bytes", "seconds");

	htab_mirror_init(&sent, hpt_npte(HPT_ORDER_DEFAULT));
	background_vcpu_start(&bg, src_vcpu, HPTE_CHURN_STOPPED);
	while (!hpte_churn_changes(src))
		usleep(1000);

	/* Iterate while the guest runs, until the first pass is over and a pass is small. */
	while (nr < MAX_PASSES) {
		struct htab_stats st = {};

		t = monotonic_seconds();
		pass(rfd, wfd, PASS_SECONDS, &sent, &st);
		print_pass("running", ++nr, &st, monotonic_seconds() - t);
		htab_stats_add(&total, &st);
		if (nr >= MIN_PASSES && st.bytes < SMALL_PASS_BYTES && first_pass_done(&sent))
			break;
		usleep(BETWEEN_PASSES_US);
	}

	/* Stop the source vcpu, then the final pass runs to the end. */
	hpte_churn_stop(src);
	background_vcpu_join(&bg);
	{
		struct htab_stats st = {};

		t = monotonic_seconds();
		pass(rfd, wfd, 0, &sent, &st);
		print_pass("stopped", ++nr, &st, monotonic_seconds() - t);
		htab_stats_add(&total, &st);
	}
	close(wfd);
	close(rfd);

	printf("\nguest made %lu changes\n", hpte_churn_changes(src));
	printf("total: %d passes, %lu reads, %lu records, %lu valid, %lu bytes\n",
	       nr, total.reads, total.records, total.valid, total.bytes);

	/* Both tables as a fresh reader sees them. */
	htab_mirror_init(&a, hpt_npte(HPT_ORDER_DEFAULT));
	htab_mirror_init(&b, a.npte);
	rfd = vm_htab_fd(src, 0, 0);
	htab_read_until_empty(rfd, READ_BUFSIZE, &a, NULL);
	close(rfd);
	rfd = vm_htab_fd(dst, 0, 0);
	htab_read_until_empty(rfd, READ_BUFSIZE, &b, NULL);
	close(rfd);
	hpte_churn_check(src, &a, 0);

	for (i = 0; i < a.npte; i++) {
		if (a.hpte[i].v != b.hpte[i].v || a.hpte[i].r != b.hpte[i].r) {
			printf("HPTs differ, first at HPTE %lu\n", i);
			printf("  source:      v 0x%016lx r 0x%016lx\n", a.hpte[i].v, a.hpte[i].r);
			printf("  destination: v 0x%016lx r 0x%016lx\n", b.hpte[i].v, b.hpte[i].r);
			return 1;
		}
	}
	printf("HPTs identical\n");

	htab_mirror_free(&sent);
	htab_mirror_free(&b);
	htab_mirror_free(&a);
	kvm_vm_free(dst);
	kvm_vm_free(src);
	return 0;
}
