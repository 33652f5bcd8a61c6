#include "ckernels.h"
#include "zoo_kernel_support.h"
#include <math.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif



float zoo_expf(float x) { return zoo_exp_inline(x); }

ZOO_MULTIVERSION
void zoo_binary_f32(int op, const float *a, long sa, const float *b, long sb, float *out, long n) {
#define LOOP(EXPR) \
    if (sa && sb) { for (long i = 0; i < n; i++) { float x = a[i], y = b[i]; out[i] = (EXPR); } } \
    else if (sa) { float y = b[0]; for (long i = 0; i < n; i++) { float x = a[i]; out[i] = (EXPR); } } \
    else if (sb) { float x = a[0]; for (long i = 0; i < n; i++) { float y = b[i]; out[i] = (EXPR); } } \
    else { float x = a[0], y = b[0]; for (long i = 0; i < n; i++) out[i] = (EXPR); }
    switch (op) {
    case 0: LOOP(x + y); break;
    case 1: LOOP(x - y); break;
    case 2: LOOP(x * y); break;
    case 3: LOOP(x / y); break;
    /* NaN propagates as in MLX. */
    case 4: LOOP((x != x || y != y) ? x + y : (x > y ? x : y)); break;
    case 5: LOOP((x != x || y != y) ? x + y : (x < y ? x : y)); break;
    }
#undef LOOP
}

ZOO_MULTIVERSION
void zoo_unary_f32(int op, const float *x, float *out, long n) {
    switch (op) {
    case 0: for (long i = 0; i < n; i++) out[i] = zoo_exp_inline(x[i]); break;
    case 1: for (long i = 0; i < n; i++) out[i] = -x[i]; break;
    case 2: for (long i = 0; i < n; i++) out[i] = fabsf(x[i]); break;
    case 3: for (long i = 0; i < n; i++) out[i] = x[i] * x[i]; break;
    case 4: for (long i = 0; i < n; i++) out[i] = sqrtf(x[i]); break;
    case 5: for (long i = 0; i < n; i++) {
                /* 1/(1+e^-x) without overflow */
                /* as MLX computes it */
                out[i] = 1.0f / (1.0f + zoo_exp_inline(-x[i]));
            } break;
    case 6: for (long i = 0; i < n; i++) out[i] = tanhf(x[i]); break;
    case 7: for (long i = 0; i < n; i++) out[i] = logf(x[i]); break;
    case 8: for (long i = 0; i < n; i++) out[i] = 1.0f / sqrtf(x[i]); break;
    case 9: for (long i = 0; i < n; i++) out[i] = 1.0f / x[i]; break;
    }
}

/* 32 partial sums (lane j takes x[i] for i = j mod 32), folded by halves at the end. No
   software prefetch: the hardware prefetcher keeps one stream per core at full bandwidth, and
   explicit prefetches measured 10-15 % slower on a 64 MB sum over two cores. */
#if defined(__x86_64__)
__attribute__((target("avx2"))) static float sum_f32_avx2(const float *x, long n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    long i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
    }
    float tail = 0;
    for (; i < n; i++) tail += x[i];
    /* the same folding as the portable loop: lanes j += j + 16, j += j + 8, then 4, 2, 1 */
    a0 = _mm256_add_ps(a0, a2);
    a1 = _mm256_add_ps(a1, a3);
    a0 = _mm256_add_ps(a0, a1);
    float acc[8];
    _mm256_storeu_ps(acc, a0);
    for (int w = 4; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return acc[0] + tail;
}
#endif

float zoo_sum_f32(const float *x, long n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) return sum_f32_avx2(x, n);
#endif
    float acc[32] = {0};
    long i = 0;
    for (; i + 32 <= n; i += 32)
        for (int j = 0; j < 32; j++) acc[j] += x[i + j];
    float tail = 0;
    for (; i < n; i++) tail += x[i];
    for (int w = 16; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return acc[0] + tail;
}

