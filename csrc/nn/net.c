/* SPDX-License-Identifier: MIT
 * nn/net.c: the network handle: creation and validation, the flat parameter
 * buffer and one layer's gradient scratch, the workspace (grown only when a
 * larger batch or more threads arrive), and the dtype dispatch of the public
 * pynn_net_* calls. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "net.h"
#include "../gemm/gemm.h"
#include "../rng.h"
#include "../threads.h"

#define PYNN_TEMPLATE "nn/net.inc.c"
#include "../template.h"

static int valid_act(int32_t a) { return a >= PYNN_ACT_IDENTITY && a <= PYNN_ACT_SOFTMAX; }

void pynn_net_destroy(pynn_net *net)
{
    if (!net) return;
    free(net->sizes);
    free(net->acts);
    free(net->segs);
    free(net->a_off);
    free(net->dz_off);
    pynn_free(net->params);
    pynn_free(net->layer_grad);
    pynn_free(net->ws);
    free(net);
}

int pynn_net_create(pynn_net **out, int dtype, int64_t n_layers, const int64_t *sizes,
                    const int32_t *acts, double slope, int loss)
{
    pynn_net *net;
    int64_t l, n_params = 0, bytes, max_w = 0, max_w_bytes;
    if (!out || !sizes || !acts) return PYNN_ERR_ARG;
    *out = NULL;
    if (dtype != PYNN_F32 && dtype != PYNN_F64) return PYNN_ERR_ARG;
    if (loss != PYNN_LOSS_MSE && loss != PYNN_LOSS_CROSS_ENTROPY) return PYNN_ERR_ARG;
    if (!(slope >= 0 && slope < 1e30)) return PYNN_ERR_ARG;
    if (n_layers < 1 || n_layers > (1 << 20)) return PYNN_ERR_SHAPE;
    for (l = 0; l <= n_layers; l++)
        if (sizes[l] < 1) return PYNN_ERR_SHAPE;
    for (l = 0; l < n_layers; l++) {
        int64_t w;
        if (!valid_act(acts[l])) return PYNN_ERR_ARG;
        if (acts[l] == PYNN_ACT_SOFTMAX && l != n_layers - 1) return PYNN_ERR_ARG;
        PYNN_CHECK(pynn_mul_i64(sizes[l], sizes[l + 1], &w));          /* W: n_in x n_out */
        max_w = PYNN_MAX(max_w, w);
        PYNN_CHECK(pynn_add_i64(n_params, w, &n_params));
        PYNN_CHECK(pynn_add_i64(n_params, sizes[l + 1], &n_params));   /* b: n_out */
    }
    if (loss == PYNN_LOSS_CROSS_ENTROPY && acts[n_layers - 1] != PYNN_ACT_SOFTMAX) return PYNN_ERR_ARG;
    PYNN_CHECK(pynn_bytes(dtype, n_params, &bytes));
    PYNN_CHECK(pynn_bytes(dtype, max_w, &max_w_bytes));

    net = calloc(1, sizeof *net);
    if (!net) return PYNN_ERR_NOMEM;
    net->dtype = dtype;
    net->loss = loss;
    net->n_layers = n_layers;
    net->slope = slope;
    net->n_params = n_params;
    net->sizes = malloc((size_t)(n_layers + 1) * sizeof *net->sizes);
    net->acts = malloc((size_t)n_layers * sizeof *net->acts);
    net->segs = malloc((size_t)(2 * n_layers) * sizeof *net->segs);
    net->a_off = calloc((size_t)n_layers, sizeof *net->a_off);
    net->dz_off = calloc((size_t)n_layers, sizeof *net->dz_off);
    net->params = pynn_alloc((size_t)bytes);
    /* untouched (so not resident) until an optimizer with state or the exact
     * finiteness check of a huge gradient needs it */
    net->layer_grad = pynn_alloc((size_t)max_w_bytes);
    if (!net->sizes || !net->acts || !net->segs || !net->a_off || !net->dz_off || !net->params ||
        !net->layer_grad) {
        pynn_net_destroy(net);
        return PYNN_ERR_NOMEM;
    }
    memcpy(net->sizes, sizes, (size_t)(n_layers + 1) * sizeof *sizes);
    memcpy(net->acts, acts, (size_t)n_layers * sizeof *acts);
    memset(net->params, 0, (size_t)bytes);
    n_params = 0;
    net->n_biases = 0;
    for (l = 0; l < n_layers; l++) {
        pynn_segment w = {n_params, sizes[l] * sizes[l + 1], 1};
        pynn_segment b = {n_params + w.len, sizes[l + 1], 0};
        net->segs[2 * l] = w;
        net->segs[2 * l + 1] = b;
        n_params = b.offset + b.len;
        net->n_biases += b.len;
    }
    pynn_tuner_init(&net->tuner);
    atomic_init(&net->busy, 0);
    *out = net;
    return PYNN_OK;
}

