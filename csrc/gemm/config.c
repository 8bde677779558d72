/* SPDX-License-Identifier: MIT
 * gemm/config.c: one entry per kernel set: its micro-kernels (and column
 * kernels, packs) and the block sizes that go with them (BLIS's
 * config/<arch> role). Compiled at baseline. None of them depends on the
 * thread count. AVX2 float, on an AMD EPYC (znver3:
 * 32 KiB L1d, 512 KiB L2 per core, shared machine, so noisy): KC = 256 keeps a
 * B micro-panel (KC x NR = 16 KiB) in half of L1d; MC = 120 (A block 120 KiB in
 * L2) came out ahead of 72/96/144/192 in three scans of 1024^3 (e.g. best 79.9
 * vs 69.1 GFLOP/s for 144), KC 384/512 did not help; NC = 2048 bounds the
 * per-thread B panel at 2 MiB (L3). Double: same footprints. On an EPYC of
 * family 25 model 17 (its VM hides AVX-512; 1 MiB L2 per core): MC = 336 ran
 * 8 large products (squares 1024-2048, the medium and wide ones) 6% faster
 * (geomean of medians of 4 interleaved rounds, 68.2 -> 72.3 GFLOP/s; NC 1024
 * and 512 within noise) but not the training steps (medium 1.00-1.02x,
 * mnist 0.95-1.03x at 1 thread; 0.84-0.96x at 2): kept at 120.
 * AVX-512 float 8x32, on an AMD EPYC (Zen 5: 48 KiB L1d, 1 MiB L2 per core,
 * full-width 512-bit FMAs, peak 233 GFLOP/s per core): KC = 256 (a B
 * micro-panel of 32 KiB), MC = 192, NC = 2048; 13 shapes (squares 256-2048 and
 * the mnist, medium and wide products), medians of 3 interleaved runs, geomean
 * 207-210 GFLOP/s for MC 96-384, KC 192-512, NC 1024-4096 alike (204 for NC
 * 1024 with KC 384): the blocking is not what limits it. Double 8x16: MC 96,
 * KC 256, NC 1024 (97 GFLOP/s geomean of 512^3..2048^3; MC 64-192, KC 384 and
 * NC 2048 92-96). Small-problem limits: sup_n 256 as AVX2 (0, 64, 512
 * within noise of it); float sup_nt 128 (9 TN shapes, medians of 3 interleaved
 * runs: 256x64x128 175 -> 211 GFLOP/s, 256x128x128 196 -> 212, 784x128x64
 * 204 -> 216 against 32; 256 lost 1024x256x256, 204 -> 176). On the family
 * 25 model 17 EPYC with AVX-512 exposed (32 KiB L1d, so a B micro-panel of
 * KC x 32 floats fills it; 1 MiB L2), 1 thread, medians of 3 interleaved
 * rounds, GFLOP/s, NC 2048 -> 512 and -> 512 with MC 256: 256x1024x1024 NN
 * 103.3 -> 101.7 / 102.0, NT 104.8 -> 101.8 / 100.5, TN 1024^2 x 256 108.0 ->
 * 104.6 / 103.7, 1024^3 104.7 -> 103.7 / 104.2; the medium step 27.2 ms in
 * all three: kept. KC 128 for all sets (a B micro-panel of 16 KiB, half of
 * L1d) lost there: 256x1024x1024 NN 101.1 -> 97.1, NT 99.2 -> 94.4, TN 1024^2
 * x 256 104.9 -> 95.1, 1024^3 101.7 -> 100.4, the medium step 28.4 -> 29.1 ms
 * (medians of 3 interleaved rounds, 1 thread). (KC is not tuned per host:
 * every SIMD set shares it, so they give the same bits; see README,
 * Guarantees.) */
#include "kernels.h"

