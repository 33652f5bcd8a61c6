/* Products of float32 rows with a weight matrix read in place, for a few rows of x (decoding):
   y[m, n] = sum_k x[m, k] * w[n, k]. The weights are float32, or float16 / bfloat16 widened to
   float32 in registers: a float16 model's decode step reads 2 bytes per weight instead of the 4
   of a float32 copy. Widening is exact, so the result is the float32 product up to the order of
   the sums. (OpenBLAS's sgemm with one row of x ran at a quarter of this speed.) */
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "ckernels.h"
#include "zoo_kernel_support.h"

/* kind: 0 float16, 1 bfloat16, 2 float32 */
static inline long esize_of(int kind) { return kind == 2 ? 4 : 2; }

static inline float load1(const char *row, long k, int kind) {
    if (kind == 2) { float f; memcpy(&f, row + k * 4, 4); return f; }
    uint16_t h; memcpy(&h, row + k * 2, 2);
    if (kind == 1) { union { uint32_t u; float f; } v; v.u = (uint32_t)h << 16; return v.f; }
    _Float16 v; memcpy(&v, &h, 2); return (float)v;
}

static void gemv_rows_scalar(const float *x, long M, long K, long ldx, const char *w, long ldw_bytes,
                             float *y, long ldy, long n0, long n1, int kind) {
    for (long n = n0; n < n1; n++)
        for (long m = 0; m < M; m++) {
            float acc = 0;
            for (long k = 0; k < K; k++) acc += x[m * ldx + k] * load1(w + n * ldw_bytes, k, kind);
            y[m * ldy + n] = acc;
        }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline __m256 load8(const char *row, long k, const int kind) {
    if (kind == 2) return _mm256_loadu_ps((const float *)row + k);
    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)row + k));
    if (kind == 1) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    return _mm256_cvtph_ps(h);
}

__attribute__((target("avx2,fma,f16c"), always_inline))
static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Four weight rows at a time, each loaded once per 8 values and used by every row of x (x
   stays in L1); the next four rows are prefetched as these are read. One row of x (decoding)
   has its own loop that reads the four weight rows one after the other. */
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void gemv4(const float *x, long M, long K, long ldx, const char *w, long ldw,
                         float *y, long ldy, long n, const int kind) {
    const long es = esize_of(kind), lb = ldw * es;     /* row stride in bytes */
    const char *r0 = w + n * lb, *r1 = r0 + lb, *r2 = r1 + lb, *r3 = r2 + lb;
    const long K8 = K & ~7L, ahead = 4 * lb, step = 64 / es;  /* one prefetch per line */
    if (M == 1) {
        /* One row at a time, so each thread reads its weights as one sequential stream with a
           prefetch 1 KiB ahead. (Four rows side by side, 4 streams, reached ~21 GB/s from
           memory; row by row ~28 GB/s, measured on a float16 [49152, 576] matrix.) Four
           accumulators keep consecutive multiply-adds independent. */
        for (int r = 0; r < 4; r++) {
            const char *rr = r0 + r * lb;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            const long K32 = K & ~31L;
            long k = 0;
            for (; k < K32; k += 32) {
                _mm_prefetch(rr + 1024 + k * es, _MM_HINT_T0);
                if (es == 4) _mm_prefetch(rr + 1024 + 64 + k * es, _MM_HINT_T0);
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), load8(rr, k, kind), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 8), load8(rr, k + 8, kind), a1);
                a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 16), load8(rr, k + 16, kind), a2);
                a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 24), load8(rr, k + 24, kind), a3);
            }
            for (; k < K8; k += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), load8(rr, k, kind), a0);
            float s = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
            for (; k < K; k++) s += x[k] * load1(rr, k, kind);
            y[n + r] = s;
        }
        return;
    }
    for (long m0 = 0; m0 < M; m0 += 2) {
        const int two = m0 + 1 < M;
        const float *xa = x + m0 * ldx, *xb = x + (m0 + two) * ldx;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (long k = 0; k < K8; k += 8) {
            if ((k & (step - 1)) == 0) {
                _mm_prefetch(r0 + ahead + k * es, _MM_HINT_T0);
                _mm_prefetch(r1 + ahead + k * es, _MM_HINT_T0);
                _mm_prefetch(r2 + ahead + k * es, _MM_HINT_T0);
                _mm_prefetch(r3 + ahead + k * es, _MM_HINT_T0);
            }
            __m256 w0 = load8(r0, k, kind), w1 = load8(r1, k, kind), w2 = load8(r2, k, kind), w3 = load8(r3, k, kind);
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
            float v0 = load1(r0, k, kind), v1 = load1(r1, k, kind), v2 = load1(r2, k, kind), v3 = load1(r3, k, kind);
            s[0][0] += xa[k] * v0; s[0][1] += xa[k] * v1; s[0][2] += xa[k] * v2; s[0][3] += xa[k] * v3;
            s[1][0] += xb[k] * v0; s[1][1] += xb[k] * v1; s[1][2] += xb[k] * v2; s[1][3] += xb[k] * v3;
        }
        for (int r = 0; r < 4; r++) {
            y[m0 * ldy + n + r] = s[0][r];
            if (two) y[(m0 + 1) * ldy + n + r] = s[1][r];
        }
    }
}

#define GEMV_VARIANT(name, KIND)                                                                          \
    __attribute__((target("avx2,fma,f16c"))) static void name(const float *x, long M, long K, long ldx,  \
            const char *w, long ldw, float *y, long ldy, long n0, long n1) {                            \
        long n = n0;                                                                                     \
        for (; n + 4 <= n1; n += 4) gemv4(x, M, K, ldx, w, ldw, y, ldy, n, KIND);                       \
        gemv_rows_scalar(x, M, K, ldx, w, ldw * esize_of(KIND), y, ldy, n, n1, KIND);                    \
    }
GEMV_VARIANT(gemv_f16_avx2, 0)
GEMV_VARIANT(gemv_bf16_avx2, 1)
GEMV_VARIANT(gemv_f32_avx2, 2)
#endif

static void gemv_dispatch(const float *x, long M, long K, long ldx, const char *w, long ldw,
                          float *y, long ldy, long n0, long n1, int kind) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
        if (kind == 0) gemv_f16_avx2(x, M, K, ldx, w, ldw, y, ldy, n0, n1);
        else if (kind == 1) gemv_bf16_avx2(x, M, K, ldx, w, ldw, y, ldy, n0, n1);
        else gemv_f32_avx2(x, M, K, ldx, w, ldw, y, ldy, n0, n1);
        return;
    }
#endif
    gemv_rows_scalar(x, M, K, ldx, w, ldw * esize_of(kind), y, ldy, n0, n1, kind);
}

void zoo_gemv_half_t(const float *x, long M, long K, long ldx, const uint16_t *w, long ldw,
                     float *y, long ldy, long n0, long n1, int bf16) {
    gemv_dispatch(x, M, K, ldx, (const char *)w, ldw, y, ldy, n0, n1, bf16 ? 1 : 0);
}

void zoo_gemv_f32_t(const float *x, long M, long K, long ldx, const float *w, long ldw,
                    float *y, long ldy, long n0, long n1) {
    gemv_dispatch(x, M, K, ldx, (const char *)w, ldw, y, ldy, n0, n1, 2);
}
