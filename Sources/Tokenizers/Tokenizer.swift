import Foundation

/// Text to token ids and back, plus chat formatting. Every implementation is exact against its
/// reference (Hugging Face `tokenizers`, `sentencepiece`, llama.cpp) and safe on any input.
public protocol Tokenizer: Sendable {
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int]
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String
    func applyChatTemplate(messages: [[String: String]], addGenerationPrompt: Bool) throws -> String
    /// The token text of an id (nil when out of range).
    func token(for id: Int) -> String?
    /// The id of a token text (nil when not in the vocabulary).
    func id(for token: String) -> Int?
    var vocabularySize: Int { get }
    var bosTokenId: Int? { get }
    var eosTokenId: Int? { get }
}

public extension Tokenizer {
    func encode(_ text: String) -> [Int] { encode(text, addSpecialTokens: true) }
    func decode(_ ids: [Int]) -> String { decode(ids, skipSpecialTokens: false) }
    func applyChatTemplate(messages: [[String: String]]) throws -> String {
        try applyChatTemplate(messages: messages, addGenerationPrompt: true)
    }
}

/// Errors from loading and using tokenizers; each names the file, key or component at fault.
public enum TokenizerError: LocalizedError, Sendable, Equatable {
    case fileNotFound(String)
    case unreadable(String, reason: String)
    case malformed(String, reason: String)
    case missingKey(String, in: String)
    case wrongType(String, expected: String, in: String)
    case unknownComponent(kind: String, type: String)
    case unsupported(String)
    case missingToken(String, in: String)
    case noChatTemplate
    case template(String)

    public var errorDescription: String? {
        switch self {
        case .fileNotFound(let p): return "tokenizer file not found: \(p)"
        case .unreadable(let p, let r): return "cannot read \(p): \(r)"
        case .malformed(let p, let r): return "malformed tokenizer \(p): \(r)"
        case .missingKey(let k, let w): return "missing key '\(k)' in \(w)"
        case .wrongType(let k, let e, let w): return "key '\(k)' in \(w) should be \(e)"
        case .unknownComponent(let kind, let type): return "unknown \(kind) type '\(type)'"
        case .unsupported(let what): return "unsupported: \(what)"
        case .missingToken(let t, let w): return "token '\(t)' named in \(w) is not in the vocabulary"
        case .noChatTemplate: return "this tokenizer has no chat template"
        case .template(let m): return "chat template: \(m)"
        }
    }
}

/// Entry point: picks the implementation from what a path holds.
public enum Tokenizers {
    /// Loads a tokenizer from a folder (`tokenizer.json` [+ `tokenizer_config.json`], or a
    /// SentencePiece `*.model`), a `tokenizer.json`, a `.model` or a `.gguf` file.
    public static func load(from url: URL) throws -> any Tokenizer {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw TokenizerError.fileNotFound(url.path)
        }
        if isDirectory.boolValue {
            let json = url.appendingPathComponent("tokenizer.json")
            if fm.fileExists(atPath: json.path) { return try HFTokenizer(folder: url) }
            let files = (try? fm.contentsOfDirectory(atPath: url.path).sorted()) ?? []
            if let model = files.first(where: { $0.hasSuffix(".model") }) {
                return try SentencePieceTokenizer(modelFile: url.appendingPathComponent(model), configFolder: url)
            }
            if let gguf = files.first(where: { $0.hasSuffix(".gguf") }) {
                return try GGUFTokenizer.load(from: url.appendingPathComponent(gguf))
            }
            throw TokenizerError.fileNotFound(url.appendingPathComponent("tokenizer.json").path)
        }
        switch url.pathExtension.lowercased() {
        case "gguf": return try GGUFTokenizer.load(from: url)
        case "model": return try SentencePieceTokenizer(modelFile: url, configFolder: url.deletingLastPathComponent())
        case "json":
            if url.lastPathComponent == "tokenizer_config.json" { return try HFTokenizer(folder: url.deletingLastPathComponent()) }
            return try HFTokenizer(file: url, config: url.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json"))
        default:
            // Sniff: GGUF magic, or JSON.
            let head = (try? FileHandle(forReadingFrom: url).readData(ofLength: 4)) ?? Data()
            if head == Data("GGUF".utf8) { return try GGUFTokenizer.load(from: url) }
            return try HFTokenizer(file: url)
        }
    }
}

func readFile(_ url: URL) throws -> Data {
    do { return try Data(contentsOf: url) } catch {
        if !FileManager.default.fileExists(atPath: url.path) { throw TokenizerError.fileNotFound(url.path) }
        throw TokenizerError.unreadable(url.path, reason: error.localizedDescription)
    }
}

