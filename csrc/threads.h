/* SPDX-License-Identifier: MIT
 * threads.h: pynn's teams. OpenMP only starts the threads (one parallel
 * region per call); the team functions share their work and wait for each
 * other with pynn's own loop counters and barrier (threads.c), which cost a
 * fraction of libgomp's constructs on the short loops of a small network's
 * step. A build without OpenMP compiles to the sequential path. */
#ifndef PYNN_THREADS_H
#define PYNN_THREADS_H

#include <stdatomic.h>
#include <stdint.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define PYNN_PRAGMA(x) _Pragma(#x)

/* Team functions. A function documented as a "team function" shares its work
 * only through the calls below (PYNN_TEAM_FOR, PYNN_BARRIER, pynn_team_id):
 * every thread of the calling team must call it with the same arguments, and
 * they share its work; called outside a team, the calling thread does all of
 * it. So a whole training step runs in ONE parallel region. Loops hand out
 * chunks dynamically (a thread that loses its core delays nobody for long),
 * and each chunk's result never depends on which thread ran it.
 * The rules that keep a team in step: every thread starts the same sequence
 * of team loops and barriers (never one inside `if (pynn_team_id() == 0)` or
 * behind a test that differs between threads; a shared value read after a
 * barrier is fine); nothing leaves a PYNN_TEAM_FOR body by return or goto
 * (a `break` ends only the current chunk); its variable is an int64_t. */

/* Loops that may be in flight between two barriers (a team function's nowait
 * loops, e.g. one per layer); the next one first waits at a barrier. */
#define PYNN_TEAM_SLOTS 32

/* Teams up to this size can run owned loops (one counter per thread in a
 * loop's cache line); larger ones share every loop from one counter. */
#define PYNN_TEAM_OWNED_MAX 8

/* What a team's threads share: the barrier's count and generation, and for
 * each loop since the last barrier the counter of handed-out chunks (one per
 * thread for an owned loop), each loop's on its own cache line. Lives on the
 * stack of the thread that opens the team. */
typedef struct {
    _Alignas(64) _Atomic uint32_t arrived;
    _Alignas(64) _Atomic uint32_t generation;
    _Atomic uint32_t sleepers;      /* waiters asleep on generation (threads.c) */
    struct {
        _Alignas(64) _Atomic int64_t next[PYNN_TEAM_OWNED_MAX];   /* [0] unless owned */
    } loop[PYNN_TEAM_SLOTS];
} pynn_team_shared;

/* A thread's view of its team: the shared part, its size and this thread's
 * number, how many loops it has started since the last barrier (the same
 * count on every thread), and how long it spins at a barrier before it sleeps.
 * n <= 1: no team, the thread works alone. */
typedef struct {
    pynn_team_shared *shared;
    int n, id, loops, spins;
} pynn_team_self;

/* hidden: not exported from the extension module */
extern _Thread_local pynn_team_self pynn_team_me __attribute__((visibility("hidden")));

void pynn_team_shared_init(pynn_team_shared *sh);
/* Pause rounds a waiter of a team of n spins before it sleeps (threads.c). */
int pynn_team_spins(int n);
/* Waits until sh->generation moves on from `seen`: spins `spins` rounds, then
 * sleeps until the last to arrive wakes it. */
void pynn_team_wait(pynn_team_shared *sh, uint32_t seen, int spins);
/* Wakes the waiters that went to sleep (after generation moved on). */
void pynn_team_wake(pynn_team_shared *sh);

static inline int pynn_team_size(void) { return pynn_team_me.n > 1 ? pynn_team_me.n : 1; }
static inline int pynn_team_id(void) { return pynn_team_me.n > 1 ? pynn_team_me.id : 0; }

/* Every thread of the team waits here for all the others; the writes each
 * made before are then seen by all (release on arrival, acquire on leaving).
 * The last to arrive clears the loop counters and lets the others go. A team
 * of one returns at once. */
static inline void pynn_team_barrier(void)
{
    pynn_team_self *me = &pynn_team_me;
    pynn_team_shared *sh = me->shared;
    uint32_t seen;
    if (me->n <= 1) return;
    seen = atomic_load_explicit(&sh->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&sh->arrived, 1, memory_order_acq_rel) == (uint32_t)me->n - 1) {
        const int used = me->n <= PYNN_TEAM_OWNED_MAX ? me->n : 1;  /* counters a loop can use */
        for (int u = 0; u < me->loops; u++)
            for (int t = 0; t < used; t++)
                atomic_store_explicit(&sh->loop[u].next[t], 0, memory_order_relaxed);
        atomic_store_explicit(&sh->arrived, 0, memory_order_relaxed);
        atomic_store(&sh->generation, seen + 1);        /* seq_cst: against a sleeper's count */
        if (atomic_load(&sh->sleepers)) pynn_team_wake(sh);
    } else {
        pynn_team_wait(sh, seen, me->spins);
    }
    me->loops = 0;
}
#define PYNN_BARRIER() pynn_team_barrier()

/* One team loop over [0, n) in chunks of `chunk`: each thread takes chunks
 * [lo, hi) from the loop's counter until none is left, so the first to come
 * takes a loop of one chunk (given to thread 0 instead, or to the threads in
 * turn, the tiny network's 2-thread step at batch 64 took 24.0-25.1 or 34-76
 * us, against 23.4-23.8). Alone, a thread takes all of it at once. */
