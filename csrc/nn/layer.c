/* SPDX-License-Identifier: MIT
 * nn/layer.c: the dense layer, forward and backward (float and double). */
#include <math.h>
#include "nn.h"
#include "../gemm/gemm.h"
#include "../threads.h"

#define PYNN_TEMPLATE "nn/layer.inc.c"
#include "../template.h"
