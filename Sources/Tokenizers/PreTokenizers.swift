import Foundation

/// A piece of text between pre-tokenization boundaries. `atStart` says it begins at offset 0 of
/// the original input (Metaspace's `prepend_scheme: first` depends on it).
public struct TextSplit: Sendable {
    public var scalars: [Unicode.Scalar]
    public var atStart: Bool
    public init(_ scalars: [Unicode.Scalar], atStart: Bool) { self.scalars = scalars; self.atStart = atStart }
}

/// Splits normalized text into words (tokenizer.json `pre_tokenizer`).
public protocol PreTokenizer: Sendable {
    func preTokenize(_ splits: [TextSplit]) -> [TextSplit]
}

enum SplitBehavior: String, Sendable {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
}

/// Cuts `text` at `matches` (sorted, non-overlapping) following `behavior`; drops empty pieces.
func splitPieces(_ split: TextSplit, matches: [Range<Int>], behavior: SplitBehavior, invert: Bool = false) -> [TextSplit] {
    let n = split.scalars.count
    if n == 0 { return [] }
    // Runs covering the text: (range, isMatch).
    var runs: [(Range<Int>, Bool)] = []
    var last = 0
    for m in matches {
        if m.lowerBound > last { runs.append((last..<m.lowerBound, invert)) }
        runs.append((m, !invert))
        last = m.upperBound
    }
    if last < n { runs.append((last..<n, invert)) }
    var pieces: [Range<Int>] = []
    switch behavior {
    case .removed:
        pieces = runs.filter { !$0.1 }.map { $0.0 }
    case .isolated:
        pieces = runs.map { $0.0 }
    case .mergedWithPrevious:
        var previousMatch = false
        for (r, isMatch) in runs {
            if isMatch && !previousMatch, let lastPiece = pieces.last {
                pieces[pieces.count - 1] = lastPiece.lowerBound..<r.upperBound
            } else { pieces.append(r) }
            previousMatch = isMatch
        }
    case .mergedWithNext:
        var previousMatch = false
        for (r, isMatch) in runs.reversed() {
            if isMatch && !previousMatch, let lastPiece = pieces.last {
                pieces[pieces.count - 1] = r.lowerBound..<lastPiece.upperBound
            } else { pieces.append(r) }
            previousMatch = isMatch
        }
        pieces.reverse()
    case .contiguous:
        var previousMatch = false
        for (r, isMatch) in runs {
            if isMatch == previousMatch, let lastPiece = pieces.last {
                pieces[pieces.count - 1] = lastPiece.lowerBound..<r.upperBound
            } else { pieces.append(r) }
            previousMatch = isMatch
        }
    }
    return pieces.filter { !$0.isEmpty }.map {
        TextSplit(Array(split.scalars[$0]), atStart: split.atStart && $0.lowerBound == 0)
    }
}

/// One match per character satisfying `predicate`.
func characterMatches(_ text: [Unicode.Scalar], _ predicate: (Unicode.Scalar) -> Bool) -> [Range<Int>] {
    var out: [Range<Int>] = []
    for (i, c) in text.enumerated() where predicate(c) { out.append(i..<(i + 1)) }
    return out
}

struct WhitespaceSplitPreTokenizer: PreTokenizer {
    func preTokenize(_ splits: [TextSplit]) -> [TextSplit] {
        splits.flatMap { splitPieces($0, matches: characterMatches($0.scalars) { $0.isSpace }, behavior: .removed) }
    }
}

/// `\w+|[^\w\s]+`, keeping only the matches.
struct WhitespacePreTokenizer: PreTokenizer {
    func preTokenize(_ splits: [TextSplit]) -> [TextSplit] {
        splits.flatMap { split -> [TextSplit] in
            let t = split.scalars
            var matches: [Range<Int>] = []
            var i = 0
            while i < t.count {
                if t[i].isWordCharacter {
                    var j = i + 1
                    while j < t.count, t[j].isWordCharacter { j += 1 }
                    matches.append(i..<j); i = j
                } else if !t[i].isSpace {
                    var j = i + 1
                    while j < t.count, !t[j].isWordCharacter, !t[j].isSpace { j += 1 }
                    matches.append(i..<j); i = j
                } else { i += 1 }
            }
            return splitPieces(split, matches: matches, behavior: .removed, invert: true)
        }
    }
}

