#include "ckernels.h"
#include "ckernels_ops.h"
#include "zoo_kernel_support.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct zoo_fft_plan {
    long n;
    int nf;
    long factors[64];
    double *tw;            /* exp(+2 pi i t / n), t in [0, n); sign applied to the imaginary part */
    /* Four-step, for long transforms: n = n1 * n2, viewed as a row-major [n1, n2] matrix */
    long n1, n2;
    struct zoo_fft_plan *p1, *p2;
    /* exp(+2 pi i t / n) = thi[t >> lbits] * tlo[t & (2^lbits - 1)]: two tables of about
       sqrt(n) entries rather than n twiddles streamed from memory */
    double *thi, *tlo;
    int lbits;
    /* Real input of even length: one complex transform of half the length */
    struct zoo_fft_plan *half;
    double *rtw;           /* exp(+2 pi i k / n), k in [0, n/2] */
    /* Bluestein */
    long m;
    struct zoo_fft_plan *sub;
    double *chirp;         /* exp(-i pi k^2 / n), k in [0, n) */
    double *bhat;          /* FFT (size m) of the conjugate chirp filter, for sign -1 */
};

static void make_twiddles(double *tw, long n) {
    for (long t = 0; t < n; t++) {
        double a = 2.0 * M_PI * (double)t / (double)n;
        tw[2 * t] = cos(a);
        tw[2 * t + 1] = sin(a);
    }
}

/* Two complex128 values [re0, im0, re1, im1] (unaligned loads and stores). */
typedef double v4d __attribute__((vector_size(32)));
typedef double v4du __attribute__((vector_size(32), aligned(8)));
#define LD(p) (*(const v4du *)(p))
#define ST(p, v) (*(v4du *)(p) = (v))
#define SWAP_RI(v) __builtin_shufflevector((v), (v), 1, 0, 3, 2)

/* z * w for one twiddle w = wr + i wi, given wr_v = {wr x4} and wi_alt = {-wi, wi, -wi, wi}
   (a macro: vector arguments would change the calling convention between clones). */
#define CMUL_ONE(z, wr_v, wi_alt) ((z) * (wr_v) + SWAP_RI(z) * (wi_alt))

/* Radix-2 and radix-4 stages on pairs of q (s even): every pair shares the stage's twiddles. */
static inline __attribute__((always_inline)) void stage_pairs(const double *tw, long step, const double *x, double *y, long s, long m, long r,
                               double sg, long p) {
    v4d alt = {-sg, sg, -sg, sg};
    if (r == 2) {
        long t = p * step;
        v4d wr = {tw[2 * t], tw[2 * t], tw[2 * t], tw[2 * t]}, wi = alt * tw[2 * t + 1];
        const double *x0 = x + 2 * s * p, *x1 = x + 2 * s * (p + m);
        double *y0 = y + 2 * s * (2 * p), *y1 = y + 2 * s * (2 * p + 1);
        for (long q = 0; q < 2 * s; q += 4) {
            v4d a = LD(x0 + q), b = LD(x1 + q);
            ST(y0 + q, a + b);
            ST(y1 + q, CMUL_ONE(a - b, wr, wi));
        }
        return;
    }
    long t1 = p * step, t2 = 2 * p * step, t3 = 3 * p * step;
    v4d w1r = {tw[2 * t1], tw[2 * t1], tw[2 * t1], tw[2 * t1]}, w1i = alt * tw[2 * t1 + 1];
    v4d w2r = {tw[2 * t2], tw[2 * t2], tw[2 * t2], tw[2 * t2]}, w2i = alt * tw[2 * t2 + 1];
    v4d w3r = {tw[2 * t3], tw[2 * t3], tw[2 * t3], tw[2 * t3]}, w3i = alt * tw[2 * t3 + 1];
    const double *x0 = x + 2 * s * p, *x1 = x + 2 * s * (p + m), *x2 = x + 2 * s * (p + 2 * m), *x3 = x + 2 * s * (p + 3 * m);
    double *y0 = y + 2 * s * (4 * p), *y1 = y0 + 2 * s, *y2 = y1 + 2 * s, *y3 = y2 + 2 * s;
    for (long q = 0; q < 2 * s; q += 4) {
        v4d a0 = LD(x0 + q), a1 = LD(x1 + q), a2 = LD(x2 + q), a3 = LD(x3 + q);
        v4d s02 = a0 + a2, d02 = a0 - a2, s13 = a1 + a3, d13 = a1 - a3;
        /* w4 = i * sign: w4 * d13 = (-sign d13i, sign d13r) */
        v4d tt = SWAP_RI(d13) * alt;
        ST(y0 + q, s02 + s13);
        ST(y1 + q, CMUL_ONE(d02 + tt, w1r, w1i));
        ST(y2 + q, CMUL_ONE(s02 - s13, w2r, w2i));
        ST(y3 + q, CMUL_ONE(d02 - tt, w3r, w3i));
    }
}

