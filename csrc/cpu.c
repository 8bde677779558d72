/* SPDX-License-Identifier: MIT
 * cpu.c: which GEMM kernel this process uses (placeholder: generic only). */
#include "pynn.h"

const char *pynn_kernel_name(void) { return "generic"; }
const char *pynn_kernel_list(void) { return "generic"; }
