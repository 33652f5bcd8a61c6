import XCTest
@testable import Engine

/// Malformed arguments to the `Fast` and quantization ops raise `EngineError` inside
/// `withError`, naming the op and the shapes; plus properties the fixtures cannot show.
final class FastQuantErrorTests: XCTestCase {
    private func expectError(_ op: String, mentions: [String], file: StaticString = #filePath, line: UInt = #line,
                             _ body: () -> Void) {
        do {
            try withError { body() }
            XCTFail("expected an error from \(op)", file: file, line: line)
        } catch let e as EngineError {
            XCTAssertEqual(e.op, op, file: file, line: line)
            let text = e.localizedDescription
            for m in mentions { XCTAssertTrue(text.contains(m), "'\(text)' does not mention \(m)", file: file, line: line) }
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
        }
    }

    func testFastErrors() {
        let x = zeros([2, 8])
        expectError("rms_norm", mentions: ["(4,)", "(2,8)"]) { _ = Fast.rmsNorm(x, weight: zeros([4]), eps: 1e-5) }
        expectError("rms_norm", mentions: ["int32"]) { _ = Fast.rmsNorm(zeros([2, 8], dtype: .int32), weight: nil, eps: 1e-5) }
        expectError("layer_norm", mentions: ["bias", "(3,)", "(2,8)"]) {
            _ = Fast.layerNorm(x, weight: nil, bias: zeros([3]), eps: 1e-5)
        }
        expectError("rope", mentions: ["3 dimensions", "(2,8)"]) {
            _ = Fast.rope(x, dimensions: 8, traditional: false, base: 10000, scale: 1, offset: 0)
        }
        expectError("rope", mentions: ["dimensions 10", "(1,2,8)"]) {
            _ = Fast.rope(zeros([1, 2, 8]), dimensions: 10, traditional: false, base: 10000, scale: 1, offset: 0)
        }
        expectError("rope", mentions: ["base", "freqs"]) {
            _ = Fast.rope(zeros([1, 2, 8]), dimensions: 8, traditional: false, base: 10000, scale: 1, offset: 0,
                          freqs: ones([4]))
        }
        expectError("rope", mentions: ["freqs", "(3,)"]) {
            _ = Fast.rope(zeros([1, 2, 8]), dimensions: 8, traditional: false, base: nil, scale: 1, offset: 0, freqs: ones([3]))
        }
        let q = zeros([1, 6, 2, 8]), k = zeros([1, 4, 5, 8])
        expectError("scaled_dot_product_attention", mentions: ["(1,6,2,8)", "(1,4,5,8)"]) {
            _ = Fast.scaledDotProductAttention(queries: q, keys: k, values: k, scale: 1)
        }
        expectError("scaled_dot_product_attention", mentions: ["head dimensions", "(1,2,5,4)"]) {
            _ = Fast.scaledDotProductAttention(queries: zeros([1, 2, 2, 8]), keys: zeros([1, 2, 5, 4]), values: zeros([1, 2, 5, 4]), scale: 1)
        }
        expectError("scaled_dot_product_attention", mentions: ["4-D"]) {
            _ = Fast.scaledDotProductAttention(queries: zeros([2, 8]), keys: zeros([2, 8]), values: zeros([2, 8]), scale: 1)
        }
        expectError("scaled_dot_product_attention", mentions: ["mask", "(3,5)", "(1,2,2,5)"]) {
            _ = Fast.scaledDotProductAttention(queries: zeros([1, 2, 2, 8]), keys: zeros([1, 2, 5, 8]), values: zeros([1, 2, 5, 8]),
                                               scale: 1, mask: .additive(zeros([3, 5])))
        }
    }

