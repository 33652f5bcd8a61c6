import Foundation
import XCTest
@testable import Tokenizers

/// GGUF `llama` vocabularies against llama.cpp, and the metadata reader on bad input.
final class GGUFTests: XCTestCase {
    func testLlamaVocabularyAgainstLlamaCpp() throws {
        let tok = try Tokenizers.load(from: Paths.fixtures.appendingPathComponent("trained/spm-bpe-llama.gguf"))
        compareWithGolden(tok, try Golden("llama-gguf"))
    }

    func compareEncodeOnly(_ tok: any Tokenizer, _ golden: Golden) {
        var mismatches = 0
        for (i, text) in Golden.corpus.enumerated() {
            let got = tok.encode(text, addSpecialTokens: true)
            var bad = got != golden.ids[i]
            if let plain = golden.idsNoSpecial[i], tok.encode(text, addSpecialTokens: false) != plain { bad = true }
            if bad {
                mismatches += 1
                if mismatches <= 6 { let d = zip(got, golden.ids[i]).prefix { $0 == $1 }.count; print("[\(golden.name)] line \(i) \"\(escaped(text))\" first difference at \(d)\n  want \(golden.ids[i].dropFirst(max(0, d - 3)).prefix(20))\n  got  \(got.dropFirst(max(0, d - 3)).prefix(20))") }
            }
        }
        print("[\(golden.name)] \(Golden.corpus.count) lines: \(mismatches) encode mismatches")
        XCTAssertEqual(mismatches, 0)
    }

    func testMetadataOfSmolLM2() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Paths.smolGGUF.path), "run `make models`")
        let meta = try GGUFMetadata(url: Paths.smolGGUF)
        XCTAssertEqual(meta.version, 3)
        XCTAssertEqual(meta["tokenizer.ggml.model"]?.string, "gpt2")
        XCTAssertEqual(meta["tokenizer.ggml.pre"]?.string, "smollm")
        XCTAssertEqual(meta["tokenizer.ggml.tokens"]?.array?.count, 49152)
        XCTAssertEqual(meta["tokenizer.ggml.merges"]?.array?.count, 48900)
    }

    func testMalformedGGUFThrows() throws {
        let good = try Data(contentsOf: Paths.fixtures.appendingPathComponent("trained/spm-bpe-llama.gguf"))
        // Truncations at many points, a wrong magic, an unknown version and huge counts.
        for cut in stride(from: 0, to: min(good.count, 4000), by: 37) {
            XCTAssertThrowsError(try GGUFTokenizer.make(try GGUFMetadata(data: good.prefix(cut))), "cut at \(cut)")
        }
        var wrongMagic = good; wrongMagic[0] = UInt8(ascii: "X")
        XCTAssertThrowsError(try GGUFMetadata(data: wrongMagic))
        var version = good; version[4] = 9
        XCTAssertThrowsError(try GGUFMetadata(data: version))
        var hugeCount = good
        for i in 16..<24 { hugeCount[i] = 0xFF }
        XCTAssertThrowsError(try GGUFMetadata(data: hugeCount))
        // Random byte flips in the key/value area: an error or a tokenizer, never a crash.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var d = good
            let i = Int.random(in: 8..<min(d.count, 3000), using: &rng)
            d[i] = UInt8.random(in: 0...255, using: &rng)
            if let meta = try? GGUFMetadata(data: d), let tok = try? GGUFTokenizer.make(meta) {
                _ = tok.encode("Hello world <tool> 123")
            }
        }
    }

    func testUnknownModelTypeIsNamed() throws {
        XCTAssertThrowsError(try GGUFTokenizer.make(GGUFMetadata(data: ggufWith(model: "rwkv")))) { error in
            XCTAssertTrue(error.localizedDescription.contains("rwkv"), error.localizedDescription)
        }
    }

    /// A minimal GGUF v3 with a model name and three tokens.
    func ggufWith(model: String) -> Data {
        var d = Data("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); d.append(contentsOf: Array(s.utf8)) }
        u32(3); u64(0); u64(2)
        str("tokenizer.ggml.model"); u32(8); str(model)
        str("tokenizer.ggml.tokens"); u32(9); u32(8); u64(3); str("a"); str("b"); str("ab")
        return d
    }
}
