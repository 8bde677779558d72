/* SPDX-License-Identifier: MIT
 * gemm/ukr_avx2.c: AVX2+FMA micro-kernels, float 6x16 and double 6x8 (12 ymm
 * accumulators, 2 for the B row, 1 for the broadcast of A). Compiled with
 * -mavx2 -mfma for this file only (sources.cmake); it holds kernels only, so no
 * AVX2 instruction can leak into code that runs before dispatch. The contract
 * is in kernels.h. */
#include <immintrin.h>
#include "kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/*** @@S: float 6x16 ***/

/* The k loop; rs_a/cs_a are constants when inlined from the packed call. */
#define S_ROW(i)                                                        \
    {                                                                   \
        __m256 ai = _mm256_broadcast_ss(a + (i) * rs_a);               \
        c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);                     \
        c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);                     \
    }

#define S_STORE_ROW(i)                                                  \
    {                                                                   \
        float *ci = c + (i) * ldc;                                      \
        if (beta == 0) {                                                \
            _mm256_storeu_ps(ci, _mm256_mul_ps(va, c##i##0));           \
            _mm256_storeu_ps(ci + 8, _mm256_mul_ps(va, c##i##1));       \
        } else {                                                        \
            _mm256_storeu_ps(ci, _mm256_fmadd_ps(va, c##i##0, _mm256_mul_ps(vb, _mm256_loadu_ps(ci)))); \
            _mm256_storeu_ps(ci + 8, _mm256_fmadd_ps(va, c##i##1, _mm256_mul_ps(vb, _mm256_loadu_ps(ci + 8)))); \
        }                                                               \
    }

#define S_SAVE_ROW(i)                                                   \
    _mm256_storeu_ps(t[i], c##i##0);                                    \
    _mm256_storeu_ps(t[i] + 8, c##i##1);

ALWAYS_INLINE void s6x16(int64_t k, const float *a, int64_t rs_a, int64_t cs_a, const float *b,
                         float *c, int64_t ldc, float alpha, float beta, int mr, int nr)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    __m256 va, vb;
    int64_t p;
    int i;
    for (i = 0; i < mr; i++) {                  /* C rows come in while A, B stream */
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 15), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (p = 0; p < k; p++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        S_ROW(0) S_ROW(1) S_ROW(2) S_ROW(3) S_ROW(4) S_ROW(5)
        a += cs_a;
        b += 16;
    }
    va = _mm256_set1_ps(alpha);
    vb = _mm256_set1_ps(beta);
    if (mr == 6 && nr == 16) {
        S_STORE_ROW(0) S_STORE_ROW(1) S_STORE_ROW(2) S_STORE_ROW(3) S_STORE_ROW(4) S_STORE_ROW(5)
    } else {                                    /* edge tile: same arithmetic, element by element */
        float t[6][16] __attribute__((aligned(32)));
        int j;
        S_SAVE_ROW(0) S_SAVE_ROW(1) S_SAVE_ROW(2) S_SAVE_ROW(3) S_SAVE_ROW(4) S_SAVE_ROW(5)
        for (i = 0; i < mr; i++) {
            float *ci = c + i * ldc;
            if (beta == 0)
                for (j = 0; j < nr; j++) ci[j] = alpha * t[i][j];
            else
                for (j = 0; j < nr; j++) ci[j] = __builtin_fmaf(alpha, t[i][j], beta * ci[j]);
        }
    }
}

void pynn_sgemm_ukr_avx2_6x16(int64_t k, const float *a, int64_t rs_a, int64_t cs_a,
                              const float *b, float *c, int64_t ldc, float alpha, float beta,
                              int mr, int nr)
{
    if (rs_a == 1 && cs_a == 6)
        s6x16(k, a, 1, 6, b, c, ldc, alpha, beta, mr, nr);          /* packed A */
    else if (cs_a == 1)
        s6x16(k, a, rs_a, 1, b, c, ldc, alpha, beta, mr, nr);       /* A in place, row-major */
    else
        s6x16(k, a, rs_a, cs_a, b, c, ldc, alpha, beta, mr, nr);    /* A in place, transposed */
}

/*** @@D: double 6x8 ***/

#define D_ROW(i)                                                        \
    {                                                                   \
        __m256d ai = _mm256_broadcast_sd(a + (i) * rs_a);              \
        c##i##0 = _mm256_fmadd_pd(ai, b0, c##i##0);                     \
        c##i##1 = _mm256_fmadd_pd(ai, b1, c##i##1);                     \
    }

#define D_STORE_ROW(i)                                                  \
    {                                                                   \
        double *ci = c + (i) * ldc;                                     \
        if (beta == 0) {                                                \
            _mm256_storeu_pd(ci, _mm256_mul_pd(va, c##i##0));           \
            _mm256_storeu_pd(ci + 4, _mm256_mul_pd(va, c##i##1));       \
        } else {                                                        \
            _mm256_storeu_pd(ci, _mm256_fmadd_pd(va, c##i##0, _mm256_mul_pd(vb, _mm256_loadu_pd(ci)))); \
            _mm256_storeu_pd(ci + 4, _mm256_fmadd_pd(va, c##i##1, _mm256_mul_pd(vb, _mm256_loadu_pd(ci + 4)))); \
        }                                                               \
    }

#define D_SAVE_ROW(i)                                                   \
    _mm256_storeu_pd(t[i], c##i##0);                                    \
    _mm256_storeu_pd(t[i] + 4, c##i##1);

ALWAYS_INLINE void d6x8(int64_t k, const double *a, int64_t rs_a, int64_t cs_a, const double *b,
                        double *c, int64_t ldc, double alpha, double beta, int mr, int nr)
{
    __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256d c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    __m256d va, vb;
    int64_t p;
    int i;
    for (i = 0; i < mr; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 7), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (p = 0; p < k; p++) {
        __m256d b0 = _mm256_load_pd(b), b1 = _mm256_load_pd(b + 4);
        D_ROW(0) D_ROW(1) D_ROW(2) D_ROW(3) D_ROW(4) D_ROW(5)
        a += cs_a;
        b += 8;
    }
    va = _mm256_set1_pd(alpha);
    vb = _mm256_set1_pd(beta);
    if (mr == 6 && nr == 8) {
        D_STORE_ROW(0) D_STORE_ROW(1) D_STORE_ROW(2) D_STORE_ROW(3) D_STORE_ROW(4) D_STORE_ROW(5)
    } else {
        double t[6][8] __attribute__((aligned(32)));
        int j;
        D_SAVE_ROW(0) D_SAVE_ROW(1) D_SAVE_ROW(2) D_SAVE_ROW(3) D_SAVE_ROW(4) D_SAVE_ROW(5)
        for (i = 0; i < mr; i++) {
            double *ci = c + i * ldc;
            if (beta == 0)
                for (j = 0; j < nr; j++) ci[j] = alpha * t[i][j];
            else
                for (j = 0; j < nr; j++) ci[j] = __builtin_fma(alpha, t[i][j], beta * ci[j]);
        }
    }
}

void pynn_dgemm_ukr_avx2_6x8(int64_t k, const double *a, int64_t rs_a, int64_t cs_a,
                             const double *b, double *c, int64_t ldc, double alpha, double beta,
                             int mr, int nr)
{
    if (rs_a == 1 && cs_a == 6)
        d6x8(k, a, 1, 6, b, c, ldc, alpha, beta, mr, nr);
    else if (cs_a == 1)
        d6x8(k, a, rs_a, 1, b, c, ldc, alpha, beta, mr, nr);
    else
        d6x8(k, a, rs_a, cs_a, b, c, ldc, alpha, beta, mr, nr);
}
