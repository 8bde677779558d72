/* SPDX-License-Identifier: MIT
 * gemm/gemm.inc.c: templated body of gemm.c: packing, the macro-kernel, the
 * five-loop driver, and the team entry points (one product, or several sharing
 * one schedule). */
#include "../nn/act.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/*** @@PACK: packing into micro-panels ***/

#if PYNN_IS_F64
typedef pynn_pack_rows_d R(pack_rows_fn);
#else
typedef pynn_pack_rows_s R(pack_rows_fn);
#endif

/* Transposing pack of one full micro-panel, dst[p * rows + i] = src[i * ld + p]:
 * the kernel set's vector version when it has one, else this loop. */
static void R(pack_rows)(R(pack_rows_fn) fast, int64_t kc, const real *src, int64_t ld, int rows,
                         real *dst)
{
    int64_t p;
    int i;
    if (fast) {
        fast(kc, src, ld, rows, dst);
        return;
    }
    for (p = 0; p < kc; p++)
        for (i = 0; i < rows; i++) dst[p * rows + i] = src[i * ld + p];
}

/* A block: rows [0, mc) x depth [0, kc) of op(A) (already offset) into MR-row
 * micro-panels, each kc x MR with the MR values of one column p contiguous;
 * rows past mc are zero. op(A)(i, p) = A[i * rs + p * cs]. */
ALWAYS_INLINE void R(pack_a_mr)(R(pack_rows_fn) fast, const real *A, int64_t rs, int64_t cs,
                                int64_t mc, int64_t kc, real *ap, const int MR)
{
    int64_t ir, p;
    int i;
    for (ir = 0; ir < mc; ir += MR) {
        int mr = (int)PYNN_MIN((int64_t)MR, mc - ir);
        const real *src = A + ir * rs;
        real *dst = ap + ir * kc;
        if (mr == MR && cs == 1) {              /* A row-major: MR rows, each contiguous in p */
            R(pack_rows)(fast, kc, src, rs, MR, dst);
        } else if (mr == MR && rs == 1) {       /* A transposed: MR contiguous values per p */
            for (p = 0; p < kc; p++)
                for (i = 0; i < MR; i++) dst[p * MR + i] = src[p * cs + i];
        } else {                                /* ragged: zero rows past mr, then copy */
            memset(dst, 0, (size_t)(kc * MR) * sizeof(real));
            for (i = 0; i < mr; i++)
                for (p = 0; p < kc; p++) dst[p * MR + i] = src[i * rs + p * cs];
        }
    }
}

static void R(pack_a)(R(pack_rows_fn) fast, const real *A, int64_t rs, int64_t cs, int64_t mc,
                      int64_t kc, real *ap, int MR)
{
    if (MR == PYNN_COLT_ROWS) R(pack_a_mr)(fast, A, rs, cs, mc, kc, ap, PYNN_COLT_ROWS);
    else if (MR == 6) R(pack_a_mr)(fast, A, rs, cs, mc, kc, ap, 6);
    else if (MR == 8) R(pack_a_mr)(fast, A, rs, cs, mc, kc, ap, 8);
    else if (MR == 4) R(pack_a_mr)(fast, A, rs, cs, mc, kc, ap, 4);
    else R(pack_a_mr)(fast, A, rs, cs, mc, kc, ap, MR);
}

/* Rows per block when packing a row-major B: a few rows are read as sequential
 * streams and each micro-panel is written in contiguous runs of B_ROWS x NR.
 * (One micro-panel at a time instead reads every row at a stride of ldb, which
 * defeats the prefetcher and, for ldb a power of two, the cache sets: 256 x
 * 1024 x 1024 ran at 56 GFLOP/s that way, 68 this way.) */
#define B_ROWS 4

/* The B panel: depth [0, kc) x columns [0, nw) of op(B) (already offset) into
 * NR-column micro-panels, each kc rows of NR values; columns past nw are zero.
 * op(B)(p, j) = B[p * rs + j * cs]. */
