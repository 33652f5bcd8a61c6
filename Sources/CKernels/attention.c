/* Fused attention for float32 without an explicit mask (none, or causal aligned at the end as
   MLX aligns it): softmax(q·kᵀ·scale)·v with an online softmax over blocks of keys. A running
   maximum and sum per query row rescale the output accumulator as each block arrives, so the
   score matrix never exists beyond one block of one strip of rows.

   A task is (batch, key/value head, query tile, key chunk). Its rows are the tile's queries of
   every query head that shares the key/value head (grouped-query attention), so each key and
   value row is read once for all of them. With one key chunk the task writes normalised rows
   into `out`; with several, each chunk leaves an unnormalised partial (rows, maximum, sum) and
   `zoo_flash_sdpa_merge_f32` combines them (decode: few rows, many keys spread over cores).

   The AVX2/FMA path works in register tiles of at most 12 accumulators: scores for 6 rows x
   16 keys from a transposed, packed key block (many rows), or 2 rows x 4 keys and 1 row x 8
   keys straight from the key rows (few rows: decode), and the value update for 6 rows x 16
   features. Its exp is zoo_exp_inline's arithmetic on eight lanes. Other machines, and head
   sizes that are not a multiple of 8, take a plain C version of the same loop per row. */
#include "ckernels_ops.h"
#include "zoo_kernel_support.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FA_BC 64   /* keys per block */
#define FA_MR 6    /* rows per register tile (packed scores, value update) */
#define FA_DR 3    /* rows per strip when scores come straight from the key rows */
/* Rows from which a task packs each key block transposed (its cost is spread over them). */
#define FA_PACK_ROWS 8

/* One task's rows: query row pointers, output row pointers, visible key ends, running state. */
typedef struct {
    const float **qp;
    float **op;
    long *kend;
    float *m, *l;
    long n;
} fa_rows;

/* Task `task`: batch b, key/value head hk, query rows [i0, i1), key chunk and its range [k0, k1). */
typedef struct {
    long b, hk, i0, i1, chunk, k0, k1;
} fa_task_geom;

static fa_task_geom fa_geometry(long B, long Hk, long Lq, long Lk, long qtile, long kchunks, long task) {
    fa_task_geom g;
    long tiles = (Lq + qtile - 1) / qtile;
    g.chunk = task % kchunks;
    long rest = task / kchunks;
    long bh = rest % (B * Hk);
    /* largest causal tiles first, so the pool's last tasks are short */
    long tile = tiles - 1 - rest / (B * Hk);
    g.b = bh / Hk;
    g.hk = bh % Hk;
    g.i0 = tile * qtile;
    g.i1 = g.i0 + qtile < Lq ? g.i0 + qtile : Lq;
    long csize = (Lk + kchunks - 1) / kchunks;
    csize = (csize + 15) / 16 * 16;
    g.k0 = g.chunk * csize < Lk ? g.chunk * csize : Lk;
    g.k1 = g.k0 + csize < Lk ? g.k0 + csize : Lk;
    return g;
}

/* ---- portable path ---- */

static void fa_rows_scalar(const fa_rows *R, const float *k, long ks2, const float *v, long vs2,
                           long k0, long D, float scale, float *sc) {
    for (long r = 0; r < R->n; r++) {
        const float *q = R->qp[r];
        float *o = R->op[r];
        float m = -INFINITY, l = 0;
        for (long kb = k0; kb < R->kend[r]; kb += FA_BC) {
            long ne = R->kend[r] - kb < FA_BC ? R->kend[r] - kb : FA_BC;
            float bm = -INFINITY;
            for (long j = 0; j < ne; j++) {
                const float *kr = k + (kb + j) * ks2;
                float acc[8] = {0};
                long d = 0;
                for (; d + 8 <= D; d += 8)
                    for (int t = 0; t < 8; t++) acc[t] += q[d + t] * kr[d + t];
                float s = 0;
                for (; d < D; d++) s += q[d] * kr[d];
                s += ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
                s *= scale;
                sc[j] = s;
                bm = s > bm ? s : bm;
            }
            float mn = bm > m ? bm : m;
            float alpha = zoo_exp_inline(m - mn);
            float sum = 0;
            for (long j = 0; j < ne; j++) { float p = zoo_exp_inline(sc[j] - mn); sc[j] = p; sum += p; }
            l = l * alpha + sum;
            m = mn;
            for (long d = 0; d < D; d++) o[d] *= alpha;
            for (long j = 0; j < ne; j++) {
                const float *vr = v + (kb + j) * vs2;
                float p = sc[j];
                for (long d = 0; d < D; d++) o[d] += p * vr[d];
            }
        }
        R->m[r] = m;
        R->l[r] = l;
    }
}

