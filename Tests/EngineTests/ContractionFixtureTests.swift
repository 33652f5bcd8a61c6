import XCTest
@testable import Engine

/// fixtures/engine/ops_misc.json (MLX 0.32.4 through tools/gen_ops_fixtures.py): einsum, tensordot,
/// inner, outer, kron, diag, diagonal, trace, roll, flip, atleast*, unflatten, edge padding,
/// addmm, meshgrid.
final class ContractionFixtureTests: XCTestCase {
    static func run(_ c: FixtureCase) -> [Tensor]? {
        let x = c.inputs.map(OpFixtureTests.tensor)
        switch c.op {
        case "einsum": return [einsum(c.string("subscripts")!, x)]
        case "tensordot":
            if let n = c.int("axes") { return [tensordot(x[0], x[1], axes: n)] }
            return [tensordot(x[0], x[1], axesA: c.ints("axes_a")!, axesB: c.ints("axes_b")!)]
        case "inner": return [inner(x[0], x[1])]
        case "outer": return [outer(x[0], x[1])]
        case "kron": return [kron(x[0], x[1])]
        case "diag": return [diag(x[0], k: c.int("k")!)]
        case "diagonal": return [diagonal(x[0], offset: c.int("offset")!, axis1: c.int("axis1")!, axis2: c.int("axis2")!)]
        case "trace": return [trace(x[0], offset: c.int("offset")!, axis1: c.int("axis1")!, axis2: c.int("axis2")!)]
        case "roll": return [roll(x[0], shift: c.int("shift")!, axis: c.isNull("axis") ? nil : c.int("axis"))]
        case "flip": return [flip(x[0], axes: c.isNull("axes") ? nil : c.ints("axes"))]
        case "atleast_1d": return [atleast1d(x[0])]
        case "atleast_2d": return [atleast2d(x[0])]
        case "atleast_3d": return [atleast3d(x[0])]
        case "unflatten": return [unflatten(x[0], axis: c.int("axis")!, shape: c.ints("shape")!)]
        case "pad_edge": return [padded(x[0], widths: c.intLists("pad_width")!.map { ($0[0], $0[1]) }, mode: .edge)]
        case "addmm": return [addmm(x[0], x[1], x[2], alpha: c.double("alpha")!, beta: c.double("beta")!)]
        case "meshgrid": return meshgrid(x, indexing: c.string("indexing")!)
        default: return nil
        }
    }

    func testContractionsAndShapes() {
        guard let f = loadFixtures("ops_misc.json") else { return }
        var passed = 0
        for c in f.cases {
            var results: [Tensor]?
            do { results = try withError { Self.run(c) } } catch { XCTFail("\(c.name): Zoo raised \(error)"); continue }
            guard let results else { XCTFail("\(c.name): op \(c.op) is not mapped"); continue }
            let expected = c.expectedList ?? [c.expected!]
            XCTAssertEqual(results.count, expected.count, c.name)
            let before = testRun?.failureCount ?? 0
            for (r, e) in zip(results, expected) { assertFixtureMatches(OpFixtureTests.actual(r), e, case: c) }
            if (testRun?.failureCount ?? 0) == before { passed += 1 }
        }
        XCTAssertGreaterThan(f.cases.count, 0)
        print("ops_misc.json: \(passed) passed of \(f.cases.count) cases")
    }

    func testErrors() {
        func expectError(_ op: String, _ mentions: [String], _ body: () -> Void, line: UInt = #line) {
            do { try withError { body() }; XCTFail("expected an error from \(op)", line: line) } catch let e as EngineError {
                XCTAssertEqual(e.op, op, line: line)
                for m in mentions { XCTAssertTrue(e.localizedDescription.contains(m), "'\(e.localizedDescription)' lacks \(m)", line: line) }
            } catch { XCTFail("\(error)", line: line) }
        }
        let a = zeros([2, 3]), b = zeros([4, 5])
        expectError("einsum", ["'j'", "3", "4"]) { _ = einsum("ij,jk->ik", a, b) }
        expectError("einsum", ["ranks"]) { _ = einsum("ijk,jk->ik", a, b) }
        expectError("einsum", ["2 operands", "1"]) { _ = einsum("ij,jk->ik", a) }
        expectError("einsum", ["\"q\""]) { _ = einsum("ij->q", a) }
        expectError("tensordot", ["(2,3)", "(4,5)"]) { _ = tensordot(a, b, axes: 1) }
        expectError("inner", ["(2,3)", "(4,5)"]) { _ = inner(a, b) }
        expectError("diagonal", ["axis1", "differ"]) { _ = diagonal(a, axis1: 0, axis2: 0) }
        expectError("diag", ["(2,3,4)"]) { _ = diag(zeros([2, 3, 4])) }
        expectError("unflatten", ["size 3", "[2, 2]"]) { _ = unflatten(a, axis: 1, shape: [2, 2]) }
        expectError("roll", ["axis 2"]) { _ = roll(a, shift: 1, axis: 2) }
    }
}
