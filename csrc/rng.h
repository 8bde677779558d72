/* SPDX-License-Identifier: MIT
 * rng.h: Philox4x32-10, a counter-based RNG: the value at (seed, stream, index)
 * is a pure function of those three numbers, so it is the same on every
 * machine and for any thread count or visiting order. */
#ifndef PYNN_RNG_H
#define PYNN_RNG_H
#include <stdint.h>

/* A double uniform in [0, 1) with 53 random bits, at (seed, stream, index). */
double pynn_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index);

#endif
