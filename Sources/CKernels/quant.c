#include "ckernels_ops.h"
#include "zoo_kernel_support.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Quantization must reproduce MLX's values bit for bit, so where MLX rounds after a
   multiplication the code below rounds explicitly (see zoo_affine_dequantize). */


static inline float h2f(uint16_t h) { _Float16 v; memcpy(&v, &h, 2); return (float)v; }
static inline uint16_t f2h(float f) { _Float16 h = (_Float16)f; uint16_t u; memcpy(&u, &h, 2); return u; }
static inline float b2f(uint16_t h) { union { uint32_t u; float f; } v; v.u = (uint32_t)h << 16; return v.f; }
static inline uint16_t f2b(float f) {
    union { uint32_t u; float f; } v; v.f = f;
    if (f != f) return (uint16_t)((v.u >> 16) | 0x40);
    return (uint16_t)((v.u + (((v.u >> 16) & 1) + 0x7FFF)) >> 16);
}
static inline float ld(const void *p, long i, int dt) {
    if (dt == 1) return h2f(((const uint16_t *)p)[i]);
    if (dt == 2) return b2f(((const uint16_t *)p)[i]);
    return ((const float *)p)[i];
}
static inline void st(void *p, long i, float v, int dt) {
    if (dt == 1) ((uint16_t *)p)[i] = f2h(v);
    else if (dt == 2) ((uint16_t *)p)[i] = f2b(v);
    else ((float *)p)[i] = v;
}
/* Rounds a float to the dtype and back (identity for float32). */
static inline float rnd(float v, int dt) {
    if (dt == 1) return h2f(f2h(v));
    if (dt == 2) return b2f(f2b(v));
    return v;
}

/* Reads `count` codes of width `bits` starting at code index `first` of a little-endian
   bit stream. */
static inline void unpack_codes(const uint32_t *row, long first, long count, int bits, float *dst) {
    const uint8_t *bytes = (const uint8_t *)row;
    uint32_t mask = (1u << bits) - 1;
    if (bits == 4 || bits == 8 || bits == 2) {
        int per = 32 / bits;
        for (long c = 0; c < count; c++) {
            long idx = first + c;
            uint32_t w = row[idx / per];
            dst[c] = (float)((w >> ((idx % per) * bits)) & mask);
        }
        return;
    }
    for (long c = 0; c < count; c++) {
        long bit = (first + c) * bits;
        long byte = bit >> 3;
        uint32_t w = (uint32_t)bytes[byte];
        if ((bit & 7) + bits > 8) w |= (uint32_t)bytes[byte + 1] << 8;
        dst[c] = (float)((w >> (bit & 7)) & mask);
    }
}

void zoo_affine_quantize(const void *w, uint32_t *wq, void *scales, void *biases,
                         long row0, long row1, long K, int group, int bits, int dt) {
    float n_bins = (float)((1 << bits) - 1);
    float eps = 1e-7f;
    long words = K * bits / 32;
    long groups = K / group;
    for (long r = row0; r < row1; r++) {
        uint8_t *out = (uint8_t *)(wq + r * words);
        memset(out, 0, (size_t)words * 4);
        for (long g = 0; g < groups; g++) {
            long base = r * K + g * group;
            float wmin = INFINITY, wmax = -INFINITY;
            for (int j = 0; j < group; j++) {
                float v = ld(w, base + j, dt);
                wmax = v > wmax ? v : wmax;
                wmin = v < wmin ? v : wmin;
            }
            int neg_edge = fabsf(wmin) > fabsf(wmax);
            float scale = (wmax - wmin) / n_bins;
            scale = scale > eps ? scale : eps;
            scale = neg_edge ? scale : -scale;
            float edge = neg_edge ? wmin : wmax;
            float q0 = rintf(edge / scale);
            float bias = 0;
            if (q0 != 0) { scale = edge / q0; bias = edge; }
            for (int j = 0; j < group; j++) {
                float q = rintf((ld(w, base + j, dt) - bias) / scale);
                q = q < 0 ? 0 : (q > n_bins ? n_bins : q);
                uint32_t code = (uint32_t)q;
                long bit = (g * group + j) * (long)bits;
                uint32_t shifted = code << (bit & 7);
                out[bit >> 3] |= (uint8_t)shifted;
                if ((bit & 7) + bits > 8) out[(bit >> 3) + 1] |= (uint8_t)(shifted >> 8);
            }
            st(scales, r * groups + g, scale, dt);
            st(biases, r * groups + g, bias, dt);
        }
    }
}

ZOO_MULTIVERSION
void zoo_affine_dequantize(const uint32_t *wq, const void *scales, const void *biases, void *out,
                           long row0, long row1, long K, int group, int bits, int dt) {
    long words = K * bits / 32;
    long groups = K / group;
    float codes[256];
    for (long r = row0; r < row1; r++) {
        const uint32_t *row = wq + r * words;
        for (long g = 0; g < groups; g++) {
            float s = ld(scales, r * groups + g, dt), b = ld(biases, r * groups + g, dt);
            for (long c0 = 0; c0 < group; c0 += 256) {
                long n = group - c0 < 256 ? group - c0 : 256;
                unpack_codes(row, g * group + c0, n, bits, codes);
                long o = r * K + g * group + c0;
                if (dt == 0) {
                    float *of = (float *)out + o;
                    /* MLX rounds the product before adding: the barrier keeps the compiler from
                       fusing the two loops into multiply-adds (-ffp-contract=fast ignores pragmas) */
                    for (long j = 0; j < n; j++) codes[j] = s * codes[j];
                    __asm__ volatile("" ::: "memory");
                    for (long j = 0; j < n; j++) of[j] = codes[j] + b;
                } else {
                    for (long j = 0; j < n; j++) st(out, o + j, rnd(s * codes[j], dt) + b, dt);
                }
            }
        }
    }
}

/* ---- fused dequantize-dot (transpose = true) ---------------------------------------- */

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    __m128 sh = _mm_movehdup_ps(lo);
    __m128 s = _mm_add_ps(lo, sh);
    sh = _mm_movehl_ps(sh, s);
    s = _mm_add_ss(s, sh);
    return _mm_cvtss_f32(s);
}

