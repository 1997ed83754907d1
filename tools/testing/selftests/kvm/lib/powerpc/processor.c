// SPDX-License-Identifier: GPL-2.0-only
/*
 * powerpc (Book3S HV, HPT) processor support for KVM selftests.
 *
 * The guest runs in real mode, where KVM's VRMA maps guest real addresses
 * 1:1 onto guest physical memory, so a gva is a gpa.  The library's page
 * "mapping" therefore only checks that the gva is backed by a memslot: the
 * physical pages the generic allocator sets aside for it stay unused.
 */
#include <pthread.h>
#include <stdarg.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#define DEFAULT_POWERPC_GUEST_STACK_VADDR_MIN	0xab0000
#define GUEST_STACK_SIZE			0x20000
/* ELFv2: the callee may store into the 32-byte frame header of its caller. */
#define GUEST_STACK_FRAME_MIN			32

/* Instruction encodings for the exception stubs. */
#define PPC_INST_LIS(rt, imm)	(0x3c000000 | (rt) << 21 | ((imm) & 0xffff))
#define PPC_INST_ORI(ra, rs, imm) (0x60000000 | (rs) << 21 | (ra) << 16 | ((imm) & 0xffff))
#define PPC_INST_LI(rt, imm)	(0x38000000 | (rt) << 21 | ((imm) & 0xffff))
#define PPC_INST_SC1		0x44000022
#define PPC_INST_B_SELF		0x48000000
#define SPRN_SRR0		26
#define SPRN_SRR1		27
#define VECTOR_STUB_STRIDE	0x20

/* mfspr encodes the SPR number with its two 5-bit halves swapped. */
static uint32_t ppc_inst_mfspr(uint32_t rt, uint32_t spr)
{
	uint32_t field = (spr & 0x1f) << 5 | spr >> 5;

	return 0x7c0002a6 | rt << 21 | field << 11;
}

/*
 * Real-mode gvas are gpas, and page 0 holds the exception stubs: hand out
 * gvas from page 1 on.  Whether a gva is usable is decided by the memslots.
 */
void vm_vaddr_populate_bitmap(struct kvm_vm *vm)
{
	uint64_t first = vm->page_size < GUEST_VECTORS_END ?
			 GUEST_VECTORS_END / vm->page_size : 1;

	sparsebit_set_num(vm->vpages_valid, first,
			  (1ULL << vm->pa_bits) / vm->page_size - first);
}

void virt_arch_pgd_alloc(struct kvm_vm *vm)
{
	/* Real mode: no guest page tables. */
}

void virt_arch_pg_map(struct kvm_vm *vm, uint64_t vaddr, uint64_t paddr)
{
	/* addr_gpa2hva() asserts that the gva, being a gpa, is in a memslot. */
	addr_gpa2hva(vm, vaddr);
}

vm_paddr_t addr_arch_gva2gpa(struct kvm_vm *vm, vm_vaddr_t gva)
{
	return gva;
}

void virt_arch_dump(FILE *stream, struct kvm_vm *vm, uint8_t indent)
{
	fprintf(stream, "%*sreal mode: gva == gpa\n", indent, "");
}

/*
 * At every 0x20 bytes of [0, GUEST_VECTORS_END): report "exception at this
 * vector" with SRR0/SRR1 through an hcall, then spin.  Address 0 doubles as
 * the return address of guest_code, so a returning guest is reported too.
 */
static void install_exception_stubs(struct kvm_vm *vm)
{
	uint32_t *page = addr_gpa2hva(vm, 0);
	uint32_t vec;

	for (vec = 0; vec < GUEST_VECTORS_END; vec += VECTOR_STUB_STRIDE) {
		uint32_t *p = page + vec / sizeof(*page);

		*p++ = PPC_INST_LIS(3, KVM_SELFTEST_HCALL_EXCEPTION >> 16);
		*p++ = PPC_INST_ORI(3, 3, KVM_SELFTEST_HCALL_EXCEPTION);
		*p++ = PPC_INST_LI(4, vec);
		*p++ = ppc_inst_mfspr(5, SPRN_SRR0);
		*p++ = ppc_inst_mfspr(6, SPRN_SRR1);
		*p++ = PPC_INST_SC1;
		*p++ = PPC_INST_B_SELF;
	}
}

void kvm_arch_vm_post_create(struct kvm_vm *vm)
{
	uint32_t order = HPT_ORDER_DEFAULT;

	/* Turns a radix-host VM into an HPT one; real mode then uses the VRMA. */
	vm_ioctl(vm, KVM_PPC_ALLOCATE_HTAB, &order);
	TEST_ASSERT(order == HPT_ORDER_DEFAULT,
		    "KVM_PPC_ALLOCATE_HTAB gave order %u, asked for %u",
		    order, HPT_ORDER_DEFAULT);
	install_exception_stubs(vm);
}

