/* SPDX-License-Identifier: MIT
 * nn/loss.c: the losses and their gradients, computed in one pass
 * (float and double), and the finite check a training step makes. */
#include <math.h>
#include "nn.h"
#include "../threads.h"

#define PYNN_TEMPLATE "nn/loss.inc.c"
#include "../template.h"
