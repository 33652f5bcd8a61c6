import CKernels
import Foundation

// CPU kernels of the fused `Fast` ops: one pass over each row/head in C (CKernels/fast.c),
// spread over cores by rows.

/// The C kernels' element type code: 0 float32, 1 float16, 2 bfloat16.
func fastDTypeCode(_ d: DType) -> Int32 {
    switch d {
    case .float16: return 1
    case .bfloat16: return 2
    default: return 0
    }
}

/// `a` with unit stride along its last axis and rows a fixed stride apart; returns the
/// array and that row stride (a contiguous copy when the layout does not allow it).
func rowsView(_ a: ArrayData) -> (ArrayData, Int) {
    let n = a.shape.last ?? 1
    if a.isRowContiguous && !a.strides.contains(0) { return (a, n) }
    if let s = uniformRowStride(a) { return (a, s) }
    let c = copyContiguous(a, to: a.dtype)
    return (c, n)
}

/// The stride between consecutive rows when `a`'s last axis is unit-stride and its leading
/// axes step through rows evenly (a slice of columns of a matrix, such as one part of a
/// stacked projection's output); nil otherwise.
func uniformRowStride(_ a: ArrayData) -> Int? {
    guard let n = a.shape.last, n > 1, a.strides.last == 1 else { return nil }
    var rowStride: Int?, expected = 0
    for i in stride(from: a.ndim - 2, through: 0, by: -1) where a.shape[i] != 1 {
        if rowStride == nil {
            guard a.strides[i] >= n else { return nil }
            rowStride = a.strides[i]
        } else if a.strides[i] != expected {
            return nil
        }
        expected = a.strides[i] * a.shape[i]
    }
    return rowStride ?? n
}

/// silu(gate) * up in one pass (`Fast.swiGLU`), float32. `packed`: one input whose last axis
/// holds gate then up.
struct SwiGLUPrimitive: Primitive {
    var packed = false
    var name: String { "swiglu" }
    func isEquivalent(to other: any Primitive) -> Bool { (other as? SwiGLUPrimitive)?.packed == packed }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: .float32)
        let n = spec.shape.last ?? 1
        let rows = n == 0 ? 0 : out.count / n
        if rows == 0 { return [out] }
        let g: ArrayData, gs: Int, u: ArrayData, us: Int
        if packed {
            (g, gs) = rowsView(inputs[0])
            (u, us) = (g, gs)
        } else {
            (g, gs) = rowsView(inputs[0])
            (u, us) = rowsView(inputs[1])
        }
        let gp = UncheckedBox(g.pointer.assumingMemoryBound(to: Float.self))
        let up = UncheckedBox(u.pointer.assumingMemoryBound(to: Float.self) + (packed ? n : 0))
        let op = UncheckedBox(out.writePointer.assumingMemoryBound(to: Float.self))
        CPU.parallelFor(rows, work: rows * n * 8) { r in
            zoo_swiglu_f32(gp.value, gs, up.value, us, op.value, r.lowerBound, r.upperBound, n)
        }
        withExtendedLifetime((g, u)) {}
        return [out]
    }
}

/// A 1-D parameter (weight, bias) as a contiguous array of `dtype`.
func contiguousVector(_ a: ArrayData, _ dtype: DType) -> ArrayData {
    if a.dtype == dtype && a.isRowContiguous && !a.strides.contains(0) { return a }
    return copyContiguous(a, to: dtype)
}

struct RMSNormPrimitive: Primitive {
    let eps: Float
    let hasWeight: Bool
    var name: String { "rms_norm" }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? RMSNormPrimitive else { return false }
        return o.eps == eps && o.hasWeight == hasWeight
    }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: spec.dtype)
        let n = spec.shape.last ?? 1
        let rows = n == 0 ? 0 : out.count / n
        if rows == 0 { return [out] }
        let (x, rs) = rowsView(inputs[0])
        let w = hasWeight ? contiguousVector(inputs[1], spec.dtype) : nil
        let xp = UncheckedBox(x.pointer), wp = UncheckedBox(w?.pointer), op = UncheckedBox(out.writePointer)
        let code = fastDTypeCode(spec.dtype), eps = eps
        CPU.parallelFor(rows, work: rows * n * 4) { r in
            zoo_rms_norm(xp.value, rs, wp.value, op.value, r.lowerBound, r.upperBound, n, eps, code)
        }
        withExtendedLifetime((x, w)) {}
        return [out]
    }
}

