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

/* Team function: the forward pass into the workspace, then the loss; with
 * want_grad, dZ of the output layer goes to the first dZ buffer. */
static void R(net_loss_team)(pynn_net *net, int64_t batch, const real *X, const real *T,
                             const int64_t *labels, double *loss, int want_grad)
{
    const int64_t L = net->n_layers, n_out = net->sizes[L];
    real *A_L = WS(net, net->a_off[L - 1]), *dZ = want_grad ? WS(net, net->dz_off[0]) : NULL;
    double *row_loss = (double *)((char *)net->ws + net->row_off);
    const int ce = net->loss == PYNN_LOSS_CROSS_ENTROPY;
    R(net_run)(net, batch, X, A_L, ce);
    if (ce) {
        /* A_L holds the logits: L = CE(softmax(Z), T), dZ = (P sum T - T) / B */
        R(nn_softmax_ce)(batch, n_out, A_L, T, labels, row_loss, loss, dZ);
    } else {
        R(nn_mse)(batch, n_out, A_L, T, row_loss, loss, dZ);
        if (dZ) R(nn_act_backward)(batch, n_out, net->acts[L - 1], (real)net->slope, A_L, dZ);
    }
}

/* Team function: backpropagation from dZ_L (first dZ buffer) into the flat gradient. */
static void R(net_backward)(pynn_net *net, int64_t batch, const real *X, real *grad)
{
    const real *p = (const real *)net->params;
    int cur = 0;
    for (int64_t l = net->n_layers - 1; l >= 0; l--) {
        const real *in = l == 0 ? X : WS(net, net->a_off[l - 1]);
        real *dX = l == 0 ? NULL : WS(net, net->dz_off[1 - cur]);
        /* dW_l = A_{l-1}^T dZ_l, db_l = 1^T dZ_l, dZ_{l-1} = (dZ_l W_l^T) f'_{l-1}(A_{l-1}) */
        R(nn_dense_backward)(batch, net->sizes[l], net->sizes[l + 1], in, p + net->segs[2 * l].offset,
                             WS(net, net->dz_off[cur]), grad + net->segs[2 * l].offset,
                             grad + net->segs[2 * l + 1].offset, dX, l == 0 ? NULL : in,
                             l == 0 ? 0 : net->acts[l - 1], (real)net->slope, WS(net, net->gemm_off));
        cur = 1 - cur;
    }
}

/* Team function: forward, loss, backprop, and the update when the loss and the
 * gradient are finite (*applied says whether it was). */
static void R(net_step)(pynn_net *net, int64_t batch, const real *X, const real *T,
                        const int64_t *labels, const pynn_optim *opt, real *state, double *loss,
                        int *applied)
{
    real *grad = (real *)net->grad;
    R(net_loss_team)(net, batch, X, T, labels, loss, 1);
    R(net_backward)(net, batch, X, grad);
    R(nn_all_finite)(grad, net->n_params, applied);
    if (*applied && isfinite(*loss))                   /* the same decision on every thread */
        R(nn_optim_update)(opt, net->segs, 2 * net->n_layers, (real *)net->params, grad, state,
                           net->n_params);
    else {
        PYNN_PRAGMA(omp single)
        *applied = 0;
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
    PYNN_PRAGMA(omp for schedule(dynamic, chunk))
    for (i = 0; i < rows; i++) {
        memcpy(xg + i * n_in, X + idx[i] * n_in, (size_t)n_in * sizeof(real));
        if (T) memcpy(tg + i * n_out, T + idx[i] * n_out, (size_t)n_out * sizeof(real));
        else lg[i] = labels[idx[i]];
    }
}

/*** @@ENTRY: each public call opens ONE parallel region of nt threads ***/

static int R(net_forward)(pynn_net *net, int64_t batch, const void *X, void *Y, int nt)
{
    PYNN_PRAGMA(omp parallel num_threads(nt) if(nt > 1))
    R(net_run)(net, batch, (const real *)X, (real *)Y, 0);
    return PYNN_OK;
}

static int R(net_loss)(pynn_net *net, int64_t batch, const void *X, const void *T,
                       const int64_t *labels, double *loss, int nt)
{
    PYNN_PRAGMA(omp parallel num_threads(nt) if(nt > 1))
    R(net_loss_team)(net, batch, (const real *)X, (const real *)T, labels, loss, 0);
    return PYNN_OK;
}

static int R(net_gradients)(pynn_net *net, int64_t batch, const void *X, const void *T,
                            const int64_t *labels, double *loss, void *grad, int nt)
{
    PYNN_PRAGMA(omp parallel num_threads(nt) if(nt > 1))
    {
        R(net_loss_team)(net, batch, (const real *)X, (const real *)T, labels, loss, 1);
        R(net_backward)(net, batch, (const real *)X, (real *)grad);
    }
    return PYNN_OK;
}

static int R(net_train_step)(pynn_net *net, int64_t batch, const void *X, const void *T,
                             const int64_t *labels, const pynn_optim *opt, void *state,
                             double *loss, int nt)
{
    int applied = 1;
    PYNN_PRAGMA(omp parallel num_threads(nt) if(nt > 1))
    R(net_step)(net, batch, (const real *)X, (const real *)T, labels, opt, (real *)state, loss,
                &applied);
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
    PYNN_PRAGMA(omp parallel num_threads(nt) if(nt > 1))
    {
        pynn_optim o = *opt;
        for (int64_t b = 0; b < n_batches && applied; b++) {  /* every thread sees the same flag */
            const int64_t rows = PYNN_MIN(batch_size, n_idx - b * batch_size);
            R(gather)(net, (const real *)X, (const real *)T, labels, idx + b * batch_size, rows);
            o.step = opt->step + b;
            R(net_step)(net, rows, WS(net, net->xg_off), T ? WS(net, net->tg_off) : NULL,
                        T ? NULL : lg, &o, (real *)state, &losses[b], &applied);
            PYNN_PRAGMA(omp single)
            *n_done = b + applied;
        }
    }
    return applied ? PYNN_OK : PYNN_ERR_NONFINITE;
}

#undef WS