ZOO_MULTIVERSION
double zoo_sum_f64(const double *x, long n) {
    double acc[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += x[i + j];
    double tail = 0;
    for (; i < n; i++) tail += x[i];
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return acc[0] + tail;
}

static inline float half_to_float(uint16_t h) { return (float)*(const _Float16 *)&h; }
static inline uint16_t float_to_half(float f) { _Float16 h = (_Float16)f; uint16_t u; memcpy(&u, &h, 2); return u; }
static inline float bf16_to_float(uint16_t h) { union { uint32_t u; float f; } v; v.u = (uint32_t)h << 16; return v.f; }
static inline uint16_t float_to_bf16(float f) {
    union { uint32_t u; float f; } v; v.f = f;
    if (f != f) return (uint16_t)((v.u >> 16) | 0x40);
    uint32_t rounding = ((v.u >> 16) & 1) + 0x7FFF;
    return (uint16_t)((v.u + rounding) >> 16);
}

ZOO_MULTIVERSION
float zoo_sum_f16(const uint16_t *x, long n) {
    float acc[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += half_to_float(x[i + j]);
    float tail = 0;
    for (; i < n; i++) tail += half_to_float(x[i]);
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return acc[0] + tail;
}

ZOO_MULTIVERSION
float zoo_sum_bf16(const uint16_t *x, long n) {
    float acc[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += bf16_to_float(x[i + j]);
    float tail = 0;
    for (; i < n; i++) tail += bf16_to_float(x[i]);
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return acc[0] + tail;
}

ZOO_MULTIVERSION
float zoo_max_f32(const float *x, long n) {
    float acc[16];
    for (int j = 0; j < 16; j++) acc[j] = -INFINITY;
    int nan = 0;
    long i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) { float v = x[i + j]; nan |= v != v; acc[j] = v > acc[j] ? v : acc[j]; }
    float m = -INFINITY;
    for (; i < n; i++) { float v = x[i]; nan |= v != v; m = v > m ? v : m; }
    for (int j = 0; j < 16; j++) m = acc[j] > m ? acc[j] : m;
    return nan ? NAN : m;
}

ZOO_MULTIVERSION
float zoo_min_f32(const float *x, long n) {
    float acc[16];
    for (int j = 0; j < 16; j++) acc[j] = INFINITY;
    int nan = 0;
    long i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) { float v = x[i + j]; nan |= v != v; acc[j] = v < acc[j] ? v : acc[j]; }
    float m = INFINITY;
    for (; i < n; i++) { float v = x[i]; nan |= v != v; m = v < m ? v : m; }
    for (int j = 0; j < 16; j++) m = acc[j] < m ? acc[j] : m;
    return nan ? NAN : m;
}

ZOO_MULTIVERSION
void zoo_softmax_f32(const float *x, float *out, long rows, long n, int log) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *o = out + r * n;
        float m = zoo_max_f32(xr, n);
        if (m == -INFINITY) m = 0;
        float acc[16] = {0};
        long i = 0;
        if (log) {
            for (; i + 16 <= n; i += 16)
                for (int j = 0; j < 16; j++) acc[j] += zoo_exp_inline(xr[i + j] - m);
        } else {
            for (; i + 16 <= n; i += 16)
                for (int j = 0; j < 16; j++) { float e = zoo_exp_inline(xr[i + j] - m); o[i + j] = e; acc[j] += e; }
        }
        float s = 0;
        for (; i < n; i++) { float e = zoo_exp_inline(xr[i] - m); if (!log) o[i] = e; s += e; }
        for (int j = 0; j < 16; j++) s += acc[j];
        if (log) {
            float lse = m + logf(s);
            for (long k = 0; k < n; k++) o[k] = xr[k] - lse;
        } else {
            float inv = 1.0f / s;
            for (long k = 0; k < n; k++) o[k] *= inv;
        }
    }
}

ZOO_MULTIVERSION
void zoo_f16_to_f32(const uint16_t *x, float *out, long n) { for (long i = 0; i < n; i++) out[i] = half_to_float(x[i]); }
ZOO_MULTIVERSION
void zoo_f32_to_f16(const float *x, uint16_t *out, long n) { for (long i = 0; i < n; i++) out[i] = float_to_half(x[i]); }
ZOO_MULTIVERSION
void zoo_bf16_to_f32(const uint16_t *x, float *out, long n) { for (long i = 0; i < n; i++) out[i] = bf16_to_float(x[i]); }
ZOO_MULTIVERSION
void zoo_f32_to_bf16(const float *x, uint16_t *out, long n) { for (long i = 0; i < n; i++) out[i] = float_to_bf16(x[i]); }

/* Index of the first largest (is_max) or smallest value of x[0..n), or of the first NaN when
   there is one (NumPy's and MLX's rule). Two passes: the extreme value and whether a NaN
   occurs, eight lanes at a time; then the first index holding it. */
#if defined(__x86_64__)
__attribute__((target("avx2"))) static long argext_avx2(const float *x, long n, int is_max) {
    __m256 m = _mm256_set1_ps(x[0]), nan = _mm256_setzero_ps();
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        m = is_max ? _mm256_max_ps(m, v) : _mm256_min_ps(m, v);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, m);
    float best = lanes[0];
    for (int j = 1; j < 8; j++) best = is_max ? (lanes[j] > best ? lanes[j] : best) : (lanes[j] < best ? lanes[j] : best);
    int has_nan = _mm256_movemask_ps(nan) != 0;
    for (; i < n; i++) {
        if (x[i] != x[i]) has_nan = 1;
        else if (is_max ? x[i] > best : x[i] < best) best = x[i];
    }
    if (has_nan) { for (long j = 0; j < n; j++) if (x[j] != x[j]) return j; }
    __m256 b = _mm256_set1_ps(best);
    for (i = 0; i + 8 <= n; i += 8) {
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), b, _CMP_EQ_OQ));
        if (mask) return i + __builtin_ctz((unsigned)mask);
    }
    for (; i < n; i++) if (x[i] == best) return i;
    return 0;
}
#endif

long zoo_argext_f32(const float *x, long n, int is_max) {
    if (n <= 1) return 0;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) return argext_avx2(x, n, is_max);
#endif
    long best = 0;
    for (long j = 1; j < n; j++) {
        if (x[best] != x[best]) break;
        if (x[j] != x[j]) { best = j; break; }
        if (is_max ? x[j] > x[best] : x[j] < x[best]) best = j;
    }
    return best;
}
