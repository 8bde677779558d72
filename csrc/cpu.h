/* SPDX-License-Identifier: MIT
 * cpu.h: CPU features this process may use (cpuid + xgetbv, so the OS must
 * also save the wide registers). Compiled at baseline. */
#ifndef PYNN_CPU_H
#define PYNN_CPU_H

enum { PYNN_CPU_AVX2_FMA = 1, PYNN_CPU_AVX512 = 2 };

/* Bit set of PYNN_CPU_* features usable here (computed once). */
int pynn_cpu_features(void);

#endif /* PYNN_CPU_H */
