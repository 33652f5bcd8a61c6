import XCTest
@testable import Engine

/// float32 argMax/argMin run a vectorised C kernel; the float64 path (checked against MLX's
/// fixtures, like the float32 one) is the reference here for what fixtures hold few of: long
/// rows, ties (the first index wins), NaNs (the first NaN wins), infinities and signed zeros,
/// along every axis.
final class ArgReduceTests: XCTestCase {
    func testFloat32KernelAgreesWithTheFloat64Path() {
        var rng = SystemRandomNumberGenerator()
        let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 1, 1, -1]
        var checked = 0
        for trial in 0..<60 {
            let n = [1, 3, 7, 8, 9, 16, 31, 64, 100, 1000][trial % 10]
            let rows = 1 + trial % 4
            var v = (0..<rows * n).map { _ in Float(Int.random(in: -20...20, using: &rng)) / 4 }  // many ties
            if trial % 3 == 0 { for _ in 0..<3 { v[Int.random(in: 0..<v.count, using: &rng)] = specials.randomElement(using: &rng)! } }
            let x = Tensor(v, shape: [rows, n])
            for axis in [0, 1, -1] {
                for isMax in [true, false] {
                    let f = isMax ? argMax(x, axis: axis) : argMin(x, axis: axis)
                    let d = isMax ? argMax(x.asType(.float64), axis: axis) : argMin(x.asType(.float64), axis: axis)
                    XCTAssertEqual(f.toArray(UInt32.self), d.toArray(UInt32.self), "trial \(trial) n \(n) axis \(axis) max \(isMax): \(v)")
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, 360)
        // The logits case: one long row, the largest value once, late.
        var logits = [Float](repeating: -3, count: 49152)
        logits[40000] = 7; logits[45000] = 7
        XCTAssertEqual(argMax(Tensor(logits)).item(UInt32.self), 40000)
    }
}