/* Dot of one packed row with M activation rows; xsum holds per-group sums of x. */
__attribute__((target("avx2,fma")))
static void qdot_rows_avx2(const float *x, long M, long K, const uint32_t *row, const float *s,
                           const float *b, const float *xsum, float *y, long ystride, int group, int bits) {
    long groups = K / group;
    for (long m = 0; m < M; m++) {
        const float *xm = x + m * K;
        const float *xs = xsum + m * groups;
        __m256 total = _mm256_setzero_ps();
        float tail = 0;
        for (long g = 0; g < groups; g++) {
            __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
            const float *xg = xm + g * group;
            if (bits == 4) {
                const uint32_t *wg = row + g * group / 8;
                const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
                const __m256i mask = _mm256_set1_epi32(15);
                long i = 0;
                for (; i + 2 <= group / 8; i += 2) {
                    __m256i w0 = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)wg[i]), shifts), mask);
                    __m256i w1 = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)wg[i + 1]), shifts), mask);
                    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(xg + i * 8), _mm256_cvtepi32_ps(w0), acc0);
                    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(xg + i * 8 + 8), _mm256_cvtepi32_ps(w1), acc1);
                }
                for (; i < group / 8; i++) {
                    __m256i w0 = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)wg[i]), shifts), mask);
                    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(xg + i * 8), _mm256_cvtepi32_ps(w0), acc0);
                }
            } else if (bits == 8) {
                const uint8_t *wb = (const uint8_t *)row + g * group;
                long i = 0;
                for (; i + 16 <= group; i += 16) {
                    __m256i w0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(wb + i)));
                    __m256i w1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(wb + i + 8)));
                    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(xg + i), _mm256_cvtepi32_ps(w0), acc0);
                    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(xg + i + 8), _mm256_cvtepi32_ps(w1), acc1);
                }
                for (; i + 8 <= group; i += 8) {
                    __m256i w0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(wb + i)));
                    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(xg + i), _mm256_cvtepi32_ps(w0), acc0);
                }
            } else if (bits == 2) {
                const uint32_t *wg = row + g * group / 16;
                const __m256i sh_lo = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
                const __m256i sh_hi = _mm256_setr_epi32(16, 18, 20, 22, 24, 26, 28, 30);
                const __m256i mask = _mm256_set1_epi32(3);
                for (long i = 0; i < group / 16; i++) {
                    __m256i wv = _mm256_set1_epi32((int)wg[i]);
                    __m256i w0 = _mm256_and_si256(_mm256_srlv_epi32(wv, sh_lo), mask);
                    __m256i w1 = _mm256_and_si256(_mm256_srlv_epi32(wv, sh_hi), mask);
                    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(xg + i * 16), _mm256_cvtepi32_ps(w0), acc0);
                    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(xg + i * 16 + 8), _mm256_cvtepi32_ps(w1), acc1);
                }
            } else {
                float codes[128];
                for (long c0 = 0; c0 < group; c0 += 128) {
                    long n = group - c0 < 128 ? group - c0 : 128;
                    unpack_codes(row, g * group + c0, n, bits, codes);
                    for (long i = 0; i < n; i += 8)
                        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(xg + c0 + i), _mm256_loadu_ps(codes + i), acc0);
                }
            }
            /* total += scale * dot + bias * sum(x) */
            __m256 d = _mm256_add_ps(acc0, acc1);
            total = _mm256_fmadd_ps(_mm256_set1_ps(s[g]), d, total);
            tail += b[g] * xs[g];
        }
        y[m * ystride] = hsum256(total) + tail;
    }
}

/* Four packed rows at once (4- and 8-bit codes): four independent accumulator chains share
   each load of x, which hides the multiply-add latency. y gets y[m * N + n] for n in
   [n, n + 4). */
__attribute__((target("avx2,fma")))
static void qdot4_avx2(const float *x, long M, long K, const uint32_t *wq, long words, const float *scales,
                       const float *biases, const float *xsum, float *y, long N, long n, int group, int bits) {
    long groups = K / group;
    const uint32_t *rows[4];
    for (int r = 0; r < 4; r++) rows[r] = wq + (n + r) * words;
    const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
    const __m256i mask4 = _mm256_set1_epi32(15);
    for (long m = 0; m < M; m++) {
        const float *xm = x + m * K;
        const float *xs = xsum + m * groups;
        __m256 tot[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
        float tail[4] = {0, 0, 0, 0};
        for (long g = 0; g < groups; g++) {
            __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
            const float *xg = xm + g * group;
            if (bits == 4) {
                long w0 = g * group / 8;
                for (long i = 0; i < group / 8; i++) {
                    __m256 xv = _mm256_loadu_ps(xg + i * 8);
                    for (int r = 0; r < 4; r++) {
                        __m256i c = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)rows[r][w0 + i]), shifts), mask4);
                        a[r] = _mm256_fmadd_ps(xv, _mm256_cvtepi32_ps(c), a[r]);
                    }
                }
            } else {
                long b0 = g * group;
                for (long i = 0; i < group; i += 8) {
                    __m256 xv = _mm256_loadu_ps(xg + i);
                    for (int r = 0; r < 4; r++) {
                        const uint8_t *wb = (const uint8_t *)rows[r] + b0 + i;
                        __m256i c = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)wb));
                        a[r] = _mm256_fmadd_ps(xv, _mm256_cvtepi32_ps(c), a[r]);
                    }
                }
            }
            for (int r = 0; r < 4; r++) {
                long sg = (n + r) * groups + g;
                tot[r] = _mm256_fmadd_ps(_mm256_set1_ps(scales[sg]), a[r], tot[r]);
                tail[r] += biases[sg] * xs[g];
            }
        }
        for (int r = 0; r < 4; r++) y[m * N + n + r] = hsum256(tot[r]) + tail[r];
    }
}
#endif

static void qdot_rows_scalar(const float *x, long M, long K, const uint32_t *row, const float *s,
                             const float *b, const float *xsum, float *y, long ystride, int group, int bits) {
    long groups = K / group;
    float codes[128];
    for (long m = 0; m < M; m++) {
        const float *xm = x + m * K;
        float total = 0;
        for (long g = 0; g < groups; g++) {
            float d = 0;
            for (long c0 = 0; c0 < group; c0 += 128) {
                long n = group - c0 < 128 ? group - c0 : 128;
                unpack_codes(row, g * group + c0, n, bits, codes);
                for (long i = 0; i < n; i++) d += xm[g * group + c0 + i] * codes[i];
            }
            total += s[g] * d + b[g] * xsum[m * groups + g];
        }
        y[m * ystride] = total;
    }
}