    func testQuantizationErrors() {
        let w = zeros([4, 64])
        expectError("quantize", mentions: ["bits", "7"]) { _ = quantize(w, groupSize: 64, bits: 7) }
        expectError("quantize", mentions: ["groupSize", "48"]) { _ = quantize(w, groupSize: 48, bits: 4) }
        expectError("quantize", mentions: ["(4,64)", "128"]) { _ = quantize(w, groupSize: 128, bits: 4) }
        expectError("quantize", mentions: ["2 dimensions", "(64,)"]) { _ = quantize(zeros([64]), groupSize: 64, bits: 4) }
        let (wq, s, b) = quantize(w, groupSize: 32, bits: 4)
        expectError("dequantize", mentions: ["(4,8)", "(4,2)", "groups of 64"]) {
            _ = dequantize(wq, scales: s, biases: b, groupSize: 64, bits: 4)
        }
        expectError("dequantize", mentions: ["uint32"]) { _ = dequantize(w, scales: s, biases: b, groupSize: 32, bits: 4) }
        expectError("quantized_matmul", mentions: ["x (3,32)", "wq (4,8)", "64"]) {
            _ = quantizedMatmul(zeros([3, 32]), wq, scales: s, biases: b, transpose: true, groupSize: 32, bits: 4)
        }
        expectError("quantized_matmul", mentions: ["transpose: false", "(3,64)"]) {
            _ = quantizedMatmul(zeros([3, 64]), wq, scales: s, biases: b, transpose: false, groupSize: 32, bits: 4)
        }
        expectError("quantized_matmul", mentions: ["3-bit", "wq (4,8)"]) {
            _ = quantizedMatmul(zeros([3, 64]), wq, scales: s, biases: b, transpose: true, groupSize: 32, bits: 3)
        }
    }

    /// quantize then dequantize stays within half a step of the input, and quantizedMatmul
    /// equals matmul with the dequantized matrix (for the GEMV and the GEMM paths).
    func testRoundTripAndMatmulAgree() {
        let w = Random.normal([64, 128], key: Random.key(3))
        for bits in [2, 3, 4, 5, 6, 8] {
            let (wq, s, b) = quantize(w, groupSize: 64, bits: bits)
            let d = dequantize(wq, scales: s, biases: b, groupSize: 64, bits: bits)
            let step = s.abs().max().item(Float.self)
            // MLX's scale makes the edge value exact; the far end may round by up to one step.
            XCTAssertLessThanOrEqual((d - w).abs().max().item(Float.self), step * 1.0001 + 1e-6, "bits \(bits)")
            for m in [1, 3, 20] {
                let x = Random.normal([m, 128], key: Random.key(UInt64(m)))
                let y = quantizedMatmul(x, wq, scales: s, biases: b, transpose: true, groupSize: 64, bits: bits)
                let ref = matmul(x, d.T)
                XCTAssertLessThanOrEqual((y - ref).abs().max().item(Float.self), 1e-3, "bits \(bits) m \(m)")
                let xn = Random.normal([m, 128], key: Random.key(UInt64(m + 7)))
                let (wq2, s2, b2) = quantize(w.T.contiguous(), groupSize: 32, bits: bits)
                let d2 = dequantize(wq2, scales: s2, biases: b2, groupSize: 32, bits: bits)
                let y2 = quantizedMatmul(xn, wq2, scales: s2, biases: b2, transpose: false, groupSize: 32, bits: bits)
                XCTAssertLessThanOrEqual((y2 - matmul(xn, d2)).abs().max().item(Float.self), 1e-3, "n bits \(bits) m \(m)")
            }
        }
        // empty batch
        let (wq, s, b) = quantize(w, groupSize: 64, bits: 4)
        let e = quantizedMatmul(zeros([0, 128]), wq, scales: s, biases: b)
        XCTAssertEqual(e.shape, [0, 64])
        XCTAssertEqual(e.toArray(Float.self).count, 0)
    }

