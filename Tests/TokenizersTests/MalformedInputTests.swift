import Foundation
import XCTest
@testable import Tokenizers

/// Bad files and bad ids: a thrown error that names the problem, never a crash.
final class MalformedInputTests: XCTestCase {
    let bpeJSON = """
    {"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
     "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}
    """

    func load(_ text: String) throws -> HFTokenizer { try HFTokenizer(json: Data(text.utf8)) }

    func expectError(_ text: String, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try load(text)
            XCTFail("expected an error", file: file, line: line)
        } catch {
            let message = error.localizedDescription
            for m in mentions { XCTAssertTrue(message.contains(m), "'\(message)' should mention '\(m)'", file: file, line: line) }
        }
    }

    func testValidMinimalFileLoads() throws {
        let tok = try load(bpeJSON)
        XCTAssertEqual(tok.encode("abab"), [2, 2])
        XCTAssertEqual(tok.decode([2, 0]), "ab a")
    }

    func testTruncatedJSON() {
        let bytes = Array(bpeJSON.utf8)
        for cut in stride(from: 0, to: bytes.count - 1, by: 7) {
            XCTAssertThrowsError(try HFTokenizer(json: Data(bytes[0..<cut])), "cut at \(cut)")
        }
        expectError("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0", mentions: ["invalid JSON", "byte"])
    }

    func testWrongTypes() {
        expectError("[1, 2, 3]", mentions: ["object"])
        expectError("{\"added_tokens\": []}", mentions: ["model"])
        expectError(bpeJSON.replacingOccurrences(of: "\"merges\": [\"a b\"]", with: "\"merges\": 7"), mentions: ["merges"])
        expectError(bpeJSON.replacingOccurrences(of: "{\"a\": 0, \"b\": 1, \"ab\": 2}", with: "{\"a\": \"zero\"}"), mentions: ["vocab"])
        expectError(bpeJSON.replacingOccurrences(of: "\"added_tokens\": []", with: "\"added_tokens\": {}"), mentions: ["added_tokens"])
        expectError(bpeJSON.replacingOccurrences(of: "\"added_tokens\": []", with: "\"added_tokens\": [{\"id\": 1}]"), mentions: ["content"])
        expectError(bpeJSON.replacingOccurrences(of: "\"normalizer\": null", with: "\"normalizer\": 3"), mentions: ["normalizer"])
        expectError(bpeJSON.replacingOccurrences(of: "\"normalizer\": null", with: "\"normalizer\": {\"type\": \"Replace\", \"pattern\": 5, \"content\": \"x\"}"),
                    mentions: ["pattern"])
    }

    func testUnknownComponentTypesAreNamed() {
        expectError(bpeJSON.replacingOccurrences(of: "\"normalizer\": null", with: "\"normalizer\": {\"type\": \"Frobnicate\"}"),
                    mentions: ["normalizer", "Frobnicate"])
        expectError(bpeJSON.replacingOccurrences(of: "\"pre_tokenizer\": null", with: "\"pre_tokenizer\": {\"type\": \"Quux\"}"),
                    mentions: ["pre_tokenizer", "Quux"])
        expectError(bpeJSON.replacingOccurrences(of: "\"post_processor\": null", with: "\"post_processor\": {\"type\": \"Zap\"}"),
                    mentions: ["post_processor", "Zap"])
        expectError(bpeJSON.replacingOccurrences(of: "\"decoder\": null", with: "\"decoder\": {\"type\": \"CTCish\"}"),
                    mentions: ["decoder", "CTCish"])
        expectError(bpeJSON.replacingOccurrences(of: "\"type\": \"BPE\"", with: "\"type\": \"Mystery\""), mentions: ["model", "Mystery"])
        expectError(bpeJSON.replacingOccurrences(of: "\"pre_tokenizer\": null",
                                                 with: "\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Inner\"}]}"),
                    mentions: ["Inner"])
        expectError(bpeJSON.replacingOccurrences(of: "\"pre_tokenizer\": null",
                                                 with: "\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"String\": \" \"}, \"behavior\": \"Sideways\"}"),
                    mentions: ["Sideways"])
    }

    func testMergesNamingMissingTokens() {
        expectError(bpeJSON.replacingOccurrences(of: "\"merges\": [\"a b\"]", with: "\"merges\": [\"a c\"]"), mentions: ["'c'", "merges"])
        expectError(bpeJSON.replacingOccurrences(of: "\"merges\": [\"a b\"]", with: "\"merges\": [\"b a\"]"), mentions: ["'ba'"])
        expectError(bpeJSON.replacingOccurrences(of: "\"merges\": [\"a b\"]", with: "\"merges\": [\"ab\"]"), mentions: ["merge 0"])
        expectError(bpeJSON.replacingOccurrences(of: "\"merges\": [\"a b\"]", with: "\"merges\": [\"a b\"], \"unk_token\": \"<unk>\""),
                    mentions: ["<unk>"])
    }

    func testInvalidRegexIsReported() {
        expectError(bpeJSON.replacingOccurrences(of: "\"pre_tokenizer\": null",
                                                 with: "\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"([a-\"}, \"behavior\": \"Isolated\"}"),
                    mentions: ["regular expression"])
    }

    func testMissingFiles() {
        XCTAssertThrowsError(try Tokenizers.load(from: URL(fileURLWithPath: "/nonexistent/tokenizer.json"))) { error in
            XCTAssertTrue(error.localizedDescription.contains("/nonexistent"))
        }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-empty-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssertThrowsError(try Tokenizers.load(from: empty))
    }

    func testCorruptSentencePieceModel() throws {
        let good = try Data(contentsOf: Paths.fixtures.appendingPathComponent("trained/spm-unigram.model"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-spm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var failures = 0
        for (i, bad) in [Data(), Data("not a model".utf8), good.prefix(100), good.prefix(good.count / 2), Data(good.reversed())].enumerated() {
            let url = dir.appendingPathComponent("bad\(i).model")
            try bad.write(to: url)
            do {
                let tok = try SentencePieceTokenizer(modelFile: url)
                _ = tok.encode("still works?")  // a parseable remainder must still be safe to use
            } catch {
                failures += 1
                XCTAssertTrue(error.localizedDescription.contains(url.path), error.localizedDescription)
            }
        }
        XCTAssertGreaterThanOrEqual(failures, 3)
    }

    func testBadIdsInDecode() throws {
        let names = ["trained/bpe-bytelevel", "trained/bpe-bytefallback", "trained/wordpiece", "trained/unigram", "trained/spm-bpe.model",
                     "trained/spm-unigram.model", "trained/spm-bpe-llama.gguf"]
        for name in names {
            let tok = try Tokenizers.load(from: Paths.fixtures.appendingPathComponent(name))
            // Out-of-range ids are skipped; byte tokens forming invalid UTF-8 give U+FFFD.
            let ids = [-1, Int.max, Int.min, tok.vocabularySize, tok.vocabularySize + 1000]
            XCTAssertEqual(tok.decode(ids), "", name)
            if let b = tok.id(for: "<0xC3>") {
                XCTAssertTrue(tok.decode([b]).contains("\u{FFFD}"), name)
            }
            if name.contains("bytelevel"), let b = tok.id(for: "Ã") {  // byte-level 0xC3 alone
                XCTAssertEqual(tok.decode([b]), "\u{FFFD}", name)
            }
        }
    }

    func testHostileTextNeverCrashes() throws {
        let tok = try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/bpe-bytelevel"))
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0..<50, using: &rng) {
                if let u = Unicode.Scalar(UInt32.random(in: 0...0x10FFFF, using: &rng)) { s.append(u) }
            }
            let text = String(s)
            // NFC normalizer and a prefix space: the round trip is canonically equal (Swift's ==).
            let expected = text.isEmpty || text.unicodeScalars.first == " " ? text : " " + text
            XCTAssertEqual(tok.decode(tok.encode(text)), expected)
        }
        XCTAssertEqual(tok.encode(String(repeating: "a", count: 100_000)).isEmpty, false)
    }
}

extension MalformedInputTests {
    /// Random byte changes in real tokenizer.json files: an error or a working tokenizer, never a crash.
    func testMutatedTokenizerFilesNeverCrash() throws {
        var rng = SystemRandomNumberGenerator()
        for name in ["bpe-bytelevel", "wordpiece", "unigram", "bpe-suffix", "unigram-bytefallback", "bpe-llama3"] {
            let good = try Data(contentsOf: Paths.fixtures.appendingPathComponent("trained/\(name)/tokenizer.json"))
            var loaded = 0, rejected = 0
            for round in 0..<40 {
                var d = good
                // Flip bytes near the components (the head) and anywhere in the vocabulary.
                for _ in 0..<(1 + round % 4) {
                    let i = round % 2 == 0 ? Int.random(in: 0..<min(d.count, 3000), using: &rng) : Int.random(in: 0..<d.count, using: &rng)
                    d[i] = [UInt8(ascii: "\""), UInt8(ascii: "}"), UInt8(ascii: "1"), UInt8(ascii: "-"), UInt8(ascii: "x"), 0xFF, 0x20][Int.random(in: 0..<7, using: &rng)]
                }
                if let tok = try? HFTokenizer(json: d) {
                    loaded += 1
                    for text in Golden.corpus.prefix(30) { _ = tok.decode(tok.encode(text)) }
                } else { rejected += 1 }
            }
            XCTAssertEqual(loaded + rejected, 40)
        }
    }
}
