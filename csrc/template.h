/* SPDX-License-Identifier: MIT
 * template.h: instantiates the file named by PYNN_TEMPLATE once for float and
 * once for double. Inside it, `real` is the element type and R(name) the
 * suffixed name (name_s or name_d); PYNN_IS_F64 is 0 or 1. Include this (not
 * the body) from the .c file that owns the body. */
#ifndef PYNN_TEMPLATE
#error "define PYNN_TEMPLATE as the body file before including template.h"
#endif

#define real float
#define R(name) PYNN_CAT(name, _s)
#define PYNN_IS_F64 0
#include PYNN_TEMPLATE
#undef real
#undef R
#undef PYNN_IS_F64

#define real double
#define R(name) PYNN_CAT(name, _d)
#define PYNN_IS_F64 1
#include PYNN_TEMPLATE
#undef real
#undef R
#undef PYNN_IS_F64
#undef PYNN_TEMPLATE
