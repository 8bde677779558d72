/* SPDX-License-Identifier: MIT
 * threads.c: the team barrier's wait and the per-thread team view (threads.h). */
#include <sched.h>
#include <string.h>
#include "threads.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

/* Pause instructions spun before each yield of the core: a few microseconds,
 * longer than a step's usual wait for the other threads at a barrier, far
 * shorter than a scheduler tick (when a thread of the team has lost its core,
 * the waiters give theirs up). */
#define SPINS_BEFORE_YIELD 4096

_Thread_local pynn_team_self pynn_team_me;

void pynn_team_shared_init(pynn_team_shared *sh)
{
    memset(sh, 0, sizeof *sh);
}

void pynn_team_wait(_Atomic uint32_t *generation, uint32_t seen)
{
    int spins = 0;
    while (atomic_load_explicit(generation, memory_order_acquire) == seen) {
        if (++spins < SPINS_BEFORE_YIELD) {
            CPU_RELAX();
        } else {
            sched_yield();
            spins = 0;
        }
    }
}
