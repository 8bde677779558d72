/* SPDX-License-Identifier: MIT
 * gemm/gemm.inc.c: templated body of gemm.c: packing, the macro-kernel and the
 * five-loop driver. */
#include "../nn/act.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/*** @@PACK: packing into micro-panels ***/

/* A block: rows [0, mc) x depth [0, kc) of op(A) (already offset) into MR-row
 * micro-panels, each kc x MR with the MR values of one column p contiguous;
 * rows past mc are zero. op(A)(i, p) = A[i * rs + p * cs]. */
ALWAYS_INLINE void R(pack_a_mr)(const real *A, int64_t rs, int64_t cs, int64_t mc, int64_t kc,
                                real *ap, const int MR)
{
    int64_t ir, p;
    int i;
    for (ir = 0; ir < mc; ir += MR) {
        int mr = (int)PYNN_MIN((int64_t)MR, mc - ir);
        const real *src = A + ir * rs;
        real *dst = ap + ir * kc;
        if (mr == MR && cs == 1) {              /* A row-major: MR rows, each contiguous in p */
            for (p = 0; p < kc; p++)
                for (i = 0; i < MR; i++) dst[p * MR + i] = src[i * rs + p];
        } else if (mr == MR && rs == 1) {       /* A transposed: MR contiguous values per p */
            for (p = 0; p < kc; p++)
                for (i = 0; i < MR; i++) dst[p * MR + i] = src[p * cs + i];
        } else {
            for (p = 0; p < kc; p++) {
                for (i = 0; i < mr; i++) dst[p * MR + i] = src[i * rs + p * cs];
                for (; i < MR; i++) dst[p * MR + i] = 0;
            }
        }
    }
}

static void R(pack_a)(const real *A, int64_t rs, int64_t cs, int64_t mc, int64_t kc, real *ap,
                      int MR)
{
    if (MR == 6) R(pack_a_mr)(A, rs, cs, mc, kc, ap, 6);
    else if (MR == 4) R(pack_a_mr)(A, rs, cs, mc, kc, ap, 4);
    else R(pack_a_mr)(A, rs, cs, mc, kc, ap, MR);
}

/* One B micro-panel: depth [0, kc) x columns [0, nr) of op(B) (already offset)
 * into kc rows of NR values; columns past nr are zero. op(B)(p, j) = B[p * rs + j * cs]. */
ALWAYS_INLINE void R(pack_b_nr)(const real *B, int64_t rs, int64_t cs, int64_t kc, int nr,
                                real *bp, const int NR)
{
    int64_t p;
    int j;
    if (nr == NR && cs == 1) {                  /* B row-major: NR contiguous values per p */
        for (p = 0; p < kc; p++)
            for (j = 0; j < NR; j++) bp[p * NR + j] = B[p * rs + j];
    } else if (nr == NR && rs == 1) {           /* B transposed: column j contiguous in p */
        for (p = 0; p < kc; p++)
            for (j = 0; j < NR; j++) bp[p * NR + j] = B[j * cs + p];
    } else {
        for (p = 0; p < kc; p++) {
            for (j = 0; j < nr; j++) bp[p * NR + j] = B[p * rs + j * cs];
            for (; j < NR; j++) bp[p * NR + j] = 0;
        }
    }
}

static void R(pack_b)(const real *B, int64_t rs, int64_t cs, int64_t kc, int nr, real *bp, int NR)
{
    if (NR == 16) R(pack_b_nr)(B, rs, cs, kc, nr, bp, 16);
    else if (NR == 8) R(pack_b_nr)(B, rs, cs, kc, nr, bp, 8);
    else if (NR == 4) R(pack_b_nr)(B, rs, cs, kc, nr, bp, 4);
    else R(pack_b_nr)(B, rs, cs, kc, nr, bp, NR);
}

/*** @@DRIVER ***/

#if PYNN_IS_F64
typedef pynn_ukr_d R(ukr_fn);
#else
typedef pynn_ukr_s R(ukr_fn);
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

