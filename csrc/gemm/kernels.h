/* SPDX-License-Identifier: MIT
 * gemm/kernels.h: the contract between the blocked driver (gemm.inc.c, which
 * never names an ISA) and the micro-kernels and column kernels (ukr_*.c, one
 * file per ISA), plus the per-ISA configuration: register block MR x NR and
 * cache blocks MC, KC, NC.
 *
 * Micro-kernel contract (both dtypes):
 *   C[0:mr, 0:nr] = alpha * sum_{p < k} a(i, p) b(p, j) + beta * C   (beta == 0: overwrite)
 *   - a(i, p) = a[i * rs_a + p * cs_a]: a packed MR-row micro-panel (rs_a = 1,
 *     cs_a = MR) or, in the small-problem path, the caller's A read in place.
 *     Rows i < MR must be readable (the driver packs ragged row edges).
 *   - b(p, j) = b[p * rs_b + j]: a packed NR-column micro-panel, zero-padded
 *     (rs_b = NR), or a full one (nr = NR) of the caller's row-major B read in
 *     place; either way all NR columns of a row must be readable.
 *   - C is row-major with row stride ldc; only mr x nr (<= MR x NR) is touched.
 *   - epi (NULL: none) is applied to the tile before it is stored, with its
 *     bias / deriv_of already pointing at the tile's column 0 / element (0, 0);
 *     only kinds for which pynn_ukr_takes_epi() holds are passed.
 *   - the k sum runs in increasing p, one accumulator per element, so a result
 *     never depends on how the driver splits the work between threads.
 *
 * Column kernel (a kernel set may have none), for products with few columns:
 *   C[0:m, 0:n] = alpha * sum_{p < k} a[p * lda + i] b[p * ldb + j] + beta * C
 *   - a stored k x m, B k x n, both row-major: A^T read in place (op(A) = A^T,
 *     n <= cols_n), or A row-major packed transposed into panels of
 *     PYNN_COLT_ROWS rows (n <= colt_n); any m >= 1; no epilogue (the driver
 *     runs it over the stored block).
 *   - per element the micro-kernel's operations in the micro-kernel's order
 *     (the k sum in increasing p, then alpha acc, + beta C unless beta == 0),
 *     so the path never changes a result.
 */
#ifndef PYNN_GEMM_KERNELS_H
#define PYNN_GEMM_KERNELS_H

#include "../common.h"

typedef void (*pynn_ukr_s)(int64_t k, const float *a, int64_t rs_a, int64_t cs_a,
                           const float *b, int64_t rs_b, float *c, int64_t ldc, float alpha,
                           float beta, int mr, int nr, const pynn_epilogue *epi);
typedef void (*pynn_ukr_d)(int64_t k, const double *a, int64_t rs_a, int64_t cs_a,
                           const double *b, int64_t rs_b, double *c, int64_t ldc, double alpha,
                           double beta, int mr, int nr, const pynn_epilogue *epi);

/* The column kernels' most columns: their accumulators fill the registers
 * (config.c's cols_n and the kernel files' COLS_N, one number each). */
#define PYNN_COLS_N_AVX2 12
#define PYNN_COLS_N_AVX512 16

typedef void (*pynn_ukr_cols_s)(int64_t k, const float *a, int64_t lda, const float *b,
                                int64_t ldb, float *c, int64_t ldc, float alpha, float beta,
                                int64_t m, int n);
typedef void (*pynn_ukr_cols_d)(int64_t k, const double *a, int64_t lda, const double *b,
                                int64_t ldb, double *c, int64_t ldc, double alpha, double beta,
                                int64_t m, int n);

/* Epilogues the micro-kernels apply in registers: every elementwise derivative,
 * and bias + activation for the activations that need no exp (sigmoid and tanh
 * run over the stored tile instead, act.h). */
static inline int pynn_ukr_takes_epi(const pynn_epilogue *e)
{
    if (!e || e->kind == PYNN_EPI_NONE) return 0;
    if (e->kind == PYNN_EPI_MUL_DACT) return e->act != PYNN_ACT_SOFTMAX;
    return e->act == PYNN_ACT_IDENTITY || e->act == PYNN_ACT_RELU || e->act == PYNN_ACT_LEAKY_RELU;
}

/* Transposing pack of one full micro-panel: dst[p * rows + i] = src[i * ld + p]
 * for i < rows, p < kc; rows is MR (A row-major) or NR (B transposed). A kernel
 * set without one (NULL) gets the driver's portable loop. */
typedef void (*pynn_pack_rows_s)(int64_t kc, const float *src, int64_t ld, int rows, float *dst);
typedef void (*pynn_pack_rows_d)(int64_t kc, const double *src, int64_t ld, int rows, double *dst);

