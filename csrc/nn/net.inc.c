/* SPDX-License-Identifier: MIT
 * nn/net.inc.c: templated body of nn/net.c: initialization, the forward pass,
 * the loss, backpropagation and the training step of a network. */

#define WS(net, off) ((real *)((char *)(net)->ws + (off)))

static void R(net_init)(pynn_net *net, uint64_t seed)
{
    real *p = (real *)net->params;
    for (int64_t l = 0; l < net->n_layers; l++) {
        const int64_t n_in = net->sizes[l], n_out = net->sizes[l + 1];
        const pynn_segment w = net->segs[2 * l], b = net->segs[2 * l + 1];
        const int relu_family = net->acts[l] == PYNN_ACT_RELU || net->acts[l] == PYNN_ACT_LEAKY_RELU;
        /* He: U(+-sqrt(6 / n_in)), variance 2 / n_in; Glorot: U(+-sqrt(6 / (n_in + n_out))) */
        const double limit = relu_family ? sqrt(6.0 / (double)n_in) : sqrt(6.0 / (double)(n_in + n_out));
        for (int64_t i = 0; i < w.len; i++)
            p[w.offset + i] = (real)((2.0 * pynn_rng_uniform(seed, (uint64_t)l, (uint64_t)i) - 1.0) * limit);
        for (int64_t i = 0; i < b.len; i++) p[b.offset + i] = 0;
    }
}

/* Team function: A_l = f_l(A_{l-1} W_l + b_l) for every layer, A_0 = X; the
 * last layer goes to `out`. With keep_logits, a softmax output layer stores its
 * logits Z instead (the fused cross-entropy needs them). */
static void R(net_run)(pynn_net *net, int64_t batch, const real *X, real *out, int keep_logits)
{
    const real *p = (const real *)net->params, *in = X;
    for (int64_t l = 0; l < net->n_layers; l++) {
        const int last = l == net->n_layers - 1;
        int act = net->acts[l];
        real *A = last ? out : WS(net, net->a_off[l]);
        if (last && keep_logits && act == PYNN_ACT_SOFTMAX) act = PYNN_ACT_IDENTITY;
        R(nn_dense_forward)(batch, net->sizes[l], net->sizes[l + 1], in, p + net->segs[2 * l].offset,
                            p + net->segs[2 * l + 1].offset, act, (real)net->slope, A,
                            WS(net, net->gemm_off));
        in = A;
    }
}

#define DZ(net, l) WS(net, (net)->dz_off[l])

/* The input of layer l: X for the first, A_{l-1} for the others. */
static const real *R(layer_input)(pynn_net *net, const real *X, int64_t l)
{
    return l == 0 ? X : WS(net, net->a_off[l - 1]);
}

/* Team function: the forward pass into the workspace, then the loss, returned
 * on every thread and stored in *loss; with want_grad, dZ_L of the output
 * layer. With bounds (this thread's row, see net_grad_finite), max |A_{l-1}|
 * of every layer's input is scanned alongside, before the loss's one barrier. */
static double R(net_loss_team)(pynn_net *net, int64_t batch, const real *X, const real *T,
                               const int64_t *labels, double *loss, int want_grad,
                               double *bounds)
{
    const int64_t L = net->n_layers, n_out = net->sizes[L];
    real *A_L = WS(net, net->a_off[L - 1]), *dZ = want_grad ? DZ(net, L - 1) : NULL;
    double *row_loss = (double *)((char *)net->ws + net->row_off);
    R(net_run)(net, batch, X, A_L, net->loss == PYNN_LOSS_CROSS_ENTROPY);
    for (int64_t l = 0; bounds && l < L; l++)
        R(nn_max_abs_nowait)(R(layer_input)(net, X, l), batch * net->sizes[l], &bounds[2 * l]);
    if (net->loss == PYNN_LOSS_CROSS_ENTROPY)   /* A_L holds the logits: dZ = (P sum T - T) / B */
        return R(nn_softmax_ce)(batch, n_out, A_L, T, labels, row_loss, loss, dZ);
    return R(nn_mse)(batch, n_out, A_L, T, row_loss, loss, dZ, net->acts[L - 1], (real)net->slope);
}

/* Team function: backpropagation of dZ_L through every layer, last first:
 * dZ_{l-1} = (dZ_l W_l^T) f'_{l-1}(A_{l-1}) into the dZ buffers, and
 * db_l = 1^T dZ_l into db (laid out like the biases: db_1, db_2, ...). With
 * bounds (this thread's row, see net_grad_finite), max |dZ_l| and max |db| on
 * the way. */