    /// The GEMM path (M >= 8 rows): equal to matmul with the dequantized matrix up to float32
    /// summation order (|difference| <= 2 K u Σ|x||w|, u = 2^-24) for every width, group size,
    /// scale dtype and layout; row counts that are not multiples of the kernel's tiles (6 and
    /// 16), an odd N, an odd K (transpose: false) and x blocks that do not fit one cache block.
    func testQuantizedGEMMEqualsDequantizeThenMatmul() {
        func check(_ y: Tensor, _ x: Tensor, _ d: Tensor, K: Int, _ what: String) {
            let bound = matmul(x.abs(), d.abs()) * (2 * Float(K) * 0x1p-24) + 1e-30
            let excess = ((y - matmul(x, d)).abs() - bound).max().item(Float.self)
            XCTAssertLessThanOrEqual(excess, 0, what)
        }
        for bits in [2, 3, 4, 5, 6, 8] {
            for gs in [32, 64, 128] {
                for sdt in [DType.float32, .float16, .bfloat16] {
                    // transpose: true, W [N, K] with N odd
                    let (N, K) = (37, 256)
                    let (wq, s0, b0) = quantize(Random.normal([N, K], key: Random.key(UInt64(bits * 10 + gs))), groupSize: gs, bits: bits)
                    let (s, b) = (s0.asType(sdt), b0.asType(sdt))
                    let d = dequantize(wq, scales: s.asType(.float32), biases: b.asType(.float32), groupSize: gs, bits: bits)
                    for m in [8, 23, 70] {
                        let x = Random.normal([m, K], key: Random.key(UInt64(200 + m)))
                        let y = quantizedMatmul(x, wq, scales: s, biases: b, transpose: true, groupSize: gs, bits: bits)
                        XCTAssertEqual(y.shape, [m, N])
                        check(y, x, d.T, K: K, "t bits \(bits) group \(gs) scales \(sdt) m \(m)")
                    }
                    // transpose: false, W [K, N] with K odd
                    let (K2, N2) = (75, 256)
                    let (wq2, s2, b2) = quantize(Random.normal([K2, N2], key: Random.key(UInt64(bits * 10 + gs + 1))), groupSize: gs, bits: bits)
                    let (s2t, b2t) = (s2.asType(sdt), b2.asType(sdt))
                    let d2 = dequantize(wq2, scales: s2t.asType(.float32), biases: b2t.asType(.float32), groupSize: gs, bits: bits)
                    for m in [8, 23] {
                        let x = Random.normal([m, K2], key: Random.key(UInt64(300 + m)))
                        let y = quantizedMatmul(x, wq2, scales: s2t, biases: b2t, transpose: false, groupSize: gs, bits: bits)
                        XCTAssertEqual(y.shape, [m, N2])
                        check(y, x, d2, K: K2, "n bits \(bits) group \(gs) scales \(sdt) m \(m)")
                    }
                }
            }
        }
        // Long K (x split into cache blocks of 80 rows), 3-D x, K = 300 rows of W not transposed
        // (more than one block of 256 rows).
        let (wq, s, b) = quantize(Random.normal([50, 1024], key: Random.key(9)), groupSize: 64, bits: 4)
        let d = dequantize(wq, scales: s, biases: b, groupSize: 64, bits: 4)
        let x = Random.normal([2, 97, 1024], key: Random.key(10))
        let y = quantizedMatmul(x, wq, scales: s, biases: b, transpose: true, groupSize: 64, bits: 4)
        XCTAssertEqual(y.shape, [2, 97, 50])
        check(y.reshaped([194, 50]), x.reshaped([194, 1024]), d.T, K: 1024, "long K")
        let (wq2, s2, b2) = quantize(Random.normal([300, 96], key: Random.key(12)), groupSize: 32, bits: 8)
        let d2 = dequantize(wq2, scales: s2, biases: b2, groupSize: 32, bits: 8)
        let x2 = Random.normal([40, 300], key: Random.key(13))
        check(quantizedMatmul(x2, wq2, scales: s2, biases: b2, transpose: false, groupSize: 32, bits: 8), x2, d2, K: 300, "n long K")
    }

