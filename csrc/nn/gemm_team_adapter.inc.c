static void R(pynn_gemm_team)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, real alpha,
                              const real *A, int64_t lda, const real *B, int64_t ldb, real beta,
                              real *C, int64_t ldc, const pynn_epilogue *epi, void *ws)
{
    PYNN_PRAGMA(omp single)
    R(pynn_gemm_ws)(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, epi, ws, 1);
}
