/* SPDX-License-Identifier: MIT
 * nn/abs_bits.h: max |x| and the finiteness test in one integer max (static
 * inline templated bodies, included from inside a template pass). The IEEE
 * bits of x with the sign cleared, read as an integer, order like |x|, and
 * every inf and NaN lies above the largest finite value; an integer max
 * vectorizes where a float max with NaN semantics does not. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#if PYNN_IS_F64
typedef int64_t R(abs_bits_t);
#else
typedef int32_t R(abs_bits_t);
#endif

static inline R(abs_bits_t) R(abs_bits)(real x)
{
    R(abs_bits_t) b;
    memcpy(&b, &x, sizeof b);
    return b & (PYNN_IS_F64 ? (R(abs_bits_t))INT64_MAX : (R(abs_bits_t))INT32_MAX);
}

/* The largest abs_bits over x[0..n): past abs_bits(largest finite) exactly when
 * some x is inf or NaN. */
static inline R(abs_bits_t) R(abs_bits_max)(const real *x, int64_t n)
{
    R(abs_bits_t) top = 0;
    for (int64_t i = 0; i < n; i++) {
        R(abs_bits_t) b = R(abs_bits)(x[i]);
        top = b > top ? b : top;
    }
    return top;
}

/* *m = max(*m, the |x| whose bits are top), or +inf when that is inf or NaN. */
static inline void R(abs_bits_merge)(R(abs_bits_t) top, double *m)
{
    real t;
    memcpy(&t, &top, sizeof t);
    if (!(t <= (PYNN_IS_F64 ? DBL_MAX : FLT_MAX))) *m = INFINITY;
    else if ((double)t > *m) *m = (double)t;
}
