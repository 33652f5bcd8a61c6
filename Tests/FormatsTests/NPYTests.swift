import Engine
import Foundation
@testable import Formats
import XCTest

final class NPYTests: XCTestCase {
    func testReadsEveryNumPyAndMLXFile() throws {
        let exp = Fixtures.section("npy")
        XCTAssertGreaterThanOrEqual(exp.count, 19)
        for (name, e) in exp.sorted(by: { $0.key < $1.key }) {
            let t = try NPY.read(Fixtures.url("npy/\(name)"))
            assertMatches(t, e, name)
        }
    }

    func testReadsStoredAndDeflatedNPZ() throws {
        for (name, e) in Fixtures.section("npz") {
            let members = e as! [String: Any]
            let arrays = try NPZ.read(Fixtures.url("npy/\(name)"))
            XCTAssertEqual(Set(arrays.keys), Set(members.keys), name)
            for (k, v) in members { assertMatches(arrays[k]!, v, "\(name)[\(k)]") }
        }
    }

    func testRoundTripsEveryDType() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var tensors: [String: Tensor] = [:]
        for dt in DType.allCases {
            tensors[dt.description] = arange(0, 12, 1, dtype: .float32).reshaped([3, 4]).asType(dt)
        }
        tensors["scalar"] = Tensor(Float(1.5))
        tensors["empty"] = zeros([0, 3])
        tensors["transposed"] = arange(0, 6, 1, dtype: .float32).reshaped([2, 3]).T
        for (name, t) in tensors {
            let u = dir.appendingPathComponent("\(name).npy")
            try NPY.write(t, to: u)
            let back = try NPY.read(u)
            XCTAssertEqual(back.shape, t.shape, name)
            XCTAssertEqual(back.dtype, t.dtype, name)
            XCTAssertEqual(back.toBytes(), t.toBytes(), name)
        }
        for c in [NPZ.Compression.stored, .deflate] {
            let u = dir.appendingPathComponent("all-\(c).npz")
            try NPZ.write(tensors, to: u, compression: c)
            let back = try NPZ.read(u)
            XCTAssertEqual(Set(back.keys), Set(tensors.keys))
            for (k, t) in tensors { XCTAssertEqual(back[k]!.toBytes(), t.toBytes(), "\(c) \(k)") }
        }
    }

    func testHeaderBytesEqualNumPys() throws {
        // NumPy wrote these files; Zoo's header for the same dtype and shape must be byte-identical.
        for (name, dtype) in [("uint32.npy", DType.uint32), ("float32.npy", .float32), ("bool.npy", .bool), ("int64.npy", .int64)] {
            let numpy = [UInt8](try Data(contentsOf: Fixtures.url("npy/\(name)")))
            let shape = Fixtures.entry(Fixtures.section("npy")[name]!).shape
            let h = NPY.header(dtype: dtype, shape: shape)
            XCTAssertEqual(h.count % 64, 0)
            XCTAssertEqual(h, Array(numpy[0 ..< h.count]), name)
        }
    }
}
