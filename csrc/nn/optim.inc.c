/* SPDX-License-Identifier: MIT
 * nn/optim.inc.c: templated body of nn/optim.c. Elementwise over each
 * parameter segment, so the result does not depend on the thread count. */

static PYNN_CLONES void R(sgd_segment)(const pynn_optim *o, real wd, real *PYNN_RESTRICT w,
                                       const real *PYNN_RESTRICT g, real *PYNN_RESTRICT v,
                                       int64_t n)
{
    const real lr = (real)o->lr, mu = (real)o->momentum;
    int64_t i;
    if (!v) {
        for (i = 0; i < n; i++) w[i] -= lr * (g[i] + wd * w[i]);           /* w -= lr (g + wd w) */
        return;
    }
    for (i = 0; i < n; i++) {
        real gi = g[i] + wd * w[i];
        v[i] = mu * v[i] + gi;                                             /* v = mu v + g */
        w[i] -= lr * (o->nesterov ? gi + mu * v[i] : v[i]);                /* Nesterov: g + mu v */
    }
}

static PYNN_CLONES void R(adam_segment)(const pynn_optim *o, real wd, real *PYNN_RESTRICT w,
                                        const real *PYNN_RESTRICT g, real *PYNN_RESTRICT m,
                                        real *PYNN_RESTRICT v, int64_t n)
{
    const real lr = (real)o->lr, b1 = (real)o->beta1, b2 = (real)o->beta2, eps = (real)o->eps;
    const real c1 = (real)(1.0 / (1.0 - pow(o->beta1, (double)o->step)));  /* 1 / (1 - b1^t) */
    const real c2 = (real)(1.0 / (1.0 - pow(o->beta2, (double)o->step)));  /* 1 / (1 - b2^t) */
    const real l2 = o->decoupled ? 0 : wd, shrink = o->decoupled ? 1 - lr * wd : 1;
    int64_t i;
    for (i = 0; i < n; i++) {
        real gi = g[i] + l2 * w[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;                                  /* m = b1 m + (1-b1) g */
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;                             /* v = b2 v + (1-b2) g^2 */
        w[i] = shrink * w[i] - lr * (m[i] * c1) / (sqrt(v[i] * c2) + eps); /* w -= lr m^ / (sqrt(v^) + eps) */
    }
}

void R(nn_optim_segment_nowait)(const pynn_optim *opt, pynn_segment sg, real *params,
                                const real *g, real *state, int64_t n_params)
{
    enum { BLOCK = 4096 };
    const real wd = sg.decay ? (real)opt->weight_decay : 0;
    int64_t blk, n_blk = (sg.len + BLOCK - 1) / BLOCK, chunk = pynn_chunk(n_blk, 8.0 * BLOCK);
    /* blocks of BLOCK values are handed out dynamically */
    PYNN_TEAM_FOR(blk, n_blk, chunk) {
        int64_t i = blk * BLOCK, off = sg.offset + i, len = PYNN_MIN((int64_t)BLOCK, sg.len - i);
        if (opt->kind == PYNN_OPT_ADAM)
            R(adam_segment)(opt, wd, params + off, g + i, state + off, state + n_params + off, len);
        else
            R(sgd_segment)(opt, wd, params + off, g + i, state ? state + off : NULL, len);
    }
}
