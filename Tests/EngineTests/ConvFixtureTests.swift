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

/// Shapes past the fixtures' through the direct kernel (several 16-channel blocks, a partial
/// one, pixel tiles that straddle output rows, bands of rows over cores): a direct sum in
/// double precision at sampled outputs.
final class ConvDirectTests: XCTestCase {
    func testSampledOutputs() {
        // (N, H, W, Cin, Cout, KH, KW, stride, padding, dilation)
        let shapes = [(2, 19, 23, 20, 37, 3, 3, (1, 1), (1, 1), (1, 1)),
                      (1, 30, 17, 8, 16, 5, 3, (2, 1), (2, 0), (1, 2)),
                      (3, 1, 50, 6, 21, 1, 7, (1, 3), (0, 4), (1, 1))]
        for (i, s) in shapes.enumerated() {
            let (N, H, W, C, Co, KH, KW, st, pad, dil) = s
            let x = Random.uniform(low: -1, high: 1, [N, H, W, C], key: Random.key(UInt64(40 + i)))
            let w = Random.uniform(low: -0.2, high: 0.2, [Co, KH, KW, C], key: Random.key(UInt64(50 + i)))
            let y = conv2d(x, w, stride: st, padding: pad, dilation: dil)
            let Ho = (H + 2 * pad.0 - dil.0 * (KH - 1) - 1) / st.0 + 1, Wo = (W + 2 * pad.1 - dil.1 * (KW - 1) - 1) / st.1 + 1
            XCTAssertEqual(y.shape, [N, Ho, Wo, Co])
            let xs = x.toArray(Double.self), ws = w.toArray(Double.self), ys = y.toArray(Float.self)
            for t in 0..<200 {
                let idx = (t * 7919 + 3) % ys.count
                let co = idx % Co, ox = (idx / Co) % Wo, oy = (idx / (Co * Wo)) % Ho, n = idx / (Co * Wo * Ho)
                var sum = 0.0
                for ky in 0..<KH { for kx in 0..<KW {
                    let iy = oy * st.0 - pad.0 + ky * dil.0, ix = ox * st.1 - pad.1 + kx * dil.1
                    if iy < 0 || iy >= H || ix < 0 || ix >= W { continue }
                    for c in 0..<C { sum += xs[((n * H + iy) * W + ix) * C + c] * ws[((co * KH + ky) * KW + kx) * C + c] }
                } }
                XCTAssertEqual(Double(ys[idx]), sum, accuracy: 1e-5, "shape \(i) output \(idx)")
            }
        }
        // conv1d through the same kernel (as an image of height 1).
        let x1 = Random.uniform(low: -1, high: 1, [2, 40, 5], key: Random.key(60))
        let w1 = Random.uniform(low: -1, high: 1, [18, 4, 5], key: Random.key(61))
        let y1 = conv1d(x1, w1, stride: 2, padding: 3, dilation: 2)
        let y2 = conv2d(x1.expandedDimensions(axis: 1), w1.expandedDimensions(axis: 1), stride: (1, 2), padding: (0, 3),
                        dilation: (1, 2)).squeezed(axis: 1)
        XCTAssertEqual(y1.shape, y2.shape)
        XCTAssertLessThan((y1 - y2).abs().max().item(Float.self), 1e-6)
    }
}
