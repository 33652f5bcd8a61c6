import Foundation

/// A literal string or a regular expression, as in tokenizer.json `{"String": …}` / `{"Regex": …}`.
/// Matches are reported as ranges of Unicode scalar indices.
enum Pattern: Sendable {
    case literal([Unicode.Scalar])
    case regex(RegexBox)
    /// A hand-written matcher standing in for a well-known regex (same matches, much faster).
    case matcher(@Sendable ([Unicode.Scalar]) -> [Range<Int>])

    static let gpt2Regex = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Regex = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Regex = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    init(_ json: JSONValue, in place: String) throws {
        if let s = json["String"]?.string { self = .literal(Array(s.unicodeScalars)); return }
        if let r = json["Regex"]?.string {
            switch r {
            case Pattern.gpt2Regex: self = .matcher(gpt2Split)
            case Pattern.llama3Regex: self = .matcher { llama3Split($0, maxDigits: 3) }
            case Pattern.qwen2Regex: self = .matcher { llama3Split($0, maxDigits: 1) }
            default: self = .regex(try RegexBox(r, in: place))
            }
            return
        }
        if let s = json.string { self = .literal(Array(s.unicodeScalars)); return }
        throw TokenizerError.wrongType("pattern", expected: "{\"String\": …} or {\"Regex\": …}", in: place)
    }

    func matches(in text: [Unicode.Scalar]) -> [Range<Int>] {
        switch self {
        case .literal(let p):
            guard !p.isEmpty, text.count >= p.count else { return [] }
            var out: [Range<Int>] = []
            var i = 0
            let first = p[0]
            while i + p.count <= text.count {
                if text[i] == first && (p.count == 1 || text[i..<(i + p.count)].elementsEqual(p)) {
                    out.append(i..<(i + p.count)); i += p.count
                } else { i += 1 }
            }
            return out
        case .regex(let box): return box.matches(in: text)
        case .matcher(let f): return f(text)
        }
    }
}

/// NSRegularExpression behind a Sendable wrapper (it is immutable and thread-safe once built).
final class RegexBox: @unchecked Sendable {
    let regex: NSRegularExpression
    let source: String
    init(_ pattern: String, in place: String) throws {
        source = pattern
        do { regex = try NSRegularExpression(pattern: pattern, options: []) } catch {
            throw TokenizerError.malformed(place, reason: "invalid regular expression '\(pattern)'")
        }
    }
    func matches(in text: [Unicode.Scalar]) -> [Range<Int>] {
        let s = text.string
        // UTF-16 offset -> scalar index.
        var utf16ToScalar = [Int](repeating: 0, count: s.utf16.count + 1)
        var u = 0
        for (i, c) in text.enumerated() {
            let w = c.value > 0xFFFF ? 2 : 1
            for k in 0..<w { utf16ToScalar[u + k] = i }
            u += w
        }
        utf16ToScalar[u] = text.count
        var out: [Range<Int>] = []
        for m in regex.matches(in: s, options: [], range: NSRange(location: 0, length: u)) where m.range.length > 0 {
            out.append(utf16ToScalar[m.range.location]..<utf16ToScalar[m.range.location + m.range.length])
        }
        return out
    }
}