    /// The int16-activation GEMV: within the bound its rounding of x allows (each x moves by
    /// at most amax(group) / 65534, so y moves by at most Σ |w| · that), for 4- and 8-bit codes,
    /// group sizes 32/64/128, float32/float16/bfloat16 scales, 1-7 rows and row counts that are
    /// not multiples of the kernel's four; x holding inf falls back to the exact path.
    func testInt16ActivationGEMVStaysWithinItsRoundingBound() {
        let N = 37
        // K = 352 is 11 groups of 32: the group-32 kernel's eight-group steps plus a remainder.
        for (K, groupSizes) in [(256, [32, 64, 128]), (352, [32])] {
        let w = Random.normal([N, K], key: Random.key(11))
        for bits in [4, 8] {
            for gs in groupSizes {
                for sdt in [DType.float32, .float16, .bfloat16] {
                    let (wq, s0, b0) = quantize(w, groupSize: gs, bits: bits)
                    let (s, b) = (s0.asType(sdt), b0.asType(sdt))
                    let d = dequantize(wq, scales: s.asType(.float32), biases: b.asType(.float32), groupSize: gs, bits: bits)
                    for m in [1, 3, 7] {
                        let x = Random.normal([m, K], key: Random.key(UInt64(100 + m))) * 3
                        let exact = quantizedMatmul(x, wq, scales: s, biases: b, transpose: true, groupSize: gs, bits: bits)
                        let fast = quantizedMatmul(x, wq, scales: s, biases: b, transpose: true, groupSize: gs, bits: bits,
                                                   precision: .int16Activations)
                        XCTAssertEqual(fast.shape, [m, N])
                        let amax = x.reshaped([m, K / gs, gs]).abs().max(axes: [-1], keepDims: true)
                        let step = broadcast(amax, to: [m, K / gs, gs]).reshaped([m, K]) / 65534
                        let bound = matmul(step, d.abs().T) * 1.01 + matmul(x.abs(), d.abs().T) * 1e-5 + 1e-5
                        let excess = ((fast - exact).abs() - bound).max().item(Float.self)
                        XCTAssertLessThanOrEqual(excess, 0, "K \(K) bits \(bits) group \(gs) scales \(sdt) m \(m)")
                        // It is an approximation, not the exact path under another name.
                        if bits == 8 && gs == 128 && sdt == .float32 && m == 3 {
                            XCTAssertGreaterThan((fast - exact).abs().max().item(Float.self), 0)
                        }
                    }
                }
            }
        }
        }
        // inf in x: the exact path's result (inf / nan in the same places).
        let K = 256
        let (wq, s, b) = quantize(Random.normal([N, K], key: Random.key(11)), groupSize: 32, bits: 4)
        var xv = Random.normal([2, K], key: Random.key(5)).toArray(Float.self)
        xv[7] = .infinity
        let x = Tensor(xv, shape: [2, K])
        let e = quantizedMatmul(x, wq, scales: s, biases: b, groupSize: 32, bits: 4).toArray(Float.self)
        let f = quantizedMatmul(x, wq, scales: s, biases: b, groupSize: 32, bits: 4, precision: .int16Activations).toArray(Float.self)
        XCTAssertEqual(e.map { $0.isNaN }, f.map { $0.isNaN })
        XCTAssertEqual(e.filter { !$0.isNaN }, f.filter { !$0.isNaN })
    }

    /// `symmetric: true` (biases = −2^(bits−1) · scales, read from the scales alone) gives the
    /// int16 GEMV's result with the biases read, up to float32 rounding: 4 and 8 bits, groups
    /// of 32 (the eight-group kernel with a remainder) and 64, float16 and float32 scales.
    func testSymmetricInt16GEMVEqualsReadingTheBiases() {
        for bits in [4, 8] {
            for (gs, K) in [(32, 352), (64, 256)] {
                for sdt in [DType.float16, .float32] {
                    let N = 21, zero = Float(1 << (bits - 1))
                    let (wq, s0, _) = quantize(Random.normal([N, K], key: Random.key(31)), groupSize: gs, bits: bits)
                    let s = s0.asType(sdt)
                    let b = (s.asType(.float32) * -zero).asType(sdt)
                    XCTAssertEqual((b.asType(.float32) + s.asType(.float32) * zero).abs().max().item(Float.self), 0)
                    let x = Random.normal([3, K], key: Random.key(32))
                    let withBiases = quantizedMatmul(x, wq, scales: s, biases: b, groupSize: gs, bits: bits,
                                                     precision: .int16Activations)
                    let symmetric = quantizedMatmul(x, wq, scales: s, biases: b, groupSize: gs, bits: bits,
                                                    precision: .int16Activations, symmetric: true)
                    let d = dequantize(wq, scales: s.asType(.float32), biases: b.asType(.float32), groupSize: gs, bits: bits)
                    let bound = matmul(x.abs(), d.abs().T) * 1e-5 + 1e-5
                    let excess = ((symmetric - withBiases).abs() - bound).max().item(Float.self)
                    XCTAssertLessThanOrEqual(excess, 0, "bits \(bits) group \(gs) scales \(sdt)")
                }
            }
        }
    }