struct PunctuationPreTokenizer: PreTokenizer {
    let behavior: SplitBehavior
    func preTokenize(_ splits: [TextSplit]) -> [TextSplit] {
        splits.flatMap { splitPieces($0, matches: characterMatches($0.scalars) { $0.isASCIIPunctuation || $0.isPunctuationCategory }, behavior: behavior) }
    }
}

struct DigitsPreTokenizer: PreTokenizer {
    let individual: Bool
    func preTokenize(_ splits: [TextSplit]) -> [TextSplit] {
        splits.flatMap { splitPieces($0, matches: characterMatches($0.scalars) { $0.isNumber }, behavior: individual ? .isolated : .contiguous) }
    }
}

struct BertPreTokenizer: PreTokenizer {
    func preTokenize(_ splits: [TextSplit]) -> [TextSplit] {
        splits.flatMap { splitPieces($0, matches: characterMatches($0.scalars) { $0.isSpace }, behavior: .removed) }
            .flatMap { splitPieces($0, matches: characterMatches($0.scalars) { $0.isASCIIPunctuation || $0.isPunctuationCategory }, behavior: .isolated) }
    }
}

enum PrependScheme: String, Sendable { case always, never, first }

struct MetaspacePreTokenizer: PreTokenizer {
    let replacement: Unicode.Scalar
    let prependScheme: PrependScheme
    let split: Bool
    func preTokenize(_ splits: [TextSplit]) -> [TextSplit] {
        splits.flatMap { piece -> [TextSplit] in
            var t = piece.scalars.map { $0 == " " ? replacement : $0 }
            if !t.isEmpty, t.first != replacement {
                if prependScheme == .always || (prependScheme == .first && piece.atStart) { t.insert(replacement, at: 0) }
            }
            let s = TextSplit(t, atStart: piece.atStart)
            if !split { return t.isEmpty ? [] : [s] }
            return splitPieces(s, matches: characterMatches(t) { $0 == replacement }, behavior: .mergedWithNext)
        }
    }
}

struct SplitPreTokenizer: PreTokenizer {
    let pattern: Pattern
    let behavior: SplitBehavior
    let invert: Bool
    func preTokenize(_ splits: [TextSplit]) -> [TextSplit] {
        splits.flatMap { splitPieces($0, matches: pattern.matches(in: $0.scalars), behavior: behavior, invert: invert) }
    }
}

struct SequencePreTokenizer: PreTokenizer {
    let preTokenizers: [any PreTokenizer]
    func preTokenize(_ splits: [TextSplit]) -> [TextSplit] {
        preTokenizers.reduce(splits) { $1.preTokenize($0) }
    }
}

/// GPT-2's byte-level pre-tokenizer: optional prefix space, the GPT-2 split regex, then each
/// UTF-8 byte mapped to a printable character.
struct ByteLevelPreTokenizer: PreTokenizer {
    let addPrefixSpace: Bool
    let useRegex: Bool
    func preTokenize(_ splits: [TextSplit]) -> [TextSplit] {
        var out: [TextSplit] = []
        for split in splits {
            var t = split.scalars
            if addPrefixSpace, t.first != " " { t.insert(" ", at: 0) }
            let pieces = useRegex ? gpt2Split(t).map { TextSplit(Array(t[$0]), atStart: split.atStart && $0.lowerBound == 0) }
                                  : [TextSplit(t, atStart: split.atStart)]
            for p in pieces where !p.scalars.isEmpty {
                out.append(TextSplit(ByteLevel.encode(p.scalars), atStart: p.atStart))
            }
        }
        return out
    }
}

