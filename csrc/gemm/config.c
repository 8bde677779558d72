/* SPDX-License-Identifier: MIT
 * gemm/config.c: one entry per kernel set: its micro-kernels and the block
 * sizes that go with them (BLIS's config/<arch> role). Compiled at baseline.
 * Block sizes (MC, KC, NC) and the small-problem threshold sup_n were measured
 * on an AMD EPYC (znver3: 32 KiB L1d, 512 KiB L2 per core) with
 * bench/gemm_table.py; none of them depends on the thread count. */
#include "kernels.h"

/*                                     mr  nr   mc   kc    nc  sup_n */
const pynn_gemm_kernel pynn_gemm_kernel_generic = {
    "generic",
    {4, 8, 128, 256, 2048, 16},
    {4, 4, 64, 256, 1024, 8},
    pynn_gemm_ukr_generic_s,
    pynn_gemm_ukr_generic_d,
};

#if defined(PYNN_HAVE_AVX2)
const pynn_gemm_kernel pynn_gemm_kernel_avx2 = {
    "avx2",
    {6, 16, 144, 256, 2048, 32},
    {6, 8, 72, 256, 1024, 16},
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
