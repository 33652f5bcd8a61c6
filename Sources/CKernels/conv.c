#include "ckernels_ops.h"
#include "zoo_kernel_support.h"
#include <stdlib.h>
#include <string.h>

/* Direct 2-D convolution, channels-last float32, as an implicit GEMM: no im2col panel.
   Each work item (one image, a band of output rows) copies the input rows it reads into a
   zero-padded slab small enough for L2; a register tile of 6 output pixels x 16 output
   channels then runs over every kernel tap and input channel, reading pixels straight from
   the slab and the weights from a panel packed 16 output channels wide. */

#define CONV_MR 6
#define CONV_NR 16

long zoo_conv2d_packed_floats(long Co, long K) {
    return ((Co + CONV_NR - 1) / CONV_NR) * K * CONV_NR;
}

void zoo_conv2d_pack_weights(const float *w, float *packed, long Co, long K) {
    long blocks = (Co + CONV_NR - 1) / CONV_NR;
    for (long b = 0; b < blocks; b++) {
        float *dst = packed + b * K * CONV_NR;
        for (long k = 0; k < K; k++)
            for (long j = 0; j < CONV_NR; j++) {
                long o = b * CONV_NR + j;
                dst[k * CONV_NR + j] = o < Co ? w[o * K + k] : 0.0f;
            }
    }
}

/* Output rows per work item: the slab of input rows they read stays near 96 KiB. */
long zoo_conv2d_band_rows(long W, long C, long KH, long sh, long dh, long pw) {
    long row = (W + 2 * pw) * C * (long)sizeof(float);
    long budget = (96L << 10) / (row > 0 ? row : 1);
    long span = (KH - 1) * dh + 1;
    long r = budget > span ? (budget - span) / sh + 1 : 1;
    return r < 1 ? 1 : (r > 64 ? 64 : r);
}

ZOO_MULTIVERSION
static void conv_tile(const float *const *a, const long *toff, long taps, long C, const float *wk,
                      float *const *o, long np, long nc) {
    zoo_tile6x16(a, toff, taps, C, wk, o, np, nc, 0);
}

int zoo_conv2d_f32(const float *x, const float *packed, float *out,
                   long H, long W, long C, long Ho, long Wo, long Co, long KH, long KW,
                   long sh, long sw, long ph, long pw, long dh, long dw,
                   long band, long item0, long item1) {
    long Wp = W + 2 * pw, span = (KH - 1) * dh + 1;
    long slabRows = (band - 1) * sh + span;
    float *slab = malloc((size_t)(slabRows * Wp * C) * sizeof(float));
    long *toff = malloc((size_t)(KH * KW) * sizeof(long));
    if (!slab || !toff) { free(slab); free(toff); return -1; }
    for (long ky = 0; ky < KH; ky++)
        for (long kx = 0; kx < KW; kx++) toff[ky * KW + kx] = (ky * dh * Wp + kx * dw) * C;
    long bands = (Ho + band - 1) / band, K = KH * KW * C;
    long blocks = (Co + CONV_NR - 1) / CONV_NR;
    for (long item = item0; item < item1; item++) {
        long n = item / bands, oy0 = (item % bands) * band;
        long rows = Ho - oy0 < band ? Ho - oy0 : band;
        /* Slab row r holds input row oy0 * sh - ph + r, columns -pw ..< W + pw. */
        long iy0 = oy0 * sh - ph, used = (rows - 1) * sh + span;
        const float *xn = x + n * H * W * C;
        for (long r = 0; r < used; r++) {
            float *dst = slab + r * Wp * C;
            long iy = iy0 + r;
            if (iy < 0 || iy >= H) { memset(dst, 0, (size_t)(Wp * C) * sizeof(float)); continue; }
            memset(dst, 0, (size_t)(pw * C) * sizeof(float));
            memcpy(dst + pw * C, xn + iy * W * C, (size_t)(W * C) * sizeof(float));
            memset(dst + (pw + W) * C, 0, (size_t)(pw * C) * sizeof(float));
        }
        float *on = out + (n * Ho + oy0) * Wo * Co;
        long P = rows * Wo;
        for (long b = 0; b < blocks; b++) {
            long nc = Co - b * CONV_NR < CONV_NR ? Co - b * CONV_NR : CONV_NR;
            const float *wk = packed + b * K * CONV_NR;
            for (long p0 = 0; p0 < P; p0 += CONV_MR) {
                long np = P - p0 < CONV_MR ? P - p0 : CONV_MR;
                const float *a[CONV_MR];
                float *o[CONV_MR];
                for (long i = 0; i < CONV_MR; i++) {
                    long p = p0 + (i < np ? i : np - 1);
                    long r = p / Wo, ox = p % Wo;
                    a[i] = slab + (r * sh * Wp + ox * sw) * C;
                    o[i] = on + p * Co + b * CONV_NR;
                }
                conv_tile(a, toff, KH * KW, C, wk, o, np, nc);
            }
        }
    }
    free(slab);
    free(toff);
    return 0;
}
