/* SPDX-License-Identifier: MIT
 * nn/optim.c: the optimizer updates (SGD with momentum / Nesterov / L2 weight
 * decay, Adam with optional decoupled weight decay) over flat buffers. */
#include <math.h>
#include "nn.h"
#include "../threads.h"

int64_t pynn_optim_state_len(const pynn_optim *opt, int64_t n_params)
{
    if (!opt) return 0;
    if (opt->kind == PYNN_OPT_ADAM) return 2 * n_params;              /* m, v */
    return opt->momentum != 0 ? n_params : 0;                          /* velocity */
}

#define PYNN_TEMPLATE "nn/optim.inc.c"
#include "../template.h"