/* Stockham auto-sort, decimation in frequency: each stage reads x and writes y in long
   contiguous runs (no bit reversal, no strided gathers), then the buffers swap.
   Stage with radix r on length-n subsequences at stride s (m = n / r):
     y[q + s (r p + k)] = w_n^(p k) * sum_j x[q + s (p + j m)] w_r^(j k). */
ZOO_MULTIVERSION
static void stage(const double *tw, long N, const double *x, double *y, long n, long s, long r, int sign,
                  long p0, long p1) {
    long m = n / r, step = N / n;
    double sg = (double)sign;
    for (long p = p0; p < p1; p++) {
        if (s % 2 == 0 && (r == 2 || r == 4)) {
            stage_pairs(tw, step, x, y, s, m, r, sg, p);
        } else if (r == 2) {
            long t = p * step;
            double wr = tw[2 * t], wi = sg * tw[2 * t + 1];
            const double *x0 = x + 2 * s * p, *x1 = x + 2 * s * (p + m);
            double *y0 = y + 2 * s * (2 * p), *y1 = y + 2 * s * (2 * p + 1);
            for (long q = 0; q < s; q++) {
                double ar = x0[2 * q], ai = x0[2 * q + 1], br = x1[2 * q], bi = x1[2 * q + 1];
                y0[2 * q] = ar + br; y0[2 * q + 1] = ai + bi;
                double dr = ar - br, di = ai - bi;
                y1[2 * q] = dr * wr - di * wi; y1[2 * q + 1] = dr * wi + di * wr;
            }
        } else if (r == 4) {
            long t1 = p * step, t2 = 2 * p * step, t3 = 3 * p * step;
            double w1r = tw[2 * t1], w1i = sg * tw[2 * t1 + 1];
            double w2r = tw[2 * t2], w2i = sg * tw[2 * t2 + 1];
            double w3r = tw[2 * t3], w3i = sg * tw[2 * t3 + 1];
            const double *x0 = x + 2 * s * p, *x1 = x + 2 * s * (p + m), *x2 = x + 2 * s * (p + 2 * m), *x3 = x + 2 * s * (p + 3 * m);
            double *y0 = y + 2 * s * (4 * p), *y1 = y0 + 2 * s, *y2 = y1 + 2 * s, *y3 = y2 + 2 * s;
            for (long q = 0; q < s; q++) {
                double a0r = x0[2 * q], a0i = x0[2 * q + 1], a1r = x1[2 * q], a1i = x1[2 * q + 1];
                double a2r = x2[2 * q], a2i = x2[2 * q + 1], a3r = x3[2 * q], a3i = x3[2 * q + 1];
                double s02r = a0r + a2r, s02i = a0i + a2i, d02r = a0r - a2r, d02i = a0i - a2i;
                double s13r = a1r + a3r, s13i = a1i + a3i, d13r = a1r - a3r, d13i = a1i - a3i;
                /* w4 = i * sign: w4 * d13 = (-sign d13i, sign d13r) */
                double tr = -sg * d13i, ti = sg * d13r;
                double b1r = d02r + tr, b1i = d02i + ti, b2r = s02r - s13r, b2i = s02i - s13i;
                double b3r = d02r - tr, b3i = d02i - ti;
                y0[2 * q] = s02r + s13r; y0[2 * q + 1] = s02i + s13i;
                y1[2 * q] = b1r * w1r - b1i * w1i; y1[2 * q + 1] = b1r * w1i + b1i * w1r;
                y2[2 * q] = b2r * w2r - b2i * w2i; y2[2 * q + 1] = b2r * w2i + b2i * w2r;
                y3[2 * q] = b3r * w3r - b3i * w3i; y3[2 * q + 1] = b3r * w3i + b3i * w3r;
            }
        } else {
            double a[2 * 64], b[2 * 64];
            for (long q = 0; q < s; q++) {
                for (long j = 0; j < r; j++) {
                    a[2 * j] = x[2 * (q + s * (p + j * m))];
                    a[2 * j + 1] = x[2 * (q + s * (p + j * m)) + 1];
                }
                for (long k = 0; k < r; k++) {
                    double sr = 0, si = 0;
                    for (long j = 0; j < r; j++) {
                        long t = ((j * k) % r) * (N / r);
                        double wr = tw[2 * t], wi = sg * tw[2 * t + 1];
                        sr += a[2 * j] * wr - a[2 * j + 1] * wi;
                        si += a[2 * j] * wi + a[2 * j + 1] * wr;
                    }
                    b[2 * k] = sr; b[2 * k + 1] = si;
                }
                for (long k = 0; k < r; k++) {
                    long t = p * k * step;
                    double wr = tw[2 * t], wi = sg * tw[2 * t + 1];
                    double *o = y + 2 * (q + s * (r * p + k));
                    o[0] = b[2 * k] * wr - b[2 * k + 1] * wi;
                    o[1] = b[2 * k] * wi + b[2 * k + 1] * wr;
                }
            }
        }
    }
}

