import Foundation

/// Turns token strings back into text (tokenizer.json `decoder`); each step maps a list of
/// token strings to a new list, as in the reference's `decode_chain`.
protocol Decoder: Sendable {
    func decodeChain(_ tokens: [String]) -> [String]
}

struct ByteLevelDecoder: Decoder {
    func decodeChain(_ tokens: [String]) -> [String] {
        var bytes: [UInt8] = []
        for t in tokens {
            var mapped: [UInt8] = []
            var ok = true
            for s in t.unicodeScalars {
                guard let b = ByteLevel.scalarToByte[s.value] else { ok = false; break }
                mapped.append(b)
            }
            bytes.append(contentsOf: ok ? mapped : Array(t.utf8))
        }
        return [String(decoding: bytes, as: UTF8.self)]
    }
}

struct MetaspaceDecoder: Decoder {
    let replacement: Unicode.Scalar
    let prependScheme: PrependScheme
    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, t in
            var out = t.unicodeScalars.map { $0 == replacement ? " " : $0 }
            if i == 0 && prependScheme != .never && out.first == " " { out.removeFirst() }
            return out.string
        }
    }
}

struct WordPieceDecoder: Decoder {
    let prefix: String
    let cleanup: Bool
    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, t in
            var s = t
            if i != 0 {
                if s.utf8.starts(with: prefix.utf8) { s = String(decoding: s.utf8.dropFirst(prefix.utf8.count), as: UTF8.self) } else { s = " " + s }
            }
            return cleanup ? cleanupTokenization(s) : s
        }
    }
}

func cleanupTokenization(_ s: String) -> String {
    var out = s
    for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
                       (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
        out = out.replacingLiteral(from, with: to)
    }
    return out
}

extension String {
    /// Byte-wise replacement (Foundation's replacingOccurrences compares canonically).
    func replacingLiteral(_ target: String, with replacement: String) -> String {
        let t = Array(target.utf8)
        guard !t.isEmpty else { return self }
        let u = Array(utf8)
        guard u.count >= t.count else { return self }
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        var i = 0
        var changed = false
        while i < u.count {
            if u[i] == t[0] && i + t.count <= u.count && u[i..<(i + t.count)].elementsEqual(t) {
                out.append(contentsOf: replacement.utf8); i += t.count; changed = true
            } else { out.append(u[i]); i += 1 }
        }
        return changed ? String(decoding: out, as: UTF8.self) : self
    }
}

/// `<0xXX>` tokens become bytes; invalid UTF-8 becomes one U+FFFD per byte.
struct ByteFallbackDecoder: Decoder {
    func decodeChain(_ tokens: [String]) -> [String] {
        var out: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let s = String(validating: pending, as: UTF8.self) { out.append(s) } else {
                out.append(contentsOf: Array(repeating: "\u{FFFD}", count: pending.count))
            }
            pending.removeAll()
        }
        for t in tokens {
            if let b = parseByteToken(t) { pending.append(b) } else { flush(); out.append(t) }
        }
        flush()
        return out
    }
}

func parseByteToken(_ t: String) -> UInt8? {
    let u = Array(t.utf8)
    guard u.count == 6, u[0] == UInt8(ascii: "<"), u[1] == UInt8(ascii: "0"), u[2] == UInt8(ascii: "x"), u[5] == UInt8(ascii: ">") else { return nil }
    return UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16)
}

struct FuseDecoder: Decoder {
    func decodeChain(_ tokens: [String]) -> [String] { [tokens.joined()] }
}

struct StripDecoder: Decoder {
    let content: Unicode.Scalar
    let start: Int, stop: Int
    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { t in
            let chars = Array(t.unicodeScalars)
            var lo = 0, hi = chars.count
            while lo < min(start, chars.count), chars[lo] == content { lo += 1 }
            var removed = 0
            while removed < stop, hi > lo, chars[hi - 1] == content { hi -= 1; removed += 1 }
            return chars[lo..<hi].string
        }
    }
}

struct ReplaceDecoder: Decoder {
    let replace: ReplaceNormalizer
    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { replace.normalize(Array($0.unicodeScalars)).string }
    }
}

struct SequenceDecoder: Decoder {
    let decoders: [any Decoder]
    func decodeChain(_ tokens: [String]) -> [String] { decoders.reduce(tokens) { $1.decodeChain($0) } }
}

/// BPE end-of-word suffix decoder (`</w>` becomes a space, the last one dropped).
struct BPESuffixDecoder: Decoder {
    let suffix: String
    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, t in
            t.replacingLiteral(suffix, with: i == tokens.count - 1 ? "" : " ")
        }
    }
}

func makeDecoder(_ json: JSONValue) throws -> (any Decoder)? {
    if json.isNull { return nil }
    let spec = try ComponentSpec(json, kind: "decoder")
    switch spec.type {
    case "ByteLevel": return ByteLevelDecoder()
    case "Metaspace":
        let r = try spec.string("replacement", default: "▁").unicodeScalars
        guard r.count == 1, let c = r.first else { throw TokenizerError.malformed("decoder Metaspace", reason: "replacement must be one character") }
        var scheme = PrependScheme.always
        if let s = spec.json["prepend_scheme"]?.string {
            guard let p = PrependScheme(rawValue: s) else { throw TokenizerError.unknownComponent(kind: "prepend_scheme", type: s) }
            scheme = p
        } else if let add = spec.json["add_prefix_space"]?.bool { scheme = add ? .always : .never }
        return MetaspaceDecoder(replacement: c, prependScheme: scheme)
    case "WordPiece":
        return WordPieceDecoder(prefix: try spec.string("prefix", default: "##"), cleanup: spec.bool("cleanup", default: true))
    case "ByteFallback": return ByteFallbackDecoder()
    case "Fuse": return FuseDecoder()
    case "Strip":
        let content = try spec.string("content", default: " ").unicodeScalars
        guard content.count == 1, let c = content.first else { throw TokenizerError.malformed("decoder Strip", reason: "content must be one character") }
        return StripDecoder(content: c, start: spec.int("start", default: 0), stop: spec.int("stop", default: 0))
    case "Replace":
        return ReplaceDecoder(replace: ReplaceNormalizer(pattern: try Pattern(try spec.value("pattern"), in: "decoder Replace"),
                                                         content: Array(try spec.string("content").unicodeScalars)))
    case "BPEDecoder": return BPESuffixDecoder(suffix: try spec.string("suffix", default: "</w>"))
    case "Sequence":
        return SequenceDecoder(decoders: try spec.array("decoders").compactMap { try makeDecoder($0) })
    default:
        throw TokenizerError.unknownComponent(kind: "decoder", type: spec.type)
    }
}