    /// The fused attention equals softmax(q kᵀ · scale + mask) v composed from core ops,
    /// including a bool mask and a key length that is not the query length.
    /// The fused SwiGLU activation gives the composition's values bit for bit: contiguous
    /// operands, column slices of one stacked output (strided rows, read in place), a
    /// transposed operand (copied first), float16 (computed as the composition).
    func testSwiGLUEqualsComposition() throws {
        func composed(_ g: Tensor, _ u: Tensor) -> Tensor { g * sigmoid(g) * u }
        let g = Random.normal([3, 5, 40], key: Random.key(7)) * 4, u = Random.normal([3, 5, 40], key: Random.key(8))
        XCTAssertEqual(Fast.swiGLU(g, u).toArray(Float.self), composed(g, u).toArray(Float.self))
        let stacked = Random.normal([2, 7, 96], key: Random.key(9)) * 3
        let parts = split(stacked, indices: [40, 80], axis: -1)
        XCTAssertEqual(parts.map(\.shape), [[2, 7, 40], [2, 7, 40], [2, 7, 16]])
        let fused = Fast.swiGLU(parts[0], parts[1])
        XCTAssertEqual(fused.shape, [2, 7, 40])
        XCTAssertEqual(fused.toArray(Float.self), composed(parts[0], parts[1]).toArray(Float.self))
        let gt = Random.normal([40, 6], key: Random.key(10)).T, ut = Random.normal([6, 40], key: Random.key(11))
        XCTAssertEqual(Fast.swiGLU(gt, ut).toArray(Float.self), composed(gt, ut).toArray(Float.self))
        let g16 = g.asType(.float16), u16 = u.asType(.float16)
        XCTAssertEqual(Fast.swiGLU(g16, u16).dtype, .float16)
        XCTAssertEqual(Fast.swiGLU(g16, u16).toArray(Float.self), composed(g16, u16).toArray(Float.self))
        // The row-strided view reaches rmsNorm in place too, with a contiguous copy's result.
        let w = Random.normal([40], key: Random.key(12))
        XCTAssertEqual(Fast.rmsNorm(parts[1], weight: w, eps: 1e-5).toArray(Float.self),
                       Fast.rmsNorm(parts[1] + 0, weight: w, eps: 1e-5).toArray(Float.self))
        // Packed: one tensor holding gate then up on its last axis, also as a column slice of
        // a wider output (strided rows) and in float16 (the composition of its halves).
        let packed = Fast.swiGLU(stacked[0..., 0..., ..<80])
        XCTAssertEqual(packed.shape, [2, 7, 40])
        XCTAssertEqual(packed.toArray(Float.self), composed(parts[0], parts[1]).toArray(Float.self))
        let whole = Random.normal([3, 1, 64], key: Random.key(13)) * 3
        let halves = split(whole, indices: [32], axis: -1)
        XCTAssertEqual(Fast.swiGLU(whole).toArray(Float.self), composed(halves[0], halves[1]).toArray(Float.self))
        XCTAssertEqual(Fast.swiGLU(whole.asType(.float16)).dtype, .float16)
        XCTAssertEqual(Fast.swiGLU(whole.asType(.float16)).toArray(Float.self),
                       composed(halves[0].asType(.float16), halves[1].asType(.float16)).toArray(Float.self))
        expectError("swiglu", mentions: ["(2,7,3)"]) { _ = Fast.swiGLU(stacked[0..., 0..., ..<3]) }
        expectError("swiglu", mentions: ["(3,5,40)", "(2,7,40)"]) { _ = Fast.swiGLU(g, parts[0]) }
        expectError("swiglu", mentions: ["int32"]) { _ = Fast.swiGLU(zeros([2], dtype: .int32), zeros([2], dtype: .int32)) }
    }

    func testAttentionMatchesComposition() {
        let q = Random.normal([2, 6, 3, 16], key: Random.key(1))
        let k = Random.normal([2, 2, 10, 16], key: Random.key(2))
        let v = Random.normal([2, 2, 10, 16], key: Random.key(3))
        let keep = Random.uniform([3, 10], key: Random.key(4)) .> 0.3
        let fixedKeep = keep.updated([.ellipsis, .int(0)], with: Tensor(true))
        let fused = Fast.scaledDotProductAttention(queries: q, keys: k, values: v, scale: 0.25, mask: .additive(fixedKeep))
        let kr = repeated(k, count: 3, axis: 1), vr = repeated(v, count: 3, axis: 1)
        var scores = matmul(q * 0.25, kr.swappedAxes(-1, -2))
        scores = which(fixedKeep, scores, -Double.infinity)
        let ref = matmul(softmax(scores, axis: -1), vr)
        XCTAssertLessThanOrEqual((fused - ref).abs().max().item(Float.self), 1e-5)
    }