/* Transforms of at least this length run four-step on every core. */
#define FOUR_STEP_MIN (1L << 15)
/* Columns (rows) transformed together: their interleaved elements make the innermost loop of
   every stage at least this long, and each strided gather reads whole cache lines. */
#define FFT_BATCH 8

static long fft_threads(long n) {
    if (n < FOUR_STEP_MIN) return 1;
    long c = zoo_pool_threads();  /* the pool the jobs run on (honours ZOO_NUM_THREADS) */
    return c < 1 ? 1 : (c > 8 ? 8 : c);
}

struct job_batch { void *(*fn)(void *); char *jobs; size_t size; };

static void run_job(void *ctx, long t) {
    struct job_batch *b = ctx;
    b->fn(b->jobs + t * b->size);
}

/* Runs fn(job_i) for T jobs of `size` bytes each on the CPU worker pool (pool.c). */
static void run_jobs(void *(*fn)(void *), void *jobs, size_t size, long T) {
    struct job_batch b = {fn, jobs, size};
    zoo_pool_run(T, run_job, &b);
}

/* B transforms of length p->n interleaved (element j of transform b at x[b + B j]), by the
   Stockham stages; returns the buffer (x or y) holding the results, interleaved the same way. */
static double *run_stages(const struct zoo_fft_plan *p, double *x, double *y, long B, int sign) {
    long len = p->n, s = B;
    for (int f = 0; f < p->nf; f++) {
        long r = p->factors[f];
        stage(p->tw, p->n, x, y, len, s, r, sign, 0, len / r);
        len /= r; s *= r;
        double *t = x; x = y; y = t;
    }
    return x;
}

/* Four-step transform: length-n1 transforms down the columns of [n1, n2] (FFT_BATCH columns
   at a time, through a scratch block that stays in cache), twiddles w_n^(k1 j2), then
   length-n2 transforms along the rows, written transposed into out. Each pass touches the
   data once, where the Stockham stages would stream it through memory log_r(n) times. */
