#ifndef ZOO_CKERNELS_OPS_H
#define ZOO_CKERNELS_OPS_H
#include <stddef.h>
#include <stdint.h>

/* Fused single-pass kernels for Engine's `Fast` ops and affine quantization.
   Element types: dtype 0 = float32, 1 = float16, 2 = bfloat16 (storage bits in uint16).
   Every kernel handles a range of rows/heads so the caller can spread work over threads.
   Arithmetic is float32 throughout; results are rounded once to the output type. */

/* RMS norm over `rows` rows [row0, row1) of length n; x rows start x_row_stride elements
   apart (elements contiguous within a row); out is row-contiguous. w may be NULL. */
void zoo_rms_norm(const void *x, long x_row_stride, const void *w, void *out,
                  long row0, long row1, long n, float eps, int dtype);

/* silu(g) * u over rows [row0, row1) of n floats (row strides in elements; out dense). */
void zoo_swiglu_f32(const float *g, long g_row_stride, const float *u, long u_row_stride, float *out,
                    long row0, long row1, long n);

/* Layer norm; w and b may be NULL. */
void zoo_layer_norm(const void *x, long x_row_stride, const void *w, const void *b, void *out,
                    long row0, long row1, long n, float eps, int dtype);

/* Rotary embedding of heads [h0, h1) of x viewed as [B, N, T, D] with element strides
   (sb, sn, st) and unit stride along D; out is row-contiguous [B, N, T, D].
   inv_freq holds dims/2 inverse frequencies; position of step t is (t + offset) * scale. */
void zoo_rope(const void *x, long sb, long sn, long st, void *out,
              long N, long T, long D, long h0, long h1,
              int dims, int traditional, const float *inv_freq, float scale, long offset, int dtype);

/* Scaled dot-product attention for float32 rows. q: [B, Hq, Lq, D] with strides qs[4],
   k/v: [B, Hk, Lk, D] with strides ks[4]/vs[4] (last stride 1), out row-contiguous
   [B, Hq, Lq, D]. mask_kind: 0 none, 1 causal (bottom-right aligned), 2 additive float32 mask
   with strides ms[4] over [B, Hq, Lq, Lk]. Processes flattened query rows [r0, r1) of
   B*Hq*Lq. scratch: at least Lk floats. */
void zoo_sdpa_f32(const float *q, const long *qs, const float *k, const long *ks,
                  const float *v, const long *vs, float *out,
                  long B, long Hq, long Hk, long Lq, long Lk, long D, float scale,
                  int mask_kind, const float *mask, const long *ms,
                  long r0, long r1, float *scratch);

/* Attention without an explicit mask (causal = 1: key j visible to query i when
   j <= i + Lk - Lq, as MLX aligns it), float32, with an online softmax over key blocks.
   q: [B, Hq, Lq, D] and k/v: [B, Hk, Lk, D] with element strides qs/ks/vs (last stride 1);
   out row-contiguous [B, Hq, Lq, D]. Work is split into B * Hk * ceil(Lq / qtile) * kchunks
   tasks; `task` picks one (run them all, in any order or at once). A task covers query rows of
   one tile for all Hq / Hk heads sharing a key/value head, over one of kchunks key ranges.
   kchunks == 1: rows are written to out. kchunks > 1: partial must hold
   kchunks * B * Hq * Lq * (D + 2) floats, and zoo_flash_sdpa_merge_f32 over all rows then
   writes out. Rows that see no key become NaN (as MLX). */
void zoo_flash_sdpa_f32(const float *q, const long *qs, const float *k, const long *ks,
                        const float *v, const long *vs, float *out,
                        long B, long Hq, long Hk, long Lq, long Lk, long D, float scale, int causal,
                        long qtile, long kchunks, float *partial, long task);
/* Combines the kchunks partial results of rows [r0, r1) (of `rows` = B * Hq * Lq) into out. */
void zoo_flash_sdpa_merge_f32(float *out, const float *partial, long rows, long D, long kchunks,
                              long r0, long r1);

/* Masked softmax of attention score rows [r0, r1) of a [rows, Lk] block whose row r is query
   r % Lq of local head r / Lq. mask_kind 1: causal (key j visible when j <= i + Lk - Lq);
   2: additive mask, row r reads mask[(r / Lq) * ms_h + (r % Lq) * ms_i + j * ms_j].
   Masked entries become 0; a row with every key masked becomes NaN (as MLX). */
