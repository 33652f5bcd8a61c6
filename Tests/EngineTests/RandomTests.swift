import Foundation
import XCTest
@testable import Engine

/// The public `Random` API (lazy tensors) against MLX's values in fixtures/engine/random.json.
final class RandomTests: XCTestCase {
    struct Fixture: Decodable {
        struct Seed: Decodable {
            struct Sample: Decodable {
                let dtype: String?
                let shape: [Int]
                let low: Double?, high: Double?, loc: Double?, scale: Double?
                let values: [Double]
            }
            let seed: UInt64
            let key: [UInt32]
            let split2: [[UInt32]]
            let split3: [[UInt32]]
            let uniform: [Sample]
            let normal: [Sample]
            let randint: [Sample]
        }
        let seeds: [Seed]
    }

    func load() throws -> Fixture {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("fixtures/engine/random.json"))
        return try JSONDecoder().decode(Fixture.self, from: data)
    }

    func testKeysSplitAndSamplersMatchMLX() throws {
        let f = try load()
        var compared = 0
        for s in f.seeds {
            let key = Random.key(s.seed)
            XCTAssertEqual(key.toArray(UInt32.self), s.key)
            XCTAssertEqual(Random.split(key).toArray(UInt32.self), s.split2.flatMap { $0 })
            XCTAssertEqual(Random.split(key, count: 3).toArray(UInt32.self), s.split3.flatMap { $0 })
            for u in s.uniform {
                let dt = DType(name: u.dtype ?? "float32")!
                let t = Random.uniform(low: Float(u.low!), high: Float(u.high!), u.shape, dtype: dt, key: key)
                XCTAssertEqual(t.shape, u.shape)
                XCTAssertEqual(t.dtype, dt)
                XCTAssertEqual(t.toArray(Double.self), u.values, "uniform seed \(s.seed) \(u.shape) \(dt)")
                compared += u.values.count
            }
            for n in s.normal {
                let dt = DType(name: n.dtype ?? "float32")!
                let t = Random.normal(n.shape, dtype: dt, loc: Float(n.loc!), scale: Float(n.scale!), key: key)
                XCTAssertEqual(t.toArray(Double.self), n.values, "normal seed \(s.seed) \(n.shape)")
                compared += n.values.count
            }
            for r in s.randint {
                let t = Random.randInt(low: Int(r.low!), high: Int(r.high!), r.shape, key: key)
                XCTAssertEqual(t.dtype, .int32)
                XCTAssertEqual(t.toArray(Double.self), r.values, "randint seed \(s.seed) \(r.shape)")
                compared += r.values.count
            }
        }
        XCTAssertGreaterThan(compared, 100)
    }

    func testSplitKeysIndexLikeTensors() throws {
        let keys = Random.split(Random.key(0), count: 2)
        let a = Random.uniform([4], key: keys[0]), b = Random.uniform([4], key: keys[1])
        XCTAssertNotEqual(a.toArray(Float.self), b.toArray(Float.self))
        XCTAssertEqual(Random.uniform([4], key: keys[0]).toArray(Float.self), a.toArray(Float.self))
    }
}
