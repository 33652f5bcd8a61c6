import Engine
import Foundation
@testable import Formats
import XCTest

/// Malformed files: every reader throws a `FormatError` naming the problem — never crashes,
/// hangs or allocates what a lying header asks for.
final class MalformedTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    enum Kind: String, CaseIterable { case gguf, safetensors, npy, npz }

    /// Opens the file; `deep` also decodes every tensor.
    func read(_ kind: Kind, _ bytes: [UInt8], deep: Bool = true) throws {
        let u = dir.appendingPathComponent("case.\(kind.rawValue)")
        try Data(bytes).write(to: u)
        switch kind {
        case .gguf:
            let f = try GGUF.read(u)
            for t in f.tensorInfos where deep && t.type.canDequantize && t.elementCount < 1 << 20 { _ = try f.dequantized(named: t.name) }
        case .safetensors:
            let f = try SafeTensorsFile(url: u)
            for t in f.infos where deep { _ = try f.tensor(named: t.name) }
        case .npy: _ = try NPY.read(u)
        case .npz: _ = try NPZ.read(u)
        }
    }

    func reference(_ kind: Kind) throws -> [UInt8] {
        let path = switch kind {
        case .gguf: "gguf/types.gguf"
        case .safetensors: "safetensors/numpy_dtypes.safetensors"
        case .npy: "npy/int32.npy"
        case .npz: "npy/stored.npz"
        }
        return [UInt8](try Data(contentsOf: Fixtures.url(path)))
    }

    /// Expects a thrown FormatError whose message contains every fragment.
    func expectError(_ kind: Kind, _ bytes: [UInt8], _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            try read(kind, bytes)
            XCTFail("\(kind): accepted a malformed file (\(fragments))", file: file, line: line)
        } catch let e as FormatError {
            let m = e.localizedDescription
            for f in fragments { XCTAssertTrue(m.contains(f), "\(kind): '\(m)' lacks '\(f)'", file: file, line: line) }
        } catch {
            XCTFail("\(kind): threw \(type(of: error)) instead of FormatError: \(error)", file: file, line: line)
        }
    }

    func testTruncationAtEveryOffsetIsRejected() throws {
        for kind in Kind.allCases {
            let good = try reference(kind)
            try read(kind, good) // the untouched file is fine
            // The last tensor of a GGUF file may be followed by alignment padding; cutting only
            // padding leaves a valid file.
            let minimum = kind == .gguf ? try lastTensorEnd(good) : good.count
            var rejected = 0
            for cut in 0 ..< good.count {
                do {
                    try read(kind, Array(good[0 ..< cut]), deep: false)
                    XCTAssertGreaterThanOrEqual(cut, minimum, "\(kind) truncated to \(cut) bytes was accepted")
                } catch is FormatError {
                    rejected += 1
                }
            }
            XCTAssertGreaterThanOrEqual(rejected, minimum, "\(kind)")
        }
    }

    func lastTensorEnd(_ bytes: [UInt8]) throws -> Int {
        let u = dir.appendingPathComponent("ref.gguf")
        try Data(bytes).write(to: u)
        let f = try GGUF.read(u)
        return f.dataOffset + f.tensorInfos.map { $0.offset + $0.byteCount }.max()!
    }

    func testWrongMagic() throws {
        for kind in [Kind.gguf, .npy, .npz] {
            var b = try reference(kind)
            b[0] ^= 0xFF
            expectError(kind, b, kind == .npz ? ["zip"] : ["not a", kind == .gguf ? "GGUF" : "NPY"])
        }
    }

    // MARK: GGUF

    func put64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) { for i in 0 ..< 8 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
    func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) { for i in 0 ..< 4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }

    /// A tiny GGUF written by Zoo's writer: one key, two tensors.
    func smallGGUF() throws -> (bytes: [UInt8], keyAt: Int, infoAt: Int) {
        let u = dir.appendingPathComponent("small.gguf")
        let w = try GGUFWriter(path: u.path)
        try w.set("k", .string("value"))
        try w.addTensor(name: "a", shape: [2, 32], type: .q8_0)
        try w.addTensor(name: "b", shape: [4], type: .f32)
        try w.beginData()
        try w.writeTensorData([UInt8](repeating: 0, count: 68))
        try w.writeTensorData([UInt8](repeating: 0, count: 16))
        try w.finish()
        // magic 4, version 4, counts 16 | key: len 8 + "k" + type 4 + len 8 + "value" = 26
        return ([UInt8](try Data(contentsOf: u)), 24, 24 + 26)
    }

    func testGGUFAbsurdCountsAndLengths() throws {
        let (good, keyAt, infoAt) = try smallGGUF()
        try read(.gguf, good)
        var b = good; put64(&b, 8, 1 << 63)
        expectError(.gguf, b, ["tensor count", "offset 8"])
        b = good; put64(&b, 16, 1 << 63)
        expectError(.gguf, b, ["key/value count", "offset 16"])
        b = good; put64(&b, 8, 1000) // plausible count, but the file is too short for it
        expectError(.gguf, b, ["tensor count"])
        b = good; put64(&b, keyAt, 1 << 40) // a 2^40-byte key
        expectError(.gguf, b, ["length of metadata key", "offset \(keyAt)"])
        b = good; put64(&b, keyAt + 8 + 1 + 4, 1 << 40) // a 2^40-byte string value
        expectError(.gguf, b, ["value of 'k'"])
        b = good; put32(&b, keyAt + 8 + 1, 99)
        expectError(.gguf, b, ["unknown value type 99", "'k'"])
        // Tensor info of "a": name (8 + 1), ndim 4, dims 2×8, type 4, offset 8.
        b = good; put32(&b, infoAt + 9, 1000)
        expectError(.gguf, b, ["'a'", "1000 dimensions"])
        b = good; put64(&b, infoAt + 13, 1 << 40)
        expectError(.gguf, b, ["'a'", "dimension"])
        b = good; put32(&b, infoAt + 29, 77)
        expectError(.gguf, b, ["'a'", "unknown GGML type 77"])
        b = good; put64(&b, infoAt + 33, 1 << 40)
        expectError(.gguf, b, ["'a'"])
        b = good; put64(&b, infoAt + 33, 4) // misaligned
        expectError(.gguf, b, ["'a'", "not aligned"])
        b = good; put32(&b, infoAt + 13, 33) // 33 values per row is not whole Q8_0 blocks
        expectError(.gguf, b, ["'a'", "Q8_0 blocks"])
        // Tensor "b" starts at offset 96 (68 rounded up to 32); point it inside "a".
        let bInfo = infoAt + 41
        b = good; put64(&b, bInfo + 8 + 1 + 4 + 8 + 4, 32)
        expectError(.gguf, b, ["overlap"])
        b = good; put64(&b, bInfo + 8 + 1 + 4 + 8 + 4, 4096)
        expectError(.gguf, b, ["data of tensor 'b'"])
        b = good; put32(&b, 4, 1)
        expectError(.gguf, b, ["version 1"])
    }

    func testGGUFNestedArraysTooDeep() throws {
        var b: [UInt8] = Array("GGUF".utf8)
        b += [3, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0]
        b += [1, 0, 0, 0, 0, 0, 0, 0] + Array("x".utf8) + [9, 0, 0, 0]
        for _ in 0 ..< 20 { b += [9, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0] } // array of array of …
        expectError(.gguf, b, ["nested too deep"])
    }

    // MARK: SafeTensors

    func safetensors(header: String, data: Int) -> [UInt8] {
        let h = Array(header.utf8)
        var b = [UInt8](repeating: 0, count: 8)
        put64(&b, 0, UInt64(h.count))
        return b + h + [UInt8](repeating: 0, count: data)
    }

    func testSafeTensorsLyingHeaders() throws {
        var b = try reference(.safetensors)
        put64(&b, 0, 1 << 40)
        expectError(.safetensors, b, ["header length"])
        b = try reference(.safetensors)
        put64(&b, 0, UInt64(b.count))
        expectError(.safetensors, b, ["truncated", "JSON header"])
        expectError(.safetensors, safetensors(header: "{not json", data: 0), ["not JSON"])
        expectError(.safetensors, safetensors(header: "[1, 2]", data: 0), ["not a JSON object"])
        expectError(.safetensors, safetensors(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: 4), ["'a'", "8"])
        expectError(.safetensors, safetensors(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#, data: 6), ["overlaps"])
        expectError(.safetensors, safetensors(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8), ["gap"])
        expectError(.safetensors, safetensors(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 12), ["8 bytes after"])
        expectError(.safetensors, safetensors(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: 8), ["truncated"])
        expectError(.safetensors, safetensors(header: #"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, data: 1), ["dtype Q4"])
        expectError(.safetensors, safetensors(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: 4), ["'a'", "shape"])
        expectError(.safetensors, safetensors(header: #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, data: 4), ["'a'", "shape"])
        expectError(.safetensors, safetensors(header: #"{"__metadata__":{"k":1}}"#, data: 0), ["'k'"])
    }

    // MARK: NPY

    func npy(_ dict: String, data: Int) -> [UInt8] {
        var h = Array(dict.utf8)
        while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
        h.append(0x0A)
        return NPY.magic + [1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + [UInt8](repeating: 0, count: data)
    }

    func testNPYBadHeaders() throws {
        expectError(.npy, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data: 8).dropLast(1).map { $0 }, ["array data"])
        expectError(.npy, npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", data: 8), ["descr"])
        expectError(.npy, npy("{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }", data: 32), ["'<c16'"])
        expectError(.npy, npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", data: 8), ["fortran_order"])
        expectError(.npy, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", data: 8), ["shape"])
        expectError(.npy, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", data: 8), ["shape"])
        var b = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data: 8)
        b[6] = 9
        expectError(.npy, b, ["version 9"])
    }

    // MARK: Seeded mutation fuzzing

    /// Random byte edits of valid files (flips, boundary values, splices of big integers at
    /// random offsets, truncations): each reader must return or throw, never crash or hang.
    /// Cases that once failed are kept in fixtures/formats/malformed and rerun here.
    func testMutationFuzz() throws {
        // ZOO_FUZZ_ITERATIONS / ZOO_FUZZ_SEED run longer campaigns by hand.
        let env = ProcessInfo.processInfo.environment
        let iterations = env["ZOO_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 400
        var rng = SplitMix64(seed: env["ZOO_FUZZ_SEED"].flatMap(UInt64.init) ?? 0x5EED_F00D)
        var thrown = 0, accepted = 0
        for kind in Kind.allCases {
            let good = try reference(kind)
            for _ in 0 ..< iterations {
                var b = good
                for _ in 0 ..< Int(rng.next() % 4) + 1 {
                    let at = Int(rng.next() % UInt64(b.count))
                    switch rng.next() % 5 {
                    case 0: b[at] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                    case 1: b[at] = [0x00, 0xFF, 0x7F, 0x80][Int(rng.next() % 4)]
                    case 2 where at + 8 <= b.count: put64(&b, at, [UInt64.max, 1 << 63, 1 << 40, UInt64(b.count)][Int(rng.next() % 4)])
                    case 3: b = Array(b[0 ..< at])
                    default: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
                    }
                    if b.isEmpty { break }
                }
                do { try read(kind, b); accepted += 1 } catch is FormatError { thrown += 1 }
            }
        }
        XCTAssertEqual(thrown + accepted, 4 * iterations)
        XCTAssertGreaterThan(thrown, 2 * iterations, "most mutations break the file")
        let regressions = Fixtures.url("malformed")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: regressions.path)) ?? [] {
            guard let kind = Kind(rawValue: (name as NSString).pathExtension) else { continue }
            let b = [UInt8](try Data(contentsOf: regressions.appendingPathComponent(name)))
            XCTAssertThrowsError(try read(kind, b), name)
        }
    }
}

/// A small deterministic generator so fuzz runs are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