struct LayerNormPrimitive: Primitive {
    let eps: Float
    let hasWeight: Bool
    let hasBias: Bool
    var name: String { "layer_norm" }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? LayerNormPrimitive else { return false }
        return o.eps == eps && o.hasWeight == hasWeight && o.hasBias == hasBias
    }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: spec.dtype)
        let n = spec.shape.last ?? 1
        let rows = n == 0 ? 0 : out.count / n
        if rows == 0 { return [out] }
        let (x, rs) = rowsView(inputs[0])
        var next = 1
        var w: ArrayData?, b: ArrayData?
        if hasWeight { w = contiguousVector(inputs[next], spec.dtype); next += 1 }
        if hasBias { b = contiguousVector(inputs[next], spec.dtype) }
        let xp = UncheckedBox(x.pointer), wp = UncheckedBox(w?.pointer), bp = UncheckedBox(b?.pointer)
        let op = UncheckedBox(out.writePointer)
        let code = fastDTypeCode(spec.dtype), eps = eps
        CPU.parallelFor(rows, work: rows * n * 4) { r in
            zoo_layer_norm(xp.value, rs, wp.value, bp.value, op.value, r.lowerBound, r.upperBound, n, eps, code)
        }
        withExtendedLifetime((x, w, b)) {}
        return [out]
    }
}

struct RoPEPrimitive: Primitive {
    let dims: Int
    let traditional: Bool
    let base: Float?
    let scale: Float
    let offset: Int
    var name: String { "rope" }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? RoPEPrimitive else { return false }
        return o.dims == dims && o.traditional == traditional && o.base == base && o.scale == scale && o.offset == offset
    }

    /// Inverse frequencies as MLX's CPU kernel computes them (float32 throughout).
    func inverseFrequencies(_ freqs: ArrayData?) -> [Float] {
        let half = dims / 2
        if let freqs {
            let f = contiguousVector(freqs, .float32).pointer.assumingMemoryBound(to: Float.self)
            return (0..<half).map { 1 / f[$0] }
        }
        let logBase = Foundation.log(base ?? 10000)
        return (0..<half).map { Foundation.exp(Float(-$0) * logBase / Float(half)) }
    }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: spec.dtype)
        if out.count == 0 { return [out] }
        var x = inputs[0]
        let nd = x.ndim
        let D = x.shape[nd - 1], T = x.shape[nd - 2], B = x.shape[0]
        let N = x.shape[1..<(nd - 2)].reduce(1, *)
        let middleMerges = nd <= 4 || ArrayData.rowContiguous(shape: Array(x.shape[1...]), strides: Array(x.strides[1...]))
        if (x.strides[nd - 1] != 1 && D > 1) || !middleMerges || x.strides.contains(where: { $0 < 0 }) {
            x = copyContiguous(x, to: x.dtype)
        }
        let sb = x.strides[0], st = x.strides[nd - 2]
        let sn = nd == 3 ? 0 : (nd == 4 ? x.strides[1] : x.strides[nd - 3])
        let inv = inverseFrequencies(inputs.count > 1 ? inputs[1] : nil)
        let xp = UncheckedBox(x.pointer), op = UncheckedBox(out.writePointer)
        let code = fastDTypeCode(spec.dtype)
        let (dims, trad, scale, offset) = (Int32(dims), Int32(traditional ? 1 : 0), scale, offset)
        inv.withUnsafeBufferPointer { ib in
            let ip = UncheckedBox(ib.baseAddress!)
            CPU.parallelFor(B * N, work: out.count * 4) { r in
                zoo_rope(xp.value, sb, sn, st, op.value, N, T, D, r.lowerBound, r.upperBound,
                         dims, trad, ip.value, scale, offset, code)
            }
        }
        withExtendedLifetime(x) {}
        return [out]
    }
}