static void R(net_backward_dz)(pynn_net *net, int64_t batch, real *db, double *bounds)
{
    const real *p = (const real *)net->params;
    int64_t pos = net->n_biases;
    for (int64_t l = net->n_layers - 1; l >= 0; l--) {
        const int64_t n_in = net->sizes[l], n_out = net->sizes[l + 1];
        pos -= n_out;
        R(nn_column_sums_nowait)(batch, n_out, DZ(net, l), db + pos,
                                 bounds ? &bounds[2 * l + 1] : NULL,
                                 bounds ? &bounds[2 * net->n_layers] : NULL);
        if (l > 0) {
            const real *A_prev = WS(net, net->a_off[l - 1]);
            const pynn_epilogue epi = {PYNN_EPI_MUL_DACT, net->acts[l - 1], net->slope, NULL, A_prev,
                                       n_in};
            R(pynn_gemm_team)(0, 1, batch, n_in, n_out, 1, DZ(net, l), n_out,
                              p + net->segs[2 * l].offset, n_out, 0, DZ(net, l - 1), n_in, &epi,
                              WS(net, net->gemm_off));
        }
    }
    PYNN_BARRIER();                                    /* the last column sums */
}

/* Team function: D_l = beta D_l + alpha dW_l, dW_l = A_{l-1}^T dZ_l, for the
 * layers [l0, l1), their products sharing one schedule. D_l is at
 * dst + (offset of W_l) - base: dst holds parameter-layout values from index
 * base on (the weights themselves, a gradient, or one layer's scratch). */
static void R(net_weight_products)(pynn_net *net, int64_t batch, const real *X, int64_t l0,
                                   int64_t l1, double alpha, double beta, real *dst, int64_t base)
{
    pynn_gemm_op ops[PYNN_GEMM_MAX_OPS];
    int n = 0;
    for (int64_t l = l0; l < l1; l++) {
        const int64_t n_in = net->sizes[l], n_out = net->sizes[l + 1];
        real *D = dst + (net->segs[2 * l].offset - base);
        ops[n++] = (pynn_gemm_op){1, 0, n_in, n_out, batch, alpha, beta, R(layer_input)(net, X, l),
                                  n_in, DZ(net, l), n_out, D, n_out, NULL};
        if (n == PYNN_GEMM_MAX_OPS || l == l1 - 1) {
            R(pynn_gemm_team_many)(ops, n, WS(net, net->gemm_off));
            n = 0;
        }
    }
}

/* Team function: backpropagation from dZ_L into the flat gradient grad. */
static void R(net_backward)(pynn_net *net, int64_t batch, const real *X, real *grad)
{
    real *db = WS(net, net->db_off);
    R(net_backward_dz)(net, batch, db, NULL);
    R(net_weight_products)(net, batch, X, 0, net->n_layers, 1, 0, grad, 0);
    if (pynn_team_id() == 0) {                         /* db_l into the bias segments */
        for (int64_t l = 0; l < net->n_layers; l++) {
            const pynn_segment b = net->segs[2 * l + 1];
            memcpy(grad + b.offset, db, (size_t)b.len * sizeof(real));
            db += b.len;
        }
    }
    PYNN_BARRIER();
}

/* max over the nt threads' rows of column q of the bounds */
static double R(bound_max)(const double *bound, int nt, int64_t nq, int64_t q)
{
    double m = bound[q];
    for (int t = 1; t < nt; t++) m = PYNN_MAX(m, bound[t * nq + q]);
    return m;
}

/* This thread's row of the finiteness bounds, zeroed: max |A_{l-1}| at 2 l,
 * max |dZ_l| at 2 l + 1, max |db| at 2 L (+inf for inf or NaN). */
static double *R(my_bounds)(pynn_net *net)
{
    const int64_t nq = 2 * net->n_layers + 1;
    double *mine = (double *)((char *)net->ws + net->bound_off) + pynn_team_id() * nq;
    for (int64_t q = 0; q < nq; q++) mine[q] = 0;
    return mine;
}

