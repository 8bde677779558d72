/* SPDX-License-Identifier: MIT
 * gemm/ukr_avx2.c: the AVX2+FMA kernel set: micro-kernels float 6x16 and
 * double 6x8 with the epilogue in registers (body in ukr_avx2.inc.c), and the
 * transposing packs (register transposes of 8 x 8 floats / 4 x 4 doubles). Compiled with
 * -mavx2 -mfma for this file only (sources.cmake); it holds kernels only, so no
 * AVX2 instruction can leak into code that runs before dispatch. The contracts
 * are in kernels.h. */
#include <immintrin.h>
#include "kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/*** @@UKR: the micro-kernels (float 6x16, double 6x8) ***/

#define PYNN_TEMPLATE "gemm/ukr_avx2.inc.c"
#include "../template.h"

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
