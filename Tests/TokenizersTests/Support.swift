import Foundation
import XCTest
@testable import Tokenizers

enum Paths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("fixtures/tokenizers")
    static let smolGGUF = root.appendingPathComponent("models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
    static let minilm = root.appendingPathComponent("models/all-minilm-l6-v2")
}

/// Golden data written by tools/gen_tokenizer_fixtures.py.
struct Golden {
    let name: String
    let ids: [[Int]]
    let idsNoSpecial: [[Int]?]
    let decoded: [String]
    let decodedSkipSpecial: [String]?

    init(_ name: String) throws {
        let json = try JSONValue.parse(Data(contentsOf: Paths.fixtures.appendingPathComponent("golden/\(name).json")))
        self.name = name
        ids = (json["ids"]?.array ?? []).map { ($0.array ?? []).compactMap { $0.int } }
        idsNoSpecial = (json["ids_no_special"]?.array ?? []).map { $0.isNull ? nil : ($0.array ?? []).compactMap { $0.int } }
        // null entries: a decode equal to its input line / a skip-special decode equal to the decode.
        let corpus = Golden.corpus
        let decoded = (json["decoded"]?.array ?? []).enumerated().map { i, v in v.string ?? (i < corpus.count ? corpus[i] : "") }
        self.decoded = decoded
        decodedSkipSpecial = json["decoded_skip_special"]?.array?.enumerated().map { i, v in v.string ?? decoded[i] }
    }

    static let corpus: [String] = {
        let json = try! JSONValue.parse(Data(contentsOf: Paths.fixtures.appendingPathComponent("corpus.json")))
        return json.array!.map { $0.string! }
    }()
}

func escaped(_ s: String) -> String {
    s.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined()
}

/// Compares encode and decode on the whole corpus; returns mismatch counts and prints examples.
@discardableResult
func compareWithGolden(_ tokenizer: any Tokenizer, _ golden: Golden, checkSkipSpecial: Bool = true,
                       file: StaticString = #filePath, line: UInt = #line) -> (encode: Int, decode: Int) {
    let corpus = Golden.corpus
    XCTAssertEqual(golden.ids.count, corpus.count, "golden \(golden.name) does not match the corpus", file: file, line: line)
    var encodeMismatches = 0, decodeMismatches = 0, shown = 0
    for (i, text) in corpus.enumerated() where i < golden.ids.count {
        let got = tokenizer.encode(text, addSpecialTokens: true)
        var bad = got != golden.ids[i]
        if i < golden.idsNoSpecial.count, let plain = golden.idsNoSpecial[i] {
            if tokenizer.encode(text, addSpecialTokens: false) != plain { bad = true }
        }
        if bad {
            encodeMismatches += 1
            if shown < 6 {
                shown += 1
                print("[\(golden.name)] encode mismatch line \(i) \"\(escaped(String(text.prefix(120))))\"\n  want \(golden.ids[i].prefix(40))\n  got  \(got.prefix(40))")
            }
        }
        var dbad = false
        if i < golden.decoded.count, tokenizer.decode(golden.ids[i], skipSpecialTokens: false) != golden.decoded[i] { dbad = true }
        if checkSkipSpecial, let skip = golden.decodedSkipSpecial, i < skip.count,
           tokenizer.decode(golden.ids[i], skipSpecialTokens: true) != skip[i] { dbad = true }
        if dbad {
            decodeMismatches += 1
            if shown < 12 {
                shown += 1
                print("[\(golden.name)] decode mismatch line \(i)\n  want \"\(escaped(golden.decoded[i]))\"\n  got  \"\(escaped(tokenizer.decode(golden.ids[i], skipSpecialTokens: false)))\"")
            }
        }
    }
    print("[\(golden.name)] \(corpus.count) lines: \(encodeMismatches) encode mismatches, \(decodeMismatches) decode mismatches")
    XCTAssertEqual(encodeMismatches, 0, "\(golden.name): encode mismatches", file: file, line: line)
    XCTAssertEqual(decodeMismatches, 0, "\(golden.name): decode mismatches", file: file, line: line)
    return (encodeMismatches, decodeMismatches)
}
