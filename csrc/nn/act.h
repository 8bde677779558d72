/* SPDX-License-Identifier: MIT
 * nn/act.h: activations and their derivatives over a contiguous run of values,
 * as static inline templated bodies (included from inside a template pass, see
 * template.h). Used by the dense layer and by the GEMM epilogue on output tiles.
 * Derivatives are taken from the activation's OUTPUT a = f(z), so the backward
 * pass never needs Z. NaN propagates through every function. */
#include <math.h>

static inline real R(act_exp)(real x) { return PYNN_IS_F64 ? (real)exp((double)x) : (real)expf((float)x); }
static inline real R(act_tanh)(real x) { return PYNN_IS_F64 ? (real)tanh((double)x) : (real)tanhf((float)x); }

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