/* Small-problem rule (bench: tmp harness, median GFLOP/s, A packed vs read in
 * place, 1 thread): f32 A row-major (NN/NT): in place wins for every n up to
 * 512 (e.g. 256x256x512: 64-67 vs 67-74; 256x10x1024: 21 vs 37), loses at
 * 1024 (1024^3: 63-71 vs 58-66) -> sup_n 256. f32 A transposed (TN): wins at
 * n = 10 (1024x10x256: 17-18 vs 22-26) and 32 (512x32x256: 54 vs 58-65), even at
 * 96-128 -> sup_nt 32 (in place strides lda per k step, risky for lda = 2^p).
 * f64 TN in place loses already at n = 32 (512x32x512: 24-25 vs 16) -> 0;
 * f64 NN wins or ties to n = 256 -> 256. On the family 25 model 17 EPYC
 * (1 MiB L2) packing won whole products instead (sup_n 256 -> 0, 12
 * interleaved rounds: 128x256x784 65.0 -> 69.8, 128x128x256 65.3 -> 68.9, NT
 * 128x256x128 64.3 -> 67.4) but lost the steps that hold them (mnist 0.99x at
 * 1 thread, small, mnist and medium 0.92-0.94x at 2, where A in place lets
 * columns split for free): kept. Generic: not measured, A packed
 * except when n fits one micro-panel.
 * Column kernel (A^T B, n <= cols_n; medians of 9, 2 runs, GFLOP/s, micro-
 * kernel -> column kernel): AVX-512 float 256 x n x 256 n = 8 91 -> 195, 12
 * 136 -> 207, 14 155 -> 211, 15 169 -> 173, 16 177 -> 194; 128x10x128 89 ->
 * 148, 1024x10x256 58-61 -> 105-118, 256x1x32 7 -> 21; double n = 8 37 -> 90-103,
 * 16 60 -> 84-86 -> cols_n 16. AVX2 float n = 8 70 -> 84, 12 79 -> 90-94, 13
 * 86 -> 85 (no longer fits the 16 registers' accumulators); double 12 32 -> 48
 * -> cols_n 12.
 * No such kernel for the forward's few columns (A row-major, n <= 16, e.g.
 * 128x10x128, where one vector of B's row holds n of its 16 lanes): on the
 * family 25 model 17 EPYC with AVX-512, 1 thread, standalone prototypes
 * against a copy of that tile (55-58 GFLOP/s at n = 10): the column kernel
 * on A transposed in registers (16 x 16 blocks, the same bits) ran 52, dot
 * products along k (16 partial sums per element and a fixed reduction tree,
 * other bits) 48; only at k = 1024 did the latter win (256x10x1024 64 ->
 * 72.5). */
/* Column kernel on A packed transposed (A and B row-major, n <= colt_n, m >=
 * PYNN_COLT_ROWS: an output layer's forward; the micro-kernel costs the same
 * for every n up to one vector, using n of its lanes). On the family 25 model
 * 17 EPYC with AVX-512, 1 thread, pynn.ops.matmul, medians of 7 interleaved
 * processes (5 for the others), micro-kernel / this path, time: AVX-512 float
 * 32x{1,4,6,8,10,12}x64 1.48 1.40 1.23 1.16 1.09 1.01 (n = 14: 0.97),
 * 128xnx128 1.82 1.52 1.30 1.16 1.02 0.94, 256xnx1024 1.37 1.46 1.07 1.09
 * 0.87 0.88, 1024xnx256 1.65 1.34 1.14 1.02 0.89 0.82 -> colt_n 8. AVX2
 * float (forced on that host) 32xnx64 1.51 1.47 1.33 1.14, 128xnx128 1.40
 * 1.27 1.26 1.05, 256xnx1024 0.95 0.99 0.89 0.73 (n = 1, 4, 6, 8) -> 6. Double
 * lost or tied on both (128xnx128 0.51-0.94) -> 0. (The transposing pack
 * costs about as much as the product when n is small and k large.) */
/*    mr  nr   mc   kc    nc  sup_n sup_nt cols_n colt_n; then ukr, packs, column kernels,
 *    and (6x64 only) the set that takes narrower products, with its bound */
const pynn_gemm_kernel pynn_gemm_kernel_generic = {
    "generic",
    {4, 8, 128, 256, 2048, 8, 0, 0, 0},
    {4, 4, 64, 256, 1024, 4, 0, 0, 0},
    pynn_gemm_ukr_generic_s,
    pynn_gemm_ukr_generic_d,
    NULL,
    NULL,
    NULL,
    NULL,
};

