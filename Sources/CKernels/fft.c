#include "ckernels_ops.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* Recursive decimation in time. in: stride `is` (complex elements), out contiguous. */
static void rec(const struct zoo_fft_plan *p, int level, const double *in, long is, double *out, long n, long twstep,
                int sign, double *tmp) {
    if (n == 1) { out[0] = in[0]; out[1] = in[1]; return; }
    long r = p->factors[level], m = n / r;
    for (long q = 0; q < r; q++) rec(p, level + 1, in + 2 * q * is, is * r, out + 2 * q * m, m, twstep * r, sign, tmp);
    /* combine: X[k + j m] = sum_q w_n^{q k} Y_q[k] w_r^{q j} */
    const double *tw = p->tw;
    long N = p->n;
    double *y = tmp;  /* r complex values */
    for (long k = 0; k < m; k++) {
        for (long q = 0; q < r; q++) {
            double yr = out[2 * (q * m + k)], yi = out[2 * (q * m + k) + 1];
            long t = q * k * twstep;  /* < N: q < r, k < m, twstep = N / (r m) */
            double wr = tw[2 * t], wi = sign * tw[2 * t + 1];
            y[2 * q] = yr * wr - yi * wi;
            y[2 * q + 1] = yr * wi + yi * wr;
        }
        if (r == 2) {
            out[2 * k] = y[0] + y[2]; out[2 * k + 1] = y[1] + y[3];
            out[2 * (k + m)] = y[0] - y[2]; out[2 * (k + m) + 1] = y[1] - y[3];
        } else if (r == 4) {
            double a0r = y[0] + y[4], a0i = y[1] + y[5], a1r = y[0] - y[4], a1i = y[1] - y[5];
            double b0r = y[2] + y[6], b0i = y[3] + y[7], b1r = y[2] - y[6], b1i = y[3] - y[7];
            double s = (double)sign;  /* sign -1 forward: w4 = -i */
            /* w4^1 = cos(s*pi/2) + i sin(s*pi/2) = i*s */
            double t1r = -s * b1i, t1i = s * b1r;
            out[2 * k] = a0r + b0r; out[2 * k + 1] = a0i + b0i;
            out[2 * (k + m)] = a1r + t1r; out[2 * (k + m) + 1] = a1i + t1i;
            out[2 * (k + 2 * m)] = a0r - b0r; out[2 * (k + 2 * m) + 1] = a0i - b0i;
            out[2 * (k + 3 * m)] = a1r - t1r; out[2 * (k + 3 * m) + 1] = a1i - t1i;
        } else {
            for (long j = 0; j < r; j++) {
                double sr = 0, si = 0;
                for (long q = 0; q < r; q++) {
                    long t = ((q * j) % r) * (N / r);
                    double wr = tw[2 * t], wi = sign * tw[2 * t + 1];
                    sr += y[2 * q] * wr - y[2 * q + 1] * wi;
                    si += y[2 * q] * wi + y[2 * q + 1] * wr;
                }
                out[2 * (k + j * m)] = sr;
                out[2 * (k + j * m) + 1] = si;
            }
        }
    }
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
        double tmp[2 * 64 + 2];
        rec(p, 0, in, 1, out, n, 1, sign, tmp);
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
