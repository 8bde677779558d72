/* SPDX-License-Identifier: MIT
 * gemm/ukr_avx2.inc.c: the AVX2+FMA instantiation of the micro-kernel body
 * (ukr_simd.inc.c): ymm vectors, 6 rows x 2 vectors (float 6x16, double 6x8),
 * 12 accumulators; of the column kernel's (ukr_cols.inc.c); and the
 * transposing pack through VL x VL register transposes, which the AVX-512
 * set uses too (any row count; the MR and NR of both sets inlined with their
 * rows constant). */

#if PYNN_IS_F64
#define V __m256d
#define VL 4
#define V_ZERO _mm256_setzero_pd
#define V_SET1 _mm256_set1_pd
#define V_LOAD _mm256_loadu_pd
#define V_STORE _mm256_storeu_pd
#define V_BCAST _mm256_broadcast_sd
#define V_FMA _mm256_fmadd_pd
#define V_MUL _mm256_mul_pd
#define V_ADD _mm256_add_pd
#define V_SUB _mm256_sub_pd
#define V_MAX _mm256_max_pd
#define V_AND _mm256_and_pd
#define V_BLEND _mm256_blendv_pd
#define V_CMP _mm256_cmp_pd
#define V_MLOAD(p, m) _mm256_maskload_pd(p, m)
#define V_MSTORE(p, m, x) _mm256_maskstore_pd(p, m, x)
#define V_LANES(n) _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3))
#else
#define V __m256
#define VL 8
#define V_ZERO _mm256_setzero_ps
#define V_SET1 _mm256_set1_ps
#define V_LOAD _mm256_loadu_ps
#define V_STORE _mm256_storeu_ps
#define V_BCAST _mm256_broadcast_ss
#define V_FMA _mm256_fmadd_ps
#define V_MUL _mm256_mul_ps
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MAX _mm256_max_ps
#define V_AND _mm256_and_ps
#define V_BLEND _mm256_blendv_ps
#define V_CMP _mm256_cmp_ps
#define V_MLOAD(p, m) _mm256_maskload_ps(p, m)
#define V_MSTORE(p, m, x) _mm256_maskstore_ps(p, m, x)
#define V_LANES(n) _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#endif
#define VMASK __m256i
#define V_SEL(u, w, pred, t, f) V_BLEND(f, t, V_CMP(u, w, pred))   /* cmp(u, w) ? t : f */
#define V_KEEP(u, w, pred, x) V_AND(V_CMP(u, w, pred), x)          /* cmp(u, w) ? x : 0 */
#define MR 6
#define NV 2
#define FOR_ROWS(X, ...) X(0, __VA_ARGS__) X(1, __VA_ARGS__) X(2, __VA_ARGS__) \
                         X(3, __VA_ARGS__) X(4, __VA_ARGS__) X(5, __VA_ARGS__)
#define UKR_FN R(pynn_gemm_ukr_avx2)

/* Transposing pack, dst[p * rows + i] = src[i * ld + p]: rows in groups of VL
 * (the last may hold fewer, read as zero), columns p in blocks of VL through a
 * register transpose, the p tail one by one. It prefetches the same rows of the
 * next micro-panel (rows further on; a prefetch never faults past the end).
 * Inlined with rows constant, so the blocks stay in registers (a run-time
 * rows spilled them: in-cache pack of 6 rows 1.17 -> 0.64-0.76, of 16 rows
 * 1.03 -> 0.50-0.64 TSC cycles per element; from DRAM it is the memory's). */
ALWAYS_INLINE void R(pack_rows_n)(int64_t kc, const real *src, int64_t ld, const int rows,
                                  real *dst)
{
    const int64_t kc_v = kc / VL * VL;
    int g;
    for (g = 0; g < rows; g += VL) {
        const int v = rows - g < VL ? rows - g : VL;    /* valid rows in this group */
        const real *s = src + g * ld;
        real *d = dst + g;
        int64_t p;
        int i, q;
        for (p = 0; p < kc_v; p += VL) {
            V r[VL];
            if (p % (64 / sizeof(real)) == 0)   /* this group's rows in the next micro-panel: */
                for (i = 0; i < v; i++)          /* short strided streams the prefetcher misses */
                    PREFETCH(s, (rows + i) * ld + p);
            for (i = 0; i < VL; i++) r[i] = i < v ? V_LOAD(s + i * ld + p) : V_ZERO();
            R(transpose)(r);
            for (q = 0; q < VL; q++) {
                real *o = d + (p + q) * rows;
                if (v == VL) V_STORE(o, r[q]);
                else R(store_first)(o, r[q], v);
            }
        }
        for (; p < kc; p++)
            for (i = 0; i < v; i++) d[p * rows + i] = s[i * ld + p];
    }
}

/* The driver packs MR-row (A) and NR-row (B transposed) micro-panels: 6 and
 * 16 / 8 rows for this set, 8 and 32 / 16 for avx512's, 6 and 64 / 32 for
 * avx512_6x64's. */
void R(pynn_pack_rows_avx2)(int64_t kc, const real *src, int64_t ld, int rows, real *dst)
{
    switch (rows) {
    case 6: R(pack_rows_n)(kc, src, ld, 6, dst); break;
    case 8: R(pack_rows_n)(kc, src, ld, 8, dst); break;
    case 16: R(pack_rows_n)(kc, src, ld, 16, dst); break;
    case 32: R(pack_rows_n)(kc, src, ld, 32, dst); break;
    case 64: R(pack_rows_n)(kc, src, ld, 64, dst); break;
    default: R(pack_rows_n)(kc, src, ld, rows, dst);
    }
}

#define COLS_N PYNN_COLS_N_AVX2
#define COLS_ACC 12                 /* 16 registers: 12 + 2 vectors of A + a broadcast */
#define COLS_FN R(pynn_gemm_cols_avx2)

#include "ukr_cols.inc.c"
#include "ukr_simd.inc.c"

#undef V_AND
#undef V_BLEND
#undef V_CMP