/// A lock-protected cache usable from many threads.
final class LockedCache<Key: Hashable, Value>: @unchecked Sendable {
    private var storage: [Key: Value] = [:]
    private let lock = NSLock()
    private let capacity: Int
    init(capacity: Int) { self.capacity = capacity }
    func get(_ key: Key) -> Value? { lock.lock(); defer { lock.unlock() }; return storage[key] }
    func set(_ key: Key, _ value: Value) {
        lock.lock(); defer { lock.unlock() }
        if storage.count >= capacity { storage.removeAll(keepingCapacity: true) }
        storage[key] = value
    }
}

// MARK: - Unicode classes, as the references define them

extension Unicode.Scalar {
    var isLetter: Bool {
        if value < 0x80 { return (value | 0x20) >= 0x61 && (value | 0x20) <= 0x7A }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }
    var isNumber: Bool {
        if value < 0x80 { return value >= 0x30 && value <= 0x39 }
        switch properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }
    var isMark: Bool {
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }
    /// Unicode White_Space (Rust `char::is_whitespace`, Oniguruma `\s`).
    @inline(__always) var isSpace: Bool {
        if value < 0x80 { return value == 0x20 || (value >= 0x09 && value <= 0x0D) }
        return properties.isWhitespace
    }
    /// Unicode punctuation categories P* (Rust `unicode_categories::is_punctuation`).
    var isPunctuationCategory: Bool {
        if value < 0x80 {
            // ASCII P*: all ASCII punctuation except $ + < = > ^ ` | ~ (symbols).
            return isASCIIPunctuation && !"$+<=>^`|~".unicodeScalars.contains(self)
        }
        switch properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }
    var isASCIIPunctuation: Bool {
        let v = value
        return (0x21...0x2F).contains(v) || (0x3A...0x40).contains(v) || (0x5B...0x60).contains(v) || (0x7B...0x7E).contains(v)
    }
    /// Regex `\w`: alphabetic, marks, decimal digits, connector punctuation, join controls.
    var isWordCharacter: Bool {
        if value < 0x80 {
            return (value >= 0x30 && value <= 0x39) || ((value | 0x20) >= 0x61 && (value | 0x20) <= 0x7A) || value == 0x5F
        }
        let p = properties
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }
    /// Rust `char::is_alphanumeric`: Alphabetic or Numeric (Nd, Nl, No).
    var isAlphanumeric: Bool { properties.isAlphabetic || isNumber }
}

extension Array where Element == Unicode.Scalar {
    init(_ s: String) { self = Array(s.unicodeScalars) }
    var string: String { self[...].string }
}

extension ArraySlice where Element == Unicode.Scalar {
    var string: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for c in self { appendUTF8(c, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

@inline(__always) func appendUTF8(_ c: Unicode.Scalar, to bytes: inout [UInt8]) {
    let v = c.value
    if v < 0x80 {
        bytes.append(UInt8(v))
    } else if v < 0x800 {
        bytes.append(UInt8(0xC0 | (v >> 6))); bytes.append(UInt8(0x80 | (v & 0x3F)))
    } else if v < 0x10000 {
        bytes.append(UInt8(0xE0 | (v >> 12))); bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F))); bytes.append(UInt8(0x80 | (v & 0x3F)))
    } else {
        bytes.append(UInt8(0xF0 | (v >> 18))); bytes.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
        bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F))); bytes.append(UInt8(0x80 | (v & 0x3F)))
    }
}

/// A String compared and hashed byte for byte. Swift's `String ==` uses canonical equivalence
/// ("é" == "e\u{301}"), but vocabularies hold both spellings as different tokens.
struct ExactString: Hashable, Sendable {
    let value: String
    init(_ value: String) { self.value = value }
    static func == (a: ExactString, b: ExactString) -> Bool {
        var x = a.value, y = b.value
        return x.withUTF8 { p in y.withUTF8 { q in p.count == q.count && (p.count == 0 || memcmp(p.baseAddress!, q.baseAddress!, p.count) == 0) } }
    }
    func hash(into hasher: inout Hasher) { hasher.combine(_rawHashValue(seed: 0)) }
    // Vocabulary lookups dominate loading; FNV-1a with a final mix is much cheaper than
    // SipHash for short tokens, and the seed still varies per table.
    func _rawHashValue(seed: Int) -> Int {
        var v = value
        return v.withUTF8 { p -> Int in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bitPattern: Int64(seed))
            for b in p { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h ^= h >> 33; h = h &* 0xff51_afd7_ed55_8ccd; h ^= h >> 33
            return Int(bitPattern: UInt(h))
        }
    }
}

/// Dictionary keyed by exact strings.
struct ExactMap<Value: Sendable>: Sendable {
    private(set) var storage: [ExactString: Value] = [:]
    init() {}
    subscript(key: String) -> Value? {
        get { storage[ExactString(key)] }
        set { storage[ExactString(key)] = newValue }
    }
    mutating func reserveCapacity(_ n: Int) { storage.reserveCapacity(n) }
    var count: Int { storage.count }
}
