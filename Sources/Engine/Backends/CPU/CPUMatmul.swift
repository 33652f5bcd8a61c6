import CBLAS
import CKernels
import Foundation

/// Batched matrix product a[..., M, K] @ b[..., K, N] through OpenBLAS; batch dims are
/// already broadcast to equal shapes. Transposed operands are passed to BLAS as such, without copying.
struct MatmulPrimitive: Primitive {
    var name: String { "matmul" }
    func isEquivalent(to other: any Primitive) -> Bool { other is MatmulPrimitive }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        var a = inputs[0], b = inputs[1]
        let nd = a.ndim
        let M = a.shape[nd - 2], K = a.shape[nd - 1], N = b.shape[nd - 1]
        let compute: DType = spec.dtype == .float64 || spec.dtype == .complex64 ? spec.dtype : .float32
        let batchShape = Array(spec.shape.dropLast(2))
        let batch = batchShape.reduce(1, *)
        if let y = rowWeightGEMV(a, b, spec: spec, M: M, K: K, N: N, batch: batch) { return [y] }
        if let y = halfWeightGEMM(a, b, spec: spec, M: M, K: K, N: N, batch: batch) { return [y] }
        if a.dtype != compute { a = convertKeepingLayout(a, to: compute) }
        if b.dtype != compute { b = convertKeepingLayout(b, to: compute) }
        let out = ArrayData(allocating: spec.shape, dtype: compute)
        if batch * M * N == 0 { return [finish(out, spec)] }
        if K == 0 {
            memset(out.writePointer, 0, out.count * compute.size)
            return [finish(out, spec)]
        }
        if compute == .float32, pooledSGEMM(a, b, out: out, batchShape: batchShape, M: M, K: K, N: N) {
            return [finish(out, spec)]
        }
        let (aLayout, aMat) = blasLayout(a, rows: M, cols: K)
        let (bLayout, bMat) = blasLayout(b, rows: K, cols: N)
        a = aMat; b = bMat
        let batchA = batchLayout(a, batchShape), batchB = batchLayout(b, batchShape)
        let pa = a.pointer, pb = b.pointer, po = out.writePointer
        let es = compute.size
        // OpenBLAS runs big products on its own threads: our spinning workers make way.
        if batch * M * N * K >= CPU.blasParkWork { zoo_pool_park() }
        for i in 0..<batch {
            let offA = batchOffset(batchA, i), offB = batchOffset(batchB, i)
            let A = pa + offA * es, B = pb + offB * es, C = po + i * M * N * es
            if compute == .float32 {
                cblas_sgemm(CblasRowMajor, aLayout.trans, bLayout.trans, Int32(M), Int32(N), Int32(K), 1,
                            A.assumingMemoryBound(to: Float.self), Int32(aLayout.ld),
                            B.assumingMemoryBound(to: Float.self), Int32(bLayout.ld), 0,
                            C.assumingMemoryBound(to: Float.self), Int32(N))
            } else if compute == .complex64 {
                var one = Complex64(1, 0), zero = Complex64(0, 0)
                cblas_cgemm(CblasRowMajor, aLayout.trans, bLayout.trans, Int32(M), Int32(N), Int32(K), &one,
                            A, Int32(aLayout.ld), B, Int32(bLayout.ld), &zero, C, Int32(N))
            } else {
                cblas_dgemm(CblasRowMajor, aLayout.trans, bLayout.trans, Int32(M), Int32(N), Int32(K), 1,
                            A.assumingMemoryBound(to: Double.self), Int32(aLayout.ld),
                            B.assumingMemoryBound(to: Double.self), Int32(bLayout.ld), 0,
                            C.assumingMemoryBound(to: Double.self), Int32(N))
            }
        }
        return [finish(out, spec)]
    }

    /// float32 products big enough to spread over threads run on the pool (`CPU.sgemm`), each
    /// operand read through its strides (transposed, sliced or broadcast views, no copy).
    /// false (nothing written) below that size.
    private func pooledSGEMM(_ a: ArrayData, _ b: ArrayData, out: ArrayData, batchShape: [Int],
                             M: Int, K: Int, N: Int) -> Bool {
        guard CPU.usesPooledSGEMM(M: M, N: N, K: K) else { return false }
        let nd = a.ndim
        let batchA = batchLayout(a, batchShape), batchB = batchLayout(b, batchShape)
        let pa = a.pointer.assumingMemoryBound(to: Float.self), pb = b.pointer.assumingMemoryBound(to: Float.self)
        let po = out.writePointer.assumingMemoryBound(to: Float.self)
        for i in 0..<batchShape.reduce(1, *) {
            CPU.sgemm(M: M, N: N, K: K, a: pa + batchOffset(batchA, i), a.strides[nd - 2], a.strides[nd - 1],
                      b: pb + batchOffset(batchB, i), b.strides[nd - 2], b.strides[nd - 1], c: po + i * M * N, ldc: N)
        }
        return true
    }

    /// The batch dimensions of an operand (all but the last two) as a layout for `batchOffset`.
    private func batchLayout(_ x: ArrayData, _ batchShape: [Int]) -> StridedLayout {
        StridedLayout(shape: batchShape.isEmpty ? [1] : batchShape,
                      strides: [batchShape.isEmpty ? [0] : Array(x.strides.dropLast(2))])
    }

    /// float32 rows times a float32, float16 or bfloat16 matrix stored [N, K] row by row and
    /// used transposed (a `Linear` layer's weight, `x @ w.T`), for a few rows of x (decoding):
    /// half-precision weights are widened in registers as they stream by, never converted to a
    /// float32 copy (and OpenBLAS's sgemm with one row ran at a quarter of this kernel's speed).
    /// nil when the operands do not have that form.
    private func rowWeightGEMV(_ a: ArrayData, _ b: ArrayData, spec: OutputSpec, M: Int, K: Int, N: Int,
                               batch: Int) -> ArrayData? {
        guard spec.dtype == .float32, a.dtype == .float32, [.float16, .bfloat16, .float32].contains(b.dtype),
              batch == 1, M < QuantizedMatmulPrimitive.gemmThreshold, M > 0, K > 0, N > 0 else { return nil }
        let nd = b.ndim
        let rs = b.strides[nd - 2], cs = b.strides[nd - 1]
        guard rs == 1 || K == 1, cs >= K || N == 1 else { return nil }
        let ldw = N == 1 ? K : cs
        var x = a
        let ars = a.strides[nd - 2], acs = a.strides[nd - 1]
        if !((acs == 1 || K == 1) && (ars >= K || M == 1)) { x = copyContiguous(a, to: .float32) }
        let ldx = M == 1 ? K : x.strides[nd - 2]
        let out = ArrayData(allocating: spec.shape, dtype: .float32)
        let xp = x.pointer.assumingMemoryBound(to: Float.self)
        let yp = out.writePointer.assumingMemoryBound(to: Float.self)
        let bf16: Int32 = b.dtype == .bfloat16 ? 1 : 0, f32 = b.dtype == .float32
        // Whole 4-row blocks (the kernel's unit).
        CPU.parallelBlocks(N, unit: 4, work: N * K * M, threshold: 4, maxTasks: CPU.cores * 8) { lo, hi in
            if f32 {
                zoo_gemv_f32_t(xp, M, K, ldx, b.pointer.assumingMemoryBound(to: Float.self), ldw, yp, N, lo, hi)
            } else {
                zoo_gemv_half_t(xp, M, K, ldx, b.pointer.assumingMemoryBound(to: UInt16.self), ldw, yp, N, lo, hi, bf16)
            }
        }
        withExtendedLifetime((x, b)) {}
        return out
    }

    /// float32 rows times a float16 or bfloat16 matrix stored [N, K] row by row and used
    /// transposed (a half-precision model's `Linear` weight), for many rows of x (prefill): the
    /// quantized GEMM's loop with strips of 6 weight rows widened to float32 in L1, instead of a
    /// float32 copy of the whole matrix per call. A weight broadcast over batch dims (strides 0)
    /// multiplies all batch rows at once. nil when the operands do not have that form.
    private func halfWeightGEMM(_ a: ArrayData, _ b: ArrayData, spec: OutputSpec, M: Int, K: Int, N: Int,
                                batch: Int) -> ArrayData? {
        guard spec.dtype == .float32, a.dtype == .float32, b.dtype == .float16 || b.dtype == .bfloat16,
              M * batch >= QuantizedMatmulPrimitive.gemmThreshold, K > 0, N > 0 else { return nil }
        let nd = b.ndim
        guard b.strides.dropLast(2).allSatisfy({ $0 == 0 }) else { return nil }
        let rs = b.strides[nd - 2], cs = b.strides[nd - 1]
        guard rs == 1 || K == 1, cs >= K || N == 1 else { return nil }
        let ldw = N == 1 ? K : cs
        let rows = M * batch
        let x = contiguousData(a)
        let out = ArrayData(allocating: spec.shape, dtype: .float32)
        let wp = UncheckedBox(b.pointer.assumingMemoryBound(to: UInt16.self))
        let yp = UncheckedBox(out.writePointer.assumingMemoryBound(to: Float.self))
        let bf16: Int32 = b.dtype == .bfloat16 ? 1 : 0
        stripGEMM(x.pointer.assumingMemoryBound(to: Float.self), rows: rows, K: K, N: N, packX: true) { packed, lo, hi, scratch in
            zoo_hgemm_t(packed, rows, K, wp.value, ldw, bf16, yp.value, N, lo, hi, scratch)
        }
        withExtendedLifetime((x, b)) {}
        return out
    }

    /// `x` converted to `dtype`. A dense array in any axis order (a transposed weight) keeps its
    /// layout, converted in one contiguous run; other views are gathered row-major.
    private func convertKeepingLayout(_ x: ArrayData, to dtype: DType) -> ArrayData {
        guard x.count > 1, x.strides.allSatisfy({ $0 >= 0 }) else { return copyContiguous(x, to: dtype) }
        let dims = (0..<x.ndim).filter { x.shape[$0] != 1 }.sorted { x.strides[$0] < x.strides[$1] }
        var expected = 1
        for d in dims {
            guard x.strides[d] == expected else { return copyContiguous(x, to: dtype) }
            expected *= x.shape[d]
        }
        let flat = x.view(offset: x.offset, shape: [x.count], strides: [1])
        let converted = copyContiguous(flat, to: dtype)
        return converted.view(offset: 0, shape: x.shape, strides: x.strides)
    }

    private func finish(_ out: ArrayData, _ spec: OutputSpec) -> ArrayData {
        out.dtype == spec.dtype ? out : copyContiguous(out, to: spec.dtype)
    }

    private func batchOffset(_ l: StridedLayout, _ i: Int) -> Int {
        // Offset of batch element i in row-major order over the (collapsed) batch dims.
        var r = i, off = 0
        for d in stride(from: l.shape.count - 1, through: 0, by: -1) {
            off += (r % l.shape[d]) * l.strides[0][d]
            r /= l.shape[d]
        }
        return off
    }

    struct Layout { let trans: CBLAS_TRANSPOSE; let ld: Int }

    /// How BLAS can read the last two dims: row-major, transposed, or (after a copy) row-major.
    private func blasLayout(_ x: ArrayData, rows: Int, cols: Int) -> (Layout, ArrayData) {
        let nd = x.ndim
        let rs = x.strides[nd - 2], cs = x.strides[nd - 1]
        if (cs == 1 || cols == 1) && (rs >= max(cols, 1) || rows == 1) {
            return (Layout(trans: CblasNoTrans, ld: rows == 1 ? max(cols, 1) : rs), x)
        }
        if (rs == 1 || rows == 1) && (cs >= max(rows, 1) || cols == 1) {
            return (Layout(trans: CblasTrans, ld: cols == 1 ? max(rows, 1) : cs), x)
        }
        let c = copyContiguous(x, to: x.dtype)
        return (Layout(trans: CblasNoTrans, ld: max(cols, 1)), c)
    }
}

