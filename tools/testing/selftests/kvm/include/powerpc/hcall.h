/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PAPR hypercalls made by powerpc selftest guests with "sc 1".
 *
 * KVM handles the HPT hcalls itself; any number it does not know exits to
 * userspace as KVM_EXIT_PAPR_HCALL, which is how ucalls and unexpected
 * exceptions reach the host.
 */
#ifndef SELFTEST_KVM_HCALL_H
#define SELFTEST_KVM_HCALL_H

#include <linux/bits.h>
#include <linux/types.h>

/* PAPR return codes and hcall numbers used here. */
#define H_SUCCESS	0
#define H_NOT_FOUND	(-5)
#define H_PTEG_FULL	(-6)
#define H_PARAMETER	(-4)

#define H_REMOVE	0x04
#define H_ENTER		0x08
#define H_READ		0x0c
#define H_CLEAR_MOD	0x10
#define H_CLEAR_REF	0x14
#define H_PROTECT	0x18
#define H_BULK_REMOVE	0x124

/* hcall flags, PAPR bit numbering (bit 0 = MSB). */
#define H_EXACT		(1UL << (63 - 24))
#define H_AVPN		(1UL << (63 - 32))

/*
 * Numbers no PAPR, SVM (0xef00) or KVM/QEMU (0xf000) hcall uses, so KVM
 * always hands them to userspace.
 */
#define KVM_SELFTEST_HCALL_UCALL	0xe000
#define KVM_SELFTEST_HCALL_EXCEPTION	0xe004

#define HCALL_MAX_IN	6
#define HCALL_MAX_OUT	4

/*
 * Make hcall @nr with up to six arguments in r4-r9; r4-r7 come back in @out
 * (may be NULL).  Returns r3.
 */
static inline long hcall(unsigned long nr, const unsigned long in[HCALL_MAX_IN],
			 unsigned long out[HCALL_MAX_OUT])
{
	register unsigned long r3 asm("r3") = nr;
	register unsigned long r4 asm("r4") = in[0];
	register unsigned long r5 asm("r5") = in[1];
	register unsigned long r6 asm("r6") = in[2];
	register unsigned long r7 asm("r7") = in[3];
	register unsigned long r8 asm("r8") = in[4];
	register unsigned long r9 asm("r9") = in[5];

	asm volatile("sc 1"
		     : "+r"(r3), "+r"(r4), "+r"(r5), "+r"(r6), "+r"(r7),
		       "+r"(r8), "+r"(r9)
		     :
		     : "r0", "r10", "r11", "r12", "cr0", "cr1", "cr5", "cr6",
		       "cr7", "ctr", "xer", "memory");
	if (out) {
		out[0] = r4;
		out[1] = r5;
		out[2] = r6;
		out[3] = r7;
	}
	return r3;
}

static inline long hcall2(unsigned long nr, unsigned long a0, unsigned long a1)
{
	unsigned long in[HCALL_MAX_IN] = { a0, a1 };

	return hcall(nr, in, NULL);
}

/* H_ENTER: returns the PAPR status, the slot used in @ptex_out. */
static inline long h_enter(unsigned long flags, unsigned long ptex,
			   unsigned long v, unsigned long r,
			   unsigned long *ptex_out)
{
	unsigned long in[HCALL_MAX_IN] = { flags, ptex, v, r };
	unsigned long out[HCALL_MAX_OUT];
	long ret = hcall(H_ENTER, in, out);

	if (ptex_out)
		*ptex_out = out[0];
	return ret;
}

/* H_REMOVE: the old V and R come back in @old (may be NULL). */
static inline long h_remove(unsigned long flags, unsigned long ptex,
			    unsigned long avpn, unsigned long old[2])
{
	unsigned long in[HCALL_MAX_IN] = { flags, ptex, avpn };
	unsigned long out[HCALL_MAX_OUT];
	long ret = hcall(H_REMOVE, in, out);

	if (old) {
		old[0] = out[0];
		old[1] = out[1];
	}
	return ret;
}

/* H_READ: the guest's view of HPTE @ptex, V and R, in @hpte. */
static inline long h_read(unsigned long flags, unsigned long ptex, unsigned long hpte[2])
{
	unsigned long in[HCALL_MAX_IN] = { flags, ptex };
	unsigned long out[HCALL_MAX_OUT];
	long ret = hcall(H_READ, in, out);

	hpte[0] = out[0];
	hpte[1] = out[1];
	return ret;
}

/* H_BULK_REMOVE requests: type in the top two bits of the first word. */
#define H_BULK_REMOVE_REQUEST	BIT(62)
#define H_BULK_REMOVE_END	(3UL << 62)

/* H_BULK_REMOVE of two HPTEs in one hcall. */
static inline long h_bulk_remove2(unsigned long ptex0, unsigned long ptex1)
{
	unsigned long in[HCALL_MAX_IN] = {
		H_BULK_REMOVE_REQUEST | ptex0, 0,
		H_BULK_REMOVE_REQUEST | ptex1, 0,
		H_BULK_REMOVE_END, 0,
	};

	return hcall(H_BULK_REMOVE, in, NULL);
}

/* H_PROTECT: @pp_flags carries the new pp0, pp, N and key bits. */
static inline long h_protect(unsigned long pp_flags, unsigned long ptex,
			     unsigned long avpn)
{
	unsigned long in[HCALL_MAX_IN] = { pp_flags, ptex, avpn };

	return hcall(H_PROTECT, in, NULL);
}

#endif /* SELFTEST_KVM_HCALL_H */
