import CKernels
import Foundation

/// N-d convolution, channels-last (MLX layout): input [N, spatial..., Cin], weight
/// [Cout, kernel..., Cin / groups], output [N, outSpatial..., Cout]. float32 inputs
/// (the op converts). Each batch element and group: an im2col panel [outSpatial, K * Cg]
/// (rows of contiguous channel runs) times the weight rows through OpenBLAS sgemm.
/// Transposed: cols = x · W' through sgemm, then col2im adds each column block into place.
/// 1-D and 2-D convolutions without groups skip the panel: CKernels/conv.c reads the pixels of
/// each kernel tap in place (implicit GEMM) on bands of output rows spread over the cores.
struct ConvPrimitive: Primitive {
    let stride: [Int], padding: [Int], dilation: [Int]
    let groups: Int
    let transposed: Bool
    var name: String { transposed ? "conv_transpose" : "convolution" }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? ConvPrimitive else { return false }
        return o.stride == stride && o.padding == padding && o.dilation == dilation && o.groups == groups && o.transposed == transposed
    }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: .float32)
        if out.count == 0 { return [out] }
        let x = contiguousVector(inputs[0], .float32), w = contiguousVector(inputs[1], .float32)
        let nd = x.ndim - 2
        let N = x.shape[0], Cin = x.shape[nd + 1], Cout = w.shape[0]
        let inSp = Array(x.shape[1...nd]), outSp = Array(spec.shape[1...nd]), ks = Array(w.shape[1...nd])
        let kvol = ks.reduce(1, *), inVol = inSp.reduce(1, *), outVol = outSp.reduce(1, *)
        let G = groups, cg = Cin / G, og = Cout / G
        let xp = x.pointer.assumingMemoryBound(to: Float.self), wp = w.pointer.assumingMemoryBound(to: Float.self)
        let op = out.writePointer.assumingMemoryBound(to: Float.self)
        if kvol == 0 || Cin == 0 { memset(op, 0, out.count * 4); return [out] }
        // Offsets (in elements of one spatial position = one channel run) of each kernel tap.
        func unravel(_ i: Int, _ shape: [Int]) -> [Int] {
            var r = i, c = [Int](repeating: 0, count: shape.count)
            for d in Swift.stride(from: shape.count - 1, through: 0, by: -1) { c[d] = r % shape[d]; r /= shape[d] }
            return c
        }
        let taps = (0..<kvol).map { unravel($0, ks) }
        let inStrides = rowMajorStrides(inSp)
        if !transposed && G == 1 && nd <= 2 {
            return [try directConv2D(xp, wp, out: out, nd: nd, N: N, Cin: Cin, Cout: Cout,
                                     inSp: inSp, outSp: outSp, ks: ks, keep: (x, w))]
        }
        if !transposed {
            // Small images share a panel (up to ~16 MiB) so each sgemm gets enough rows.
            let perImage = outVol * kvol * cg
            let chunk = Swift.max(1, Swift.min(N, (1 << 22) / Swift.max(perImage, 1)))
            let cols = ArrayData(allocating: [chunk * outVol, kvol * cg], dtype: .float32)
            let cp = UncheckedBox(cols.writePointer.assumingMemoryBound(to: Float.self))
            let xb = UncheckedBox(xp)
            for n0 in Swift.stride(from: 0, to: N, by: chunk) {
                let images = Swift.min(chunk, N - n0)
                for g in 0..<G {
                    let rowsTotal = images * outVol
                    CPU.parallelFor(rowsTotal, work: rowsTotal * kvol * cg) { range in
                        for ro in range {
                            let o = ro % outVol
                            let xn = (n0 + ro / outVol) * inVol * Cin + g * cg
                            let oc = unravel(o, outSp)
                            let row = cp.value + ro * kvol * cg
                            for (t, tap) in taps.enumerated() {
                                var pos = 0, inside = true
                                for d in 0..<nd {
                                    let p = oc[d] * stride[d] - padding[d] + tap[d] * dilation[d]
                                    if p < 0 || p >= inSp[d] { inside = false; break }
                                    pos += p * inStrides[d]
                                }
                                let dst = row + t * cg
                                if inside { dst.update(from: xb.value + xn + pos * Cin, count: cg) } else { dst.update(repeating: 0, count: cg) }
                            }
                        }
                    }
                    CPU.sgemm(transA: false, transB: true, M: rowsTotal, N: og, K: kvol * cg,
                              a: cp.value, lda: kvol * cg, b: wp + g * og * kvol * cg, ldb: kvol * cg,
                              c: op + n0 * outVol * Cout + g * og, ldc: Cout)
                }
            }
            withExtendedLifetime((x, w, cols)) {}
            return [out]
        }
        // Transposed: W' [cg, kvol * og] per group, cols = x_g [inVol, cg] · W'.
        memset(op, 0, out.count * 4)
        let outStrides = rowMajorStrides(outSp)
        let wt = ArrayData(allocating: [G, cg, kvol, og], dtype: .float32)
        let wtp = wt.writePointer.assumingMemoryBound(to: Float.self)
        for g in 0..<G { for o in 0..<og { for t in 0..<kvol { for c in 0..<cg {
            wtp[((g * cg + c) * kvol + t) * og + o] = wp[((g * og + o) * kvol + t) * cg + c]
        } } } }
        let cols = ArrayData(allocating: [inVol, kvol * og], dtype: .float32)
        let cp = UncheckedBox(cols.writePointer.assumingMemoryBound(to: Float.self))
        let ob = UncheckedBox(op)
        for n in 0..<N {
            for g in 0..<G {
                CPU.sgemm(transA: false, transB: false, M: inVol, N: kvol * og, K: cg,
                          a: xp + n * inVol * Cin + g * cg, lda: Cin, b: wtp + g * cg * kvol * og, ldb: kvol * og,
                          c: cp.value, ldc: kvol * og)
                // col2im, sequential over input positions (their targets overlap).
                let outBase = n * outVol * Cout + g * og
                for i in 0..<inVol {
                    let ic = unravel(i, inSp)
                    let row = cp.value + i * kvol * og
                    for (t, tap) in taps.enumerated() {
                        var pos = 0, inside = true
                        for d in 0..<nd {
                            let p = ic[d] * stride[d] - padding[d] + tap[d] * dilation[d]
                            if p < 0 || p >= outSp[d] { inside = false; break }
                            pos += p * outStrides[d]
                        }
                        if !inside { continue }
                        let dst = ob.value + outBase + pos * Cout, src = row + t * og
                        for o in 0..<og { dst[o] += src[o] }
                    }
                }
            }
        }
        withExtendedLifetime((x, w, wt, cols)) {}
        return [out]
    }

    /// Groups == 1, one or two spatial dims (1-D runs as a 2-D image of height 1).
    private func directConv2D(_ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, out: ArrayData, nd: Int,
                              N: Int, Cin: Int, Cout: Int, inSp: [Int], outSp: [Int], ks: [Int],
                              keep: (ArrayData, ArrayData)) throws -> ArrayData {
        func dims(_ a: [Int], _ fill: Int) -> (Int, Int) { nd == 1 ? (fill, a[0]) : (a[0], a[1]) }
        let (H, W) = dims(inSp, 1), (Ho, Wo) = dims(outSp, 1), (KH, KW) = dims(ks, 1)
        let (sh, sw) = dims(stride, 1), (ph, pw) = dims(padding, 0), (dh, dw) = dims(dilation, 1)
        let K = KH * KW * Cin
        let packed = ArrayData(allocating: [zoo_conv2d_packed_floats(Cout, K)], dtype: .float32)
        let pp = packed.writePointer.assumingMemoryBound(to: Float.self)
        zoo_conv2d_pack_weights(wp, pp, Cout, K)
        let band = zoo_conv2d_band_rows(W, Cin, KH, sh, dh, pw)
        let items = N * ((Ho + band - 1) / band)
        let xb = UncheckedBox(xp), pb = UncheckedBox(UnsafePointer(pp))
        let ob = UncheckedBox(out.writePointer.assumingMemoryBound(to: Float.self))
        let failed = FailureFlag()
        @Sendable func run(_ r: Range<Int>) {
            if zoo_conv2d_f32(xb.value, pb.value, ob.value, H, W, Cin, Ho, Wo, Cout, KH, KW, sh, sw, ph, pw, dh, dw,
                              band, r.lowerBound, r.upperBound) != 0 { failed.set() }
        }
        if CPU.cores == 1 || items == 1 || N * Ho * Wo * Cout * K < CPU.parallelThreshold {
            run(0..<items)
        } else {
            // Many small pieces taken by whichever worker is free: a core shared with another
            // process then costs its share of the pieces, not the whole call's wall time.
            let pieces = Swift.min(items, CPU.cores * 16)
            CPU.parallelTasks(pieces) { c in
                run(items * c / pieces ..< items * (c + 1) / pieces)
            }
        }
        withExtendedLifetime((keep, packed)) {}
        if failed.isSet { throw EngineError.evaluationFailed(op: name, message: "no memory for the scratch rows of a convolution") }
        return out
    }
}

/// Set by any worker whose kernel call failed (one lock, touched only on failure or at the end).
final class FailureFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