int64_t pynn_net_n_params(const pynn_net *net) { return net->n_params; }
void *pynn_net_params(pynn_net *net) { return net->params; }
int64_t pynn_net_workspace_batch(const pynn_net *net) { return net->ws_batch; }
int64_t pynn_net_workspace_allocations(const pynn_net *net) { return net->ws_allocs; }
void pynn_net_set_adaptive_threads(pynn_net *net, int on) { net->tuner.adaptive = on != 0; }
int pynn_net_last_threads(const pynn_net *net) { return net->tuner.last; }

int64_t pynn_net_weight_offset(const pynn_net *net, int64_t layer)
{
    return layer >= 0 && layer < net->n_layers ? net->segs[2 * layer].offset : -1;
}

int64_t pynn_net_bias_offset(const pynn_net *net, int64_t layer)
{
    return layer >= 0 && layer < net->n_layers ? net->segs[2 * layer + 1].offset : -1;
}

void pynn_net_init(pynn_net *net, uint64_t seed)
{
    if (net->dtype == PYNN_F32) net_init_s(net, seed);
    else net_init_d(net, seed);
}

/* Byte layout of a workspace for `batch` rows and n_threads GEMM threads. */
static int layout(pynn_net *net, int64_t batch, int n_threads, int64_t *total)
{
    int64_t off = 0, b, l;
    for (l = 0; l < net->n_layers; l++) {
        net->a_off[l] = off;
        PYNN_CHECK(pynn_mul_i64(batch, net->sizes[l + 1], &b));
        PYNN_CHECK(pynn_bytes(net->dtype, b, &b));
        PYNN_CHECK(pynn_add_i64(off, b, &off));
    }
    for (l = 0; l < net->n_layers; l++) {
        net->dz_off[l] = off;
        PYNN_CHECK(pynn_mul_i64(batch, net->sizes[l + 1], &b));
        PYNN_CHECK(pynn_bytes(net->dtype, b, &b));
        PYNN_CHECK(pynn_add_i64(off, b, &off));
    }
    net->db_off = off;
    PYNN_CHECK(pynn_bytes(net->dtype, net->n_biases, &b));
    PYNN_CHECK(pynn_add_i64(off, b, &off));
    net->bound_off = off;                                       /* one row per thread */
    PYNN_CHECK(pynn_mul_i64(2 * net->n_layers + 1, n_threads, &b));
    PYNN_CHECK(pynn_bytes(PYNN_F64, b, &b));
    PYNN_CHECK(pynn_add_i64(off, b, &off));
    net->row_off = off;
    PYNN_CHECK(pynn_bytes(PYNN_F64, batch, &b));               /* doubles and int64: 8 bytes */
    PYNN_CHECK(pynn_add_i64(off, b, &off));
    net->lg_off = off;
    PYNN_CHECK(pynn_add_i64(off, b, &off));
    net->xg_off = off;
    PYNN_CHECK(pynn_mul_i64(batch, net->sizes[0], &b));
    PYNN_CHECK(pynn_bytes(net->dtype, b, &b));
    PYNN_CHECK(pynn_add_i64(off, b, &off));
    net->tg_off = off;
    PYNN_CHECK(pynn_mul_i64(batch, net->sizes[net->n_layers], &b));
    PYNN_CHECK(pynn_bytes(net->dtype, b, &b));
    PYNN_CHECK(pynn_add_i64(off, b, &off));
    net->gemm_off = off;
    PYNN_CHECK(pynn_add_i64(off, (int64_t)pynn_gemm_ws_bytes(net->dtype, n_threads), &off));
    *total = off;
    return PYNN_OK;
}

