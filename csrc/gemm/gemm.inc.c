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

int R(pynn_gemm_ws)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, real alpha,
                    const real *A, int64_t lda, const real *B, int64_t ldb, real beta,
                    real *C, int64_t ldc, const pynn_epilogue *epi, void *ws, int n_threads)
{
    const pynn_gemm_kernel *kern = pynn_gemm_kernel_get();
    const pynn_gemm_blocks *bl = PYNN_IS_F64 ? &kern->bd : &kern->bs;
#if PYNN_IS_F64
    const pynn_ukr_d ukr = kern->ukr_d;
#else
    const pynn_ukr_s ukr = kern->ukr_s;
#endif
    const int MR = bl->mr, NR = bl->nr;
    const int64_t MC = bl->mc, NC = bl->nc;
    /* op(A)(i, p) = A[i * rs_a + p * cs_a], op(B)(p, j) = B[p * rs_b + j * cs_b] */
    const int64_t rs_a = trans_a ? 1 : lda, cs_a = trans_a ? lda : 1;
    const int64_t rs_b = trans_b ? 1 : ldb, cs_b = trans_b ? ldb : 1;
    int64_t n_pc, kc_blk, n_ic, max_items;
    int sup, nt;
    real *b_pack, *a_pack0;
    size_t a_stride;

    if (m < 0 || n < 0 || k < 0 || n_threads < 1) return PYNN_ERR_ARG;
    if (m == 0 || n == 0) return PYNN_OK;
    if (k == 0 || alpha == 0) {                  /* nothing to multiply: C = beta C */
        R(scale_c)(m, n, beta, C, ldc, epi);
        return PYNN_OK;
    }
    if (!ws) return PYNN_ERR_ARG;

    /* Block sizes depend on (m, n, k, kernel) only, never on n_threads. KC is
     * balanced so the last panel is not a sliver (k = KC + 1 gives two halves). */
    n_pc = (k + bl->kc - 1) / bl->kc;
    kc_blk = ROUND_UP((k + n_pc - 1) / n_pc, 8);
    if (kc_blk > bl->kc) kc_blk = bl->kc;
    /* Small-problem path: few columns, so packing A would not be repaid by
     * reuse across column micro-panels; the kernel reads A in place. */
    sup = n <= bl->sup_n;

    b_pack = (real *)align_ws(ws);
    a_pack0 = (real *)((char *)b_pack + b_panel_bytes(bl, sizeof(real)));
    a_stride = a_block_bytes(bl, sizeof(real)) / sizeof(real);

    n_ic = (m + MC - 1) / MC;
    max_items = n_ic * ((PYNN_MIN(n, NC) + NR - 1) / NR);
    nt = gemm_threads(n_threads, 2.0 * (double)m * (double)n * (double)k, max_items);

    PYNN_PRAGMA(omp parallel num_threads(nt) if(nt > 1))
    {
        const int tid = PYNN_OMP_THREAD_NUM(), team = PYNN_OMP_NUM_THREADS();
        real *a_pack = a_pack0 + (size_t)tid * a_stride;
        int64_t jc, pc;
        /* 5th loop (jc): partition n by NC */
        for (jc = 0; jc < n; jc += NC) {
            const int64_t nc = PYNN_MIN(NC, n - jc);
            const int64_t n_jr = (nc + NR - 1) / NR;
            /* threads share out (ic block, run of jr panels) items; a run is at
             * least 4 panels, and runs split only when ic blocks are too few to
             * keep the team busy. Results do not depend on this split. */
            int64_t jchunks = 1, items, jr;
            while (team > 1 && n_ic * jchunks < 4 * team && n_jr / (jchunks * 2) >= 4) jchunks *= 2;
            items = n_ic * jchunks;
            /* 4th loop (pc): partition k by KC; pack the B panel (KC x NC), shared */
            for (pc = 0; pc < k; pc += kc_blk) {
                const int64_t kc = PYNN_MIN(kc_blk, k - pc);
                const real beta_use = pc == 0 ? beta : (real)1;   /* beta on the first panel only */
                const int last = pc + kc >= k;                     /* epilogue after the last */
                int64_t it, my_ic = -1;
                PYNN_PRAGMA(omp for schedule(static))
                for (jr = 0; jr < n_jr; jr++)
                    R(pack_b)(B + pc * rs_b + (jc + jr * NR) * cs_b, rs_b, cs_b, kc,
                              (int)PYNN_MIN((int64_t)NR, nc - jr * NR), b_pack + jr * kc * NR, NR);
                /* (implicit barrier: the B panel is complete) */
                PYNN_PRAGMA(omp for schedule(dynamic, 1))
                for (it = 0; it < items; it++) {
                    /* 3rd loop (ic): partition m by MC; pack the A block (MC x KC) */
                    const int64_t ic = (it / jchunks) * MC, ch = it % jchunks;
                    const int64_t mc = PYNN_MIN(MC, m - ic);
                    const int64_t jr0 = ch * n_jr / jchunks, jr1 = (ch + 1) * n_jr / jchunks;
                    const real *a_blk = A + ic * rs_a + pc * cs_a;
                    int64_t ir, mc_full = mc;
                    if (!sup) {
                        if (my_ic != ic) R(pack_a)(a_blk, rs_a, cs_a, mc, kc, a_pack, MR);
                        my_ic = ic;
                    } else {
                        mc_full = mc / MR * MR;            /* ragged rows still get packed */
                        if (mc_full < mc)
                            R(pack_a)(a_blk + mc_full * rs_a, rs_a, cs_a, mc - mc_full, kc,
                                      a_pack, MR);
                    }
                    /* 2nd loop (jr): NR-column micro-panels of the B panel */
                    for (jr = jr0; jr < jr1; jr++) {
                        const int nr = (int)PYNN_MIN((int64_t)NR, nc - jr * NR);
                        const real *b_mp = b_pack + jr * kc * NR;
                        const int64_t j0 = jc + jr * NR;
                        /* 1st loop (ir): MR-row micro-panels of the A block */
                        for (ir = 0; ir < mc; ir += MR) {
                            const int mr = (int)PYNN_MIN((int64_t)MR, mc - ir);
                            real *c = C + (ic + ir) * ldc + j0;
                            if (!sup)
                                ukr(kc, a_pack + ir * kc, 1, MR, b_mp, c, ldc, alpha, beta_use, mr, nr);
                            else if (ir < mc_full)
                                ukr(kc, a_blk + ir * rs_a, rs_a, cs_a, b_mp, c, ldc, alpha,
                                    beta_use, mr, nr);
                            else
                                ukr(kc, a_pack, 1, MR, b_mp, c, ldc, alpha, beta_use, mr, nr);
                            if (last) R(epilogue_tile)(epi, C, ldc, ic + ir, j0, mr, nr);
                        }
                    }
                }
                /* (implicit barrier: nobody still reads the B panel) */
            }
        }
    }
    return PYNN_OK;
}

#undef ALWAYS_INLINE
