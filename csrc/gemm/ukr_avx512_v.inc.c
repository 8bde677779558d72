/* SPDX-License-Identifier: MIT
 * gemm/ukr_avx512_v.inc.c: the zmm vector type and operations (V_*, masks,
 * selects) that ukr_simd.inc.c and ukr_cols.inc.c are written in, for the
 * AVX-512 kernel bodies (ukr_avx512.inc.c, ukr_avx512_6x64.inc.c). float or
 * double by the template's PYNN_IS_F64. ukr_simd.inc.c undefines most of them
 * at its end; the includer undefines the rest (V_CMP_MASK, V_BLEND_MASK,
 * V_MASKZ_MOV). */

#if PYNN_IS_F64
#define V __m512d
#define VL 8
#define VMASK __mmask8
#define V_ZERO _mm512_setzero_pd
#define V_SET1 _mm512_set1_pd
#define V_LOAD _mm512_loadu_pd
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
