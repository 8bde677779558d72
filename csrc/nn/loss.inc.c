/* SPDX-License-Identifier: MIT
 * nn/loss.inc.c: templated body of nn/loss.c. Each row's loss is summed by one
 * thread into row_loss, then the rows are added in order: the result does not
 * depend on the thread count. */

static double R(sum_rows)(const double *row_loss, int64_t batch)
{
    double s = 0;
    for (int64_t i = 0; i < batch; i++) s += row_loss[i];
    return s;
}

void R(nn_mse)(int64_t batch, int64_t n, const real *Y, const real *T, double *row_loss,
               double *loss, real *dY, int n_threads)
{
    int64_t i;
    const double scale = 2.0 / ((double)batch * (double)n);
    int nt = pynn_threads_for(n_threads, 4.0 * (double)batch * (double)n);
    PYNN_PRAGMA(omp parallel for schedule(static) num_threads(nt) if(nt > 1))
    for (i = 0; i < batch; i++) {
        const real *y = Y + i * n, *t = T + i * n;
        double s = 0;
        for (int64_t j = 0; j < n; j++) {
            double e = (double)y[j] - (double)t[j];
            s += e * e;                                           /* (Y - T)^2 */
        }
        row_loss[i] = s;
        if (dY)
            for (int64_t j = 0; j < n; j++) dY[i * n + j] = (real)(scale * ((double)y[j] - (double)t[j])); /* 2 (Y - T) / (B n) */
    }
    *loss = R(sum_rows)(row_loss, batch) / ((double)batch * (double)n);
}

void R(nn_softmax_ce)(int64_t batch, int64_t n, const real *Z, const real *T,
                      const int64_t *labels, double *row_loss, double *loss, real *dZ,
                      int n_threads)
{
    int64_t i;
    const double inv_batch = 1.0 / (double)batch;
    int nt = pynn_threads_for(n_threads, 20.0 * (double)batch * (double)n);
    PYNN_PRAGMA(omp parallel for schedule(static) num_threads(nt) if(nt > 1))
    for (i = 0; i < batch; i++) {
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
    *loss = R(sum_rows)(row_loss, batch) * inv_batch;
}

int R(nn_all_finite)(const real *x, int64_t n, int n_threads)
{
    int64_t i;
    int ok = 1;
    int nt = pynn_threads_for(n_threads, (double)n);
    PYNN_PRAGMA(omp parallel for simd schedule(static) reduction(&: ok) num_threads(nt) if(nt > 1))
    for (i = 0; i < n; i++) ok &= (x[i] - x[i] == 0);             /* false for inf and NaN */
    return ok;
}
