/* SPDX-License-Identifier: MIT
 * gemm/gemm_naive.inc.c: templated body of the placeholder GEMM. */
#include "../nn/act.h"

int R(pynn_gemm_ws)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, real alpha,
                    const real *A, int64_t lda, const real *B, int64_t ldb, real beta,
                    real *C, int64_t ldc, const pynn_epilogue *epi, void *ws, int n_threads)
{
    int64_t i;
    int nt = pynn_threads_for(n_threads, 2.0 * (double)m * (double)n * (double)k);
    (void)ws;
    PYNN_PRAGMA(omp parallel for schedule(dynamic, 4) num_threads(nt) if(nt > 1))
    for (i = 0; i < m; i++) {
        int64_t j, p;
        real *c = C + i * ldc;
        for (j = 0; j < n; j++) c[j] = beta == 0 ? (real)0 : beta * c[j];
        for (p = 0; p < k; p++) {
            real a = alpha * (trans_a ? A[p * lda + i] : A[i * lda + p]);
            if (!trans_b) {
                const real *b = B + p * ldb;
                for (j = 0; j < n; j++) c[j] += a * b[j];
            } else {
                for (j = 0; j < n; j++) c[j] += a * B[j * ldb + p];
            }
        }
        R(epilogue_tile)(epi, C, ldc, i, 0, 1, n);
    }
    return PYNN_OK;
}