void zoo_qmv_t(const float *x, long M, long K, const uint32_t *wq, const float *scales,
               const float *biases, float *y, long N, long n0, long n1, int group, int bits) {
    long groups = K / group;
    long words = K * bits / 32;
    float xs_stack[256];
    float *xsum = M * groups <= 256 ? xs_stack : malloc((size_t)(M * groups) * 4);
    for (long m = 0; m < M; m++)
        for (long g = 0; g < groups; g++) {
            float t = 0;
            for (long i = 0; i < group; i++) t += x[m * K + g * group + i];
            xsum[m * groups + g] = t;
        }
#if defined(__x86_64__)
    int fast = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    int fast = 0;
#endif
    long n = n0;
#if defined(__x86_64__)
    if (fast && (bits == 4 || bits == 8) && group % 8 == 0)
        for (; n + 4 <= n1; n += 4) qdot4_avx2(x, M, K, wq, words, scales, biases, xsum, y, N, n, group, bits);
#endif
    for (; n < n1; n++) {
        const uint32_t *row = wq + n * words;
#if defined(__x86_64__)
        if (fast) { qdot_rows_avx2(x, M, K, row, scales + n * groups, biases + n * groups, xsum, y + n, N, group, bits); continue; }
#endif
        qdot_rows_scalar(x, M, K, row, scales + n * groups, biases + n * groups, xsum, y + n, N, group, bits);
    }
    if (xsum != xs_stack) free(xsum);
}

ZOO_MULTIVERSION
void zoo_qmv_n(const float *x, long M, long K, const uint32_t *wq, const float *scales,
               const float *biases, float *y, long N, long n0, long n1, int group, int bits) {
    long words = N * bits / 32;
    long groups = N / group;
    long width = n1 - n0;
    float *wrow = malloc((size_t)width * 4);
    for (long m = 0; m < M; m++)
        for (long n = n0; n < n1; n++) y[m * N + n] = 0;
    for (long k = 0; k < K; k++) {
        const uint32_t *row = wq + k * words;
        unpack_codes(row, n0, width, bits, wrow);
        for (long j = 0; j < width; j += group) {
            long g = (n0 + j) / group;
            float s = scales[k * groups + g], b = biases[k * groups + g];
            for (long i = 0; i < group && j + i < width; i++) wrow[j + i] = s * wrow[j + i] + b;
        }
        for (long m = 0; m < M; m++) {
            float xv = x[m * K + k];
            float *ym = y + m * N + n0;
            for (long i = 0; i < width; i++) ym[i] += xv * wrow[i];
        }
    }
    free(wrow);
}

/* ---- Quantized matrix-vector product with 16-bit integer activations ----------------------
   The generation path's kernel. Each group of x (the weights' quantization group) is rounded
   to int16 with its own scale (relative error at most 2^-16 of the group's largest |x|, some
   30x finer than float16), and the packed codes are multiplied with it in 16-bit integer
   lanes (vpmaddwd: two products summed per 32-bit lane, exact). Per group:
       y += (s_w * s_x) * sum(code * xq) + b_w * sum(x)
   with sum(x) taken from the float x, so the bias term is as exact as the float path's.
   For 4-bit codes, byte i of a 32-value block holds values 2i (low nibble) and 2i+1 (high);
   for 8-bit codes, 16-bit word i holds them in its low and high byte. xq stores each block of
   32 as its 16 even-indexed values, then its 16 odd-indexed ones, so the codes are split with
   a mask and a shift (no shuffle) and each half meets its x lanes. */

static inline float ld_scale(const void *p, long i, int sdt) {
    if (sdt == 1) return h2f(((const uint16_t *)p)[i]);
    if (sdt == 2) return b2f(((const uint16_t *)p)[i]);
    return ((const float *)p)[i];
}

#if defined(__x86_64__)
/* The same rounding as the scalar loop below (round to nearest even, |q| <= 32767), eight
   lanes at a time; only the order of the float sum of each group differs. Groups are
   multiples of 32. */
__attribute__((target("avx2,fma")))
static int prepare_i16_avx2(const float *x, long M, long K, int group, int bits, int16_t *xq, float *xscale,
                            float *xsum) {
    const long groups = K / group;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (long m = 0; m < M; m++)
        for (long g = 0; g < groups; g++) {
            const float *xg = x + m * K + g * group;
            int16_t *qg = xq + m * K + g * group;
            __m256 mx = _mm256_setzero_ps(), sm = _mm256_setzero_ps();
            for (long i = 0; i < group; i += 8) {
                __m256 v = _mm256_loadu_ps(xg + i);
                mx = _mm256_max_ps(mx, _mm256_and_ps(v, absmask));
                sm = _mm256_add_ps(sm, v);
            }
            float lm[8], ls[8];
            _mm256_storeu_ps(lm, mx);
            _mm256_storeu_ps(ls, sm);
            float amax = 0, sum = 0;
            for (int j = 0; j < 8; j++) { amax = lm[j] > amax ? lm[j] : amax; sum += ls[j]; }
            /* max_ps may drop a NaN operand, but the sum keeps it */
            if (!isfinite(amax) || !isfinite(sum)) return 0;
            float inv = amax > 0 ? 32767.0f / amax : 0;
            xscale[m * groups + g] = amax / 32767.0f;
            xsum[m * groups + g] = sum;
            const __m256 iv = _mm256_set1_ps(inv);
            for (long b = 0; b < group; b += 32) {
                __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xg + b), iv));
                __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xg + b + 8), iv));
                __m256i q2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xg + b + 16), iv));
                __m256i q3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xg + b + 24), iv));
                /* packs interleaves 128-bit lanes; the 0xD8 permutation restores the order */
                __m256i lo = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8);  /* x0..x15 */
                __m256i hi = _mm256_permute4x64_epi64(_mm256_packs_epi32(q2, q3), 0xD8);  /* x16..x31 */
                if (bits == 4 || bits == 8) {
                    /* evens then odds of the block */
                    __m256i ev = _mm256_packs_epi32(_mm256_srai_epi32(_mm256_slli_epi32(lo, 16), 16),
                                                    _mm256_srai_epi32(_mm256_slli_epi32(hi, 16), 16));
                    __m256i od = _mm256_packs_epi32(_mm256_srai_epi32(lo, 16), _mm256_srai_epi32(hi, 16));
                    lo = _mm256_permute4x64_epi64(ev, 0xD8);
                    hi = _mm256_permute4x64_epi64(od, 0xD8);
                }
                _mm256_storeu_si256((__m256i *)(qg + b), lo);
                _mm256_storeu_si256((__m256i *)(qg + b + 16), hi);
            }
        }
    return 1;
}
#endif