/* One item: the H x W tile of C at (i0, j0), over all of K. */
static void R(gemm_item)(const pynn_gemm_blocks *bl, R(ukr_fn) ukr, int sup, int64_t i0, int64_t mh,
                         int64_t j0, int64_t nw, int64_t k, int64_t kc_blk, real alpha,
                         const real *A, int64_t rs_a, int64_t cs_a, const real *B, int64_t rs_b,
                         int64_t cs_b, real beta, real *C, int64_t ldc, const pynn_epilogue *epi,
                         real *b_pack, real *a_pack)
{
    const int MR = bl->mr, NR = bl->nr;
    const int64_t MC = mc_block(bl, mh), n_jr = (nw + NR - 1) / NR;
    int64_t pc, ic, jr, ir;
    /* 4th loop (pc): partition k by KC; pack this tile's B panel (KC x W) */
    for (pc = 0; pc < k; pc += kc_blk) {
        const int64_t kc = PYNN_MIN(kc_blk, k - pc);
        const real beta_use = pc == 0 ? beta : (real)1;   /* beta on the first panel only */
        const int last = pc + kc >= k;                     /* epilogue after the last */
        for (jr = 0; jr < n_jr; jr++)
            R(pack_b)(B + pc * rs_b + (j0 + jr * NR) * cs_b, rs_b, cs_b, kc,
                      (int)PYNN_MIN((int64_t)NR, nw - jr * NR), b_pack + jr * kc * NR, NR);
        /* 3rd loop (ic): partition the tile's rows by MC; pack the A block (MC x KC) */
        for (ic = i0; ic < i0 + mh; ic += MC) {
            const int64_t mc = PYNN_MIN(MC, i0 + mh - ic);
            const real *a_blk = A + ic * rs_a + pc * cs_a;
            int64_t mc_full = mc;
            if (!sup) {
                R(pack_a)(a_blk, rs_a, cs_a, mc, kc, a_pack, MR);
            } else {                                /* A read in place; ragged rows packed */
                mc_full = mc / MR * MR;
                if (mc_full < mc)
                    R(pack_a)(a_blk + mc_full * rs_a, rs_a, cs_a, mc - mc_full, kc, a_pack, MR);
            }
            /* 2nd loop (jr): NR-column micro-panels of the B panel */
            for (jr = 0; jr < n_jr; jr++) {
                const int nr = (int)PYNN_MIN((int64_t)NR, nw - jr * NR);
                const real *b_mp = b_pack + jr * kc * NR;
                const int64_t j = j0 + jr * NR;
                /* 1st loop (ir): MR-row micro-panels of the A block; the micro-kernel */
                for (ir = 0; ir < mc; ir += MR) {
                    const int mr = (int)PYNN_MIN((int64_t)MR, mc - ir);
                    real *c = C + (ic + ir) * ldc + j;
                    if (!sup)
                        ukr(kc, a_pack + ir * kc, 1, MR, b_mp, c, ldc, alpha, beta_use, mr, nr);
                    else if (ir < mc_full)
                        ukr(kc, a_blk + ir * rs_a, rs_a, cs_a, b_mp, c, ldc, alpha, beta_use, mr, nr);
                    else
                        ukr(kc, a_pack, 1, MR, b_mp, c, ldc, alpha, beta_use, mr, nr);
                    if (last) R(epilogue_tile)(epi, C, ldc, ic + ir, j, mr, nr);  /* while hot */
                }
            }
        }
    }
}

void R(pynn_gemm_team)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, real alpha,
                      const real *A, int64_t lda, const real *B, int64_t ldb, real beta,
                      real *C, int64_t ldc, const pynn_epilogue *epi, void *ws)
{
    const pynn_gemm_kernel *kern = pynn_gemm_kernel_get();
    const pynn_gemm_blocks *bl = PYNN_IS_F64 ? &kern->bd : &kern->bs;
#if PYNN_IS_F64
    const R(ukr_fn) ukr = kern->ukr_d;
#else
    const R(ukr_fn) ukr = kern->ukr_s;
#endif
    /* op(A)(i, p) = A[i * rs_a + p * cs_a], op(B)(p, j) = B[p * rs_b + j * cs_b] */
    const int64_t rs_a = trans_a ? 1 : lda, cs_a = trans_a ? lda : 1;
    const int64_t rs_b = trans_b ? 1 : ldb, cs_b = trans_b ? ldb : 1;
    int64_t kc_blk, H, W, n_rb, n_cb, items, it;
    int sup, nt;
    char *ws0, *mine;
    real *b_pack, *a_pack;
    size_t b_bytes, a_bytes;

    if (m == 0 || n == 0) return;
    if (k == 0 || alpha == 0) {                  /* nothing to multiply: C = beta C */
        PYNN_PRAGMA(omp single)
        R(scale_c)(m, n, beta, C, ldc, epi);
        return;
    }
    /* Block sizes and the path depend on (m, n, k, kernel) only, never on the team. */
    kc_blk = kc_block(bl, k);
    /* Small-problem path: few columns, so packing A would not be repaid by
     * reuse across column micro-panels; the kernel reads A in place. The
     * limits were measured per kernel and dtype (config.c). */
    sup = trans_a ? n <= bl->sup_nt : n <= bl->sup_n;

    ws_layout(bl, sizeof(real), m, n, k, &b_bytes, &a_bytes);  /* fits in any larger ws */
    ws0 = (char *)align_ws(ws);
    /* threads worth using on this product (the rest of the team waits at the end) */
    nt = gemm_threads(PYNN_OMP_NUM_THREADS(), 2.0 * (double)m * (double)n * (double)k);
    item_grid(bl, m, n, nt, sup, &H, &W);             /* the grid never changes any result */
    n_rb = (m + H - 1) / H;
    n_cb = (n + W - 1) / W;
    items = n_rb * n_cb;
    mine = ws0 + (size_t)PYNN_OMP_THREAD_NUM() * (b_bytes + a_bytes);
    b_pack = (real *)mine;
    a_pack = (real *)(mine + b_bytes);
    /* 5th loop (jc) and the tiles' rows, handed out dynamically; one chunk of
     * every item when the product is too small to split */
    PYNN_PRAGMA(omp for schedule(dynamic, nt == 1 ? items : 1))
    for (it = 0; it < items; it++) {
        const int64_t i0 = (it % n_rb) * H, j0 = (it / n_rb) * W;
        R(gemm_item)(bl, ukr, sup, i0, PYNN_MIN(H, m - i0), j0, PYNN_MIN(W, n - j0), k, kc_blk,
                     alpha, A, rs_a, cs_a, B, rs_b, cs_b, beta, C, ldc, epi, b_pack, a_pack);
    }
    /* (implicit barrier: C is complete for every thread of the team) */
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
    /* one thread opens no team at all: cheapest for small products */
    PYNN_PRAGMA(omp parallel num_threads(nt) if(nt > 1))
    R(pynn_gemm_team)(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, epi, ws);
    return PYNN_OK;
}

#undef ALWAYS_INLINE
