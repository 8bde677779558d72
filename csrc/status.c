/* SPDX-License-Identifier: MIT
 * status.c: the message for each pynn_status. */
#include "pynn.h"

const char *pynn_strerror(int status)
{
    switch (status) {
    case PYNN_OK: return "success";
    case PYNN_ERR_ARG: return "invalid argument";
    case PYNN_ERR_SHAPE: return "invalid or mismatched sizes";
    case PYNN_ERR_OVERFLOW: return "sizes too large: their product overflows";
    case PYNN_ERR_NOMEM: return "out of memory";
    case PYNN_ERR_NONFINITE: return "loss or gradient is not finite; step not applied";
    case PYNN_ERR_NOTSUPP: return "not supported on this CPU or build";
    case PYNN_ERR_BUSY: return "the network is in use by another thread";
    case PYNN_ERR_INTERNAL: return "internal error";
    default: return "unknown status";
    }
}