ALWAYS_INLINE void R(pack_b_nr)(R(pack_rows_fn) fast, const real *B, int64_t rs, int64_t cs,
                                int64_t kc, int64_t nw, real *bp, const int NR)
{
    const int64_t n_full = nw / NR, pan = kc * NR;   /* full micro-panels, panel size */
    const int nr_edge = (int)(nw - n_full * NR);
    int64_t jr, p0, p;
    int j;
    if (cs == 1) {                              /* B row-major: NR contiguous values per p */
        for (p0 = 0; p0 < kc; p0 += B_ROWS) {
            const int64_t p1 = PYNN_MIN(p0 + B_ROWS, kc);
            for (jr = 0; jr < n_full; jr++) {
                const real *src = B + p0 * rs + jr * NR;
                real *dst = bp + jr * pan + p0 * NR;
                for (p = p0; p < p1; p++, src += rs, dst += NR)
                    for (j = 0; j < NR; j++) dst[j] = src[j];
            }
            if (nr_edge) {
                const real *src = B + p0 * rs + n_full * NR;
                real *dst = bp + n_full * pan + p0 * NR;
                for (p = p0; p < p1; p++, src += rs, dst += NR) {
                    for (j = 0; j < NR; j++) dst[j] = j < nr_edge ? src[j] : (real)0;
                }
            }
        }
        return;
    }
    for (jr = 0; jr <= n_full; jr++) {
        const int nr = jr < n_full ? NR : nr_edge;
        const real *src = B + jr * NR * cs;
        real *dst = bp + jr * pan;
        if (nr == 0) break;
        if (nr == NR && rs == 1) {              /* B transposed: column j contiguous in p */
            R(pack_rows)(fast, kc, src, cs, NR, dst);
        } else {
            for (p = 0; p < kc; p++) {
                for (j = 0; j < NR; j++)
                    dst[p * NR + j] = j < nr ? src[p * rs + j * cs] : (real)0;
            }
        }
    }
}

/* Built twice (PYNN_CLONES, a copy: the same bits either way): the row-major
 * copy in AVX2 moves, not SSE2's, made the tiny network's step 12.5 -> 11.3-11.9
 * us and the medium one's 1-5% faster (3 interleaved runs each). */
static PYNN_CLONES void R(pack_b)(R(pack_rows_fn) fast, const real *B, int64_t rs, int64_t cs,
                                  int64_t kc, int64_t nw, real *bp, int NR)
{
    if (NR == 64) R(pack_b_nr)(fast, B, rs, cs, kc, nw, bp, 64);
    else if (NR == 32) R(pack_b_nr)(fast, B, rs, cs, kc, nw, bp, 32);
    else if (NR == 16) R(pack_b_nr)(fast, B, rs, cs, kc, nw, bp, 16);
    else if (NR == 8) R(pack_b_nr)(fast, B, rs, cs, kc, nw, bp, 8);
    else if (NR == 4) R(pack_b_nr)(fast, B, rs, cs, kc, nw, bp, 4);
    else R(pack_b_nr)(fast, B, rs, cs, kc, nw, bp, NR);
}

/*** @@DRIVER ***/

#if PYNN_IS_F64
typedef pynn_ukr_d R(ukr_fn);
typedef pynn_ukr_cols_d R(cols_fn);
#else
typedef pynn_ukr_s R(ukr_fn);
typedef pynn_ukr_cols_s R(cols_fn);
#endif

/* C = beta C, then the epilogue: the whole product when k == 0 or alpha == 0. */
static void R(scale_c)(int64_t m, int64_t n, real beta, real *C, int64_t ldc,
                       const pynn_epilogue *epi)
{
    int64_t i, j;
    for (i = 0; i < m; i++) {
        real *c = C + i * ldc;
        if (beta == 0) for (j = 0; j < n; j++) c[j] = 0;
        else if (beta != 1) for (j = 0; j < n; j++) c[j] *= beta;
        R(epilogue_tile)(epi, C, ldc, i, 0, 1, n);
    }
}

/* One product as the team shares it out: operands, blocking and grid of items.
 * Block sizes and the path depend on (m, n, k, kernel) only, never on the team. */
