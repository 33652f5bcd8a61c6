// Loading and comparing the op reference data in fixtures/engine/*.json, written by
// tools/gen_engine_fixtures.py from MLX for Python (see that script's header for the format).
//
// Pure Foundation + XCTest: nothing here knows Engine types, so an op-dispatch test
// converts a `FixtureTensor` into a `Tensor` (and back into `[Double]`/`[Bool]`/complex
// pairs) itself, then calls `assertFixtureMatches`.

import Foundation
import XCTest

// MARK: - Model

/// Flat row-major values of a fixture tensor, in the representation its dtype needs.
enum FixtureValues: Equatable, Sendable {
    case real([Double])                      // every integer and float dtype (integers are exact: |v| < 2^53)
    case bool([Bool])
    case complex([FixtureComplex])

    var count: Int {
        switch self {
        case .real(let v): return v.count
        case .bool(let v): return v.count
        case .complex(let v): return v.count
        }
    }
}

struct FixtureComplex: Equatable, Sendable {
    var re: Double
    var im: Double
}

/// A view applied to a base tensor before the op, in MLX and in Zoo alike.
enum FixtureView: Equatable, Sendable {
    case transpose(axes: [Int])
    case slice(start: [Int], stop: [Int], step: [Int])   // one entry per axis, steps > 0
    case broadcast(shape: [Int])
}

/// `T` of the fixture format: the base array (dtype, shape, values) and an optional view.
struct FixtureTensor: Equatable, Sendable {
    /// MLX dtype name: bool uint8 uint16 uint32 uint64 int8 int16 int32 int64 float16 bfloat16 float32 float64 complex64.
    var dtype: String
    var shape: [Int]
    var values: FixtureValues
    var view: FixtureView?

    var count: Int { shape.reduce(1, *) }
    var isBool: Bool { dtype == "bool" }
    var isComplex: Bool { dtype == "complex64" }
    var isFloatingPoint: Bool { ["float16", "bfloat16", "float32", "float64"].contains(dtype) }
    var isInteger: Bool { !isBool && !isComplex && !isFloatingPoint }

    /// Values as doubles (bool as 0/1). Complex tensors trap: use `complexes`.
    var doubles: [Double] {
        switch values {
        case .real(let v): return v
        case .bool(let v): return v.map { $0 ? 1 : 0 }
        case .complex: preconditionFailure("\(dtype) tensor read as doubles")
        }
    }

    /// Integer dtypes' values (exact: the fixtures keep them below 2^53).
    var integers: [Int64] { doubles.map { Int64(exactly: $0)! } }

    /// Values as bools (non-zero is true).
    var bools: [Bool] {
        switch values {
        case .bool(let v): return v
        case .real(let v): return v.map { $0 != 0 }
        case .complex(let v): return v.map { $0.re != 0 || $0.im != 0 }
        }
    }

    /// Values as complex pairs (real tensors get zero imaginary parts).
    var complexes: [FixtureComplex] {
        switch values {
        case .complex(let v): return v
        default: return doubles.map { FixtureComplex(re: $0, im: 0) }
        }
    }

    /// The base with its view applied, as a contiguous tensor without a view.
    func materialized() -> FixtureTensor {
        guard let view else { return self }
        let (outShape, sourceIndex) = FixtureTensor.gather(shape: shape, view: view)
        let picked: FixtureValues
        switch values {
        case .real(let v): picked = .real(sourceIndex.map { v[$0] })
        case .bool(let v): picked = .bool(sourceIndex.map { v[$0] })
        case .complex(let v): picked = .complex(sourceIndex.map { v[$0] })
        }
        return FixtureTensor(dtype: dtype, shape: outShape, values: picked, view: nil)
    }

    /// Shape after the view (the shape the op sees).
    var viewedShape: [Int] {
        guard let view else { return shape }
        return FixtureTensor.viewShape(shape: shape, view: view)
    }

