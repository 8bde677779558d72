/* SPDX-License-Identifier: MIT
 * nn/layer.inc.c: templated body of nn/layer.c. */
#include "act.h"

/* Z = softmax(Z) row by row, stable: exp(z - max z) / sum. */
static void R(softmax_rows)(int64_t batch, int64_t n, real *Z, int n_threads)
{
    int64_t i;
    int nt = pynn_threads_for(n_threads, 20.0 * (double)batch * (double)n);
    PYNN_PRAGMA(omp parallel for schedule(static) num_threads(nt) if(nt > 1))
    for (i = 0; i < batch; i++) {
        real *z = Z + i * n, m = z[0], s = 0;
        int64_t j;
        for (j = 1; j < n; j++) m = z[j] > m ? z[j] : m;
        for (j = 0; j < n; j++) { z[j] = R(act_exp)(z[j] - m); s += z[j]; }
        for (j = 0; j < n; j++) z[j] /= s;
    }
}

int R(nn_dense_forward)(int64_t batch, int64_t n_in, int64_t n_out, const real *X, const real *W,
                        const real *b, int act, real slope, real *A, void *gemm_ws, int n_threads)
{
    pynn_epilogue epi = {PYNN_EPI_BIAS_ACT, act == PYNN_ACT_SOFTMAX ? PYNN_ACT_IDENTITY : act,
                         (double)slope, b, NULL, 0};
    /* A = f(X W + b): bias and activation fused into the product's epilogue */
    PYNN_CHECK(R(pynn_gemm_ws)(0, 0, batch, n_out, n_in, 1, X, n_in, W, n_out, 0, A, n_out, &epi,
                               gemm_ws, n_threads));
    if (act == PYNN_ACT_SOFTMAX) R(softmax_rows)(batch, n_out, A, n_threads);
    return PYNN_OK;
}

void R(nn_act_backward)(int64_t batch, int64_t n, int act, real slope, const real *A, real *dZ,
                        int n_threads)
{
    int64_t i;
    int nt;
    if (act == PYNN_ACT_IDENTITY) return;
    nt = pynn_threads_for(n_threads, 4.0 * (double)batch * (double)n);
    PYNN_PRAGMA(omp parallel for schedule(static) num_threads(nt) if(nt > 1))
    for (i = 0; i < batch; i++) {
        const real *a = A + i * n;
        real *dz = dZ + i * n;
        if (act == PYNN_ACT_SOFTMAX) {
            real dot = 0;                                         /* s = sum_k dA_k A_k */
            int64_t j;
            for (j = 0; j < n; j++) dot += dz[j] * a[j];
            for (j = 0; j < n; j++) dz[j] = a[j] * (dz[j] - dot); /* dZ_j = A_j (dA_j - s) */
        } else {
            R(act_mul_deriv)(act, slope, a, dz, n);
        }
    }
}

/* db_j = sum_i dZ_ij, each column summed by one thread in row order. */
static void R(column_sums)(int64_t batch, int64_t n, const real *dZ, real *db, int n_threads)
{
    enum { CHUNK = 64 };
    int64_t n_chunks = (n + CHUNK - 1) / CHUNK, c;
    int nt = pynn_threads_for(n_threads, (double)batch * (double)n);
    PYNN_PRAGMA(omp parallel for schedule(static) num_threads(nt) if(nt > 1))
    for (c = 0; c < n_chunks; c++) {
        int64_t j0 = c * CHUNK, w = PYNN_MIN((int64_t)CHUNK, n - j0), i, j;
        double acc[CHUNK] = {0};
        for (i = 0; i < batch; i++) {
            const real *dz = dZ + i * n + j0;
            for (j = 0; j < w; j++) acc[j] += dz[j];
        }
        for (j = 0; j < w; j++) db[j0 + j] = (real)acc[j];
    }
}

int R(nn_dense_backward)(int64_t batch, int64_t n_in, int64_t n_out, const real *X, const real *W,
                         const real *dZ, real *dW, real *db, real *dX, const real *A_prev,
                         int act_prev, real slope, void *gemm_ws, int n_threads)
{
    /* dW = X^T dZ: (n_in x batch)(batch x n_out) */
    PYNN_CHECK(R(pynn_gemm_ws)(1, 0, n_in, n_out, batch, 1, X, n_in, dZ, n_out, 0, dW, n_out,
                               NULL, gemm_ws, n_threads));
    R(column_sums)(batch, n_out, dZ, db, n_threads);                    /* db = 1^T dZ */
    if (dX) {
        pynn_epilogue epi = {PYNN_EPI_MUL_DACT, act_prev, (double)slope, NULL, A_prev, n_in};
        /* dX = dZ W^T, times f'(A_prev) in the epilogue: the previous layer's dZ */
        PYNN_CHECK(R(pynn_gemm_ws)(0, 1, batch, n_in, n_out, 1, dZ, n_out, W, n_out, 0, dX, n_in,
                                   A_prev ? &epi : NULL, gemm_ws, n_threads));
    }
    return PYNN_OK;
}
