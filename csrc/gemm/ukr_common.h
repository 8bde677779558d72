/* SPDX-License-Identifier: MIT
 * gemm/ukr_common.h: what the SIMD kernel files (ukr_avx2.c, ukr_avx512.c,
 * ukr_avx512_6x64.c) share ahead of their templated bodies: the intrinsics,
 * the kernel contract, forced inlining, and the prefetch the micro-kernel body
 * and the packs use. */
#ifndef PYNN_GEMM_UKR_COMMON_H
#define PYNN_GEMM_UKR_COMMON_H

#include <immintrin.h>
#include "kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
/* Prefetch of element p[off] (`real` is the template's element type); the
 * address is formed as an integer, since it may lie past the array (an edge
 * tile, the next micro-panel): a prefetch never faults, but such a pointer
 * would be undefined behaviour in C. */
#define PREFETCH(p, off) \
    _mm_prefetch((const char *)((uintptr_t)(p) + (uintptr_t)((off) * (int64_t)sizeof(real))), _MM_HINT_T0)

#endif /* PYNN_GEMM_UKR_COMMON_H */
