/* SPDX-License-Identifier: MIT
 * cpu.c: CPU feature detection and the choice of the GEMM kernel set, made
 * once per process: the best set this CPU and build support, unless the
 * environment variable PYNN_KERNEL=generic|avx2|avx512|avx512_6x64 names
 * another. Of the two AVX-512 sets, an Intel CPU gets avx512_6x64 and any
 * other avx512 (config.c has the measurements). A forced kernel that is
 * unknown, not built or not supported by the CPU falls back to the best one;
 * pynn_kernel_name() always reports the set actually in use. Compiled at
 * baseline flags. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "pynn.h"
#include "cpu.h"
#include "gemm/kernels.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define PYNN_X86 1

static unsigned long long xgetbv0(void)
{
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

static int detect_features(void)
{
    int f = 0;
#ifdef PYNN_X86
    unsigned int a, b, c, d, max_leaf;
    unsigned long long xcr0;
    if (!__get_cpuid(0, &max_leaf, &b, &c, &d) || max_leaf < 7) return 0;
    __cpuid(1, a, b, c, d);
    if (!(c & bit_OSXSAVE) || !(c & bit_AVX) || !(c & bit_FMA)) return 0;
    xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0;                 /* OS saves xmm and ymm */
    __cpuid_count(7, 0, a, b, c, d);
    if (b & bit_AVX2) f |= PYNN_CPU_AVX2_FMA;
    if ((b & bit_AVX512F) && (b & bit_AVX512BW) && (b & bit_AVX512DQ) && (b & bit_AVX512VL) &&
        (xcr0 & 0xe6) == 0xe6)                         /* and opmask + zmm state */
        f |= PYNN_CPU_AVX512;
#endif
    return f;
}

/* "GenuineIntel" in cpuid leaf 0 */
static int detect_intel(void)
{
#ifdef PYNN_X86
    unsigned int a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    return b == 0x756e6547u && d == 0x49656e69u && c == 0x6c65746eu;   /* "Genu" "ineI" "ntel" */
#else
    return 0;
#endif
}

int pynn_cpu_features(void)
{
    static atomic_int cached = -1;    /* a race computes the same value twice: harmless */
    int f = atomic_load_explicit(&cached, memory_order_acquire);
    if (f < 0) {
        f = detect_features();
        atomic_store_explicit(&cached, f, memory_order_release);
    }
    return f;
}

static int runnable(const pynn_gemm_kernel *k)
{
    int f = pynn_cpu_features();
    if (strcmp(k->name, "generic") == 0) return 1;
    if (strcmp(k->name, "avx2") == 0) return (f & PYNN_CPU_AVX2_FMA) != 0;
    if (strcmp(k->name, "avx512") == 0 || strcmp(k->name, "avx512_6x64") == 0)
        return (f & PYNN_CPU_AVX512) && (f & PYNN_CPU_AVX2_FMA);   /* their packs are AVX2's */
    return 0;
}

/* How good set k is on this CPU, 0 (generic) to 4: generic, avx2, then the
 * AVX-512 sets, avx512_6x64 above avx512 on an Intel CPU, below it elsewhere
 * (measured in config.c for Intel; on the family 25 model 17 EPYC with AVX-512,
 * 6 interleaved rounds of steps, 6x64 against 8x32: medium 0.99x the time at 1
 * thread but 1.03x at 2, wide 0.98x and 1.00x: no clear winner, so 8x32). */
static int rank(const pynn_gemm_kernel *k, int intel)
{
    if (strcmp(k->name, "avx512_6x64") == 0) return intel ? 4 : 2;
    if (strcmp(k->name, "avx512") == 0) return 3;
    return strcmp(k->name, "avx2") == 0 ? 1 : 0;
}

static const pynn_gemm_kernel *choose(void)
{
    const pynn_gemm_kernel *best = &pynn_gemm_kernel_generic;
    const char *want = getenv("PYNN_KERNEL");
    const int intel = detect_intel();
    int i;
    for (i = 0; pynn_gemm_kernels_built[i]; i++)
        if (runnable(pynn_gemm_kernels_built[i]) &&
            rank(pynn_gemm_kernels_built[i], intel) > rank(best, intel))
            best = pynn_gemm_kernels_built[i];
    if (want && *want)
        for (i = 0; pynn_gemm_kernels_built[i]; i++)
            if (strcmp(want, pynn_gemm_kernels_built[i]->name) == 0 &&
                runnable(pynn_gemm_kernels_built[i]))
                return pynn_gemm_kernels_built[i];
    return best;
}

const pynn_gemm_kernel *pynn_gemm_kernel_get(void)
{
    static _Atomic(const pynn_gemm_kernel *) chosen = NULL;
    const pynn_gemm_kernel *k = atomic_load_explicit(&chosen, memory_order_acquire);
    if (!k) {                         /* choose() is pure: concurrent first calls agree */
        k = choose();
        atomic_store_explicit(&chosen, k, memory_order_release);
    }
    return k;
}

const char *pynn_kernel_name(void) { return pynn_gemm_kernel_get()->name; }

void pynn_kernel_blocks(int dtype, int64_t out[9])
{
    const pynn_gemm_kernel *k = pynn_gemm_kernel_get();
    const pynn_gemm_blocks *b = dtype == PYNN_F64 ? &k->bd : &k->bs;
    const int v[9] = {b->mr, b->nr, b->mc, b->kc, b->nc, b->sup_n, b->sup_nt, b->cols_n,
                      k->narrow ? k->narrow_below : 0};
    for (int i = 0; i < 9; i++) out[i] = v[i];
}

const char *pynn_kernel_list(void)
{
    /* the runnable sets, worst to best by rank, in the calling thread's own
     * buffer (no race between threads; the names fit: 31 characters) */
    static _Thread_local char list[64];
    const int intel = detect_intel();
    size_t len = 0;
    int r, i;
    list[0] = '\0';
    for (r = 0; r <= 4; r++)
        for (i = 0; pynn_gemm_kernels_built[i]; i++) {
            const pynn_gemm_kernel *k = pynn_gemm_kernels_built[i];
            const size_t n = strlen(k->name);
            if (rank(k, intel) != r || !runnable(k) || len + n + 2 > sizeof list) continue;
            if (len) list[len++] = ',';
            memcpy(list + len, k->name, n + 1);
            len += n;
        }
    return list;
}
