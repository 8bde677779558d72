/* SPDX-License-Identifier: MIT
 * gemm/ukr_simd.inc.c: the ISA-neutral body of the SIMD micro-kernels: MR rows
 * x NV vectors of accumulators (NV MR registers), NV for the B row and one for
 * the broadcast of A. The ISA file that includes it (ukr_avx2.inc.c,
 * ukr_avx512.inc.c, ukr_avx512_6x64.inc.c) defines the vector type V of VL
 * lanes and its operations (V_*), the lane masks (VMASK, V_LANES, V_MLOAD,
 * V_MSTORE), the selects the activations need (V_SEL, V_KEEP), MR with
 * FOR_ROWS (every row index of the tile), NV (2 or 4), UKR_FN, the exported
 * kernel's name, and PREFETCH(p, off). It consumes them: all but PREFETCH and
 * the includer's own helpers (e.g. V_CMP_MASK) are undefined at its end.
 *
 * The k loop runs only the rows (<= 2, <= 4 or all MR) and vectors (1, 2 or
 * all NV) a tile has. The epilogue runs on the accumulators before the store: full tiles
 * of the common epilogues store straight from the named registers, with the
 * epilogue fixed at compile time (FULL_TILE); the others, edge tiles included,
 * go through one loop with masked loads and stores (lanes past nr are never
 * read or written). The contract is in kernels.h. */

