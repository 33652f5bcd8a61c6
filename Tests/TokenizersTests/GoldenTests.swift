import Foundation
import XCTest
@testable import Tokenizers

/// Ids and decodes equal the reference implementations on the 5,200-line corpus.
final class GoldenTests: XCTestCase {
    func trained(_ name: String) throws -> any Tokenizer {
        try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/\(name)"))
    }

    func testCorpusIsLargeAndVaried() {
        let corpus = Golden.corpus
        XCTAssertGreaterThanOrEqual(corpus.count, 5000)
        XCTAssertTrue(corpus.contains(""))
        XCTAssertTrue(corpus.contains { $0.contains("<|im_start|>") })
        XCTAssertTrue(corpus.contains { $0.unicodeScalars.contains { $0.properties.generalCategory == .nonspacingMark } })
    }

    func testByteLevelBPE() throws { compareWithGolden(try trained("bpe-bytelevel"), try Golden("bpe-bytelevel")) }
    func testByteFallbackBPE() throws { compareWithGolden(try trained("bpe-bytefallback"), try Golden("bpe-bytefallback")) }
    func testSuffixBPE() throws { compareWithGolden(try trained("bpe-suffix"), try Golden("bpe-suffix")) }
    func testWordPiece() throws { compareWithGolden(try trained("wordpiece"), try Golden("wordpiece")) }
    func testWordPieceBert() throws { compareWithGolden(try trained("wordpiece-bert"), try Golden("wordpiece-bert")) }
    func testUnigram() throws { compareWithGolden(try trained("unigram"), try Golden("unigram")) }
    func testSentencePieceUnigram() throws {
        compareWithGolden(try trained("spm-unigram.model"), try Golden("spm-unigram"), checkSkipSpecial: false)
    }
    func testSentencePieceBPE() throws {
        compareWithGolden(try trained("spm-bpe.model"), try Golden("spm-bpe"), checkSkipSpecial: false)
    }

    func testMiniLM() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Paths.minilm.path), "run `make models`")
        compareWithGolden(try Tokenizers.load(from: Paths.minilm), try Golden("minilm"))
    }

    func testSmolLM2FromGGUF() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Paths.smolGGUF.path), "run `make models`")
        let tok = try Tokenizers.load(from: Paths.smolGGUF)
        XCTAssertEqual(tok.vocabularySize, 49152)
        compareWithGolden(tok, try Golden("smollm2"))
    }
}

extension GoldenTests {
    func testUnigramByteFallback() throws {
        compareWithGolden(try trained("unigram-bytefallback"), try Golden("unigram-bytefallback"))
    }
}

extension GoldenTests {
    /// LLaMA-3 split regex (hand-written matcher) with ignore_merges, against `tokenizers`.
    func testLlama3StyleBPE() throws {
        compareWithGolden(try trained("bpe-llama3"), try Golden("bpe-llama3"))
    }

    /// The same vocabulary as a GGUF `gpt2` with `tokenizer.ggml.pre = llama-bpe`, against llama.cpp.
    func testLlama3StyleGGUF() throws {
        let tok = try trained("bpe-llama3.gguf")
        compareWithGolden(tok, try Golden("llama3-gguf"), checkSkipSpecial: false)
    }
}
