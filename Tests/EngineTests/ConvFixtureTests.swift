import XCTest
@testable import Engine

/// fixtures/engine/ops_conv.json (MLX 0.32.4 through tools/gen_ops_fixtures.py): conv1d/2d/3d
/// and their transposed forms, channels-last, with stride, padding, dilation and groups.
final class ConvFixtureTests: XCTestCase {
    func testConvolutions() {
        guard let f = loadFixtures("ops_conv.json") else { return }
        var passed = 0
        for c in f.cases {
            let x = c.inputs.map(OpFixtureTests.tensor)
            let st = c.ints("stride")!, pad = c.ints("padding")!, dil = c.ints("dilation")!, g = c.int("groups")!
            var r: Tensor?
            do {
                r = try withError { () -> Tensor? in
                    switch c.op {
                    case "conv1d": return conv1d(x[0], x[1], stride: st[0], padding: pad[0], dilation: dil[0], groups: g)
                    case "conv2d": return conv2d(x[0], x[1], stride: (st[0], st[1]), padding: (pad[0], pad[1]),
                                                 dilation: (dil[0], dil[1]), groups: g)
                    case "conv3d": return conv3d(x[0], x[1], stride: (st[0], st[1], st[2]), padding: (pad[0], pad[1], pad[2]),
                                                 dilation: (dil[0], dil[1], dil[2]), groups: g)
                    case "conv_transpose1d", "conv_transpose2d", "conv_transpose3d":
                        return convGeneral(x[0], x[1], stride: st, padding: pad, dilation: dil, groups: g, transposed: true,
                                           outputPadding: c.ints("output_padding")!)
                    default: return nil
                    }
                }
            } catch { XCTFail("\(c.name): Zoo raised \(error)"); continue }
            guard let r else { XCTFail("\(c.name): op \(c.op) is not mapped"); continue }
            let before = testRun?.failureCount ?? 0
            assertFixtureMatches(OpFixtureTests.actual(r), c.expected!, case: c)
            if (testRun?.failureCount ?? 0) == before { passed += 1 }
        }
        XCTAssertGreaterThan(f.cases.count, 0)
        print("ops_conv.json: \(passed) passed of \(f.cases.count) cases")
    }

    func testErrors() {
        func expectError(_ op: String, _ mentions: [String], _ body: () -> Void, line: UInt = #line) {
            do { try withError { body() }; XCTFail("expected an error from \(op)", line: line) } catch let e as EngineError {
                XCTAssertEqual(e.op, op, line: line)
                for m in mentions { XCTAssertTrue(e.localizedDescription.contains(m), "'\(e.localizedDescription)' lacks \(m)", line: line) }
            } catch { XCTFail("\(error)", line: line) }
        }
        let x = zeros([1, 5, 5, 4])
        expectError("conv2d", ["(1,5,5,4)", "(2,3,3,3)"]) { _ = conv2d(x, zeros([2, 3, 3, 3])) }
        expectError("conv2d", ["groups 3"]) { _ = conv2d(x, zeros([2, 3, 3, 4]), groups: 3) }
        expectError("conv2d", ["larger than the padded input"]) { _ = conv2d(x, zeros([2, 7, 7, 4])) }
        expectError("conv2d", ["stride"]) { _ = conv2d(x, zeros([2, 3, 3, 4]), stride: (0, 1)) }
        expectError("conv1d", ["(5,4)"]) { _ = conv1d(zeros([5, 4]), zeros([2, 3, 4])) }
    }
}