typedef struct {
    const struct zoo_fft_plan *p;
    const float *fsrc;     /* input as complex64, or NULL: input is dsrc (complex128) */
    const double *dsrc;
    double *A, *out;
    double *scratch;       /* this job's: 4 * FFT_BATCH * max(n1, n2) doubles */
    int sign;
    long *next;            /* shared: the next block to take (blocks go to whichever thread is
                              free, so a core busy with other work does not hold up the pass) */
} four_step_job;

/* Rows ahead that the strided gathers and scatters prefetch: each row is another page. */
#define FFT_PREFETCH 8

ZOO_MULTIVERSION
static void column_block(const struct zoo_fft_plan *p, const four_step_job *j, long c0, long nb, double *s0,
                         double *s1) {
    long n1 = p->n1, n2 = p->n2;
    if (j->fsrc) {
        for (long j1 = 0; j1 < n1; j1++) {
            if (j1 + FFT_PREFETCH < n1) __builtin_prefetch(j->fsrc + 2 * ((j1 + FFT_PREFETCH) * n2 + c0));
            const float *src = j->fsrc + 2 * (j1 * n2 + c0);
            double *dst = s0 + 2 * j1 * nb;
            for (long e = 0; e < 2 * nb; e++) dst[e] = (double)src[e];
        }
    } else {
        for (long j1 = 0; j1 < n1; j1++) {
            if (j1 + FFT_PREFETCH < n1) {
                const double *ahead = j->dsrc + 2 * ((j1 + FFT_PREFETCH) * n2 + c0);
                __builtin_prefetch(ahead);
                __builtin_prefetch(ahead + 2 * nb - 1);
            }
            memcpy(s0 + 2 * j1 * nb, j->dsrc + 2 * (j1 * n2 + c0), (size_t)(2 * nb) * sizeof(double));
        }
    }
    const double *res = run_stages(p->p1, s0, s1, nb, j->sign);
    /* Twiddle w_n^(k1 c) for column c = c0 + b: t_b = k1 c mod n, stepped along k1. */
    double sg = (double)j->sign;
    long n = p->n, t[FFT_BATCH] = {0}, mask = (1L << p->lbits) - 1;
    int lb = p->lbits;
    for (long k1 = 0; k1 < n1; k1++) {
        if (k1 + FFT_PREFETCH < n1) {
            long ahead = 2 * ((k1 + FFT_PREFETCH) * n2 + c0);
            __builtin_prefetch(j->A + ahead, 1);
            __builtin_prefetch(j->A + ahead + 2 * nb - 1, 1);
        }
        const double *z = res + 2 * nb * k1;
        double *dst = j->A + 2 * (k1 * n2 + c0);
        for (long b = 0; b < nb; b++) {
            const double *h = p->thi + 2 * (t[b] >> lb), *l = p->tlo + 2 * (t[b] & mask);
            double wr = h[0] * l[0] - h[1] * l[1], wi = sg * (h[0] * l[1] + h[1] * l[0]);
            double zr = z[2 * b], zi = z[2 * b + 1];
            dst[2 * b] = zr * wr - zi * wi;
            dst[2 * b + 1] = zr * wi + zi * wr;
            t[b] += c0 + b;
            if (t[b] >= n) t[b] -= n;
        }
    }
}

static void *column_pass(void *arg) {
    four_step_job *j = arg;
    const struct zoo_fft_plan *p = j->p;
    long n1 = p->n1, n2 = p->n2, B = FFT_BATCH;
    double *s0 = j->scratch, *s1 = s0 + 2 * n1 * B;
    long blocks = (n2 + B - 1) / B;
    for (long blk; (blk = __atomic_fetch_add(j->next, 1, __ATOMIC_RELAXED)) < blocks;) {
        long c0 = blk * B, nb = n2 - c0 < B ? n2 - c0 : B;
        column_block(p, j, c0, nb, s0, s1);
    }
    return NULL;
}

