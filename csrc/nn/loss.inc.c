/* SPDX-License-Identifier: MIT
 * nn/loss.inc.c: templated body of nn/loss.c. Team functions (threads.h): each
 * row's loss is summed by one thread into row_loss, then every thread adds the
 * rows in order, so the result does not depend on the thread count. Also the
 * finiteness checks of a training step. */
#include "abs_bits.h"
#include "act.h"

/* scale * the sum of row_loss in row order, once every row is done: computed
 * by every thread (the same bits on each, no second barrier), stored in *loss
 * by one and returned on all. */
static double R(sum_rows)(const double *row_loss, int64_t batch, double scale, double *loss)
{
    double s = 0;
    PYNN_BARRIER();                                           /* every row's loss */
    for (int64_t i = 0; i < batch; i++) s += row_loss[i];
    s *= scale;
    if (pynn_team_id() == 0) *loss = s;
    return s;
}

PYNN_CLONES double R(nn_mse)(int64_t batch, int64_t n, const real *Y, const real *T,
                             double *row_loss, double *loss, real *dZ, int act, real slope)
{
    int64_t i, chunk = pynn_chunk(batch, 4.0 * (double)n);
    const double scale = 2.0 / ((double)batch * (double)n);
    PYNN_TEAM_FOR(i, batch, chunk) {
        const real *y = Y + i * n, *t = T + i * n;
        real *dz = dZ ? dZ + i * n : NULL;
        double s = 0;
        for (int64_t j = 0; j < n; j++) {
            double e = (double)y[j] - (double)t[j];
            s += e * e;                                           /* (Y - T)^2 */
        }
        row_loss[i] = s;
        if (dz) {
            for (int64_t j = 0; j < n; j++)                       /* dY = 2 (Y - T) / (B n) */
                dz[j] = (real)(scale * ((double)y[j] - (double)t[j]));
            R(act_backward_row)(act, slope, y, dz, n);            /* dZ = dY f'(Y), row still hot */
        }
    }
    return R(sum_rows)(row_loss, batch, 1.0 / ((double)batch * (double)n), loss);
}

double R(nn_softmax_ce)(int64_t batch, int64_t n, const real *Z, const real *T,
                        const int64_t *labels, double *row_loss, double *loss, real *dZ)
{
    int64_t i, chunk = pynn_chunk(batch, 20.0 * (double)n);
    const double inv_batch = 1.0 / (double)batch;
    PYNN_TEAM_FOR(i, batch, chunk) {
        const real *z = Z + i * n;
        double m = (double)z[0], s = 0, lse, l = 0, t_sum = 1;
        int64_t j;
        for (j = 1; j < n; j++) m = (double)z[j] > m ? (double)z[j] : m;
        for (j = 0; j < n; j++) s += exp((double)z[j] - m);
        lse = m + log(s);                                          /* log sum_j exp(z_j) */
        if (T) {
            const real *t = T + i * n;
            t_sum = 0;
            for (j = 0; j < n; j++) {
                if (t[j] != 0) l += (double)t[j] * (lse - (double)z[j]); /* -T_j log P_j */
                t_sum += (double)t[j];
            }
        } else {
            l = lse - (double)z[labels[i]];
        }
        row_loss[i] = l;
        if (dZ) {
            real *dz = dZ + i * n;
            for (j = 0; j < n; j++) {
                double p = exp((double)z[j] - lse);                /* P_j = softmax(z)_j */
                double t = T ? (double)T[i * n + j] : (j == labels[i] ? 1.0 : 0.0);
                dz[j] = (real)((p * t_sum - t) * inv_batch);       /* (P sum T - T) / B */
            }
        }
    }
    return R(sum_rows)(row_loss, batch, inv_batch, loss);
}

PYNN_CLONES void R(nn_max_abs_nowait)(const real *x, int64_t n, double *m)
{
    enum { BLOCK = 4096 };
    int64_t n_blocks = (n + BLOCK - 1) / BLOCK, c, chunk = pynn_chunk(n_blocks, BLOCK);
    PYNN_TEAM_FOR(c, n_blocks, chunk) {
        const int64_t len = PYNN_MIN((int64_t)BLOCK, n - c * BLOCK);
        R(abs_bits_merge)(R(abs_bits_max)(x + c * BLOCK, len), m);
    }
}

void R(nn_all_finite)(const real *x, int64_t n, int *finite)
{
    double m = 0;                                   /* max |x| over this thread's share */
    if (pynn_team_id() == 0) *finite = 1;
    PYNN_BARRIER();                                 /* set before any write below */
    R(nn_max_abs_nowait)(x, n, &m);                 /* +inf when a value is inf or NaN */
    if (!(m < INFINITY)) {
        PYNN_PRAGMA(omp atomic write)
        *finite = 0;
    }
    PYNN_BARRIER();                                 /* every share checked before *finite is read */
}
