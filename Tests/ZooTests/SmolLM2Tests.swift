import Engine
import Formats
import Foundation
import Tokenizers
@testable import Zoo
import XCTest

/// SmolLM2-135M-Instruct (fetched by `make models`) against PyTorch float32 on the same GGUF
/// (fixtures/models, from tools/gen_model_references.py).
final class SmolLM2Tests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let gguf = root.appendingPathComponent("models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
    /// Largest |Zoo − PyTorch| allowed on a last-position logit (the same weights, float32 in
    /// both; only the order of float operations differs).
    static let logitTolerance: Float = 0.02

    nonisolated(unsafe) static var cached: LoadedModel?

    func loaded() throws -> LoadedModel {
        guard FileManager.default.fileExists(atPath: Self.gguf.path) else {
            throw XCTSkip("SmolLM2 GGUF not present: `make models` (which `make test` runs) fetches it")
        }
        if let m = Self.cached { return m }
        let m = try ModelRegistry.loadLocal(Self.gguf)
        Self.cached = m
        return m
    }

    struct Reference: Decodable {
        struct Prompt: Decodable { let prompt: String; let chat: Bool; let ids: [Int]; let greedy: [Int] }
        let prompts: [Prompt]
    }

    func reference() throws -> (Reference, [String: Tensor]) {
        let dir = Self.root.appendingPathComponent("fixtures/models")
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: dir.appendingPathComponent("smollm2_reference.json")))
        return (ref, try NPZ.read(dir.appendingPathComponent("smollm2_reference.npz")))
    }

    func testLastPositionLogitsMatchPyTorchFloat32() throws {
        let m = try loaded()
        let (ref, logits) = try reference()
        XCTAssertGreaterThanOrEqual(ref.prompts.count, 5)
        var worst: Float = 0
        for (i, p) in ref.prompts.enumerated() {
            let text = p.chat ? try m.tokenizer.applyChatTemplate(messages: [["role": "user", "content": p.prompt]], addGenerationPrompt: true) : p.prompt
            XCTAssertEqual(m.tokenizer.encode(text, addSpecialTokens: !p.chat), p.ids, "tokenizer ids for \(p.prompt)")
            let got = m.model(Tensor(p.ids.map { Int32($0) }, shape: [1, p.ids.count]), cache: m.model.newCache(maxSize: nil, keep: 4), lastOnly: true).reshaped([-1])
            let want = logits["logits_\(i)"]!
            let diff = max(abs(got - want)).item(Float.self)
            worst = Swift.max(worst, diff)
            XCTAssertLessThanOrEqual(diff, Self.logitTolerance, "prompt \(i) \(p.prompt.debugDescription)")
            XCTAssertEqual(argMax(got).item(Int32.self), argMax(want).item(Int32.self), "argmax for \(p.prompt)")
        }
        print("SmolLM2: worst |Zoo − PyTorch float32| last-position logit over \(ref.prompts.count) prompts: \(worst)")
    }

    func testGreedyContinuationsMatchTheReference() throws {
        let m = try loaded()
        let (ref, _) = try reference()
        for p in ref.prompts {
            var params = GenerateParameters(maxTokens: p.greedy.count)
            params.ignoreEOS = true
            let g = try TokenGenerator(model: m.model, prompt: p.ids, parameters: params)
            var got: [Int] = []
            while let t = g.next() { got.append(t) }
            XCTAssertEqual(got, p.greedy, "greedy continuation of \(p.prompt.debugDescription)")
        }
    }

    func testCardSmokeExpectation() throws {
        let m = try loaded()
        let card = try ModelRegistry.card(named: "smollm2-135m-instruct")
        guard let smoke = card.smoke else { return XCTFail("the card has no smoke expectation") }
        let text = smoke.chat ? try m.tokenizer.applyChatTemplate(messages: [["role": "user", "content": smoke.prompt]], addGenerationPrompt: true) : smoke.prompt
        var params = GenerateParameters(maxTokens: smoke.greedyTokens.count)
        params.ignoreEOS = true
        let g = try TokenGenerator(model: m.model, prompt: m.tokenizer.encode(text, addSpecialTokens: !smoke.chat), parameters: params)
        var got: [Int] = []
        while let t = g.next() { got.append(t) }
        XCTAssertEqual(got, smoke.greedyTokens)
    }
}
