import CKernels
import XCTest
@testable import Engine

/// The pool's operand prefetch (`zoo_pool_prefetch`) only issues prefetch instructions from an
/// idle worker: requests for ranges that were freed or never mapped must not fault, and the
/// products it runs ahead of must give the values they give without it.
final class PrefetchTests: XCTestCase {
    func testPrefetchOfFreedOrUnmappedMemoryIsHarmless() {
        let freed = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 64)
        freed.deallocate()
        let ptrs: [UnsafeRawPointer?] = [UnsafeRawPointer(freed), UnsafeRawPointer(bitPattern: 0x1000), UnsafeRawPointer(bitPattern: 0x7fff_0000_0000)]
        let bytes = [1 << 20, 8 << 20, 4 << 20]
        for _ in 0..<50 {
            zoo_pool_prefetch(ptrs, bytes, Int32(ptrs.count))
            usleep(100)
        }
        // A pool job right after a request stops the worker's prefetch and runs normally.
        let x = Random.normal([1, 300], key: Random.key(1)), w = Random.normal([500, 300], key: Random.key(2))
        zoo_pool_prefetch(ptrs, bytes, Int32(ptrs.count))
        let y = matmul(x, w.T).toArray(Float.self)
        let ref = matmul(x.asType(.float64), w.asType(.float64).T).asType(.float32).toArray(Float.self)
        XCTAssertEqual(y.count, 500)
        for i in 0..<y.count { XCTAssertEqual(y[i], ref[i], accuracy: 1e-3 * max(1, abs(ref[i]))) }
    }

    /// A decode-like sequence of matrix-vector products separated by small serial ops, where
    /// the scheduler requests each product's weights ahead of it: the same values as the same
    /// graph evaluated one op at a time (no look-ahead possible).
    func testLookAheadLeavesProductsUnchanged() {
        let ws = (0..<4).map { Random.normal([256 + 64 * $0, 256], key: Random.key(UInt64(10 + $0))).asType(.float16) }
        for w in ws { eval(w) }  // evaluated weights: the look-ahead requests only those
        let start = Random.normal([1, 256], key: Random.key(3))
        func step(_ x: Tensor, _ i: Int, eager: Bool) -> Tensor {
            var h = Fast.rmsNorm(x, weight: nil, eps: 1e-5)
            if eager { eval(h) }
            h = matmul(h, ws[i].T)[0..., ..<256]
            if eager { eval(h) }
            return x + h
        }
        var lazy = start, eager = start
        for i in 0..<4 { lazy = step(lazy, i, eager: false); eager = step(eager, i, eager: true); eval(eager) }
        XCTAssertEqual(lazy.toArray(Float.self), eager.toArray(Float.self))
    }
}