typedef struct {
    const pynn_gemm_blocks *bl;
    R(ukr_fn) ukr;
    R(cols_fn) cols;               /* the column kernel when this product takes it, else NULL */
    int cols_on_packed_a;          /* ... on A packed transposed (A row-major), else A^T in place */
    R(pack_rows_fn) fast;
    int64_t m, n, k, kc_blk, H, W, n_rb, items;
    int sup, scale_only;
    int b_in_place;                /* the kernel reads B's rows where they are (no B panel) */
    int walk_rows;                 /* the tiles of a block row by row (GEMM_THIN_DEPTH) */
    real alpha, beta;
    const real *A, *B;
    real *C;
    int64_t rs_a, cs_a, rs_b, cs_b, ldc;
    const pynn_epilogue *epi;
    size_t b_bytes, a_bytes;       /* this product's packing buffers, per thread */
    double flops;
} R(gemm_plan);

/* One item of the product: the mh x nw tile of C at (i0, j0), over all of K,
 * with this thread's packing buffers. */
static void R(gemm_item)(const R(gemm_plan) *pl, int64_t i0, int64_t mh, int64_t j0, int64_t nw,
                         real *b_pack, real *a_pack)
{
    const pynn_gemm_blocks *bl = pl->bl;
    const R(ukr_fn) ukr = pl->ukr;
    const R(pack_rows_fn) fast = pl->fast;
    const int sup = pl->sup;
    const int64_t k = pl->k, kc_blk = pl->kc_blk, ldc = pl->ldc;
    const int64_t rs_a = pl->rs_a, cs_a = pl->cs_a, rs_b = pl->rs_b, cs_b = pl->cs_b;
    const real alpha = pl->alpha, beta = pl->beta, *A = pl->A, *B = pl->B;
    real *C = pl->C;
    const pynn_epilogue *epi = pl->epi;
    const int MR = bl->mr, NR = bl->nr;
    const int64_t MC = mc_block(bl, mh), n_jr = (nw + NR - 1) / NR;
    const int in_ukr = pynn_ukr_takes_epi(epi);
    const real *bias = in_ukr && epi->kind == PYNN_EPI_BIAS_ACT ? (const real *)epi->bias : NULL;
    const real *deriv = in_ukr && epi->kind == PYNN_EPI_MUL_DACT ? (const real *)epi->deriv_of : NULL;
    pynn_epilogue tile_epi;
    if (in_ukr) tile_epi = *epi;
    int64_t pc, ic, u, v;
    if (pl->cols_on_packed_a) {                 /* A packed transposed, B in place */
        const int G = PYNN_COLT_ROWS;
        const int64_t rows = colt_block(bl);    /* per block: ws_layout's A block */
        for (ic = i0; ic < i0 + mh; ic += rows) {
            const int64_t mc = PYNN_MIN(rows, i0 + mh - ic);
            for (pc = 0; pc < k; pc += kc_blk) {
                const int64_t kc = PYNN_MIN(kc_blk, k - pc);
                /* kc x G panels */
                R(pack_a)(fast, A + ic * rs_a + pc, rs_a, 1, mc, kc, a_pack, G);
                for (u = 0; u < mc; u += G)
                    pl->cols(kc, a_pack + u * kc, G, B + pc * rs_b + j0, rs_b,
                             C + (ic + u) * ldc + j0, ldc, alpha, pc == 0 ? beta : (real)1,
                             PYNN_MIN((int64_t)G, mc - u), (int)nw);
            }
            R(epilogue_tile)(epi, C, ldc, ic, j0, mc, nw);  /* on the stored block, act.h's order */
        }
        return;
    }
    if (pl->cols) {                             /* A^T and B in place, panel by panel */
        for (pc = 0; pc < k; pc += kc_blk)
            pl->cols(PYNN_MIN(kc_blk, k - pc), A + pc * cs_a + i0, cs_a, B + pc * rs_b + j0, rs_b,
                     C + i0 * ldc + j0, ldc, alpha, pc == 0 ? beta : (real)1, mh, (int)nw);
        return;
    }
    const int in_place = pl->b_in_place;
    const int64_t rs_pan = in_place ? rs_b : NR;               /* a B row to the next */
    /* 4th loop (pc): partition k by KC; pack this tile's B panel (KC x W), or
     * have the kernel read B's rows in place (b_in_place, gemm.c) */
    for (pc = 0; pc < k; pc += kc_blk) {
        const int64_t kc = PYNN_MIN(kc_blk, k - pc);
        const real beta_use = pc == 0 ? beta : (real)1;   /* beta on the first panel only */
        const int last = pc + kc >= k;                     /* epilogue after the last */
        const real *b_pan = in_place ? B + pc * rs_b + j0 : b_pack;
        const int64_t mp_step = in_place ? NR : kc * NR;       /* a micro-panel to the next */
        if (!in_place) R(pack_b)(fast, B + pc * rs_b + j0 * cs_b, rs_b, cs_b, kc, nw, b_pack, NR);
        /* 3rd loop (ic): partition the tile's rows by MC; pack the A block (MC x KC) */
        for (ic = i0; ic < i0 + mh; ic += MC) {
            const int64_t mc = PYNN_MIN(MC, i0 + mh - ic), n_ir = (mc + MR - 1) / MR;
            const int64_t n_u = pl->walk_rows ? n_ir : n_jr, n_v = pl->walk_rows ? n_jr : n_ir;
            const real *a_blk = A + ic * rs_a + pc * cs_a;
            int64_t mc_full = mc;
            if (!sup) {
                R(pack_a)(fast, a_blk, rs_a, cs_a, mc, kc, a_pack, MR);
            } else {                                /* A read in place; ragged rows packed */
                mc_full = mc / MR * MR;
                if (mc_full < mc)
                    R(pack_a)(fast, a_blk + mc_full * rs_a, rs_a, cs_a, mc - mc_full, kc, a_pack,
                              MR);
            }
            /* 2nd and 1st loops (jr, ir): the micro-kernel on every MR x NR
             * tile of the block, down each column of tiles (a B micro-panel
             * stays in L1) or, for a thin depth, along each row of tiles */
            for (u = 0; u < n_u; u++) {
                for (v = 0; v < n_v; v++) {
                    const int64_t jr = pl->walk_rows ? v : u, ir = (pl->walk_rows ? u : v) * MR;
                    const int nr = (int)PYNN_MIN((int64_t)NR, nw - jr * NR);
                    const int mr = (int)PYNN_MIN((int64_t)MR, mc - ir);
                    const real *b_mp = b_pan + jr * mp_step;
                    const int64_t j = j0 + jr * NR;
                    real *c = C + (ic + ir) * ldc + j;
                    const pynn_epilogue *te = NULL;     /* the epilogue the kernel applies */
                    if (last && in_ukr) {
                        tile_epi.bias = bias ? bias + j : NULL;
                        tile_epi.deriv_of = deriv ? deriv + (ic + ir) * epi->ld_deriv + j : NULL;
                        te = &tile_epi;
                    }
                    if (!sup)
                        ukr(kc, a_pack + ir * kc, 1, MR, b_mp, rs_pan, c, ldc, alpha, beta_use, mr,
                            nr, te);
                    else if (ir < mc_full)
                        ukr(kc, a_blk + ir * rs_a, rs_a, cs_a, b_mp, rs_pan, c, ldc, alpha,
                            beta_use, mr, nr, te);
                    else
                        ukr(kc, a_pack, 1, MR, b_mp, rs_pan, c, ldc, alpha, beta_use, mr, nr, te);
                    if (last && !in_ukr)                /* over the stored tile, while hot */
                        R(epilogue_tile)(epi, C, ldc, ic + ir, j, mr, nr);
                }
            }
        }
    }
}

