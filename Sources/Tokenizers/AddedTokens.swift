import Foundation

/// A token matched in raw (or normalized) text before the model runs.
public struct AddedToken: Sendable, Equatable {
    public var content: String
    public var id: Int
    public var special: Bool
    public var lstrip = false
    public var rstrip = false
    public var normalized = false
    public var singleWord = false

    public init(content: String, id: Int, special: Bool, lstrip: Bool = false, rstrip: Bool = false,
                normalized: Bool = false, singleWord: Bool = false) {
        self.content = content; self.id = id; self.special = special; self.lstrip = lstrip
        self.rstrip = rstrip; self.normalized = normalized; self.singleWord = singleWord
    }

    init(json: JSONValue, index: Int) throws {
        let place = "added_tokens[\(index)]"
        guard let content = json["content"]?.string else { throw TokenizerError.missingKey("content", in: place) }
        guard let id = json["id"]?.int, id >= 0 else { throw TokenizerError.missingKey("id", in: place) }
        self.init(content: content, id: id, special: json["special"]?.bool ?? false,
                  lstrip: json["lstrip"]?.bool ?? false, rstrip: json["rstrip"]?.bool ?? false,
                  normalized: json["normalized"]?.bool ?? !(json["special"]?.bool ?? false),
                  singleWord: json["single_word"]?.bool ?? false)
    }
}

/// A segment of input: either text still to tokenize or an already-identified added token.
enum Segment {
    case text([Unicode.Scalar], atStart: Bool)
    case token(Int)
}

/// Finds added tokens with leftmost-longest matching and applies `lstrip`/`rstrip`/`single_word`.
struct AddedTokenMatcher: Sendable {
    let tokens: [AddedToken]
    let trie: PieceTrie
    let firstScalars: Set<UInt32>

    init(tokens: [AddedToken], patterns: [String]) {
        self.tokens = tokens
        trie = PieceTrie(tokens: patterns)
        firstScalars = Set(patterns.compactMap { $0.unicodeScalars.first?.value })
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Splits `text` into text and token segments.
    func split(_ text: [Unicode.Scalar], atStart: Bool) -> [Segment] {
        if tokens.isEmpty || text.isEmpty { return text.isEmpty ? [] : [.text(text, atStart: atStart)] }
        // Leftmost-longest non-overlapping matches over the whole text.
        var matches: [(Int, Int, Int)] = []  // (token index, start, end)
        var i = 0
        while i < text.count {
            if !firstScalars.contains(text[i].value) { i += 1; continue }
            var best: (Int, Int)?
            trie.forEachPrefix(of: text, from: i) { idx, end in best = (idx, end) }
            if let (idx, end) = best { matches.append((idx, i, end)); i = end } else { i += 1 }
        }
        if matches.isEmpty { return [.text(text, atStart: atStart)] }
        var out: [Segment] = []
        var offset = 0
        for (idx, mStart, mEnd) in matches {
            let tok = tokens[idx]
            var start = mStart, stop = mEnd
            if start < offset { continue }
            if tok.singleWord {
                let before = start == 0 || !isWordChar(text[start - 1])
                let after = stop == text.count || !isWordChar(text[stop])
                if !before || !after { continue }
            }
            if tok.lstrip {
                var s = start
                while s > 0, text[s - 1].isSpace { s -= 1 }
                start = max(s, offset)
            }
            if tok.rstrip {
                while stop < text.count, text[stop].isSpace { stop += 1 }
            }
            if offset < start { out.append(.text(Array(text[offset..<start]), atStart: atStart && offset == 0)) }
            out.append(.token(tok.id))
            offset = stop
        }
        if offset < text.count { out.append(.text(Array(text[offset...]), atStart: atStart && offset == 0)) }
        return out
    }

    private func isWordChar(_ c: Unicode.Scalar) -> Bool { c.isAlphanumeric || c == "_" }
}
