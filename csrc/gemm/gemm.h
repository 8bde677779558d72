/* SPDX-License-Identifier: MIT
 * gemm/gemm.h: the internal GEMM interface every matrix product in pynn goes
 * through. Row-major, C = epilogue(alpha * op(A) op(B) + beta * C), op in
 * {N, T}. The caller provides the packing workspace (pynn_gemm_ws_bytes), so a
 * training step allocates nothing. Determinism: every element of C is computed
 * by one thread in a fixed order that depends only on (m, n, k) and the kernel,
 * never on n_threads. */
#ifndef PYNN_GEMM_H
#define PYNN_GEMM_H

#include "../common.h"

/* Bytes of workspace that any call with this dtype and up to n_threads needs. */
size_t pynn_gemm_ws_bytes(int dtype, int n_threads);

int pynn_gemm_ws_s(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                   float *C, int64_t ldc, const pynn_epilogue *epi, void *ws, int n_threads);
int pynn_gemm_ws_d(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                   const double *A, int64_t lda, const double *B, int64_t ldb, double beta,
                   double *C, int64_t ldc, const pynn_epilogue *epi, void *ws, int n_threads);

/* The same product as a team function (threads.h): every thread of the calling
 * team calls it with the same arguments and they share the output tiles; C is
 * complete for all of them when it returns. Outside a team, the calling thread
 * computes it all. Arguments must already be valid; ws holds
 * pynn_gemm_ws_bytes(dtype, team size). */
void pynn_gemm_team_s(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                      const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                      float *C, int64_t ldc, const pynn_epilogue *epi, void *ws);
void pynn_gemm_team_d(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                      const double *A, int64_t lda, const double *B, int64_t ldb, double beta,
                      double *C, int64_t ldc, const pynn_epilogue *epi, void *ws);

/* One product for pynn_gemm_team_many (alpha, beta converted to the dtype). */
typedef struct {
    int trans_a, trans_b;
    int64_t m, n, k;
    double alpha, beta;
    const void *A;
    int64_t lda;
    const void *B;
    int64_t ldb;
    void *C;
    int64_t ldc;
    const pynn_epilogue *epi;
} pynn_gemm_op;

#define PYNN_GEMM_MAX_OPS 4

/* Independent products (no C overlaps another's operands) as ONE team
 * function: the team shares out the tiles of all of them in one schedule, so
 * it waits once, not after each. Each C is computed exactly as by
 * pynn_gemm_team. n_ops <= PYNN_GEMM_MAX_OPS. */
void pynn_gemm_team_many_s(const pynn_gemm_op *ops, int n_ops, void *ws);
void pynn_gemm_team_many_d(const pynn_gemm_op *ops, int n_ops, void *ws);

#endif /* PYNN_GEMM_H */
