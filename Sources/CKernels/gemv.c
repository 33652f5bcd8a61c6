/* Products of float32 rows with half-precision weight matrices (float16 or bfloat16), read in
   place: y[m, n] = sum_k x[m, k] * w[n, k] for a few rows of x (decoding), each weight widened
   to float32 in registers. A float16 model's decode step reads 2 bytes per weight instead of
   the 4 of a float32 copy; the widening is exact, so the result is the float32 product up to
   the order of the sums. */
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "ckernels.h"
#include "zoo_kernel_support.h"

static inline float h2f_scalar(uint16_t h, int bf16) {
    if (bf16) { union { uint32_t u; float f; } v; v.u = (uint32_t)h << 16; return v.f; }
    _Float16 v; memcpy(&v, &h, 2); return (float)v;
}

static void gemv_half_rows_scalar(const float *x, long M, long K, long ldx, const uint16_t *w, long ldw,
                                  float *y, long ldy, long n0, long n1, int bf16) {
    for (long n = n0; n < n1; n++)
        for (long m = 0; m < M; m++) {
            float acc = 0;
            for (long k = 0; k < K; k++) acc += x[m * ldx + k] * h2f_scalar(w[n * ldw + k], bf16);
            y[m * ldy + n] = acc;
        }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline __m256 widen8(const uint16_t *p, const int bf16) {
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    if (bf16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    return _mm256_cvtph_ps(h);
}

__attribute__((target("avx2,fma,f16c"), always_inline))
static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Four weight rows at a time, each widened once per 8 values and used by every row of x (x
   stays in L1); the next four rows are prefetched as these are read. One row of x (decoding)
   has its own loop with two accumulators per weight row, so the multiply-adds of consecutive
   steps do not wait on each other. */
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void gemv_half4(const float *x, long M, long K, long ldx, const uint16_t *w, long ldw,
                              float *y, long ldy, long n, const int bf16) {
    const uint16_t *r0 = w + n * ldw, *r1 = r0 + ldw, *r2 = r1 + ldw, *r3 = r2 + ldw;
    long K8 = K & ~7L;
    if (M == 1) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
        long K16 = K & ~15L, k = 0;
        for (; k < K16; k += 16) {
            if ((k & 31) == 0) {
                _mm_prefetch((const char *)(r0 + 4 * ldw + k), _MM_HINT_T0);
                _mm_prefetch((const char *)(r1 + 4 * ldw + k), _MM_HINT_T0);
                _mm_prefetch((const char *)(r2 + 4 * ldw + k), _MM_HINT_T0);
                _mm_prefetch((const char *)(r3 + 4 * ldw + k), _MM_HINT_T0);
            }
            __m256 x0 = _mm256_loadu_ps(x + k), x1 = _mm256_loadu_ps(x + k + 8);
            a0 = _mm256_fmadd_ps(x0, widen8(r0 + k, bf16), a0); a1 = _mm256_fmadd_ps(x0, widen8(r1 + k, bf16), a1);
            a2 = _mm256_fmadd_ps(x0, widen8(r2 + k, bf16), a2); a3 = _mm256_fmadd_ps(x0, widen8(r3 + k, bf16), a3);
            c0 = _mm256_fmadd_ps(x1, widen8(r0 + k + 8, bf16), c0); c1 = _mm256_fmadd_ps(x1, widen8(r1 + k + 8, bf16), c1);
            c2 = _mm256_fmadd_ps(x1, widen8(r2 + k + 8, bf16), c2); c3 = _mm256_fmadd_ps(x1, widen8(r3 + k + 8, bf16), c3);
        }
        for (; k < K8; k += 8) {
            __m256 x0 = _mm256_loadu_ps(x + k);
            a0 = _mm256_fmadd_ps(x0, widen8(r0 + k, bf16), a0); a1 = _mm256_fmadd_ps(x0, widen8(r1 + k, bf16), a1);
            a2 = _mm256_fmadd_ps(x0, widen8(r2 + k, bf16), a2); a3 = _mm256_fmadd_ps(x0, widen8(r3 + k, bf16), a3);
        }
        float s[4] = {hsum8(_mm256_add_ps(a0, c0)), hsum8(_mm256_add_ps(a1, c1)), hsum8(_mm256_add_ps(a2, c2)), hsum8(_mm256_add_ps(a3, c3))};
        for (; k < K; k++) {
            s[0] += x[k] * h2f_scalar(r0[k], bf16); s[1] += x[k] * h2f_scalar(r1[k], bf16);
            s[2] += x[k] * h2f_scalar(r2[k], bf16); s[3] += x[k] * h2f_scalar(r3[k], bf16);
        }
        for (int r = 0; r < 4; r++) y[n + r] = s[r];
        return;
    }
    for (long m0 = 0; m0 < M; m0 += 2) {
        const int two = m0 + 1 < M;
        const float *xa = x + m0 * ldx, *xb = x + (m0 + two) * ldx;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (long k = 0; k < K8; k += 8) {
            if ((k & 31) == 0) {
                _mm_prefetch((const char *)(r0 + 4 * ldw + k), _MM_HINT_T0);
                _mm_prefetch((const char *)(r1 + 4 * ldw + k), _MM_HINT_T0);
                _mm_prefetch((const char *)(r2 + 4 * ldw + k), _MM_HINT_T0);
                _mm_prefetch((const char *)(r3 + 4 * ldw + k), _MM_HINT_T0);
            }
            __m256 w0 = widen8(r0 + k, bf16), w1 = widen8(r1 + k, bf16), w2 = widen8(r2 + k, bf16), w3 = widen8(r3 + k, bf16);
            __m256 xv = _mm256_loadu_ps(xa + k);
            a0 = _mm256_fmadd_ps(xv, w0, a0); a1 = _mm256_fmadd_ps(xv, w1, a1);
            a2 = _mm256_fmadd_ps(xv, w2, a2); a3 = _mm256_fmadd_ps(xv, w3, a3);
            if (two) {
                __m256 xw = _mm256_loadu_ps(xb + k);
                b0 = _mm256_fmadd_ps(xw, w0, b0); b1 = _mm256_fmadd_ps(xw, w1, b1);
                b2 = _mm256_fmadd_ps(xw, w2, b2); b3 = _mm256_fmadd_ps(xw, w3, b3);
            }
        }
        float s[2][4] = {{hsum8(a0), hsum8(a1), hsum8(a2), hsum8(a3)}, {hsum8(b0), hsum8(b1), hsum8(b2), hsum8(b3)}};
        for (long k = K8; k < K; k++) {
            float v0 = h2f_scalar(r0[k], bf16), v1 = h2f_scalar(r1[k], bf16), v2 = h2f_scalar(r2[k], bf16), v3 = h2f_scalar(r3[k], bf16);
            s[0][0] += xa[k] * v0; s[0][1] += xa[k] * v1; s[0][2] += xa[k] * v2; s[0][3] += xa[k] * v3;
            s[1][0] += xb[k] * v0; s[1][1] += xb[k] * v1; s[1][2] += xb[k] * v2; s[1][3] += xb[k] * v3;
        }
        for (int r = 0; r < 4; r++) {
            y[m0 * ldy + n + r] = s[0][r];
            if (two) y[(m0 + 1) * ldy + n + r] = s[1][r];
        }
    }
}

__attribute__((target("avx2,fma,f16c"))) static void gemv_f16_avx2(const float *x, long M, long K, long ldx,
        const uint16_t *w, long ldw, float *y, long ldy, long n0, long n1) {
    long n = n0;
    for (; n + 4 <= n1; n += 4) gemv_half4(x, M, K, ldx, w, ldw, y, ldy, n, 0);
    gemv_half_rows_scalar(x, M, K, ldx, w, ldw, y, ldy, n, n1, 0);
}

__attribute__((target("avx2,fma,f16c"))) static void gemv_bf16_avx2(const float *x, long M, long K, long ldx,
        const uint16_t *w, long ldw, float *y, long ldy, long n0, long n1) {
    long n = n0;
    for (; n + 4 <= n1; n += 4) gemv_half4(x, M, K, ldx, w, ldw, y, ldy, n, 1);
    gemv_half_rows_scalar(x, M, K, ldx, w, ldw, y, ldy, n, n1, 1);
}
#endif

void zoo_gemv_half_t(const float *x, long M, long K, long ldx, const uint16_t *w, long ldw,
                     float *y, long ldy, long n0, long n1, int bf16) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
        if (bf16) gemv_bf16_avx2(x, M, K, ldx, w, ldw, y, ldy, n0, n1);
        else gemv_f16_avx2(x, M, K, ldx, w, ldw, y, ldy, n0, n1);
        return;
    }
#endif
    gemv_half_rows_scalar(x, M, K, ldx, w, ldw, y, ldy, n0, n1, bf16);
}
