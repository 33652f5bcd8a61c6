#include "ckernels_ops.h"
#include "zoo_kernel_support.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>


static inline float h2f(uint16_t h) { _Float16 v; memcpy(&v, &h, 2); return (float)v; }
static inline uint16_t f2h(float f) { _Float16 h = (_Float16)f; uint16_t u; memcpy(&u, &h, 2); return u; }
static inline float b2f(uint16_t h) { union { uint32_t u; float f; } v; v.u = (uint32_t)h << 16; return v.f; }
static inline uint16_t f2b(float f) {
    union { uint32_t u; float f; } v; v.f = f;
    if (f != f) return (uint16_t)((v.u >> 16) | 0x40);
    return (uint16_t)((v.u + (((v.u >> 16) & 1) + 0x7FFF)) >> 16);
}

/* Row loads/stores between a typed row and a float32 buffer. */
static inline void load_row(const void *src, float *dst, long n, int dt) {
    if (dt == 1) { const uint16_t *s = src; for (long i = 0; i < n; i++) dst[i] = h2f(s[i]); }
    else if (dt == 2) { const uint16_t *s = src; for (long i = 0; i < n; i++) dst[i] = b2f(s[i]); }
    else memcpy(dst, src, (size_t)n * 4);
}
static inline void store_row(const float *src, void *dst, long n, int dt) {
    if (dt == 1) { uint16_t *d = dst; for (long i = 0; i < n; i++) d[i] = f2h(src[i]); }
    else if (dt == 2) { uint16_t *d = dst; for (long i = 0; i < n; i++) d[i] = f2b(src[i]); }
    else memcpy(dst, src, (size_t)n * 4);
}
static inline size_t esize(int dt) { return dt == 0 ? 4 : 2; }

