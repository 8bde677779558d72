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

/* A second thread is woken from 2 x this many flops on. Measured on the 2-core
 * znver3 with libgomp's barriers (1 vs 2 threads forced, medians, quiet
 * machine): 2 threads tied at 130-260 kflop (32x64x64: 0.98x, 64x64x32:
 * 1.15x), gained 1.1x at 330-520 kflop (128x10x128, 64^3), 1.4x from 1 Mflop
 * (80^3: 1.45x, 128^3: 1.39x), so the bar stood at 500 kflop a thread. With
 * pynn's own barrier (threads.h), on the family 25 model 17 EPYC (AVX-512),
 * pynn.ops.matmul, medians of 7 interleaved rounds, 2 threads against 1:
 * 32x64x64 and 64x64x32 (262 kflop) 0.95x, 32x64x96 1.11x, 128x10x128 1.15x,
 * 48x64x64 1.11x, 64^3 1.14-1.18x, 32x64x128 1.20x (each call opening its
 * team; at the old bar these ran on one thread, 0.97-1.00x). The tiny network
 * at batch 64 then took 23.4-25.9 us a step on 2 threads against 26.5-27.0 on
 * one (0.92x before); small, mnist and [64, 128, 128, 8] moved by <= 1.5%.
 * When another process holds the other core, a team costs a scheduler tick
 * (4-12 ms measured) at any size; the adaptive thread count (nn/tuner.c)
 * then keeps the step on one thread. */
#define GEMM_MIN_FLOPS_PER_THREAD 150000.0

#define ROUND_UP(x, a) (((x) + (a) - 1) / (a) * (a))

/* KC balanced over the k range, so the last panel is not a sliver (k = KC + 1
 * gives two halves). Depends on k and the kernel set only. */
static int64_t kc_block(const pynn_gemm_blocks *bl, int64_t k)
{
    int64_t n_pc, kc;
    if (k < 1) k = 1;
    n_pc = (k + bl->kc - 1) / bl->kc;
    kc = ROUND_UP((k + n_pc - 1) / n_pc, 8);
    return kc > bl->kc ? bl->kc : kc;
}

/* Up to this depth (KC of the product), with C's rows at least this far
 * apart, the macro-kernel walks its tiles row by row, along C's rows, instead
 * of down each column of tiles: with so few FMAs per tile, storing C is the
 * work, and C's rows then go out as sequential streams instead of tile rows
 * whose lines, a row stride of 2^p bytes apart, fall into the same L1 sets;
 * the whole B panel (<= 48 x NC) is then read from L2 once per row of tiles.
 * (1 thread, medians of 9, GFLOP/s down columns -> along rows, 3 runs each.
 * float32, AVX-512, 256 x 1024 by k: 10 51 -> 163-177 (2 threads 140 ->
 * 329-343; AVX2 32 -> 85-90), 16 81-111 -> 189-194, 24 147-173 -> 196-208, 32
 * 200-209 -> 211-214, 48 209-214 -> 215-219; 2048^2 x 32 193-200 -> 210-215;
 * 1024 x 512 x 16 185-192 -> 196-198; at k = 64 they tie (512 x 2048 x 64
 * 203-218 vs 221-224) and at 256 columns win (1024^2 x 256 TN 220-235 vs
 * 215-217). Rows of 1 KiB (n = 256) lose 1-2% (784 x 256 x 16 208 -> 204),
 * 1.5 KiB tie (512 x 384 x 24). float64, 256 x 512 x 10: 26 -> 83-87, 256^2 x
 * 16: 94-99 -> 99-101, 512 x 192 x 16 ties.) Never changes a result. */
#define GEMM_THIN_DEPTH 48
#define GEMM_THIN_MIN_ROW_BYTES 2048

/* MC balanced over a tile's rows, a multiple of MR: m = 256 with MC = 120 gives
 * three blocks of 90, 90, 76 rows, not 120, 120, 16. Never more than MC. */
static int64_t mc_block(const pynn_gemm_blocks *bl, int64_t m)
{
    int64_t n_ic = (m + bl->mc - 1) / bl->mc, mc;
    if (n_ic < 1) n_ic = 1;
    mc = ROUND_UP((m + n_ic - 1) / n_ic, bl->mr);
    return mc > bl->mc ? bl->mc : mc;
}

/* Rows of A one block of the column-kernel path packs transposed (gemm_item):
 * whole PYNN_COLT_ROWS panels, at most MC rows. */
static int64_t colt_block(const pynn_gemm_blocks *bl)
{
    return PYNN_MAX(bl->mc / PYNN_COLT_ROWS, 1) * PYNN_COLT_ROWS;
}

/* Workspace layout (bytes, each part 64-byte aligned): per thread, a B panel
 * (KC x NC at most) and an A block (MC x KC at most). */
