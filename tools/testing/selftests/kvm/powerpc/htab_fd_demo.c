// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo of KVM_PPC_GET_HTAB_FD: an HPT guest enters and removes HPTEs in
 * rounds while the host streams the HPT through one read fd, one pass per
 * round, rebuilding a copy of the table from the stream.  Prints what each
 * pass carried and whether the copy matches what the guest entered.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "htab.h"
#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#define NR_ROUNDS		4
#define ENTRIES_PER_ROUND	256
#define REMOVES_PER_ROUND	64
#define NR_DEMO_HPTES		(NR_ROUNDS * ENTRIES_PER_ROUND)
/* QEMU's migration code reads with a 2048-byte buffer: do the same. */
#define READ_BUFSIZE		2048

/* Slot of each entry the guest made, 0 once removed (slot 0 is never used). */
static uint64_t demo_ptex[NR_DEMO_HPTES];

static uint64_t demo_v(int i)
{
	return HPTE_V_1TB_SEG | (0x2000ULL + i) << HPTE_V_AVPN_SHIFT | HPTE_V_VALID;
}

static uint64_t demo_r(int i)
{
	return (0x100000ULL + (i % 256) * 0x1000) | HPTE_R_M | 2;
}

/* Round n enters ENTRIES_PER_ROUND entries, then removes every fourth one. */
static void guest_code(void)
{
	int round, i;

	for (round = 0; round < NR_ROUNDS; round++) {
		for (i = round * ENTRIES_PER_ROUND; i < (round + 1) * ENTRIES_PER_ROUND; i++) {
			unsigned long ptex;

			/* Spread over PTEGs 1..2047; PTEG 0 stays free. */
			GUEST_ASSERT_EQ(h_enter(0, (1 + i * 7 % 2047) * 8, demo_v(i),
						demo_r(i), &ptex), H_SUCCESS);
			demo_ptex[i] = ptex;
		}
		for (i = round * ENTRIES_PER_ROUND; i < (round + 1) * ENTRIES_PER_ROUND; i += 4) {
			GUEST_ASSERT_EQ(h_remove(0, demo_ptex[i], 0, NULL), H_SUCCESS);
			demo_ptex[i] = 0;
		}
		GUEST_SYNC(round);
	}
	GUEST_DONE();
}

static void print_pass(int pass, const char *what, const struct htab_stats *st, double secs)
{
	printf("%4d  %-26s %5lu %7lu %7lu %8lu %9lu %8.3f\n", pass, what, st->reads,
	       st->records, st->valid, st->invalid, st->bytes, secs);
}

/* Count the mismatches between the rebuilt HPT and what the guest entered. */
static int compare_with_guest(const struct htab_mirror *m)
{
	uint64_t nr_guest = 0, nr_mirror = 0, i;
	int bad = 0;

	for (i = 0; i < NR_DEMO_HPTES; i++) {
		const struct hpte *e;

		if (!demo_ptex[i])
			continue;
		nr_guest++;
		e = &m->hpte[demo_ptex[i]];
		if ((e->v & ~HPTE_V_HVLOCK) != demo_v(i) || e->r != demo_r(i)) {
			printf("  entry %lu at %lu: stream has v 0x%lx r 0x%lx\n",
			       i, demo_ptex[i], e->v, e->r);
			bad++;
		}
	}
	for (i = 0; i < m->npte; i++)
		if (m->hpte[i].v && !hpte_is_vrma(m->hpte[i].v))
			nr_mirror++;
	if (nr_mirror != nr_guest) {
		printf("  stream has %lu guest entries, guest made %lu\n", nr_mirror, nr_guest);
		bad++;
	}
	return bad;
}

int main(void)
{
	struct htab_stats total = {}, st;
	struct kvm_vcpu *vcpu;
	struct htab_mirror m;
	struct kvm_vm *vm;
	struct ucall uc;
	int fd, pass = 0, round;
	double t;

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_PPC_HTAB_FD));
	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	htab_mirror_init(&m, hpt_npte(HPT_ORDER_DEFAULT));

	printf("HPT fd demo: HPT order %d (%lu entries), %d-byte reads\n",
	       HPT_ORDER_DEFAULT, m.npte, READ_BUFSIZE);
	printf("guest: %d rounds, each entering %d HPTEs and removing %d\n\n",
	       NR_ROUNDS, ENTRIES_PER_ROUND, REMOVES_PER_ROUND);
	printf("pass  %-26s %5s %7s %7s %8s %9s %8s\n", "after", "reads", "records",
	       "valid", "invalid", "bytes", "seconds");

	fd = vm_htab_fd(vm, 0, 0);
	for (round = 0; round <= NR_ROUNDS; round++) {
		char what[64];

		vcpu_run(vcpu);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			snprintf(what, sizeof(what), "guest round %lu", uc.args[1] + 1);
			break;
		case UCALL_DONE:
			snprintf(what, sizeof(what), "guest done (no change)");
			break;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("Unexpected exit: %s", exit_reason_str(vcpu->run->exit_reason));
		}
		sync_global_from_guest(vm, demo_ptex);

		memset(&st, 0, sizeof(st));
		t = monotonic_seconds();
		htab_read_until_empty(fd, READ_BUFSIZE, &m, &st);
		print_pass(++pass, what, &st, monotonic_seconds() - t);
		htab_stats_add(&total, &st);
	}
	close(fd);

	printf("\nsummary: %d passes, %lu reads, %lu records, %lu valid entries, %lu bytes\n",
	       pass, total.reads, total.records, total.valid, total.bytes);
	if (compare_with_guest(&m)) {
		printf("rebuilt HPT differs from the guest's entries\n");
		return 1;
	}
	printf("rebuilt HPT matches the guest's entries\n");

	htab_mirror_free(&m);
	kvm_vm_free(vm);
	return 0;
}
