/* SPDX-License-Identifier: MIT
 * gemm/gemm.c: placeholder GEMM (row-parallel, unpacked) behind the internal
 * interface; the packed BLIS-style GEMM replaces it. */
#include <string.h>
#include "gemm.h"
#include "../threads.h"

size_t pynn_gemm_ws_bytes(int dtype, int n_threads)
{
    (void)dtype; (void)n_threads;
    return 0;
}

#define PYNN_TEMPLATE "gemm/gemm_naive.inc.c"
#include "../template.h"