/* Team function: whether every value of this step's gradient is finite (the
 * same answer on every thread), mostly without computing it, from the bounds
 * every thread scanned on the way (net_loss_team, net_backward_dz), all
 * complete after the backward pass's last barrier. Any inf or NaN in A_{l-1}
 * or dZ_l makes a row or column of dW_l inf or NaN; otherwise
 * |dW_ij| = |sum_b A_bi dZ_bj| <= batch max|A_{l-1}| max|dZ_l| (1 + u)^batch
 * in any summation order, each depth panel's partial sum included, so a bound
 * far below the largest finite value shows dW_l finite. Only a layer whose
 * bound is not gets its dW_l computed, into layer_grad, and checked. (The
 * update's own overflow, from weights near the largest value or an absurd lr,
 * is not guarded: the promise is about the loss and the gradient.) */
static int R(net_grad_finite)(pynn_net *net, int64_t batch, const real *X)
{
    const int64_t L = net->n_layers, nq = 2 * L + 1;
    const int nt = pynn_team_size();
    const double *bound = (const double *)((char *)net->ws + net->bound_off);
    const double limit = (PYNN_IS_F64 ? DBL_MAX : FLT_MAX) / 4;
    const double growth = exp((double)(batch + 2) * (PYNN_IS_F64 ? DBL_EPSILON : FLT_EPSILON));
    if (!(R(bound_max)(bound, nt, nq, 2 * L) < INFINITY)) return 0;   /* inf or NaN in db */
    for (int64_t l = 0; l < L; l++) {
        const double a = R(bound_max)(bound, nt, nq, 2 * l), d = R(bound_max)(bound, nt, nq, 2 * l + 1);
        if (!(a < INFINITY && d < INFINITY)) return 0;                /* inf or NaN in A or dZ */
    }
    for (int64_t l = 0; l < L; l++) {
        const double a = R(bound_max)(bound, nt, nq, 2 * l), d = R(bound_max)(bound, nt, nq, 2 * l + 1);
        if ((double)batch * a * d * growth <= limit) continue;          /* shown finite */
        R(net_weight_products)(net, batch, X, l, l + 1, 1, 0, (real *)net->layer_grad,
                               net->segs[2 * l].offset);
        R(nn_all_finite)((real *)net->layer_grad, net->segs[2 * l].len, &net->grad_finite);
        if (!net->grad_finite) return 0;               /* read after the check's barrier */
    }
    return 1;
}

/* Team function: the optimizer's update of every layer from A_{l-1}, dZ_l and
 * db. Plain SGD never forms dW: W = (1 - lr wd) W - lr A^T dZ is one product
 * per layer (alpha = -lr, beta = 1 - lr wd), all layers in one schedule. The
 * optimizers with state (and a decay factor 1 - lr wd <= 0) get each layer's
 * dW in layer_grad and update from it. The biases go first: the products'
 * barrier (a team's every GEMM item loop ends with one) then covers them. */
static void R(net_update)(pynn_net *net, int64_t batch, const real *X, const pynn_optim *opt,
                          real *state, const real *db)
{
    real *p = (real *)net->params, *g = (real *)net->layer_grad;
    if (pynn_optim_state_len(opt, 1) == 0) state = NULL;   /* plain SGD: none, whatever is passed */
    for (int64_t l = 0; l < net->n_layers; l++) {
        R(nn_optim_segment_nowait)(opt, net->segs[2 * l + 1], p, db, state, net->n_params);
        db += net->segs[2 * l + 1].len;
    }
    if (opt->kind == PYNN_OPT_SGD && opt->momentum == 0 && opt->lr * opt->weight_decay < 1) {
        R(net_weight_products)(net, batch, X, 0, net->n_layers, -opt->lr,
                               1 - opt->lr * opt->weight_decay, p, 0);
    } else {
        for (int64_t l = 0; l < net->n_layers; l++) {
            const pynn_segment w = net->segs[2 * l];
            R(net_weight_products)(net, batch, X, l, l + 1, 1, 0, g, w.offset);
            R(nn_optim_segment_nowait)(opt, w, p, g, state, net->n_params);
            PYNN_BARRIER();                            /* before layer_grad is reused */
        }
    }
}

/* Team function: forward, loss, backprop, and the update when the loss and the
 * gradient are finite (*applied says whether it was). */
static void R(net_step)(pynn_net *net, int64_t batch, const real *X, const real *T,
                        const int64_t *labels, const pynn_optim *opt, real *state, double *loss,
                        int *applied)
{
    real *db = WS(net, net->db_off);
    double *bounds = R(my_bounds)(net);
    const double total = R(net_loss_team)(net, batch, X, T, labels, loss, 1, bounds);
    R(net_backward_dz)(net, batch, db, bounds);
    /* the same decision on every thread */
    if (isfinite(total) && R(net_grad_finite)(net, batch, X))
        R(net_update)(net, batch, X, opt, state, db);
    else {
        if (pynn_team_id() == 0) *applied = 0;
        PYNN_BARRIER();
    }
}

