/* SPDX-License-Identifier: MIT
 * nn/act.h: activations and their derivatives over a contiguous run of values,
 * as static inline templated bodies (included from inside a template pass, see
 * template.h). Used by the dense layer and by the GEMM epilogue on output tiles.
 * Derivatives are taken from the activation's OUTPUT a = f(z), so the backward
 * pass never needs Z. NaN propagates through every function. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#if PYNN_IS_F64
static inline real R(act_exp)(real x) { return exp(x); }
static inline real R(act_tanh)(real x) { return tanh(x); }
#else
/* e^x in float without a libm call, branch-free, so the loops over it
 * vectorize (libm's expf/tanhf are scalar calls, 20-30 ns each). x = n ln2 + r
 * with n = round(x / ln2) and ln2 in two parts (n ln2_hi exact), |r| <= ln2/2;
 * e^r by its degree-7 Taylor polynomial (truncation < 5e-9 relative); 2^n as
 * 2^(n/2) 2^(n - n/2), two normal powers, so subnormal results round once.
 * Within ~2 ulp of e^x; inf above ln(FLT_MAX), 0 below -104, NaN stays NaN. */
static inline float R(act_exp)(float x)
{
    /* one unconditional select per line: a chained ?: would need its second
     * comparison speculated, which -ftrapping-math forbids, and not vectorize */
    const float hi = 88.7228317f, lo = -103.972694f;
    float xc = x > hi ? hi : x, y;
    xc = xc < lo ? lo : xc;
    xc = xc == xc ? xc : 0.0f;                                         /* NaN: fixed below */
    const float n = (xc * 1.44269504f + 12582912.0f) - 12582912.0f;    /* round(x / ln2) */
    const float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f;     /* x - n ln2 */
    const float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.66666667e-1f + r * (4.16666667e-2f +
                    r * (8.33333333e-3f + r * (1.38888889e-3f + r * 1.98412698e-4f))))));
    const int32_t ni = (int32_t)n, n1 = ni >> 1, n2 = ni - n1;
    const int32_t b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
    float s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    y = p * s1 * s2;                                                   /* e^r 2^n1 2^n2 */
    y = x > hi ? INFINITY : y;
    y = x < lo ? 0.0f : y;
    return x == x ? y : x;
}

/* tanh in float from act_exp: the odd Taylor series up to z^13 for |z| < 0.4
 * (first omitted term < 4e-9 relative), else (1 - e^-2|z|) / (1 + e^-2|z|)
 * with z's sign: no overflow, exactly 1 for large |z|. */
static inline float R(act_tanh)(float z)
{
    const float a = z < 0 ? -z : z, a2 = a * a;
    const float small = a * (1.0f + a2 * (-3.33333333e-1f + a2 * (1.33333333e-1f + a2 *
                        (-5.39682540e-2f + a2 * (2.18694885e-2f + a2 * (-8.86323552e-3f +
                        a2 * 3.59212803e-3f))))));
    const float e = R(act_exp)(-2.0f * a), big = (1.0f - e) / (1.0f + e);
    const float t = a < 0.4f ? small : big;
    const float pos = z > 0 ? t : z;                                   /* keeps -0 and NaN */
    return z < 0 ? -t : pos;
}
#endif

/* z[i] = f(z[i]) for every elementwise activation (not softmax). */
static inline void R(act_forward)(int act, real slope, real *PYNN_RESTRICT z, int64_t n)
{
    int64_t i;
    switch (act) {
    case PYNN_ACT_SIGMOID:
        for (i = 0; i < n; i++) z[i] = (real)1 / ((real)1 + R(act_exp)(-z[i])); /* 1 / (1 + e^-z) */
        break;
    case PYNN_ACT_TANH:
        for (i = 0; i < n; i++) z[i] = R(act_tanh)(z[i]);
        break;
    case PYNN_ACT_RELU:
        for (i = 0; i < n; i++) z[i] = z[i] < 0 ? (real)0 : z[i];                 /* max(z, 0) */
        break;
    case PYNN_ACT_LEAKY_RELU:
        for (i = 0; i < n; i++) z[i] = z[i] < 0 ? slope * z[i] : z[i];            /* z or slope z */
        break;
    default: /* identity */
        break;
    }
}

/* dz[i] *= f'(z_i), with f' expressed through a[i] = f(z_i). */
static inline void R(act_mul_deriv)(int act, real slope, const real *PYNN_RESTRICT a,
                                    real *PYNN_RESTRICT dz, int64_t n)
{
    int64_t i;
    switch (act) {
    case PYNN_ACT_SIGMOID:
        for (i = 0; i < n; i++) dz[i] *= a[i] * ((real)1 - a[i]);                  /* f' = a (1 - a) */
        break;
    case PYNN_ACT_TANH:
        for (i = 0; i < n; i++) dz[i] *= (real)1 - a[i] * a[i];                    /* f' = 1 - a^2 */
        break;
    case PYNN_ACT_RELU:
        for (i = 0; i < n; i++) dz[i] = a[i] > 0 ? dz[i] : (real)0;               /* f' = [a > 0] */
        break;
    case PYNN_ACT_LEAKY_RELU:
        for (i = 0; i < n; i++) dz[i] = a[i] > 0 ? dz[i] : slope * dz[i];         /* f' = 1 or slope */
        break;
    default: /* identity: f' = 1 */
        break;
    }
}

/* One row of dA -> dZ in place: dZ = dA f'(A), or for softmax the Jacobian
 * product dZ_j = A_j (dA_j - sum_k dA_k A_k). */
static inline void R(act_backward_row)(int act, real slope, const real *PYNN_RESTRICT a,
                                       real *PYNN_RESTRICT dz, int64_t n)
{
    if (act == PYNN_ACT_SOFTMAX) {
        real dot = 0;                                             /* s = sum_k dA_k A_k */
        int64_t j;
        for (j = 0; j < n; j++) dot += dz[j] * a[j];
        for (j = 0; j < n; j++) dz[j] = a[j] * (dz[j] - dot);     /* dZ_j = A_j (dA_j - s) */
    } else {
        R(act_mul_deriv)(act, slope, a, dz, n);
    }
}

/* Applies an epilogue to the rows x cols tile of C at (i0, j0). */
static inline void R(epilogue_tile)(const pynn_epilogue *epi, real *C, int64_t ldc, int64_t i0,
                                    int64_t j0, int64_t rows, int64_t cols)
{
    int64_t i, j;
    if (!epi || epi->kind == PYNN_EPI_NONE) return;
    for (i = 0; i < rows; i++) {
        real *c = C + (i0 + i) * ldc + j0;
        if (epi->kind == PYNN_EPI_BIAS_ACT) {
            const real *b = (const real *)epi->bias;
            if (b)
                for (j = 0; j < cols; j++) c[j] += b[j0 + j];                     /* Z = XW + b */
            R(act_forward)(epi->act, (real)epi->slope, c, cols);                  /* A = f(Z) */
        } else {
            const real *a = (const real *)epi->deriv_of + (i0 + i) * epi->ld_deriv + j0;
            R(act_mul_deriv)(epi->act, (real)epi->slope, a, c, cols);            /* dZ = dA f'(A) */
        }
    }
}
