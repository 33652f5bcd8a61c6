/// GLSL compute shaders, one per op family. Variants come from `#define`s written in
/// front of the body by `VulkanShaderBuilder` (element types, op expressions, layouts).
///
/// Conventions every body relies on: for each operand X (A, B, O) the builder defines
/// `X_T` (storage type), `LOAD_X(v)` (storage -> compute value) and, for the output,
/// `STORE_O(v)`; `C_T` is the compute type. Push constants are at most 128 bytes.
enum VulkanKernelSources {
    /// Unary and binary elementwise ops over strided operands (up to 8 dims after merging
    /// contiguous dims). `MODE_A`/`MODE_B`: 0 strided, 1 contiguous, 2 one element.
    /// The output is contiguous. Invocation i handles output element i.
    static let elementwise = #"""
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer BufA { A_T a_data[]; };
#ifdef BINARY
layout(std430, binding = 1) readonly buffer BufB { B_T b_data[]; };
layout(std430, binding = 2) writeonly buffer BufO { O_T o_data[]; };
#else
layout(std430, binding = 1) writeonly buffer BufO { O_T o_data[]; };
#endif
layout(push_constant) uniform Params {
    int n; int ndim; int offA; int offB;
    int shape[8]; int strideA[8]; int strideB[8];
} p;

void main() {
    int i = int((gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x);
    if (i >= p.n) return;
    int ia = p.offA;
    int ib = p.offB;
#if MODE_A == 1
    ia += i;
#endif
#if MODE_B == 1
    ib += i;
#endif
#if MODE_A == 0 || MODE_B == 0
    uint rem = uint(i);
    for (int d = p.ndim - 1; d >= 0; --d) {
        uint extent = uint(p.shape[d]);
        int c = int(rem % extent);
        rem /= extent;
#if MODE_A == 0
        ia += c * p.strideA[d];
#endif
#if MODE_B == 0
        ib += c * p.strideB[d];
#endif
    }
#endif
    C_T x = LOAD_A(a_data[ia]);
#ifdef BINARY
    C_T y = LOAD_B(b_data[ib]);
    o_data[i] = STORE_O(OP(x, y));
#else
    o_data[i] = STORE_O(OP(x));
#endif
}
"""#

    /// Reduction of a strided input over a set of axes: output element o (row-major over
    /// the kept dims) combines the `nRed` elements of its reduced sub-array.
    /// `ROWS`: one workgroup per output (shared-memory tree); otherwise one invocation
    /// per output (many short reductions). `SPLIT` (with `ROWS`): the first pass of a long
    /// reduction, workgroup g combining elements [c·chunk, (c+1)·chunk) of output g / parts
    /// (c = g % parts) into accumulator g; a second dispatch reduces those. `ACC_T`, `INIT`,
    /// `COMBINE(acc, v)`, `VALUE(x)` (loaded value -> accumulator) and `FINISH(acc)` come
    /// from the builder.
    static let reduce = #"""
#define WG 256
layout(local_size_x = WG) in;
layout(std430, binding = 0) readonly buffer BufA { A_T a_data[]; };
layout(std430, binding = 1) writeonly buffer BufO { O_T o_data[]; };
layout(push_constant) uniform Params {
    int nOut; int nRed; int off; int nk; int nr; int chunk; int parts; int pad0;
    int kshape[6]; int kstride[6]; int rshape[6]; int rstride[6];
} p;

int keptOffset(int o) {
    int base = p.off;
    uint rem = uint(o);
    for (int d = p.nk - 1; d >= 0; --d) {
        uint extent = uint(p.kshape[d]);
        base += int(rem % extent) * p.kstride[d];
        rem /= extent;
    }
    return base;
}

int reducedOffset(int r) {
#ifdef RED_1D
    return r * p.rstride[0];
#else
    int off = 0;
    uint rem = uint(r);
    for (int d = p.nr - 1; d >= 0; --d) {
        uint extent = uint(p.rshape[d]);
        off += int(rem % extent) * p.rstride[d];
        rem /= extent;
    }
    return off;
#endif
}

#ifdef ROWS
shared ACC_T partial[WG];
void main() {
    int g = int(gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x);
#ifdef SPLIT
    int o = g / p.parts;
    int begin = (g - o * p.parts) * p.chunk;
    int end = min(begin + p.chunk, p.nRed);
#else
    int o = g;
    int begin = 0;
    int end = p.nRed;
#endif
    if (o >= p.nOut) return;
    uint t = gl_LocalInvocationID.x;
    int base = keptOffset(o);
    ACC_T acc = INIT;
    for (int r = begin + int(t); r < end; r += WG) {
        acc = COMBINE(acc, VALUE(LOAD_A(a_data[base + reducedOffset(r)])));
    }
    partial[t] = acc;
    barrier();
    for (uint s = WG / 2; s > 0u; s >>= 1) {
        if (t < s) partial[t] = COMBINE(partial[t], partial[t + s]);
        barrier();
    }
    if (t == 0u) o_data[g] = STORE_O(FINISH(partial[0]));
}
#else
void main() {
    int o = int((gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * WG + gl_LocalInvocationID.x);
    if (o >= p.nOut) return;
    int base = keptOffset(o);
    ACC_T acc = INIT;
    for (int r = 0; r < p.nRed; ++r) {
        acc = COMBINE(acc, VALUE(LOAD_A(a_data[base + reducedOffset(r)])));
    }
    o_data[o] = STORE_O(FINISH(acc));
}
#endif
"""#

    /// Batched matrix product C[b] = A[b] B[b] with strided A [.., M, K] and B [.., K, N]
    /// (transposed and broadcast views included) and contiguous C. Each workgroup of
    /// 16x16 invocations computes a 64x64 tile through 64x16 / 16x64 shared-memory tiles;
    /// each invocation accumulates 4x4 outputs at a stride of 16 (conflict-free reads).
    /// `A_KFAST`/`B_NFAST` choose which index consecutive invocations load (coalescing).
    static let matmul = #"""
#define BM 64
#define BN 64
#define BK 16
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer BufA { A_T a_data[]; };
layout(std430, binding = 1) readonly buffer BufB { B_T b_data[]; };
layout(std430, binding = 2) writeonly buffer BufO { O_T o_data[]; };
layout(push_constant) uniform Params {
    int M; int N; int K; int offA; int offB; int sAm; int sAk; int sBk; int sBn; int nb; int pad0; int pad1;
    int bshape[4]; int bstrideA[4]; int bstrideB[4];
} p;

shared float As[BK][BM + 1];
shared float Bs[BK][BN + 1];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint tx = t % 16u;
    uint ty = t / 16u;
    int n0 = int(gl_WorkGroupID.x) * BN;
    int m0 = int(gl_WorkGroupID.y) * BM;
    int batch = int(gl_WorkGroupID.z);
    int baseA = p.offA;
    int baseB = p.offB;
    uint rem = uint(batch);
    for (int d = p.nb - 1; d >= 0; --d) {
        uint extent = uint(p.bshape[d]);
        int c = int(rem % extent);
        rem /= extent;
        baseA += c * p.bstrideA[d];
        baseB += c * p.bstrideB[d];
    }

    float acc[4][4];
    for (int i = 0; i < 4; ++i) for (int j = 0; j < 4; ++j) acc[i][j] = 0.0;

    for (int k0 = 0; k0 < p.K; k0 += BK) {
        for (int l = 0; l < 4; ++l) {
            int e = int(t) + 256 * l;
#ifdef A_KFAST
            int mm = e / BK, kk = e % BK;
#else
            int mm = e % BM, kk = e / BM;
#endif
            int m = m0 + mm, k = k0 + kk;
            As[kk][mm] = (m < p.M && k < p.K) ? LOAD_A(a_data[baseA + m * p.sAm + k * p.sAk]) : 0.0;
#ifdef B_NFAST
            int nn = e % BN, kb = e / BN;
#else
            int nn = e / BK, kb = e % BK;
#endif
            int n = n0 + nn, kg = k0 + kb;
            Bs[kb][nn] = (n < p.N && kg < p.K) ? LOAD_B(b_data[baseB + kg * p.sBk + n * p.sBn]) : 0.0;
        }
        barrier();
        for (int kk = 0; kk < BK; ++kk) {
            float a[4];
            float b[4];
            for (int i = 0; i < 4; ++i) a[i] = As[kk][ty + 16u * uint(i)];
            for (int j = 0; j < 4; ++j) b[j] = Bs[kk][tx + 16u * uint(j)];
            for (int i = 0; i < 4; ++i) for (int j = 0; j < 4; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier();
    }

    int baseO = batch * p.M * p.N;
    for (int i = 0; i < 4; ++i) {
        int m = m0 + int(ty) + 16 * i;
        if (m >= p.M) continue;
        for (int j = 0; j < 4; ++j) {
            int n = n0 + int(tx) + 16 * j;
            if (n < p.N) o_data[baseO + m * p.N + n] = STORE_O(acc[i][j]);
        }
    }
}
"""#
}