static void ws_layout(const pynn_gemm_blocks *bl, size_t es, int64_t m, int64_t n, int64_t k,
                      size_t *b_bytes, size_t *a_bytes)
{
    int64_t kc = kc_block(bl, k);
    int64_t nc = ROUND_UP(PYNN_MIN(n, (int64_t)bl->nc), bl->nr);
    int64_t mc = ROUND_UP(PYNN_MIN(m, (int64_t)bl->mc), bl->mr);
    if (n <= bl->colt_n && m >= PYNN_COLT_ROWS)      /* or panels of A transposed */
        mc = PYNN_MAX(mc, ROUND_UP(PYNN_MIN(m, colt_block(bl)), PYNN_COLT_ROWS));
    *b_bytes = ROUND_UP((size_t)kc * (size_t)nc * es, PYNN_ALIGN);
    *a_bytes = ROUND_UP((size_t)mc * (size_t)kc * es, PYNN_ALIGN);
}

static size_t ws_need(const pynn_gemm_kernel *kern, int dtype, int64_t m, int64_t n, int64_t k,
                      int n_threads)
{
    const pynn_gemm_blocks *bl = dtype == PYNN_F64 ? &kern->bd : &kern->bs;
    size_t b, a;
    ws_layout(bl, pynn_dtype_size(dtype), m, n, k, &b, &a);
    return (size_t)(n_threads < 1 ? 1 : n_threads) * (b + a) + PYNN_ALIGN;  /* + slack to align */
}

size_t pynn_gemm_ws_bytes(int dtype, int n_threads)
{
    size_t best = 0, b;
    int i;
    for (i = 0; pynn_gemm_kernels_built[i]; i++) {   /* any kernel PYNN_KERNEL may pick */
        const pynn_gemm_kernel *kern = pynn_gemm_kernels_built[i];
        const pynn_gemm_blocks *bl = dtype == PYNN_F64 ? &kern->bd : &kern->bs;
        b = ws_need(kern, dtype, bl->mc, bl->nc, bl->kc, n_threads);
        if (b > best) best = b;
    }
    {
        const pynn_gemm_kernel *kern = pynn_gemm_kernel_get();
        const pynn_gemm_blocks *bl = dtype == PYNN_F64 ? &kern->bd : &kern->bs;
        b = ws_need(kern, dtype, bl->mc, bl->nc, bl->kc, n_threads);
        if (b > best) best = b;
    }
    return best;
}

size_t pynn_gemm_ws_bytes_shape(int dtype, int64_t m, int64_t n, int64_t k, int n_threads)
{
    return ws_need(pynn_gemm_kernel_for(pynn_gemm_kernel_get(), n), dtype, m, n, k, n_threads);
}

static void *align_ws(void *ws)
{
    uintptr_t p = (uintptr_t)ws;
    return (void *)ROUND_UP(p, (uintptr_t)PYNN_ALIGN);
}

/* Threads for a product of `flops` (>= 1, <= n_threads). */
static int gemm_threads(int n_threads, double flops)
{
    int nt = n_threads;
    double by_work = flops / GEMM_MIN_FLOPS_PER_THREAD;
#ifdef _OPENMP
    if (omp_in_parallel() && n_threads != omp_get_num_threads())
        return 1;                                     /* called by one thread inside a team: no nesting */
#endif
    if (by_work < (double)nt) nt = by_work < 1.0 ? 1 : (int)by_work;
    return nt < 1 ? 1 : nt;
}

/* The output tiles (items) a team of nt threads shares out: H rows x W
 * columns each, W <= NC. One thread computes a whole item, K included, so
 * there is no barrier between items and a descheduled thread holds up at most
 * the item it is on. One thread: one row of tiles, NC wide. More: tiles are
 * halved until there are GEMM_ITEMS_PER_THREAD per thread (2 for a product of
 * >= GEMM_BIG_FLOPS_PER_THREAD per thread) or they reach the minimum size.
 * Which side: every item packs its own B panel (k x W; unless B is read in
 * place) and, off the small-problem path, its own A block (H x k), so
 * splitting rows repeats B's packing and splitting columns repeats A's: halve
 * the longer side; on the
 * small-problem path A is read in place, so columns split for free, down to
 * one micro-panel. A thin product (`thin`: walked along C's rows, see
 * GEMM_THIN_DEPTH) splits rows first: its packs are a few rows of k, and whole
 * C rows keep its stores sequential (AVX2, 2 threads, medians, GFLOP/s,
 * columns first -> rows first: 256 x 1024 x 10 NT 17-43 -> 46-52, 1024 x 512
 * x 16 NT 35 -> 76-93; at 1 thread 33 and 48). Results never depend on
 * this grid. A big product's items past one per thread are for balance only
 * and each repeats an operand's packing, costing about 16 / side of the item's
 * time (a packed element takes about a cycle, and is used side times at 16
 * FMAs a cycle): they are made only while the halved side stays >=
 * GEMM_BIG_MIN_SIDE. (2 threads, medians
 * of 9 interleaved runs, best of 15, GFLOP/s against 2 items per thread for
 * every big product: 1024^3 144.4 vs 138.6, 256x1024x1024 NN 135.8 vs 133.0,
 * NT 139.1 vs 136.6, TN 1024x1024x256 139.5 vs 138.2, 512^3 141.7 vs 141.5;
 * the medium training step 22.9 vs 23.4 ms in 11 runs, 21.0 vs 21.1 in 7 more,
 * where the wide step, whose products keep their items but its 1024x1024x4096
 * forward, took 1.20 vs 1.25 s. Against 4 per thread, 2 had gained
 * 256x1024x1024 NN +1.4%, NT +2.5%, TN +4%, 2048^3 +2.5%. On the family 25
 * model 17 EPYC, AVX2, GEMM_BIG_MIN_SIDE 256 and 512, for more items to balance
 * the wide step's 2- and 4-item products: its 2-thread step 1.167 and 1.20 s
 * against 1.19 s, medians of 9 and 4 interleaved rounds, each variant ahead in
 * about half of them: noise, kept.) */