    static func viewShape(shape: [Int], view: FixtureView) -> [Int] {
        switch view {
        case .transpose(let axes):
            return axes.map { shape[$0 < 0 ? $0 + shape.count : $0] }
        case .slice(let start, let stop, let step):
            return shape.indices.map { d in
                let (lo, hi) = clampedRange(start[d], stop[d], dim: shape[d])
                return hi > lo ? (hi - lo + step[d] - 1) / step[d] : 0
            }
        case .broadcast(let target):
            return target
        }
    }

    /// Python slice clamping for a positive step.
    private static func clampedRange(_ start: Int, _ stop: Int, dim: Int) -> (Int, Int) {
        func clamp(_ i: Int) -> Int { i < 0 ? max(0, i + dim) : min(i, dim) }
        return (clamp(start), clamp(stop))
    }

    /// Output shape of a view and, for each output element in row-major order, its flat index in the base.
    static func gather(shape: [Int], view: FixtureView) -> (shape: [Int], indices: [Int]) {
        let outShape = viewShape(shape: shape, view: view)
        var baseStrides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            baseStrides[d] = s
            s *= shape[d]
        }
        // offset + strides over the output axes
        var offset = 0
        var strides: [Int]
        switch view {
        case .transpose(let axes):
            strides = axes.map { baseStrides[$0 < 0 ? $0 + shape.count : $0] }
        case .slice(let start, let stop, let step):
            strides = shape.indices.map { baseStrides[$0] * step[$0] }
            for d in shape.indices {
                offset += clampedRange(start[d], stop[d], dim: shape[d]).0 * baseStrides[d]
            }
        case .broadcast(let target):
            strides = [Int](repeating: 0, count: target.count)
            let lead = target.count - shape.count
            for d in shape.indices where shape[d] != 1 {
                strides[lead + d] = baseStrides[d]
            }
        }
        let total = outShape.reduce(1, *)
        var indices = [Int]()
        indices.reserveCapacity(total)
        if total == 0 { return (outShape, []) }
        var counter = [Int](repeating: 0, count: outShape.count)
        for _ in 0..<total {
            var flat = offset
            for d in counter.indices { flat += counter[d] * strides[d] }
            indices.append(flat)
            var d = outShape.count - 1
            while d >= 0 {
                counter[d] += 1
                if counter[d] < outShape[d] { break }
                counter[d] = 0
                d -= 1
            }
        }
        return (outShape, indices)
    }
}

/// One element of a `getitem`/`setitem` index.
enum FixtureIndex: Equatable, Sendable {
    case int(Int)
    case slice(start: Int?, stop: Int?, step: Int?)
    case ellipsis
    case newAxis
    case tensor(FixtureTensor)
}

/// One op case: `op` applied to `inputs` with `params` gives `expected` (or `expectedList` for split).
struct FixtureCase: Sendable {
    var name: String
    var op: String
    var inputs: [FixtureTensor]
    /// Raw JSON params; the typed accessors below read them.
    var params: [String: FixtureJSONValue]
    var expected: FixtureTensor?
    var expectedList: [FixtureTensor]?

    var rtol: Double { double("rtol") ?? 0 }
    var atol: Double { double("atol") ?? 0 }
    /// True when the case carries a tolerance; otherwise results must match exactly.
    var hasTolerance: Bool { params["rtol"] != nil || params["atol"] != nil }

