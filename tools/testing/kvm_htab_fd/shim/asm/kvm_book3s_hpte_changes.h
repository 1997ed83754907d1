/* SPDX-License-Identifier: GPL-2.0-only */
/* Ours: the real one. */
#include "../../../../../arch/powerpc/include/asm/kvm_book3s_hpte_changes.h"
