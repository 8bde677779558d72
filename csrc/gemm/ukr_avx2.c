/* SPDX-License-Identifier: MIT
 * gemm/ukr_avx2.c: the AVX2+FMA kernel set: micro-kernels float 6x16 and
 * double 6x8 with the epilogue in registers, the column kernels (up to 12
 * columns) and the transposing packs (one body for both dtypes in
 * ukr_avx2.inc.c; here the per-dtype register transposes and partial stores
 * it uses). Compiled with -mavx2 -mfma for this file only (sources.cmake); it
 * holds kernels only, so no AVX2 instruction can leak into code that runs
 * before dispatch. The contracts are in kernels.h. */
#include "ukr_common.h"

/*** @@TRANSPOSE: the register transposes and partial stores of the packs ***/

/* r[q] = column q of the 8 x 8 block r[0..7] (r[i] = row i). */
ALWAYS_INLINE void transpose_s(__m256 r[8])
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

/* r[q] = column q of the 4 x 4 block r[0..3]. */
ALWAYS_INLINE void transpose_d(__m256d r[4])
{
    __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

/* o[0:v] = the first v < 8 lanes of x; v = 6 is the 6-row A micro-panel. */
ALWAYS_INLINE void store_first_s(float *o, __m256 x, int v)
{
    float t[8];
    int i;
    if (v == 6) {
        _mm_storeu_ps(o, _mm256_castps256_ps128(x));
        _mm_storel_pi((__m64 *)(o + 4), _mm256_extractf128_ps(x, 1));
        return;
    }
    _mm256_storeu_ps(t, x);
    for (i = 0; i < v; i++) o[i] = t[i];
}

/* o[0:v] = the first v < 4 lanes of x; v = 2 is rows 4, 5 of the A micro-panel. */
ALWAYS_INLINE void store_first_d(double *o, __m256d x, int v)
{
    double t[4];
    int i;
    if (v == 2) {
        _mm_storeu_pd(o, _mm256_castpd256_pd128(x));
        return;
    }
    _mm256_storeu_pd(t, x);
    for (i = 0; i < v; i++) o[i] = t[i];
}

/*** @@UKR: the micro-kernels (float 6x16, double 6x8) and the transposing packs ***/

#define PYNN_TEMPLATE "gemm/ukr_avx2.inc.c"
#include "../template.h"