#define NR (NV * VL)
#if NV == 2                          /* X(i, h) for every vector h of row i */
#define FOR_VECS(X, i) X(i, 0) X(i, 1)
#elif NV == 4
#define FOR_VECS(X, i) X(i, 0) X(i, 1) X(i, 2) X(i, 3)
#else
#error "NV must be 2 or 4"
#endif
#define VECS_1(X, i) X(i, 0)
#define VECS_2(X, i) X(i, 0) X(i, 1)

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
ALWAYS_INLINE void R(finish)(V acc[MR][NV], real *c, int64_t ldc, real alpha, real beta,
                             const pynn_epilogue *e, const real *bias, const real *deriv,
                             int64_t ld_deriv, int mr, int nr)
{
    const V va = V_SET1(alpha), vb = V_SET1(beta), zero = V_ZERO();
    const V slope = V_SET1(e ? (real)e->slope : (real)0);
    const int kind = e ? e->kind : 0, act = e ? e->act : 0;
    int i, h;
    if (mr == MR && nr == NR) {
        for (i = 0; i < MR; i++)
            for (h = 0; h < NV; h++) {
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
        VMASK lanes[NV];
        for (h = 0; h < NV; h++) lanes[h] = V_LANES(nr - h * VL);
        for (i = 0; i < mr; i++)
            for (h = 0; h < NV && h * VL < nr; h++) {
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
 * column p and B's row p are indexed, not stepped to: a pointer stepped past
 * the last column of an in-place transposed A, or the last row of an in-place
 * B, could leave the array (undefined in C). No software prefetch of B: its
 * lines 8 or 24 k steps ahead, on the family 25 model 17 EPYC with AVX-512 (1
 * thread, medians of 4 interleaved rounds), moved the medium products by -1.7%
 * to +1.1% and made the medium step 0.9-2.0% slower; the hardware prefetcher
 * follows the packed stream (a B read in place is small and its rows close:
 * gemm.c's b_in_place). */
#define FMA_V(i, h) c##i##h = V_FMA(ai, b##h, c##i##h);
#define LOAD_V(i, h) V b##h = V_LOAD(b + p * rs_b + (h) * VL);
#define ROW(i, VECS)                                                    \
    {                                                                   \
        V ai = V_BCAST(a + p * cs_a + (i) * rs_a);                      \
        VECS(FMA_V, i)                                                  \
    }
#define ROWS_2(X, VECS) X(0, VECS) X(1, VECS)
#define ROWS_4(X, VECS) X(0, VECS) X(1, VECS) X(2, VECS) X(3, VECS)
#define ROWS_MR(X, VECS) FOR_ROWS(X, VECS)
#define K_LOOP(ROWS, VECS)                                              \
    {                                                                   \
        _Pragma("GCC unroll 4")                                         \
        for (p = 0; p < k; p++) {                                       \
            VECS(LOAD_V, 0) ROWS(ROW, VECS)                             \
        }                                                               \
    }
#define K_ROWS(VECS)                                                    \
    {                                                                   \
        if (mr <= 2) K_LOOP(ROWS_2, VECS)                               \
        else if (mr <= 4) K_LOOP(ROWS_4, VECS)                          \
        else K_LOOP(ROWS_MR, VECS)                                      \
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

/* A full tile stored straight from the named accumulators, row by row; kind,
 * act and beta0 are the constants FULL_TILE sets. */
#define FULL_VEC(i, h)                                                                      \
    V_STORE(ci + (h) * VL, R(full_vec)(kind, act, beta0, c##i##h, ci + (h) * VL, va, vb,    \
                                       slope, bias ? bias + (h) * VL : NULL,                \
                                       di ? di + (h) * VL : NULL));
#define FULL_ROW(i, ...)                                                                    \
    {                                                                                       \
        real *ci = c + (i) * ldc;                                                           \
        const real *di = kind == PYNN_EPI_MUL_DACT ? deriv + (i) * ld_deriv : NULL;         \
        FOR_VECS(FULL_VEC, i)                                                               \
    }
#define FULL_TILE(KIND, ACT)                                                                \
    {                                                                                       \
        const int kind = (KIND), act = (ACT);                                               \
        if (beta == 0) {                                                                    \
            const int beta0 = 1;                                                            \
            FOR_ROWS(FULL_ROW, )                                                            \
        } else {                                                                            \
            const int beta0 = 0;                                                            \
            FOR_ROWS(FULL_ROW, )                                                            \
        }                                                                                   \
        return;                                                                             \
    }
#define ZERO_V(i, h) V c##i##h = V_ZERO();
#define ACC_DECL(i, ...) FOR_VECS(ZERO_V, i)
#define ACC_V(i, h) c##i##h,
#define ACC_ROW(i, ...) {FOR_VECS(ACC_V, i)},

ALWAYS_INLINE void R(tile)(int64_t k, const real *a, int64_t rs_a, int64_t cs_a, const real *b,
                           int64_t rs_b, real *c, int64_t ldc, real alpha, real beta, int mr,
                           int nr, const pynn_epilogue *e)
{
    FOR_ROWS(ACC_DECL, )
    const real *bias = e && e->kind == PYNN_EPI_BIAS_ACT ? (const real *)e->bias : NULL;
    const real *deriv = e && e->kind == PYNN_EPI_MUL_DACT ? (const real *)e->deriv_of : NULL;
    const int64_t ld_deriv = deriv ? e->ld_deriv : 0;
    int64_t p;
    int i;
    for (i = 0; i < mr; i++) {                  /* C rows (and the derivative's source) */
        for (int q = 0; q < NR; q += 64 / (int)sizeof(real)) {   /* come in while A, B stream */
            PREFETCH(c, i * ldc + q);
            if (deriv) PREFETCH(deriv, i * ld_deriv + q);
        }
        PREFETCH(c, i * ldc + NR - 1);
        if (deriv) PREFETCH(deriv, i * ld_deriv + NR - 1);
    }
    /* acc += a(:, p) b(p, :), only over the rows and vectors the tile has: a
     * ragged edge of <= 2 or <= 4 rows (a batch of 32 = 5 x 6 + 2), an output
     * layer of <= VL units, or (NV = 4) an edge of <= 2 VL columns runs that
     * many FMAs, not NV MR; wider edges run all NV vectors on zero padding */
    if (nr <= VL) K_ROWS(VECS_1)
#if NV > 2
    else if (nr <= 2 * VL) K_ROWS(VECS_2)
#endif
    else K_ROWS(FOR_VECS)
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
        V acc[MR][NV] = {FOR_ROWS(ACC_ROW, )};
        R(finish)(acc, c, ldc, alpha, beta, e, bias, deriv, ld_deriv, mr, nr);
    }
}

void UKR_FN(int64_t k, const real *a, int64_t rs_a, int64_t cs_a, const real *b, int64_t rs_b,
            real *c, int64_t ldc, real alpha, real beta, int mr, int nr, const pynn_epilogue *epi)
{
    if (rs_a == 1 && cs_a == MR)        /* packed A */
        R(tile)(k, a, 1, MR, b, rs_b, c, ldc, alpha, beta, mr, nr, epi);
    else if (cs_a == 1)                 /* A in place, row-major */
        R(tile)(k, a, rs_a, 1, b, rs_b, c, ldc, alpha, beta, mr, nr, epi);
    else                                /* A in place, transposed */
        R(tile)(k, a, rs_a, cs_a, b, rs_b, c, ldc, alpha, beta, mr, nr, epi);
}

#undef NR
#undef NV
#undef FOR_VECS
#undef VECS_1
#undef VECS_2
#undef FMA_V
#undef LOAD_V
#undef ROW
#undef ROWS_2
#undef ROWS_4
#undef ROWS_MR
#undef K_LOOP
#undef K_ROWS
#undef FULL_VEC
#undef FULL_ROW
#undef FULL_TILE
#undef ZERO_V
#undef ACC_DECL
#undef ACC_V
#undef ACC_ROW
#undef V
#undef VL
#undef VMASK
#undef V_ZERO
#undef V_SET1
#undef V_LOAD
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
