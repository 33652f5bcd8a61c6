import Foundation

/// Unigram language-model tokenization: Viterbi over the pieces' log probabilities.
struct UnigramModel: TokenModel {
    let vocab: Vocabulary
    let scores: [Double]
    let unkId: Int?
    let byteFallback: Bool
    let unkScore: Double
    /// First scalar -> candidate pieces (scalars, id), longest first is not required.
    let trie: PieceTrie
    let byteIds: [Int]
    let cache = LockedCache<ExactString, [Int]>(capacity: 100_000)

    init(json: JSONValue) throws {
        let place = "model Unigram"
        guard let v = json["vocab"]?.array else { throw TokenizerError.missingKey("vocab", in: place) }
        var tokens: [String] = []
        var scores: [Double] = []
        tokens.reserveCapacity(v.count)
        for (i, entry) in v.enumerated() {
            guard let pair = entry.array, pair.count == 2, let t = pair[0].string, let s = pair[1].double else {
                throw TokenizerError.wrongType("vocab[\(i)]", expected: "[piece, score]", in: place)
            }
            tokens.append(t); scores.append(s)
        }
        var unk: Int?
        if let u = json["unk_id"], !u.isNull {
            guard let id = u.int, id >= 0, id < tokens.count else { throw TokenizerError.malformed(place, reason: "unk_id out of range") }
            unk = id
        }
        self.init(tokens: tokens, scores: scores, unkId: unk, byteFallback: json["byte_fallback"]?.bool ?? false)
    }

    init(tokens: [String], scores: [Double], unkId: Int?, byteFallback: Bool) {
        vocab = Vocabulary(tokens: tokens)
        self.scores = scores
        self.unkId = unkId
        self.byteFallback = byteFallback
        let minScore = scores.min() ?? 0
        unkScore = minScore - 10.0
        trie = PieceTrie(tokens: tokens)
        let v = vocab
        byteIds = (0..<256).map { v.ids[byteToken(UInt8($0))] ?? -1 }
    }

    func token(for id: Int) -> String? { vocab.token(for: id) }
    func id(for token: String) -> Int? { vocab.ids[token] }
    var vocabularySize: Int { vocab.tokens.count }

    func tokenize(_ word: [Unicode.Scalar]) -> [Int] {
        if word.isEmpty { return [] }
        let key = ExactString(word.string)
        if word.count < 256, let hit = cache.get(key) { return hit }
        let result = viterbi(word)
        if word.count < 256 { cache.set(key, result) }
        return result
    }

    func viterbi(_ w: [Unicode.Scalar]) -> [Int] {
        let n = w.count
        var best = [Double](repeating: 0, count: n + 1)
        var from = [Int](repeating: -1, count: n + 1)
        var piece = [Int](repeating: -1, count: n + 1)
        var reached = [Bool](repeating: false, count: n + 1)
        reached[0] = true
        for start in 0..<n where reached[start] {
            var hasSingle = false
            trie.forEachPrefix(of: w, from: start) { id, end in
                let score = best[start] + scores[id]
                if !reached[end] || score > best[end] {
                    best[end] = score; from[end] = start; piece[end] = id; reached[end] = true
                }
                if end == start + 1 { hasSingle = true }
            }
            if !hasSingle {
                let end = start + 1
                let score = best[start] + unkScore
                if !reached[end] || score > best[end] {
                    best[end] = score; from[end] = start; piece[end] = unkId ?? -1; reached[end] = true
                }
            }
        }
        // Backtrack; fuse consecutive unknowns.
        var spans: [(Int, Int, Int)] = []  // (id, start, end)
        var pos = n
        while pos > 0 {
            let s = from[pos]
            spans.append((piece[pos], s, pos))
            pos = s
        }
        spans.reverse()
        var out: [Int] = []
        var pendingUnk: (Int, Int)?  // start, end
        func flushUnk() {
            guard let (s, e) = pendingUnk else { return }
            pendingUnk = nil
            if byteFallback {
                let bytes = Array(w[s..<e].string.utf8)
                if bytes.allSatisfy({ byteIds[Int($0)] >= 0 }) {
                    out.append(contentsOf: bytes.map { byteIds[Int($0)] }); return
                }
            }
            if let u = unkId { out.append(u) }
        }
        for (id, s, e) in spans {
            if id == unkId || id < 0 {
                if let (ps, _) = pendingUnk { pendingUnk = (ps, e) } else { pendingUnk = (s, e) }
            } else {
                flushUnk()
                out.append(id)
            }
        }
        flushUnk()
        return out
    }
}

/// Pieces indexed by their scalars for common-prefix search.
final class PieceTrie: @unchecked Sendable {
    private var children: [[UInt32: Int32]] = [[:]]
    private var ids: [Int32] = [-1]

    init(tokens: [String]) {
        for (id, t) in tokens.enumerated() {
            var node = 0
            for s in t.unicodeScalars {
                if let nextNode = children[node][s.value] { node = Int(nextNode) } else {
                    children.append([:]); ids.append(-1)
                    children[node][s.value] = Int32(children.count - 1)
                    node = children.count - 1
                }
            }
            if node != 0 && ids[node] < 0 { ids[node] = Int32(id) }
        }
    }

    /// Calls `body(id, end)` for every piece equal to `w[start..<end]`, shortest first.
    func forEachPrefix(of w: [Unicode.Scalar], from start: Int, _ body: (Int, Int) -> Void) {
        var node = 0
        var i = start
        while i < w.count, let nextNode = children[node][w[i].value] {
            node = Int(nextNode)
            i += 1
            if ids[node] >= 0 { body(Int(ids[node]), i) }
        }
    }
}
