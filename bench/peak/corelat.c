/* SPDX-License-Identifier: MIT
 * bench/peak/corelat.c: how long a cache line takes to move from one core to
 * another, the price of every hand-over between the threads of a team (a
 * barrier's arrival and release, a product's output read by the other thread).
 * Two threads pinned to cores a and b pass a counter back and forth through
 * one cache line; a round trip is two transfers. On a VM the number changes
 * with where the hypervisor puts the virtual CPUs: on the 2-core EPYC dev VM it
 * read 26-39 ns in some minutes (the two on one L3) and 115-160 ns in others,
 * and the 2-thread training steps moved with it (bench/compare.py prints it
 * beside every multi-thread run).
 * Usage: corelat [a b]   (cores 0 and 1 by default) prints "line_ns <one-way
 * transfer, median of 7 bursts>" and "spread <min>-<max>". Build: cc -O2
 * -pthread corelat.c -o corelat (Linux). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { TRIPS = 20000, BURSTS = 7 };

static _Alignas(64) _Atomic long ball;   /* odd: with the echo thread; even: back */
static int core_a, core_b;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int pin(int core)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* Returns every odd value as the next even one, BURSTS x TRIPS times, on core b
 * (main has checked that it can run there). */
static void *echo(void *unused)
{
    (void)unused;
    pin(core_b);
    for (long i = 0; i < (long)BURSTS * TRIPS; i++) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 1) {}
        atomic_store_explicit(&ball, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
    pthread_t t;
    double one_way[BURSTS];
    core_a = argc > 2 ? atoi(argv[1]) : 0;
    core_b = argc > 2 ? atoi(argv[2]) : 1;
    if (core_a == core_b) {       /* two spinning threads on one core: one time slice a trip */
        fprintf(stderr, "corelat: needs two different cores, got %d twice\n", core_a);
        return 1;
    }
    /* both cores tried from here first: an unpinned echo could share core a */
    if (pin(core_b) || pin(core_a) || pthread_create(&t, NULL, echo, NULL)) {
        fprintf(stderr, "corelat: cannot run on cores %d and %d\n", core_a, core_b);
        return 1;
    }
    for (int r = 0; r < BURSTS; r++) {
        double t0 = now();
        for (long i = (long)r * TRIPS; i < (long)(r + 1) * TRIPS; i++) {
            atomic_store_explicit(&ball, 2 * i + 1, memory_order_release);
            while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 2) {}
        }
        one_way[r] = (now() - t0) / TRIPS / 2 * 1e9;
    }
    pthread_join(t, NULL);
    qsort(one_way, BURSTS, sizeof one_way[0], by_value);
    printf("line_ns %.1f\nspread %.1f-%.1f\n", one_way[BURSTS / 2], one_way[0],
           one_way[BURSTS - 1]);
    return 0;
}
