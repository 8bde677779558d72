/* SPDX-License-Identifier: MIT
 * nn/layer.c: the dense layer, forward and backward (float and double). */
#include <math.h>
#include "nn.h"
#include "../gemm/gemm.h"
#include "../threads.h"

/* TEMPORARY: runs the product on one thread of the team until the GEMM has a
 * team entry point. */
#define PYNN_TEMPLATE "nn/gemm_team_adapter.inc.c"
#include "../template.h"

#define PYNN_TEMPLATE "nn/layer.inc.c"
#include "../template.h"