extension CBLAS_TRANSPOSE: @retroactive @unchecked Sendable {}

/// Matrix product with NumPy semantics for 1-D operands and broadcast batch dims.
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    guard check(a.ndim >= 1 && b.ndim >= 1, "matmul", "operands must have at least one dimension, got \(fmt(a.shape)) and \(fmt(b.shape))")
    else { return .errorPlaceholder() }
    var dt = promoteTypes(a.dtype, b.dtype)
    guard check(dt.isInexact, "matmul", "only floating-point and complex types are supported, got \(a.dtype) and \(b.dtype)")
    else { return .errorPlaceholder() }
    if dt == .bfloat16 || dt == .float16 { dt = promoteTypes(a.dtype, b.dtype) }
    // float32 with a half-precision operand (a float16 model's weight): the CPU kernel widens
    // the half one itself (in registers when decoding), instead of a float32 copy per call.
    let widenInKernel = dt == .float32 && currentStream().device.kind == .cpu
    func operand(_ t: Tensor) -> Tensor {
        widenInKernel && (t.dtype == .float16 || t.dtype == .bfloat16) ? t : t.asType(dt)
    }
    var x = operand(a), y = operand(b)
    let aVec = x.ndim == 1, bVec = y.ndim == 1
    if aVec { x = x.reshaped([1, x.dim(0)]) }
    if bVec { y = y.reshaped([y.dim(0), 1]) }
    guard check(x.dim(-1) == y.dim(-2), "matmul",
                "inner dimensions differ: \(fmt(a.shape)) @ \(fmt(b.shape)) (last dim of a must equal second-to-last of b)")
    else { return .errorPlaceholder(dt) }
    guard let batch = broadcastShapes(Array(x.shape.dropLast(2)), Array(y.shape.dropLast(2)), "matmul") else { return .errorPlaceholder(dt) }
    x = x.broadcast(to: batch + Array(x.shape.suffix(2)))
    y = y.broadcast(to: batch + Array(y.shape.suffix(2)))
    var r = Tensor(MatmulPrimitive(), [x, y], shape: batch + [x.dim(-2), y.dim(-1)], dtype: dt)
    if aVec { r = r.squeezed(axes: [r.ndim - 2]) }
    if bVec { r = r.squeezed(axes: [r.ndim - 1]) }
    return r
}