static void *row_pass(void *arg) {
    four_step_job *j = arg;
    const struct zoo_fft_plan *p = j->p;
    long n1 = p->n1, n2 = p->n2, B = FFT_BATCH;
    double *s0 = j->scratch, *s1 = s0 + 2 * n2 * B;
    long blocks = (n1 + B - 1) / B;
    for (long blk; (blk = __atomic_fetch_add(j->next, 1, __ATOMIC_RELAXED)) < blocks;) {
        long r0 = blk * B, nb = n1 - r0 < B ? n1 - r0 : B;
        for (long b = 0; b < nb; b++) {
            const double *row = j->A + 2 * (r0 + b) * n2;
            for (long j2 = 0; j2 < n2; j2++) {
                s0[2 * (j2 * nb + b)] = row[2 * j2];
                s0[2 * (j2 * nb + b) + 1] = row[2 * j2 + 1];
            }
        }
        const double *res = run_stages(p->p2, s0, s1, nb, j->sign);
        for (long k2 = 0; k2 < n2; k2++)
            memcpy(j->out + 2 * (r0 + n1 * k2), res + 2 * nb * k2, (size_t)(2 * nb) * sizeof(double));
    }
    return NULL;
}

static long four_step_scratch(const struct zoo_fft_plan *p) {
    long len = p->n1 > p->n2 ? p->n1 : p->n2;
    return fft_threads(p->n) * 4 * FFT_BATCH * len;
}

/* A: n complex128 of work space (may be dsrc itself); out must not overlap A. scratch:
   four_step_scratch(p) doubles, or NULL to allocate them here. */
static int four_step(const struct zoo_fft_plan *p, const float *fsrc, const double *dsrc, double *A, double *out,
                     int sign, double *scratch) {
    long T = fft_threads(p->n), per = four_step_scratch(p) / T;
    double *own = NULL;
    if (!scratch) {
        own = scratch = malloc((size_t)(per * T) * sizeof(double));
        if (!own) return -1;
    }
    four_step_job jobs[8];
    long next = 0;
    for (long t = 0; t < T; t++) jobs[t] = (four_step_job){p, fsrc, dsrc, A, out, scratch + t * per, sign, &next};
    run_jobs(column_pass, jobs, sizeof jobs[0], T);
    next = 0;
    run_jobs(row_pass, jobs, sizeof jobs[0], T);
    free(own);
    return 0;
}

/* Plan flags: the transform of a real input of even length, through a half-length plan (and
   nothing for complex input); a plan that always runs the Stockham stages (a four-step part). */
#define PLAN_REAL 1
#define PLAN_STAGES_ONLY 2

