// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the HPT fd's read side: the input is the sequence
 * of choices model_run() makes (guest and host changes, reads of any size
 * from any reader, readers opened at any start index and closed, guests
 * changing entries while a read copies out), each read checked by the
 * reference model, which aborts on the first difference.
 */
#include "htab_model.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct choice choice = { .data = data, .len = size };
	long allocs = shim_allocs_live;
	struct kvm *kvm, *dest;
	unsigned int order;
	struct model m;

	if (!size)
		return 0;
	order = 12 + choose(&choice, 3);		/* 256 to 1024 entries */
	shim_cpu_is_arch_300 = choose(&choice, 2);

	kvm = sim_vm_create(order, 64UL << 20);
	dest = sim_vm_create(order, 64UL << 20);
	model_init(&m, kvm);
	m.dest = dest;
	model_run(&m, &choice, 4096);
	model_check_dest(&m);
	model_free(&m);
	sim_vm_destroy(dest);
	sim_vm_destroy(kvm);

	sim_check_clean(allocs);
	return 0;
}
