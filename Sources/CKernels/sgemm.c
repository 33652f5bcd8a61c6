/* float32 GEMM on the pool: C[M,N] = A[M,K] · B[K,N], A and B with any element strides.

   Why not OpenBLAS's threads: OpenBLAS splits a product statically, one share per thread, and
   its threads meet at a barrier after every block. On a shared machine a core is often slowed
   for a while (a sibling hyperthread busy on the host, a preemption); the whole product then
   waits for the slowest share. Here the product is cut into many tasks (a block of rows of A
   times a range of columns of B) that the pool's threads claim one at a time, so a slowed core
   simply takes fewer of them.

   The layout is the usual packed one (Goto/BLIS):
   - B, per block of KC rows, in panels of 16 columns ([k][j], zero-padded past N);
   - A, per block of KC columns, in strips of 6 rows ([k][i], zero-padded past M).
   Many rows (M > MC): all threads pack both operands, a group of K blocks at a time, into the
   caller's buffer; then a task (MC rows × up to 32 panels) runs the 6 × 16 register tile over
   every strip of its rows for every panel of its columns, block of K by block of K: a panel
   (KC × 16 floats) stays in L1 while the task's strips (MC × KC, in L2) stream past it. The
   next group is packed by the threads that run out of tasks of the current one.
   Few rows (M ≤ MC): a panel would serve one task only, so each task (a range of columns)
   packs its panels and all of A per block of K into a per-thread buffer and uses them while
   they are in L2.
   The first block of K stores, later blocks accumulate: every output element is alpha times a
   float32 sum over k in increasing order, blocked by KC, whichever thread computes it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ckernels.h"
#include "zoo_kernel_support.h"

#define SG_MR 6
#define SG_NR 16
/* Block sizes (overridable with -D for tuning; SG_MC a multiple of SG_MR). */
#ifndef SG_KC
#define SG_KC 384
#endif
#ifndef SG_MC
#define SG_MC 144                /* rows of A per task (a multiple of SG_MR) */
#endif
#ifndef SG_TASKS_PER_THREAD
#define SG_TASKS_PER_THREAD 8    /* compute tasks per thread, at least (columns split finer) */
#endif
#ifndef SG_NC_PANELS
#define SG_NC_PANELS 32          /* panels per task at most: 512 columns */
#endif

typedef float sg_v8 __attribute__((vector_size(32)));
typedef float sg_v8u __attribute__((vector_size(32), aligned(4)));

/* The workspace (packed operands) stays within about this many bytes however large the
   product: beyond it K is packed a group of blocks at a time into two buffers of half the size
   (one is packed while the other is used). Products up to 2048² are packed in a single pass. */
static _Atomic long sg_pack_bytes = 64L << 20;

long zoo_sgemm_set_workspace_limit(long bytes) {
    return atomic_exchange_explicit(&sg_pack_bytes, bytes > 0 ? bytes : 64L << 20, memory_order_relaxed);
}

/* Packed floats per unit of K: B's panels and A's strips, padded to whole ones. */
static long sg_per_k(long M, long N) {
    return (N + SG_NR - 1) / SG_NR * SG_NR + (M + SG_MR - 1) / SG_MR * SG_MR;
}

long zoo_sgemm_pack_floats(long M, long K, long N) {
    if (M <= SG_MC || K <= 0) return 0;   /* few rows: per-thread buffers only */
    long limit = atomic_load_explicit(&sg_pack_bytes, memory_order_relaxed) / (long)sizeof(float);
    long per_k = sg_per_k(M, N);
    if (per_k * K <= limit) return per_k * K;
    long blocks = limit / 2 / (per_k * SG_KC);
    if (blocks < 1) blocks = 1;
    long kgroup = blocks * SG_KC < K ? blocks * SG_KC : K;
    return (kgroup < K ? 2 : 1) * per_k * kgroup;
}

/* ---- packing ------------------------------------------------------------------------- */

