import Foundation

/// Byte-pair encoding with a rank map and a priority queue (O(n log n) per word), and a word cache.
/// Semantics follow Hugging Face `tokenizers`: `byte_fallback`, `fuse_unk`, `ignore_merges`,
/// `continuing_subword_prefix`, `end_of_word_suffix` (dropout is treated as off).
struct BPEModel: TokenModel {
    struct Merge: Sendable { let rank: Int32; let newId: Int32 }

    let vocab: Vocabulary
    /// (left id << 32 | right id) -> rank and merged id.
    let merges: [UInt64: Merge]
    let unkId: Int?
    let prefix: String?
    let suffix: String?
    let fuseUnk: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    /// Ids of single-scalar tokens, for the common case without prefix/suffix.
    let scalarIds: [UInt32: Int32]
    /// Ids of `<0xXX>` tokens (-1 when absent).
    let byteIds: [Int32]
    let cache = LockedCache<ExactString, [Int]>(capacity: 100_000)

    init(json: JSONValue) throws {
        let place = "model BPE"
        guard let v = json["vocab"]?.object else { throw TokenizerError.missingKey("vocab", in: place) }
        let vocab = try Vocabulary(object: v, place: place)
        guard let m = json["merges"]?.array else { throw TokenizerError.missingKey("merges", in: place) }
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(m.count)
        for (i, entry) in m.enumerated() {
            if let s = entry.string {
                guard let space = s.firstIndex(of: " ") else { throw TokenizerError.malformed(place, reason: "merge \(i) '\(s)' has no space") }
                pairs.append((String(s[..<space]), String(s[s.index(after: space)...])))
            } else if let a = entry.array, a.count == 2, let l = a[0].string, let r = a[1].string {
                pairs.append((l, r))
            } else { throw TokenizerError.wrongType("merges[\(i)]", expected: "\"a b\" or [\"a\", \"b\"]", in: place) }
        }
        let unk = json["unk_token"]?.string
        if let d = json["dropout"]?.double, d > 0 { /* dropout only matters in training; encode deterministically */ }
        try self.init(vocab: vocab, merges: pairs, unkToken: unk,
                      prefix: json["continuing_subword_prefix"]?.string, suffix: json["end_of_word_suffix"]?.string,
                      fuseUnk: json["fuse_unk"]?.bool ?? false, byteFallback: json["byte_fallback"]?.bool ?? false,
                      ignoreMerges: json["ignore_merges"]?.bool ?? false)
    }

    init(vocab: Vocabulary, merges pairs: [(String, String)], unkToken: String?, prefix: String? = nil, suffix: String? = nil,
         fuseUnk: Bool = false, byteFallback: Bool = false, ignoreMerges: Bool = false) throws {
        let place = "model BPE merges"
        self.vocab = vocab
        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(pairs.count)
        let prefixCount = prefix?.utf8.count ?? 0
        for (rank, (a, b)) in pairs.enumerated() {
            guard let ia = vocab.ids[a] else { throw TokenizerError.missingToken(a, in: place) }
            guard let ib = vocab.ids[b] else { throw TokenizerError.missingToken(b, in: place) }
            let bTail = prefixCount > 0 && b.utf8.count >= prefixCount ? String(decoding: b.utf8.dropFirst(prefixCount), as: UTF8.self) : b
            let merged = a + bTail
            guard let id = vocab.ids[merged] else { throw TokenizerError.missingToken(merged, in: place) }
            merges[UInt64(ia) << 32 | UInt64(ib)] = Merge(rank: Int32(rank), newId: Int32(id))
        }
        self.merges = merges
        if let unk = unkToken {
            guard let id = vocab.ids[unk] else { throw TokenizerError.missingToken(unk, in: "model BPE unk_token") }
            unkId = id
        } else { unkId = nil }
        self.prefix = prefix
        self.suffix = suffix
        self.fuseUnk = fuseUnk
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        var scalarIds: [UInt32: Int32] = [:]
        for (id, t) in vocab.tokens.enumerated() where vocab.ids[t] == id {
            let s = t.unicodeScalars
            if s.count == 1 { scalarIds[s.first!.value] = Int32(id) }
        }
        self.scalarIds = scalarIds
        self.byteIds = (0..<256).map { b in vocab.ids[byteToken(UInt8(b))].map { Int32($0) } ?? -1 }
    }

    func token(for id: Int) -> String? { vocab.token(for: id) }
    func id(for token: String) -> Int? { vocab.ids[token] }
    var vocabularySize: Int { vocab.tokens.count }