static void R(plan_make)(R(gemm_plan) *pl, const pynn_gemm_op *op, int team)
{
    const pynn_gemm_kernel *kern = pynn_gemm_kernel_for(pynn_gemm_kernel_get(), op->n);
    const pynn_gemm_blocks *bl = PYNN_IS_F64 ? &kern->bd : &kern->bs;
    int nt;
    pl->bl = bl;
#if PYNN_IS_F64
    const R(cols_fn) cols = kern->cols_d;
    pl->ukr = kern->ukr_d;
    pl->fast = kern->pack_rows_d;
#else
    const R(cols_fn) cols = kern->cols_s;
    pl->ukr = kern->ukr_s;
    pl->fast = kern->pack_rows_s;
#endif
    pl->cols = NULL;
    pl->m = op->m, pl->n = op->n, pl->k = op->k;
    pl->alpha = (real)op->alpha, pl->beta = (real)op->beta;
    pl->A = (const real *)op->A, pl->B = (const real *)op->B, pl->C = (real *)op->C;
    /* op(A)(i, p) = A[i * rs_a + p * cs_a], op(B)(p, j) = B[p * rs_b + j * cs_b] */
    pl->rs_a = op->trans_a ? 1 : op->lda, pl->cs_a = op->trans_a ? op->lda : 1;
    pl->rs_b = op->trans_b ? 1 : op->ldb, pl->cs_b = op->trans_b ? op->ldb : 1;
    pl->ldc = op->ldc, pl->epi = op->epi;
    pl->flops = 2.0 * (double)op->m * (double)op->n * (double)op->k;
    pl->b_bytes = pl->a_bytes = 0;
    pl->b_in_place = 0;
    pl->scale_only = op->k == 0 || pl->alpha == 0;   /* nothing to multiply: C = beta C */
    if (op->m == 0 || op->n == 0 || pl->scale_only) {
        pl->items = op->m == 0 || op->n == 0 ? 0 : 1;
        return;
    }
    pl->kc_blk = kc_block(bl, op->k);
    /* Small-problem path: few columns, so packing A would not be repaid by
     * reuse across column micro-panels; the kernel reads A in place. The
     * limits were measured per kernel and dtype (config.c). */
    pl->sup = op->trans_a ? op->n <= bl->sup_nt : op->n <= bl->sup_n;
    /* An output layer's dW = X^T dZ: the column kernel, whose vectors run
     * down C's rows, so all lanes work however few the columns (kernels.h) */
    if (op->trans_a && !op->trans_b && op->n <= bl->cols_n &&
        (!op->epi || op->epi->kind == PYNN_EPI_NONE))
        pl->cols = cols;
    /* An output layer's forward X W (few columns, a batch of rows): the micro-
     * kernel would fill n of a vector's lanes, so A is packed transposed, in
     * panels of PYNN_COLT_ROWS rows, for the column kernel; the epilogue then
     * runs over the stored block (the same bits, kernels.h). */
    pl->cols_on_packed_a = !op->trans_a && !op->trans_b && op->n <= bl->colt_n &&
                           op->m >= PYNN_COLT_ROWS && cols;
    if (pl->cols_on_packed_a) pl->cols = cols;
    pl->b_in_place = !pl->cols && b_in_place(bl, op, sizeof(real));
    pl->walk_rows = pl->kc_blk <= GEMM_THIN_DEPTH &&
                    op->ldc * (int64_t)sizeof(real) >= GEMM_THIN_MIN_ROW_BYTES;
    ws_layout(bl, sizeof(real), op->m, op->n, op->k, &pl->b_bytes, &pl->a_bytes);
    /* threads worth using on this product; the grid never changes any result */
    nt = gemm_threads(team, pl->flops);
    item_grid(bl, op->m, op->n, op->k, nt, pl->sup, pl->walk_rows, &pl->H, &pl->W);
    pl->n_rb = (op->m + pl->H - 1) / pl->H;
    pl->items = pl->n_rb * ((op->n + pl->W - 1) / pl->W);
}