#if defined(PYNN_HAVE_AVX2)
const pynn_gemm_kernel pynn_gemm_kernel_avx2 = {
    "avx2",
    {6, 16, 120, 256, 2048, 256, 32, PYNN_COLS_N_AVX2, 6},
    {6, 8, 72, 256, 1024, 256, 0, PYNN_COLS_N_AVX2, 0},
    pynn_gemm_ukr_avx2_s,
    pynn_gemm_ukr_avx2_d,
    pynn_pack_rows_avx2_s,
    pynn_pack_rows_avx2_d,
    pynn_gemm_cols_avx2_s,
    pynn_gemm_cols_avx2_d,
};
#endif

#if defined(PYNN_HAVE_AVX512)
const pynn_gemm_kernel pynn_gemm_kernel_avx512 = {
    "avx512",
    {8, 32, 192, 256, 2048, 256, 128, PYNN_COLS_N_AVX512, 8},
    {8, 16, 96, 256, 1024, 256, 0, PYNN_COLS_N_AVX512, 0},
    pynn_gemm_ukr_avx512_s,
    pynn_gemm_ukr_avx512_d,
    pynn_pack_rows_avx2_s,
    pynn_pack_rows_avx2_d,
    pynn_gemm_cols_avx512_s,
    pynn_gemm_cols_avx512_d,
};

/* AVX-512 float 6x64, on an Intel Xeon (KVM, AVX-512 + AMX, 48 KiB L1d, 2 MiB
 * L2 per core, peak 214-236 GFLOP/s): 16 FMAs on registers alone run at the
 * peak with 4 broadcast loads of A beside them and at 90% with 8, so the 8x32
 * kernel (8 broadcasts + 2 loads per 16 FMAs) tops out at 80-85% there.
 * Whole products, 1 thread, medians of 5 interleaved runs, 8x32 -> 6x64
 * GFLOP/s: 512^3 158 -> 167, 1024^3 154 -> 164, 2048^3 155 -> 164, 256 x
 * 1024 x 1024 149 -> 160, TN 1024^2 x 256 153 -> 166, the wide network's
 * 1024 x 4096 x 4096 150 -> 160 and TN 4096^2 x 1024 140 -> 159, mnist's 128 x
 * 256 x 784 157 -> 159 (geomean +6.6%). Products of fewer than 512 columns go
 * to the 8x32 set: 64-wide tiles give a 256-column layer half the column
 * items, and with every product on 6x64 the mnist step at 2 threads lost 5%
 * (and medium gained 3-4%); with the rule, training steps (PYNN_KERNEL
 * avx512 -> avx512_6x64, medians of 4-6 interleaved runs): medium 1.044x (1
 * thread), 1.054x (2), mnist, small and tiny 0.97-1.02x (the runs' noise).
 * Same KC as every set, so the same bits. The other blocks as the 8x32 set's
 * (MC = 192 is 32 x 6); its small-problem and column-kernel limits never
 * apply, since the 8x32 set takes every product they would (n < 512). Its B
 * micro-panel (KC x 64 floats, 64 KiB) does not fit L1d and streams from L2.
 * narrow_below (512) is one rule for both dtypes, measured in float. Double
 * 6x32 against 8x16, same runs' method: 512^3 60 -> 67, 1024^3 66 -> 71, 256 x
 * 1024 x 1024 58 -> 62, TN 1024^2 x 256 69 -> 73, NT 256 x 1024 x 1024 63 -> 65
 * GFLOP/s. */
const pynn_gemm_kernel pynn_gemm_kernel_avx512_6x64 = {
    "avx512_6x64",
    {6, 64, 192, 256, 2048, 256, 128, PYNN_COLS_N_AVX512, 8},
    {6, 32, 96, 256, 1024, 256, 0, PYNN_COLS_N_AVX512, 0},
    pynn_gemm_ukr_avx512_6x64_s,
    pynn_gemm_ukr_avx512_6x64_d,
    pynn_pack_rows_avx2_s,
    pynn_pack_rows_avx2_d,
    pynn_gemm_cols_avx512_s,
    pynn_gemm_cols_avx512_d,
    &pynn_gemm_kernel_avx512,
    512,
};
#endif

const pynn_gemm_kernel *const pynn_gemm_kernels_built[] = {
    &pynn_gemm_kernel_generic,
#if defined(PYNN_HAVE_AVX2)
    &pynn_gemm_kernel_avx2,
#endif
#if defined(PYNN_HAVE_AVX512)
    &pynn_gemm_kernel_avx512,
    &pynn_gemm_kernel_avx512_6x64,
#endif
    NULL,
};
