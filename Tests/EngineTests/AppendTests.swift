import XCTest
@testable import Engine

/// `appending(_:to:axis:storage:)` (the KV cache's in-place append) against `concatenated`.
final class AppendTests: XCTestCase {
    func testAppendEqualsConcatenationAcrossGrowth() {
        let storage = AppendStorage(step: 4)
        var cached: Tensor? = nil, reference: Tensor? = nil
        var views: [(Tensor, [Float])] = []
        for t in 0 ..< 11 {
            let n = t == 0 ? 3 : 1  // a 3-position prompt, then one position per step
            let x = Random.normal([1, 2, n, 5], key: Random.key(UInt64(t)))
            cached = appending(x, to: cached, axis: 2, storage: storage)
            reference = reference.map { concatenated([$0, x], axis: 2) } ?? x
            XCTAssertEqual(cached!.shape, reference!.shape)
            XCTAssertEqual(cached!.toArray(Float.self), reference!.toArray(Float.self), "step \(t)")
            views.append((cached!, reference!.toArray(Float.self)))
        }
        XCTAssertEqual(storage.positions, 13)
        // Earlier results are unchanged by later appends (each position is written once).
        for (i, (v, want)) in views.enumerated() { XCTAssertEqual(v.toArray(Float.self), want, "view \(i)") }
    }

    func testAppendFromAnOlderResultCopiesInsteadOfOverwriting() {
        let storage = AppendStorage(step: 8)
        let a = appending(Tensor([Float](repeating: 1, count: 4), shape: [2, 2]), to: nil, axis: 0, storage: storage)
        let b = appending(Tensor([Float](repeating: 2, count: 2), shape: [1, 2]), to: a, axis: 0, storage: storage)
        eval(b)
        // Branch from `a` again: row 2 of the storage is taken, so this must not touch it.
        let c = appending(Tensor([Float](repeating: 3, count: 2), shape: [1, 2]), to: a, axis: 0, storage: storage)
        XCTAssertEqual(c.toArray(Float.self), [1, 1, 1, 1, 3, 3])
        XCTAssertEqual(b.toArray(Float.self), [1, 1, 1, 1, 2, 2])
        // Along a middle axis with a non-contiguous input.
        let s2 = AppendStorage(step: 2)
        let x = Tensor((0 ..< 12).map(Float.init), shape: [3, 4]).T.reshaped([4, 1, 3])
        let y = appending(x, to: appending(x, to: nil, axis: 1, storage: s2), axis: 1, storage: s2)
        XCTAssertEqual(y.toArray(Float.self), concatenated([x, x], axis: 1).toArray(Float.self))
    }

    func testMismatchedAppendsThrowNamedErrors() {
        let s = AppendStorage()
        let prev = zeros([2, 3, 4])
        XCTAssertThrowsError(try withError { _ = appending(zeros([2, 5, 4]), to: prev, axis: 0, storage: s).toArray(Float.self) }) { e in
            XCTAssertTrue("\(e)".contains("append"), "\(e)")
        }
        XCTAssertThrowsError(try withError { _ = appending(zeros([2, 3, 1]), to: prev, axis: 1, storage: s).toArray(Float.self) }) { e in
            XCTAssertTrue("\(e)".contains("(2,3,1)") && "\(e)".contains("(2,3,4)"), "\(e)")
        }
        XCTAssertThrowsError(try withError { _ = appending(zeros([2, 3]), to: prev, axis: 0, storage: s).toArray(Float.self) })
        XCTAssertThrowsError(try withError { _ = appending(zeros([2, 3, 4]), to: prev, axis: 3, storage: s).toArray(Float.self) })
    }
}