    /// Whether `key` is present with JSON null (e.g. `axes: null` = all axes).
    func isNull(_ key: String) -> Bool { params[key] == .null }
    func has(_ key: String) -> Bool { params[key] != nil }
    /// A number param as an integer (nil when missing, null or not integral).
    func int(_ key: String) -> Int? { params[key]?.int }
    /// A number param ("nan"/"inf"/"-inf" strings included).
    func double(_ key: String) -> Double? { params[key]?.number }
    func bool(_ key: String) -> Bool? { params[key]?.bool }
    func string(_ key: String) -> String? { params[key]?.string }
    /// An integer list; nil when missing or null.
    func ints(_ key: String) -> [Int]? { params[key]?.array?.map { $0.int! } }
    /// A list of integer lists (pad widths).
    func intLists(_ key: String) -> [[Int]]? { params[key]?.array?.map { $0.array!.map { $0.int! } } }
    /// A tensor-valued param (setitem's "value").
    func tensor(_ key: String) -> FixtureTensor? {
        guard let v = params[key], case .object = v else { return nil }
        return try? FixtureJSON.tensor(v)
    }
    /// getitem/setitem's "index".
    var index: [FixtureIndex]? {
        guard let list = params["index"]?.array else { return nil }
        return list.map { item in
            guard case .object(let obj) = item else { preconditionFailure("index element \(item)") }
            if let k = obj["int"] { return .int(k.int!) }
            if let s = obj["slice"]?.array { return .slice(start: s[0].int, stop: s[1].int, step: s[2].int) }
            if obj["ellipsis"] != nil { return .ellipsis }
            if obj["newaxis"] != nil { return .newAxis }
            if let t = obj["tensor"] { return .tensor(try! FixtureJSON.tensor(t)) }
            preconditionFailure("unknown index element \(obj)")
        }
    }
}

struct FixtureFile: Sendable {
    var generator: String
    var mlxVersion: String
    var numpyVersion: String
    var cases: [FixtureCase]

    /// Cases of one op, in file order.
    func cases(op: String) -> [FixtureCase] { cases.filter { $0.op == op } }
    var ops: [String] {
        var seen = Set<String>()
        return cases.compactMap { seen.insert($0.op).inserted ? $0.op : nil }
    }
}

struct FixturePromotion: Equatable, Sendable {
    var a: String
    var b: String
    var result: String
}

enum FixtureError: Error, CustomStringConvertible {
    case missingFile(URL)
    case malformed(String)

    var description: String {
        switch self {
        case .missingFile(let url): return "fixture file not found: \(url.path) (run tools/gen_engine_fixtures.py)"
        case .malformed(let why): return "malformed fixture: \(why)"
        }
    }
}

// MARK: - Loading

