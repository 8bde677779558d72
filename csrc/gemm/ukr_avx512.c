/* SPDX-License-Identifier: MIT
 * gemm/ukr_avx512.c: the AVX-512 (F, BW, DQ, VL) kernel set's micro-kernels:
 * float 8x32 and double 8x16 with the epilogue in registers, and the column
 * kernels (up to 16 columns); the bodies are ukr_simd.inc.c and ukr_cols.inc.c,
 * instantiated in ukr_avx512.inc.c. Its transposing packs are the AVX2 set's
 * (every AVX-512 CPU pynn picks this set on has AVX2 and FMA). Compiled with
 * the AVX-512 flags for this file only (sources.cmake); it holds kernels only.
 * The contracts are in kernels.h. */
#include "ukr_common.h"

#define PYNN_TEMPLATE "gemm/ukr_avx512.inc.c"
#include "../template.h"
