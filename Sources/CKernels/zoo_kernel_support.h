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


/* The 6 x 16 float32 register tile of the implicit-GEMM convolution (conv.c) and the quantized
   GEMM (quant.c): o[i][j] (+= when `accumulate`) sum over taps t < taps and c < C of
   a[i][toff[t] + c] * w[(t * C + c) * 16 + j], for rows i < np and columns j < nc. Twelve
   8-lane accumulators stay in registers; each step loads 16 packed weights once for all six
   rows. Inlined into a ZOO_MULTIVERSION caller, so each clone gets its own instructions. */
typedef float zoo_v8 __attribute__((vector_size(32)));
typedef float zoo_v8u __attribute__((vector_size(32), aligned(4)));

static inline __attribute__((always_inline)) void zoo_tile6x16(const float *const *a, const long *toff, long taps,
                                                               long C, const float *w, float *const *o, long np,
                                                               long nc, int accumulate) {
    zoo_v8 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    zoo_v8 c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    if (accumulate) {  /* full tiles only (np == 6, nc == 16) */
        c00 = *(zoo_v8u *)o[0], c01 = *(zoo_v8u *)(o[0] + 8), c10 = *(zoo_v8u *)o[1], c11 = *(zoo_v8u *)(o[1] + 8);
        c20 = *(zoo_v8u *)o[2], c21 = *(zoo_v8u *)(o[2] + 8), c30 = *(zoo_v8u *)o[3], c31 = *(zoo_v8u *)(o[3] + 8);
        c40 = *(zoo_v8u *)o[4], c41 = *(zoo_v8u *)(o[4] + 8), c50 = *(zoo_v8u *)o[5], c51 = *(zoo_v8u *)(o[5] + 8);
    }
    for (long t = 0; t < taps; t++) {
        long off = toff[t];
        const float *a0 = a[0] + off, *a1 = a[1] + off, *a2 = a[2] + off;
        const float *a3 = a[3] + off, *a4 = a[4] + off, *a5 = a[5] + off;
        for (long c = 0; c < C; c++) {
            zoo_v8 b0 = *(const zoo_v8u *)w, b1 = *(const zoo_v8u *)(w + 8);
            w += 16;
            float s;
            s = a0[c]; c00 += s * b0; c01 += s * b1;
            s = a1[c]; c10 += s * b0; c11 += s * b1;
            s = a2[c]; c20 += s * b0; c21 += s * b1;
            s = a3[c]; c30 += s * b0; c31 += s * b1;
            s = a4[c]; c40 += s * b0; c41 += s * b1;
            s = a5[c]; c50 += s * b0; c51 += s * b1;
        }
    }
    zoo_v8 acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (long i = 0; i < np; i++) {
        if (nc == 16) {
            *(zoo_v8u *)o[i] = acc[i][0];
            *(zoo_v8u *)(o[i] + 8) = acc[i][1];
        } else {
            float tmp[16];
            *(zoo_v8u *)tmp = acc[i][0];
            *(zoo_v8u *)(tmp + 8) = acc[i][1];
            __builtin_memcpy(o[i], tmp, (unsigned long)nc * sizeof(float));
        }
    }
}

#endif