int zoo_qmv_prepare_i16(const float *x, long M, long K, int group, int bits, int16_t *xq, float *xscale,
                        float *xsum) {
#if defined(__x86_64__)
    if (group % 32 == 0 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return prepare_i16_avx2(x, M, K, group, bits, xq, xscale, xsum);
#endif
    long groups = K / group;
    for (long m = 0; m < M; m++)
        for (long g = 0; g < groups; g++) {
            const float *xg = x + m * K + g * group;
            int16_t *qg = xq + m * K + g * group;
            float amax = 0, sum = 0;
            for (long i = 0; i < group; i++) {
                float a = fabsf(xg[i]);
                amax = a > amax ? a : amax;
                sum += xg[i];
            }
            if (!isfinite(amax) || !isfinite(sum)) return 0;
            float sc = amax / 32767.0f, inv = amax > 0 ? 32767.0f / amax : 0;
            xscale[m * groups + g] = sc;
            xsum[m * groups + g] = sum;
            for (long i = 0; i < group; i++) {
                /* 4- and 8-bit: evens then odds within each block of 32 */
                long dst = i;
                if (bits == 4 || bits == 8) { long b = i & ~31L, j = i & 31; dst = b + (j & 1) * 16 + (j >> 1); }
                long v = lrintf(xg[i] * inv);
                qg[dst] = (int16_t)(v > 32767 ? 32767 : (v < -32767 ? -32767 : v));
            }
        }
    return 1;
}

static void qdot_i16_scalar(const int16_t *xq, const float *xscale, const float *xsum, long M, long K,
                            const uint32_t *row, const void *scales, const void *biases, int sdt, long sbase,
                            float *y, long ystride, int group, int bits) {
    long groups = K / group;
    const uint8_t *wb = (const uint8_t *)row;
    for (long m = 0; m < M; m++) {
        const int16_t *xm = xq + m * K;
        float total = 0;
        for (long g = 0; g < groups; g++) {
            long acc = 0;
            for (long i = g * group; i < (g + 1) * group; i++) {
                int code, xi = (int)i;
                if (bits == 4) {
                    long b = i & ~31L, j = i & 31;
                    code = (j & 1) ? wb[(b + j) / 2] >> 4 : wb[(b + j) / 2] & 15;
                    xi = (int)(b + (j & 1) * 16 + (j >> 1));
                } else {
                    code = wb[i];
                    if (bits == 8) { long b = i & ~31L, j = i & 31; xi = (int)(b + (j & 1) * 16 + (j >> 1)); }
                }
                acc += (long)code * xm[xi];
            }
            total += ld_scale(scales, sbase + g, sdt) * xscale[m * groups + g] * (float)acc
                   + (biases ? ld_scale(biases, sbase + g, sdt) : -(float)(1 << (bits - 1)) * ld_scale(scales, sbase + g, sdt))
                     * xsum[m * groups + g];
        }
        y[m * ystride] = total;
    }
}

#if defined(__x86_64__)
/* Integer dot of one 32-value block of four rows with x (accumulated into acc). The rows are
   prefetched 2 KiB ahead (the next 4-row blocks): with four interleaved streams the hardware
   prefetcher alone left 8-bit rows at a third of the read bandwidth. */
#define QDOT4_BLOCK(acc, xm, i)                                                                        \
    do {                                                                                               \
        __m256i x0 = _mm256_loadu_si256((const __m256i *)((xm) + (i)));                                \
        __m256i x1 = _mm256_loadu_si256((const __m256i *)((xm) + (i) + 16));                           \
        for (int r = 0; r < 4; r++) {                                                                  \
            __m256i p0, p1;                                                                            \
            _mm_prefetch((const char *)(rows[r] + (i) * bits / 8 + 2048), _MM_HINT_T0);                \
            if (bits == 4) {                                                                           \
                __m256i w = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(rows[r] + (i) / 2))); \
                p0 = _mm256_madd_epi16(_mm256_and_si256(w, low4), x0);                                 \
                p1 = _mm256_madd_epi16(_mm256_srli_epi16(w, 4), x1);                                   \
            } else {                                                                                   \
                __m256i w = _mm256_loadu_si256((const __m256i *)(rows[r] + (i)));                      \
                p0 = _mm256_madd_epi16(_mm256_and_si256(w, low8), x0);                                 \
                p1 = _mm256_madd_epi16(_mm256_srli_epi16(w, 8), x1);                                   \
            }                                                                                          \
            acc[r] = _mm256_add_epi32(acc[r], _mm256_add_epi32(p0, p1));                               \
        }                                                                                              \
    } while (0)

/* One scale as a float (F16C's conversion: the portable _Float16 one is a library call). */
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline float ld_scale1(const void *p, long i, const int sdt) {
    if (sdt == 1) return _cvtsh_ss(((const uint16_t *)p)[i]);
    return ld_scale(p, i, sdt);
}

__attribute__((target("avx2,fma,f16c")))
static inline __m128 ld_scale4(const void *p, long i, int sdt) {
    if (sdt == 1) return _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)((const uint16_t *)p + i)));
    if (sdt == 2) return _mm_castsi128_ps(_mm_slli_epi32(_mm_cvtepu16_epi32(_mm_loadl_epi64((const __m128i *)((const uint16_t *)p + i))), 16));
    return _mm_loadu_ps((const float *)p + i);
}

/* Four packed rows at once; x loads are shared by the four. Groups are taken four at a time:
   their integer sums are folded into one vector of four (three horizontal adds), so scales,
   x scales, biases and x sums are applied four groups per instruction. */
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void qdot4_i16_body(const int16_t *xq, const float *xscale, const float *xsum, long M, long K,
                                  const uint32_t *wq, long words, const void *scales, const void *biases,
                                  const int sdt, float *y, long N, long n, int group, const int bits) {
    long groups = K / group;
    const void *bsrc = biases ? biases : scales;  /* see qdot4_i16_g32_body */
    const float bmul = biases ? 1.0f : -(float)(1 << (bits - 1));
    const uint8_t *rows[4];
    for (int r = 0; r < 4; r++) rows[r] = (const uint8_t *)(wq + (n + r) * words);
    const __m256i low4 = _mm256_set1_epi16(15), low8 = _mm256_set1_epi16(255);
    for (long m = 0; m < M; m++) {
        const int16_t *xm = xq + m * K;
        const float *xs = xscale + m * groups, *xt = xsum + m * groups;
        __m128 tot[4] = {_mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps()};
        __m128 btot[4] = {_mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps()};
        float tail[4] = {0, 0, 0, 0};
        long g = 0;
        for (; g + 4 <= groups; g += 4) {
            __m256i p01[4], p23[4];
            for (int gg = 0; gg < 4; gg++) {
                __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                                  _mm256_setzero_si256()};
                for (long i = (g + gg) * group; i < (g + gg + 1) * group; i += 32) QDOT4_BLOCK(acc, xm, i);
                for (int r = 0; r < 4; r++) {
                    if (gg == 0) p01[r] = acc[r];
                    else if (gg == 1) p01[r] = _mm256_hadd_epi32(p01[r], acc[r]);
                    else if (gg == 2) p23[r] = acc[r];
                    else p23[r] = _mm256_hadd_epi32(p23[r], acc[r]);
                }
            }
            __m128 xs4 = _mm_loadu_ps(xs + g), xt4 = _mm_loadu_ps(xt + g);
            for (int r = 0; r < 4; r++) {
                __m256i h = _mm256_hadd_epi32(p01[r], p23[r]);
                __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
                long sg = (n + r) * groups + g;
                tot[r] = _mm_fmadd_ps(_mm_cvtepi32_ps(s4), _mm_mul_ps(ld_scale4(scales, sg, sdt), xs4), tot[r]);
                btot[r] = _mm_fmadd_ps(ld_scale4(bsrc, sg, sdt), xt4, btot[r]);
            }
        }
        for (; g < groups; g++) {
            __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                              _mm256_setzero_si256()};
            for (long i = g * group; i < (g + 1) * group; i += 32) QDOT4_BLOCK(acc, xm, i);
            for (int r = 0; r < 4; r++) {
                long sg = (n + r) * groups + g;
                __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(acc[r]), _mm256_extracti128_si256(acc[r], 1));
                s4 = _mm_hadd_epi32(s4, s4);
                s4 = _mm_hadd_epi32(s4, s4);
                tail[r] += (float)_mm_cvtsi128_si32(s4) * (ld_scale1(scales, sg, sdt) * xs[g]) + bmul * ld_scale1(bsrc, sg, sdt) * xt[g];
            }
        }
        for (int r = 0; r < 4; r++) {
            tot[r] = _mm_fmadd_ps(btot[r], _mm_set1_ps(bmul), tot[r]);
            __m128 t = _mm_add_ps(tot[r], _mm_movehl_ps(tot[r], tot[r]));
            t = _mm_add_ss(t, _mm_movehdup_ps(t));
            y[m * N + n + r] = _mm_cvtss_f32(t) + tail[r];
        }
    }
}

