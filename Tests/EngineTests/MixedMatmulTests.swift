import XCTest
@testable import Engine

/// float32 × float16/bfloat16 products: the CPU kernels widen the half-precision operand
/// themselves (in registers for few-row products against a transposed weight, in one
/// layout-keeping conversion otherwise); float32 × float32 few-row products against a
/// transposed weight run the same GEMV kernel. The reference is the float64 product of the
/// widened operands; the float32 results must stay within float32 summation's error bound.
final class MixedMatmulTests: XCTestCase {
    /// Within the forward error bound of a float32 dot product of length K in any order:
    /// |error| ≤ K · 2⁻²⁴ · Σ|a_k b_k| per element.
    private func assertClose(_ a: Tensor, _ ref: Tensor, bound: Tensor, k: Int, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, ref.shape, what, file: file, line: line)
        XCTAssertEqual(a.dtype, .float32, what, file: file, line: line)
        let x = a.toArray(Float.self), y = ref.toArray(Float.self), b = bound.toArray(Float.self)
        let gamma = Float(k) * 0x1p-24
        var bad = 0
        for i in 0..<x.count where abs(x[i] - y[i]) > gamma * b[i] { bad += 1 }
        XCTAssertEqual(bad, 0, "\(what): \(bad) of \(x.count) outside the float32 summation bound", file: file, line: line)
        XCTAssertNotEqual(y.count, 0, what, file: file, line: line)
    }

    /// The reference is the float64 product of the widened operands (dgemm), so it is not the
    /// kernel under test for float32 operands either.
    private func check(_ a: Tensor, _ b: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let wa = a.asType(.float64), wb = b.asType(.float64)
        assertClose(matmul(a, b), matmul(wa, wb).asType(.float32), bound: matmul(wa.abs(), wb.abs()).asType(.float32),
                    k: wa.dim(-1), what, file: file, line: line)
    }

    func testHalfWeightProductsEqualTheWidenedProduct() {
        for half in [DType.float16, .bfloat16, .float32] {
            for (m, k, n) in [(1, 576, 1536), (1, 64, 7), (2, 96, 40), (3, 33, 13), (7, 200, 64), (8, 64, 48), (40, 100, 30), (1, 5, 1),
                              (16, 64, 48), (17, 70, 29), (24, 8, 6), (130, 300, 50), (9, 1, 7)] {
                let x = Random.normal([1, m, k], key: Random.key(UInt64(m * 31 + k)))
                let w = (Random.normal([n, k], key: Random.key(UInt64(n + 5))) * 2).asType(half)
                check(x, w.T, "\(half) x[1,\(m),\(k)] @ w[\(n),\(k)].T")
            }
            // Untransposed, batched and half-on-the-left operands take the conversion path.
            let a = Random.normal([3, 5, 24], key: Random.key(1)), b = Random.normal([24, 9], key: Random.key(2)).asType(half)
            check(a, b, "\(half) batched, untransposed")
            let c = Random.normal([3, 9, 24], key: Random.key(3)).asType(half)
            check(a, c.swappedAxes(-1, -2), "\(half) batched transposed")
            let d = Random.normal([4, 5], key: Random.key(4)).asType(half)
            check(d, a[0], "\(half) on the left")
            // A strided (sliced) half operand: rows read in place (few or many rows of x).
            let e = Random.normal([30, 24], key: Random.key(5)).asType(half)[.stride(0, 30, by: 2)]
            check(a[0], e.T, "\(half) strided rows")
            check(Random.normal([20, 24], key: Random.key(7)), e.T, "\(half) strided rows, 20 rows of x")
            // One weight for every batch element (a Linear layer on [B, T, D]): the batch
            // rows are multiplied together.
            let w = Random.normal([9, 24], key: Random.key(8)).asType(half)
            check(a, w.T, "\(half) batched x, one transposed weight")
        }
        // Half with half stays half (MLX's promotion), computed as before.
        let h = Random.normal([4, 8], key: Random.key(6)).asType(.float16)
        XCTAssertEqual(matmul(h, h.T).dtype, .float16)
    }
}
