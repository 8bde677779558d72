/* SPDX-License-Identifier: MIT
 * gemm/ukr_cols.inc.c: the ISA-neutral body of the column kernel (kernels.h):
 * C = alpha A^T B + beta C for a few columns of B (an output layer's dW =
 * X^T dZ), both operands read in place. The micro-kernel would broadcast A and
 * fill a vector of B's n columns, n of its VL lanes; here a vector runs down VL
 * rows of C instead (a row of the stored A), each of B's values is broadcast,
 * and every lane works. One accumulator per vector and column: the same FMA
 * chain per element as the micro-kernel's, then the same alpha acc (+ beta C),
 * so the same bits. The ISA file that includes it, before ukr_simd.inc.c,
 * defines V, VL, VMASK, V_ZERO, V_BCAST, V_FMA, V_MLOAD, V_STORE, V_LANES (the
 * micro-kernel's), COLS_N (the most columns: 12 or 16, the set's cols_n in
 * kernels.h), COLS_ACC (the accumulators that fit the registers beside two
 * vectors of A and a broadcast) and COLS_FN, the exported name. */

#if PYNN_IS_F64
#define FMA1 __builtin_fma
#else
#define FMA1 __builtin_fmaf
#endif

/* Rows [0, mr) x columns [0, N) of C, mr <= RV VL: RV vectors of row p of the
 * stored A times each of B's N values in row p; then, through a column-major
 * scratch, alpha acc (+ beta C) into C's rows. N and RV are constants where
 * inlined, so the accumulators are registers. */
ALWAYS_INLINE void R(cols_tile)(int64_t k, const real *a, int64_t lda, const real *b,
                                int64_t ldb, real *c, int64_t ldc, real alpha, real beta,
                                int mr, const int N, const int RV)
{
    V acc[2][COLS_N];
    real s[2 * COLS_N * VL] __attribute__((aligned(64)));
    const VMASK lanes[2] = {V_LANES(mr), V_LANES(mr - VL)};   /* rows past mr never read */
    int64_t p;
    int i, j, r;
    for (r = 0; r < RV; r++)
        for (j = 0; j < N; j++) acc[r][j] = V_ZERO();
    for (p = 0; p < k; p++) {
        const real *ap = a + p * lda, *bp = b + p * ldb;
        V av[2];
        for (r = 0; r < RV; r++) av[r] = V_MLOAD(ap + r * VL, lanes[r]);
        _Pragma("GCC unroll 16")
        for (j = 0; j < N; j++) {
            const V bj = V_BCAST(bp + j);
            for (r = 0; r < RV; r++) acc[r][j] = V_FMA(av[r], bj, acc[r][j]);   /* += a b */
        }
    }
    for (r = 0; r < RV; r++)
        for (j = 0; j < N; j++) V_STORE(s + (r * N + j) * VL, acc[r][j]);
    for (i = 0; i < mr; i++) {
        const real *si = s + (i / VL) * N * VL + i % VL;   /* element (i, j) at si[j VL] */
        real *ci = c + i * ldc;
        if (beta == 0)
            for (j = 0; j < N; j++) ci[j] = alpha * si[j * VL];                     /* alpha acc */
        else
            for (j = 0; j < N; j++) ci[j] = FMA1(alpha, si[j * VL], beta * ci[j]);  /* + beta C */
    }
}

/* m rows in tiles of 2 VL (RV = 2 while both vectors' accumulators fit,
 * else the tile's two halves in turn: fewer than 8 chains of FMAs in flight
 * leave the FMA units idle for their latency); a last tile of <= VL rows is
 * one vector. */
ALWAYS_INLINE void R(cols_rows)(int64_t k, const real *a, int64_t lda, const real *b,
                                int64_t ldb, real *c, int64_t ldc, real alpha, real beta,
                                int64_t m, const int N)
{
    int64_t i;
    for (i = 0; i < m; i += 2 * VL) {
        const int mr = (int)PYNN_MIN((int64_t)(2 * VL), m - i);
        if (mr > VL && 2 * N <= COLS_ACC) {
            R(cols_tile)(k, a + i, lda, b, ldb, c + i * ldc, ldc, alpha, beta, mr, N, 2);
        } else {
            R(cols_tile)(k, a + i, lda, b, ldb, c + i * ldc, ldc, alpha, beta,
                         PYNN_MIN(mr, VL), N, 1);
            if (mr > VL)
                R(cols_tile)(k, a + i + VL, lda, b, ldb, c + (i + VL) * ldc, ldc, alpha, beta,
                             mr - VL, N, 1);
        }
    }
}

#define COLS_CASE(N) \
    case N: R(cols_rows)(k, a, lda, b, ldb, c, ldc, alpha, beta, m, N); return;

_Static_assert(COLS_N == 12 || COLS_N == 16, "the cases below are 1..12 or 1..16");

void COLS_FN(int64_t k, const real *a, int64_t lda, const real *b, int64_t ldb, real *c,
             int64_t ldc, real alpha, real beta, int64_t m, int n)
{
    switch (n) {
    COLS_CASE(1) COLS_CASE(2) COLS_CASE(3) COLS_CASE(4) COLS_CASE(5) COLS_CASE(6)
    COLS_CASE(7) COLS_CASE(8) COLS_CASE(9) COLS_CASE(10) COLS_CASE(11) COLS_CASE(12)
#if COLS_N == 16
    COLS_CASE(13) COLS_CASE(14) COLS_CASE(15) COLS_CASE(16)
#endif
    default: return;                            /* n > COLS_N: never passed (kernels.h) */
    }
}

#undef COLS_CASE
#undef FMA1
#undef COLS_N
#undef COLS_ACC
#undef COLS_FN