/* Specialised for the code width and scale type, so the compiler sees constants. */
#define QDOT4_I16_VARIANT(name, BITS, SDT)                                                              \
    __attribute__((target("avx2,fma,f16c"))) static void name(                                       \
        const int16_t *xq, const float *xscale, const float *xsum, long M, long K, const uint32_t *wq, \
        long words, const void *scales, const void *biases, float *y, long N, long n, int group) {    \
        qdot4_i16_body(xq, xscale, xsum, M, K, wq, words, scales, biases, SDT, y, N, n, group, BITS); \
    }
/* Group 32 (every GGUF-derived matrix): one row at a time, four groups per step, nothing
   spilled. x is re-read from L1 for each row; the codes are widened once per block (the empty
   asm keeps the compiler from widening the low and high nibbles separately, which doubles the
   lane-crossing instructions). */
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline __m256i dot32_i16(const uint8_t *w, const int16_t *x, const int bits) {
    __m256i x0 = _mm256_loadu_si256((const __m256i *)x), x1 = _mm256_loadu_si256((const __m256i *)(x + 16));
    if (bits == 4) {
        __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)w));
        __asm__("" : "+x"(v));
        return _mm256_add_epi32(_mm256_madd_epi16(_mm256_and_si256(v, _mm256_set1_epi16(15)), x0),
                                _mm256_madd_epi16(_mm256_srli_epi16(v, 4), x1));
    }
    /* 8-bit: the 32 codes as 16 words; the low bytes are the even codes, the high bytes the odd */
    __m256i v = _mm256_loadu_si256((const __m256i *)w);
    return _mm256_add_epi32(_mm256_madd_epi16(_mm256_and_si256(v, _mm256_set1_epi16(255)), x0),
                            _mm256_madd_epi16(_mm256_srli_epi16(v, 8), x1));
}

/* Eight scales (or biases) of consecutive groups as floats. */
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline __m256 ld_scale8(const void *p, long i, const int sdt) {
    if (sdt == 1) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + i)));
    if (sdt == 2) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + i))), 16));
    return _mm256_loadu_ps((const float *)p + i);
}

/* One row of W against one row of x, eight groups per step: each group's integer dot (eight
   int32 lanes) is converted to float and multiply-added with its combined scale s_w * s_x
   broadcast to all lanes, so no horizontal add is needed until the row ends; two accumulators
   keep consecutive groups' multiply-adds independent. The bias terms b_w * sum(x) of eight
   groups are one multiply-add of eight lanes. */
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void qdot4_i16_g32_body(const int16_t *xq, const float *xscale, const float *xsum, long M, long K,
                                      const uint32_t *wq, long words, const void *scales, const void *biases,
                                      const int sdt, float *y, long N, long n, const int bits) {
    const long groups = K / 32, gbytes = 4 * bits;  /* bytes of one group of one row */
    /* No biases: symmetric codes, each bias -2^(bits-1) times its scale (the scales, already
       in cache, stand in for the biases and the sum is scaled once at the end). */
    const void *bsrc = biases ? biases : scales;
    const float bmul = biases ? 1.0f : -(float)(1 << (bits - 1));
    for (long m = 0; m < M; m++) {
        const int16_t *xm = xq + m * K;
        const float *xs = xscale + m * groups, *xt = xsum + m * groups;
        for (int r = 0; r < 4; r++) {
            const uint8_t *w = (const uint8_t *)(wq + (n + r) * words);
            const long sg = (n + r) * groups;
            __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, bacc = acc0;
            float cs[8] __attribute__((aligned(32)));
            long g = 0;
            for (; g + 8 <= groups; g += 8) {
                _mm256_store_ps(cs, _mm256_mul_ps(ld_scale8(scales, sg + g, sdt), _mm256_loadu_ps(xs + g)));
                bacc = _mm256_fmadd_ps(ld_scale8(bsrc, sg + g, sdt), _mm256_loadu_ps(xt + g), bacc);
                for (int i = 0; i < 8; i += 2) {
                    const uint8_t *wg = w + (g + i) * gbytes;
                    if (bits == 8 || (i & 2) == 0) _mm_prefetch((const char *)(wg + 2048), _MM_HINT_T0);
                    acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot32_i16(wg, xm + (g + i) * 32, bits)),
                                           _mm256_broadcast_ss(cs + i), acc0);
                    acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot32_i16(wg + gbytes, xm + (g + i + 1) * 32, bits)),
                                           _mm256_broadcast_ss(cs + i + 1), acc1);
                }
            }
            float bt = 0;
            for (; g < groups; g++) {
                const float c = ld_scale1(scales, sg + g, sdt) * xs[g];
                acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot32_i16(w + g * gbytes, xm + g * 32, bits)), _mm256_set1_ps(c), acc0);
                bt += ld_scale1(bsrc, sg + g, sdt) * xt[g];
            }
            y[m * N + n + r] = hsum256(_mm256_add_ps(acc0, acc1)) + bmul * (hsum256(bacc) + bt);
        }
    }
}

