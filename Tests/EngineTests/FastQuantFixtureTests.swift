import XCTest
@testable import Engine

/// fixtures/engine/ops_fast.json and ops_quant.json (MLX 0.32.4 through tools/gen_ops_fixtures.py):
/// the fused `Fast` ops and affine quantization, run through Zoo's public API and compared.
final class FastQuantFixtureTests: XCTestCase {
    static func run(_ c: FixtureCase) -> [Tensor]? {
        let x = c.inputs.map(OpFixtureTests.tensor)
        switch c.op {
        case "rms_norm":
            return [Fast.rmsNorm(x[0], weight: x.count > 1 ? x[1] : nil, eps: Float(c.double("eps")!))]
        case "layer_norm":
            var next = 1
            var w: Tensor?, b: Tensor?
            if c.bool("has_weight")! { w = x[next]; next += 1 }
            if c.bool("has_bias")! { b = x[next] }
            return [Fast.layerNorm(x[0], weight: w, bias: b, eps: Float(c.double("eps")!))]
        case "rope":
            return [Fast.rope(x[0], dimensions: c.int("dims")!, traditional: c.bool("traditional")!,
                              base: c.double("base").map { Float($0) }, scale: Float(c.double("scale")!),
                              offset: c.int("offset")!, freqs: x.count > 1 ? x[1] : nil)]
        case "sdpa":
            let mask: AttentionMask
            switch c.string("mask")! {
            case "causal": mask = .causal
            case "additive": mask = .additive(x[3])
            default: mask = .none
            }
            return [Fast.scaledDotProductAttention(queries: x[0], keys: x[1], values: x[2],
                                                   scale: Float(c.double("scale")!), mask: mask)]
        case "quantize":
            let (wq, s, b) = quantize(x[0], groupSize: c.int("group_size")!, bits: c.int("bits")!)
            return [wq, s, b]
        case "dequantize":
            return [dequantize(x[0], scales: x[1], biases: x[2], groupSize: c.int("group_size")!, bits: c.int("bits")!)]
        case "quantized_matmul":
            return [quantizedMatmul(x[0], x[1], scales: x[2], biases: x[3], transpose: c.bool("transpose")!,
                                    groupSize: c.int("group_size")!, bits: c.int("bits")!)]
        default:
            return nil
        }
    }

    func check(_ file: String) {
        guard let f = loadFixtures(file) else { return }
        var passed = 0, failed = 0
        for c in f.cases {
            var results: [Tensor]?
            do {
                results = try withError { Self.run(c) }
            } catch {
                XCTFail("\(c.name): Zoo raised \(error)")
                failed += 1
                continue
            }
            guard let results else { XCTFail("\(c.name): op \(c.op) is not mapped"); failed += 1; continue }
            let expected = c.expectedList ?? [c.expected!]
            XCTAssertEqual(results.count, expected.count, c.name)
            let before = testRun?.failureCount ?? 0
            for (r, e) in zip(results, expected) { assertFixtureMatches(OpFixtureTests.actual(r), e, case: c) }
            if (testRun?.failureCount ?? 0) > before { failed += 1 } else { passed += 1 }
        }
        XCTAssertGreaterThan(f.cases.count, 0)
        print("\(file): \(passed) passed, \(failed) failed of \(f.cases.count) cases")
    }

    func testFast() { check("ops_fast.json") }
    func testQuantization() { check("ops_quant.json") }
}
