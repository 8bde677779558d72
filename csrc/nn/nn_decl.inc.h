/* SPDX-License-Identifier: MIT
 * nn/nn_decl.inc.h: templated declarations for nn/nn.h. Every function here is
 * a team function (threads.h): called by all threads of a team, or by one
 * thread outside any. */

/* A = act(X W + b) (bias may be NULL); softmax is applied row-wise after the product. */
void R(nn_dense_forward)(int64_t batch, int64_t n_in, int64_t n_out, const real *X, const real *W,
                         const real *b, int act, real slope, real *A, void *gemm_ws);

/* In place, dA -> dZ: dZ = dA * act'(A), or the softmax Jacobian product
 * dZ_j = A_j (dA_j - sum_k dA_k A_k) for softmax. */
void R(nn_act_backward)(int64_t batch, int64_t n, int act, real slope, const real *A, real *dZ);

/* dW = X^T dZ, db = column sums of dZ, and when dX is not NULL dX = dZ W^T,
 * multiplied by act_prev'(A_prev) when A_prev is not NULL (the previous layer's dZ). */
void R(nn_dense_backward)(int64_t batch, int64_t n_in, int64_t n_out, const real *X, const real *W,
                          const real *dZ, real *dW, real *db, real *dX, const real *A_prev,
                          int act_prev, real slope, void *gemm_ws);

/* The losses return their value on every thread, and thread 0 stores it in
 * *loss with no barrier after (inside the team, use the returned value; the
 * caller sees *loss once the team's call returns). One barrier,
 * after the rows. row_loss: batch doubles of scratch. */

/* loss = mean((Y - T)^2); when dZ is not NULL, dZ = 2 (Y - T) / (batch n)
 * times act'(Y): the gradient through the output activation act (identity for
 * dY itself; softmax as in nn_act_backward). */
double R(nn_mse)(int64_t batch, int64_t n, const real *Y, const real *T, double *row_loss,
                 double *loss, real *dZ, int act, real slope);

/* Softmax cross-entropy from logits Z against T (batch, n) or labels (batch,);
 * dZ = (softmax(Z) sum_j T_j - T) / batch when not NULL. */
double R(nn_softmax_ce)(int64_t batch, int64_t n, const real *Z, const real *T,
                        const int64_t *labels, double *row_loss, double *loss, real *dZ);

/* *finite = 1 if every value is finite, else 0 (a shared variable of the team). */
void R(nn_all_finite)(const real *x, int64_t n, int *finite);

/* One optimizer update of the parameters in segment sg from g, its gradient
 * (g[i] belongs to params[sg.offset + i]); state is laid out like params. No
 * barrier at the end: the caller provides it. */
void R(nn_optim_segment_nowait)(const pynn_optim *opt, pynn_segment sg, real *params,
                                const real *g, real *state, int64_t n_params);

/* db_j = sum_i dZ_ij, each column summed by one thread in row order, and on
 * the way nn_max_abs_nowait of dZ into *max_dz and of db into *max_db (each
 * skipped when NULL). No barrier at the end. */
void R(nn_column_sums_nowait)(int64_t batch, int64_t n, const real *dZ, real *db, double *max_dz,
                              double *max_db);

/* *m = max(*m, max_i |x_i|) over this thread's share of x, or +inf when a value
 * is inf or NaN. m is the calling thread's own slot; no barrier at the end. */
void R(nn_max_abs_nowait)(const real *x, int64_t n, double *m);
