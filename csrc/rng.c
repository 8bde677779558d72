/* SPDX-License-Identifier: MIT
 * rng.c: Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers:
 * as easy as 1, 2, 3", SC'11), written from the paper's description. */
#include "rng.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u   /* golden ratio */
#define PHILOX_W1 0xBB67AE85u   /* sqrt(3) - 1 */

static void philox4x32_10(uint32_t x[4], uint32_t k0, uint32_t k1)
{
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * x[0];
        uint64_t p1 = (uint64_t)PHILOX_M1 * x[2];
        uint32_t y0 = (uint32_t)(p1 >> 32) ^ x[1] ^ k0;
        uint32_t y2 = (uint32_t)(p0 >> 32) ^ x[3] ^ k1;
        x[0] = y0;
        x[1] = (uint32_t)p1;
        x[2] = y2;
        x[3] = (uint32_t)p0;
        k0 += PHILOX_W0;                 /* key schedule: bump by the Weyl constants */
        k1 += PHILOX_W1;
    }
}

double pynn_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint32_t x[4] = {(uint32_t)index, (uint32_t)(index >> 32), (uint32_t)stream,
                     (uint32_t)(stream >> 32)};
    uint64_t bits;
    philox4x32_10(x, (uint32_t)seed, (uint32_t)(seed >> 32));
    bits = ((uint64_t)x[0] << 32 | x[1]) >> 11;          /* top 53 bits */
    return (double)bits * (1.0 / 9007199254740992.0);    /* / 2^53 */
}
