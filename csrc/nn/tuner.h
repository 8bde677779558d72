/* SPDX-License-Identifier: MIT
 * nn/tuner.h: the adaptive thread count of a network. Results are bitwise
 * identical for every thread count, so a network may pick, call by call, the
 * count that runs fastest NOW: on a machine where another process takes a
 * core, a team that waits for a descheduled thread at every barrier can be
 * slower than one thread, and the tuner then steps down. It keeps an estimate
 * of seconds per flop for each candidate count (the allowed maximum, its
 * halves, ..., 1): the fastest of its first PYNN_TUNER_FIRST calls, then a
 * moving average that a single slow call (a stall, a scheduler tick) moves
 * little; it uses the best, and probes a neighbour of the best when the time
 * that probe is expected to lose is at most PROBE_BUDGET of the time run since
 * the last probe: cheap probes are frequent, costly ones rare. */
#ifndef PYNN_TUNER_H
#define PYNN_TUNER_H

#include <stdint.h>

#define PYNN_TUNER_MAX_THREADS 256
#define PYNN_TUNER_PROBE_BUDGET 0.01   /* probes may cost up to 1% of the run time */
#define PYNN_TUNER_PROBE_GAP 8         /* and come at most every 8 calls */
#define PYNN_TUNER_FIRST 3             /* calls per count before its estimate is trusted */
#define PYNN_TUNER_CLIP 2.0            /* a call counts as at most 2x the estimate */

typedef struct {
    int adaptive;                      /* 0: always use the allowed maximum */
    int last;                          /* threads the last call used */
    int probe_up;                      /* direction of the next probe */
    int top;                           /* the largest count recorded so far */
    int64_t calls_since_probe;
    double seconds_since_probe;
    double cost[PYNN_TUNER_MAX_THREADS + 1];   /* estimated seconds per flop; 0 = untried */
    unsigned char calls[PYNN_TUNER_MAX_THREADS + 1];  /* calls seen on a count, up to
                                                         PYNN_TUNER_FIRST + 2; the first (thread
                                                         start-up, page faults) is not recorded */
} pynn_tuner;

void pynn_tuner_init(pynn_tuner *t);

/* Threads for the next call, of `flops` work, at most nt_max. */
int pynn_tuner_pick(pynn_tuner *t, int nt_max, double flops);

/* Records that a call on nt threads did `flops` of work in `seconds`. */
void pynn_tuner_record(pynn_tuner *t, int nt, double flops, double seconds);

/* A monotonic clock in seconds. */
double pynn_now(void);

#endif
