/* SPDX-License-Identifier: MIT
 * gemm/ukr_simd.inc.c: the ISA-neutral body of the SIMD micro-kernels: MR rows
 * x 2 vectors of accumulators (2 MR registers), 2 for the B row and the
 * broadcast of A. The ISA file that includes it (ukr_avx2.inc.c,
 * ukr_avx512.inc.c) defines the vector type V of VL lanes and its operations
 * (V_*), the lane masks (VMASK, V_LANES, V_MLOAD, V_MSTORE), the selects the
 * activations need (V_SEL, V_KEEP), MR with FOR_ROWS (every row index of the
 * tile), UKR_FN, the exported kernel's name, and PREFETCH(p, off). It consumes
 * them: all but PREFETCH are undefined at its end.
 *
 * The k loop runs only the rows (<= 2, <= 4 or all MR) and vectors (1 or 2) a
 * tile has. The epilogue runs on the accumulators before the store: full tiles
 * of the common epilogues store straight from the named registers, with the
 * epilogue fixed at compile time (FULL_TILE); the others, edge tiles included,
 * go through one loop with masked loads and stores (lanes past nr are never
 * read or written). The contract is in kernels.h. */

#define NR (2 * VL)

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
            x = V_SEL(x, zero, _CMP_LT_OQ, V_MUL(slope, x), x);           /* z < 0: slope z */
        return x;
    }
    switch (act) {
    case PYNN_ACT_RELU:
        return V_KEEP(av, zero, _CMP_GT_OQ, x);                           /* f' = [a > 0] */
    case PYNN_ACT_LEAKY_RELU:
        return V_SEL(av, zero, _CMP_GT_OQ, x, V_MUL(slope, x));           /* f' = 1 or slope */
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
        const VMASK lanes[2] = {V_LANES(nr), V_LANES(nr - VL)};
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

/* The k loop; rs_a/cs_a are constants when inlined from the packed call. A's
 * column p is indexed, not stepped to: a pointer stepped past the last column
 * of an in-place transposed A could leave the array (undefined in C). */
#define ROW(i, ...)                                                     \
    {                                                                   \
        V ai = V_BCAST(a + p * cs_a + (i) * rs_a);                      \
        c##i##0 = V_FMA(ai, b0, c##i##0);                               \
        c##i##1 = V_FMA(ai, b1, c##i##1);                               \
    }
#define ROW_HALF(i, ...) c##i##0 = V_FMA(V_BCAST(a + p * cs_a + (i) * rs_a), b0, c##i##0);
#define ROWS_2(X) X(0, ) X(1, )
#define ROWS_4(X) X(0, ) X(1, ) X(2, ) X(3, )
#define ROWS_MR(X) FOR_ROWS(X, )
#define K_FULL V b0 = V_LOADA(b), b1 = V_LOADA(b + VL);
#define K_HALF V b0 = V_LOADA(b);
#define K_LOOP(LOAD_B, ROWS)                                            \
    {                                                                   \
        _Pragma("GCC unroll 4")                                         \
        for (p = 0; p < k; p++) {                                       \
            LOAD_B ROWS                                                 \
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
            FOR_ROWS(FULL_ROW, KIND, ACT, 1)                                                \
        } else {                                                                            \
            FOR_ROWS(FULL_ROW, KIND, ACT, 0)                                                \
        }                                                                                   \
        return;                                                                             \
    }
#define ACC_DECL(i, ...) V c##i##0 = V_ZERO(), c##i##1 = V_ZERO();
#define ACC_ROW(i, ...) {c##i##0, c##i##1},

ALWAYS_INLINE void R(tile)(int64_t k, const real *a, int64_t rs_a, int64_t cs_a, const real *b,
                           real *c, int64_t ldc, real alpha, real beta, int mr, int nr,
                           const pynn_epilogue *e)
{
    FOR_ROWS(ACC_DECL, )
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
     * layer of <= VL units runs that many FMAs, not 2 MR */
    if (nr <= VL) {
        if (mr <= 2) K_LOOP(K_HALF, ROWS_2(ROW_HALF))
        else if (mr <= 4) K_LOOP(K_HALF, ROWS_4(ROW_HALF))
        else K_LOOP(K_HALF, ROWS_MR(ROW_HALF))
    } else {
        if (mr <= 2) K_LOOP(K_FULL, ROWS_2(ROW))
        else if (mr <= 4) K_LOOP(K_FULL, ROWS_4(ROW))
        else K_LOOP(K_FULL, ROWS_MR(ROW))
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
        V acc[MR][2] = {FOR_ROWS(ACC_ROW, )};
        R(finish)(acc, c, ldc, alpha, beta, e, bias, deriv, ld_deriv, mr, nr);
    }
}

void UKR_FN(int64_t k, const real *a, int64_t rs_a, int64_t cs_a, const real *b, real *c,
            int64_t ldc, real alpha, real beta, int mr, int nr, const pynn_epilogue *epi)
{
    if (rs_a == 1 && cs_a == MR)
        R(tile)(k, a, 1, MR, b, c, ldc, alpha, beta, mr, nr, epi);          /* packed A */
    else if (cs_a == 1)
        R(tile)(k, a, rs_a, 1, b, c, ldc, alpha, beta, mr, nr, epi);        /* A in place, row-major */
    else
        R(tile)(k, a, rs_a, cs_a, b, c, ldc, alpha, beta, mr, nr, epi);     /* A in place, transposed */
}

#undef NR
#undef ROW
#undef ROW_HALF
#undef ROWS_2
#undef ROWS_4
#undef ROWS_MR
#undef K_FULL
#undef K_HALF
#undef K_LOOP
#undef FULL_ROW
#undef FULL_TILE
#undef ACC_DECL
#undef ACC_ROW
#undef V
#undef VL
#undef VMASK
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
#undef V_MLOAD
#undef V_MSTORE
#undef V_LANES
#undef V_SEL
#undef V_KEEP
#undef MR
#undef FOR_ROWS
#undef UKR_FN
