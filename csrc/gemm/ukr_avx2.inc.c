/* SPDX-License-Identifier: MIT
 * gemm/ukr_avx2.inc.c: templated body of the AVX2+FMA micro-kernel, 6 rows x
 * 2 vectors (float 6x16, double 6x8): 12 ymm accumulators, 2 for the B row, 1
 * for the broadcast of A; and the transposing pack through VL x VL register
 * transposes. The k loop runs only the rows (2, 4 or 6) and vectors (1 or 2)
 * a tile has. The epilogue runs on the accumulators before the store: full
 * tiles of the common epilogues store straight from the named registers, with
 * the epilogue fixed at compile time (FULL_TILE); the others, edge tiles
 * included, go through one loop with masked loads and stores (lanes past nr
 * are never read or written). The contract is in kernels.h. */

#if PYNN_IS_F64
#define V __m256d
#define VL 4
#define V_ZERO _mm256_setzero_pd
#define V_SET1 _mm256_set1_pd
#define V_LOAD _mm256_loadu_pd
#define V_LOADA _mm256_load_pd
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
#define V_LOADA _mm256_load_ps
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
#define MR 6
#define NR (2 * VL)
/* Prefetch of element p[off]; the address is formed as an integer, since it
 * may lie past the array (an edge tile, the next micro-panel): a prefetch
 * never faults, but such a pointer would be undefined behaviour in C. */
#define PREFETCH(p, off)                                                                \
    _mm_prefetch((const char *)((uintptr_t)(p) + (uintptr_t)((off) * (int64_t)sizeof(real))), \
                 _MM_HINT_T0)

/* The epilogue on one vector x of the tile, given its bias values b (when
 * has_bias) and the activation output av the derivative is taken from. Same
 * operations, in the same order, as act.h, so NaN propagates the same way. */
ALWAYS_INLINE V R(epi_vec)(int kind, int act, V slope, V x, int has_bias, V b, V av)
{
    const V zero = V_ZERO(), one = V_SET1((real)1);
    if (kind == PYNN_EPI_BIAS_ACT) {
        if (has_bias) x = V_ADD(x, b);                                    /* z = c + b */
        if (act == PYNN_ACT_RELU)
            x = V_MAX(zero, x);                                           /* max(z, 0); NaN kept */
        else if (act == PYNN_ACT_LEAKY_RELU)
            x = V_BLEND(x, V_MUL(slope, x), V_CMP(x, zero, _CMP_LT_OQ)); /* z < 0: slope z */
        return x;
    }
    switch (act) {
    case PYNN_ACT_RELU:
        return V_AND(V_CMP(av, zero, _CMP_GT_OQ), x);                     /* f' = [a > 0] */
    case PYNN_ACT_LEAKY_RELU:
        return V_BLEND(V_MUL(slope, x), x, V_CMP(av, zero, _CMP_GT_OQ));  /* f' = 1 or slope */
    case PYNN_ACT_SIGMOID:
        return V_MUL(x, V_MUL(av, V_SUB(one, av)));                       /* f' = a (1 - a) */
    case PYNN_ACT_TANH:
        return V_MUL(x, V_SUB(one, V_MUL(av, av)));                       /* f' = 1 - a^2 */
    default:
        return x;                                                         /* identity */
    }
}

/* C = epilogue(alpha acc + beta C) on the mr x nr tile at c (row stride ldc);
 * bias / deriv (row stride ld_deriv) already point at the tile. A full tile
 * has constant trip counts and plain loads; an edge tile masks its lanes. */
ALWAYS_INLINE void R(finish)(V acc[MR][2], real *c, int64_t ldc, real alpha, real beta,
                             const pynn_epilogue *e, const real *bias, const real *deriv,
                             int64_t ld_deriv, int mr, int nr)
{
    const V va = V_SET1(alpha), vb = V_SET1(beta), zero = V_ZERO();
    const V slope = V_SET1(e ? (real)e->slope : (real)0);
    const int kind = e ? e->kind : 0, act = e ? e->act : 0;
    int i, h;
    if (mr == MR && nr == NR) {
        for (i = 0; i < MR; i++)
            for (h = 0; h < 2; h++) {
                real *ci = c + i * ldc + h * VL;
                V x = beta == 0 ? V_MUL(va, acc[i][h]) : V_FMA(va, acc[i][h], V_MUL(vb, V_LOAD(ci)));
                if (e)
                    x = R(epi_vec)(kind, act, slope, x, bias != NULL, bias ? V_LOAD(bias + h * VL) : zero,
                                   deriv ? V_LOAD(deriv + i * ld_deriv + h * VL) : zero);
                V_STORE(ci, x);
            }
        return;
    }
    {
        const __m256i lanes[2] = {V_LANES(nr), V_LANES(nr - VL)};
        for (i = 0; i < mr; i++)
            for (h = 0; h < 2 && h * VL < nr; h++) {
                real *ci = c + i * ldc + h * VL;
                V x = beta == 0 ? V_MUL(va, acc[i][h])
                                : V_FMA(va, acc[i][h], V_MUL(vb, V_MLOAD(ci, lanes[h])));
                if (e)
                    x = R(epi_vec)(kind, act, slope, x, bias != NULL,
                                   bias ? V_MLOAD(bias + h * VL, lanes[h]) : zero,
                                   deriv ? V_MLOAD(deriv + i * ld_deriv + h * VL, lanes[h]) : zero);
                V_MSTORE(ci, lanes[h], x);
            }
    }
}

