/* SPDX-License-Identifier: MIT
 * gemm/ukr_generic.inc.c: templated body of the portable micro-kernel: an
 * MR x NR accumulator on the stack, k rank-1 updates with compile-time MR/NR
 * (so the compiler unrolls and vectorizes the j loop), then the store and the
 * tile's epilogue (act.h, the same functions as the driver's). */
#include "../nn/act.h"
#define GMR 4
#define GNR (PYNN_IS_F64 ? 4 : 8)

void R(pynn_gemm_ukr_generic)(int64_t k, const real *a, int64_t rs_a, int64_t cs_a,
                              const real *b, int64_t rs_b, real *c, int64_t ldc, real alpha,
                              real beta, int mr, int nr, const pynn_epilogue *epi)
{
    real ab[GMR][GNR] __attribute__((aligned(64)));
    int64_t p;
    int i, j;
    for (i = 0; i < GMR; i++)
        for (j = 0; j < GNR; j++) ab[i][j] = 0;
    for (p = 0; p < k; p++) {                    /* ab += a(:, p) b(p, :) */
        const real *bp = b + p * rs_b;
        for (i = 0; i < GMR; i++) {
            real ai = a[i * rs_a + p * cs_a];
            for (j = 0; j < GNR; j++) ab[i][j] += ai * bp[j];
        }
    }
    for (i = 0; i < mr; i++) {                   /* C = alpha ab + beta C; beta == 0 overwrites */
        real *ci = c + i * ldc;
        if (beta == 0)
            for (j = 0; j < nr; j++) ci[j] = alpha * ab[i][j];
        else
            for (j = 0; j < nr; j++) ci[j] = alpha * ab[i][j] + beta * ci[j];
    }
    R(epilogue_tile)(epi, c, ldc, 0, 0, mr, nr);   /* bias / deriv_of point at the tile */
}

#undef GMR
#undef GNR
