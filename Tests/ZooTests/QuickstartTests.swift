import Foundation
import Tokenizers
import Zoo
import XCTest

/// The README's Zoo quickstart, compiled and run (with fewer tokens).
final class QuickstartTests: XCTestCase {
    func testReadmeQuickstart() async throws {
        let gguf = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        guard FileManager.default.fileExists(atPath: gguf.path) else {
            throw XCTSkip("SmolLM2 GGUF not present: `make models` (which `make test` runs) fetches it")
        }
        let loaded = try await ModelRegistry.load("smollm2-135m-instruct")
        let params = GenerateParameters(maxTokens: 8, temperature: 0.7, topP: 0.9, seed: 1)
        var streamed = ""
        let result = try generate(model: loaded.model, tokenizer: loaded.tokenizer,
                                  prompt: "Write a haiku about the sea.", parameters: params) { streamed += $0 }
        XCTAssertEqual(result.text, streamed)
        XCTAssertGreaterThanOrEqual(result.statistics.generatedTokens, 1)
        XCTAssertGreaterThan(result.statistics.timeToFirstTokenSeconds, 0)
        var pieces = ""
        for try await piece in generate(model: loaded.model, tokenizer: loaded.tokenizer, prompt: "Hello",
                                        parameters: GenerateParameters(maxTokens: 8)) {
            pieces += piece.text
        }
        // The async form is the same greedy generation as the blocking one.
        let blocking = try generate(model: loaded.model, tokenizer: loaded.tokenizer, prompt: "Hello", parameters: GenerateParameters(maxTokens: 8)) { _ in }
        XCTAssertEqual(pieces, blocking.text)
        XCTAssertFalse(pieces.isEmpty)
    }
}