static struct zoo_fft_plan *plan_create(long n, int flags) {
    struct zoo_fft_plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n;
    if (flags & PLAN_REAL) {
        long h = n / 2;
        p->half = plan_create(h, 0);
        p->rtw = malloc((size_t)(h + 1) * 2 * sizeof(double));
        if (!p->half || !p->rtw) { zoo_fft_plan_destroy(p); return NULL; }
        for (long k = 0; k <= h; k++) {
            double a = 2.0 * M_PI * (double)k / (double)n;
            p->rtw[2 * k] = cos(a);
            p->rtw[2 * k + 1] = sin(a);
        }
        return p;
    }
    long rest = n;
    while (rest % 4 == 0) { p->factors[p->nf++] = 4; rest /= 4; }
    while (rest % 2 == 0) { p->factors[p->nf++] = 2; rest /= 2; }
    for (long f = 3; f <= 64 && rest > 1; f += 2)
        while (rest % f == 0) { p->factors[p->nf++] = f; rest /= f; }
    if (rest > 1) {
        /* Bluestein: a length-m power-of-two convolution */
        long m = 1;
        while (m < 2 * n - 1) m *= 2;
        p->m = m;
        p->sub = plan_create(m, 0);
        p->chirp = malloc((size_t)n * 2 * sizeof(double));
        double *b = calloc((size_t)m * 2, sizeof(double));
        p->bhat = malloc((size_t)m * 2 * sizeof(double));
        if (!p->sub || !p->chirp || !b || !p->bhat) { free(b); zoo_fft_plan_destroy(p); return NULL; }
        for (long k = 0; k < n; k++) {
            long k2 = (long)(((unsigned long long)k * (unsigned long long)k) % (unsigned long long)(2 * n));
            double a = -M_PI * (double)k2 / (double)n;
            p->chirp[2 * k] = cos(a);
            p->chirp[2 * k + 1] = sin(a);
        }
        for (long k = 0; k < n; k++) {
            b[2 * k] = p->chirp[2 * k]; b[2 * k + 1] = -p->chirp[2 * k + 1];
            if (k > 0) { b[2 * (m - k)] = p->chirp[2 * k]; b[2 * (m - k) + 1] = -p->chirp[2 * k + 1]; }
        }
        zoo_fft_execute(p->sub, b, p->bhat, -1);
        free(b);
        p->nf = 0;
        return p;
    }
    /* n1: the leading factors up to about sqrt(n) */
    long n1 = 1;
    for (int f = 0; f < p->nf && n1 * n1 < n; f++) n1 *= p->factors[f];
    if (!(flags & PLAN_STAGES_ONLY) && n >= FOUR_STEP_MIN && n1 < n) {
        p->n1 = n1;
        p->n2 = n / n1;
        p->p1 = plan_create(n1, PLAN_STAGES_ONLY);
        p->p2 = plan_create(p->n2, PLAN_STAGES_ONLY);
        int lb = 0;
        while ((1L << (2 * lb)) < n) lb++;
        long L = 1L << lb, nh = (n + L - 1) / L;
        p->lbits = lb;
        p->tlo = malloc((size_t)L * 2 * sizeof(double));
        p->thi = malloc((size_t)nh * 2 * sizeof(double));
        if (!p->p1 || !p->p2 || !p->tlo || !p->thi) { zoo_fft_plan_destroy(p); return NULL; }
        for (long l = 0; l < L; l++) {
            double a = 2.0 * M_PI * (double)l / (double)n;
            p->tlo[2 * l] = cos(a);
            p->tlo[2 * l + 1] = sin(a);
        }
        for (long h = 0; h < nh; h++) {
            double a = 2.0 * M_PI * (double)(h * L) / (double)n;
            p->thi[2 * h] = cos(a);
            p->thi[2 * h + 1] = sin(a);
        }
        return p;
    }
    p->tw = malloc((size_t)(n > 0 ? n : 1) * 2 * sizeof(double));
    if (!p->tw) { zoo_fft_plan_destroy(p); return NULL; }
    make_twiddles(p->tw, n);
    return p;
}

zoo_fft_plan *zoo_fft_plan_create(long n) { return plan_create(n, 0); }

zoo_fft_plan *zoo_fft_plan_create_real(long n) { return n >= 2 && n % 2 == 0 ? plan_create(n, PLAN_REAL) : NULL; }

void zoo_fft_plan_destroy(zoo_fft_plan *p) {
    if (!p) return;
    free(p->tw);
    free(p->thi);
    free(p->tlo);
    free(p->rtw);
    free(p->chirp);
    free(p->bhat);
    zoo_fft_plan_destroy(p->p1);
    zoo_fft_plan_destroy(p->p2);
    zoo_fft_plan_destroy(p->half);
    zoo_fft_plan_destroy(p->sub);
    free(p);
}

