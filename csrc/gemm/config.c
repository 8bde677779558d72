/* SPDX-License-Identifier: MIT
 * gemm/config.c: one entry per kernel set: its micro-kernels and the block
 * sizes that go with them (BLIS's config/<arch> role). Compiled at baseline.
 * Block sizes (MC, KC, NC) and the small-problem threshold sup_n were measured
 * on an AMD EPYC (znver3: 32 KiB L1d, 512 KiB L2 per core) with
 * bench/gemm_table.py; none of them depends on the thread count. */
#include "kernels.h"

/* Small-problem rule (bench: tmp harness, median GFLOP/s, A packed vs read in
 * place, 1 thread): f32 A row-major (NN/NT): in place wins for every n up to
 * 512 (e.g. 256x256x512: 64-67 vs 67-74; 256x10x1024: 21 vs 37), loses at
 * 1024 (1024^3: 63-71 vs 58-66) -> sup_n 256. f32 A transposed (TN): wins at
 * n = 10 (1024x10x256: 17-18 vs 22-26) and 32 (512x32x256: 54 vs 58-65), even at
 * 96-128 -> sup_nt 32 (in place strides lda per k step, risky for lda = 2^p).
 * f64 TN in place loses already at n = 32 (512x32x512: 24-25 vs 16) -> 0;
 * f64 NN wins or ties to n = 256 -> 256. Generic: not measured, A packed
 * except when n fits one micro-panel. */
/*                                     mr  nr   mc   kc    nc  sup_n sup_nt */
const pynn_gemm_kernel pynn_gemm_kernel_generic = {
    "generic",
    {4, 8, 128, 256, 2048, 8, 0},
    {4, 4, 64, 256, 1024, 4, 0},
    pynn_gemm_ukr_generic_s,
    pynn_gemm_ukr_generic_d,
};

#if defined(PYNN_HAVE_AVX2)
const pynn_gemm_kernel pynn_gemm_kernel_avx2 = {
    "avx2",
    {6, 16, 144, 256, 2048, 256, 32},
    {6, 8, 72, 256, 1024, 256, 0},
    pynn_sgemm_ukr_avx2_6x16,
    pynn_dgemm_ukr_avx2_6x8,
};
#endif

/* Slot for AVX-512 (e.g. float 14x32 / double 14x16 on zmm): add ukr_avx512.c
 * with its flags in sources.cmake, a table here, and the check in cpu.c, once it
 * can be tested on a machine that has AVX-512. */

const pynn_gemm_kernel *const pynn_gemm_kernels_built[] = {
    &pynn_gemm_kernel_generic,
#if defined(PYNN_HAVE_AVX2)
    &pynn_gemm_kernel_avx2,
#endif
    NULL,
};