struct kvm_vcpu *vm_arch_vcpu_add(struct kvm_vm *vm, uint32_t vcpu_id)
{
	vm_vaddr_t stack = __vm_vaddr_alloc(vm, GUEST_STACK_SIZE,
					    DEFAULT_POWERPC_GUEST_STACK_VADDR_MIN,
					    MEM_REGION_DATA);
	struct kvm_vcpu *vcpu = __vm_vcpu_add(vm, vcpu_id);
	struct kvm_regs regs;
	uint64_t lpcr;

	/* Without PAPR mode an HV vcpu refuses to run. */
	vcpu_enable_cap(vcpu, KVM_CAP_PPC_PAPR, 0);

	/* Take exceptions little-endian, like the stubs are written. */
	vcpu_get_reg(vcpu, KVM_REG_PPC_LPCR_64, &lpcr);
	vcpu_set_reg(vcpu, KVM_REG_PPC_LPCR_64, lpcr | LPCR_ILE);

	vcpu_regs_get(vcpu, &regs);
	regs.msr = GUEST_MSR;
	regs.gpr[1] = stack + GUEST_STACK_SIZE - GUEST_STACK_FRAME_MIN * 4;
	regs.gpr[13] = 0;
	regs.lr = 0;
	vcpu_regs_set(vcpu, &regs);

	return vcpu;
}

void vcpu_arch_set_entry_point(struct kvm_vcpu *vcpu, void *guest_code)
{
	struct kvm_regs regs;

	/* ELFv2 global entry: the callee derives its TOC pointer from r12. */
	vcpu_regs_get(vcpu, &regs);
	regs.pc = (uint64_t)guest_code;
	regs.gpr[12] = (uint64_t)guest_code;
	vcpu_regs_set(vcpu, &regs);
}

void vcpu_args_set(struct kvm_vcpu *vcpu, unsigned int num, ...)
{
	struct kvm_regs regs;
	unsigned int i;
	va_list ap;

	TEST_ASSERT(num >= 1 && num <= 8,
		    "Unsupported number of args: %u (1 to 8, in r3-r10)", num);

	vcpu_regs_get(vcpu, &regs);
	va_start(ap, num);
	for (i = 0; i < num; i++)
		regs.gpr[3 + i] = va_arg(ap, uint64_t);
	va_end(ap);
	vcpu_regs_set(vcpu, &regs);
}

void vcpu_arch_dump(FILE *stream, struct kvm_vcpu *vcpu, uint8_t indent)
{
	struct kvm_regs regs;
	int i;

	vcpu_regs_get(vcpu, &regs);
	fprintf(stream, "%*spc: 0x%.16llx msr: 0x%.16llx lr: 0x%.16llx\n",
		indent, "", regs.pc, regs.msr, regs.lr);
	fprintf(stream, "%*ssrr0: 0x%.16llx srr1: 0x%.16llx cr: 0x%.8llx\n",
		indent, "", regs.srr0, regs.srr1, regs.cr);
	for (i = 0; i < 32; i += 4)
		fprintf(stream, "%*sr%-2d 0x%.16llx 0x%.16llx 0x%.16llx 0x%.16llx\n",
			indent, "", i, regs.gpr[i], regs.gpr[i + 1],
			regs.gpr[i + 2], regs.gpr[i + 3]);
}

void assert_on_unhandled_exception(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	if (run->exit_reason != KVM_EXIT_PAPR_HCALL ||
	    run->papr_hcall.nr != KVM_SELFTEST_HCALL_EXCEPTION)
		return;

	if (run->papr_hcall.args[0] == 0)
		TEST_FAIL("Guest code returned (or jumped to 0) from 0x%llx",
			  run->papr_hcall.args[1]);
	TEST_FAIL("Unexpected guest exception at vector 0x%llx: srr0 0x%llx srr1 0x%llx",
		  run->papr_hcall.args[0], run->papr_hcall.args[1],
		  run->papr_hcall.args[2]);
}

void vcpu_run_to_sync(struct kvm_vcpu *vcpu, uint64_t stage)
{
	struct ucall uc;

	vcpu_run(vcpu);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == stage, "guest at stage %lu, expected %lu",
			    uc.args[1], stage);
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("Unexpected exit: %s (hcall 0x%llx), ucall %lu",
			  exit_reason_str(vcpu->run->exit_reason),
			  vcpu->run->papr_hcall.nr, uc.cmd);
	}
}

static void *background_vcpu_main(void *arg)
{
	struct background_vcpu *vt = arg;

	vcpu_run_to_sync(vt->vcpu, vt->stage);
	return NULL;
}

void background_vcpu_start(struct background_vcpu *vt, struct kvm_vcpu *vcpu, uint64_t stage)
{
	vt->vcpu = vcpu;
	vt->stage = stage;
	TEST_ASSERT(!pthread_create(&vt->thread, NULL, background_vcpu_main, vt),
		    "pthread_create failed");
}

void background_vcpu_join(struct background_vcpu *vt)
{
	TEST_ASSERT(!pthread_join(vt->thread, NULL), "pthread_join failed");
}
