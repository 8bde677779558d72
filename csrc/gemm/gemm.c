/* SPDX-License-Identifier: MIT
 * gemm/gemm.c: the blocked, packed GEMM driver (BLIS's five loops around a
 * micro-kernel, Goto & van de Geijn's GEPP/GEBP) and its packing routines, for
 * float and double from one templated body (gemm.inc.c). It knows nothing
 * about ISAs: the micro-kernel and the block sizes come from the kernel set
 * chosen in cpu.c. Compiled at baseline flags. */
#include <string.h>
#include "gemm.h"
#include "kernels.h"
#include "../threads.h"

/* Below this many flops a GEMM runs on one thread: waking the OpenMP team and
 * the per-panel barriers cost more than the second core saves (measured with
 * bench/gemm_table.py --threshold; see the report in issue 3). */
#define GEMM_MIN_FLOPS_PER_THREAD 400000.0

#define ROUND_UP(x, a) (((x) + (a) - 1) / (a) * (a))

/* Workspace layout (bytes, each part 64-byte aligned): the shared B panel
 * (KC x NC), then one A block (MC x KC) per thread. */
static size_t b_panel_bytes(const pynn_gemm_blocks *bl, size_t es)
{
    return ROUND_UP((size_t)bl->kc * (size_t)bl->nc * es, PYNN_ALIGN);
}

static size_t a_block_bytes(const pynn_gemm_blocks *bl, size_t es)
{
    return ROUND_UP((size_t)ROUND_UP(bl->mc, bl->mr) * (size_t)bl->kc * es, PYNN_ALIGN);
}

size_t pynn_gemm_ws_bytes(int dtype, int n_threads)
{
    size_t es = pynn_dtype_size(dtype), best = 0;
    int i;
    if (n_threads < 1) n_threads = 1;
    for (i = 0; pynn_gemm_kernels_built[i]; i++) {   /* any kernel PYNN_KERNEL may pick */
        const pynn_gemm_kernel *kern = pynn_gemm_kernels_built[i];
        const pynn_gemm_blocks *bl = dtype == PYNN_F64 ? &kern->bd : &kern->bs;
        size_t b = b_panel_bytes(bl, es) + (size_t)n_threads * a_block_bytes(bl, es);
        if (b > best) best = b;
    }
    return best + PYNN_ALIGN;   /* slack to align a caller's pointer */
}

static void *align_ws(void *ws)
{
    uintptr_t p = (uintptr_t)ws;
    return (void *)ROUND_UP(p, (uintptr_t)PYNN_ALIGN);
}

/* Threads for a product of `flops`, never more than there are work items. */
static int gemm_threads(int n_threads, double flops, int64_t max_items)
{
    int nt = n_threads;
    double by_work = flops / GEMM_MIN_FLOPS_PER_THREAD;
#ifdef _OPENMP
    if (omp_in_parallel()) return 1;                  /* no nested teams */
#endif
    if (by_work < (double)nt) nt = by_work < 1.0 ? 1 : (int)by_work;
    if ((int64_t)nt > max_items) nt = (int)(max_items < 1 ? 1 : max_items);
    return nt < 1 ? 1 : nt;
}

#define PYNN_TEMPLATE "gemm/gemm.inc.c"
#include "../template.h"