/* In-register transpose of eight 8-lane rows. */
static inline __attribute__((always_inline)) void sg_transpose8(sg_v8 r[8]) {
    sg_v8 t0 = __builtin_shufflevector(r[0], r[1], 0, 8, 1, 9, 4, 12, 5, 13);
    sg_v8 t1 = __builtin_shufflevector(r[0], r[1], 2, 10, 3, 11, 6, 14, 7, 15);
    sg_v8 t2 = __builtin_shufflevector(r[2], r[3], 0, 8, 1, 9, 4, 12, 5, 13);
    sg_v8 t3 = __builtin_shufflevector(r[2], r[3], 2, 10, 3, 11, 6, 14, 7, 15);
    sg_v8 t4 = __builtin_shufflevector(r[4], r[5], 0, 8, 1, 9, 4, 12, 5, 13);
    sg_v8 t5 = __builtin_shufflevector(r[4], r[5], 2, 10, 3, 11, 6, 14, 7, 15);
    sg_v8 t6 = __builtin_shufflevector(r[6], r[7], 0, 8, 1, 9, 4, 12, 5, 13);
    sg_v8 t7 = __builtin_shufflevector(r[6], r[7], 2, 10, 3, 11, 6, 14, 7, 15);
    sg_v8 u0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
    sg_v8 u1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
    sg_v8 u2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
    sg_v8 u3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
    sg_v8 u4 = __builtin_shufflevector(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
    sg_v8 u5 = __builtin_shufflevector(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
    sg_v8 u6 = __builtin_shufflevector(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
    sg_v8 u7 = __builtin_shufflevector(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
    r[0] = __builtin_shufflevector(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11);
    r[1] = __builtin_shufflevector(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11);
    r[2] = __builtin_shufflevector(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11);
    r[3] = __builtin_shufflevector(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11);
    r[4] = __builtin_shufflevector(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15);
    r[5] = __builtin_shufflevector(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15);
    r[6] = __builtin_shufflevector(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15);
    r[7] = __builtin_shufflevector(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15);
}

/* Panels p0..<p1 of rows [k0, k0 + kc) of B, panel p at dst + (p - p0) * kc * 16. */
ZOO_MULTIVERSION
static void sg_pack_b(const float *B, long rsb, long csb, long N, long k0, long kc, long p0, long p1,
                      float *dst) {
    const long pbase = p0;
    if (csb == 1) {
        /* Rows of B are contiguous: read each row once across all full panels (one stream in,
           one stream out per panel). */
        long full = N / SG_NR < p1 ? N / SG_NR : p1;
        for (long k = 0; k < kc && p0 < full; k++) {
            const float *s = B + (k0 + k) * rsb;
            for (long p = p0; p < full; p++) {
                float *d = dst + (p - pbase) * kc * SG_NR + k * SG_NR;
                *(sg_v8 *)d = *(const sg_v8u *)(s + p * SG_NR);
                *(sg_v8 *)(d + 8) = *(const sg_v8u *)(s + p * SG_NR + 8);
            }
        }
        if (full > p0) p0 = full;
    }
    for (long p = p0; p < p1; p++) {
        long j0 = p * SG_NR, nr = N - j0 < SG_NR ? N - j0 : SG_NR;
        float *d = dst + (p - pbase) * kc * SG_NR;
        const float *src = B + k0 * rsb + j0 * csb;
        if (nr == SG_NR && rsb == 1) {
            /* B stored transposed (a weight [N, K] used as x · Wᵀ): columns are contiguous. */
            long k = 0;
            for (; k + 8 <= kc; k += 8) {
                for (int h = 0; h < 2; h++) {
                    sg_v8 r[8];
                    for (int j = 0; j < 8; j++) r[j] = *(const sg_v8u *)(src + (h * 8 + j) * csb + k);
                    sg_transpose8(r);
                    for (int q = 0; q < 8; q++) *(sg_v8 *)(d + (k + q) * SG_NR + h * 8) = r[q];
                }
            }
            for (; k < kc; k++)
                for (long j = 0; j < SG_NR; j++) d[k * SG_NR + j] = src[j * csb + k];
        } else {
            for (long k = 0; k < kc; k++)
                for (long j = 0; j < SG_NR; j++) d[k * SG_NR + j] = j < nr ? src[k * rsb + j * csb] : 0.0f;
        }
    }
}

/* Rows [m0, m0 + mc) and columns [k0, k0 + kc) of A as strips of 6 rows ([k][i], zero rows
   past mc) into dst. */
ZOO_MULTIVERSION
static void sg_pack_a(const float *A, long rsa, long csa, long m0, long mc, long k0, long kc, float *dst) {
    for (long q = 0; q * SG_MR < mc; q++) {
        long i0 = m0 + q * SG_MR, mr = mc - q * SG_MR < SG_MR ? mc - q * SG_MR : SG_MR;
        float *d = dst + q * kc * SG_MR;
        const float *src = A + i0 * rsa + k0 * csa;
        if (mr == SG_MR && csa == 1) {
            long k = 0;
            for (; k + 8 <= kc; k += 8) {
                sg_v8 r[8];
                for (int i = 0; i < 6; i++) r[i] = *(const sg_v8u *)(src + i * rsa + k);
                r[6] = r[7] = (sg_v8){0};
                sg_transpose8(r);
                /* 8 lanes stored where 6 belong: the last two are overwritten by the next
                   store, or by the next group; a strip's very last row is stored exactly (the
                   next strip may belong to another thread). */
                for (int q2 = 0; q2 < 7; q2++) *(sg_v8u *)(d + (k + q2) * SG_MR) = r[q2];
                if (k + 8 < kc) {
                    *(sg_v8u *)(d + (k + 7) * SG_MR) = r[7];
                } else {
                    float t[8];
                    *(sg_v8u *)t = r[7];
                    __builtin_memcpy(d + (k + 7) * SG_MR, t, SG_MR * sizeof(float));
                }
            }
            for (; k < kc; k++)
                for (int i = 0; i < SG_MR; i++) d[k * SG_MR + i] = src[i * rsa + k];
        } else if (mr == SG_MR && rsa == 1) {
            for (long k = 0; k < kc; k++)
                for (int i = 0; i < SG_MR; i++) d[k * SG_MR + i] = src[k * csa + i];
        } else {
            for (long k = 0; k < kc; k++)
                for (long i = 0; i < SG_MR; i++) d[k * SG_MR + i] = i < mr ? src[i * rsa + k * csa] : 0.0f;
        }
    }
}

/* ---- the register tile ----------------------------------------------------------------- */

/* C[i][j] (+)= sum_k a[k * 6 + i] * b[k * 16 + j] for i < mr, j < nr (C rows ldc apart). */
/* `next` (the next panel) is pulled towards L1 a line per step, so a new panel does not start
   with misses. */
static inline __attribute__((always_inline)) void sg_tile(long kc, const float *restrict a, const float *restrict b,
                                                          float *c, long ldc, int first, long mr, long nr,
                                                          const float *next, float alpha) {
    sg_v8 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    sg_v8 c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    for (long i = 0; i < mr; i++) __builtin_prefetch(c + i * ldc, 1, 3);
    _Pragma("clang loop unroll_count(4)")
    for (long k = 0; k < kc; k++) {
        sg_v8 b0 = *(const sg_v8 *)b, b1 = *(const sg_v8 *)(b + 8);
        float s;
        s = a[0]; c00 += s * b0; c01 += s * b1;
        s = a[1]; c10 += s * b0; c11 += s * b1;
        s = a[2]; c20 += s * b0; c21 += s * b1;
        s = a[3]; c30 += s * b0; c31 += s * b1;
        s = a[4]; c40 += s * b0; c41 += s * b1;
        s = a[5]; c50 += s * b0; c51 += s * b1;
        a += SG_MR;
        b += SG_NR;
        __builtin_prefetch(next + k * SG_NR, 0, 3);
    }
    sg_v8 acc[SG_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (alpha != 1.0f)
        for (int i = 0; i < SG_MR; i++) { acc[i][0] *= alpha; acc[i][1] *= alpha; }
    if (nr == SG_NR) {
        for (long i = 0; i < mr; i++) {
            sg_v8u *o = (sg_v8u *)(c + i * ldc), *o1 = (sg_v8u *)(c + i * ldc + 8);
            if (first) { *o = acc[i][0]; *o1 = acc[i][1]; }
            else { *o = *o + acc[i][0]; *o1 = *o1 + acc[i][1]; }
        }
    } else {
        for (long i = 0; i < mr; i++) {
            float t[SG_NR];
            *(sg_v8u *)t = acc[i][0];
            *(sg_v8u *)(t + 8) = acc[i][1];
            float *o = c + i * ldc;
            if (first) for (long j = 0; j < nr; j++) o[j] = t[j];
            else for (long j = 0; j < nr; j++) o[j] += t[j];
        }
    }
}

/* ---- the job --------------------------------------------------------------------------- */

typedef struct {
    const float *A, *B;
    float *C;
    long M, N, K, rsa, csa, rsb, csb, ldc;
    float alpha;
    long panels, strips, mblocks, nchunks, chunk_panels;
    /* Many rows: K in groups of kgroup (K itself, or a multiple of SG_KC) packed into two
       alternating buffers of group_floats each: B panels of the group first, then A strips. */
    float *packed;
    long kgroup, group_floats, pack_chunks, a_chunks;
    long group;            /* the group being computed (the compute job packs group + 1) */
    long compute_tasks;    /* of this job; tasks past them pack the next group */
} sg_job;

static long sg_group_len(const sg_job *j, long g) {
    long g0 = g * j->kgroup;
    return j->K - g0 < j->kgroup ? j->K - g0 : j->kgroup;
}

static float *sg_group_buffer(const sg_job *j, long g) { return j->packed + (g & 1) * j->group_floats; }

/* Packing tasks of group g: per block of K in it, pack_chunks tasks for B then a_chunks for A. */
static long sg_pack_tasks(const sg_job *j, long g) {
    long blocks = (sg_group_len(j, g) + SG_KC - 1) / SG_KC;
    return blocks * (j->pack_chunks + j->a_chunks);
}

static void sg_pack(const sg_job *j, long g, long t) {
    long g0 = g * j->kgroup, glen = sg_group_len(j, g);
    float *buf = sg_group_buffer(j, g);
    long per_block = j->pack_chunks + j->a_chunks;
    long kb = t / per_block, c = t % per_block;
    long k0 = g0 + kb * SG_KC, kc = g0 + glen - k0 < SG_KC ? g0 + glen - k0 : SG_KC;
    long koff = kb * SG_KC;   /* offset of this block inside the group */
    if (c < j->pack_chunks) {
        long per = (j->panels + j->pack_chunks - 1) / j->pack_chunks;
        long p0 = c * per, p1 = p0 + per < j->panels ? p0 + per : j->panels;
        if (p0 < p1) sg_pack_b(j->B, j->rsb, j->csb, j->N, k0, kc, p0, p1, buf + (koff * j->panels + p0 * kc) * SG_NR);
    } else {
        long per = (j->strips + j->a_chunks - 1) / j->a_chunks;
        long s0 = (c - j->pack_chunks) * per, s1 = s0 + per < j->strips ? s0 + per : j->strips;
        if (s0 < s1) {
            long m0 = s0 * SG_MR, m1 = s1 * SG_MR < j->M ? s1 * SG_MR : j->M;
            sg_pack_a(j->A, j->rsa, j->csa, m0, m1 - m0, k0, kc,
                      buf + j->panels * SG_NR * glen + koff * j->strips * SG_MR + s0 * kc * SG_MR);
        }
    }
}

static void sg_pack_first_task(void *ctx, long t) { sg_pack((const sg_job *)ctx, 0, t); }

/* Every strip of `strips` (mc rows, KC block kc) times panels [p0, p1) of `block` (the KC block
   of packed B, panel p at p * kc * 16), into C rows [m0, m0 + mc). */
static inline __attribute__((always_inline)) void sg_block(const sg_job *j, const float *strips, long m0, long mc,
                                                           const float *block, long p0, long p1, long pbase,
                                                           long kc, int first) {
    for (long p = p0; p < p1; p++) {
        long c0 = p * SG_NR, nr = j->N - c0 < SG_NR ? j->N - c0 : SG_NR;
        const float *panel = block + (p - pbase) * kc * SG_NR;
        /* The last panel "prefetches" its own lines again: harmless, and never past the buffer. */
        const float *next = p + 1 < p1 ? panel + kc * SG_NR : panel;
        for (long q = 0; q * SG_MR < mc; q++) {
            long mr = mc - q * SG_MR < SG_MR ? mc - q * SG_MR : SG_MR;
            sg_tile(kc, strips + q * kc * SG_MR, panel, j->C + (m0 + q * SG_MR) * j->ldc + c0, j->ldc,
                    first, mr, nr, next, j->alpha);
        }
    }
}

/* A task on operands packed beforehand (group `g` of K): rows of block mb, panels of chunk nc. */
ZOO_MULTIVERSION
static void sg_compute(const sg_job *j, long g, long mb, long nc) {
    long m0 = mb * SG_MC, mc = j->M - m0 < SG_MC ? j->M - m0 : SG_MC;
    long p0 = nc * j->chunk_panels, p1 = p0 + j->chunk_panels < j->panels ? p0 + j->chunk_panels : j->panels;
    long g0 = g * j->kgroup, glen = sg_group_len(j, g);
    const float *buf = sg_group_buffer(j, g);
    for (long koff = 0; koff < glen; koff += SG_KC) {
        long kc = glen - koff < SG_KC ? glen - koff : SG_KC;
        const float *strips = buf + j->panels * SG_NR * glen + koff * j->strips * SG_MR + (m0 / SG_MR) * kc * SG_MR;
        sg_block(j, strips, m0, mc, buf + koff * j->panels * SG_NR, p0, p1, 0, kc, g0 + koff == 0);
    }
}

/* The compute tasks of the current group, then (filling the time threads would otherwise wait
   at the end of the job) the packing tasks of the next group into the other buffer. */
static void sg_compute_task(void *ctx, long t) {
    const sg_job *j = ctx;
    if (t < j->compute_tasks) sg_compute(j, j->group, t / j->nchunks, t % j->nchunks);
    else sg_pack(j, j->group + 1, t - j->compute_tasks);
}

/* ---- few rows: each task packs its own operands --------------------------------------- */

/* With at most SG_MC rows every packed panel of B would be used by one task only: a task packs
   its columns of B and all of A, block of K by block of K, into a per-thread buffer and uses
   them while they are in L2 (no shared buffer, no pass between phases). */
#define SG_SMALL_PANELS 8

static pthread_key_t sg_key;
static pthread_once_t sg_once = PTHREAD_ONCE_INIT;
static void sg_key_make(void) { pthread_key_create(&sg_key, free); }

/* SG_MC × SG_KC floats for strips of A (+ 16: room for the packer's overlapping stores, and
   B stays 64-byte aligned), then SG_KC × SG_SMALL_PANELS × 16 for panels of B. Allocated once
   per thread, freed when the thread exits. NULL when out of memory. */
static float *sg_thread_buffer(void) {
    pthread_once(&sg_once, sg_key_make);
    float *p = pthread_getspecific(sg_key);
    if (!p) {
        p = aligned_alloc(64, sizeof(float) * ((long)SG_MC * SG_KC + 16 + (long)SG_KC * SG_SMALL_PANELS * SG_NR));
        if (p && pthread_setspecific(sg_key, p) != 0) { free(p); p = NULL; }
    }
    return p;
}

ZOO_MULTIVERSION
static void sg_compute_small(const sg_job *j, long nc, float *buf) {
    float *abuf = buf, *bbuf = buf + (long)SG_MC * SG_KC + 16;
    long p0 = nc * j->chunk_panels, p1 = p0 + j->chunk_panels < j->panels ? p0 + j->chunk_panels : j->panels;
    for (long k0 = 0; k0 < j->K; k0 += SG_KC) {
        long kc = j->K - k0 < SG_KC ? j->K - k0 : SG_KC;
        sg_pack_a(j->A, j->rsa, j->csa, 0, j->M, k0, kc, abuf);
        sg_pack_b(j->B, j->rsb, j->csb, j->N, k0, kc, p0, p1, bbuf);
        sg_block(j, abuf, 0, j->M, bbuf, p0, p1, p0, kc, k0 == 0);
    }
}

static void sg_small_task(void *ctx, long t) {
    const sg_job *j = ctx;
    float *buf = sg_thread_buffer();
    if (!buf) abort();   /* 276 KB once per thread: out of memory, as the engine's allocator treats it */
    sg_compute_small(j, t, buf);
}

void zoo_sgemm(long M, long N, long K, float alpha, const float *A, long rsa, long csa, const float *B, long rsb,
               long csb, float *C, long ldc, float *packed, long packed_floats) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (long i = 0; i < M; i++) memset(C + i * ldc, 0, sizeof(float) * (size_t)N);
        return;
    }
    sg_job j = {.A = A, .B = B, .C = C, .packed = packed, .M = M, .N = N, .K = K,
                .rsa = rsa, .csa = csa, .rsb = rsb, .csb = csb, .ldc = ldc, .alpha = alpha};
    long threads = zoo_pool_threads();
    j.panels = (N + SG_NR - 1) / SG_NR;
    if (M <= SG_MC) {
        /* Columns in chunks of up to 8 panels, at least four tasks per thread where N allows. */
        j.chunk_panels = j.panels < SG_SMALL_PANELS ? j.panels : SG_SMALL_PANELS;
        while (j.chunk_panels > 1 && (j.panels + j.chunk_panels - 1) / j.chunk_panels < 4 * threads)
            j.chunk_panels = (j.chunk_panels + 1) / 2;
        j.nchunks = (j.panels + j.chunk_panels - 1) / j.chunk_panels;
        zoo_pool_run(j.nchunks, sg_small_task, &j);
        return;
    }
    j.strips = (M + SG_MR - 1) / SG_MR;
    /* The grouping follows from the buffer the caller sized with zoo_sgemm_pack_floats (the
       limit may have changed since): one pass if it holds all of K, else the largest groups of
       whole K blocks of which two fit. */
    long per_k = sg_per_k(M, N);
    if (packed_floats >= per_k * K) {
        j.kgroup = K;
    } else {
        j.kgroup = packed_floats / 2 / (per_k * SG_KC) * SG_KC;
        if (j.kgroup < SG_KC) abort();   /* smaller than zoo_sgemm_pack_floats asked for */
    }
    j.group_floats = per_k * j.kgroup;
    long groups = (K + j.kgroup - 1) / j.kgroup;
    long blocks = (j.kgroup + SG_KC - 1) / SG_KC;
    /* Packing: about four tasks per thread for each operand and group. */
    j.pack_chunks = (4 * threads + blocks - 1) / blocks;
    if (j.pack_chunks > j.panels) j.pack_chunks = j.panels;
    j.a_chunks = (4 * threads + blocks - 1) / blocks;
    if (j.a_chunks > j.strips) j.a_chunks = j.strips;
    /* Compute: row blocks × column chunks, split further while there are fewer than eight
       tasks per thread (and a chunk has more than 4 panels). */
    j.mblocks = (M + SG_MC - 1) / SG_MC;
    j.chunk_panels = j.panels < SG_NC_PANELS ? j.panels : SG_NC_PANELS;
    while (j.chunk_panels > 4 && j.mblocks * ((j.panels + j.chunk_panels - 1) / j.chunk_panels) < SG_TASKS_PER_THREAD * threads)
        j.chunk_panels = (j.chunk_panels + 1) / 2;
    j.nchunks = (j.panels + j.chunk_panels - 1) / j.chunk_panels;
    j.compute_tasks = j.mblocks * j.nchunks;
    zoo_pool_run(sg_pack_tasks(&j, 0), sg_pack_first_task, &j);
    for (long g = 0; g < groups; g++) {
        j.group = g;
        zoo_pool_run(j.compute_tasks + (g + 1 < groups ? sg_pack_tasks(&j, g + 1) : 0), sg_compute_task, &j);
    }
}
