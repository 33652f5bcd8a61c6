import Foundation
import XCTest
@testable import Tokenizers

/// Tokenizers are Sendable: encoding from many threads gives the serial results; `load(from:)`
/// picks the right implementation.
final class ConcurrencyAndLoadTests: XCTestCase {
    func testConcurrentEncodeMatchesSerial() throws {
        let tok = try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/bpe-bytelevel"))
        let lines = Array(Golden.corpus.prefix(1200))
        let serial = lines.map { tok.encode($0) }
        final class Results: @unchecked Sendable { var values: [[Int]]; init(_ n: Int) { values = Array(repeating: [], count: n) } }
        let results = Results(lines.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in stride(from: worker, to: lines.count, by: 8) {
                let ids = tok.encode(lines[i])
                lock.lock(); results.values[i] = ids; lock.unlock()
            }
        }
        XCTAssertEqual(results.values, serial)
    }

    func testLoadPicksImplementation() throws {
        XCTAssertTrue(try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/unigram")) is HFTokenizer)
        XCTAssertTrue(try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/unigram/tokenizer.json")) is HFTokenizer)
        XCTAssertTrue(try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/spm-bpe.model")) is SentencePieceTokenizer)
        XCTAssertTrue(try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/spm-bpe-llama.gguf")) is LlamaSPMTokenizer)
        // A folder holding only a SentencePiece model.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-spm-folder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Paths.fixtures.appendingPathComponent("trained/spm-unigram.model"),
                                         to: dir.appendingPathComponent("tokenizer.model"))
        let tok = try Tokenizers.load(from: dir)
        XCTAssertTrue(tok is SentencePieceTokenizer)
        XCTAssertEqual(tok.encode(Golden.corpus[100], addSpecialTokens: false), try Golden("spm-unigram").ids[100])
    }

    func testChatTemplateFromTokenizerConfig() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-hf-folder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Paths.fixtures.appendingPathComponent("trained/bpe-bytelevel/tokenizer.json"),
                                         to: dir.appendingPathComponent("tokenizer.json"))
        let template = try String(contentsOf: Paths.fixtures.appendingPathComponent("chat/chatml.jinja"), encoding: .utf8)
        var config = JSONObject()
        config["chat_template"] = .string(template)
        config["bos_token"] = .string("<s>")
        config["eos_token"] = .object(JSONObject([("content", .string("<|im_end|>")), ("special", .bool(true))]))
        try Data(pythonJSONText(config).utf8).write(to: dir.appendingPathComponent("tokenizer_config.json"))
        let tok = try Tokenizers.load(from: dir)
        let rendered = try JSONValue.parse(Data(contentsOf: Paths.fixtures.appendingPathComponent("chat/rendered.json"))).array ?? []
        let want = rendered.first { $0["template"]?.string == "chatml" && $0["case"]?.string == "single-user" && $0["add_generation_prompt"]?.bool == true }
        XCTAssertEqual(try tok.applyChatTemplate(messages: [["role": "user", "content": "Hello!"]], addGenerationPrompt: true),
                       want?["output"]?.string)
        XCTAssertEqual(tok.eosTokenId, tok.id(for: "<|im_end|>"))
        XCTAssertThrowsError(try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/wordpiece"))
            .applyChatTemplate(messages: [["role": "user", "content": "x"]], addGenerationPrompt: false)) { error in
            XCTAssertEqual(error as? TokenizerError, .noChatTemplate)
        }
    }

    private func pythonJSONText(_ object: JSONObject) throws -> String {
        try pythonJSON(.dict(object.keys, Dictionary(uniqueKeysWithValues: object.pairs.map { ($0.0, TValue(json: $0.1)) })), indent: nil)
    }
}
