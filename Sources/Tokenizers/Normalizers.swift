import Foundation

/// A text transformation applied before pre-tokenization (tokenizer.json `normalizer`).
public protocol Normalizer: Sendable {
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar]
}

enum UnicodeForm: String, Sendable { case nfc = "NFC", nfd = "NFD", nfkc = "NFKC", nfkd = "NFKD" }

struct UnicodeNormalizer: Normalizer {
    let form: UnicodeForm
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        // ASCII is invariant under every form.
        if text.allSatisfy({ $0.isASCII }) { return text }
        let s = text.string
        let out: String
        switch form {
        case .nfc: out = s.precomposedStringWithCanonicalMapping
        case .nfd: out = s.decomposedStringWithCanonicalMapping
        case .nfkc: out = s.precomposedStringWithCompatibilityMapping
        case .nfkd: out = s.decomposedStringWithCompatibilityMapping
        }
        return Array(out.unicodeScalars)
    }
}

/// Character-by-character full lowercase mapping, without context (no final-sigma rule).
struct LowercaseNormalizer: Normalizer {
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] { lowercased(text) }
}

func lowercased(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
    var out: [Unicode.Scalar] = []
    out.reserveCapacity(text.count)
    for c in text {
        if c.isASCII {
            out.append(c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(c.value + 32)! : c)
        } else if c.properties.changesWhenLowercased {
            out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
        } else {
            out.append(c)
        }
    }
    return out
}

/// Removes combining marks (meant to follow NFD).
struct StripAccentsNormalizer: Normalizer {
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] { text.filter { !$0.isMark } }
}

extension Unicode.Scalar {
    var isNonspacingMark: Bool { !isASCII && properties.generalCategory == .nonspacingMark }
}

struct StripNormalizer: Normalizer {
    let left: Bool, right: Bool
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var lo = 0, hi = text.count
        if left { while lo < hi, text[lo].isSpace { lo += 1 } }
        if right { while hi > lo, text[hi - 1].isSpace { hi -= 1 } }
        return Array(text[lo..<hi])
    }
}

struct PrependNormalizer: Normalizer {
    let prefix: [Unicode.Scalar]
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] { text.isEmpty ? text : prefix + text }
}

struct ReplaceNormalizer: Normalizer {
    let pattern: Pattern
    let content: [Unicode.Scalar]
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let matches = pattern.matches(in: text)
        if matches.isEmpty { return text }
        var out: [Unicode.Scalar] = []
        var last = 0
        for m in matches {
            out.append(contentsOf: text[last..<m.lowerBound])
            out.append(contentsOf: content)
            last = m.upperBound
        }
        out.append(contentsOf: text[last...])
        return out
    }
}

struct BertNormalizer: Normalizer {
    let cleanText: Bool, handleChineseChars: Bool, stripAccents: Bool, lowercase: Bool
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for c in text {
            if cleanText {
                if c.value == 0 || c.value == 0xFFFD || isBertControl(c) { continue }
                if isBertWhitespace(c) { out.append(" "); continue }
            }
            if handleChineseChars && isChineseChar(c) {
                out.append(" "); out.append(c); out.append(" ")
            } else {
                out.append(c)
            }
        }
        if stripAccents {
            out = UnicodeNormalizer(form: .nfd).normalize(out).filter { !$0.isNonspacingMark }
        }
        if lowercase { out = lowercased(out) }
        return out
    }
}

func isBertWhitespace(_ c: Unicode.Scalar) -> Bool {
    c == "\t" || c == "\n" || c == "\r" || c.isSpace
}

func isBertControl(_ c: Unicode.Scalar) -> Bool {
    if c == "\t" || c == "\n" || c == "\r" { return false }
    if c.value < 0x80 { return c.value < 0x20 || c.value == 0x7F }
    // The reference's category tables do not count noncharacters (U+FDD0…, U+xFFFE/F) as Cn.
    if c.properties.isNoncharacterCodePoint { return false }
    switch c.properties.generalCategory {
    case .control, .format, .unassigned, .privateUse, .surrogate: return true
    default: return false
    }
}

func isChineseChar(_ c: Unicode.Scalar) -> Bool {
    if c.value < 0x3400 { return false }
    switch c.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
         0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
    default: return false
    }
}

struct SequenceNormalizer: Normalizer {
    let normalizers: [any Normalizer]
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        normalizers.reduce(text) { $1.normalize($0) }
    }
}

/// Builds a normalizer from its tokenizer.json description.
func makeNormalizer(_ json: JSONValue) throws -> (any Normalizer)? {
    if json.isNull { return nil }
    let spec = try ComponentSpec(json, kind: "normalizer")
    switch spec.type {
    case "NFC", "NFD", "NFKC", "NFKD": return UnicodeNormalizer(form: UnicodeForm(rawValue: spec.type)!)
    case "Lowercase": return LowercaseNormalizer()
    case "StripAccents": return StripAccentsNormalizer()
    case "Strip": return StripNormalizer(left: spec.bool("strip_left", default: true), right: spec.bool("strip_right", default: true))
    case "Prepend": return PrependNormalizer(prefix: Array(try spec.string("prepend").unicodeScalars))
    case "Replace":
        return ReplaceNormalizer(pattern: try Pattern(try spec.value("pattern"), in: "Replace normalizer"),
                                 content: Array(try spec.string("content").unicodeScalars))
    case "BertNormalizer":
        let lower = spec.bool("lowercase", default: true)
        let strip = spec.json["strip_accents"]?.bool ?? lower
        return BertNormalizer(cleanText: spec.bool("clean_text", default: true),
                              handleChineseChars: spec.bool("handle_chinese_chars", default: true),
                              stripAccents: strip, lowercase: lower)
    case "Sequence":
        let list = try spec.array("normalizers")
        return SequenceNormalizer(normalizers: try list.compactMap { try makeNormalizer($0) })
    default:
        throw TokenizerError.unknownComponent(kind: "normalizer", type: spec.type)
    }
}

/// Typed access to one component object of tokenizer.json.
struct ComponentSpec {
    let json: JSONObject
    let kind: String
    let type: String
    init(_ value: JSONValue, kind: String) throws {
        guard let object = value.object else { throw TokenizerError.wrongType(kind, expected: "an object", in: "tokenizer.json") }
        guard let type = object["type"]?.string else { throw TokenizerError.missingKey("type", in: kind) }
        self.json = object; self.kind = kind; self.type = type
    }
    var place: String { "\(kind) \(type)" }
    func value(_ key: String) throws -> JSONValue {
        guard let v = json[key] else { throw TokenizerError.missingKey(key, in: place) }
        return v
    }
    func string(_ key: String) throws -> String {
        guard let s = try value(key).string else { throw TokenizerError.wrongType(key, expected: "a string", in: place) }
        return s
    }
    func string(_ key: String, default d: String) throws -> String {
        guard let v = json[key], !v.isNull else { return d }
        guard let s = v.string else { throw TokenizerError.wrongType(key, expected: "a string", in: place) }
        return s
    }
    func array(_ key: String) throws -> [JSONValue] {
        guard let a = try value(key).array else { throw TokenizerError.wrongType(key, expected: "an array", in: place) }
        return a
    }
    func bool(_ key: String, default d: Bool) -> Bool { json[key]?.bool ?? d }
    func int(_ key: String, default d: Int) -> Int { json[key]?.int ?? d }
}
