#include "ckernels_ops.h"
#include "zoo_kernel_support.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct zoo_fft_plan {
    long n;
    int nf;
    long factors[64];
    double *tw;            /* exp(+2 pi i t / n), t in [0, n); sign applied to the imaginary part */
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
        if (r == 2) {
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

/* Large transforms split each stage's p range over the cores (one stage at a time). */
typedef struct {
    const double *tw; long N; const double *x; double *y; long n, s, r; int sign; long p0, p1;
} stage_job;

static void *stage_thread(void *arg) {
    stage_job *j = arg;
    stage(j->tw, j->N, j->x, j->y, j->n, j->s, j->r, j->sign, j->p0, j->p1);
    return NULL;
}

static void stage_parallel(const double *tw, long N, const double *x, double *y, long n, long s, long r, int sign) {
    long m = n / r;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores > 8) cores = 8;
    if (N < (1L << 15) || cores < 2 || m < cores) { stage(tw, N, x, y, n, s, r, sign, 0, m); return; }
    pthread_t th[8];
    stage_job jobs[8];
    for (long c = 0; c < cores; c++) {
        jobs[c] = (stage_job){tw, N, x, y, n, s, r, sign, m * c / cores, m * (c + 1) / cores};
        if (c > 0 && pthread_create(&th[c], NULL, stage_thread, &jobs[c]) != 0) {
            stage_thread(&jobs[c]);
            th[c] = 0;
        }
    }
    stage_thread(&jobs[0]);
    for (long c = 1; c < cores; c++) if (th[c]) pthread_join(th[c], NULL);
}

zoo_fft_plan *zoo_fft_plan_create(long n) {
    struct zoo_fft_plan *p = calloc(1, sizeof *p);
    p->n = n;
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
        p->sub = zoo_fft_plan_create(m);
        p->chirp = malloc((size_t)n * 2 * sizeof(double));
        for (long k = 0; k < n; k++) {
            long k2 = (long)(((unsigned long long)k * (unsigned long long)k) % (unsigned long long)(2 * n));
            double a = -M_PI * (double)k2 / (double)n;
            p->chirp[2 * k] = cos(a);
            p->chirp[2 * k + 1] = sin(a);
        }
        double *b = calloc((size_t)m * 2, sizeof(double));
        for (long k = 0; k < n; k++) {
            b[2 * k] = p->chirp[2 * k]; b[2 * k + 1] = -p->chirp[2 * k + 1];
            if (k > 0) { b[2 * (m - k)] = p->chirp[2 * k]; b[2 * (m - k) + 1] = -p->chirp[2 * k + 1]; }
        }
        p->bhat = malloc((size_t)m * 2 * sizeof(double));
        zoo_fft_execute(p->sub, b, p->bhat, -1);
        free(b);
        p->nf = 0;
        return p;
    }
    p->tw = malloc((size_t)(n > 0 ? n : 1) * 2 * sizeof(double));
    make_twiddles(p->tw, n);
    return p;
}

void zoo_fft_plan_destroy(zoo_fft_plan *p) {
    if (!p) return;
    free(p->tw);
    free(p->chirp);
    free(p->bhat);
    zoo_fft_plan_destroy(p->sub);
    free(p);
}

void zoo_fft_execute(const zoo_fft_plan *p, const double *in, double *out, int sign) {
    long n = p->n;
    if (n == 0) return;
    if (!p->sub) {
        double *buf = malloc((size_t)n * 2 * sizeof(double));
        double *x = out, *y = buf;
        memcpy(out, in, (size_t)n * 2 * sizeof(double));
        long len = n, s = 1;
        for (int f = 0; f < p->nf; f++) {
            long r = p->factors[f];
            stage_parallel(p->tw, n, x, y, len, s, r, sign);
            len /= r; s *= r;
            double *t = x; x = y; y = t;
        }
        if (x != out) memcpy(out, x, (size_t)n * 2 * sizeof(double));
        free(buf);
        return;
    }
    /* Bluestein. For sign +1 conjugate input and output around the sign -1 transform. */
    long m = p->m;
    double *a = calloc((size_t)m * 2, sizeof(double)), *A = malloc((size_t)m * 2 * sizeof(double));
    for (long k = 0; k < n; k++) {
        double xr = in[2 * k], xi = sign > 0 ? -in[2 * k + 1] : in[2 * k + 1];
        double cr = p->chirp[2 * k], ci = p->chirp[2 * k + 1];
        a[2 * k] = xr * cr - xi * ci;
        a[2 * k + 1] = xr * ci + xi * cr;
    }
    zoo_fft_execute(p->sub, a, A, -1);
    for (long k = 0; k < m; k++) {
        double ar = A[2 * k], ai = A[2 * k + 1], br = p->bhat[2 * k], bi = p->bhat[2 * k + 1];
        a[2 * k] = ar * br - ai * bi;
        a[2 * k + 1] = ar * bi + ai * br;
    }
    zoo_fft_execute(p->sub, a, A, +1);
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
}

void zoo_fft_line(const zoo_fft_plan *p, const float *in, int in_kind, long len_in,
                  float *out, long len_out, int out_real, int sign, double scale) {
    long n = p->n;
    double *a = malloc((size_t)n * 4 * sizeof(double));
    double *b = a + 2 * n;
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
    zoo_fft_execute(p, a, b, sign);
    if (out_real) for (long i = 0; i < len_out; i++) out[i] = (float)(b[2 * i] * scale);
    else for (long i = 0; i < 2 * len_out; i++) out[i] = (float)(b[i] * scale);
    free(a);
}