/* Item `it` of the product, with this thread's packing buffers at `mine`. */
static void R(plan_item)(const R(gemm_plan) *pl, int64_t it, char *mine)
{
    int64_t i0, j0;
    if (pl->scale_only) {
        R(scale_c)(pl->m, pl->n, pl->beta, pl->C, pl->ldc, pl->epi);
        return;
    }
    i0 = (it % pl->n_rb) * pl->H, j0 = (it / pl->n_rb) * pl->W;
    R(gemm_item)(pl, i0, PYNN_MIN(pl->H, pl->m - i0), j0, PYNN_MIN(pl->W, pl->n - j0),
                 (real *)mine, (real *)(mine + pl->b_bytes));
}

/* Item `it` of the shared schedule: of product o, first[o] <= it < first[o + 1]. */
static inline void R(run_item)(const R(gemm_plan) *pl, const int64_t *first, int64_t it,
                               char *mine)
{
    int o;
    for (o = 0; it >= first[o + 1]; o++) {}
    R(plan_item)(&pl[o], it - first[o], mine);
}

void R(pynn_gemm_team_many)(const pynn_gemm_op *ops, int n_ops, void *ws)
{
    R(gemm_plan) pl[PYNN_GEMM_MAX_OPS];
    int64_t first[PYNN_GEMM_MAX_OPS + 1] = {0}, it;
    const int team = pynn_team_size();
    size_t stride = 0;                  /* per-thread buffers, the largest any product needs */
    double flops = 0;
    int o;
    for (o = 0; o < n_ops; o++) {
        R(plan_make)(&pl[o], &ops[o], team);
        stride = PYNN_MAX(stride, pl[o].b_bytes + pl[o].a_bytes);
        flops += pl[o].flops;
        first[o + 1] = first[o] + pl[o].items;
    }
    {
        char *mine = (char *)align_ws(ws) + (size_t)pynn_team_id() * stride;
        /* 5th loop (jc) and the tiles' rows of every product: thread t first
         * takes the items of its own t-th share, then helps with the others';
         * one chunk of everything, to the first to come, when the work is too
         * small to split. Owned shares keep much of what one product writes
         * on the core that reads it next: an update's columns of W_l and the
         * next forward's, a forward's rows of A_l and the next product's.
         * Against every item to the first to come, 2 threads, interleaved
         * processes grouped by bench/peak/corelat.c's line transfer just
         * before: at 155-170 ns (8 each) small's step 256.6 -> 183.5 us,
         * mnist's 810.3 -> 783.2; at 25-32 ns (5 each) small 150.4 -> 140.5,
         * mnist 639.4 -> 649.0 (the one loss: its update schedule's items
         * differ in size); medium unchanged. */
        const int64_t n = first[n_ops];
        if (gemm_threads(team, flops) == 1) {
            PYNN_TEAM_FOR(it, n, PYNN_MAX(n, 1)) R(run_item)(pl, first, it, mine);
        } else {
            PYNN_TEAM_FOR_OWNED(it, n, 1) R(run_item)(pl, first, it, mine);
        }
    }
    PYNN_BARRIER();                     /* every C is complete for every thread of the team */
}

void R(pynn_gemm_team)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, real alpha,
                      const real *A, int64_t lda, const real *B, int64_t ldb, real beta,
                      real *C, int64_t ldc, const pynn_epilogue *epi, void *ws)
{
    const pynn_gemm_op op = {trans_a, trans_b, m, n, k, alpha, beta, A, lda, B, ldb, C, ldc, epi};
    R(pynn_gemm_team_many)(&op, 1, ws);
}

int R(pynn_gemm_ws)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, real alpha,
                    const real *A, int64_t lda, const real *B, int64_t ldb, real beta,
                    real *C, int64_t ldc, const pynn_epilogue *epi, void *ws, int n_threads)
{
    int nt;
    if (m < 0 || n < 0 || k < 0 || n_threads < 1) return PYNN_ERR_ARG;
    if (m == 0 || n == 0) return PYNN_OK;
    if (!ws && k > 0 && alpha != 0) return PYNN_ERR_ARG;
    nt = gemm_threads(n_threads, 2.0 * (double)m * (double)n * (double)k);
    PYNN_TEAM(nt, {
        R(pynn_gemm_team)(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, epi, ws);
    });
    return PYNN_OK;
}

#undef ALWAYS_INLINE
#undef B_ROWS