/* ---- AVX2/FMA path ---- */
#if defined(__x86_64__)
#include <immintrin.h>
#define FA_AVX __attribute__((target("avx2,fma"), always_inline)) static inline

/* zoo_exp_inline on eight lanes, operation for operation. */
FA_AVX __m256 fa_exp8(__m256 v) {
    __m256 x = _mm256_mul_ps(v, _mm256_set1_ps(1.442695f));
    __m256 ip = _mm256_floor_ps(_mm256_add_ps(x, _mm256_set1_ps(0.5f)));
    __m256 f = _mm256_sub_ps(x, ip);
    __m256 p = _mm256_set1_ps(1.535336188319500e-4f);
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.339887440266574e-3f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.618437357674640e-3f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.550332471162809e-2f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.402264791363012e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.931472028550421e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
    __m256i kk = _mm256_cvttps_epi32(ip);
    kk = _mm256_max_epi32(_mm256_min_epi32(kk, _mm256_set1_epi32(128)), _mm256_set1_epi32(-127));
    __m256 e = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(kk, _mm256_set1_epi32(127)), 23));
    __m256 y = _mm256_mul_ps(e, p);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(v, _mm256_set1_ps(88.0f), _CMP_GT_OQ));
    y = _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(v, _mm256_set1_ps(-88.0f), _CMP_LT_OQ));
    return _mm256_blendv_ps(y, v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}

FA_AVX float fa_hmax(__m256 x) {
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}

FA_AVX float fa_hsum(__m256 x) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}

/* Keys [kb, kb + nb) transposed into panels of 16 keys: kt[p][d][16], zero past nb. */
__attribute__((target("avx2,fma")))
static void fa_pack_keys(const float *k, long ks2, long nb, long D, float *kt) {
    long panels = (nb + 15) / 16;
    for (long p = 0; p < panels; p++) {
        float *dst = kt + p * D * 16;
        long j0 = p * 16, jn = nb - j0 < 16 ? nb - j0 : 16;
        if (jn == 16 && D % 8 == 0) {
            for (long h = 0; h < 2; h++) {
                const float *src = k + (j0 + h * 8) * ks2;
                for (long d = 0; d < D; d += 8) {
                    /* 8 keys x 8 features -> 8 features x 8 keys */
                    __m256 r0 = _mm256_loadu_ps(src + 0 * ks2 + d), r1 = _mm256_loadu_ps(src + 1 * ks2 + d);
                    __m256 r2 = _mm256_loadu_ps(src + 2 * ks2 + d), r3 = _mm256_loadu_ps(src + 3 * ks2 + d);
                    __m256 r4 = _mm256_loadu_ps(src + 4 * ks2 + d), r5 = _mm256_loadu_ps(src + 5 * ks2 + d);
                    __m256 r6 = _mm256_loadu_ps(src + 6 * ks2 + d), r7 = _mm256_loadu_ps(src + 7 * ks2 + d);
                    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
                    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
                    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
                    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
                    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
                    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
                    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
                    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
                    float *o = dst + d * 16 + h * 8;
                    _mm256_store_ps(o + 0 * 16, _mm256_permute2f128_ps(u0, u4, 0x20));
                    _mm256_store_ps(o + 1 * 16, _mm256_permute2f128_ps(u1, u5, 0x20));
                    _mm256_store_ps(o + 2 * 16, _mm256_permute2f128_ps(u2, u6, 0x20));
                    _mm256_store_ps(o + 3 * 16, _mm256_permute2f128_ps(u3, u7, 0x20));
                    _mm256_store_ps(o + 4 * 16, _mm256_permute2f128_ps(u0, u4, 0x31));
                    _mm256_store_ps(o + 5 * 16, _mm256_permute2f128_ps(u1, u5, 0x31));
                    _mm256_store_ps(o + 6 * 16, _mm256_permute2f128_ps(u2, u6, 0x31));
                    _mm256_store_ps(o + 7 * 16, _mm256_permute2f128_ps(u3, u7, 0x31));
                }
            }
        } else {
            for (long d = 0; d < D; d++)
                for (long j = 0; j < 16; j++) dst[d * 16 + j] = j < jn ? k[(j0 + j) * ks2 + d] : 0.0f;
        }
    }
}

