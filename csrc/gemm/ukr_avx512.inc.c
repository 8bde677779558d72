/* SPDX-License-Identifier: MIT
 * gemm/ukr_avx512.inc.c: the AVX-512 instantiation of the micro-kernel body
 * (ukr_simd.inc.c): zmm vectors (ukr_avx512_v.inc.c), 8 rows x 2 vectors
 * (float 8x32, double 8x16), 16 accumulators; edge lanes through the opmask
 * registers. MR = 8 makes the usual batch sizes (32, 64, 128, 256, ...) whole
 * tiles. And of the column kernel's (ukr_cols.inc.c), which the 6x64 set
 * shares. */

#include "ukr_avx512_v.inc.c"
#define MR 8
#define NV 2
#define FOR_ROWS(X, ...) X(0, __VA_ARGS__) X(1, __VA_ARGS__) X(2, __VA_ARGS__) X(3, __VA_ARGS__) \
                         X(4, __VA_ARGS__) X(5, __VA_ARGS__) X(6, __VA_ARGS__) X(7, __VA_ARGS__)
#define UKR_FN R(pynn_gemm_ukr_avx512)
#define COLS_N PYNN_COLS_N_AVX512
#define COLS_ACC 28                 /* 32 registers: 28 + 2 vectors of A + a broadcast */
#define COLS_FN R(pynn_gemm_cols_avx512)

#include "ukr_cols.inc.c"
#include "ukr_simd.inc.c"

#undef V_CMP_MASK
#undef V_BLEND_MASK
#undef V_MASKZ_MOV
