// Compares RandomAlgorithms with MLX 0.32.4 outputs written by
// tools/gen_random_fixtures.py into fixtures/engine/random.json.
// Every float comparison is exact (same bit pattern).

import Foundation
import XCTest
@testable import Engine

final class RandomAlgorithmsTests: XCTestCase {

    // MARK: Fixture model

    struct Fixture: Decodable {
        let versions: [String: String]
        let seeds: [SeedCase]
        let special: [String: FunctionCase]
    }

    struct FunctionCase: Decodable { let x: [Double], y: [Double] }

    struct SeedCase: Decodable {
        let seed: UInt64
        let key: [UInt32]
        let split2: [[UInt32]]
        let split3: [[UInt32]]
        let split5: [[UInt32]]
        let uniform: [UniformCase]
        let normal: [NormalCase]
        let randint: [RandIntCase]
        let bernoulli: [BernoulliCase]
        let gumbel: [ShapeCase]
        let laplace: [LaplaceCase]
        let truncated_normal: [TruncCase]
        let permutation: [PermCase]
        let categorical: [CategoricalCase]
        let global_sequence: [SeqCall]
    }

    struct UniformCase: Decodable {
        let dtype: String, shape: [Int], low: Double, high: Double, values: [Double]
    }
    struct NormalCase: Decodable {
        let dtype: String, shape: [Int], loc: Double, scale: Double, values: [Double]
    }
    struct RandIntCase: Decodable { let shape: [Int], low: Int, high: Int, values: [Int64] }
    struct BernoulliCase: Decodable { let p: Double, shape: [Int], values: [Bool] }
    struct ShapeCase: Decodable { let shape: [Int], values: [Double] }
    struct LaplaceCase: Decodable { let shape: [Int], loc: Double, scale: Double, values: [Double] }
    struct TruncCase: Decodable { let shape: [Int], lower: Double, upper: Double, values: [Double] }
    struct PermCase: Decodable { let n: Int, values: [Int] }
    struct CategoricalCase: Decodable { let logits: [[Double]], num_samples: Int?, values: [Int] }
    struct SeqCall: Decodable {
        let op: String, shape: [Int], low: Int?, high: Int?
        let values: [Double]
    }