static int bluestein(const zoo_fft_plan *p, const double *in, double *out, int sign) {
    /* For sign +1 conjugate input and output around the sign -1 transform. */
    long n = p->n, m = p->m;
    double *a = calloc((size_t)m * 2, sizeof(double)), *A = malloc((size_t)m * 2 * sizeof(double));
    if (!a || !A) { free(a); free(A); return -1; }
    for (long k = 0; k < n; k++) {
        double xr = in[2 * k], xi = sign > 0 ? -in[2 * k + 1] : in[2 * k + 1];
        double cr = p->chirp[2 * k], ci = p->chirp[2 * k + 1];
        a[2 * k] = xr * cr - xi * ci;
        a[2 * k + 1] = xr * ci + xi * cr;
    }
    int rc = zoo_fft_execute(p->sub, a, A, -1);
    for (long k = 0; k < m; k++) {
        double ar = A[2 * k], ai = A[2 * k + 1], br = p->bhat[2 * k], bi = p->bhat[2 * k + 1];
        a[2 * k] = ar * br - ai * bi;
        a[2 * k + 1] = ar * bi + ai * br;
    }
    rc |= zoo_fft_execute(p->sub, a, A, +1);
    double inv = 1.0 / (double)m;
    for (long k = 0; k < n; k++) {
        double yr = A[2 * k] * inv, yi = A[2 * k + 1] * inv;
        double cr = p->chirp[2 * k], ci = p->chirp[2 * k + 1];
        double zr = yr * cr - yi * ci, zi = yr * ci + yi * cr;
        out[2 * k] = zr;
        out[2 * k + 1] = sign > 0 ? -zi : zi;
    }
    free(a);
    free(A);
    return rc;
}

/* out = transform of a; a is clobbered (work space); scratch as four_step's. */
static int execute_clobber(const zoo_fft_plan *p, double *a, double *out, int sign, double *scratch) {
    long n = p->n;
    if (n == 0) return 0;
    if (p->sub) return bluestein(p, a, out, sign);
    if (p->p1) return four_step(p, NULL, a, a, out, sign, scratch);
    double *r = run_stages(p, a, out, 1, sign);
    if (r != out) memcpy(out, r, (size_t)n * 2 * sizeof(double));
    return 0;
}

int zoo_fft_execute(const zoo_fft_plan *p, const double *in, double *out, int sign) {
    long n = p->n;
    if (n == 0) return 0;
    if (p->half) return -1;
    if (p->sub) return bluestein(p, in, out, sign);
    double *a = malloc((size_t)n * 2 * sizeof(double));
    if (!a) return -1;
    int rc;
    if (p->p1) {
        rc = four_step(p, NULL, in, a, out, sign, NULL);
    } else {
        memcpy(a, in, (size_t)n * 2 * sizeof(double));
        rc = execute_clobber(p, a, out, sign, NULL);
    }
    free(a);
    return rc;
}

/* Real input x of even length n as z[k] = x[2k] + i x[2k+1], k < h = n/2: with Z = FFT_h(z),
   E[k] = (Z[k] + conj Z[h-k]) / 2 and O[k] = (Z[k] - conj Z[h-k]) / 2i are the transforms of
   the even and odd samples, X[k] = E[k] + w^k O[k], and X[n-k] = conj X[k]. */
typedef struct {
    const double *Z; const double *rtw; float *out;
    long n, len_out; int sign; double scale;
    long *next;            /* shared: the next piece of [0, h] to take */
} real_job;

#define REAL_PIECE 8192

/* X[k] (and X[n-k] = conj X[k] when `mirror`) for k in [k0, k1), 0 < k < h. */
ZOO_MULTIVERSION
static void real_finish_range(const double *Z, const double *rtw, float *out, long n, long k0, long k1, int mirror,
                              double sg, double sc) {
    long h = n / 2;
    for (long k = k0; k < k1; k++) {
        double zr = Z[2 * k], zi = Z[2 * k + 1], mr = Z[2 * (h - k)], mi = Z[2 * (h - k) + 1];
        double er = 0.5 * (zr + mr), ei = 0.5 * (zi - mi);
        double orr = 0.5 * (zi + mi), oi = -0.5 * (zr - mr);
        double wr = rtw[2 * k], wi = sg * rtw[2 * k + 1];
        double xr = (er + wr * orr - wi * oi) * sc, xi = (ei + wr * oi + wi * orr) * sc;
        out[2 * k] = (float)xr;
        out[2 * k + 1] = (float)xi;
        if (mirror) {
            out[2 * (n - k)] = (float)xr;
            out[2 * (n - k) + 1] = (float)(-xi);
        }
    }
}