    /// Long causal prefill (the tiled path: each 64-query tile's products stop at its last
    /// visible key), with grouped heads, a partial last tile and keys beyond the queries (a
    /// cache offset), against the composition.
    func testLongCausalAttentionMatchesComposition() {
        for (lq, lk) in [(150, 150), (130, 170), (128, 128)] {
            let q = Random.normal([1, 4, lq, 32], key: Random.key(UInt64(lq)))
            let k = Random.normal([1, 2, lk, 32], key: Random.key(UInt64(lk + 1)))
            let v = Random.normal([1, 2, lk, 32], key: Random.key(UInt64(lk + 2)))
            let fused = Fast.scaledDotProductAttention(queries: q, keys: k, values: v, scale: 0.2, mask: .causal)
            let kr = repeated(k, count: 2, axis: 1), vr = repeated(v, count: 2, axis: 1)
            let visible = Tensor((0 ..< lq * lk).map { ($0 % lk) <= ($0 / lk) + (lk - lq) }, shape: [lq, lk])
            let scores = which(visible, matmul(q * 0.2, kr.swappedAxes(-1, -2)), -Double.infinity)
            let ref = matmul(softmax(scores, axis: -1), vr)
            XCTAssertLessThanOrEqual((fused - ref).abs().max().item(Float.self), 1e-5, "lq \(lq) lk \(lk)")
        }
    }

    /// The fused online-softmax kernel against the composition over the shapes its paths
    /// split on: grouped heads (3 and 1 per key/value head), head sizes 64, 80, 128 and 20 (not a
    /// multiple of 8: the portable path), query counts that are not a multiple of the tile, keys
    /// beyond the queries (a cache offset), decode with the keys split into merged chunks, and
    /// keys/values read in place from transposed [B, L, H, D] views.
    func testFusedAttentionShapes() {
        let cases: [(b: Int, hq: Int, hk: Int, lq: Int, lk: Int, d: Int, causal: Bool, transposed: Bool)] = [
            (1, 9, 3, 1, 700, 64, false, false), (1, 9, 3, 3, 600, 64, true, true), (2, 3, 1, 77, 90, 80, true, false),
            (1, 2, 2, 40, 40, 128, false, true), (1, 4, 2, 100, 100, 20, true, false), (1, 6, 2, 129, 129, 64, false, false),
            (1, 3, 3, 200, 331, 64, true, true),
        ]
        for (n, c) in cases.enumerated() {
            let key = UInt64(100 + 3 * n)
            let q = Random.normal([c.b, c.hq, c.lq, c.d], key: Random.key(key))
            var k = Random.normal([c.b, c.hk, c.lk, c.d], key: Random.key(key + 1))
            var v = Random.normal([c.b, c.hk, c.lk, c.d], key: Random.key(key + 2))
            if c.transposed {
                k = Random.normal([c.b, c.lk, c.hk, c.d], key: Random.key(key + 1)).swappedAxes(1, 2)
                v = Random.normal([c.b, c.lk, c.hk, c.d], key: Random.key(key + 2)).swappedAxes(1, 2)
            }
            let scale = 1 / Float(c.d).squareRoot()
            let fused = Fast.scaledDotProductAttention(queries: q, keys: k, values: v, scale: scale,
                                                       mask: c.causal ? .causal : .none)
            let rep = c.hq / c.hk
            let kr = repeated(k, count: rep, axis: 1), vr = repeated(v, count: rep, axis: 1)
            var scores = matmul(q * scale, kr.swappedAxes(-1, -2))
            if c.causal {
                let (lq, lk) = (c.lq, c.lk)
                let visible = Tensor((0 ..< lq * lk).map { ($0 % lk) <= ($0 / lk) + (lk - lq) }, shape: [lq, lk])
                scores = which(visible, scores, -Double.infinity)
            }
            let ref = matmul(softmax(scores, axis: -1), vr)
            XCTAssertEqual(fused.shape, q.shape)
            XCTAssertLessThanOrEqual((fused - ref).abs().max().item(Float.self), 1e-5, "case \(c)")
        }
    }
}