/* The k loop; rs_a/cs_a are constants when inlined from the packed call. */
#define ROW(i)                                                          \
    {                                                                   \
        V ai = V_BCAST(a + (i) * rs_a);                                 \
        c##i##0 = V_FMA(ai, b0, c##i##0);                               \
        c##i##1 = V_FMA(ai, b1, c##i##1);                               \
    }

#define ROW_HALF(i) c##i##0 = V_FMA(V_BCAST(a + (i) * rs_a), b0, c##i##0);
#define K_FULL V b0 = V_LOADA(b), b1 = V_LOADA(b + VL);
#define K_HALF V b0 = V_LOADA(b);
#define K_LOOP(LOAD_B, ROWS)                                            \
    {                                                                   \
        _Pragma("GCC unroll 4")                                         \
        for (p = 0; p < k; p++) {                                       \
            LOAD_B ROWS                                                 \
            a += cs_a;                                                  \
            b += NR;                                                    \
        }                                                               \
    }

/* One vector of a full tile: alpha acc (+ beta C), then the epilogue kind/act,
 * both constants where FULL_TILE expands; bias_h / deriv_ih point at the
 * vector's bias values / derivative source (NULL when the kind takes none). */
ALWAYS_INLINE V R(full_vec)(int kind, int act, int beta0, V x, const real *ci, V va, V vb,
                            V slope, const real *bias_h, const real *deriv_ih)
{
    x = beta0 ? V_MUL(va, x) : V_FMA(va, x, V_MUL(vb, V_LOAD(ci)));
    if (kind == PYNN_EPI_NONE) return x;
    if (kind == PYNN_EPI_BIAS_ACT)
        return R(epi_vec)(kind, act, slope, x, bias_h != NULL, bias_h ? V_LOAD(bias_h) : V_ZERO(),
                          V_ZERO());
    return R(epi_vec)(kind, act, slope, x, 0, V_ZERO(), V_LOAD(deriv_ih));
}