enum ByteLevel {
    /// Byte -> printable scalar (GPT-2's bytes_to_unicode).
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var n: UInt32 = 0
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(256 + n)!
                n += 1
            }
        }
        return table
    }()
    static let scalarToByte: [UInt32: UInt8] = {
        var m: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { m[s.value] = UInt8(b) }
        return m
    }()
    static func encode(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for c in text {
            if c.value < 0x80 { out.append(byteToScalar[Int(c.value)]); continue }
            for b in String(Character(c)).utf8 { out.append(byteToScalar[Int(b)]) }
        }
        return out
    }
}

/// Hand-written matcher for GPT-2's pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
func gpt2Split(_ t: [Unicode.Scalar]) -> [Range<Int>] {
    var out: [Range<Int>] = []
    let n = t.count
    var i = 0
    @inline(__always) func isL(_ c: Unicode.Scalar) -> Bool { c.isASCII ? ((c.value | 0x20) >= 0x61 && (c.value | 0x20) <= 0x7A) : c.isLetter }
    @inline(__always) func isN(_ c: Unicode.Scalar) -> Bool { c.isASCII ? (c.value >= 0x30 && c.value <= 0x39) : c.isNumber }
    @inline(__always) func isS(_ c: Unicode.Scalar) -> Bool { c.isASCII ? (c == " " || (c.value >= 0x09 && c.value <= 0x0D)) : c.isSpace }
    while i < n {
        let c = t[i]
        if c == "'" && i + 1 < n {
            let d = t[i + 1]
            if d == "s" || d == "t" || d == "m" || d == "d" { out.append(i..<(i + 2)); i += 2; continue }
            if i + 2 < n {
                let e = t[i + 2]
                if (d == "r" && e == "e") || (d == "v" && e == "e") || (d == "l" && e == "l") { out.append(i..<(i + 3)); i += 3; continue }
            }
        }
        var j = i
        if c == " " && i + 1 < n { j = i + 1 }
        let head = t[j]
        if isL(head) {
            var k = j + 1
            while k < n, isL(t[k]) { k += 1 }
            out.append(i..<k); i = k; continue
        }
        if isN(head) {
            var k = j + 1
            while k < n, isN(t[k]) { k += 1 }
            out.append(i..<k); i = k; continue
        }
        if !isS(head) {
            var k = j + 1
            while k < n, !isS(t[k]), !isL(t[k]), !isN(t[k]) { k += 1 }
            out.append(i..<k); i = k; continue
        }
        // Whitespace run starting at i.
        var k = i + 1
        while k < n, isS(t[k]) { k += 1 }
        if k == n || k - i == 1 { out.append(i..<k); i = k; continue }
        out.append(i..<(k - 1)); i = k - 1
    }
    return out
}