#define QDOT4_I16_VARIANT32(name, BITS, SDT)                                                            \
    __attribute__((target("avx2,fma,f16c"))) static void name(                                       \
        const int16_t *xq, const float *xscale, const float *xsum, long M, long K, const uint32_t *wq, \
        long words, const void *scales, const void *biases, float *y, long N, long n, int group) {    \
        (void)group;                                                                                   \
        qdot4_i16_g32_body(xq, xscale, xsum, M, K, wq, words, scales, biases, SDT, y, N, n, BITS);   \
    }
QDOT4_I16_VARIANT32(qdot4_i16_b4_f32_g32, 4, 0)
QDOT4_I16_VARIANT32(qdot4_i16_b4_f16_g32, 4, 1)
QDOT4_I16_VARIANT32(qdot4_i16_b4_bf16_g32, 4, 2)
QDOT4_I16_VARIANT32(qdot4_i16_b8_f32_g32, 8, 0)
QDOT4_I16_VARIANT32(qdot4_i16_b8_f16_g32, 8, 1)
QDOT4_I16_VARIANT32(qdot4_i16_b8_bf16_g32, 8, 2)
QDOT4_I16_VARIANT(qdot4_i16_b4_f32, 4, 0)
QDOT4_I16_VARIANT(qdot4_i16_b4_f16, 4, 1)
QDOT4_I16_VARIANT(qdot4_i16_b4_bf16, 4, 2)
QDOT4_I16_VARIANT(qdot4_i16_b8_f32, 8, 0)
QDOT4_I16_VARIANT(qdot4_i16_b8_f16, 8, 1)
QDOT4_I16_VARIANT(qdot4_i16_b8_bf16, 8, 2)
#endif

int zoo_qmv_i16_supported(int group, int bits) {
    return (bits == 4 || bits == 8) && group % 32 == 0;
}

void zoo_qmv_t_i16(const int16_t *xq, const float *xscale, const float *xsum, long M, long K,
                   const uint32_t *wq, const void *scales, const void *biases, int sdt,
                   float *y, long N, long n0, long n1, int group, int bits) {
    long groups = K / group;
    long words = K * bits / 32;
    long n = n0;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
        typedef void (*kernel)(const int16_t *, const float *, const float *, long, long, const uint32_t *, long,
                               const void *, const void *, float *, long, long, int);
        static const kernel kernels[2][2][3] = {
            {{qdot4_i16_b4_f32, qdot4_i16_b4_f16, qdot4_i16_b4_bf16},
             {qdot4_i16_b8_f32, qdot4_i16_b8_f16, qdot4_i16_b8_bf16}},
            {{qdot4_i16_b4_f32_g32, qdot4_i16_b4_f16_g32, qdot4_i16_b4_bf16_g32},
             {qdot4_i16_b8_f32_g32, qdot4_i16_b8_f16_g32, qdot4_i16_b8_bf16_g32}}};
        kernel k = kernels[group == 32][bits == 8][sdt];
        for (; n + 4 <= n1; n += 4) k(xq, xscale, xsum, M, K, wq, words, scales, biases, y, N, n, group);
    }
#endif
    for (; n < n1; n++)
        qdot_i16_scalar(xq, xscale, xsum, M, K, wq + n * words, scales, biases, sdt, n * groups, y + n, N, group, bits);
}

/* ---- Quantized GEMM (M >= 8 rows of x) ------------------------------------------------------
   A float32 GEMM whose weight operand is dequantized on the fly into small blocks that stay in
   L1/L2, never into a whole float32 copy of W. Register tile: 6 rows x 16 columns (12 ymm
   accumulators), one operand broadcast element by element from 6 row pointers, the other read
   16 floats at a time from a panel packed [k][16].
   - transpose (W [N, K]): 6 rows of W are dequantized into a strip [6][K] (each row in its own
     order, nothing transposed) and broadcast; x is packed once per call into panels of 16 rows
     [K][16] (zoo_qgemm_pack_x), so a tile is 6 outputs n x 16 rows m, stored transposed.
   - not transposed (W [K, N]): 16 columns of W (16 consecutive codes of a row, always inside
     one group) are dequantized into a panel [kc][16] and x rows are broadcast from x itself.
   Dequantized values are MLX's (the product s * code rounded before the bias is added) and
   each output is one float32 multiply-add chain over k, so results differ from
   dequantize-then-GEMM only in the order of the float32 additions. */

#define QG_MR 6
#define QG_NR 16
/* Rows of K of one non-transposed panel: 16 KiB, half of L1. */
#define QG_KC 256
/* x panels of at most this many floats (320 KiB) are multiplied by one dequantized strip
   before the next strip, so they stay in the core's L2; W is dequantized once per block. */
#define QG_XBLOCK_FLOATS (80L << 10)

typedef float qg_v8 __attribute__((vector_size(32)));
typedef float qg_v8u __attribute__((vector_size(32), aligned(4)));

/* Dequantizes codes [first, first + count) of `rows` packed rows (rowWords words and
   rowGroups scales apart) into dst (row r at dst + r * dstStride) as s * code + b. first and
   count are multiples of 16; groups are multiples of 32. */
typedef void (*qg_dequant_fn)(const uint32_t *wq, long rowWords, long rows, long first, long count,
                              const void *sc, const void *bi, long rowGroups, int sdt, int group, int bits,
                              float *dst, long dstStride);

/* The reference version (any bits 1...8). */
static void qg_dequant_ref(const uint32_t *wq, long rowWords, long rows, long first, long count,
                           const void *sc, const void *bi, long rowGroups, int sdt, int group, int bits,
                           float *dst, long dstStride) {
    for (long r = 0; r < rows; r++) {
        const uint32_t *row = wq + r * rowWords;
        float *d = dst + r * dstStride;
        for (long c = 0; c < count;) {
            long idx = first + c, g = idx / group;
            long n = (g + 1) * group - idx;
            if (n > count - c) n = count - c;
            float s = ld(sc, r * rowGroups + g, sdt), b = ld(bi, r * rowGroups + g, sdt);
            float *o = d + c;
            unpack_codes(row, idx, n, bits, o);
            for (long i = 0; i < n; i++) o[i] = s * o[i];
            /* the rounded products are in memory: the bias is added to them, never fused */
            __asm__ volatile("" ::: "memory");
            for (long i = 0; i < n; i++) o[i] = o[i] + b;
            c += n;
        }
    }
}

