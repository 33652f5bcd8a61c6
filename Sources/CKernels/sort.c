#include "ckernels_ops.h"
#include <string.h>

void zoo_float_keys(const float *x, uint32_t *keys, long n) {
    for (long i = 0; i < n; i++) {
        float v = x[i];
        uint32_t u;
        if (v != v) { keys[i] = 0xFFFFFFFFu; continue; }
        if (v == 0) v = 0;  /* -0 sorts with +0 */
        memcpy(&u, &v, 4);
        keys[i] = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    }
}

/* 11-bit digits: three passes cover 32 bits. Passes whose digit is the same for every key
   are skipped. */
void zoo_radix_sort_u32(uint32_t *keys, uint32_t *idx, long n, uint32_t *tk, uint32_t *ti) {
    enum { BITS = 11, BUCKETS = 1 << BITS };
    static const int shifts[3] = {0, 11, 22};
    long counts[3][BUCKETS];
    memset(counts, 0, sizeof counts);
    for (long i = 0; i < n; i++) {
        uint32_t k = keys[i];
        counts[0][k & (BUCKETS - 1)]++;
        counts[1][(k >> 11) & (BUCKETS - 1)]++;
        counts[2][k >> 22]++;
    }
    uint32_t *src_k = keys, *src_i = idx, *dst_k = tk, *dst_i = ti;
    for (int p = 0; p < 3; p++) {
        long *c = counts[p];
        int trivial = 0;
        for (int b = 0; b < BUCKETS; b++) if (c[b] == n) { trivial = 1; break; }
        if (trivial) continue;
        long sum = 0;
        for (int b = 0; b < BUCKETS; b++) { long t = c[b]; c[b] = sum; sum += t; }
        int sh = shifts[p];
        if (idx) {
            for (long i = 0; i < n; i++) {
                uint32_t k = src_k[i];
                long pos = c[(k >> sh) & (BUCKETS - 1)]++;
                dst_k[pos] = k;
                dst_i[pos] = src_i[i];
            }
        } else {
            for (long i = 0; i < n; i++) {
                uint32_t k = src_k[i];
                dst_k[c[(k >> sh) & (BUCKETS - 1)]++] = k;
            }
        }
        uint32_t *t = src_k; src_k = dst_k; dst_k = t;
        t = src_i; src_i = dst_i; dst_i = t;
    }
    if (src_k != keys) {
        memcpy(keys, src_k, (size_t)n * 4);
        if (idx) memcpy(idx, src_i, (size_t)n * 4);
    }
}