/* S[i][0, 16·panels) = q_i · kt for mr rows (scores unscaled). */
FA_AVX void fa_scores_packed(int mr, const float *const *qp, const float *kt, long panels, long D, float *S) {
    for (long p = 0; p < panels; p++) {
        const float *b = kt + p * D * 16;
        __m256 acc[FA_MR][2];
#pragma GCC unroll 6
        for (int i = 0; i < FA_MR; i++) if (i < mr) { acc[i][0] = _mm256_setzero_ps(); acc[i][1] = _mm256_setzero_ps(); }
        for (long d = 0; d < D; d++) {
            __m256 b0 = _mm256_load_ps(b + d * 16), b1 = _mm256_load_ps(b + d * 16 + 8);
#pragma GCC unroll 6
            for (int i = 0; i < FA_MR; i++) if (i < mr) {
                __m256 a = _mm256_broadcast_ss(qp[i] + d);
                acc[i][0] = _mm256_fmadd_ps(a, b0, acc[i][0]);
                acc[i][1] = _mm256_fmadd_ps(a, b1, acc[i][1]);
            }
        }
#pragma GCC unroll 6
        for (int i = 0; i < FA_MR; i++) if (i < mr) {
            _mm256_store_ps(S + i * FA_BC + p * 16, acc[i][0]);
            _mm256_store_ps(S + i * FA_BC + p * 16 + 8, acc[i][1]);
        }
    }
}

/* Scores of nr rows x 4·ng keys straight from the key rows (nr·4·ng <= 8 accumulators, so
   loads, products and the row of q fit the 16 registers). D % 8 == 0. */
