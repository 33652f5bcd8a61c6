import Engine
import Foundation
@testable import Formats
import XCTest

/// Fixtures produced by tools/gen_format_fixtures.py (NumPy, MLX, safetensors, gguf-py, PyTorch).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let dir = root.appendingPathComponent("fixtures/formats")
    static func url(_ path: String) -> URL { dir.appendingPathComponent(path) }

    nonisolated(unsafe) static let expected: [String: Any] = {
        let data = try! Data(contentsOf: dir.appendingPathComponent("expected.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static func section(_ name: String) -> [String: Any] { expected[name] as! [String: Any] }

    static func bytes(hex: String) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(hex.utf8.count / 2)
        var it = hex.utf8.makeIterator()
        func nib(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
        while let a = it.next(), let b = it.next() { out.append(nib(a) << 4 | nib(b)) }
        return out
    }

    /// (dtype name, shape, raw bytes) of an expected entry.
    static func entry(_ e: Any) -> (dtype: String, shape: [Int], bytes: [UInt8]) {
        let d = e as! [String: Any]
        return (d["dtype"] as! String, (d["shape"] as! [NSNumber]).map(\.intValue), bytes(hex: d["hex"] as! String))
    }

    static func floats(_ bytes: [UInt8]) -> [Float] {
        bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    static func halves(_ bytes: [UInt8]) -> [Float] {
        bytes.withUnsafeBytes { $0.bindMemory(to: UInt16.self).map { Float(Float16(bitPattern: $0)) } }
    }

    static func temporaryDirectory() throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-formats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}

func dtypeName(_ d: DType) -> String { d.description }

/// Bit-exact comparison of a tensor against an expected entry.
func assertMatches(_ t: Tensor, _ e: Any, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    let (dtype, shape, bytes) = Fixtures.entry(e)
    XCTAssertEqual(t.shape, shape, "\(label): shape", file: file, line: line)
    XCTAssertEqual(dtypeName(t.dtype), dtype, "\(label): dtype", file: file, line: line)
    let got = t.toBytes()
    XCTAssertEqual(got.count, bytes.count, "\(label): byte count", file: file, line: line)
    if got != bytes {
        let first = zip(got, bytes).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1
        XCTFail("\(label): bytes differ (first at byte \(first))", file: file, line: line)
    }
}