extension Tensor {
    public func matmul(_ other: Tensor) -> Tensor { Engine.matmul(self, other) }
}

/// beta * c + alpha * (a @ b).
public func addmm(_ c: Tensor, _ a: Tensor, _ b: Tensor, alpha: Double = 1, beta: Double = 1) -> Tensor {
    matmul(a, b) * alpha + c * beta
}

extension CPU {
    /// Whether a float32 product of this shape runs on the pool (`sgemm`) rather than OpenBLAS:
    /// from 2¹⁸ multiply-adds (where OpenBLAS would start its own threads) with at least 16
    /// rows and columns, unless `ZOO_SGEMM=openblas`.
    static func usesPooledSGEMM(M: Int, N: Int, K: Int) -> Bool {
        pooledSGEMMEnabled && M >= 16 && N >= 16 && K > 0 && M * N * K >= pooledSGEMMWork
    }

    /// C[M, N] = alpha · A[M, K] · B[K, N] (C rows `ldc` apart) on the pool (`zoo_sgemm`): many
    /// small tasks claimed dynamically instead of OpenBLAS's one static share per thread, which
    /// leaves the whole product waiting on the slowest core whenever the machine is shared, and
    /// no second thread pool spinning beside this one. A and B are read through element strides
    /// (row, column): any layout, including transposed, sliced and broadcast ones.
    static func sgemm(M: Int, N: Int, K: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, _ rsa: Int, _ csa: Int,
                      b: UnsafePointer<Float>, _ rsb: Int, _ csb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int) {
        let floats = zoo_sgemm_pack_floats(M, K, N)
        let packed = floats > 0 ? ArrayData(allocating: [floats], dtype: .float32) : nil
        zoo_sgemm(M, N, K, alpha, a, rsa, csa, b, rsb, csb, c, ldc,
                  packed?.writePointer.assumingMemoryBound(to: Float.self), floats)
        withExtendedLifetime(packed) {}
    }

    /// cblas_sgemm (row-major, beta 0) for the CPU kernels' own products: on the pool when the
    /// shape qualifies (`usesPooledSGEMM`), through OpenBLAS otherwise.
    static func sgemm(transA: Bool, transB: Bool, M: Int, N: Int, K: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int) {
        if usesPooledSGEMM(M: M, N: N, K: K) {
            sgemm(M: M, N: N, K: K, alpha: alpha, a: a, transA ? 1 : lda, transA ? lda : 1,
                  b: b, transB ? 1 : ldb, transB ? ldb : 1, c: c, ldc: ldc)
        } else {
            // A product big enough for OpenBLAS's threads (few rows or columns): ours make way.
            if M * N * K >= blasParkWork { zoo_pool_park() }
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(M), Int32(N), Int32(K), alpha, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
        }
    }
}
