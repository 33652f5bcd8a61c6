import Engine
import Formats
import Foundation
import Tokenizers
@testable import Zoo
import XCTest

/// all-MiniLM-L6-v2 (fetched by `make models`) against sentence-transformers on 50 sentences.
final class MiniLMTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testEmbeddingsMatchSentenceTransformers() throws {
        let folder = Self.root.appendingPathComponent("models/all-minilm-l6-v2")
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) else {
            throw XCTSkip("MiniLM not present: `make models` (which `make test` runs) fetches it")
        }
        let fixtures = Self.root.appendingPathComponent("fixtures/models")
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("minilm_reference.json"))) as! [String: Any]
        let texts = meta["texts"] as! [String]
        let want = try NPZ.read(fixtures.appendingPathComponent("minilm_reference.npz"))["embeddings"]!
        XCTAssertEqual(texts.count, 50)
        let (model, tokenizer) = try ModelRegistry.loadEmbedder(folder.path)
        // In batches of 16, as the reference ran (padding is masked out).
        var rows: [Tensor] = []
        for start in stride(from: 0, to: texts.count, by: 16) {
            rows.append(try model.embed(Array(texts[start ..< min(start + 16, texts.count)]), tokenizer: tokenizer))
        }
        let got = concatenated(rows, axis: 0)
        XCTAssertEqual(got.shape, [50, 384])
        let cos = (got * want).sum(axes: [1]) / (sqrt((got * got).sum(axes: [1])) * sqrt((want * want).sum(axes: [1])))
        let values = cos.toArray(Float.self)
        let worst = values.min()!
        print("MiniLM: cosine to sentence-transformers over 50 sentences: min \(worst), mean \(values.reduce(0, +) / 50)")
        for (t, c) in zip(texts, values) { XCTAssertGreaterThanOrEqual(c, 0.9999, t) }
    }
}