/* A full tile stored straight from the named accumulators, row by row. */
#define FULL_ROW(i, KIND, ACT, BETA0)                                                       \
    {                                                                                       \
        real *ci = c + (i) * ldc;                                                           \
        const real *di = (KIND) == PYNN_EPI_MUL_DACT ? deriv + (i) * ld_deriv : NULL;       \
        V_STORE(ci, R(full_vec)(KIND, ACT, BETA0, c##i##0, ci, va, vb, slope, bias, di));   \
        V_STORE(ci + VL, R(full_vec)(KIND, ACT, BETA0, c##i##1, ci + VL, va, vb, slope,     \
                                     bias ? bias + VL : NULL, di ? di + VL : NULL));        \
    }
#define FULL_TILE(KIND, ACT)                                                                \
    {                                                                                       \
        if (beta == 0) {                                                                    \
            FULL_ROW(0, KIND, ACT, 1) FULL_ROW(1, KIND, ACT, 1) FULL_ROW(2, KIND, ACT, 1)   \
            FULL_ROW(3, KIND, ACT, 1) FULL_ROW(4, KIND, ACT, 1) FULL_ROW(5, KIND, ACT, 1)   \
        } else {                                                                            \
            FULL_ROW(0, KIND, ACT, 0) FULL_ROW(1, KIND, ACT, 0) FULL_ROW(2, KIND, ACT, 0)   \
            FULL_ROW(3, KIND, ACT, 0) FULL_ROW(4, KIND, ACT, 0) FULL_ROW(5, KIND, ACT, 0)   \
        }                                                                                   \
        return;                                                                             \
    }

ALWAYS_INLINE void R(tile)(int64_t k, const real *a, int64_t rs_a, int64_t cs_a, const real *b,
                           real *c, int64_t ldc, real alpha, real beta, int mr, int nr,
                           const pynn_epilogue *e)
{
    V c00 = V_ZERO(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    V c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const real *bias = e && e->kind == PYNN_EPI_BIAS_ACT ? (const real *)e->bias : NULL;
    const real *deriv = e && e->kind == PYNN_EPI_MUL_DACT ? (const real *)e->deriv_of : NULL;
    const int64_t ld_deriv = deriv ? e->ld_deriv : 0;
    int64_t p;
    int i;
    for (i = 0; i < mr; i++) {                  /* C rows (and the derivative's source) */
        PREFETCH(c, i * ldc);                   /* come in while A, B stream */
        PREFETCH(c, i * ldc + NR - 1);
        if (deriv) {
            PREFETCH(deriv, i * ld_deriv);
            PREFETCH(deriv, i * ld_deriv + NR - 1);
        }
    }
    /* acc += a(:, p) b(p, :), only over the rows and vectors the tile has: a
     * ragged edge of <= 2 or <= 4 rows (a batch of 32 = 5 x 6 + 2) or an output
     * layer of <= VL units runs that many FMAs, not 12 */
    if (nr <= VL) {
        if (mr <= 2) K_LOOP(K_HALF, ROW_HALF(0) ROW_HALF(1))
        else if (mr <= 4) K_LOOP(K_HALF, ROW_HALF(0) ROW_HALF(1) ROW_HALF(2) ROW_HALF(3))
        else K_LOOP(K_HALF, ROW_HALF(0) ROW_HALF(1) ROW_HALF(2) ROW_HALF(3) ROW_HALF(4) ROW_HALF(5))
    } else {
        if (mr <= 2) K_LOOP(K_FULL, ROW(0) ROW(1))
        else if (mr <= 4) K_LOOP(K_FULL, ROW(0) ROW(1) ROW(2) ROW(3))
        else K_LOOP(K_FULL, ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5))
    }
    if (mr == MR && nr == NR) {                 /* full tiles of the common epilogues: */
        const V va = V_SET1(alpha), vb = V_SET1(beta);  /* no spill, no branch per vector */
        const V slope = V_SET1(e ? (real)e->slope : (real)0);
        if (!e) FULL_TILE(PYNN_EPI_NONE, PYNN_ACT_IDENTITY)
        if (e->kind == PYNN_EPI_BIAS_ACT && e->act == PYNN_ACT_RELU)
            FULL_TILE(PYNN_EPI_BIAS_ACT, PYNN_ACT_RELU)
        if (e->kind == PYNN_EPI_MUL_DACT && e->act == PYNN_ACT_RELU)
            FULL_TILE(PYNN_EPI_MUL_DACT, PYNN_ACT_RELU)
    }
    {
        V acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
        R(finish)(acc, c, ldc, alpha, beta, e, bias, deriv, ld_deriv, mr, nr);
    }
}

void R(pynn_gemm_ukr_avx2)(int64_t k, const real *a, int64_t rs_a, int64_t cs_a, const real *b,
                           real *c, int64_t ldc, real alpha, real beta, int mr, int nr,
                           const pynn_epilogue *epi)
{
    if (rs_a == 1 && cs_a == MR)
        R(tile)(k, a, 1, MR, b, c, ldc, alpha, beta, mr, nr, epi);          /* packed A */
    else if (cs_a == 1)
        R(tile)(k, a, rs_a, 1, b, c, ldc, alpha, beta, mr, nr, epi);        /* A in place, row-major */
    else
        R(tile)(k, a, rs_a, cs_a, b, c, ldc, alpha, beta, mr, nr, epi);     /* A in place, transposed */
}

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

/* The driver packs MR-row (A) and NR-row (B transposed) micro-panels. */
void R(pynn_pack_rows_avx2)(int64_t kc, const real *src, int64_t ld, int rows, real *dst)
{
    if (rows == MR) R(pack_rows_n)(kc, src, ld, MR, dst);
    else if (rows == NR) R(pack_rows_n)(kc, src, ld, NR, dst);
    else R(pack_rows_n)(kc, src, ld, rows, dst);
}

#undef ROW
#undef ROW_HALF
#undef K_FULL
#undef K_HALF
#undef K_LOOP
#undef FULL_ROW
#undef FULL_TILE
#undef MR
#undef PREFETCH
#undef NR
#undef V
#undef VL
#undef V_ZERO
#undef V_SET1
#undef V_LOAD
#undef V_LOADA
#undef V_STORE
#undef V_BCAST
#undef V_FMA
#undef V_MUL
#undef V_ADD
#undef V_SUB
#undef V_MAX
#undef V_AND
#undef V_BLEND
#undef V_CMP
#undef V_LANES
#undef V_MSTORE
#undef V_MLOAD
