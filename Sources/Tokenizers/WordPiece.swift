import Foundation

/// Greedy longest-match-first WordPiece (BERT).
struct WordPieceModel: TokenModel {
    let vocab: Vocabulary
    let unkId: Int
    let unkToken: String
    let prefix: String
    let maxInputCharsPerWord: Int

    init(json: JSONValue) throws {
        guard let v = json["vocab"]?.object else { throw TokenizerError.missingKey("vocab", in: "model WordPiece") }
        vocab = try Vocabulary(object: v, place: "model WordPiece")
        unkToken = json["unk_token"]?.string ?? "[UNK]"
        guard let unk = vocab.ids[unkToken] else { throw TokenizerError.missingToken(unkToken, in: "model WordPiece unk_token") }
        unkId = unk
        prefix = json["continuing_subword_prefix"]?.string ?? "##"
        maxInputCharsPerWord = json["max_input_chars_per_word"]?.int ?? 100
    }

    init(vocab: Vocabulary, unkToken: String, prefix: String = "##", maxInputCharsPerWord: Int = 100) throws {
        self.vocab = vocab
        self.unkToken = unkToken
        guard let unk = vocab.ids[unkToken] else { throw TokenizerError.missingToken(unkToken, in: "WordPiece unk_token") }
        self.unkId = unk
        self.prefix = prefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    func tokenize(_ word: [Unicode.Scalar]) -> [Int] {
        // The limit counts Rust `char`s, i.e. scalars.
        if word.count > maxInputCharsPerWord { return [unkId] }
        if word.isEmpty { return [] }
        // Work on UTF-8 bytes laid out as prefix + word; scalar i starts at byte p + offsets[i].
        var bytes: [UInt8] = Array(prefix.utf8)
        let p = bytes.count
        var offsets: [Int] = []
        offsets.reserveCapacity(word.count + 1)
        for c in word { offsets.append(bytes.count); appendUTF8(c, to: &bytes) }
        offsets.append(bytes.count)
        var scratch = [UInt8](repeating: 0, count: bytes.count)
        var out: [Int] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int?
            while start < end {
                let s = offsets[start], e = offsets[end]
                let id: Int?
                if start == 0 {
                    id = bytes.withUnsafeBufferPointer { vocab.ids.id(UnsafeBufferPointer(rebasing: $0[s..<e])) }
                } else {
                    // prefix + piece, copied together.
                    for i in 0..<p { scratch[i] = bytes[i] }
                    for i in 0..<(e - s) { scratch[p + i] = bytes[s + i] }
                    id = scratch.withUnsafeBufferPointer { vocab.ids.id(UnsafeBufferPointer(rebasing: $0[0..<(p + e - s)])) }
                }
                if let id { found = id; break }
                end -= 1
            }
            guard let id = found else { return [unkId] }
            out.append(id)
            start = end
        }
        return out
    }
    func token(for id: Int) -> String? { vocab.token(for: id) }
    func id(for token: String) -> Int? { vocab.ids[token] }
    var vocabularySize: Int { vocab.tokens.count }
}

