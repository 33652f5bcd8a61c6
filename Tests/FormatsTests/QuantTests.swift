import Engine
import Foundation
@testable import Formats
import XCTest

final class QuantTests: XCTestCase {
    func testBlockLayoutsHaveGGMLSizes() {
        // Sizes from the block layouts documented in GGMLDequantize.swift; gguf-py agrees (the
        // reader checks every tensor's byte size against them on the reference files).
        for t in GGMLType.allCases where t.isQuantized {
            let (bs, ts) = t.blockLayout
            XCTAssertTrue(bs == 32 || bs == 256, "\(t)")
            XCTAssertGreaterThan(ts, bs / 8, "\(t)")
        }
    }

    /// Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 encoders produce gguf-py's bytes.
    func testEncodersMatchGGUFPy() throws {
        let enc = Fixtures.section("encode")
        let x = Fixtures.floats(Fixtures.entry(enc["input"]!).bytes)
        var mismatchedBlocks = 0
        for (name, type) in [("Q8_0", GGMLType.q8_0), ("Q4_0", .q4_0), ("Q4_1", .q4_1), ("Q5_0", .q5_0), ("Q5_1", .q5_1)] {
            let want = Fixtures.bytes(hex: enc[name] as! String)
            let got = try GGMLBlocks.quantize(type, x)
            XCTAssertEqual(got.count, want.count, name)
            let ts = type.blockLayout.typeSize
            for b in 0 ..< got.count / ts where got[b * ts ..< (b + 1) * ts] != want[b * ts ..< (b + 1) * ts] {
                mismatchedBlocks += 1
                XCTFail("\(name) block \(b) differs from gguf-py")
            }
        }
        XCTAssertEqual(mismatchedBlocks, 0)
    }

    /// llama.cpp's test-quantize-fns measure: sqrt(Σ(x − y)²) / n on its synthetic data
    /// 0.1 + 2 cos(i + offset), n = 4096; bound 0.002 for 4-bit and wider types.
    func testKQuantEncodersMeetLlamaCppErrorBounds() throws {
        let n = 32 * 128
        let x = (0 ..< n).map { Float(0.1 + 2 * cos(Double($0) + 0.0)) }
        for type in [GGMLType.q4_K, .q6_K, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0] {
            let q = try GGMLBlocks.quantize(type, x)
            let y = try q.withUnsafeBytes { try GGMLBlocks.dequantize(type, $0, count: n) }
            let sse = zip(x, y).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
            let metric = sqrt(sse) / Double(n)
            XCTAssertLessThan(metric, 0.002, "\(type)")
            // And the K-quants are at least as good as their block-32 counterparts.
            if type == .q4_K {
                let q41 = try GGMLBlocks.quantize(.q4_1, x)
                let y41 = try q41.withUnsafeBytes { try GGMLBlocks.dequantize(.q4_1, $0, count: n) }
                let sse41 = zip(x, y41).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
                XCTAssertLessThan(sse, sse41 * 1.5, "Q4_K error far above Q4_1's")
            }
        }
        // On Gaussian weights too (the case that matters for models).
        let rng = SystemRandomNumberGenerator()
        _ = rng
        let g = Random.normal([64 * 256], key: Random.key(7)).toArray(Float.self)
        for (type, bound) in [(GGMLType.q4_K, 0.12), (.q6_K, 0.03)] {
            let q = try GGMLBlocks.quantize(type, g)
            let y = try q.withUnsafeBytes { try GGMLBlocks.dequantize(type, $0, count: g.count) }
            let rmse = sqrt(zip(g, y).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(g.count))
            XCTAssertLessThan(rmse, bound, "\(type) relative RMSE on N(0,1)")
        }
    }

    /// GGML Q4_0/Q4_1/Q8_0 blocks → MLX affine triples, exactly as `mx.load` returns them.
    func testAffineFromGGUFMatchesMLXLoad() throws {
        let f = try GGUF.read(Fixtures.url("gguf/mlx_affine.gguf"))
        let exp = Fixtures.section("mlx_gguf")
        XCTAssertEqual(exp.count, 9)
        for t in f.tensorInfos {
            let base = String(t.name.dropLast(".weight".count))
            let q = try f.withRawBytes(t) { try MLXAffine.fromGGML(t.type, $0, rows: t.shape[0], columns: t.shape[1]) }
            let words = Fixtures.entry(exp["\(base).weight"]!)
            XCTAssertEqual(words.shape, [q.rows, q.wordsPerRow])
            XCTAssertEqual(q.words.withUnsafeBytes(Array.init), words.bytes, "\(t.name) packed words")
            XCTAssertEqual(q.scales, Fixtures.halves(Fixtures.entry(exp["\(base).scales"]!).bytes), "\(t.name) scales")
            XCTAssertEqual(q.biases, Fixtures.halves(Fixtures.entry(exp["\(base).biases"]!).bytes), "\(t.name) biases")
            // And the affine form dequantizes to the GGML values (float16 bias rounding aside for Q4_0/Q8_0 where exact).
            let ggml = try f.dequantized(named: t.name).toArray(Float.self)
            let affine = MLXAffine.dequantize(q)
            let maxErr = zip(ggml, affine).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(maxErr, 1e-6, "\(t.name)")
        }
    }

    /// Zoo's affine quantizer produces mx.quantize's packed bits, scales and biases.
    func testAffineQuantizeMatchesMLX() throws {
        let w = Fixtures.floats(Fixtures.entry(Fixtures.expected["mlx_quantize_input"]!).bytes)
        let cases = Fixtures.expected["mlx_quantize"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 18)
        var wordMismatches = 0, valueMismatches = 0
        for c in cases {
            let bits = (c["bits"] as! NSNumber).intValue, gs = (c["group_size"] as! NSNumber).intValue
            let q = try w.withUnsafeBufferPointer { try MLXAffine.quantize($0, rows: 8, columns: 256, groupSize: gs, bits: bits) }
            let wq = Fixtures.entry(c["wq"]!)
            XCTAssertEqual(wq.shape, [8, 256 * bits / 32])
            let got = q.words.withUnsafeBytes(Array.init)
            wordMismatches += zip(got, wq.bytes).filter { $0 != $1 }.count
            XCTAssertEqual(q.scales, Fixtures.floats(Fixtures.entry(c["scales"]!).bytes), "bits \(bits) group \(gs) scales")
            XCTAssertEqual(q.biases, Fixtures.floats(Fixtures.entry(c["biases"]!).bytes), "bits \(bits) group \(gs) biases")
            let deq = Fixtures.floats(Fixtures.entry(c["dequantized"]!).bytes)
            valueMismatches += zip(MLXAffine.dequantize(q), deq).filter { $0 != $1 }.count
        }
        XCTAssertEqual(wordMismatches, 0, "packed bytes differing from MLX")
        XCTAssertEqual(valueMismatches, 0, "dequantized values differing from MLX")
    }
}
