/* SPDX-License-Identifier: MIT
 * nn/tuner.c: the adaptive thread count (see tuner.h). */
#include <string.h>
#include <time.h>
#include "tuner.h"

void pynn_tuner_init(pynn_tuner *t)
{
    memset(t, 0, sizeof *t);
    t->adaptive = 1;
}

/* Worth probing count nb now? Its expected loss against the best fits the budget. */
static int probe_now(const pynn_tuner *t, int nb, int best, double flops)
{
    double loss = (t->cost[nb] - t->cost[best]) * flops;
    return t->calls_since_probe >= PYNN_TUNER_PROBE_GAP &&
           loss <= PYNN_TUNER_PROBE_BUDGET * t->seconds_since_probe;
}

int pynn_tuner_pick(pynn_tuner *t, int nt_max, double flops)
{
    int chain[16], n = 0, i, best = 0, up, down;
    if (nt_max > PYNN_TUNER_MAX_THREADS) nt_max = PYNN_TUNER_MAX_THREADS;
    if (!t->adaptive || nt_max <= 1) return nt_max < 1 ? 1 : nt_max;
    for (i = nt_max; i >= 1 && n < 16; i /= 2) chain[n++] = i;  /* nt_max, nt_max / 2, ..., 1 */
    for (i = 1; i < n; i++)                                      /* the best measured one */
        if (t->cost[chain[i]] > 0 && (t->cost[chain[best]] == 0 || t->cost[chain[i]] < t->cost[chain[best]]))
            best = i;
    if (t->cost[chain[best]] == 0) return nt_max;                /* nothing measured yet */
    down = best + 1 < n ? chain[best + 1] : 0;
    up = best > 0 ? chain[best - 1] : 0;
    if (down && t->calls[down] <= PYNN_TUNER_FIRST) return down; /* new neighbours first */
    if (up && t->calls[up] <= PYNN_TUNER_FIRST) return up;
    t->probe_up = !t->probe_up;                                  /* alternate the direction */
    if (up && (t->probe_up || !down) && probe_now(t, up, chain[best], flops)) return up;
    if (down && probe_now(t, down, chain[best], flops)) return down;
    return chain[best];
}

void pynn_tuner_record(pynn_tuner *t, int nt, double flops, double seconds)
{
    double c, best_cost = 0;
    int i;
    if (nt < 1 || nt > PYNN_TUNER_MAX_THREADS || !(flops > 0) || !(seconds > 0)) return;
    t->last = nt;
    if (nt > t->top) t->top = nt;
    if (t->calls[nt] < PYNN_TUNER_FIRST + 2) t->calls[nt]++;    /* 1, 2, ..., FIRST + 2 */
    if (t->calls[nt] == 1) return;                              /* warm-up call: not typical */
    for (i = 1; i <= t->top; i++)                               /* was this call a probe? */
        if (t->cost[i] > 0 && (best_cost == 0 || t->cost[i] < best_cost)) best_cost = t->cost[i];
    c = seconds / flops;
    if (t->cost[nt] > best_cost) {                              /* a probe: restart the budget */
        t->calls_since_probe = 0;
        t->seconds_since_probe = 0;
    } else {
        t->calls_since_probe++;
        t->seconds_since_probe += seconds;
    }
    /* Noise here only ever slows a call down: the fastest of the first calls,
     * then a moving average quick to follow a faster sample and slower to
     * follow a slower one, clipped, so one stall of many times a call's length
     * moves it by an eighth at most while a lasting slowdown still takes over
     * within a few calls (each raising it by an eighth). */
    if (t->calls[nt] <= PYNN_TUNER_FIRST + 1) {                 /* the first FIRST recorded */
        t->cost[nt] = t->calls[nt] == 2 || c < t->cost[nt] ? c : t->cost[nt];
        return;
    }
    if (c > PYNN_TUNER_CLIP * t->cost[nt]) c = PYNN_TUNER_CLIP * t->cost[nt];
    t->cost[nt] += (c < t->cost[nt] ? 0.5 : 0.125) * (c - t->cost[nt]);
}

double pynn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void pynn_tuner_simulate(int nt_max, const double *seconds_per_call, int64_t n_calls,
                         int32_t *picks)
{
    pynn_tuner t;
    pynn_tuner_init(&t);
    for (int64_t i = 0; i < n_calls; i++) {
        int nt = pynn_tuner_pick(&t, nt_max, 1e6);
        pynn_tuner_record(&t, nt, 1e6, seconds_per_call[i * (nt_max + 1) + nt]);
        picks[i] = nt;
    }
}
