/* SPDX-License-Identifier: MIT
 * gemm/ukr_avx512_6x64.c: the avx512_6x64 kernel set's micro-kernels, float
 * 6x64 and double 6x32 with the epilogue in registers; the body is
 * ukr_simd.inc.c, instantiated in ukr_avx512_6x64.inc.c. Its column kernels
 * are the avx512 set's and its packs the avx2 set's. Compiled with the
 * AVX-512 flags for this file only (sources.cmake); it holds kernels only.
 * The contracts are in kernels.h. */
#include "ukr_common.h"

#define PYNN_TEMPLATE "gemm/ukr_avx512_6x64.inc.c"
#include "../template.h"
