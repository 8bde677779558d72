/* SPDX-License-Identifier: MIT
 * gemm/gemm_api.c: the public pynn_gemm: validates sizes and strides,
 * allocates the packing workspace this shape needs, and dispatches on dtype. */
#include "gemm.h"
#include "kernels.h"

/* Workspaces up to this size live on the stack (a malloc + free of a fresh
 * block costs about as much as a 32^3 product). */
#define GEMM_STACK_WS 65536

/* Checks a row-major rows x cols operand with row stride ld. */
static int check_operand(const void *p, int64_t rows, int64_t cols, int64_t ld)
{
    int64_t span;
    if (rows < 0 || cols < 0) return PYNN_ERR_SHAPE;
    if (rows == 0 || cols == 0) return PYNN_OK;
    if (!p) return PYNN_ERR_ARG;
    if (ld < cols) return PYNN_ERR_SHAPE;
    return pynn_mul_i64(rows, ld, &span);
}

int pynn_gemm(int dtype, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
              double alpha, const void *A, int64_t lda, const void *B, int64_t ldb,
              double beta, void *C, int64_t ldc, const pynn_epilogue *epi, int n_threads)
{
    _Alignas(PYNN_ALIGN) char small_ws[GEMM_STACK_WS];
    size_t ws_bytes;
    void *ws = NULL, *heap = NULL;
    int st;
    if (dtype != PYNN_F32 && dtype != PYNN_F64) return PYNN_ERR_ARG;
    if ((trans_a != 0 && trans_a != 1) || (trans_b != 0 && trans_b != 1)) return PYNN_ERR_ARG;
    if (n_threads < 1) return PYNN_ERR_ARG;
    PYNN_CHECK(check_operand(A, trans_a ? k : m, trans_a ? m : k, lda));
    PYNN_CHECK(check_operand(B, trans_b ? n : k, trans_b ? k : n, ldb));
    PYNN_CHECK(check_operand(C, m, n, ldc));
    if (m == 0 || n == 0) return PYNN_OK;
    ws_bytes = pynn_gemm_ws_bytes_shape(dtype, m, n, k, n_threads);   /* this shape only */
    if (ws_bytes <= sizeof small_ws) ws = small_ws;    /* small products: no malloc */
    else if (!(ws = heap = pynn_alloc(ws_bytes))) return PYNN_ERR_NOMEM;
    if (dtype == PYNN_F32)
        st = pynn_gemm_ws_s(trans_a, trans_b, m, n, k, (float)alpha, (const float *)A, lda,
                            (const float *)B, ldb, (float)beta, (float *)C, ldc, epi, ws, n_threads);
    else
        st = pynn_gemm_ws_d(trans_a, trans_b, m, n, k, alpha, (const double *)A, lda,
                            (const double *)B, ldb, beta, (double *)C, ldc, epi, ws, n_threads);
    pynn_free(heap);
    return st;
}
