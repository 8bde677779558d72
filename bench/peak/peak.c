/* SPDX-License-Identifier: MIT
 * bench/peak/peak.c: the FMA peak of one core (and of N threads) on the widest
 * vectors the CPU has: AVX-512 (zmm) when it has AVX-512F, else AVX2+FMA
 * (ymm). 12 independent chains of FMAs per thread (enough to cover latency x
 * throughput on 2 FMA pipes), float and double, best of several timed runs.
 * Each ISA's loop is compiled for it alone (target attributes), so the file
 * builds with plain `cc -O2 -fopenmp` (bench/gemm_table.py, bench/compare.py).
 * Usage: peak [threads]   prints "isa <avx512|avx2>", "f32 <GFLOP/s>" and
 * "f64 <GFLOP/s>" lines. */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

/* fn(iters): 12 chains s_i = s_i * x + y of vector type VT over `iters` steps. */
#define PEAK_LOOP(fn, isa, VT, ET, SET1, STORE, LANES)                                    \
    __attribute__((target(isa))) static double fn(long iters)                            \
    {                                                                                     \
        VT x = SET1((ET)0.999999), y = SET1((ET)1e-7), t = SET1((ET)0);                  \
        ET o[LANES];                                                                      \
        CHAINS(DECL_##fn)                                                                 \
        for (long it = 0; it < iters; it++) {                                             \
            CHAINS(STEP_##fn)                                                             \
            __asm__ volatile("" : "+x"(s0), "+x"(s1), "+x"(s2), "+x"(s3), "+x"(s4), "+x"(s5)); \
        }                                                                                 \
        CHAINS(SUM_##fn)                                                                  \
        STORE(o, t);                                                                      \
        return (double)o[0];                                                              \
    }
#define DECL_avx2_s(i) __m256 s##i = _mm256_set1_ps((float)(i));
#define STEP_avx2_s(i) s##i = _mm256_fmadd_ps(s##i, x, y);
#define SUM_avx2_s(i) t = _mm256_add_ps(t, s##i);
#define DECL_avx2_d(i) __m256d s##i = _mm256_set1_pd((double)(i));
#define STEP_avx2_d(i) s##i = _mm256_fmadd_pd(s##i, x, y);
#define SUM_avx2_d(i) t = _mm256_add_pd(t, s##i);
#define DECL_avx512_s(i) __m512 s##i = _mm512_set1_ps((float)(i));
#define STEP_avx512_s(i) s##i = _mm512_fmadd_ps(s##i, x, y);
#define SUM_avx512_s(i) t = _mm512_add_ps(t, s##i);
#define DECL_avx512_d(i) __m512d s##i = _mm512_set1_pd((double)(i));
#define STEP_avx512_d(i) s##i = _mm512_fmadd_pd(s##i, x, y);
#define SUM_avx512_d(i) t = _mm512_add_pd(t, s##i);

PEAK_LOOP(avx2_s, "avx2,fma", __m256, float, _mm256_set1_ps, _mm256_storeu_ps, 8)
PEAK_LOOP(avx2_d, "avx2,fma", __m256d, double, _mm256_set1_pd, _mm256_storeu_pd, 4)
PEAK_LOOP(avx512_s, "avx512f", __m512, float, _mm512_set1_ps, _mm512_storeu_ps, 16)
PEAK_LOOP(avx512_d, "avx512f", __m512d, double, _mm512_set1_pd, _mm512_storeu_pd, 8)

/* GFLOP/s of nt threads running fn: 12 chains x 2 flops x lanes per step. */
static double rate(double (*fn)(long), int lanes, int nt, long iters, double *sink)
{
    double t0 = now(), s = 0;
#pragma omp parallel num_threads(nt) reduction(+ : s)
    s += fn(iters);
    *sink += s;
    return nt * 12.0 * 2 * lanes * iters / (now() - t0) / 1e9;
}

int main(int argc, char **argv)
{
    int nt = argc > 1 ? atoi(argv[1]) : 1, rep;
    int wide = __builtin_cpu_supports("avx512f");
    double (*fs)(long) = wide ? avx512_s : avx2_s, (*fd)(long) = wide ? avx512_d : avx2_d;
    int ls = wide ? 16 : 8;
    long iters = 20000000;   /* 12 chains x 2 flops x 8 lanes x 2e7 = 3.84 GFLOP (ymm f32) per thread */
    double best_s = 0, best_d = 0, sink = 0, r;
    for (rep = 0; rep < 7; rep++) {
        if ((r = rate(fs, ls, nt, iters, &sink)) > best_s) best_s = r;
        if ((r = rate(fd, ls / 2, nt, iters, &sink)) > best_d) best_d = r;
    }
    printf("isa %s\nf32 %.2f\nf64 %.2f\n", wide ? "avx512" : "avx2", best_s, best_d);
    if (sink == 12345.0) printf(" \n");
    return 0;
}
