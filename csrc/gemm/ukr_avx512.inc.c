/* SPDX-License-Identifier: MIT
 * gemm/ukr_avx512.inc.c: the AVX-512 instantiation of the micro-kernel body
 * (ukr_simd.inc.c): zmm vectors, 8 rows x 2 vectors (float 8x32, double
 * 8x16), 16 accumulators; edge lanes through the opmask registers. MR = 8
 * makes the usual batch sizes (32, 64, 128, 256, ...) whole tiles. And of
 * the column kernel's (ukr_cols.inc.c). */

#if PYNN_IS_F64
#define V __m512d
#define VL 8
#define VMASK __mmask8
#define V_ZERO _mm512_setzero_pd
#define V_SET1 _mm512_set1_pd
#define V_LOAD _mm512_loadu_pd
#define V_LOADA _mm512_load_pd
#define V_STORE _mm512_storeu_pd
#define V_BCAST(p) _mm512_set1_pd(*(p))
#define V_FMA _mm512_fmadd_pd
#define V_MUL _mm512_mul_pd
#define V_ADD _mm512_add_pd
#define V_SUB _mm512_sub_pd
#define V_MAX _mm512_max_pd
#define V_CMP_MASK _mm512_cmp_pd_mask
#define V_BLEND_MASK _mm512_mask_blend_pd
#define V_MASKZ_MOV _mm512_maskz_mov_pd
#define V_MLOAD(p, m) _mm512_maskz_loadu_pd(m, p)
#define V_MSTORE(p, m, x) _mm512_mask_storeu_pd(p, m, x)
#else
#define V __m512
#define VL 16
#define VMASK __mmask16
#define V_ZERO _mm512_setzero_ps
#define V_SET1 _mm512_set1_ps
#define V_LOAD _mm512_loadu_ps
#define V_LOADA _mm512_load_ps
#define V_STORE _mm512_storeu_ps
#define V_BCAST(p) _mm512_set1_ps(*(p))
#define V_FMA _mm512_fmadd_ps
#define V_MUL _mm512_mul_ps
#define V_ADD _mm512_add_ps
#define V_SUB _mm512_sub_ps
#define V_MAX _mm512_max_ps
#define V_CMP_MASK _mm512_cmp_ps_mask
#define V_BLEND_MASK _mm512_mask_blend_ps
#define V_MASKZ_MOV _mm512_maskz_mov_ps
#define V_MLOAD(p, m) _mm512_maskz_loadu_ps(m, p)
#define V_MSTORE(p, m, x) _mm512_mask_storeu_ps(p, m, x)
#endif
/* the first n lanes (none for n <= 0, all for n >= VL) */
#define V_LANES(n) ((VMASK)((n) <= 0 ? 0u : (n) >= VL ? (1u << VL) - 1u : (1u << (n)) - 1u))
#define V_SEL(u, w, pred, t, f) V_BLEND_MASK(V_CMP_MASK(u, w, pred), f, t)   /* cmp(u, w) ? t : f */
#define V_KEEP(u, w, pred, x) V_MASKZ_MOV(V_CMP_MASK(u, w, pred), x)        /* cmp(u, w) ? x : 0 */
#define MR 8
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