int pynn_net_reserve(pynn_net *net, int64_t batch, int n_threads)
{
    int64_t total;
    void *ws;
    int st;
    if (batch < 1 || n_threads < 1) return batch < 1 ? PYNN_ERR_SHAPE : PYNN_ERR_ARG;
    if (net->ws && batch <= net->ws_batch && n_threads <= net->ws_threads) return PYNN_OK;
    batch = PYNN_MAX(batch, net->ws_batch);
    n_threads = PYNN_MAX(n_threads, net->ws_threads);
    st = layout(net, batch, n_threads, &total);
    if (st == PYNN_OK && (uint64_t)total > (uint64_t)SIZE_MAX) st = PYNN_ERR_OVERFLOW;
    ws = st == PYNN_OK ? pynn_alloc((size_t)total) : NULL;
    if (!ws) {
        if (st == PYNN_OK) st = PYNN_ERR_NOMEM;
        if (net->ws) layout(net, net->ws_batch, net->ws_threads, &total); /* restore the old layout */
        return st;
    }
    pynn_free(net->ws);
    net->ws = ws;
    net->ws_batch = batch;
    net->ws_threads = n_threads;
    net->ws_allocs++;
    return PYNN_OK;
}

/* Claims the network for one call, or PYNN_ERR_BUSY. */
static int acquire(pynn_net *net)
{
    int expected = 0;
    return atomic_compare_exchange_strong(&net->busy, &expected, 1) ? PYNN_OK : PYNN_ERR_BUSY;
}
static void release(pynn_net *net) { atomic_store(&net->busy, 0); }

/* Validates the inputs every batch call shares (labels[0, n_labels) in range),
 * then claims the net and sizes the workspace for `batch` rows. */
static int begin(pynn_net *net, int64_t batch, const void *X, const void *T, const int64_t *labels,
                 int need_targets, int64_t n_labels, int n_threads)
{
    int st;
    if (!net || n_threads < 1) return PYNN_ERR_ARG;
    if (batch < 0 || (need_targets && batch == 0)) return PYNN_ERR_SHAPE;
    if (batch > 0 && !X) return PYNN_ERR_ARG;
    if (need_targets) {
        int64_t l, n_out = net->sizes[net->n_layers];
        if (!T && !labels) return PYNN_ERR_ARG;
        if (!T && net->loss != PYNN_LOSS_CROSS_ENTROPY) return PYNN_ERR_ARG;
        if (!T)
            for (l = 0; l < n_labels; l++)
                if (labels[l] < 0 || labels[l] >= n_out) return PYNN_ERR_ARG;
    }
    PYNN_CHECK(acquire(net));
    st = batch > 0 ? pynn_net_reserve(net, batch, n_threads) : PYNN_OK;
    if (st != PYNN_OK) release(net);
    return st;
}

#define DISPATCH(call_s, call_d) (net->dtype == PYNN_F32 ? (call_s) : (call_d))

/* FLOPs of `passes` passes over `batch` rows (a forward pass is 1, a step 3). */
static double net_flops(const pynn_net *net, int64_t batch, double passes)
{
    double flops = 0;
    for (int64_t l = 0; l < net->n_layers; l++)
        flops += 2.0 * (double)batch * (double)net->sizes[l] * (double)net->sizes[l + 1];
    return passes * flops;
}

/* Threads for a call of `flops` (the tuner's choice), and its start time, or 0
 * (not timed) when one thread is all it may use: the tuner then has no choice
 * to make, and its costs are learnt from the calls that have one (the clock
 * costs 25-60 ns a read on a VM: 5% of a [1, 1] network's step). */
static int threads_begin(pynn_net *net, double flops, int n_threads, double *t0)
{
    int nt_max = pynn_threads_for(n_threads, flops);
    int nt = pynn_tuner_pick(&net->tuner, nt_max, flops);
    *t0 = nt_max > 1 ? pynn_now() : 0;
    return nt;
}

static void threads_end(pynn_net *net, int nt, double flops, double t0)
{
    if (t0 > 0)
        pynn_tuner_record(&net->tuner, nt, flops, pynn_now() - t0);
    else
        net->tuner.last = nt;
}

int pynn_net_forward(pynn_net *net, int64_t batch, const void *X, void *Y, int n_threads)
{
    int st;
    if (batch > 0 && !Y) return PYNN_ERR_ARG;
    double t0, flops = net ? net_flops(net, batch, 1) : 0;
    int nt;
    PYNN_CHECK(begin(net, batch, X, NULL, NULL, 0, 0, n_threads));
    nt = threads_begin(net, flops, n_threads, &t0);
    st = batch == 0 ? PYNN_OK : DISPATCH(net_forward_s(net, batch, X, Y, nt),
                                         net_forward_d(net, batch, X, Y, nt));
    threads_end(net, nt, flops, t0);
    release(net);
    return st;
}

