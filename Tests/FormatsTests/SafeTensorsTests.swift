import Engine
import Foundation
@testable import Formats
import XCTest

final class SafeTensorsTests: XCTestCase {
    func testReadsFilesWrittenByReferences() throws {
        for (name, e) in Fixtures.section("safetensors").sorted(by: { $0.key < $1.key }) {
            let spec = e as! [String: Any]
            let (tensors, metadata) = try SafeTensors.read(Fixtures.url("safetensors/\(name)"))
            XCTAssertEqual(metadata, spec["metadata"] as! [String: String], name)
            let exp = spec["tensors"] as! [String: Any]
            XCTAssertEqual(Set(tensors.keys), Set(exp.keys), name)
            for (k, v) in exp { assertMatches(tensors[k]!, v, "\(name)[\(k)]") }
        }
    }

    func testTensorsBorrowTheMapping() throws {
        let f = try SafeTensorsFile(url: Fixtures.url("safetensors/numpy_dtypes.safetensors"))
        let before = Memory.activeBytes
        let t = try f.tensor(named: "t_float64")
        eval(t)
        XCTAssertEqual(Memory.activeBytes, before, "a borrowed tensor allocates nothing")
        XCTAssertEqual(t.shape, [3, 5])
    }

    func testRoundTripWithMetadataAndEveryDType() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var tensors: [String: Tensor] = [:]
        for dt in DType.allCases { tensors["t.\(dt)"] = arange(0, 10, 1, dtype: .float32).reshaped([2, 5]).asType(dt) }
        tensors["empty"] = zeros([0, 7], dtype: .float16)
        tensors["view"] = arange(0, 12, 1, dtype: .float32).reshaped([3, 4])[0..., stride(from: 0, to: 4, by: 2)]
        let meta = ["format": "pt", "quote\"key": "line\nbreak ✓"]
        let u = dir.appendingPathComponent("out.safetensors")
        try SafeTensors.write(tensors, metadata: meta, to: u)
        let (back, m) = try SafeTensors.read(u)
        XCTAssertEqual(m, meta)
        XCTAssertEqual(Set(back.keys), Set(tensors.keys))
        for (k, t) in tensors {
            XCTAssertEqual(back[k]!.shape, t.shape, k)
            XCTAssertEqual(back[k]!.dtype, t.dtype, k)
            XCTAssertEqual(back[k]!.toBytes(), t.toBytes(), k)
        }
        // The header is padded to 8 bytes, as the reference writer does.
        let data = try Data(contentsOf: u)
        let n = data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        XCTAssertEqual(n % 8, 0)
    }
}
