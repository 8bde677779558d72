/* SPDX-License-Identifier: MIT
 * alloc.c: aligned allocation and overflow-checked byte counts. */
#include <stdlib.h>
#include "common.h"

int pynn_bytes(int dtype, int64_t n, int64_t *bytes)
{
    int64_t b;
    PYNN_CHECK(pynn_mul_i64(n, (int64_t)pynn_dtype_size(dtype), &b));
    PYNN_CHECK(pynn_add_i64(b, PYNN_ALIGN - 1, &b));
    *bytes = b / PYNN_ALIGN * PYNN_ALIGN;
    return PYNN_OK;
}

void *pynn_alloc(size_t bytes)
{
    void *p = NULL;
    if (bytes == 0 || bytes > (size_t)INT64_MAX) return NULL;
    bytes = (bytes + PYNN_ALIGN - 1) / PYNN_ALIGN * PYNN_ALIGN;
    if (posix_memalign(&p, PYNN_ALIGN, bytes) != 0) return NULL;
    return p;
}

void pynn_free(void *p) { free(p); }
