/* SPDX-License-Identifier: MIT
 * threads.h: the OpenMP shim. Code includes this instead of <omp.h> so a build
 * without OpenMP compiles to the sequential path. */
#ifndef PYNN_THREADS_H
#define PYNN_THREADS_H

#include <stdint.h>

#ifdef _OPENMP
#include <omp.h>
#define PYNN_OMP_THREAD_NUM() omp_get_thread_num()
#define PYNN_OMP_NUM_THREADS() omp_get_num_threads()
#define PYNN_OMP_IN_PARALLEL() omp_in_parallel()
#else
#define PYNN_OMP_THREAD_NUM() 0
#define PYNN_OMP_NUM_THREADS() 1
#define PYNN_OMP_IN_PARALLEL() 0
#endif

#define PYNN_PRAGMA(x) _Pragma(#x)

/* Team functions. A function documented as a "team function" contains only
 * orphaned work-sharing constructs (omp for / single / barrier): every thread
 * of the calling team must call it with the same arguments, and they share its
 * work; called outside a parallel region, the calling thread does all of it.
 * So a whole training step runs in ONE parallel region. Loops hand out chunks
 * dynamically (a thread that loses its core delays nobody for long), and each
 * chunk's result never depends on which thread ran it. */

/* Runs the braced block of team function calls `...` on a team of nt threads.
 * For one thread, called outside any parallel region, it opens no team: the
 * block runs on the calling thread alone (libgomp's team of one costs about
 * 1000 instructions: it allocates the team). Only for blocks that skip their
 * work-sharing constructs when alone (the GEMM's item loop): outside a team,
 * libgomp allocates every work-sharing construct's state instead, which costs
 * more than the team for a training step's dozen loops. Inside a caller's
 * parallel region a team of one is opened, so nothing binds to the caller's
 * team. */
#define PYNN_TEAM(nt, ...)                                      \
    do {                                                        \
        if ((nt) > 1 || PYNN_OMP_IN_PARALLEL()) {               \
            PYNN_PRAGMA(omp parallel num_threads(nt))           \
            __VA_ARGS__                                         \
        } else {                                                \
            __VA_ARGS__                                         \
        }                                                       \
    } while (0)

/* A barrier of the calling team, skipped by a team of one: libgomp's barrier
 * wakes the waiters with a futex syscall even when there are none: 5 of a
 * one-thread tiny training step's 6 syscalls, about 8% of its time. Every thread of a team sees the same team size, so all of them
 * take the same branch. Work-sharing constructs that a team of one runs
 * therefore end with nowait and this, not with their implicit barrier (the
 * GEMM's item loop keeps its own: only a larger team runs it). */
#define PYNN_BARRIER()                                          \
    do {                                                        \
        if (PYNN_OMP_NUM_THREADS() > 1) {                       \
            PYNN_PRAGMA(omp barrier)                            \
        }                                                       \
    } while (0)

/* Iterations per dynamically handed-out chunk: enough that one chunk carries
 * about PYNN_CHUNK_WORK flops, so that tiny loops stay on one thread. */
#define PYNN_CHUNK_WORK 16384.0
static inline int64_t pynn_chunk(int64_t n_items, double work_per_item)
{
    double c = PYNN_CHUNK_WORK / (work_per_item > 1 ? work_per_item : 1);
    if (c >= (double)n_items) return n_items > 0 ? n_items : 1;
    return c < 1 ? 1 : (int64_t)c;
}

/* Threads worth waking for `flops` of work (>= 1 and <= n_threads). A parallel
 * region and its barriers cost microseconds; below ~MIN_FLOPS_PER_THREAD per
 * thread it is not worth it (bench/compare.py: the tiny network's 1.2 Mflop step
 * ran at 648k samples/s on one thread and 413k on two). */
#define PYNN_MIN_FLOPS_PER_THREAD 1000000.0
static inline int pynn_threads_for(int n_threads, double flops)
{
    double by_work = flops / PYNN_MIN_FLOPS_PER_THREAD;
    if (n_threads < 1) return 1;
    if (by_work < (double)n_threads) return by_work < 1.0 ? 1 : (int)by_work;
    return n_threads;
}

#endif /* PYNN_THREADS_H */