#if defined(__x86_64__)
/* s * code, rounded, then + b (the empty asm keeps the two from being fused). */
__attribute__((target("avx2,fma"), always_inline))
static inline void qg_store8(float *o, __m256i codes, __m256 s, __m256 b) {
    __m256 p = _mm256_mul_ps(s, _mm256_cvtepi32_ps(codes));
    __asm__("" : "+x"(p));
    _mm256_storeu_ps(o, _mm256_add_ps(p, b));
}

/* 2, 4 and 8 bits: codes never straddle a 32-bit word. Other widths: 8 codes fill `bits`
   whole bytes; each 32-bit lane takes the four bytes holding its code (one byte shuffle), then
   a shift and a mask. Those 16-byte loads stay inside the row (its last ones go through a
   copy). */
__attribute__((target("avx2,fma")))
static void qg_dequant_avx2(const uint32_t *wq, long rowWords, long rows, long first, long count,
                            const void *sc, const void *bi, long rowGroups, int sdt, int group, int bits,
                            float *dst, long dstStride) {
    __m256i gather = _mm256_setzero_si256(), gshift = _mm256_setzero_si256();
    const __m256i mask = _mm256_set1_epi32((1 << bits) - 1);
    if (bits != 2 && bits != 4 && bits != 8) {
        uint8_t ctl[32];
        int32_t shv[8];
        for (int j = 0; j < 8; j++) {
            int start = j * bits / 8;
            for (int t = 0; t < 4; t++) ctl[(j / 4) * 16 + (j % 4) * 4 + t] = (uint8_t)(start + t);
            shv[j] = j * bits % 8;
        }
        gather = _mm256_loadu_si256((const __m256i *)ctl);
        gshift = _mm256_loadu_si256((const __m256i *)shv);
    }
    const long rowBytes = rowWords * 4, g0 = first / group;
    for (long r = 0; r < rows; r++) {
        const uint32_t *row = wq + r * rowWords;
        float *d = dst + r * dstStride;
        for (long c = 0, g = g0; c < count; g++) {
            long idx = first + c;
            long n = (g + 1) * group - idx;
            if (n > count - c) n = count - c;
            __m256 s = _mm256_set1_ps(ld(sc, r * rowGroups + g, sdt)), b = _mm256_set1_ps(ld(bi, r * rowGroups + g, sdt));
            float *o = d + c;
            if (bits == 4) {
                const __m256i sh = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
                const uint32_t *w = row + idx / 8;
                for (long i = 0; i < n; i += 16) {
                    __m256i v0 = _mm256_set1_epi32((int)w[i / 8]), v1 = _mm256_set1_epi32((int)w[i / 8 + 1]);
                    qg_store8(o + i, _mm256_and_si256(_mm256_srlv_epi32(v0, sh), mask), s, b);
                    qg_store8(o + i + 8, _mm256_and_si256(_mm256_srlv_epi32(v1, sh), mask), s, b);
                }
            } else if (bits == 8) {
                const uint8_t *w = (const uint8_t *)row + idx;
                for (long i = 0; i < n; i += 16) {
                    qg_store8(o + i, _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(w + i))), s, b);
                    qg_store8(o + i + 8, _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(w + i + 8))), s, b);
                }
            } else if (bits == 2) {
                const __m256i lo = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
                const __m256i hi = _mm256_setr_epi32(16, 18, 20, 22, 24, 26, 28, 30);
                const uint32_t *w = row + idx / 16;
                for (long i = 0; i < n; i += 16) {
                    __m256i v = _mm256_set1_epi32((int)w[i / 16]);
                    qg_store8(o + i, _mm256_and_si256(_mm256_srlv_epi32(v, lo), mask), s, b);
                    qg_store8(o + i + 8, _mm256_and_si256(_mm256_srlv_epi32(v, hi), mask), s, b);
                }
            } else {
                const uint8_t *w = (const uint8_t *)row;
                for (long i = 0; i < n; i += 8) {
                    long at = (idx + i) * bits / 8;
                    __m128i raw;
                    if (at + 16 <= rowBytes) raw = _mm_loadu_si128((const __m128i *)(w + at));
                    else {
                        uint8_t tmp[16] = {0};
                        memcpy(tmp, w + at, (size_t)bits);
                        raw = _mm_loadu_si128((const __m128i *)tmp);
                    }
                    __m256i v = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(raw), gather);
                    qg_store8(o + i, _mm256_and_si256(_mm256_srlv_epi32(v, gshift), mask), s, b);
                }
            }
            c += n;
        }
    }
}
#endif

static qg_dequant_fn qg_dequant(void) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return qg_dequant_avx2;
#endif
    return qg_dequant_ref;
}

/* tile[i][j] (+)= sum_k a[i][k] * p[k * 16 + j], i < 6, j < 16 (tile rows 16 apart). */
ZOO_MULTIVERSION
static void qg_tile16(const float *const *a, const float *p, long K, float *tile, int accumulate) {
    static const long origin = 0;
    float *const o[QG_MR] = {tile, tile + QG_NR, tile + 2 * QG_NR, tile + 3 * QG_NR, tile + 4 * QG_NR, tile + 5 * QG_NR};
    zoo_tile6x16(a, &origin, 1, K, p, o, QG_MR, QG_NR, accumulate);
}

/* The same with a panel 8 wide (p[k * 8 + j]): the last rows of x when at most 8 remain. */
ZOO_MULTIVERSION
static void qg_tile8(const float *const *a, const float *p, long K, float *tile) {
    qg_v8 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0};
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    for (long k = 0; k < K; k++) {
        qg_v8 b0 = *(const qg_v8u *)p;
        p += 8;
        c0 += a0[k] * b0; c1 += a1[k] * b0; c2 += a2[k] * b0;
        c3 += a3[k] * b0; c4 += a4[k] * b0; c5 += a5[k] * b0;
    }
    qg_v8 acc[QG_MR] = {c0, c1, c2, c3, c4, c5};
    for (int i = 0; i < QG_MR; i++) *(qg_v8u *)(tile + i * QG_NR) = acc[i];
}

long zoo_qgemm_packed_floats(long M, long K) {
    return (M + QG_NR - 1) / QG_NR * QG_NR * K;
}

long zoo_qgemm_scratch_floats(long K) {
    long strip = QG_MR * K, panel = QG_NR * (K < QG_KC ? K : QG_KC);
    return strip > panel ? strip : panel;
}

void zoo_qgemm_pack_x(const float *x, long M, long K, float *packed, long p0, long p1) {
    for (long p = p0; p < p1; p++) {
        long m0 = p * QG_NR, rows = M - m0 < QG_NR ? M - m0 : QG_NR;
        long w = rows > 8 ? QG_NR : 8;
        float *dst = packed + m0 * K;
        for (long k0 = 0; k0 < K; k0 += 64) {
            long k1 = k0 + 64 < K ? k0 + 64 : K;
            for (long j = 0; j < w; j++) {
                const float *src = x + (m0 + j) * K;
                if (j < rows)
                    for (long k = k0; k < k1; k++) dst[k * w + j] = src[k];
                else
                    for (long k = k0; k < k1; k++) dst[k * w + j] = 0;
            }
        }
    }
}