/// Hand-written matcher for the LLaMA-3 pattern
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
func llama3Split(_ t: [Unicode.Scalar], maxDigits: Int) -> [Range<Int>] {
    var out: [Range<Int>] = []
    let n = t.count
    var i = 0
    func isL(_ c: Unicode.Scalar) -> Bool { c.isLetter }
    func isN(_ c: Unicode.Scalar) -> Bool { c.isNumber }
    func isS(_ c: Unicode.Scalar) -> Bool { c.isSpace }
    func isNL(_ c: Unicode.Scalar) -> Bool { c == "\r" || c == "\n" }
    func lower(_ c: Unicode.Scalar) -> Unicode.Scalar { c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(c.value + 32)! : c }
    while i < n {
        let c = t[i]
        if c == "'" && i + 1 < n {
            let d = lower(t[i + 1])
            if d == "s" || d == "t" || d == "m" || d == "d" { out.append(i..<(i + 2)); i += 2; continue }
            if i + 2 < n {
                let e = lower(t[i + 2])
                if (d == "r" && e == "e") || (d == "v" && e == "e") || (d == "l" && e == "l") { out.append(i..<(i + 3)); i += 3; continue }
            }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if isL(c) || (!isNL(c) && !isL(c) && !isN(c) && i + 1 < n && isL(t[i + 1])) {
            var k = isL(c) ? i + 1 : i + 2
            while k < n, isL(t[k]) { k += 1 }
            out.append(i..<k); i = k; continue
        }
        if isN(c) {
            var k = i + 1
            while k < n, k - i < maxDigits, isN(t[k]) { k += 1 }
            out.append(i..<k); i = k; continue
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let j = (c == " " && i + 1 < n) ? i + 1 : i
        if !isS(t[j]) && !isL(t[j]) && !isN(t[j]) {
            var k = j + 1
            while k < n, !isS(t[k]), !isL(t[k]), !isN(t[k]) { k += 1 }
            while k < n, isNL(t[k]) { k += 1 }
            out.append(i..<k); i = k; continue
        }
        // Whitespace at i. `\s*[\r\n]+`: the longest whitespace prefix ending in a newline run.
        var k = i
        while k < n, isS(t[k]) { k += 1 }
        var lastNL = -1
        for m in i..<k where isNL(t[m]) { lastNL = m }
        if lastNL >= 0 { out.append(i..<(lastNL + 1)); i = lastNL + 1; continue }
        if k == n || k - i == 1 { out.append(i..<k); i = k; continue }
        out.append(i..<(k - 1)); i = k - 1
    }
    return out
}

/// Builds a pre-tokenizer from its tokenizer.json description.
func makePreTokenizer(_ json: JSONValue) throws -> (any PreTokenizer)? {
    if json.isNull { return nil }
    let spec = try ComponentSpec(json, kind: "pre_tokenizer")
    switch spec.type {
    case "Whitespace": return WhitespacePreTokenizer()
    case "WhitespaceSplit": return WhitespaceSplitPreTokenizer()
    case "BertPreTokenizer": return BertPreTokenizer()
    case "Punctuation":
        return PunctuationPreTokenizer(behavior: try behavior(spec, default: .isolated))
    case "Digits": return DigitsPreTokenizer(individual: spec.bool("individual_digits", default: false))
    case "Metaspace":
        let replacement = try spec.string("replacement", default: "▁").unicodeScalars
        guard replacement.count == 1, let r = replacement.first else {
            throw TokenizerError.malformed("pre_tokenizer Metaspace", reason: "replacement must be one character")
        }
        var scheme = PrependScheme.always
        if let s = spec.json["prepend_scheme"]?.string {
            guard let p = PrependScheme(rawValue: s) else { throw TokenizerError.unknownComponent(kind: "prepend_scheme", type: s) }
            scheme = p
        } else if let add = spec.json["add_prefix_space"]?.bool { scheme = add ? .always : .never }
        return MetaspacePreTokenizer(replacement: r, prependScheme: scheme, split: spec.bool("split", default: true))
    case "ByteLevel":
        return ByteLevelPreTokenizer(addPrefixSpace: spec.bool("add_prefix_space", default: true), useRegex: spec.bool("use_regex", default: true))
    case "Split":
        return SplitPreTokenizer(pattern: try Pattern(try spec.value("pattern"), in: "pre_tokenizer Split"),
                                 behavior: try behavior(spec, default: .isolated), invert: spec.bool("invert", default: false))
    case "Sequence":
        return SequencePreTokenizer(preTokenizers: try spec.array("pretokenizers").compactMap { try makePreTokenizer($0) })
    default:
        throw TokenizerError.unknownComponent(kind: "pre_tokenizer", type: spec.type)
    }
}

private func behavior(_ spec: ComponentSpec, default d: SplitBehavior) throws -> SplitBehavior {
    guard let s = spec.json["behavior"]?.string else { return d }
    guard let b = SplitBehavior(rawValue: s) else { throw TokenizerError.unknownComponent(kind: "split behavior", type: s) }
    return b
}