    static let fixture: Fixture = {
        // Tests/EngineTests/<this file> -> package root.
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = root.appendingPathComponent("fixtures/engine/random.json")
        do {
            return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path) (run tools/gen_random_fixtures.py): \(error)")
        }
    }()

    // MARK: Helpers

    private func format(_ name: String) -> RandomAlgorithms.FloatFormat {
        switch name {
        case "float32": return .float32
        case "float16": return .float16
        case "bfloat16": return .bfloat16
        default:
            XCTFail("unknown dtype \(name)")
            return .float32
        }
    }

    /// Exact comparison of float results (bit patterns); returns the number of
    /// values compared.
    @discardableResult
    private func assertExact(_ got: [Float], _ want: [Double], _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) -> Int {
        XCTAssertEqual(got.count, want.count, "\(what): count", file: file, line: line)
        var bad = 0
        for (i, (g, w)) in zip(got, want).enumerated() {
            let wf = Float(w)
            XCTAssertEqual(Double(wf), w, "\(what)[\(i)]: fixture value is not a float32", file: file, line: line)
            if g.bitPattern != wf.bitPattern {
                bad += 1
                if bad <= 5 {
                    XCTFail("\(what)[\(i)]: got \(g) (0x\(String(g.bitPattern, radix: 16))), MLX \(wf) (0x\(String(wf.bitPattern, radix: 16)))",
                            file: file, line: line)
                }
            }
        }
        if bad > 5 { XCTFail("\(what): \(bad) of \(want.count) values differ", file: file, line: line) }
        return want.count
    }

    private func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    // MARK: Tests

    func testFixtureVersionsAndSeeds() {
        let f = Self.fixture
        XCTAssertEqual(f.versions["mlx"], "0.32.4")
        XCTAssertEqual(f.seeds.map(\.seed), [0, 1, 42, (1 << 40) + 7])
    }

    func testThreefryKnownAnswers() {
        // Random123 known-answer vectors for threefry2x32 with 20 rounds.
        var r = RandomAlgorithms.threefry2x32(key: (0, 0), (0, 0))
        XCTAssertEqual([r.0, r.1], [0x6B20_0159, 0x99BA_4EFE])
        r = RandomAlgorithms.threefry2x32(key: (.max, .max), (.max, .max))
        XCTAssertEqual([r.0, r.1], [0x1CB9_96FC, 0xBB00_2BE7])
        r = RandomAlgorithms.threefry2x32(key: (0x1319_8A2E, 0x0370_7344), (0x243F_6A88, 0x85A3_08D3))
        XCTAssertEqual([r.0, r.1], [0xC492_3A9C, 0x483D_F7A0])
    }

    func testKeyAndSplit() {
        for s in Self.fixture.seeds {
            let k = RandomAlgorithms.key(s.seed)
            XCTAssertEqual(k, s.key, "key(\(s.seed))")
            XCTAssertEqual(RandomAlgorithms.split(key: k), s.split2, "split(key(\(s.seed)), 2)")
            XCTAssertEqual(RandomAlgorithms.split(key: k, count: 3), s.split3, "split(key(\(s.seed)), 3)")
            XCTAssertEqual(RandomAlgorithms.split(key: k, count: 5), s.split5, "split(key(\(s.seed)), 5)")
        }
        XCTAssertEqual(RandomAlgorithms.key((1 << 40) + 7), [256, 7])
    }

    func testBitsLayoutAndWidths() {
        for s in Self.fixture.seeds {
            let k = s.key
            // split(k, n) is bits of 2n words: the 4-byte layout for even counts.
            XCTAssertEqual(RandomAlgorithms.bits(key: k, count: 10), s.split5.flatMap { $0 })
            // Narrow widths are the little-endian bytes of the same words.
            for n in [1, 2, 3, 5, 7, 8, 13] {
                let bytes = RandomAlgorithms.bitsBytes(key: k, byteCount: n)
                let w = RandomAlgorithms.bits(key: k, count: (n + 3) / 4)
                XCTAssertEqual(bytes, (0..<n).map { UInt8(truncatingIfNeeded: w[$0 / 4] >> (8 * UInt32($0 % 4))) })
                XCTAssertEqual(RandomAlgorithms.bits(key: k, count: n, width: 1), bytes.map { UInt32($0) })
                let halves = RandomAlgorithms.bitsBytes(key: k, byteCount: 2 * n)
                XCTAssertEqual(RandomAlgorithms.bits(key: k, count: n, width: 2),
                               (0..<n).map { UInt32(halves[2 * $0]) | UInt32(halves[2 * $0 + 1]) << 8 })
            }
            // The layout depends on the total size: the first words of a
            // longer draw differ (halves are interleaved), so a prefix is not
            // a shorter draw.
            XCTAssertNotEqual(Array(RandomAlgorithms.bits(key: k, count: 8).prefix(4)),
                              RandomAlgorithms.bits(key: k, count: 4))
        }
    }

    func testUniform() {
        var n = 0
        for s in Self.fixture.seeds {
            for c in s.uniform {
                let f = format(c.dtype)
                let got = RandomAlgorithms.uniform(key: s.key, count: count(c.shape),
                                                   low: Float(c.low), high: Float(c.high), format: f)
                n += assertExact(got, c.values, "uniform seed \(s.seed) \(c.dtype) \(c.shape) [\(c.low), \(c.high))")
                for v in got {
                    XCTAssertEqual(f.round(v), v, "uniform \(c.dtype) value \(v) not representable")
                    XCTAssert(v >= Float(c.low) && v < Float(c.high), "uniform value \(v) out of range")
                }
            }
        }
        XCTAssertGreaterThan(n, 500)
    }

    func testUniformPerElementBoundsMatchesScalar() {
        let k = RandomAlgorithms.key(3)
        let a = RandomAlgorithms.uniform(key: k, count: 9, low: -2, high: 5)
        let b = RandomAlgorithms.uniform(key: k, low: Array(repeating: -2, count: 9), high: Array(repeating: 5, count: 9))
        XCTAssertEqual(a, b)
    }

    func testNormal() {
        for s in Self.fixture.seeds {
            for c in s.normal {
                let got = RandomAlgorithms.normal(key: s.key, count: count(c.shape), loc: Float(c.loc),
                                                  scale: Float(c.scale), format: format(c.dtype))
                assertExact(got, c.values, "normal seed \(s.seed) \(c.dtype) \(c.shape) loc \(c.loc) scale \(c.scale)")
            }
        }
    }

    func testRandInt() {
        for s in Self.fixture.seeds {
            for c in s.randint {
                let got = RandomAlgorithms.randInt(key: s.key, count: count(c.shape), low: c.low, high: c.high)
                XCTAssertEqual(got, c.values, "randint seed \(s.seed) \(c.shape) [\(c.low), \(c.high))")
                XCTAssert(got.allSatisfy { $0 >= c.low && $0 < c.high })
            }
        }
    }

    func testBernoulli() {
        for s in Self.fixture.seeds {
            for c in s.bernoulli {
                let n = count(c.shape)
                XCTAssertEqual(RandomAlgorithms.bernoulli(key: s.key, count: n, p: Float(c.p)), c.values,
                               "bernoulli seed \(s.seed) p \(c.p)")
                XCTAssertEqual(RandomAlgorithms.bernoulli(key: s.key, p: Array(repeating: Float(c.p), count: n)), c.values)
            }
        }
    }

    func testGumbelLaplaceTruncatedNormal() {
        for s in Self.fixture.seeds {
            for c in s.gumbel {
                assertExact(RandomAlgorithms.gumbel(key: s.key, count: count(c.shape)), c.values,
                            "gumbel seed \(s.seed) \(c.shape)")
            }
            for c in s.laplace {
                assertExact(RandomAlgorithms.laplace(key: s.key, count: count(c.shape), loc: Float(c.loc), scale: Float(c.scale)),
                            c.values, "laplace seed \(s.seed) \(c.shape) loc \(c.loc) scale \(c.scale)")
            }
            for c in s.truncated_normal {
                let got = RandomAlgorithms.truncatedNormal(key: s.key, count: count(c.shape),
                                                           lower: Float(c.lower), upper: Float(c.upper))
                assertExact(got, c.values, "truncated_normal seed \(s.seed) (\(c.lower), \(c.upper))")
            }
        }
    }

    func testPermutationAndCategorical() {
        for s in Self.fixture.seeds {
            for c in s.permutation {
                let got = RandomAlgorithms.permutation(key: s.key, count: c.n)
                XCTAssertEqual(got, c.values, "permutation(\(c.n)) seed \(s.seed)")
                XCTAssertEqual(got.sorted(), Array(0..<c.n))
            }
            for c in s.categorical {
                let logits = c.logits.map { $0.map { Float($0) } }
                if let m = c.num_samples {
                    let got = RandomAlgorithms.categorical(key: s.key, logits: logits, numSamples: m)
                    XCTAssertEqual(got.flatMap { $0 }, c.values, "categorical num_samples \(m) seed \(s.seed)")
                } else {
                    XCTAssertEqual(RandomAlgorithms.categorical(key: s.key, logits: logits), c.values,
                                   "categorical seed \(s.seed)")
                }
            }
        }
    }

    func testGlobalSeedSequence() {
        for s in Self.fixture.seeds {
            var seq = RandomAlgorithms.KeySequence(seed: s.seed)
            for (i, call) in s.global_sequence.enumerated() {
                let k = seq.next()
                let n = count(call.shape)
                let what = "global sequence seed \(s.seed) call \(i) (\(call.op))"
                switch call.op {
                case "uniform": assertExact(RandomAlgorithms.uniform(key: k, count: n), call.values, what)
                case "normal": assertExact(RandomAlgorithms.normal(key: k, count: n), call.values, what)
                case "randint":
                    let got = RandomAlgorithms.randInt(key: k, count: n, low: call.low ?? 0, high: call.high ?? 0)
                    XCTAssertEqual(got.map { Double($0) }, call.values, what)
                default: XCTFail("unknown op \(call.op)")
                }
            }
            // The first call's key is split(key(seed))[1].
            var fresh = RandomAlgorithms.KeySequence(seed: s.seed)
            XCTAssertEqual(fresh.next(), s.split2[1])
            XCTAssertEqual(fresh.state, s.split2[0])
        }
    }

    func testSpecialFunctionsMatchMLX() {
        let fns: [(String, (Float) -> Float)] = [
            ("exp", RandomAlgorithms.mlxExp), ("erf", RandomAlgorithms.erf), ("erfinv", RandomAlgorithms.erfinv),
        ]
        for (name, fn) in fns {
            guard let c = Self.fixture.special[name] else {
                XCTFail("fixture has no \(name) case")
                continue
            }
            XCTAssertGreaterThan(c.x.count, 100)
            assertExact(c.x.map { fn(Float($0)) }, c.y, "mx.\(name)")
        }
    }

    func testHalfRounding() {
        typealias R = RandomAlgorithms
        XCTAssertEqual(R.roundToFloat16(1 + 0x1p-11), 1)             // tie -> even
        XCTAssertEqual(R.roundToFloat16(1 + 3 * 0x1p-11), 1 + 0x1p-9)  // tie -> even (up)
        XCTAssertEqual(R.roundToFloat16(65519), 65504)
        XCTAssertEqual(R.roundToFloat16(65520), .infinity)
        XCTAssertEqual(R.roundToFloat16(-0x1p-25), 0)                   // ties to 0 (even)
        XCTAssertEqual(R.roundToFloat16(0x1.8p-25), 0x1p-24)
        XCTAssertEqual(R.roundToBFloat16(1 + 0x1p-8), 1)
        XCTAssertEqual(R.roundToBFloat16(1 + 3 * 0x1p-8), 1 + 0x1p-6)
        XCTAssert(R.roundToBFloat16(.nan).isNaN)
        #if !(os(macOS) && arch(x86_64))
        var g = SystemRandomNumberGenerator()
        for _ in 0..<20000 {
            let x = Float(bitPattern: UInt32.random(in: 0x3000_0000...0x4780_0000, using: &g))
            XCTAssertEqual(R.roundToFloat16(x), Float(Float16(x)), "\(x)")
        }
        #endif
    }

    func testErfinvProperties() {
        // erfinv is odd and inverts MLX's erf to within a few ulps.
        for x: Float in [-0.999, -0.5, -1e-3, 0.25, 0.75, 0.99] {
            XCTAssertEqual(RandomAlgorithms.erfinv(-x), -RandomAlgorithms.erfinv(x))
            XCTAssertEqual(RandomAlgorithms.erf(RandomAlgorithms.erfinv(x)), x, accuracy: 1e-6)
        }
        XCTAssertEqual(RandomAlgorithms.erfinv(0), 0)
    }
}