/* Sum with 16 independent lanes (vectorises; deterministic for a given n). */
static inline float sum16(const float *x, long n) {
    float acc[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += x[i + j];
    float t = 0;
    for (; i < n; i++) t += x[i];
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return acc[0] + t;
}

static inline float sumsq16(const float *x, long n) {
    float acc[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += x[i + j] * x[i + j];
    float t = 0;
    for (; i < n; i++) t += x[i] * x[i];
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return acc[0] + t;
}

static inline float sqdev16(const float *x, long n, float mu) {
    float acc[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) { float d = x[i + j] - mu; acc[j] += d * d; }
    float t = 0;
    for (; i < n; i++) { float d = x[i] - mu; t += d * d; }
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return acc[0] + t;
}

ZOO_MULTIVERSION
void zoo_rms_norm(const void *x, long x_row_stride, const void *w, void *out,
                  long row0, long row1, long n, float eps, int dt) {
    size_t es = esize(dt);
    float *buf = dt == 0 ? NULL : malloc((size_t)n * 4 * 2);
    float *wbuf = buf ? buf + n : NULL;
    const float *wf = NULL;
    if (w) {
        if (dt == 0) wf = w; else { load_row(w, wbuf, n, dt); wf = wbuf; }
    }
    for (long r = row0; r < row1; r++) {
        const char *xr = (const char *)x + (size_t)r * x_row_stride * es;
        char *o = (char *)out + (size_t)r * n * es;
        const float *xf;
        float *of;
        if (dt == 0) { xf = (const float *)xr; of = (float *)o; }
        else { load_row(xr, buf, n, dt); xf = buf; of = buf; }
        float inv = 1.0f / sqrtf(sumsq16(xf, n) / (float)n + eps);
        if (wf) for (long i = 0; i < n; i++) of[i] = xf[i] * inv * wf[i];
        else for (long i = 0; i < n; i++) of[i] = xf[i] * inv;
        if (dt != 0) store_row(buf, o, n, dt);
    }
    free(buf);
}

ZOO_MULTIVERSION
void zoo_layer_norm(const void *x, long x_row_stride, const void *w, const void *b, void *out,
                    long row0, long row1, long n, float eps, int dt) {
    size_t es = esize(dt);
    float *buf = dt == 0 ? NULL : malloc((size_t)n * 4 * 3);
    const float *wf = NULL, *bf = NULL;
    if (w) { if (dt == 0) wf = w; else { load_row(w, buf + n, n, dt); wf = buf + n; } }
    if (b) { if (dt == 0) bf = b; else { load_row(b, buf + 2 * n, n, dt); bf = buf + 2 * n; } }
    for (long r = row0; r < row1; r++) {
        const char *xr = (const char *)x + (size_t)r * x_row_stride * es;
        char *o = (char *)out + (size_t)r * n * es;
        const float *xf;
        float *of;
        if (dt == 0) { xf = (const float *)xr; of = (float *)o; }
        else { load_row(xr, buf, n, dt); xf = buf; of = buf; }
        float mu = sum16(xf, n) / (float)n;
        float inv = 1.0f / sqrtf(sqdev16(xf, n, mu) / (float)n + eps);
        if (wf && bf) for (long i = 0; i < n; i++) of[i] = (xf[i] - mu) * inv * wf[i] + bf[i];
        else if (wf) for (long i = 0; i < n; i++) of[i] = (xf[i] - mu) * inv * wf[i];
        else if (bf) for (long i = 0; i < n; i++) of[i] = (xf[i] - mu) * inv + bf[i];
        else for (long i = 0; i < n; i++) of[i] = (xf[i] - mu) * inv;
        if (dt != 0) store_row(buf, o, n, dt);
    }
    free(buf);
}

ZOO_MULTIVERSION
void zoo_rope(const void *x, long sb, long sn, long st, void *out,
              long N, long T, long D, long h0, long h1,
              int dims, int traditional, const float *inv_freq, float scale, long offset, int dt) {
    long half = dims / 2;
    size_t es = esize(dt);
    /* cos/sin table for every step, shared by all heads of this range */
    float *tab = malloc((size_t)(T * half * 2 + D * 2 + 1) * 4);
    float *cs = tab, *sn_ = tab + T * half, *row = tab + 2 * T * half, *orow = row + D;
    for (long t = 0; t < T; t++) {
        float pos = (float)(t + offset) * scale;
        for (long j = 0; j < half; j++) {
            float th = pos * inv_freq[j];
            cs[t * half + j] = cosf(th);
            sn_[t * half + j] = sinf(th);
        }
    }
    for (long h = h0; h < h1; h++) {
        long bi = h / N, ni = h % N;
        for (long t = 0; t < T; t++) {
            const char *xr = (const char *)x + (size_t)(bi * sb + ni * sn + t * st) * es;
            char *o = (char *)out + (size_t)((h * T + t) * D) * es;
            const float *xf;
            float *of;
            if (dt == 0) { xf = (const float *)xr; of = (float *)o; }
            else { load_row(xr, row, D, dt); xf = row; of = orow; }
            const float *c = cs + t * half, *s = sn_ + t * half;
            if (traditional) {
                for (long j = 0; j < half; j++) {
                    float a = xf[2 * j], bb = xf[2 * j + 1];
                    of[2 * j] = a * c[j] - bb * s[j];
                    of[2 * j + 1] = a * s[j] + bb * c[j];
                }
            } else {
                for (long j = 0; j < half; j++) {
                    float a = xf[j], bb = xf[j + half];
                    of[j] = a * c[j] - bb * s[j];
                    of[j + half] = a * s[j] + bb * c[j];
                }
            }
            for (long j = 2 * half; j < D; j++) of[j] = xf[j];
            if (dt != 0) store_row(orow, o, D, dt);
        }
    }
    free(tab);
}

static inline float dot_f32(const float *a, const float *b, long n) {
    float acc[8] = {0};
    long i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += a[i + j] * b[i + j];
    float t = 0;
    for (; i < n; i++) t += a[i] * b[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + t;
}


#if defined(__x86_64__)
#include <immintrin.h>
/* Scores of one query against keys in blocks of four: four independent accumulator chains,
   reduced together with horizontal adds. Returns how many keys it handled. */
__attribute__((target("avx2,fma")))
static long dots4_avx2(const float *q, const float *k, long kstride, long D, long n, float *out) {
    long j = 0;
    for (; j + 4 <= n; j += 4) {
        const float *k0 = k + j * kstride, *k1 = k0 + kstride, *k2 = k1 + kstride, *k3 = k2 + kstride;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        for (long d = 0; d < D; d += 8) {
            __m256 qd = _mm256_loadu_ps(q + d);
            a0 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(k0 + d), a0);
            a1 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(k1 + d), a1);
            a2 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(k2 + d), a2);
            a3 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(k3 + d), a3);
        }
        __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
        __m128 r = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        _mm_storeu_ps(out + j, r);
    }
    return j;
}
#endif