void zoo_attention_softmax(float *s, long r0, long r1, long Lq, long Lk, int mask_kind,
                           const float *mask, long ms_h, long ms_i, long ms_j);

/* MLX affine quantization of rows [row0, row1) of a row-contiguous w [rows, K]:
   packed codes (a little-endian bit stream per row, K*bits/32 uint32 words), scales and
   biases [rows, K/group] in w's dtype. */
void zoo_affine_quantize(const void *w, uint32_t *wq, void *scales, void *biases,
                         long row0, long row1, long K, int group, int bits, int dtype);

/* Inverse: out = scale * q + bias, rounded to the dtype after each operation as MLX does. */
void zoo_affine_dequantize(const uint32_t *wq, const void *scales, const void *biases, void *out,
                           long row0, long row1, long K, int group, int bits, int dtype);

/* y[m, n] = sum_k x[m, k] * W[n, k] for n in [n0, n1): W packed [N, K] (transpose = true),
   x float32 [M, K] row-contiguous, scales/biases float32 [N, K/group]; y [M, N]. */
void zoo_qmv_t(const float *x, long M, long K, const uint32_t *wq, const float *scales,
               const float *biases, float *y, long N, long n0, long n1, int group, int bits);

/* y[m, n] = sum_k x[m, k] * W[k, n] for n in [n0, n1) (a multiple of group): W packed
   [K, N] (transpose = false), scales/biases [K, N/group]. */
/* The generation path's quantized GEMV (bits 4 and 8, group a multiple of 32; see
   zoo_qmv_i16_supported): x is first rounded per group to int16 by zoo_qmv_prepare_i16
   (xq [M, K], xscale and xsum [M, K / group]; returns 0 when x holds inf or NaN, then the
   float kernel must be used), then each packed row is dotted in 16-bit integer lanes.
   Scales and biases are float32 (sdt 0), float16 (1) or bfloat16 (2). biases may be NULL for
   symmetric codes: each bias is then -2^(bits-1) times its scale, and only the scales are read. */
int zoo_qmv_i16_supported(int group, int bits);
int zoo_qmv_prepare_i16(const float *x, long M, long K, int group, int bits, int16_t *xq, float *xscale,
                        float *xsum);
void zoo_qmv_t_i16(const int16_t *xq, const float *xscale, const float *xsum, long M, long K,
                   const uint32_t *wq, const void *scales, const void *biases, int sdt,
                   float *y, long N, long n0, long n1, int group, int bits);
void zoo_qmv_n(const float *x, long M, long K, const uint32_t *wq, const float *scales,
               const float *biases, float *y, long N, long n0, long n1, int group, int bits);

/* y[m * ldy + n] = sum_k x[m * ldx + k] * w[n * ldw + k] for n in [n0, n1), w float16 (bf16 = 0)
   or bfloat16 (bf16 = 1) widened in registers (gemv.c). */
void zoo_gemv_half_t(const float *x, long M, long K, long ldx, const uint16_t *w, long ldw,
                     float *y, long ldy, long n0, long n1, int bf16);
/* The same with a float32 matrix. */
void zoo_gemv_f32_t(const float *x, long M, long K, long ldx, const float *w, long ldw,
                    float *y, long ldy, long n0, long n1);

/* Quantized GEMM for M >= 8 rows of x: W is dequantized a few rows at a time into scratch
   (zoo_qgemm_scratch_floats(K) floats per concurrent call) and multiplied by float32 register
   tiles, never dequantized whole. Values as dequantize-then-GEMM up to float32 summation order.
   Scales and biases: float32 (sdt 0), float16 (1) or bfloat16 (2); y [M, N] row-contiguous.
   transpose (W packed [N, K]): x is first packed by zoo_qgemm_pack_x into
   zoo_qgemm_packed_floats(M, K) floats (panels [p0, p1) of 16 rows, for splitting over
   threads); zoo_qgemm_t writes columns [n0, n1) of y.
   not transposed (W packed [K, N]): zoo_qgemm_n reads x [M, K] directly and writes columns
   [n0, n1) of y, n0 a multiple of 16. */
