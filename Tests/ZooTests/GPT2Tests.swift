import Engine
import Formats
import Foundation
@testable import Zoo
import XCTest

/// A randomly initialised GPT-2 saved by transformers (tools/gen_gpt2_reference.py).
final class GPT2Tests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/models")

    func testLogitsMatchPyTorch() throws {
        let model = try GPT2Model(folder: Self.fixtures.appendingPathComponent("gpt2-tiny"))
        let ref = try NPZ.read(Self.fixtures.appendingPathComponent("gpt2_reference.npz"))
        let ids = ref["ids"]!
        let want = ref["logits"]!
        let got = model(ids.reshaped([1, -1]), cache: model.newCache(maxSize: nil, keep: 0), lastOnly: false).reshaped(want.shape)
        let diff = max(abs(got - want)).item(Float.self)
        XCTAssertLessThan(diff, 1e-4, "max |Zoo − PyTorch| = \(diff)")
        // Cached decoding agrees with the full pass.
        let cache = model.newCache(maxSize: nil, keep: 0)
        let n = ids.dim(0)
        _ = model(ids[0 ..< n - 1].reshaped([1, -1]), cache: cache, lastOnly: true)
        let last = model(ids[(n - 1)...].reshaped([1, 1]), cache: cache, lastOnly: true).reshaped([-1])
        XCTAssertLessThan(max(abs(last - want[n - 1])).item(Float.self), 1e-4)
    }

    func testMisShapedCheckpointNamesTheTensor() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-gpt2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = Self.fixtures.appendingPathComponent("gpt2-tiny")
        try FileManager.default.copyItem(at: src.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        var (tensors, meta) = try SafeTensors.read(src.appendingPathComponent("model.safetensors"))
        let key = tensors.keys.first { $0.hasSuffix("h.1.attn.c_attn.weight") }!
        tensors[key] = zeros([64, 100])
        try SafeTensors.write(tensors, metadata: meta, to: dir.appendingPathComponent("model.safetensors"))
        XCTAssertThrowsError(try GPT2Model(folder: dir)) { e in
            XCTAssertEqual(e as? ZooError, .tensorShape(key, expected: [64, 192], actual: [64, 100]))
        }
    }
}
