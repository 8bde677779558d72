/* SPDX-License-Identifier: MIT
 * gemm/ukr_avx512_6x64.inc.c: the second AVX-512 instantiation of the
 * micro-kernel body (ukr_simd.inc.c): zmm vectors (ukr_avx512_v.inc.c), 6 rows
 * x 4 vectors (float 6x64, double 6x32), 24 accumulators. Per step of k it
 * loads 4 vectors of B and broadcasts 6 values of A for 24 FMAs, 0.42 loads
 * per FMA against the 8x32 kernel's 0.63: on cores where loads take issue
 * slots from the FMAs (config.c has the measurement) that is what decides. */

#include "ukr_avx512_v.inc.c"
#define MR 6
#define NV 4
#define FOR_ROWS(X, ...) X(0, __VA_ARGS__) X(1, __VA_ARGS__) X(2, __VA_ARGS__) \
                         X(3, __VA_ARGS__) X(4, __VA_ARGS__) X(5, __VA_ARGS__)
#define UKR_FN R(pynn_gemm_ukr_avx512_6x64)

#include "ukr_simd.inc.c"

#undef V_CMP_MASK
#undef V_BLEND_MASK
#undef V_MASKZ_MOV