int pynn_net_loss(pynn_net *net, int64_t batch, const void *X, const void *T,
                  const int64_t *labels, double *loss, int n_threads)
{
    double t0, flops;
    int st, nt;
    if (!loss) return PYNN_ERR_ARG;
    PYNN_CHECK(begin(net, batch, X, T, labels, 1, batch, n_threads));
    flops = net_flops(net, batch, 1);
    nt = threads_begin(net, flops, n_threads, &t0);
    st = DISPATCH(net_loss_s(net, batch, X, T, labels, loss, nt),
                  net_loss_d(net, batch, X, T, labels, loss, nt));
    threads_end(net, nt, flops, t0);
    release(net);
    return st;
}

int pynn_net_gradients(pynn_net *net, int64_t batch, const void *X, const void *T,
                       const int64_t *labels, double *loss, void *grad, int n_threads)
{
    double t0, flops;
    int st, nt;
    if (!loss || !grad) return PYNN_ERR_ARG;
    PYNN_CHECK(begin(net, batch, X, T, labels, 1, batch, n_threads));
    flops = net_flops(net, batch, 3);
    nt = threads_begin(net, flops, n_threads, &t0);
    st = DISPATCH(net_gradients_s(net, batch, X, T, labels, loss, grad, nt),
                  net_gradients_d(net, batch, X, T, labels, loss, grad, nt));
    threads_end(net, nt, flops, t0);
    release(net);
    return st;
}

static int valid_optim(const pynn_optim *o)
{
    if (!o || !(o->lr > 0 && o->lr < 1e30) || !(o->weight_decay >= 0 && o->weight_decay < 1e30))
        return 0;
    if (o->kind == PYNN_OPT_SGD) return o->momentum >= 0 && o->momentum < 1;
    if (o->kind == PYNN_OPT_ADAM)
        return o->beta1 >= 0 && o->beta1 < 1 && o->beta2 >= 0 && o->beta2 < 1 && o->eps > 0 &&
               o->eps < 1e30 && o->step >= 1;
    return 0;
}

static int check_optim(const pynn_optim *opt, const void *state)
{
    if (!valid_optim(opt)) return PYNN_ERR_ARG;
    if (!state && pynn_optim_state_len(opt, 1) > 0) return PYNN_ERR_ARG;
    return PYNN_OK;
}

int pynn_net_train_step(pynn_net *net, int64_t batch, const void *X, const void *T,
                        const int64_t *labels, const pynn_optim *opt, void *state,
                        double *loss, int n_threads)
{
    double t0, flops;
    int st, nt;
    if (!loss) return PYNN_ERR_ARG;
    PYNN_CHECK(check_optim(opt, state));
    PYNN_CHECK(begin(net, batch, X, T, labels, 1, batch, n_threads));
    flops = net_flops(net, batch, 3);
    nt = threads_begin(net, flops, n_threads, &t0);
    st = DISPATCH(net_train_step_s(net, batch, X, T, labels, opt, state, loss, nt),
                  net_train_step_d(net, batch, X, T, labels, opt, state, loss, nt));
    threads_end(net, nt, flops, t0);
    release(net);
    return st;
}

int pynn_net_train_batches(pynn_net *net, int64_t n_rows, const void *X, const void *T,
                           const int64_t *labels, const int64_t *idx, int64_t n_idx,
                           int64_t batch_size, const pynn_optim *opt, void *state,
                           double *losses, int64_t *n_done, int n_threads)
{
    double t0;
    int st, nt;
    int64_t i;
    if (!n_done || !losses || !idx || n_idx < 1 || batch_size < 1) return PYNN_ERR_ARG;
    *n_done = 0;
    PYNN_CHECK(check_optim(opt, state));
    for (i = 0; i < n_idx; i++)
        if (idx[i] < 0 || idx[i] >= n_rows) return PYNN_ERR_ARG;
    /* every row a batch may gather is validated here, labels included */
    PYNN_CHECK(begin(net, PYNN_MIN(batch_size, n_idx), X, T, labels, 1, 0, n_threads));
    if (!T)
        for (i = 0; i < n_idx; i++)
            if (labels[idx[i]] < 0 || labels[idx[i]] >= net->sizes[net->n_layers]) {
                release(net);
                return PYNN_ERR_ARG;
            }
    /* threads by the work of one batch; the time of the whole call */
    nt = threads_begin(net, net_flops(net, PYNN_MIN(batch_size, n_idx), 3), n_threads, &t0);
    st = DISPATCH(net_train_batches_s(net, X, T, labels, idx, n_idx, batch_size, opt, state,
                                      losses, n_done, nt),
                  net_train_batches_d(net, X, T, labels, idx, n_idx, batch_size, opt, state,
                                      losses, n_done, nt));
    threads_end(net, nt, net_flops(net, n_idx, 3), t0);
    release(net);
    return st;
}
