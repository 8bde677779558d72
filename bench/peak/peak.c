/* SPDX-License-Identifier: MIT
 * bench/peak/peak.c: the FMA peak of one core (and of N threads): 12
 * independent chains of 256-bit FMAs per thread (enough to cover latency x
 * throughput on 2 FMA pipes), float and double, best of several timed runs.
 * Built by bench/gemm_table.py with -O2 -mavx2 -mfma (-fopenmp).
 * Usage: peak [threads]   prints "f32 <GFLOP/s>" and "f64 <GFLOP/s>" lines. */
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

static float run_s(long iters)
{
    __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
#define DECL(i) __m256 s##i = _mm256_set1_ps((float)(i));
    CHAINS(DECL)
    for (long it = 0; it < iters; it++) {
#define STEP(i) s##i = _mm256_fmadd_ps(s##i, x, y);
        CHAINS(STEP)
        __asm__ volatile("" : "+x"(s0), "+x"(s1), "+x"(s2), "+x"(s3), "+x"(s4), "+x"(s5));
    }
    __m256 t = _mm256_setzero_ps();
#define SUM(i) t = _mm256_add_ps(t, s##i);
    CHAINS(SUM)
    float o[8];
    _mm256_storeu_ps(o, t);
    return o[0];
}

static double run_d(long iters)
{
    __m256d x = _mm256_set1_pd(0.999999), y = _mm256_set1_pd(1e-7);
#define DECLD(i) __m256d s##i = _mm256_set1_pd((double)(i));
    CHAINS(DECLD)
    for (long it = 0; it < iters; it++) {
#define STEPD(i) s##i = _mm256_fmadd_pd(s##i, x, y);
        CHAINS(STEPD)
        __asm__ volatile("" : "+x"(s0), "+x"(s1), "+x"(s2), "+x"(s3), "+x"(s4), "+x"(s5));
    }
    __m256d t = _mm256_setzero_pd();
#define SUMD(i) t = _mm256_add_pd(t, s##i);
    CHAINS(SUMD)
    double o[4];
    _mm256_storeu_pd(o, t);
    return o[0];
}

int main(int argc, char **argv)
{
    int nt = argc > 1 ? atoi(argv[1]) : 1, rep;
    long iters = 20000000;   /* 12 chains x 2 flops x 8 lanes x 2e7 = 3.84 GFLOP (f32) per thread */
    double best_s = 0, best_d = 0, sink = 0;
    for (rep = 0; rep < 7; rep++) {
        double t0 = now(), t1;
#pragma omp parallel num_threads(nt) reduction(+ : sink)
        sink += run_s(iters);
        t1 = now();
        if (nt * 12.0 * 2 * 8 * iters / (t1 - t0) / 1e9 > best_s) best_s = nt * 12.0 * 2 * 8 * iters / (t1 - t0) / 1e9;
        t0 = now();
#pragma omp parallel num_threads(nt) reduction(+ : sink)
        sink += run_d(iters);
        t1 = now();
        if (nt * 12.0 * 2 * 4 * iters / (t1 - t0) / 1e9 > best_d) best_d = nt * 12.0 * 2 * 4 * iters / (t1 - t0) / 1e9;
    }
    printf("f32 %.2f\nf64 %.2f\n", best_s, best_d);
    if (sink == 12345.0) printf(" \n");
    return 0;
}