/* Loads rows [n, n + ni) of the weight matrix as float32 into dst (row i at dst + i * K). */
typedef void (*qg_strip_fn)(const void *ctx, long n, long ni, long K, float *dst);

/* y[:, n0..n1) = x W^T with x packed by zoo_qgemm_pack_x: W is loaded as float32 strips of 6
   rows (one register tile's worth) by `strip`, each multiplied by x panels of up to
   QG_XBLOCK_FLOATS while it is in L1. */
static void qg_gemm_t(const float *packed, long M, long K, float *y, long N, long n0, long n1,
                      float *scratch, qg_strip_fn strip, const void *ctx) {
    long panels = (M + QG_NR - 1) / QG_NR;
    long block = QG_XBLOCK_FLOATS / (QG_NR * K);
    if (block < 1) block = 1;
    float tile[QG_MR * QG_NR];
    for (long pb = 0; pb < panels; pb += block) {
        long pe = pb + block < panels ? pb + block : panels;
        for (long n = n0; n < n1; n += QG_MR) {
            long ni = n1 - n < QG_MR ? n1 - n : QG_MR;
            strip(ctx, n, ni, K, scratch);
            const float *a[QG_MR];
            for (long i = 0; i < QG_MR; i++) a[i] = scratch + (i < ni ? i : ni - 1) * K;
            for (long p = pb; p < pe; p++) {
                long m0 = p * QG_NR, mj = M - m0 < QG_NR ? M - m0 : QG_NR;
                if (mj > 8) qg_tile16(a, packed + m0 * K, K, tile, 0);
                else qg_tile8(a, packed + m0 * K, K, tile);
                for (long j = 0; j < mj; j++) {
                    float *yr = y + (m0 + j) * N + n;
                    for (long i = 0; i < ni; i++) yr[i] = tile[i * QG_NR + j];
                }
            }
        }
    }
}

struct qg_quant_ctx {
    const uint32_t *wq;
    const void *scales, *biases;
    long words, groups, esz;
    int sdt, group, bits;
    qg_dequant_fn dequant;
};

static void qg_strip_quant(const void *ctx, long n, long ni, long K, float *dst) {
    const struct qg_quant_ctx *c = ctx;
    c->dequant(c->wq + n * c->words, c->words, ni, 0, K, (const char *)c->scales + n * c->groups * c->esz,
               (const char *)c->biases + n * c->groups * c->esz, c->groups, c->sdt, c->group, c->bits, dst, K);
}

void zoo_qgemm_t(const float *packed, long M, long K, const uint32_t *wq, const void *scales,
                 const void *biases, int sdt, float *y, long N, long n0, long n1, int group, int bits,
                 float *scratch) {
    struct qg_quant_ctx c = {wq, scales, biases, K * bits / 32, K / group, sdt == 0 ? 4 : 2, sdt, group, bits,
                             qg_dequant()};
    qg_gemm_t(packed, M, K, y, N, n0, n1, scratch, qg_strip_quant, &c);
}

/* Half-precision weights: rows widened to float32 (exactly) a strip at a time. */
struct qg_half_ctx { const uint16_t *w; long ldw; int bf16; };

static void qg_widen_ref(const uint16_t *src, long K, int bf16, float *dst) {
    for (long k = 0; k < K; k++) dst[k] = bf16 ? b2f(src[k]) : h2f(src[k]);
}

#if defined(__x86_64__)
__attribute__((target("avx2,f16c")))
static void qg_widen_avx2(const uint16_t *src, long K, int bf16, float *dst) {
    long k = 0;
    if (bf16)
        for (; k + 8 <= K; k += 8) {
            __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + k)));
            _mm256_storeu_ps(dst + k, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
        }
    else
        for (; k + 8 <= K; k += 8) _mm256_storeu_ps(dst + k, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + k))));
    qg_widen_ref(src + k, K - k, bf16, dst + k);
}
#endif

static void qg_strip_half(const void *ctx, long n, long ni, long K, float *dst) {
    const struct qg_half_ctx *c = ctx;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c")) {
        for (long i = 0; i < ni; i++) qg_widen_avx2(c->w + (n + i) * c->ldw, K, c->bf16, dst + i * K);
        return;
    }
#endif
    for (long i = 0; i < ni; i++) qg_widen_ref(c->w + (n + i) * c->ldw, K, c->bf16, dst + i * K);
}

void zoo_hgemm_t(const float *packed, long M, long K, const uint16_t *w, long ldw, int bf16,
                 float *y, long N, long n0, long n1, float *scratch) {
    struct qg_half_ctx c = {w, ldw, bf16};
    qg_gemm_t(packed, M, K, y, N, n0, n1, scratch, qg_strip_half, &c);
}

void zoo_qgemm_n(const float *x, long M, long K, const uint32_t *wq, const void *scales,
                 const void *biases, int sdt, float *y, long N, long n0, long n1, int group, int bits,
                 float *scratch) {
    long words = N * bits / 32, groups = N / group;
    long esz = sdt == 0 ? 4 : 2;
    qg_dequant_fn dequant = qg_dequant();
    float tile[QG_MR * QG_NR];
    for (long n = n0; n < n1; n += QG_NR) {
        long nj = n1 - n < QG_NR ? n1 - n : QG_NR;
        for (long k0 = 0; k0 < K; k0 += QG_KC) {
            long kc = K - k0 < QG_KC ? K - k0 : QG_KC;
            dequant(wq + k0 * words, words, kc, n, QG_NR, (const char *)scales + k0 * groups * esz,
                    (const char *)biases + k0 * groups * esz, groups, sdt, group, bits, scratch, QG_NR);
            for (long m0 = 0; m0 < M; m0 += QG_MR) {
                long mi = M - m0 < QG_MR ? M - m0 : QG_MR;
                const float *a[QG_MR];
                for (long i = 0; i < QG_MR; i++) a[i] = x + (m0 + (i < mi ? i : mi - 1)) * K + k0;
                if (k0 > 0)
                    for (long i = 0; i < mi; i++) memcpy(tile + i * QG_NR, y + (m0 + i) * N + n, (size_t)nj * sizeof(float));
                qg_tile16(a, scratch, kc, tile, k0 > 0);
                for (long i = 0; i < mi; i++) memcpy(y + (m0 + i) * N + n, tile + i * QG_NR, (size_t)nj * sizeof(float));
            }
        }
    }
}
