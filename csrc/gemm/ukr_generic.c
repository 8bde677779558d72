/* SPDX-License-Identifier: MIT
 * gemm/ukr_generic.c: the portable reference micro-kernels (float 4x8, double
 * 4x4), compiled with no ISA flags. The contract is in kernels.h. */
#include "kernels.h"

#define PYNN_TEMPLATE "gemm/ukr_generic.inc.c"
#include "../template.h"