/* Register and cache blocking of one dtype. NC is a multiple of NR, MC of MR. */
typedef struct {
    int mr, nr;   /* micro-tile */
    int mc;       /* rows of the packed A block (L2) */
    int kc;       /* depth of a packed panel (A and B micro-panels in L1; 6x64's B
                     micro-panel, 64 KiB of floats, streams from L2) */
    int nc;       /* columns of the packed B panel (L3) */
    int sup_n;    /* A row-major and n <= sup_n: do not pack A, read it in place */
    int sup_nt;   /* A transposed and n <= sup_nt: likewise (measured, see config.c) */
    int cols_n;   /* A transposed, B not, n <= cols_n, no epilogue: the column kernel */
    int colt_n;   /* A and B row-major, n <= colt_n, m >= PYNN_COLT_ROWS: A packed
                     transposed and the column kernel (the forward of an output layer) */
} pynn_gemm_blocks;

/* Rows of one transposed A panel of that path: the column kernel's tile (2 vectors
 * of 16 floats), so its lanes all work. */
#define PYNN_COLT_ROWS 32

typedef struct pynn_gemm_kernel {
    const char *name;          /* "generic", "avx2", "avx512", "avx512_6x64" */
    pynn_gemm_blocks bs, bd;   /* float, double */
    pynn_ukr_s ukr_s;
    pynn_ukr_d ukr_d;
    pynn_pack_rows_s pack_rows_s;   /* may be NULL */
    pynn_pack_rows_d pack_rows_d;
    pynn_ukr_cols_s cols_s;         /* NULL where cols_n is 0 */
    pynn_ukr_cols_d cols_d;
    /* products of fewer than narrow_below columns go to this other set (NULL:
     * none): a wide micro-tile splits them into too few column items */
    const struct pynn_gemm_kernel *narrow;
    int narrow_below;
} pynn_gemm_kernel;

/* The set that computes a product of n columns: k, or the one k hands it to. */
static inline const pynn_gemm_kernel *pynn_gemm_kernel_for(const pynn_gemm_kernel *k, int64_t n)
{
    return k->narrow && n < k->narrow_below ? k->narrow : k;
}

/* The kernel sets compiled into this build (NULL where the build has none). */
extern const pynn_gemm_kernel pynn_gemm_kernel_generic;
#if defined(PYNN_HAVE_AVX2)
extern const pynn_gemm_kernel pynn_gemm_kernel_avx2;
#endif
#if defined(PYNN_HAVE_AVX512)
extern const pynn_gemm_kernel pynn_gemm_kernel_avx512;
extern const pynn_gemm_kernel pynn_gemm_kernel_avx512_6x64;
#endif

/* Micro-kernels (defined in the ISA files), each of the pynn_ukr_s / _d type. */
#define PYNN_UKR_DECL(name, real)                                                     \
    void name(int64_t k, const real *a, int64_t rs_a, int64_t cs_a, const real *b,    \
              int64_t rs_b, real *c, int64_t ldc, real alpha, real beta, int mr, int nr, \
              const pynn_epilogue *epi)
PYNN_UKR_DECL(pynn_gemm_ukr_generic_s, float);        /* 4 x 8 */
PYNN_UKR_DECL(pynn_gemm_ukr_generic_d, double);       /* 4 x 4 */
PYNN_UKR_DECL(pynn_gemm_ukr_avx2_s, float);           /* 6 x 16 */
PYNN_UKR_DECL(pynn_gemm_ukr_avx2_d, double);          /* 6 x 8 */
PYNN_UKR_DECL(pynn_gemm_ukr_avx512_s, float);         /* 8 x 32 */
PYNN_UKR_DECL(pynn_gemm_ukr_avx512_d, double);        /* 8 x 16 */
PYNN_UKR_DECL(pynn_gemm_ukr_avx512_6x64_s, float);    /* 6 x 64 */
PYNN_UKR_DECL(pynn_gemm_ukr_avx512_6x64_d, double);   /* 6 x 32 */
#undef PYNN_UKR_DECL
void pynn_gemm_cols_avx2_s(int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                           float *c, int64_t ldc, float alpha, float beta, int64_t m, int n);
void pynn_gemm_cols_avx2_d(int64_t k, const double *a, int64_t lda, const double *b, int64_t ldb,
                           double *c, int64_t ldc, double alpha, double beta, int64_t m, int n);
void pynn_gemm_cols_avx512_s(int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                             float *c, int64_t ldc, float alpha, float beta, int64_t m, int n);
void pynn_gemm_cols_avx512_d(int64_t k, const double *a, int64_t lda, const double *b,
                             int64_t ldb, double *c, int64_t ldc, double alpha, double beta,
                             int64_t m, int n);
void pynn_pack_rows_avx2_s(int64_t kc, const float *src, int64_t ld, int rows, float *dst);
void pynn_pack_rows_avx2_d(int64_t kc, const double *src, int64_t ld, int rows, double *dst);

/* The kernel set this process uses: chosen once (thread-safe) from the CPU's
 * features and PYNN_KERNEL; see cpu.c. Never NULL. */
const pynn_gemm_kernel *pynn_gemm_kernel_get(void);

/* Every kernel set compiled into this build, NULL-terminated (workspace sizing). */
extern const pynn_gemm_kernel *const pynn_gemm_kernels_built[];

/* Workspace bytes one call of this shape needs (<= pynn_gemm_ws_bytes). */
size_t pynn_gemm_ws_bytes_shape(int dtype, int64_t m, int64_t n, int64_t k, int n_threads);

#endif /* PYNN_GEMM_KERNELS_H */
