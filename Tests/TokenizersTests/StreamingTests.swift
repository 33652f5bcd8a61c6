import Foundation
import XCTest
@testable import Tokenizers

/// Streaming pieces never split a character, and concatenated they equal decode(allIds).
final class StreamingTests: XCTestCase {
    func check(_ tok: any Tokenizer, _ name: String, lines: Int = 5200) {
        var mismatches = 0, splitCharacters = 0, pieces = 0
        for text in Golden.corpus.prefix(lines) {
            let ids = tok.encode(text, addSpecialTokens: false)
            var stream = StreamingDetokenizer(tokenizer: tok)
            var joined = ""
            for id in ids {
                let piece = stream.append(id)
                if !piece.isEmpty { pieces += 1 }
                // A piece must be valid text on its own: no replacement char that the full decode lacks.
                if piece.unicodeScalars.last == "\u{FFFD}" { splitCharacters += 1 }
                joined += piece
            }
            joined += stream.finish()
            if !joined.unicodeScalars.elementsEqual(tok.decode(ids).unicodeScalars) {
                mismatches += 1
                if mismatches < 4 { print("[stream \(name)] \"\(escaped(text))\" -> \"\(escaped(joined))\"") }
            }
        }
        print("[stream \(name)] \(lines) lines, \(pieces) pieces: \(mismatches) mismatches, \(splitCharacters) pieces ending in U+FFFD")
        XCTAssertEqual(mismatches, 0, name)
        XCTAssertEqual(splitCharacters, 0, name)
    }

    func testStreamingByteLevel() throws {
        check(try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/bpe-bytelevel")), "bpe-bytelevel")
    }
    func testStreamingByteFallback() throws {
        check(try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/bpe-bytefallback")), "bpe-bytefallback")
    }
    func testStreamingWordPiece() throws {
        check(try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/wordpiece")), "wordpiece")
    }
    func testStreamingUnigramMetaspace() throws {
        check(try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/unigram")), "unigram")
    }
    func testStreamingSentencePiece() throws {
        check(try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/spm-bpe.model")), "spm-bpe", lines: 1500)
    }
    func testStreamingSmolLM2() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Paths.smolGGUF.path), "run `make models`")
        check(try Tokenizers.load(from: Paths.smolGGUF), "smollm2")
    }

    func testMultiByteCharacterIsHeldBack() throws {
        let tok = try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/bpe-bytelevel"))
        // Byte-level tokens for each byte of an emoji: nothing may come out before the last byte.
        let bytes = Array("😀".utf8).map { ByteLevel.byteToScalar[Int($0)] }
        let ids = bytes.compactMap { tok.id(for: String(Character($0))) }
        XCTAssertEqual(ids.count, 4)
        var stream = StreamingDetokenizer(tokenizer: tok)
        let pieces = ids.map { stream.append($0) }
        XCTAssertEqual(pieces, ["", "", "", "😀"])
        XCTAssertEqual(stream.finish(), "")
    }
}

extension StreamingTests {
    func testStreamingGGUFVocabularies() throws {
        check(try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/spm-bpe-llama.gguf")), "llama-gguf", lines: 2000)
        check(try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/bpe-llama3.gguf")), "llama3-gguf", lines: 2000)
    }
}