typedef struct {
    _Atomic int64_t *next;     /* the shared chunk counter(s); NULL: alone */
    int64_t n, chunk, lo, hi;
    int todo;                  /* (alone) whether [0, n) is still to be done */
    int owners;                /* owned: the team size, each thread a range; 0: one counter */
    int me, tried;             /* owned: this thread, and the ranges it has emptied */
} pynn_share;

static inline pynn_share pynn_share_begin(int64_t n, int64_t chunk, int owned)
{
    pynn_team_self *me = &pynn_team_me;
    pynn_share s = {NULL, n, chunk < 1 ? 1 : chunk, 0, n, 1, 0, 0, 0};
    if (me->n <= 1) return s;                  /* alone: all of it */
    if (me->loops == PYNN_TEAM_SLOTS) pynn_team_barrier();
    s.next = me->shared->loop[me->loops++].next;
    if (owned && me->n <= PYNN_TEAM_OWNED_MAX) s.owners = me->n, s.me = me->id;
    return s;
}

static inline int pynn_share_next(pynn_share *s)
{
    const int64_t n_chunks = (s->n + s->chunk - 1) / s->chunk;
    int64_t c;
    if (!s->next) {
        int take = s->todo;
        s->todo = 0;
        return take;
    }
    if (!s->owners) {
        c = atomic_fetch_add_explicit(s->next, 1, memory_order_relaxed);
        if (c >= n_chunks) return 0;
    } else {                   /* own range first, then the others' in turn, from the front */
        for (;; s->tried++) {
            if (s->tried == s->owners) return 0;
            const int v = (s->me + s->tried) % s->owners;   /* range [first, end) of thread v */
            const int64_t first = n_chunks * v / s->owners, end = n_chunks * (v + 1) / s->owners;
            c = first + atomic_fetch_add_explicit(&s->next[v], 1, memory_order_relaxed);
            if (c < end) break;
        }
    }
    s->lo = c * s->chunk;
    s->hi = s->lo + s->chunk < s->n ? s->lo + s->chunk : s->n;
    return 1;
}

#define PYNN_TEAM_LOOP_(i, n, chunk, owned)                                              \
    for (pynn_share pynn_share_ = pynn_share_begin((n), (chunk), (owned));               \
         pynn_share_next(&pynn_share_);)                                                 \
        for ((i) = pynn_share_.lo; (i) < pynn_share_.hi; (i)++)

/* for (i = 0; i < n; i++), shared by the team in chunks; no barrier at the
 * end (the loop's results are complete for all after the next PYNN_BARRIER). */
#define PYNN_TEAM_FOR(i, n, chunk) PYNN_TEAM_LOOP_(i, n, chunk, 0)

/* The same, but thread t of the team first takes the chunks of its own t-th
 * share of [0, n), in order, then helps the others with theirs: loops whose
 * i-th chunk writes what a later loop's i-th chunk reads keep it on one core. */
#define PYNN_TEAM_FOR_OWNED(i, n, chunk) PYNN_TEAM_LOOP_(i, n, chunk, 1)

/* The calling thread joins a team (the team's shared part, this thread's place
 * in it) and returns its previous view, for pynn_team_leave. */
static inline pynn_team_self pynn_team_join(pynn_team_shared *sh, int n, int id)
{
    pynn_team_self prev = pynn_team_me;
    pynn_team_me = (pynn_team_self){sh, n, id, 0, n > 1 ? pynn_team_spins(n) : 0};
    return prev;
}
static inline void pynn_team_leave(pynn_team_self prev) { pynn_team_me = prev; }

/* Runs the braced block of team function calls `...` on a team of nt threads:
 * one OpenMP parallel region, whose threads join one pynn team. nt == 1 opens
 * no region (libgomp's team of one costs about 1000 instructions): the block
 * runs on the calling thread, as a team of one, even inside another team. */
#ifdef _OPENMP
#define PYNN_TEAM(nt, ...)                                                       \
    do {                                                                         \
        if ((nt) > 1) {                                                          \
            pynn_team_shared pynn_shared_;                                       \
            pynn_team_shared_init(&pynn_shared_);                                \
            PYNN_PRAGMA(omp parallel num_threads(nt))                            \
            {                                                                    \
                pynn_team_self pynn_prev_ = pynn_team_join(                      \
                    &pynn_shared_, omp_get_num_threads(), omp_get_thread_num()); \
                __VA_ARGS__                                                      \
                pynn_team_leave(pynn_prev_);                                     \
            }                                                                    \
        } else {                                                                 \
            pynn_team_self pynn_prev_ = pynn_team_join(NULL, 1, 0);              \
            __VA_ARGS__                                                          \
            pynn_team_leave(pynn_prev_);                                         \
        }                                                                        \
    } while (0)
#else
#define PYNN_TEAM(nt, ...)                                                       \
    do {                                                                         \
        pynn_team_self pynn_prev_ = pynn_team_join(NULL, 1, 0);                  \
        (void)(nt);                                                              \
        __VA_ARGS__                                                              \
        pynn_team_leave(pynn_prev_);                                             \
    } while (0)
#endif

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