/// Attention over float32 inputs (the op converts half types around it).
struct SDPAPrimitive: Primitive {
    let scale: Float
    /// 0 none, 1 causal, 2 additive (inputs[3], broadcast to [B, Hq, Lq, Lk]).
    let maskKind: Int32
    var name: String { "scaled_dot_product_attention" }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? SDPAPrimitive else { return false }
        return o.scale == scale && o.maskKind == maskKind
    }
    /// Largest query tile of one fused-attention task (its rows: the tile's queries of every
    /// head that shares a key/value head).
    static let queryTile = 64
    /// Fewest keys per chunk when a call with too few tasks for the cores splits its key range.
    static let minChunkKeys = 256

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: .float32)
        if out.count == 0 { return [out] }
        if inputs[1].shape[2] == 0 { memset(out.writePointer, 0, out.count * 4); return [out] }
        if maskKind != 2 {
            fused(inputs[0], inputs[1], inputs[2], into: out)
        } else {
            masked(inputs, into: out)
        }
        return [out]
    }

    /// No mask or causal: the online-softmax kernel (CKernels/attention.c), never holding more
    /// than one block of scores. Tasks are (batch, key/value head, query tile, key chunk);
    /// calls with too few of them for the cores (decode) split the keys into chunks whose
    /// partial results are merged by log-sum-exp.
    func fused(_ q0: ArrayData, _ k0: ArrayData, _ v0: ArrayData, into out: ArrayData) {
        let D = q0.shape[3]
        func unitRows(_ a: ArrayData) -> ArrayData { a.strides[3] == 1 || D == 1 ? a : copyContiguous(a, to: .float32) }
        let q = unitRows(q0), k = unitRows(k0), v = unitRows(v0)
        let B = q.shape[0], Hq = q.shape[1], Lq = q.shape[2], Hk = k.shape[1], Lk = k.shape[2]
        let causal = maskKind == 1
        let work = B * Hq * Lq * Lk * D * (causal ? 2 : 4)
        let parallel = CPU.cores > 1 && work >= CPU.parallelThreshold
        // Enough tasks for the cores to balance (causal tiles differ in cost), but tiles of at
        // least 16 queries so each task packs a key block for many rows.
        let wanted = parallel ? 4 * CPU.cores : 1
        let perTask = (B * Hk * Lq + wanted - 1) / wanted
        let qtile = Lq <= 16 ? Lq : min(Self.queryTile, max(16, (perTask + 7) / 8 * 8), Lq)
        let base = B * Hk * ((Lq + qtile - 1) / qtile)
        var chunks = 1
        if parallel && base < 2 * CPU.cores {
            chunks = max(1, min((2 * CPU.cores + base - 1) / base, Lk / Self.minChunkKeys))
        }
        let rows = B * Hq * Lq
        let partial = chunks > 1 ? ArrayData(allocating: [chunks * rows * (D + 2)], dtype: .float32) : nil
        let qp = UncheckedBox(q.pointer.assumingMemoryBound(to: Float.self))
        let kp = UncheckedBox(k.pointer.assumingMemoryBound(to: Float.self))
        let vp = UncheckedBox(v.pointer.assumingMemoryBound(to: Float.self))
        let op = UncheckedBox(out.writePointer.assumingMemoryBound(to: Float.self))
        let pp = UncheckedBox(partial?.writePointer.assumingMemoryBound(to: Float.self))
        let strides = q.strides + k.strides + v.strides
        let scale = scale
        strides.withUnsafeBufferPointer { sb in
            let s = UncheckedBox(sb.baseAddress!)
            let run = { (t: Int) in
                zoo_flash_sdpa_f32(qp.value, s.value, kp.value, s.value + 4, vp.value, s.value + 8, op.value,
                                   B, Hq, Hk, Lq, Lk, D, scale, causal ? 1 : 0, qtile, chunks, pp.value, t)
            }
            if parallel { CPU.parallelTasks(base * chunks, run) } else { for t in 0 ..< base * chunks { run(t) } }
        }
        if chunks > 1 {
            CPU.parallelFor(rows, work: rows * D * chunks * 4) { r in
                zoo_flash_sdpa_merge_f32(op.value, pp.value, rows, D, chunks, r.lowerBound, r.upperBound)
            }
        }
        withExtendedLifetime((q, k, v, partial)) {}
    }

    /// Additive mask. Decode-sized: one fused pass per query row. Otherwise, per batch and
    /// key/value head, the query rows of the heads that share it form one [rep * Lq, D] block
    /// (contiguous in q), so scores = Q Kᵀ and out = P V are two BLAS calls, with the masked
    /// softmax in between done in place on one [rep * Lq, Lk] score tile.
    func masked(_ inputs: [ArrayData], into out: ArrayData) {
        var q = inputs[0], k = inputs[1], v = inputs[2]
        if !(q.isRowContiguous && !q.strides.contains(0)) { q = copyContiguous(q, to: .float32) }
        let D = q.shape[3]
        func blasRows(_ a: ArrayData) -> ArrayData {
            (a.strides[3] == 1 || D == 1) && a.strides[2] >= D ? a : copyContiguous(a, to: .float32)
        }
        k = blasRows(k); v = blasRows(v)
        let B = q.shape[0], Hq = q.shape[1], Lq = q.shape[2]
        let Hk = k.shape[1], Lk = k.shape[2], rep = Hq / Hk
        let rows = rep * Lq
        let mask = inputs[3]
        let ms = mask.strides
        if Lq <= 4 {
            let qs = q.strides, ks = k.strides, vs = v.strides
            let qp = UncheckedBox(q.pointer.assumingMemoryBound(to: Float.self))
            let kp = UncheckedBox(k.pointer.assumingMemoryBound(to: Float.self))
            let vp = UncheckedBox(v.pointer.assumingMemoryBound(to: Float.self))
            let mp = UncheckedBox(mask.pointer.assumingMemoryBound(to: Float.self))
            let op = UncheckedBox(out.writePointer.assumingMemoryBound(to: Float.self))
            let all = B * Hq * Lq
            let (scale, kind) = (scale, maskKind)
            CPU.parallelFor(all, work: all * Lk * D * 2) { r in
                var scratch = [Float](repeating: 0, count: Lk)
                qs.withUnsafeBufferPointer { qsb in ks.withUnsafeBufferPointer { ksb in
                    vs.withUnsafeBufferPointer { vsb in ms.withUnsafeBufferPointer { msb in
                        scratch.withUnsafeMutableBufferPointer { sc in
                            zoo_sdpa_f32(qp.value, qsb.baseAddress, kp.value, ksb.baseAddress, vp.value, vsb.baseAddress,
                                         op.value, B, Hq, Hk, Lq, Lk, D, scale, kind, mp.value, msb.baseAddress,
                                         r.lowerBound, r.upperBound, sc.baseAddress)
                        }
                    } }
                } }
            }
            withExtendedLifetime((q, k, v, mask)) {}
            return
        }
        let scores = ArrayData(allocating: [rows, Lk], dtype: .float32)
        let sp = UncheckedBox(scores.writePointer.assumingMemoryBound(to: Float.self))
        let qp = q.pointer.assumingMemoryBound(to: Float.self)
        let kp = k.pointer.assumingMemoryBound(to: Float.self), vp = v.pointer.assumingMemoryBound(to: Float.self)
        let op = out.writePointer.assumingMemoryBound(to: Float.self)
        let kind = maskKind
        for b in 0..<B {
            for hk in 0..<Hk {
                let qBlock = qp + b * q.strides[0] + hk * rep * q.strides[1]
                let kBlock = kp + b * k.strides[0] + hk * k.strides[1]
                let vBlock = vp + b * v.strides[0] + hk * v.strides[1]
                let oBlock = op + (b * Hq + hk * rep) * Lq * D
                let mp = UncheckedBox(mask.pointer.assumingMemoryBound(to: Float.self) + b * ms[0] + hk * rep * ms[1])
                CPU.sgemm(transA: false, transB: true, M: rows, N: Lk, K: D, alpha: scale,
                          a: qBlock, lda: D, b: kBlock, ldb: k.strides[2], c: sp.value, ldc: Lk)
                CPU.parallelFor(rows, work: rows * Lk * 4) { r in
                    zoo_attention_softmax(sp.value, r.lowerBound, r.upperBound, Lq, Lk, kind, mp.value, ms[1], ms[2], ms[3])
                }
                CPU.sgemm(transA: false, transB: false, M: rows, N: D, K: Lk,
                          a: sp.value, lda: Lk, b: vBlock, ldb: v.strides[2], c: oBlock, ldc: D)
            }
        }
        withExtendedLifetime((q, k, v, mask, scores)) {}
    }
}
