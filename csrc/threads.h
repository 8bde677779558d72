/* SPDX-License-Identifier: MIT
 * threads.h: the OpenMP shim. Code includes this instead of <omp.h> so a build
 * without OpenMP compiles to the sequential path. */
#ifndef PYNN_THREADS_H
#define PYNN_THREADS_H

#ifdef _OPENMP
#include <omp.h>
#define PYNN_OMP_THREAD_NUM() omp_get_thread_num()
#define PYNN_OMP_NUM_THREADS() omp_get_num_threads()
#else
#define PYNN_OMP_THREAD_NUM() 0
#define PYNN_OMP_NUM_THREADS() 1
#endif

#define PYNN_PRAGMA(x) _Pragma(#x)

/* Threads worth waking for `flops` of work (>= 1 and <= n_threads). A parallel
 * region costs a few microseconds; below ~MIN_FLOPS_PER_THREAD it is not worth it. */
#define PYNN_MIN_FLOPS_PER_THREAD 65536.0
static inline int pynn_threads_for(int n_threads, double flops)
{
    double by_work = flops / PYNN_MIN_FLOPS_PER_THREAD;
    if (n_threads < 1) return 1;
    if (by_work < (double)n_threads) return by_work < 1.0 ? 1 : (int)by_work;
    return n_threads;
}

#endif /* PYNN_THREADS_H */