enum Fixtures {
    /// `fixtures/engine` in the package root (this file is Tests/EngineTests/FixtureSupport.swift).
    /// The environment variable ZOO_ENGINE_FIXTURES overrides it.
    static var directory: URL {
        if let override = ProcessInfo.processInfo.environment["ZOO_ENGINE_FIXTURES"] {
            return URL(fileURLWithPath: override, isDirectory: true)
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()   // EngineTests
            .deletingLastPathComponent()   // Tests
            .deletingLastPathComponent()   // package root
            .appendingPathComponent("fixtures/engine", isDirectory: true)
    }

    static func url(_ file: String) -> URL { directory.appendingPathComponent(file) }

    /// Loads `fixtures/engine/<file>` (e.g. "unary.json").
    static func load(_ file: String) throws -> FixtureFile {
        let root = try jsonObject(file)
        guard let cases = root["cases"]?.array else { throw FixtureError.malformed("\(file): no cases") }
        return FixtureFile(
            generator: root["generator"]?.string ?? "",
            mlxVersion: root["mlx"]?.string ?? "",
            numpyVersion: root["numpy"]?.string ?? "",
            cases: try cases.map { try FixtureJSON.testCase($0, file: file) })
    }

    /// promotion.json: the result dtype of add(a, b) for every ordered pair of dtypes.
    static func promotions() throws -> [FixturePromotion] {
        let root = try jsonObject("promotion.json")
        guard let cases = root["cases"]?.array else { throw FixtureError.malformed("promotion.json") }
        return try cases.map {
            guard let a = $0["a"]?.string, let b = $0["b"]?.string, let r = $0["result"]?.string else {
                throw FixtureError.malformed("promotion.json entry \($0)")
            }
            return FixturePromotion(a: a, b: b, result: r)
        }
    }

    private static func jsonObject(_ file: String) throws -> [String: FixtureJSONValue] {
        let url = url(file)
        guard FileManager.default.fileExists(atPath: url.path) else { throw FixtureError.missingFile(url) }
        // JSONDecoder, not JSONSerialization: on Linux the latter misrounds some doubles by an ulp.
        let root = try JSONDecoder().decode(FixtureJSONValue.self, from: Data(contentsOf: url))
        guard case .object(let obj) = root else { throw FixtureError.malformed("\(file): top level is not an object") }
        return obj
    }
}

/// A JSON value, decoded with correctly rounded doubles.
enum FixtureJSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([FixtureJSONValue])
    case object([String: FixtureJSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([FixtureJSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: FixtureJSONValue].self))
        }
    }

    subscript(key: String) -> FixtureJSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// Numbers, and the strings "nan", "inf", "-inf".
    var number: Double? {
        switch self {
        case .number(let d): return d
        case .string("nan"): return .nan
        case .string("inf"): return .infinity
        case .string("-inf"): return -.infinity
        default: return nil
        }
    }

    var int: Int? {
        if case .number(let d) = self { return Int(exactly: d) }
        return nil
    }

    var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var array: [FixtureJSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

enum FixtureJSON {
    static func tensor(_ v: FixtureJSONValue) throws -> FixtureTensor {
        guard let dtype = v["dtype"]?.string, let shapeList = v["shape"]?.array, let data = v["data"]?.array else {
            throw FixtureError.malformed("tensor \(v)")
        }
        let shape = try shapeList.map {
            guard let n = $0.int else { throw FixtureError.malformed("shape \(shapeList)") }
            return n
        }
        let values: FixtureValues
        switch dtype {
        case "bool":
            values = .bool(try data.map {
                guard let b = $0.bool else { throw FixtureError.malformed("bool value \($0)") }
                return b
            })
        case "complex64":
            values = .complex(try data.map {
                guard let pair = $0.array, pair.count == 2, let re = pair[0].number, let im = pair[1].number else {
                    throw FixtureError.malformed("complex value \($0)")
                }
                return FixtureComplex(re: re, im: im)
            })
        default:
            values = .real(try data.map {
                guard let x = $0.number else { throw FixtureError.malformed("\(dtype) value \($0)") }
                return x
            })
        }
        guard values.count == shape.reduce(1, *) else {
            throw FixtureError.malformed("\(values.count) values for shape \(shape)")
        }
        return FixtureTensor(dtype: dtype, shape: shape, values: values, view: try view(v["view"]))
    }

    static func view(_ v: FixtureJSONValue?) throws -> FixtureView? {
        guard let v, case .object = v else { return nil }
        func ints(_ key: String) throws -> [Int] {
            guard let list = v[key]?.array else { throw FixtureError.malformed("view without \(key)") }
            return list.map { $0.int! }
        }
        switch v["kind"]?.string {
        case "transpose": return .transpose(axes: try ints("axes"))
        case "slice": return .slice(start: try ints("start"), stop: try ints("stop"), step: try ints("step"))
        case "broadcast": return .broadcast(shape: try ints("shape"))
        default: throw FixtureError.malformed("view kind \(String(describing: v["kind"]))")
        }
    }

    static func testCase(_ v: FixtureJSONValue, file: String) throws -> FixtureCase {
        guard let name = v["name"]?.string, let op = v["op"]?.string else {
            throw FixtureError.malformed("\(file): case without name/op")
        }
        let inputs = try (v["inputs"]?.array ?? []).map(tensor)
        let expected = try v["expected"].map(tensor)
        let list = try v["expected_list"]?.array?.map(tensor)
        guard expected != nil || list != nil else { throw FixtureError.malformed("\(file): \(name) has no expected") }
        var params: [String: FixtureJSONValue] = [:]
        if case .object(let p)? = v["params"] { params = p }
        return FixtureCase(name: name, op: op, inputs: inputs, params: params, expected: expected, expectedList: list)
    }
}

// MARK: - Comparison

enum FixtureCompare {
    /// Indices where `actual` and `expected` differ: NaN matches NaN, infinities match by sign,
    /// otherwise |a - e| <= atol + rtol * |e| (exact equality when both are 0; 0.0 == -0.0).
    static func mismatches(_ actual: [Double], _ expected: [Double], rtol: Double = 0, atol: Double = 0) -> [Int] {
        precondition(actual.count == expected.count)
        var bad = [Int]()
        for i in actual.indices where !close(actual[i], expected[i], rtol: rtol, atol: atol) {
            bad.append(i)
        }
        return bad
    }

    static func close(_ a: Double, _ e: Double, rtol: Double, atol: Double) -> Bool {
        if a.isNaN || e.isNaN { return a.isNaN && e.isNaN }
        if a.isInfinite || e.isInfinite { return a == e }
        if a == e { return true }
        return abs(a - e) <= atol + rtol * abs(e)
    }
}

/// What a test read back from a Zoo tensor, for comparison with a fixture.
struct FixtureActual: Sendable {
    var dtype: String
    var shape: [Int]
    var values: FixtureValues

    init(dtype: String, shape: [Int], doubles: [Double]) {
        self.dtype = dtype; self.shape = shape; self.values = .real(doubles)
    }
    init(dtype: String, shape: [Int], bools: [Bool]) {
        self.dtype = dtype; self.shape = shape; self.values = .bool(bools)
    }
    init(dtype: String, shape: [Int], complexes: [FixtureComplex]) {
        self.dtype = dtype; self.shape = shape; self.values = .complex(complexes)
    }
}

/// Asserts that `actual` matches `expected` in dtype, shape and values (with the case's tolerance,
/// or a given one). Reports the case name and the first mismatching elements.
func assertFixtureMatches(_ actual: FixtureActual, _ expected: FixtureTensor, case c: FixtureCase,
                          rtol: Double? = nil, atol: Double? = nil, label: String = "",
                          file: StaticString = #filePath, line: UInt = #line) {
    let what = label.isEmpty ? c.name : "\(c.name) [\(label)]"
    guard actual.dtype == expected.dtype else {
        XCTFail("\(what): dtype \(actual.dtype), expected \(expected.dtype)", file: file, line: line)
        return
    }
    guard actual.shape == expected.shape else {
        XCTFail("\(what): shape \(actual.shape), expected \(expected.shape)", file: file, line: line)
        return
    }
    guard actual.values.count == expected.count else {
        XCTFail("\(what): \(actual.values.count) values for shape \(expected.shape)", file: file, line: line)
        return
    }
    let r = rtol ?? c.rtol, a = atol ?? c.atol
    var bad: [Int]
    var describe: (Int) -> String
    switch (actual.values, expected.values) {
    case (.bool(let x), _):
        let e = expected.bools
        bad = x.indices.filter { x[$0] != e[$0] }
        describe = { "[\($0)] \(x[$0]) != \(e[$0])" }
    case (.complex(let x), _):
        let e = expected.complexes
        bad = x.indices.filter {
            !FixtureCompare.close(x[$0].re, e[$0].re, rtol: r, atol: a)
                || !FixtureCompare.close(x[$0].im, e[$0].im, rtol: r, atol: a)
        }
        describe = { "[\($0)] (\(x[$0].re), \(x[$0].im)) != (\(e[$0].re), \(e[$0].im))" }
    case (.real(let x), _):
        let e = expected.doubles
        bad = FixtureCompare.mismatches(x, e, rtol: r, atol: a)
        describe = { "[\($0)] \(x[$0]) != \(e[$0])" }
    }
    if !bad.isEmpty {
        let shown = bad.prefix(6).map(describe).joined(separator: ", ")
        XCTFail("\(what): \(bad.count) of \(expected.count) values differ (rtol \(r), atol \(a)): \(shown)",
                file: file, line: line)
    }
}

/// Loads a fixture file or fails the test (returning nil).
func loadFixtures(_ file: String, testFile: StaticString = #filePath, line: UInt = #line) -> FixtureFile? {
    do {
        return try Fixtures.load(file)
    } catch {
        XCTFail("\(error)", file: testFile, line: line)
        return nil
    }
}
