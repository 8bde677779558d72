/* SPDX-License-Identifier: MIT
 * nn/net.h: the network handle (private layout, shared by net.c and its
 * templated body). */
#ifndef PYNN_NET_H
#define PYNN_NET_H
#include <stdatomic.h>
#include "nn.h"
#include "tuner.h"

struct pynn_net {
    int dtype;
    int loss;
    int64_t n_layers;
    int64_t *sizes;          /* n_layers + 1 widths */
    int32_t *acts;           /* n_layers activations */
    double slope;            /* leaky_relu slope */
    int64_t n_params;
    pynn_segment *segs;      /* 2 n_layers segments: W_1, b_1, W_2, b_2, ... */
    void *params;            /* the flat parameter buffer */
    void *layer_grad;        /* one layer's dW (max n_in n_out): optimizers with state, checks */
    int grad_finite;         /* the team's shared flag while a dW is checked (net_grad_finite) */
    int64_t n_biases;        /* sum of the layer widths n_1..n_L */
    /* workspace for ws_batch rows: A_1..A_L, dZ_1..dZ_L, db, row losses, GEMM packing */
    void *ws;
    int64_t ws_batch;
    int ws_threads;
    int64_t ws_allocs;
    int64_t *a_off;          /* byte offsets in ws of A_1..A_L */
    int64_t *dz_off;         /* byte offsets of dZ_1..dZ_L (batch x n_l each) */
    int64_t db_off;          /* byte offset of db_1..db_L (n_biases values) */
    int64_t bound_off;       /* byte offset of the finiteness bounds (ws_threads x (2 L + 1)) */
    int64_t row_off;         /* byte offset of the row-loss buffer */
    int64_t xg_off, tg_off;  /* byte offsets of the gathered mini-batch X and T (train_batches) */
    int64_t lg_off;          /* byte offset of the gathered labels */
    int64_t gemm_off;        /* byte offset of the GEMM packing workspace */
    pynn_tuner tuner;        /* the adaptive thread count */
    atomic_int busy;         /* one call at a time */
};

#endif