    func tokenize(_ word: [Unicode.Scalar]) -> [Int] {
        if word.isEmpty { return [] }
        let key = ExactString(word.string)
        if ignoreMerges, let id = vocab.ids[key.value] { return [id] }
        if word.count < 256, let hit = cache.get(key) { return hit }
        let result = mergeWord(initialSymbols(word))
        if word.count < 256 { cache.set(key, result) }
        return result
    }

    /// Symbols before any merge, following the reference's treatment of unknown characters.
    func initialSymbols(_ word: [Unicode.Scalar]) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(word.count)
        var pendingUnk = false
        let plain = prefix == nil && suffix == nil
        for (i, c) in word.enumerated() {
            var id: Int32?
            var text: String?
            if plain {
                id = scalarIds[c.value]
            } else {
                var s = String(Character(c))
                if i > 0, let p = prefix { s = p + s }
                if i == word.count - 1, let x = suffix { s += x }
                id = vocab.ids[s].map { Int32($0) }
                text = s
            }
            if let id {
                if pendingUnk, let u = unkId { symbols.append(Int32(u)); pendingUnk = false }
                symbols.append(id)
                continue
            }
            if byteFallback {
                let bytes = Array((text ?? String(Character(c))).utf8)
                if bytes.allSatisfy({ byteIds[Int($0)] >= 0 }) {
                    for b in bytes { symbols.append(byteIds[Int(b)]) }
                    continue
                }
            }
            if let u = unkId {
                if pendingUnk && !fuseUnk { symbols.append(Int32(u)) }
                pendingUnk = true
            }
        }
        if pendingUnk, let u = unkId { symbols.append(Int32(u)) }
        return symbols
    }

    /// Applies merges lowest rank first (leftmost on ties) with a binary heap over a linked list.
    func mergeWord(_ initial: [Int32]) -> [Int] {
        var c = initial
        let n = c.count
        if n < 2 { return c.map(Int.init) }
        var prev = [Int32](repeating: -1, count: n)
        var next = [Int32](repeating: -1, count: n)
        var alive = [Bool](repeating: true, count: n)
        for i in 0..<n { prev[i] = Int32(i - 1); next[i] = i + 1 < n ? Int32(i + 1) : -1 }
        var heap = MinHeap()
        heap.reserve(n)
        for i in 0..<(n - 1) {
            if let m = merges[UInt64(UInt32(bitPattern: c[i])) << 32 | UInt64(UInt32(bitPattern: c[i + 1]))] {
                heap.push(UInt64(m.rank) << 32 | UInt64(i))
            }
        }
        while let top = heap.pop() {
            let rank = Int32(top >> 32)
            let pos = Int(top & 0xFFFF_FFFF)
            guard alive[pos] else { continue }
            let right = Int(next[pos])
            guard right >= 0 else { continue }
            guard let m = merges[UInt64(UInt32(bitPattern: c[pos])) << 32 | UInt64(UInt32(bitPattern: c[right]))], m.rank == rank else { continue }
            c[pos] = m.newId
            alive[right] = false
            let after = next[right]
            next[pos] = after
            if after >= 0 { prev[Int(after)] = Int32(pos) }
            let before = prev[pos]
            if before >= 0, let pm = merges[UInt64(UInt32(bitPattern: c[Int(before)])) << 32 | UInt64(UInt32(bitPattern: c[pos]))] {
                heap.push(UInt64(pm.rank) << 32 | UInt64(before))
            }
            if after >= 0, let nm = merges[UInt64(UInt32(bitPattern: c[pos])) << 32 | UInt64(UInt32(bitPattern: c[Int(after)]))] {
                heap.push(UInt64(nm.rank) << 32 | UInt64(pos))
            }
        }
        var out: [Int] = []
        out.reserveCapacity(n)
        var i = 0
        while i >= 0 { out.append(Int(c[i])); i = Int(next[i]) }
        return out
    }
}

func byteToken(_ b: UInt8) -> String {
    let hex = String(b, radix: 16, uppercase: true)
    return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
}

/// Binary min-heap of packed (rank << 32 | position) keys.
struct MinHeap {
    private var items: [UInt64] = []
    mutating func reserve(_ n: Int) { items.reserveCapacity(n) }
    mutating func push(_ v: UInt64) {
        items.append(v)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p] <= items[i] { break }
            items.swapAt(p, i); i = p
        }
    }
    mutating func pop() -> UInt64? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            let n = items.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < n && items[l] < items[m] { m = l }
                if r < n && items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m); i = m
            }
        }
        return first
    }
}
