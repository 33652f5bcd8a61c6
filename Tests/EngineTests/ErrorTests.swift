import XCTest
@testable import Engine

/// Bad arguments raise `EngineError` inside `withError`, naming the op and the shapes.
final class ErrorTests: XCTestCase {
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

    func testMismatchedShapes() {
        let a = zeros([2, 3]), b = zeros([4])
        expectError("add", mentions: ["(2,3)", "(4,)"]) { _ = a + b }
        expectError("multiply", mentions: ["(2,3)", "(4,)"]) { _ = a * b }
        expectError("greater", mentions: ["(2,3)", "(4,)"]) { _ = a .> b }
        expectError("where", mentions: ["(2,3)", "(4,)"]) { _ = which(a .> 0, a, b) }
        expectError("matmul", mentions: ["(2,3)", "(2,3)"]) { _ = matmul(a, a) }
        expectError("concatenate", mentions: ["(2,3)", "(4,)"]) { _ = concatenated([a, b]) }
        expectError("broadcast_to", mentions: ["(2,3)", "(3,3)"]) { _ = a.broadcast(to: [3, 3]) }
        expectError("stack", mentions: ["(2,3)", "(4,)"]) { _ = stacked([a, b]) }
    }

    func testAxisOutOfRange() {
        let a = zeros([2, 3])
        expectError("sum", mentions: ["axis 2", "2 dimensions"]) { _ = sum(a, axes: [2]) }
        expectError("sum", mentions: ["axis -3"]) { _ = sum(a, axes: [-3]) }
        expectError("argmax", mentions: ["axis 5"]) { _ = argMax(a, axis: 5) }
        expectError("softmax", mentions: ["axis 3"]) { _ = softmax(a, axis: 3) }
        expectError("transpose", mentions: ["(2,3)"]) { _ = a.transposed([0]) }
        expectError("squeeze", mentions: ["size 2", "(2,3)"]) { _ = a.squeezed(axes: [0]) }
        expectError("take", mentions: ["axis 4"]) { _ = take(a, Tensor([0] as [Int32]), axis: 4) }
    }

    func testBadReshapeAndSizes() {
        let a = zeros([2, 3])
        expectError("reshape", mentions: ["(2,3)", "(4,2)"]) { _ = a.reshaped([4, 2]) }
        expectError("reshape", mentions: ["(-1,-1)"]) { _ = a.reshaped([-1, -1]) }
        expectError("full", mentions: ["(2,-1)"]) { _ = zeros([2, -1]) }
        expectError("Tensor.init", mentions: ["3 values", "(2,2)"]) { _ = Tensor([1, 2, 3] as [Float], shape: [2, 2]) }
        expectError("random.uniform", mentions: ["(-3,)"]) { _ = Random.uniform([-3], key: Random.key(0)) }
    }

    func testWrongDtypes() {
        let i = Tensor([1, 2] as [Int32])
        expectError("matmul", mentions: ["int32"]) { _ = matmul(i.reshaped([1, 2]), i.reshaped([2, 1])) }
        expectError("random.uniform", mentions: ["int32"]) { _ = Random.uniform([2], dtype: .int32, key: Random.key(0)) }
        expectError("getitem", mentions: ["float32"]) { _ = zeros([3])[Tensor([0.5] as [Float])] }
        expectError("take", mentions: ["float32"]) { _ = take(zeros([3]), Tensor([1] as [Float])) }
    }

    func testIndexOutOfBounds() {
        let a = zeros([2, 3])
        expectError("getitem", mentions: ["index 2", "size 2"]) { _ = a[2] }
        expectError("getitem", mentions: ["index -4", "size 3"]) { _ = a[0, -4] }
        expectError("getitem", mentions: ["too many indices", "(2,3)"]) { _ = a[0, 0, 0] }
        // Tensor indices are checked when evaluated.
        expectError("gather", mentions: ["index 7", "size 2"]) { _ = a[Tensor([7] as [Int32])].toArray(Float.self) }
        expectError("setitem", mentions: ["(4,)", "(3,)"]) {
            var b = a
            b[0] = zeros([4])
        }
    }

    func testErrorsDoNotLeakOutOfScope() throws {
        // A failing scope throws; the next scope starts clean.
        XCTAssertThrowsError(try withError { _ = zeros([2]) + zeros([3]) })
        let ok = try withError { (zeros([2]) + ones([2])).toArray(Float.self) }
        XCTAssertEqual(ok.count, 2)
    }
}
