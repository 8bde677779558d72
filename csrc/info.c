/* SPDX-License-Identifier: MIT
 * info.c: what this build is (compiler, build type, OpenMP runtime) and what
 * the OpenMP runtime reports, for pynn.info() and the Python layer's
 * thread-count policy. */
#include <stdio.h>
#include "pynn.h"
#include "threads.h"

int pynn_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int pynn_omp_max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

const char *pynn_openmp_runtime(void)
{
#if defined(_OPENMP) && defined(__clang__)
#define PYNN_OMP_RT "libomp"
#elif defined(_OPENMP) && defined(__GNUC__)
#define PYNN_OMP_RT "libgomp"
#elif defined(_OPENMP)
#define PYNN_OMP_RT "OpenMP"
#endif
#ifdef _OPENMP
#define PYNN_STR_(x) #x
#define PYNN_STR(x) PYNN_STR_(x)
    return PYNN_OMP_RT " (OpenMP " PYNN_STR(_OPENMP) ")";
#else
    return "none (sequential build)";
#endif
}

#ifndef PYNN_BUILD_TYPE
#define PYNN_BUILD_TYPE "unknown"
#endif

const char *pynn_build_info(void)
{
#if defined(__clang__)
    return "clang " __clang_version__ ", " PYNN_BUILD_TYPE;
#elif defined(__GNUC__)
    return "gcc " __VERSION__ ", " PYNN_BUILD_TYPE;
#else
    return "C compiler, " PYNN_BUILD_TYPE;
#endif
}