ZOO_MULTIVERSION
void zoo_sdpa_f32(const float *q, const long *qs, const float *k, const long *ks,
                  const float *v, const long *vs, float *out,
                  long B, long Hq, long Hk, long Lq, long Lk, long D, float scale,
                  int mask_kind, const float *mask, const long *ms,
                  long r0, long r1, float *sc) {
    long rep = Hq / Hk;
    float qbuf[512];
    float *qv = D <= 512 ? qbuf : malloc((size_t)D * 4);
    for (long r = r0; r < r1; r++) {
        long i = r % Lq, hq = (r / Lq) % Hq, b = r / (Lq * Hq);
        long hk = hq / rep;
        const float *qr = q + b * qs[0] + hq * qs[1] + i * qs[2];
        for (long d = 0; d < D; d++) qv[d] = qr[d * qs[3]] * scale;
        const float *kb = k + b * ks[0] + hk * ks[1];
        const float *vb = v + b * vs[0] + hk * vs[1];
        long kend = Lk;
        if (mask_kind == 1) { kend = i + (Lk - Lq) + 1; if (kend > Lk) kend = Lk; if (kend < 0) kend = 0; }
        float m = -INFINITY;
        long j0 = 0;
#if defined(__x86_64__)
        if (D % 8 == 0 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            j0 = dots4_avx2(qv, kb, ks[2], D, kend, sc);
#endif
        for (long j = j0; j < kend; j++) sc[j] = dot_f32(qv, kb + j * ks[2], D);
        for (long j = 0; j < kend; j++) {
            float s = sc[j];
            if (mask_kind == 2) { s += mask[b * ms[0] + hq * ms[1] + i * ms[2] + j * ms[3]]; sc[j] = s; }
            m = s > m ? s : m;
        }
        float *o = out + r * D;
        for (long d = 0; d < D; d++) o[d] = 0;
        if (m == -INFINITY) {
            /* every key masked: MLX's softmax gives NaN */
            for (long d = 0; d < D; d++) o[d] = NAN;
            continue;
        }
        float sum = 0;
        for (long j = 0; j < kend; j++) { float e = zoo_exp_inline(sc[j] - m); sc[j] = e; sum += e; }
        for (long j = 0; j < kend; j++) {
            float p = sc[j];
            if (p == 0) continue;
            const float *vr = vb + j * vs[2];
            for (long d = 0; d < D; d++) o[d] += p * vr[d];
        }
        float inv = 1.0f / sum;
        for (long d = 0; d < D; d++) o[d] *= inv;
    }
    if (qv != qbuf) free(qv);
}

ZOO_MULTIVERSION
void zoo_attention_softmax(float *s, long r0, long r1, long Lq, long Lk, int mask_kind,
                           const float *mask, long ms_h, long ms_i, long ms_j) {
    for (long r = r0; r < r1; r++) {
        float *row = s + r * Lk;
        long i = r % Lq, h = r / Lq;
        long kend = Lk;
        if (mask_kind == 1) { kend = i + (Lk - Lq) + 1; if (kend > Lk) kend = Lk; if (kend < 0) kend = 0; }
        if (mask_kind == 2) {
            const float *mr = mask + h * ms_h + i * ms_i;
            if (ms_j == 1) for (long j = 0; j < Lk; j++) row[j] += mr[j];
            else for (long j = 0; j < Lk; j++) row[j] += mr[j * ms_j];
        }
        float m = -INFINITY;
        for (long j = 0; j < kend; j++) m = row[j] > m ? row[j] : m;
        if (m == -INFINITY) { for (long j = 0; j < Lk; j++) row[j] = NAN; continue; }
        float acc[8] = {0};
        long j = 0;
        for (; j + 8 <= kend; j += 8)
            for (int l = 0; l < 8; l++) { float e = zoo_exp_inline(row[j + l] - m); row[j + l] = e; acc[l] += e; }
        float sum = 0;
        for (; j < kend; j++) { float e = zoo_exp_inline(row[j] - m); row[j] = e; sum += e; }
        for (int l = 0; l < 8; l++) sum += acc[l];
        float inv = 1.0f / sum;
        for (j = 0; j < kend; j++) row[j] *= inv;
        for (j = kend; j < Lk; j++) row[j] = 0;
    }
}

/* silu(gate) * up = gate * sigmoid(gate) * up over rows (row strides in elements; out dense),
   with the unary sigmoid kernel's arithmetic and the composition's order, so the result equals
   `g * sigmoid(g) * u` evaluated op by op, bit for bit. */
ZOO_MULTIVERSION
void zoo_swiglu_f32(const float *g, long g_row_stride, const float *u, long u_row_stride, float *out,
                    long row0, long row1, long n) {
    for (long r = row0; r < row1; r++) {
        const float *gr = g + r * g_row_stride, *ur = u + r * u_row_stride;
        float *o = out + r * n;
        for (long i = 0; i < n; i++) {
            float s = 1.0f / (1.0f + zoo_exp_inline(-gr[i]));
            o[i] = (gr[i] * s) * ur[i];
        }
    }
}
