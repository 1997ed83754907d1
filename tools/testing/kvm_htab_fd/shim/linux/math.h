/* SPDX-License-Identifier: GPL-2.0-only */
#include "../../kvm_htab_shim.h"