#define GEMM_ITEMS_PER_THREAD 4
#define GEMM_BIG_FLOPS_PER_THREAD 1e8
#define GEMM_BIG_MIN_SIDE 1024
static void item_grid(const pynn_gemm_blocks *bl, int64_t m, int64_t n, int64_t k, int nt,
                      int sup, int thin, int64_t *H, int64_t *W)
{
    int64_t h = m, w = ROUND_UP(PYNN_MIN(n, (int64_t)bl->nc), bl->nr);
    const int64_t h_min = 4 * bl->mr, w_min = (sup ? 1 : 4) * bl->nr;
    const double flops = 2.0 * (double)m * (double)n * (double)k;
    const int64_t per = flops >= GEMM_BIG_FLOPS_PER_THREAD * nt ? 2 : GEMM_ITEMS_PER_THREAD;
    if (nt > 1) {
        for (;;) {
            int64_t items = ((m + h - 1) / h) * ((n + w - 1) / w);
            int can_h = h / 2 >= h_min, can_w = w / 2 >= w_min;
            if (items >= per * nt || (!can_h && !can_w)) break;
            if (per == 2 && items >= nt) {      /* a big product's extra items: only */
                can_h = can_h && h / 2 >= GEMM_BIG_MIN_SIDE;   /* while the repacking is cheap */
                can_w = can_w && w / 2 >= GEMM_BIG_MIN_SIDE;
                if (!can_h && !can_w) break;
            }
            if (can_h && (((h >= w || thin) && !sup) || !can_w)) h = ROUND_UP((h + 1) / 2, bl->mr);
            else w = ROUND_UP((w + 1) / 2, bl->nr);
        }
    }
    *H = h;
    *W = w;
}

/* The micro-kernel reads a row-major B where it is, instead of packing it,
 * when its rows lie at most GEMM_B_IN_PLACE_ROW_BYTES apart and C has at most
 * GEMM_B_IN_PLACE_ROWS rows (whole micro-panels only: n a multiple of NR). The
 * copy then costs more than the contiguous panel saves, for B is reused by
 * few row tiles. On the family 25 model 17 EPYC with AVX-512, float, 1 thread,
 * pynn.ops.matmul, GFLOP/s packed -> in place (3 interleaved runs; 10% noise
 * on the larger ones): 32x64x64 66-79 -> 87, 64^3 81-93 -> 99, 32x128x64 87 ->
 * 96, 128x128x256 102-108 -> 112-114, 64x128x784 103-104 -> 110, 128x256x784
 * 106-108 -> 109-111, 256x512x512 103-110 -> 109-112, TN 1024x512x256 104-109
 * -> 108-110, TN 784x128x64 107-109 -> 105-107; rows 4 KiB apart lost
 * (256x1024x1024 97-106 -> 73-92, 256x2048x2048 100-107 -> 80-85: each row a
 * new page), and so did many rows (4096x512x64 91-103 -> 85-101, 1024^3 102-107
 * -> 97-103), where the packed panel serves more tiles. Steps, 1 thread, 4
 * interleaved runs: small 251-253 -> 245-248 us, mnist 1203-1223 -> 1187-1193
 * (one outlier), tiny 14.7 -> 13.7-13.8 (with its Python-side changes). */
#define GEMM_B_IN_PLACE_ROW_BYTES 2048
#define GEMM_B_IN_PLACE_ROWS 512

static int b_in_place(const pynn_gemm_blocks *bl, const pynn_gemm_op *op, size_t es)
{
    return !op->trans_b && op->n % bl->nr == 0 && op->m <= GEMM_B_IN_PLACE_ROWS &&
           op->ldb * (int64_t)es <= GEMM_B_IN_PLACE_ROW_BYTES;
}

#define PYNN_TEMPLATE "gemm/gemm.inc.c"
#include "../template.h"