/* Team function: copies rows idx[0..rows) of X and T (or labels) into the gather buffers. */
static void R(gather)(pynn_net *net, const real *X, const real *T, const int64_t *labels,
                      const int64_t *idx, int64_t rows)
{
    const int64_t n_in = net->sizes[0], n_out = net->sizes[net->n_layers];
    real *xg = WS(net, net->xg_off), *tg = WS(net, net->tg_off);
    int64_t *lg = (int64_t *)((char *)net->ws + net->lg_off);
    int64_t i, chunk = pynn_chunk(rows, (double)(n_in + n_out));
    PYNN_TEAM_FOR(i, rows, chunk) {
        memcpy(xg + i * n_in, X + idx[i] * n_in, (size_t)n_in * sizeof(real));
        if (T) memcpy(tg + i * n_out, T + idx[i] * n_out, (size_t)n_out * sizeof(real));
        else lg[i] = labels[idx[i]];
    }
    PYNN_BARRIER();
}

/*** @@ENTRY: each public call opens ONE parallel region of nt threads ***/

static int R(net_forward)(pynn_net *net, int64_t batch, const void *X, void *Y, int nt)
{
    PYNN_TEAM(nt, { R(net_run)(net, batch, (const real *)X, (real *)Y, 0); });
    return PYNN_OK;
}

static int R(net_loss)(pynn_net *net, int64_t batch, const void *X, const void *T,
                       const int64_t *labels, double *loss, int nt)
{
    PYNN_TEAM(nt, {
        R(net_loss_team)(net, batch, (const real *)X, (const real *)T, labels, loss, 0, NULL);
    });
    return PYNN_OK;
}

static int R(net_gradients)(pynn_net *net, int64_t batch, const void *X, const void *T,
                            const int64_t *labels, double *loss, void *grad, int nt)
{
    PYNN_TEAM(nt, {
        R(net_loss_team)(net, batch, (const real *)X, (const real *)T, labels, loss, 1, NULL);
        R(net_backward)(net, batch, (const real *)X, (real *)grad);
    });
    return PYNN_OK;
}

static int R(net_train_step)(pynn_net *net, int64_t batch, const void *X, const void *T,
                             const int64_t *labels, const pynn_optim *opt, void *state,
                             double *loss, int nt)
{
    int applied = 1;
    PYNN_TEAM(nt, {
        R(net_step)(net, batch, (const real *)X, (const real *)T, labels, opt, (real *)state, loss,
                    &applied);
    });
    return applied ? PYNN_OK : PYNN_ERR_NONFINITE;     /* not applied: nothing changed */
}

/* Consecutive training steps on the mini-batches idx[b*bs .. (b+1)*bs), the
 * last one possibly shorter, all in one parallel region; Adam's step counts up
 * from opt->step. Stops at the first step that is not finite. */
static int R(net_train_batches)(pynn_net *net, const void *X, const void *T,
                                const int64_t *labels, const int64_t *idx, int64_t n_idx,
                                int64_t batch_size, const pynn_optim *opt, void *state,
                                double *losses, int64_t *n_done, int nt)
{
    const int64_t n_batches = (n_idx + batch_size - 1) / batch_size;
    const int64_t *lg = (const int64_t *)((char *)net->ws + net->lg_off);
    int applied = 1;
    PYNN_TEAM(nt, {
        pynn_optim o = *opt;
        for (int64_t b = 0; b < n_batches && applied; b++) {  /* every thread sees the same flag */
            const int64_t rows = PYNN_MIN(batch_size, n_idx - b * batch_size);
            R(gather)(net, (const real *)X, (const real *)T, labels, idx + b * batch_size, rows);
            o.step = opt->step + b;
            R(net_step)(net, rows, WS(net, net->xg_off), T ? WS(net, net->tg_off) : NULL,
                        T ? NULL : lg, &o, (real *)state, &losses[b], &applied);
            if (pynn_team_id() == 0) *n_done = b + applied;
            PYNN_BARRIER();
        }
    });
    return applied ? PYNN_OK : PYNN_ERR_NONFINITE;
}

#undef DZ
#undef WS
