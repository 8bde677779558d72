/* SPDX-License-Identifier: MIT
 * nn/layer.inc.c: templated body of nn/layer.c. Team functions (threads.h). */
#include "abs_bits.h"
#include "act.h"

/* Z = softmax(Z) row by row, stable: exp(z - max z) / sum. */
static void R(softmax_rows)(int64_t batch, int64_t n, real *Z)
{
    int64_t i, chunk = pynn_chunk(batch, 20.0 * (double)n);
    PYNN_TEAM_FOR(i, batch, chunk) {
        real *z = Z + i * n, m = z[0], s = 0;
        int64_t j;
        for (j = 1; j < n; j++) m = z[j] > m ? z[j] : m;
        for (j = 0; j < n; j++) { z[j] = R(act_exp)(z[j] - m); s += z[j]; }
        for (j = 0; j < n; j++) z[j] /= s;
    }
    PYNN_BARRIER();
}

void R(nn_dense_forward)(int64_t batch, int64_t n_in, int64_t n_out, const real *X, const real *W,
                         const real *b, int act, real slope, real *A, void *gemm_ws)
{
    pynn_epilogue epi = {PYNN_EPI_BIAS_ACT, act == PYNN_ACT_SOFTMAX ? PYNN_ACT_IDENTITY : act,
                         (double)slope, b, NULL, 0};
    /* A = f(X W + b): bias and activation fused into the product's epilogue */
    R(pynn_gemm_team)(0, 0, batch, n_out, n_in, 1, X, n_in, W, n_out, 0, A, n_out, &epi, gemm_ws);
    if (act == PYNN_ACT_SOFTMAX) R(softmax_rows)(batch, n_out, A);
}

PYNN_CLONES void R(nn_act_backward)(int64_t batch, int64_t n, int act, real slope, const real *A,
                                    real *dZ)
{
    int64_t i, chunk = pynn_chunk(batch, 4.0 * (double)n);
    if (act == PYNN_ACT_IDENTITY) return;
    PYNN_TEAM_FOR(i, batch, chunk) R(act_backward_row)(act, slope, A + i * n, dZ + i * n, n);
    PYNN_BARRIER();
}

PYNN_CLONES void R(nn_column_sums_nowait)(int64_t batch, int64_t n, const real *dZ, real *db,
                                          double *max_dz, double *max_db)
{
    enum { WIDTH = 64 };
    int64_t n_blocks = (n + WIDTH - 1) / WIDTH, c, chunk = pynn_chunk(n_blocks, (double)batch * WIDTH);
    PYNN_TEAM_FOR(c, n_blocks, chunk) {
        int64_t j0 = c * WIDTH, w = PYNN_MIN((int64_t)WIDTH, n - j0), i, j;
        double acc[WIDTH] = {0};
        R(abs_bits_t) top[WIDTH] = {0};
        for (i = 0; i < batch; i++) {
            const real *dz = dZ + i * n + j0;
            for (j = 0; j < w; j++) {
                R(abs_bits_t) b = R(abs_bits)(dz[j]);
                acc[j] += dz[j];
                top[j] = b > top[j] ? b : top[j];                /* max |dZ_ij|, abs_bits.h */
            }
        }
        for (j = 0; j < w; j++) db[j0 + j] = (real)acc[j];
        for (j = 1; j < w; j++) top[0] = top[j] > top[0] ? top[j] : top[0];
        if (max_dz) R(abs_bits_merge)(top[0], max_dz);
        if (max_db) R(abs_bits_merge)(R(abs_bits_max)(db + j0, w), max_db);
    }
}

void R(nn_dense_backward)(int64_t batch, int64_t n_in, int64_t n_out, const real *X, const real *W,
                          const real *dZ, real *dW, real *db, real *dX, const real *A_prev,
                          int act_prev, real slope, void *gemm_ws)
{
    const pynn_epilogue epi = {PYNN_EPI_MUL_DACT, act_prev, (double)slope, NULL, A_prev, n_in};
    const pynn_gemm_op ops[2] = {
        /* dW = X^T dZ: (n_in x batch)(batch x n_out) */
        {1, 0, n_in, n_out, batch, 1, 0, X, n_in, dZ, n_out, dW, n_out, NULL},
        /* dX = dZ W^T, times f'(A_prev) in the epilogue: the previous layer's dZ */
        {0, 1, batch, n_in, n_out, 1, 0, dZ, n_out, W, n_out, dX, n_in, A_prev ? &epi : NULL},
    };
    R(nn_column_sums_nowait)(batch, n_out, dZ, db, NULL, NULL);                      /* db = 1^T dZ */
    R(pynn_gemm_team_many)(ops, dX ? 2 : 1, gemm_ws);   /* one schedule for both; its barrier */
}
