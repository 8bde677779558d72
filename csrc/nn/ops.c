/* SPDX-License-Identifier: MIT
 * nn/ops.c: the public single-step ops (pynn_dense_forward, pynn_dense_backward,
 * pynn_mse, pynn_softmax_cross_entropy): validate, allocate scratch, dispatch on
 * dtype to the same templated code the network runs. */
#include <string.h>
#include "nn.h"
#include "../gemm/gemm.h"
#include "../threads.h"

/* Scratch of `n` elements plus the GEMM workspace, in one allocation. */
typedef struct {
    void *buf;
    void *elems;
    void *gemm_ws;
} scratch;

static int scratch_alloc(scratch *s, int dtype, int64_t n, int n_threads)
{
    int64_t bytes;
    size_t gemm = pynn_gemm_ws_bytes(dtype, n_threads);
    PYNN_CHECK(pynn_bytes(dtype, PYNN_MAX(n, (int64_t)1), &bytes));
    PYNN_CHECK(pynn_add_i64(bytes, (int64_t)gemm, &bytes));
    s->buf = pynn_alloc((size_t)bytes);
    if (!s->buf) return PYNN_ERR_NOMEM;
    s->elems = s->buf;
    s->gemm_ws = (char *)s->buf + (bytes - (int64_t)gemm);
    return PYNN_OK;
}

static int check_common(int dtype, int64_t batch, int64_t n, int n_threads)
{
    int64_t total;
    if (dtype != PYNN_F32 && dtype != PYNN_F64) return PYNN_ERR_ARG;
    if (n_threads < 1) return PYNN_ERR_ARG;
    if (batch < 0 || n < 1) return PYNN_ERR_SHAPE;
    return pynn_mul_i64(batch, n, &total);
}

static int valid_elementwise_act(int act) { return act >= PYNN_ACT_IDENTITY && act <= PYNN_ACT_SOFTMAX; }

int pynn_dense_forward(int dtype, int64_t batch, int64_t n_in, int64_t n_out, const void *X,
                       const void *W, const void *b, int act, double slope, void *A, int n_threads)
{
    scratch s;
    int nt;
    PYNN_CHECK(check_common(dtype, batch, n_out, n_threads));
    PYNN_CHECK(check_common(dtype, n_in, n_out, n_threads));
    if (!valid_elementwise_act(act) || !(slope >= 0)) return PYNN_ERR_ARG;
    if (batch == 0) return PYNN_OK;
    if (!X || !W || !A) return PYNN_ERR_ARG;
    PYNN_CHECK(scratch_alloc(&s, dtype, 0, n_threads));
    nt = pynn_threads_for(n_threads, 2.0 * (double)batch * (double)n_in * (double)n_out);
    PYNN_TEAM(nt, {
        if (dtype == PYNN_F32) nn_dense_forward_s(batch, n_in, n_out, X, W, b, act, (float)slope, A, s.gemm_ws);
        else nn_dense_forward_d(batch, n_in, n_out, X, W, b, act, slope, A, s.gemm_ws);
    });
    pynn_free(s.buf);
    return PYNN_OK;
}

int pynn_dense_backward(int dtype, int64_t batch, int64_t n_in, int64_t n_out, const void *X,
                        const void *W, const void *A, const void *dA, int act, double slope,
                        void *dX, void *dW, void *db, int n_threads)
{
    scratch s;
    int nt;
    PYNN_CHECK(check_common(dtype, batch, n_out, n_threads));
    PYNN_CHECK(check_common(dtype, n_in, n_out, n_threads));
    if (!valid_elementwise_act(act) || !(slope >= 0)) return PYNN_ERR_ARG;
    if (!W || !dW || !db || (batch > 0 && (!X || !A || !dA))) return PYNN_ERR_ARG;
    PYNN_CHECK(scratch_alloc(&s, dtype, batch * n_out, n_threads));
    memcpy(s.elems, dA, (size_t)(batch * n_out) * pynn_dtype_size(dtype));   /* dZ starts as dA */
    nt = pynn_threads_for(n_threads, 4.0 * (double)batch * (double)n_in * (double)n_out);
    PYNN_TEAM(nt, {
        if (dtype == PYNN_F32) {
            nn_act_backward_s(batch, n_out, act, (float)slope, A, s.elems);
            nn_dense_backward_s(batch, n_in, n_out, X, W, s.elems, dW, db, dX, NULL, 0, 0, s.gemm_ws);
        } else {
            nn_act_backward_d(batch, n_out, act, slope, A, s.elems);
            nn_dense_backward_d(batch, n_in, n_out, X, W, s.elems, dW, db, dX, NULL, 0, 0, s.gemm_ws);
        }
    });
    pynn_free(s.buf);
    return PYNN_OK;
}

int pynn_mse(int dtype, int64_t batch, int64_t n, const void *Y, const void *T, double *loss,
             void *dY, int n_threads)
{
    double *row_loss;
    int nt;
    PYNN_CHECK(check_common(dtype, batch, n, n_threads));
    if (batch < 1) return PYNN_ERR_SHAPE;
    if (!Y || !T || !loss) return PYNN_ERR_ARG;
    row_loss = pynn_alloc((size_t)batch * sizeof *row_loss);
    if (!row_loss) return PYNN_ERR_NOMEM;
    nt = pynn_threads_for(n_threads, 4.0 * (double)batch * (double)n);
    PYNN_TEAM(nt, {
        if (dtype == PYNN_F32) nn_mse_s(batch, n, Y, T, row_loss, loss, dY, PYNN_ACT_IDENTITY, 0);
        else nn_mse_d(batch, n, Y, T, row_loss, loss, dY, PYNN_ACT_IDENTITY, 0);
    });
    pynn_free(row_loss);
    return PYNN_OK;
}

int pynn_softmax_cross_entropy(int dtype, int64_t batch, int64_t n, const void *Z, const void *T,
                               const int64_t *labels, double *loss, void *dZ, int n_threads)
{
    double *row_loss;
    int nt;
    PYNN_CHECK(check_common(dtype, batch, n, n_threads));
    if (batch < 1) return PYNN_ERR_SHAPE;
    if (!Z || !loss || (!T && !labels)) return PYNN_ERR_ARG;
    if (!T)
        for (int64_t i = 0; i < batch; i++)
            if (labels[i] < 0 || labels[i] >= n) return PYNN_ERR_ARG;
    row_loss = pynn_alloc((size_t)batch * sizeof *row_loss);
    if (!row_loss) return PYNN_ERR_NOMEM;
    nt = pynn_threads_for(n_threads, 20.0 * (double)batch * (double)n);
    PYNN_TEAM(nt, {
        if (dtype == PYNN_F32) nn_softmax_ce_s(batch, n, Z, T, labels, row_loss, loss, dZ);
        else nn_softmax_ce_d(batch, n, Z, T, labels, row_loss, loss, dZ);
    });
    pynn_free(row_loss);
    return PYNN_OK;
}
