import XCTest
@testable import Engine
import CKernels

/// float32 products from 2¹⁸ multiply-adds (with M, N ≥ 16) run on Zoo's pool (`zoo_sgemm`:
/// packed panels, a 6 × 16 register tile, dynamically claimed tasks). The shapes here hit every
/// edge of that blocking: rows past a multiple of 6 and of the 144-row task, columns past a
/// multiple of 16, K past the 384 block and not a multiple of 8, and operands read through
/// their strides (transposed, sliced, broadcast). The reference is the float64 product (dgemm,
/// another library's kernel); every element must lie within float32 summation's error bound.
final class PooledGEMMTests: XCTestCase {
    private func check(_ a: Tensor, _ b: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let got = matmul(a, b)
        let wa = a.asType(.float64), wb = b.asType(.float64)
        let ref = matmul(wa, wb).toArray(Double.self)
        let bound = matmul(wa.abs(), wb.abs()).toArray(Double.self)
        XCTAssertEqual(got.dtype, .float32, what, file: file, line: line)
        let x = got.toArray(Float.self)
        XCTAssertEqual(x.count, ref.count, what, file: file, line: line)
        XCTAssertGreaterThan(x.count, 0, what, file: file, line: line)
        // |error| ≤ K · 2⁻²⁴ · Σ|a_k b_k| (+ the rounding of the result itself).
        let gamma = Double(a.dim(-1)) * 0x1p-24
        var bad = 0, firstBad = ""
        for i in 0..<min(x.count, ref.count) {
            let tol = gamma * bound[i] + abs(ref[i]) * 0x1p-24
            if !(abs(Double(x[i]) - ref[i]) <= tol) {
                if bad == 0 { firstBad = " (first at \(i): \(x[i]) vs \(ref[i]))" }
                bad += 1
            }
        }
        XCTAssertEqual(bad, 0, "\(what): \(bad) of \(x.count) outside the float32 bound\(firstBad)", file: file, line: line)
    }

    private func normal(_ shape: [Int], _ seed: UInt64) -> Tensor {
        Random.normal(shape, key: Random.key(seed))
    }

    func testShapesAroundEveryBlockEdge() {
        for (i, (m, k, n)) in [(150, 400, 170), (17, 1000, 33), (289, 513, 47), (64, 64, 64), (200, 7, 300),
                               (16, 2049, 16), (145, 257, 161), (6, 4096, 64), (1000, 16, 40), (33, 520, 1031)].enumerated() {
            check(normal([m, k], UInt64(2 * i)), normal([k, n], UInt64(2 * i + 1)), "[\(m),\(k)] @ [\(k),\(n)]")
        }
    }

    /// Past the workspace limit (64 MiB by default; 1 MiB here) K is packed a group of blocks at
    /// a time into two alternating buffers: three to five groups, the last one short (down to a
    /// K block of one or two).
    func testLongKIsPackedInGroups() {
        let previous = zoo_sgemm_set_workspace_limit(1 << 20)
        defer { zoo_sgemm_set_workspace_limit(previous) }
        for (i, (m, k, n)) in [(300, 900, 200), (145, 1537, 40), (200, 770, 300), (160, 2000, 64)].enumerated() {
            check(normal([m, k], UInt64(70 + 2 * i)), normal([k, n], UInt64(71 + 2 * i)), "[\(m),\(k)] @ [\(k),\(n)] in groups")
        }
        check(normal([500, 300], 80).T, normal([400, 500], 81).T, "both transposed, in groups")
    }

    func testOperandsReadThroughTheirStrides() {
        let a = normal([160, 300], 1), b = normal([300, 90], 2)
        check(normal([300, 160], 3).T, b, "transposed A")
        check(a, normal([90, 300], 4).T, "transposed B (a Linear weight)")
        check(normal([300, 160], 5).T, normal([90, 300], 6).T, "both transposed")
        // Every other row and column: element strides of 2 in both dimensions.
        let big = normal([320, 600], 7)
        check(big[.stride(0, 320, by: 2), .stride(0, 600, by: 2)], b, "sliced A, strides (1200, 2)")
        check(a, normal([600, 180], 8)[.stride(0, 600, by: 2), .stride(0, 180, by: 2)], "sliced B")
        // A row broadcast down the rows (row stride 0) and a column broadcast across columns.
        check(broadcast(normal([1, 300], 9), to: [160, 300]), b, "A with row stride 0")
        check(a, broadcast(normal([300, 1], 10), to: [300, 90]), "B with column stride 0")
    }

