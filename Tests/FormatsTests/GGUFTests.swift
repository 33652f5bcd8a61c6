import Engine
import Foundation
@testable import Formats
import XCTest

final class GGUFTests: XCTestCase {
    /// gguf-py's view of a value: the type chain and the (flattened) contents.
    func flatten(_ v: GGUFValue) -> (types: [String], values: [GGUFValue]) {
        if case let .array(t, items) = v {
            if t == .array {
                let inner = items.map(flatten)
                return (["ARRAY"] + (inner.first?.types ?? ["ARRAY"]), inner.flatMap(\.values))
            }
            return (["ARRAY", "\(t)".uppercased()], items)
        }
        return (["\(v.type)".uppercased()], [v])
    }

    func same(_ v: GGUFValue, _ e: Any) -> Bool {
        switch v {
        case let .string(s): return (e as? String) == s
        case let .bool(b): return (e as? Bool) == b
        case let .float32(f): return Double((e as! [String: String])["f"]!) == Double(f)
        case let .float64(f): return Double((e as! [String: String])["f"]!) == f
        case let .uint64(u): return (e as? NSNumber)?.uint64Value == u
        default: return (e as? NSNumber)?.int64Value == Int64(v.intValue!)
        }
    }

    func checkFile(_ file: GGUFFile, _ spec: [String: Any], _ label: String) throws {
        XCTAssertEqual(file.alignment, (spec["alignment"] as! NSNumber).intValue, label)
        let meta = spec["metadata"] as! [String: Any]
        XCTAssertEqual(Set(file.metadataKeys), Set(meta.keys), label)
        for (k, e) in meta {
            let m = e as! [String: Any]
            guard let v = file.metadata[k] else { XCTFail("\(label): missing \(k)"); continue }
            let (types, values) = flatten(v)
            XCTAssertEqual(types, m["types"] as! [String], "\(label) \(k)")
            let ev = m["value"]!
            let expectedValues: [Any] = (ev as? [Any]) ?? [ev]
            XCTAssertEqual(values.count, expectedValues.count, "\(label) \(k)")
            for (a, b) in zip(values, expectedValues) { XCTAssertTrue(same(a, b), "\(label) \(k): \(a) vs \(b)") }
        }
        XCTAssertEqual(file.tensorInfos.map(\.name), spec["tensor_order"] as! [String], label)
        let offsets = spec["offsets"] as! [String: NSNumber]
        for t in file.tensorInfos {
            XCTAssertEqual(file.dataOffset + t.offset, offsets[t.name]!.intValue, "\(label) offset of \(t.name)")
        }
        let tensors = spec["tensors"] as! [String: Any]
        for (name, e) in tensors {
            let d = e as! [String: Any]
            let info = try XCTUnwrap(file.info(named: name))
            XCTAssertEqual(info.type.description, d["type"] as! String, name)
            XCTAssertEqual(info.shape, (d["shape"] as! [NSNumber]).map(\.intValue), name)
            let values = try file.dequantized(named: name)
            assertMatches(values, d["values"]!, "\(label) \(name) (\(info.type))")
        }
    }

    func testReadsFilesWrittenByGGUFPy() throws {
        for (name, spec) in Fixtures.section("gguf").sorted(by: { $0.key < $1.key }) {
            let f = try GGUF.read(Fixtures.url("gguf/\(name)"))
            XCTAssertEqual(f.version, 3)
            try checkFile(f, spec as! [String: Any], name)
        }
    }

    func testReadsVersion2() throws {
        let f = try GGUF.read(Fixtures.url("gguf/version2.gguf"))
        XCTAssertEqual(f.version, 2)
        try checkFile(f, Fixtures.section("gguf")["types.gguf"] as! [String: Any], "version2.gguf")
    }

    func testPlainTensorsAreBorrowedWithTheirDType() throws {
        let f = try GGUF.read(Fixtures.url("gguf/types.gguf"))
        let t = try f.tensor(named: "plain_i16")
        XCTAssertEqual(t.dtype, .int16)
        XCTAssertEqual(t.shape, [3, 7])
        let spec = (Fixtures.section("gguf")["types.gguf"] as! [String: Any])["tensors"] as! [String: Any]
        let floats = Fixtures.floats(Fixtures.entry((spec["plain_i16"] as! [String: Any])["values"]!).bytes)
        XCTAssertEqual(t.asType(.float32).toArray(Float.self), floats)
    }

    /// Zoo writes what it read: same metadata, same tensor infos, same bytes — in fact the same file.
    func testWriterReproducesGGUFPyFilesByteForByte() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["types.gguf", "align64.gguf"] {
            let src = try GGUF.read(Fixtures.url("gguf/\(name)"))
            let out = dir.appendingPathComponent(name)
            let w = try GGUFWriter(path: out.path, alignment: src.alignment)
            for k in src.metadataKeys { try w.set(k, src.metadata[k]!) }
            for t in src.tensorInfos { try w.addTensor(name: t.name, shape: t.shape, type: t.type) }
            try w.beginData()
            for t in src.tensorInfos { try src.withRawBytes(t) { try w.writeTensorData($0) } }
            try w.finish()
            XCTAssertEqual(w.state, .finished)
            let a = try Data(contentsOf: Fixtures.url("gguf/\(name)")), b = try Data(contentsOf: out)
            XCTAssertEqual(a, b, "\(name): Zoo's GGUF differs from gguf-py's")
        }
    }

    func testWriterStateMachineRejectsOutOfOrderCalls() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let u = dir.appendingPathComponent("x.gguf")
        let w = try GGUFWriter(path: u.path)
        try w.set("general.architecture", .string("llama"))
        try w.addTensor(name: "a", shape: [2, 32], type: .q8_0)
        XCTAssertThrowsError(try w.addTensor(name: "a", shape: [2], type: .f32))
        XCTAssertThrowsError(try w.addTensor(name: "b", shape: [2, 33], type: .q8_0))
        try w.beginData()
        XCTAssertThrowsError(try w.set("late", .bool(true)))
        XCTAssertThrowsError(try w.addTensor(name: "c", shape: [1], type: .f32))
        XCTAssertThrowsError(try w.finish(), "a declared tensor was never written")
        XCTAssertFalse(FileManager.default.fileExists(atPath: u.path), "nothing at the destination before finish")
        XCTAssertThrowsError(try w.writeTensorData([UInt8](repeating: 0, count: 10)), "wrong size")
        XCTAssertEqual(w.state, .failed)
        XCTAssertFalse(FileManager.default.fileExists(atPath: u.path))
    }
}
