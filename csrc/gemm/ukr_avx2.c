/* SPDX-License-Identifier: MIT
 * gemm/ukr_avx2.c: AVX2+FMA micro-kernels, float 6x16 and double 6x8 (12 ymm
 * accumulators, 2 for the B row, 1 for the broadcast of A), and the transposing
 * packs (register transposes of 8 x 8 floats / 4 x 4 doubles). Compiled with
 * -mavx2 -mfma for this file only (sources.cmake); it holds kernels only, so no
 * AVX2 instruction can leak into code that runs before dispatch. The contracts
 * are in kernels.h. */
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

/*** @@PACK: transposing packs, dst[p * rows + i] = src[i * ld + p] ***/

/* out[q] = column q of the 8 x 8 block r[0..7] (r[i] = row i). */
ALWAYS_INLINE void s_transpose8(__m256 r[8])
{
    __m256 t[8], s[8];
    int i;
    for (i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (i = 0; i < 8; i += 4) {
        s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31);
    }
}

/* Rows in groups of 8 (the last may hold fewer, read as zero), columns p in
 * blocks of 8 through an 8 x 8 register transpose, the p tail one by one. */
void pynn_pack_rows_avx2_s(int64_t kc, const float *src, int64_t ld, int rows, float *dst)
{
    const int64_t kc8 = kc / 8 * 8;
    int g;
    for (g = 0; g < rows; g += 8) {
        const int v = rows - g < 8 ? rows - g : 8;    /* valid rows in this group */
        const float *s = src + g * ld;
        float *d = dst + g;
        int64_t p;
        int i, q;
        for (p = 0; p < kc8; p += 8) {
            __m256 r[8];
            for (i = 0; i < 8; i++)
                r[i] = i < v ? _mm256_loadu_ps(s + i * ld + p) : _mm256_setzero_ps();
            s_transpose8(r);
            for (q = 0; q < 8; q++) {
                float *o = d + (p + q) * rows;
                if (v == 8) {
                    _mm256_storeu_ps(o, r[q]);
                } else if (v == 6) {                  /* the 6-row A micro-panel */
                    _mm_storeu_ps(o, _mm256_castps256_ps128(r[q]));
                    _mm_storel_pi((__m64 *)(o + 4), _mm256_extractf128_ps(r[q], 1));
                } else {
                    float t[8];
                    _mm256_storeu_ps(t, r[q]);
                    for (i = 0; i < v; i++) o[i] = t[i];
                }
            }
        }
        for (; p < kc; p++)
            for (i = 0; i < v; i++) d[p * rows + i] = s[i * ld + p];
    }
}

/* out[q] = column q of the 4 x 4 block r[0..3]. */
ALWAYS_INLINE void d_transpose4(__m256d r[4])
{
    __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

/* Rows in groups of 4 (the last may hold fewer), columns in blocks of 4. */
void pynn_pack_rows_avx2_d(int64_t kc, const double *src, int64_t ld, int rows, double *dst)
{
    const int64_t kc4 = kc / 4 * 4;
    int g;
    for (g = 0; g < rows; g += 4) {
        const int v = rows - g < 4 ? rows - g : 4;
        const double *s = src + g * ld;
        double *d = dst + g;
        int64_t p;
        int i, q;
        for (p = 0; p < kc4; p += 4) {
            __m256d r[4];
            for (i = 0; i < 4; i++)
                r[i] = i < v ? _mm256_loadu_pd(s + i * ld + p) : _mm256_setzero_pd();
            d_transpose4(r);
            for (q = 0; q < 4; q++) {
                double *o = d + (p + q) * rows;
                if (v == 4) {
                    _mm256_storeu_pd(o, r[q]);
                } else if (v == 2) {                  /* rows 4, 5 of the 6-row A micro-panel */
                    _mm_storeu_pd(o, _mm256_castpd256_pd128(r[q]));
                } else {
                    double t[4];
                    _mm256_storeu_pd(t, r[q]);
                    for (i = 0; i < v; i++) o[i] = t[i];
                }
            }
        }
        for (; p < kc; p++)
            for (i = 0; i < v; i++) d[p * rows + i] = s[i * ld + p];
    }
}