    func testBatchedProducts() {
        // One weight for every batch element, batched weights, and a broadcast batch.
        let x = normal([3, 70, 200], 11)
        check(x, normal([200, 50], 12), "batched x, one weight")
        check(x, normal([3, 200, 50], 13), "batched both")
        check(normal([2, 1, 40, 128], 14), normal([1, 3, 128, 64], 15), "broadcast batch dims")
        check(x, normal([3, 50, 200], 16).swappedAxes(-1, -2), "batched transposed weights")
    }

    /// The summation order per element is fixed (k increasing, blocked by 384) whichever thread
    /// runs a task: the same product gives the same bits every time.
    func testResultsAreBitIdenticalRunToRun() {
        let a = normal([300, 700], 21), b = normal([700, 260], 22)
        let first = matmul(a, b).toArray(Float.self)
        for _ in 0..<3 {
            XCTAssertEqual(matmul(a, b).toArray(Float.self), first)
        }
    }

    /// Products evaluated from 8 tasks at once: the pool takes one job at a time and the others
    /// run on their own threads (with their own packing buffers); every result is bit-identical
    /// to the one computed alone.
    func testConcurrentProductsMatchSerialOnes() async {
        let shapes = [(300, 200, 170), (100, 400, 90), (150, 256, 33), (64, 64, 64)]
        let operands = shapes.enumerated().map { i, s in (normal([s.0, s.1], UInt64(60 + 2 * i)), normal([s.1, s.2], UInt64(61 + 2 * i))) }
        let serial = operands.map { matmul($0.0, $0.1).toArray(Float.self) }
        let results = await withTaskGroup(of: (Int, [Float]).self) { group in
            for t in 0..<8 {
                let (a, b) = operands[t % operands.count]
                group.addTask { (t, matmul(a, b).toArray(Float.self)) }
            }
            var out: [(Int, [Float])] = []
            for await r in group { out.append(r) }
            return out
        }
        XCTAssertEqual(results.count, 8)
        for (t, r) in results { XCTAssertEqual(r, serial[t % operands.count], "task \(t)") }
    }

    /// Infinities and NaNs land where the float64 product puts them (the zero padding of partial
    /// tiles never mixes into a real element).
    func testNonFiniteValuesPropagateLikeTheReference() {
        var av = normal([100, 300], 31).toArray(Float.self)
        var bv = normal([300, 70], 32).toArray(Float.self)
        av[5 * 300 + 17] = .infinity       // row 5: ±inf wherever b[17, j] is nonzero
        bv[40 * 70 + 69] = .nan            // column 69: NaN in every row
        let a = Tensor(av, shape: [100, 300]), b = Tensor(bv, shape: [300, 70])
        let got = matmul(a, b).toArray(Float.self)
        let ref = matmul(a.asType(.float64), b.asType(.float64)).toArray(Double.self)
        var mismatched = 0
        for i in 0..<got.count {
            let g = got[i], r = ref[i]
            if r.isNaN { if !g.isNaN { mismatched += 1 } }
            else if r.isInfinite { if Double(g) != r { mismatched += 1 } }
            else if !g.isFinite { mismatched += 1 }
        }
        XCTAssertEqual(mismatched, 0)
        XCTAssertTrue(got[99 * 70 + 69].isNaN)
        XCTAssertTrue(got[5 * 70].isInfinite)
    }
}

