import Foundation
import XCTest
@testable import Tokenizers

/// The hand-written matchers split exactly like the regular expressions they replace
/// (ICU's engine here; the golden tests compare with the references' Oniguruma/llama.cpp).
final class PreTokenizerTests: XCTestCase {
    func compare(_ regex: String, _ matcher: ([Unicode.Scalar]) -> [Range<Int>], _ name: String) throws {
        let box = try RegexBox(regex, in: name)
        var mismatches = 0
        for text in Golden.corpus {
            let scalars = Array(text.unicodeScalars)
            if box.matches(in: scalars) != matcher(scalars) {
                mismatches += 1
                if mismatches < 4 { print("[\(name)] \"\(escaped(text))\"") }
            }
        }
        print("[\(name)] \(Golden.corpus.count) lines: \(mismatches) mismatches against the regex")
        XCTAssertEqual(mismatches, 0, name)
    }

    func testGPT2Matcher() throws { try compare(Pattern.gpt2Regex, gpt2Split, "gpt2 split") }
    func testLlama3Matcher() throws { try compare(Pattern.llama3Regex, { llama3Split($0, maxDigits: 3) }, "llama3 split") }
    func testQwen2Matcher() throws { try compare(Pattern.qwen2Regex, { llama3Split($0, maxDigits: 1) }, "qwen2 split") }
}
