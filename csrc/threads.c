/* SPDX-License-Identifier: MIT
 * threads.c: the team barrier's wait (spin, then sleep), the per-thread team
 * view (threads.h), and the test hook of the team loops. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "threads.h"
#include "pynn.h"

#if defined(__linux__)
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

/* Pause rounds spun at a barrier before sleeping: about 110 us on the family
 * 25 EPYC (27 ns a pause), longer than a step's usual wait for the other
 * threads (spinning only 128 rounds made a 2-thread mnist step as slow as one
 * thread: each wait then paid a sleep and a wake-up). A team with more threads
 * than the CPUs it may run on spins briefly, so a waiter soon gives its core
 * to the thread it waits for: the mnist step on 2 cores, 4 / 6 / 8 threads,
 * took 2.3-2.6 / 3.9-5.3 / 5.6-8.4 ms spinning long, then yielding, and 1.00-1.06
 * / 1.08-1.16 / 1.09-1.11 ms spinning briefly, then sleeping (libgomp's
 * barriers: 0.96-1.10 / 1.07-1.23 / 1.14-1.21; 1 thread 1.25-1.34). So does a
 * team under OMP_WAIT_POLICY=passive: 2 threads 0.82-0.85 ms (libgomp
 * 0.82-0.86), where sleeping at once took 1.18. */
#define SPINS 4096
#define SPINS_SHORT 64

_Thread_local pynn_team_self pynn_team_me;

/* Read with the first team of the process, then kept: omp_get_num_procs()
 * asks the kernel for the affinity mask (a syscall) on every call, which every
 * thread of every team paid before. 0: not read yet. */
static _Atomic int team_cpus = 0;
static _Atomic int wait_passive = -1;          /* OMP_WAIT_POLICY=passive; -1: not read yet */

void pynn_team_shared_init(pynn_team_shared *sh)
{
    memset(sh, 0, sizeof *sh);
}

int pynn_team_spins(int n)
{
    int passive = atomic_load_explicit(&wait_passive, memory_order_relaxed);
    int cpus = atomic_load_explicit(&team_cpus, memory_order_relaxed);
    if (passive < 0) {                         /* every thread reads the same answer */
        const char *policy = getenv("OMP_WAIT_POLICY");
        passive = policy && strcasecmp(policy, "passive") == 0;
        atomic_store_explicit(&wait_passive, passive, memory_order_relaxed);
    }
    if (cpus == 0) {
#ifdef _OPENMP
        cpus = omp_get_num_procs();
#endif
        cpus = cpus > 0 ? cpus : 1;
        atomic_store_explicit(&team_cpus, cpus, memory_order_relaxed);
    }
    return passive || n > cpus ? SPINS_SHORT : SPINS;
}

void pynn_team_wait(pynn_team_shared *sh, uint32_t seen, int spins)
{
    for (int i = 0; i < spins; i++) {
        if (atomic_load_explicit(&sh->generation, memory_order_acquire) != seen) return;
        CPU_RELAX();
    }
    while (atomic_load_explicit(&sh->generation, memory_order_acquire) == seen) {
#if defined(__linux__)
        /* count this sleeper before the last check: the last to arrive bumps
         * generation, then reads the count (both seq_cst), so either it sees
         * this sleeper and wakes it, or this check (the kernel's, too) sees
         * the new generation and does not sleep */
        atomic_fetch_add(&sh->sleepers, 1);
        if (atomic_load(&sh->generation) == seen)
            syscall(SYS_futex, (uint32_t *)&sh->generation, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
        atomic_fetch_sub(&sh->sleepers, 1);
#else
        sched_yield();
#endif
    }
}

void pynn_team_wake(pynn_team_shared *sh)
{
#if defined(__linux__)
    syscall(SYS_futex, (uint32_t *)&sh->generation, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)sh;
#endif
}

void pynn_team_loop_simulate(int64_t n, int64_t chunk, int owned, int n_threads, int32_t *hits)
{
    PYNN_TEAM(n_threads, {
        int64_t i;
        for (int round = 0; round < 2; round++) {   /* the second reuses the first's counters */
            if (owned) {
                PYNN_TEAM_FOR_OWNED(i, n, chunk) atomic_fetch_add((_Atomic int32_t *)&hits[i], 1);
            } else {
                PYNN_TEAM_FOR(i, n, chunk) atomic_fetch_add((_Atomic int32_t *)&hits[i], 1);
            }
            PYNN_BARRIER();
        }
    });
}
