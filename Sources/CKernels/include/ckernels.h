#ifndef ZOO_CKERNELS_H
#define ZOO_CKERNELS_H
#include <stddef.h>
#include <stdint.h>

/* Hot float32 loops. Compiled for the baseline ISA plus an AVX2/FMA/F16C clone
   chosen at load time, so one binary is both portable and fast. */

/* The CPU worker pool (pool.c): runs fn(ctx, i) for i in 0..<count on the calling thread and
   the pool's workers; returns when all are done. Nested or concurrent calls run inline. */
typedef void (*zoo_pool_task)(void *ctx, long index);
void zoo_pool_run(long count, zoo_pool_task fn, void *ctx);
/* Tells spinning workers to sleep now (before a long call into another thread pool, such as
   OpenBLAS's, whose threads need the cores). */
void zoo_pool_park(void);
/* Threads a job runs on (workers + the caller); ZOO_NUM_THREADS overrides the core count. */
int zoo_pool_threads(void);
/* Asks an idle (spinning) worker to pull up to 4 memory ranges into the cache: the weights the
   next matrix-vector product will stream, while the caller runs small serial kernels. Returns
   at once; the worker stops at the next job or request (and resumes a range it had started
   when asked again). Prefetch instructions only: never faults, even on freed memory.
   ZOO_POOL_PREFETCH=0 disables it. */
void zoo_pool_prefetch(const void *const *ptrs, const long *bytes, int count);

/* float32 GEMM on the pool (sgemm.c): C[M, N] = alpha · A[M, K] · B[K, N] with element
   strides (rsa, csa) for A and (rsb, csb) for B (any, including 0 and transposed layouts); C
   rows ldc apart. `packed` is scratch of packed_floats = zoo_sgemm_pack_floats(M, K, N)
   floats, 32-byte aligned (none, and NULL allowed, for few rows). Tasks are claimed dynamically by the pool's
   threads; the summation order of each element is fixed (k increasing, in blocks of 384), so
   results do not depend on the schedule. K == 0 writes zeros. */
long zoo_sgemm_pack_floats(long M, long K, long N);
/* Bound on the packed workspace (default 64 MiB; bytes <= 0 restores it); returns the previous
   one. Products past it pack K a group at a time. Read when a product starts. */
long zoo_sgemm_set_workspace_limit(long bytes);
void zoo_sgemm(long M, long N, long K, float alpha, const float *A, long rsa, long csa, const float *B, long rsb,
               long csb, float *C, long ldc, float *packed, long packed_floats);

/* op: 0 add, 1 subtract, 2 multiply, 3 divide, 4 maximum, 5 minimum.
   sa/sb: 0 = broadcast scalar, 1 = contiguous. */
void zoo_binary_f32(int op, const float *a, long sa, const float *b, long sb, float *out, long n);

/* op: 0 exp, 1 negative, 2 abs, 3 square, 4 sqrt, 5 sigmoid, 6 tanh, 7 log, 8 rsqrt, 9 reciprocal. */
void zoo_unary_f32(int op, const float *x, float *out, long n);

/* Sum / max / min of a contiguous run (float32 accumulation in 32 lanes). */
float zoo_sum_f32(const float *x, long n);
/* Index of the first largest (is_max = 1) or smallest value, or of the first NaN. */
long zoo_argext_f32(const float *x, long n, int is_max);
float zoo_max_f32(const float *x, long n);
float zoo_min_f32(const float *x, long n);
double zoo_sum_f64(const double *x, long n);
/* sum of f16 / bf16 runs accumulated in float32 */
float zoo_sum_f16(const uint16_t *x, long n);
float zoo_sum_bf16(const uint16_t *x, long n);

/* softmax (and log-softmax when log != 0) over `rows` contiguous rows of length n. */
void zoo_softmax_f32(const float *x, float *out, long rows, long n, int log);

/* Conversions. */
void zoo_f16_to_f32(const uint16_t *x, float *out, long n);
void zoo_f32_to_f16(const float *x, uint16_t *out, long n);
void zoo_bf16_to_f32(const uint16_t *x, float *out, long n);
void zoo_f32_to_bf16(const float *x, uint16_t *out, long n);

/* Vectorisable exp with about 1 ulp error (range reduction + degree-6 polynomial). */
float zoo_expf(float x);

#include "ckernels_ops.h"

#endif
