/* SPDX-License-Identifier: MIT
 * nn/nn.h: the templated building blocks of the network (declared for float
 * *_s and double *_d): the dense layer forward and backward, the losses, and
 * the optimizer update. Shared by the public single-step ops (ops.c) and the
 * network (net.c), so both run the same code. */
#ifndef PYNN_NN_H
#define PYNN_NN_H
#include "../common.h"

/* One contiguous parameter segment and whether weight decay applies to it. */
typedef struct {
    int64_t offset, len;
    int decay;
} pynn_segment;

#define PYNN_TEMPLATE "nn/nn_decl.inc.h"
#include "../template.h"

#endif
