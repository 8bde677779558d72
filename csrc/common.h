/* SPDX-License-Identifier: MIT
 * common.h: private helpers shared by every C file: restrict/alignment macros,
 * checked size arithmetic, aligned allocation, and the float/double template
 * names (see template.h). Never seen by Cython. */
#ifndef PYNN_COMMON_H
#define PYNN_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include "pynn.h"

#define PYNN_RESTRICT restrict
#define PYNN_ALIGN 64                       /* bytes: a cache line, and an AVX-512 vector */
#define PYNN_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PYNN_MAX(a, b) ((a) > (b) ? (a) : (b))
/* Elementwise loops compiled twice, for the baseline ISA and for AVX2 (not
 * FMA: no contraction, so both clones give the same bits); glibc's loader
 * picks one from the CPU once (ifunc). Elsewhere: the baseline only. */
#if defined(__x86_64__) && defined(__GLIBC__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define PYNN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PYNN_CLONES
#endif
#define PYNN_CHECK(expr) do { int st_ = (expr); if (st_ != PYNN_OK) return st_; } while (0)

/* *out = a * b, or PYNN_ERR_OVERFLOW when it does not fit in int64 (a, b >= 0). */
static inline int pynn_mul_i64(int64_t a, int64_t b, int64_t *out)
{
    if (a < 0 || b < 0) return PYNN_ERR_SHAPE;
    if (a != 0 && b > INT64_MAX / a) return PYNN_ERR_OVERFLOW;
    *out = a * b;
    return PYNN_OK;
}

/* *out = a + b for a, b >= 0, or PYNN_ERR_OVERFLOW. */
static inline int pynn_add_i64(int64_t a, int64_t b, int64_t *out)
{
    if (a > INT64_MAX - b) return PYNN_ERR_OVERFLOW;
    *out = a + b;
    return PYNN_OK;
}

static inline size_t pynn_dtype_size(int dtype) { return dtype == PYNN_F64 ? sizeof(double) : sizeof(float); }

/* Bytes for n elements of dtype, rounded up to PYNN_ALIGN, or PYNN_ERR_OVERFLOW. */
int pynn_bytes(int dtype, int64_t n, int64_t *bytes);

/* 64-byte-aligned allocation; NULL on failure or bytes == 0. */
void *pynn_alloc(size_t bytes);
void pynn_free(void *p);

/* Template naming: inside a templated body, R(name) is name_s for float and
 * name_d for double, and `real` is the element type. */
#define PYNN_CAT_(a, b) a##b
#define PYNN_CAT(a, b) PYNN_CAT_(a, b)

#endif /* PYNN_COMMON_H */