long zoo_qgemm_packed_floats(long M, long K);
long zoo_qgemm_scratch_floats(long K);
void zoo_qgemm_pack_x(const float *x, long M, long K, float *packed, long p0, long p1);
void zoo_qgemm_t(const float *packed, long M, long K, const uint32_t *wq, const void *scales,
                 const void *biases, int sdt, float *y, long N, long n0, long n1, int group, int bits,
                 float *scratch);
void zoo_qgemm_n(const float *x, long M, long K, const uint32_t *wq, const void *scales,
                 const void *biases, int sdt, float *y, long N, long n0, long n1, int group, int bits,
                 float *scratch);
/* The same GEMM with a float16 (bf16 0) or bfloat16 (bf16 1) matrix W [N, K] (rows ldw
   apart) used transposed: x packed by zoo_qgemm_pack_x, rows of W widened to float32 a strip
   at a time (exactly), zoo_qgemm_scratch_floats(K) floats of scratch per concurrent call. */
void zoo_hgemm_t(const float *packed, long M, long K, const uint16_t *w, long ldw, int bf16,
                 float *y, long N, long n0, long n1, float *scratch);

/* Direct 2-D convolution, channels-last float32, groups 1: x [N, H, W, C], weights packed by
   zoo_conv2d_pack_weights from [Co, KH, KW, C] (K = KH * KW * C) into blocks of 16 output
   channels, out [N, Ho, Wo, Co]. Work items are bands of `band` output rows (from
   zoo_conv2d_band_rows) of one image, numbered image-major; runs items [item0, item1).
   Returns 0, or -1 when its scratch rows cannot be allocated. */
long zoo_conv2d_packed_floats(long Co, long K);
void zoo_conv2d_pack_weights(const float *w, float *packed, long Co, long K);
long zoo_conv2d_band_rows(long W, long C, long KH, long sh, long dh, long pw);
int zoo_conv2d_f32(const float *x, const float *packed, float *out,
                   long H, long W, long C, long Ho, long Wo, long Co, long KH, long KW,
                   long sh, long sw, long ph, long pw, long dh, long dw,
                   long band, long item0, long item1);

/* Complex FFT of any length (interleaved re/im doubles): mixed radix 2/3/4/5 with generic
   radices for other small primes, Bluestein's chirp-z for lengths with a prime factor > 64,
   and from 2^15 points a four-step split over all cores. A plan is read-only once made, so
   several threads may execute it at once. Plans are NULL when out of memory. */
typedef struct zoo_fft_plan zoo_fft_plan;
zoo_fft_plan *zoo_fft_plan_create(long n);
/* A plan for real input of even length n >= 2 only (zoo_fft_line with in_kind 1, complex
   output, len_out n or n/2 + 1): one complex transform of length n/2 and a twiddle pass.
   NULL for odd n. */
zoo_fft_plan *zoo_fft_plan_create_real(long n);
void zoo_fft_plan_destroy(zoo_fft_plan *p);
/* out = sum_j in[j] * exp(sign * 2 pi i j k / n); in and out must not overlap.
   Returns 0, or -1 when out of memory (or given a real-input plan). */
int zoo_fft_execute(const zoo_fft_plan *p, const double *in, double *out, int sign);

/* One line of a float32 transform of length n with plan p: input kind 0 = complex64 (n values),
   1 = real (n values), 2 = the first len_in coefficients of a Hermitian spectrum (completed
   by symmetry); output the first len_out values, complex64 or (out_real) their real parts,
   times scale. work: zoo_fft_work_size(p) doubles that no other call uses meanwhile (the
   caller's, so a cache of buffers can recycle them). Returns 0, or -1 when out of memory
   (Bluestein lengths allocate their own) or when the plan does not fit the kinds. */
long zoo_fft_work_size(const zoo_fft_plan *p);
int zoo_fft_line(const zoo_fft_plan *p, const float *in, int in_kind, long len_in,
                 float *out, long len_out, int out_real, int sign, double scale, double *work);

/* Stable LSD radix sort of n 32-bit keys (ascending), carrying idx along when not NULL.
   tmp_keys/tmp_idx: scratch of n elements each. */
void zoo_radix_sort_u32(uint32_t *keys, uint32_t *idx, long n, uint32_t *tmp_keys, uint32_t *tmp_idx);

/* Order-preserving 32-bit keys of float32 values: NaN (any sign) after +inf, -0 == +0. */
void zoo_float_keys(const float *x, uint32_t *keys, long n);

#endif
