import XCTest
@testable import Engine

/// float32 products from 2¹⁸ multiply-adds (with M, N ≥ 16) run on Zoo's pool (`zoo_sgemm`:
/// packed panels, a 6 × 16 register tile, dynamically claimed tasks). The shapes here hit every
/// edge of that blocking: rows past a multiple of 6 and of the 144-row task, columns past a
/// multiple of 16, K past the 256 block and not a multiple of 8, and operands read through
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
        for (i, (m, k, n)) in [(150, 300, 170), (17, 1000, 33), (289, 513, 47), (64, 64, 64), (200, 7, 300),
                               (16, 2049, 16), (145, 257, 161), (6, 4096, 64), (1000, 16, 40), (33, 520, 1031)].enumerated() {
            check(normal([m, k], UInt64(2 * i)), normal([k, n], UInt64(2 * i + 1)), "[\(m),\(k)] @ [\(k),\(n)]")
        }
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

    /// The summation order per element is fixed (k increasing, blocked by 256) whichever thread
    /// runs a task: the same product gives the same bits every time.
    func testResultsAreBitIdenticalRunToRun() {
        let a = normal([300, 700], 21), b = normal([700, 260], 22)
        let first = matmul(a, b).toArray(Float.self)
        for _ in 0..<3 {
            XCTAssertEqual(matmul(a, b).toArray(Float.self), first)
        }
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