/// The CPU kernels that multiply through `CPU.sgemm` (grouped and transposed convolution,
/// attention with an additive mask) at sizes that put their products on the pool; references
/// computed directly in float64.
final class PooledGEMMCallerTests: XCTestCase {
    private func assertClose(_ got: [Float], _ ref: [Double], bound: [Double], k: Int, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, ref.count, what, file: file, line: line)
        XCTAssertGreaterThan(got.count, 0, what, file: file, line: line)
        let gamma = Double(k + 2) * 0x1p-24
        var bad = 0
        for i in 0..<min(got.count, ref.count) where !(abs(Double(got[i]) - ref[i]) <= gamma * bound[i] + 1e-30) { bad += 1 }
        XCTAssertEqual(bad, 0, "\(what): \(bad) of \(got.count) outside the float32 bound", file: file, line: line)
    }

    /// Channels-last grouped 2-D convolution (im2col, then one product per group of 512 rows).
    func testGroupedConvolution() {
        let (n, h, w, cin, cout, kh, g) = (2, 16, 16, 32, 64, 3, 2)
        let cg = cin / g, og = cout / g
        let x = Random.normal([n, h, w, cin], key: Random.key(41)), wt = Random.normal([cout, kh, kh, cg], key: Random.key(42))
        let got = conv2d(x, wt, padding: (1, 1), groups: g).toArray(Float.self)
        let xv = x.toArray(Float.self), wv = wt.toArray(Float.self)
        var ref = [Double](repeating: 0, count: n * h * w * cout), bound = ref
        for b in 0..<n { for oy in 0..<h { for ox in 0..<w { for o in 0..<cout {
            let gi = o / og
            var s = 0.0, a = 0.0
            for ky in 0..<kh { for kx in 0..<kh {
                let iy = oy - 1 + ky, ix = ox - 1 + kx
                if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
                for c in 0..<cg {
                    let p = Double(xv[((b * h + iy) * w + ix) * cin + gi * cg + c]) * Double(wv[((o * kh + ky) * kh + kx) * cg + c])
                    s += p; a += abs(p)
                }
            } }
            let i = ((b * h + oy) * w + ox) * cout + o
            ref[i] = s; bound[i] = a
        } } } }
        assertClose(got, ref, bound: bound, k: kh * kh * cg, "grouped conv2d")
    }

    /// Transposed 2-D convolution (one product [positions, cin] · [cin, taps × cout], then col2im).
    func testTransposedConvolution() {
        let (h, w, cin, cout, k) = (12, 12, 64, 32, 3)
        let x = Random.normal([1, h, w, cin], key: Random.key(43)), wt = Random.normal([cout, k, k, cin], key: Random.key(44))
        let got = convTransposed2d(x, wt).toArray(Float.self)
        let xv = x.toArray(Float.self), wv = wt.toArray(Float.self)
        let oh = h + k - 1, ow = w + k - 1
        var ref = [Double](repeating: 0, count: oh * ow * cout), bound = ref
        for iy in 0..<h { for ix in 0..<w { for ky in 0..<k { for kx in 0..<k { for o in 0..<cout {
            var s = 0.0, a = 0.0
            for c in 0..<cin {
                let p = Double(xv[(iy * w + ix) * cin + c]) * Double(wv[((o * k + ky) * k + kx) * cin + c])
                s += p; a += abs(p)
            }
            let i = ((iy + ky) * ow + ix + kx) * cout + o
            ref[i] += s; bound[i] += a
        } } } } }
        // Each output sums up to k² products of length cin.
        assertClose(got, ref, bound: bound, k: cin * k * k, "conv_transpose2d")
    }

    /// Attention with an additive mask over 40 queries: scores = Q Kᵀ · scale and out = P V are
    /// [rep · Lq, Lk] products on the pool. Reference: the composed float64 ops.
    func testMaskedAttention() {
        let (hq, hk, lq, lk, d) = (4, 2, 40, 96, 64)
        let q = Random.normal([1, hq, lq, d], key: Random.key(45))
        let k = Random.normal([1, hk, lk, d], key: Random.key(46)), v = Random.normal([1, hk, lk, d], key: Random.key(47))
        let mask = Random.normal([lq, lk], key: Random.key(48))
        let scale: Float = 0.125
        let got = Fast.scaledDotProductAttention(queries: q, keys: k, values: v, scale: scale, mask: .additive(mask))
        let rep = hq / hk
        func expand(_ t: Tensor) -> Tensor {
            t.asType(.float64).expandedDimensions(axis: 2).broadcast(to: [1, hk, rep, lk, d]).reshaped([1, hq, lk, d])
        }
        let scores = matmul(q.asType(.float64), expand(k).swappedAxes(-1, -2)) * Double(scale) + mask.asType(.float64)
        let ref = matmul(softmax(scores, axis: -1), expand(v))
        let x = got.toArray(Float.self), r = ref.toArray(Double.self)
        XCTAssertEqual(x.count, r.count)
        var worst = 0.0
        for i in 0..<min(x.count, r.count) { worst = max(worst, abs(Double(x[i]) - r[i])) }
        // Softmax weights sum to 1 and |v| < 6 here: float32 rounding of the scores and the
        // weighted sums stays far below 1e-4.
        XCTAssertLessThan(worst, 1e-4, "largest difference from the float64 composition")
    }
}
