#ifndef ZOO_KERNEL_SUPPORT_H
#define ZOO_KERNEL_SUPPORT_H
/* Shared by the kernel files of this target (not part of its public headers). */
#include <math.h>
#include <stdint.h>

/* Hot kernels are compiled twice (AVX2/FMA/F16C and baseline) and picked at load time.
   ThreadSanitizer instruments the ifunc resolvers that target_clones creates, which then run
   before its runtime exists: TSan builds use the baseline code path only. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ZOO_NO_IFUNC 1
#endif
#endif
#if defined(__x86_64__) && defined(__linux__) && !defined(ZOO_NO_IFUNC)
#define ZOO_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define ZOO_MULTIVERSION
#endif

/* exp(x) = 2^x·log2(e): the integer part goes into the exponent bits, the fraction through a
   degree-6 polynomial in 2^f. This is the same algorithm and operation order (with fused
   multiply-adds) as MLX's CPU kernel, so results agree with MLX bit for bit; branch-free so
   loops vectorise. */
static inline float zoo_exp_inline(float v) {
    float x = v * 1.442695f;
    float ip = __builtin_floorf(x + 0.5f);
    float f = x - ip;
    float p = 1.535336188319500e-4f;
    p = __builtin_fmaf(p, f, 1.339887440266574e-3f);
    p = __builtin_fmaf(p, f, 9.618437357674640e-3f);
    p = __builtin_fmaf(p, f, 5.550332471162809e-2f);
    p = __builtin_fmaf(p, f, 2.402264791363012e-1f);
    p = __builtin_fmaf(p, f, 6.931472028550421e-1f);
    p = __builtin_fmaf(p, f, 1.0f);
    union { uint32_t u; float f; } e;
    int k = (int)ip;
    k = k < -127 ? -127 : (k > 128 ? 128 : k);
    e.u = (uint32_t)(k + 127) << 23;
    float y = e.f * p;
    y = v > 88.0f ? INFINITY : y;
    y = v < -88.0f ? 0.0f : y;
    return v != v ? v : y;
}

#endif