FA_AVX void fa_dots(int nr, int ng, const float *const *qp, const float *k, long ks2, long D, float *S) {
    __m256 acc[2][8];
#pragma GCC unroll 2
    for (int i = 0; i < 2; i++) if (i < nr)
#pragma GCC unroll 8
        for (int c = 0; c < 8; c++) if (c < 4 * ng) acc[i][c] = _mm256_setzero_ps();
    for (long d = 0; d < D; d += 8) {
        __m256 kv[8];
#pragma GCC unroll 8
        for (int c = 0; c < 8; c++) if (c < 4 * ng) kv[c] = _mm256_loadu_ps(k + c * ks2 + d);
#pragma GCC unroll 2
        for (int i = 0; i < 2; i++) if (i < nr) {
            __m256 a = _mm256_loadu_ps(qp[i] + d);
#pragma GCC unroll 8
            for (int c = 0; c < 8; c++) if (c < 4 * ng) acc[i][c] = _mm256_fmadd_ps(a, kv[c], acc[i][c]);
        }
    }
#pragma GCC unroll 2
    for (int i = 0; i < 2; i++) if (i < nr)
#pragma GCC unroll 2
        for (int g = 0; g < 2; g++) if (g < ng) {
            __m256 *a = acc[i] + 4 * g;
            __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
            _mm_storeu_ps(S + i * FA_BC + 4 * g, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
        }
}

/* S[i][0, ne) = q_i · k_j read straight from the key rows, for mr <= FA_DR rows; D % 8 == 0.
   Pairs of rows take 4 keys at a time, a single row 8. */
FA_AVX void fa_scores_direct(int mr, const float *const *qp, const float *k, long ks2, long ne, long D, float *S) {
    long j = 0;
    for (; j + 8 <= ne; j += 8) {
        const float *kj = k + j * ks2;
        if (mr >= 2) { fa_dots(2, 1, qp, kj, ks2, D, S + j); fa_dots(2, 1, qp, kj + 4 * ks2, ks2, D, S + j + 4); }
        if (mr == 1 || mr == 3) fa_dots(1, 2, qp + (mr - 1), kj, ks2, D, S + (mr - 1) * FA_BC + j);
    }
    for (; j < ne; j++) {
        const float *kr = k + j * ks2;
        for (int i = 0; i < mr; i++) {
            __m256 acc = _mm256_setzero_ps();
            for (long d = 0; d < D; d += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(qp[i] + d), _mm256_loadu_ps(kr + d), acc);
            S[i * FA_BC + j] = fa_hsum(acc);
        }
    }
}

/* Online-softmax step for mr rows over block keys [0, ne): scales and masks the scores
   (key kb + j is visible to row i when kb + j < kend[i]), turns them into exp(s - m_new) in
   place and updates the running maximum and sum; alpha[i] rescales the old accumulator. */
FA_AVX void fa_softmax_step(int mr, float *S, long ne, long kb, const long *kend, float scale,
                            float *m, float *l, float *alpha) {
    const __m256 lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 vs = _mm256_set1_ps(scale), ninf = _mm256_set1_ps(-INFINITY);
    for (int i = 0; i < mr; i++) {
        float *s = S + i * FA_BC;
        long valid = kend[i] - kb;
        valid = valid < 0 ? 0 : (valid > ne ? ne : valid);
        __m256 vmax = ninf, vvalid = _mm256_set1_ps((float)valid);
        long j = 0;
        for (; j + 8 <= valid; j += 8) {  /* every key visible */
            __m256 x = _mm256_mul_ps(_mm256_load_ps(s + j), vs);
            _mm256_store_ps(s + j, x);
            vmax = _mm256_max_ps(vmax, x);
        }
        for (; j < ne; j += 8) {
            __m256 x = _mm256_mul_ps(_mm256_load_ps(s + j), vs);
            __m256 keep = _mm256_cmp_ps(_mm256_add_ps(lane, _mm256_set1_ps((float)j)), vvalid, _CMP_LT_OQ);
            x = _mm256_blendv_ps(ninf, x, keep);
            _mm256_store_ps(s + j, x);
            vmax = _mm256_max_ps(vmax, x);
        }
        float bm = fa_hmax(vmax);
        float mn = bm > m[i] ? bm : m[i];
        float ref = mn == -INFINITY ? 0.0f : mn;
        alpha[i] = zoo_exp_inline(m[i] - ref);
        __m256 vref = _mm256_set1_ps(ref), vsum = _mm256_setzero_ps();
        for (long j = 0; j < ne; j += 8) {
            __m256 p = fa_exp8(_mm256_sub_ps(_mm256_load_ps(s + j), vref));
            _mm256_store_ps(s + j, p);
            vsum = _mm256_add_ps(vsum, p);
        }
        l[i] = l[i] * alpha[i] + fa_hsum(vsum);
        m[i] = mn;
    }
}

/* Features [dc, dc + 8·nv) of o_i = alpha_i · o_i + Σ_j P[i][j] · v_j over ne value rows.
   sets = 2 alternates two accumulator sets between even and odd keys (few rows: the FMA
   chains would otherwise wait on each other). */
FA_AVX void fa_values_cols(int mr, int nv, int sets, float *const *op, long dc, const float *alpha,
                           const float *P, const float *v, long vs2, long ne) {
    __m256 acc[2][FA_MR][2];
#pragma GCC unroll 6
    for (int i = 0; i < FA_MR; i++) if (i < mr) {
        __m256 a = _mm256_set1_ps(alpha[i]);
#pragma GCC unroll 2
        for (int c = 0; c < 2; c++) if (c < nv) {
            acc[0][i][c] = _mm256_mul_ps(_mm256_loadu_ps(op[i] + dc + 8 * c), a);
            if (sets == 2) acc[1][i][c] = _mm256_setzero_ps();
        }
    }
    const float *vr = v + dc;
    long j = 0;
#define FA_VSTEP(set, jj, row)                                                                   \
    do {                                                                                         \
        __m256 vv[2];                                                                            \
        _Pragma("GCC unroll 2") for (int c = 0; c < 2; c++) if (c < nv) vv[c] = _mm256_loadu_ps((row) + 8 * c); \
        _Pragma("GCC unroll 6") for (int i = 0; i < FA_MR; i++) if (i < mr) {                    \
            __m256 p = _mm256_broadcast_ss(P + i * FA_BC + (jj));                                \
            _Pragma("GCC unroll 2") for (int c = 0; c < 2; c++) if (c < nv)                      \
                acc[set][i][c] = _mm256_fmadd_ps(p, vv[c], acc[set][i][c]);                      \
        }                                                                                        \
    } while (0)
    if (sets == 2)
        for (; j + 2 <= ne; j += 2, vr += 2 * vs2) { FA_VSTEP(0, j, vr); FA_VSTEP(1, j + 1, vr + vs2); }
    for (; j < ne; j++, vr += vs2) FA_VSTEP(0, j, vr);
#undef FA_VSTEP
#pragma GCC unroll 6
    for (int i = 0; i < FA_MR; i++) if (i < mr) {
#pragma GCC unroll 2
        for (int c = 0; c < 2; c++) if (c < nv) {
            __m256 r = sets == 2 ? _mm256_add_ps(acc[0][i][c], acc[1][i][c]) : acc[0][i][c];
            _mm256_storeu_ps(op[i] + dc + 8 * c, r);
        }
    }
}

/* o_i = alpha_i · o_i + Σ_j P[i][j] · v_j for mr <= FA_MR rows; D % 8 == 0: 16 features at a
   time, 12 accumulators (with two sets for 3 rows or fewer), then 8. */
FA_AVX void fa_values(int mr, float *const *op, const float *alpha, const float *P, const float *v, long vs2,
                      long ne, long D) {
    long dc = 0;
    int sets = mr <= 3 ? 2 : 1;
    for (; dc + 16 <= D; dc += 16) fa_values_cols(mr, 2, sets, op, dc, alpha, P, v, vs2, ne);
    if (dc < D) fa_values_cols(mr, 1, sets, op, dc, alpha, P, v, vs2, ne);
}

/* One strip of mr rows (constant after inlining, so the register tiles unroll). */
FA_AVX void fa_strip(int mr, int packed, const float *const *qp, float *const *op, const long *kend,
                     float *m, float *l, const float *kt, const float *kblk, long ks2,
                     const float *vblk, long vs2, long kb, long nb, long D, float scale, float *S) {
    long smax = 0;
    for (int i = 0; i < mr; i++) smax = kend[i] > smax ? kend[i] : smax;
    long ne = smax - kb < nb ? smax - kb : nb;
    if (ne <= 0) return;
    float alpha[FA_MR];
    if (packed) {
        fa_scores_packed(mr, qp, kt, (ne + 15) / 16, D, S);
    } else {
        fa_scores_direct(mr, qp, kblk, ks2, ne, D, S);
    }
    fa_softmax_step(mr, S, ne, kb, kend, scale, m, l, alpha);
    fa_values(mr, op, alpha, S, vblk, vs2, ne, D);
}

__attribute__((target("avx2,fma")))
static void fa_rows_avx2(const fa_rows *R, const float *k, long ks2, const float *v, long vs2,
                         long k0, long D, float scale, float *kt, float *S) {
    long kmax = k0;
    for (long r = 0; r < R->n; r++) kmax = R->kend[r] > kmax ? R->kend[r] : kmax;
    int packed = R->n >= FA_PACK_ROWS;
    int tile = packed ? FA_MR : FA_DR;
    for (long kb = k0; kb < kmax; kb += FA_BC) {
        long nb = kmax - kb < FA_BC ? kmax - kb : FA_BC;
        const float *kblk = k + kb * ks2, *vblk = v + kb * vs2;
        if (packed) fa_pack_keys(kblk, ks2, nb, D, kt);
        for (long r = 0; r < R->n; r += tile) {
            long mr = R->n - r < tile ? R->n - r : tile;
            const float *const *qp = R->qp + r;
            float *const *op = R->op + r;
            const long *ke = R->kend + r;
            float *m = R->m + r, *l = R->l + r;
#define FA_STRIP(n, pk) fa_strip(n, pk, qp, op, ke, m, l, kt, kblk, ks2, vblk, vs2, kb, nb, D, scale, S)
            if (packed) {
                switch (mr) {
                case 6: FA_STRIP(6, 1); break;
                case 5: FA_STRIP(5, 1); break;
                case 4: FA_STRIP(4, 1); break;
                case 3: FA_STRIP(3, 1); break;
                case 2: FA_STRIP(2, 1); break;
                default: FA_STRIP(1, 1); break;
                }
            } else {
                switch (mr) {
                case 3: FA_STRIP(3, 0); break;
                case 2: FA_STRIP(2, 0); break;
                default: FA_STRIP(1, 0); break;
                }
            }
#undef FA_STRIP
        }
    }
}

/* __builtin_cpu_supports reads flags set once at load: no cache of our own (an unsynchronised
   static written from several worker threads is a data race). */
static int fa_have_avx2(void) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

void zoo_flash_sdpa_f32(const float *q, const long *qs, const float *k, const long *ks,
                        const float *v, const long *vs, float *out,
                        long B, long Hq, long Hk, long Lq, long Lk, long D, float scale, int causal,
                        long qtile, long kchunks, float *partial, long task) {
    fa_task_geom g = fa_geometry(B, Hk, Lq, Lk, qtile, kchunks, task);
    long rep = Hq / Hk, ni = g.i1 - g.i0, n = rep * ni;
    long rowsTotal = B * Hq * Lq;
    size_t ktFloats = (size_t)FA_BC * (size_t)D;
    /* one allocation: packed keys and score strip (32-byte aligned), then the row tables */
    size_t bytes = (ktFloats + FA_MR * FA_BC) * 4 + (size_t)n * (2 * sizeof(void *) + sizeof(long) + 8) + 64;
    char *mem = aligned_alloc(32, (bytes + 31) / 32 * 32);
    if (!mem) return;
    float *kt = (float *)mem, *S = kt + ktFloats;
    fa_rows R;
    R.qp = (const float **)(S + FA_MR * FA_BC);
    R.op = (float **)(R.qp + n);
    R.kend = (long *)(R.op + n);
    R.m = (float *)(R.kend + n);
    R.l = R.m + n;
    R.n = n;
    long off = Lk - Lq;
    float *obase = kchunks == 1 ? out : partial + (size_t)g.chunk * rowsTotal * D;
    for (long h = 0; h < rep; h++) {
        long hq = g.hk * rep + h;
        for (long t = 0; t < ni; t++) {
            long i = g.i0 + t, r = h * ni + t;
            long row = (g.b * Hq + hq) * Lq + i;
            R.qp[r] = q + g.b * qs[0] + hq * qs[1] + i * qs[2];
            R.op[r] = obase + row * D;
            long ke = g.k1;
            if (causal) { long c = i + off + 1; ke = c < ke ? c : ke; }
            R.kend[r] = ke < g.k0 ? g.k0 : ke;
            R.m[r] = -INFINITY;
            R.l[r] = 0;
            memset(R.op[r], 0, (size_t)D * 4);
        }
    }
    const float *kb = k + g.b * ks[0] + g.hk * ks[1], *vb = v + g.b * vs[0] + g.hk * vs[1];
#if defined(__x86_64__)
    if (D % 8 == 0 && fa_have_avx2())
        fa_rows_avx2(&R, kb, ks[2], vb, vs[2], g.k0, D, scale, kt, S);
    else
#endif
        fa_rows_scalar(&R, kb, ks[2], vb, vs[2], g.k0, D, scale, S);
    if (kchunks == 1) {
        for (long r = 0; r < n; r++) {
            float *o = R.op[r];
            if (R.l[r] > 0) { float inv = 1.0f / R.l[r]; for (long d = 0; d < D; d++) o[d] *= inv; }
            else for (long d = 0; d < D; d++) o[d] = NAN;  /* no visible key: NaN, as MLX */
        }
    } else {
        float *ml = partial + (size_t)kchunks * rowsTotal * D + (size_t)g.chunk * rowsTotal * 2;
        for (long h = 0; h < rep; h++)
            for (long t = 0; t < ni; t++) {
                long row = (g.b * Hq + g.hk * rep + h) * Lq + g.i0 + t, r = h * ni + t;
                ml[row * 2] = R.m[r];
                ml[row * 2 + 1] = R.l[r];
            }
    }
    free(mem);
}

void zoo_flash_sdpa_merge_f32(float *out, const float *partial, long rows, long D, long kchunks,
                              long r0, long r1) {
    const float *ml = partial + (size_t)kchunks * rows * D;
    for (long r = r0; r < r1; r++) {
        float *o = out + r * D;
        float M = -INFINITY;
        for (long c = 0; c < kchunks; c++) { float m = ml[(c * rows + r) * 2]; M = m > M ? m : M; }
        if (M == -INFINITY) { for (long d = 0; d < D; d++) o[d] = NAN; continue; }
        float L = 0;
        for (long d = 0; d < D; d++) o[d] = 0;
        for (long c = 0; c < kchunks; c++) {
            float m = ml[(c * rows + r) * 2];
            if (m == -INFINITY) continue;
            float w = zoo_exp_inline(m - M);
            L += w * ml[(c * rows + r) * 2 + 1];
            const float *p = partial + ((size_t)c * rows + r) * D;
            for (long d = 0; d < D; d++) o[d] += w * p[d];
        }
        float inv = 1.0f / L;
        for (long d = 0; d < D; d++) o[d] *= inv;
    }
}