static void *real_finish(void *arg) {
    real_job *j = arg;
    long n = j->n, h = n / 2;
    const double *Z = j->Z;
    double sc = j->scale;
    for (long piece; (piece = __atomic_fetch_add(j->next, 1, __ATOMIC_RELAXED)) * REAL_PIECE <= h;) {
        long k0 = piece * REAL_PIECE, k1 = k0 + REAL_PIECE > h + 1 ? h + 1 : k0 + REAL_PIECE;
        /* k = 0 and k = h: X[0] = Re Z0 + Im Z0, X[h] = Re Z0 - Im Z0 (both real) */
        if (k0 == 0) { j->out[0] = (float)((Z[0] + Z[1]) * sc); j->out[1] = 0; }
        if (k1 == h + 1 && h < j->len_out) { j->out[2 * h] = (float)((Z[0] - Z[1]) * sc); j->out[2 * h + 1] = 0; }
        long a = k0 < 1 ? 1 : k0, b = k1 > h ? h : k1;
        if (a < b) real_finish_range(Z, j->rtw, j->out, n, a, b, j->len_out == n, (double)j->sign, sc);
    }
    return NULL;
}

static int real_line(const zoo_fft_plan *p, const float *in, float *out, long len_out, int sign, double scale,
                     double *work) {
    long n = p->n, h = n / 2;
    const zoo_fft_plan *hp = p->half;
    double *a = work, *Z = work + 2 * h, *scratch = work + 4 * h;
    int rc;
    if (hp->p1) {
        rc = four_step(hp, in, NULL, a, Z, sign, scratch);
    } else {
        for (long i = 0; i < n; i++) a[i] = (double)in[i];
        rc = execute_clobber(hp, a, Z, sign, scratch);
    }
    if (rc == 0) {
        long T = fft_threads(n), next = 0;
        real_job jobs[8];
        for (long t = 0; t < T; t++) jobs[t] = (real_job){Z, p->rtw, out, n, len_out, sign, scale, &next};
        run_jobs(real_finish, jobs, sizeof jobs[0], T);
    }
    return rc;
}

long zoo_fft_work_size(const zoo_fft_plan *p) {
    if (p->half) return 2 * p->n + (p->half->p1 ? four_step_scratch(p->half) : 0);
    return 4 * p->n + (p->p1 ? four_step_scratch(p) : 0);
}

int zoo_fft_line(const zoo_fft_plan *p, const float *in, int in_kind, long len_in,
                 float *out, long len_out, int out_real, int sign, double scale, double *work) {
    long n = p->n;
    if (p->half)
        return in_kind == 1 && !out_real && (len_out == n || len_out == n / 2 + 1)
            ? real_line(p, in, out, len_out, sign, scale, work) : -1;
    double *a = work, *b = work + 2 * n, *scratch = work + 4 * n;
    int rc;
    if (in_kind == 0 && p->p1) {
        rc = four_step(p, in, NULL, a, b, sign, scratch);
    } else {
        if (in_kind == 0) {
            for (long i = 0; i < 2 * n; i++) a[i] = (double)in[i];
        } else if (in_kind == 1) {
            for (long i = 0; i < n; i++) { a[2 * i] = (double)in[i]; a[2 * i + 1] = 0; }
        } else {
            for (long k = 0; k < n; k++) {
                if (k < len_in) { a[2 * k] = (double)in[2 * k]; a[2 * k + 1] = (double)in[2 * k + 1]; }
                else { long j = n - k; a[2 * k] = (double)in[2 * j]; a[2 * k + 1] = -(double)in[2 * j + 1]; }
            }
        }
        rc = execute_clobber(p, a, b, sign, scratch);
    }
    if (rc == 0) {
        if (out_real) for (long i = 0; i < len_out; i++) out[i] = (float)(b[2 * i] * scale);
        else for (long i = 0; i < 2 * len_out; i++) out[i] = (float)(b[i] * scale);
    }
    return rc;
}
