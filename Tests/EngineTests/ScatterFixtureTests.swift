import XCTest
@testable import Engine

/// fixtures/engine/ops_scatter.json (tools/gen_ops_fixtures.py): put_along_axis from MLX 0.32.4,
/// scatter add/prod/max/min along an axis from NumPy's ufunc.at (MLX for Python has none).
final class ScatterFixtureTests: XCTestCase {
    func testScatterFamily() {
        guard let f = loadFixtures("ops_scatter.json") else { return }
        var passed = 0
        for c in f.cases {
            let x = c.inputs.map(OpFixtureTests.tensor)
            let axis = c.int("axis")!
            var r: Tensor?
            do {
                r = try withError { () -> Tensor? in
                    switch c.op {
                    case "put_along_axis": return putAlong(x[0], x[1], values: x[2], axis: axis)
                    case "scatter_add": return scatterAdd(x[0], indices: x[1], updates: x[2], axis: axis)
                    case "scatter_prod": return scatterProd(x[0], indices: x[1], updates: x[2], axis: axis)
                    case "scatter_max": return scatterMax(x[0], indices: x[1], updates: x[2], axis: axis)
                    case "scatter_min": return scatterMin(x[0], indices: x[1], updates: x[2], axis: axis)
                    default: return nil
                    }
                }
            } catch { XCTFail("\(c.name): Zoo raised \(error)"); continue }
            guard let r else { XCTFail("\(c.name): op \(c.op) is not mapped"); continue }
            let before = testRun?.failureCount ?? 0
            assertFixtureMatches(OpFixtureTests.actual(r), c.expected!, case: c)
            if c.op == "put_along_axis" {
                // scatter (set) is the same operation
                assertFixtureMatches(OpFixtureTests.actual(scatter(x[0], indices: x[1], updates: x[2], axis: axis)),
                                     c.expected!, case: c, label: "scatter")
            }
            if (testRun?.failureCount ?? 0) == before { passed += 1 }
        }
        XCTAssertGreaterThan(f.cases.count, 0)
        print("ops_scatter.json: \(passed) passed of \(f.cases.count) cases")
    }

    func testErrors() {
        func expectError(_ op: String, _ mentions: [String], _ body: () -> Void, line: UInt = #line) {
            do { try withError { body() }; XCTFail("expected an error from \(op)", line: line) } catch let e as EngineError {
                XCTAssertEqual(e.op, op, line: line)
                for m in mentions { XCTAssertTrue(e.localizedDescription.contains(m), "'\(e.localizedDescription)' lacks \(m)", line: line) }
            } catch { XCTFail("\(error)", line: line) }
        }
        let x = zeros([3, 4])
        let i = Tensor([[0, 1], [2, 3], [1, 1]] as [[Int]])
        expectError("scatter_add", ["rank", "(3,)", "(3,4)"]) { _ = scatterAdd(x, indices: Tensor([0, 1, 2] as [Int]), updates: ones([3]), axis: 1) }
        expectError("scatter_max", ["axis 2"]) { _ = scatterMax(x, indices: i, updates: ones([3, 2]), axis: 2) }
        expectError("scatter_min", ["updates", "(5,)", "(3,2)"]) { _ = scatterMin(x, indices: i, updates: ones([5]), axis: 1) }
        expectError("scatter_prod", ["integer", "float32"]) { _ = scatterProd(x, indices: ones([3, 2]), updates: ones([3, 2]), axis: 1) }
        expectError("put_along_axis", ["(2,2)", "(3,4)"]) { _ = scatter(x, indices: Tensor([[0, 1], [2, 3]] as [[Int]]), updates: ones([2, 2]), axis: 1) }
        expectError("scatter_add", ["out of bounds"]) { eval(scatterAdd(x, indices: Tensor([[4], [0], [0]] as [[Int]]), updates: ones([3, 1]), axis: 1)) }
    }
}
