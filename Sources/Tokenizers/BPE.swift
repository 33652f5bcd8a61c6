import Foundation

/// Byte-pair encoding with a rank map and a priority queue (O(n log n) per word), and a word cache.
/// Semantics follow Hugging Face `tokenizers`: `byte_fallback`, `fuse_unk`, `ignore_merges`,
/// `continuing_subword_prefix`, `end_of_word_suffix` (dropout is treated as off).
struct BPEModel: TokenModel {
    struct Merge: Sendable { let rank: Int32; let newId: Int32 }

    let vocab: Vocabulary
    /// (left id, right id) -> rank and merged id.
    let merges: PairTable
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
        var pairs: [MergeEntry] = []
        pairs.reserveCapacity(m.count)
        for (i, entry) in m.enumerated() {
            if let s = entry.string {
                pairs.append(.line(s))
            } else if let a = entry.array, a.count == 2, let l = a[0].string, let r = a[1].string {
                pairs.append(.pair(l, r))
            } else { throw TokenizerError.wrongType("merges[\(i)]", expected: "\"a b\" or [\"a\", \"b\"]", in: place) }
        }
        let unk = json["unk_token"]?.string
        try self.init(vocab: vocab, merges: pairs, unkToken: unk,
                      prefix: json["continuing_subword_prefix"]?.string, suffix: json["end_of_word_suffix"]?.string,
                      fuseUnk: json["fuse_unk"]?.bool ?? false, byteFallback: json["byte_fallback"]?.bool ?? false,
                      ignoreMerges: json["ignore_merges"]?.bool ?? false)
    }

    /// A merge as written in the file: "left right" split at the first space (GGUF: the first
    /// space after the first byte, as llama.cpp reads them) or a pair.
    enum MergeEntry { case line(String), ggufLine(String), pair(String, String) }

    init(vocab: Vocabulary, merges pairs: [MergeEntry], unkToken: String?, prefix: String? = nil, suffix: String? = nil,
         fuseUnk: Bool = false, byteFallback: Bool = false, ignoreMerges: Bool = false) throws {
        let place = "model BPE merges"
        self.vocab = vocab
        var merges = PairTable(capacity: pairs.count)
        let prefixCount = prefix?.utf8.count ?? 0
        var scratch: [UInt8] = []
        // Resolves one merge from the bytes of its two sides, without building Strings.
        func add(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, rank: Int) throws {
            guard let ia = vocab.ids.id(a) else { throw TokenizerError.missingToken(String(decoding: a, as: UTF8.self), in: place) }
            guard let ib = vocab.ids.id(b) else { throw TokenizerError.missingToken(String(decoding: b, as: UTF8.self), in: place) }
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: a)
            scratch.append(contentsOf: prefixCount > 0 && b.count >= prefixCount ? UnsafeBufferPointer(rebasing: b[prefixCount...]) : b)
            guard let id = vocab.ids[scratch] else { throw TokenizerError.missingToken(String(decoding: scratch, as: UTF8.self), in: place) }
            merges.set(Int32(ia), Int32(ib), rank: Int32(rank), id: Int32(id))
        }
        for (rank, entry) in pairs.enumerated() {
            switch entry {
            case .line(var s), .ggufLine(var s):
                let from: Int
                if case .ggufLine = entry { from = 1 } else { from = 0 }
                try s.withUTF8 { u in
                    guard u.count > from, let space = u[from...].firstIndex(of: 0x20) else {
                        throw TokenizerError.malformed(place, reason: "merge \(rank) '\(String(decoding: u, as: UTF8.self))' has no space")
                    }
                    try add(UnsafeBufferPointer(rebasing: u[..<space]), UnsafeBufferPointer(rebasing: u[(space + 1)...]), rank: rank)
                }
            case .pair(var a, var b):
                try a.withUTF8 { ua in try b.withUTF8 { ub in try add(ua, ub, rank: rank) } }
            }
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
        for (id, t) in vocab.tokens.enumerated() {
            var it = t.unicodeScalars.makeIterator()
            if let first = it.next(), it.next() == nil, scalarIds[first.value] == nil { scalarIds[first.value] = Int32(id) }
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
            if let m = merges.get(c[i], c[i + 1]) {
                heap.push(UInt64(m.rank) << 32 | UInt64(i))
            }
        }
        while let top = heap.pop() {
            let rank = Int32(top >> 32)
            let pos = Int(top & 0xFFFF_FFFF)
            guard alive[pos] else { continue }
            let right = Int(next[pos])
            guard right >= 0 else { continue }
            guard let m = merges.get(c[pos], c[right]), m.rank == rank else { continue }
            c[pos] = m.id
            alive[right] = false
            let after = next[right]
            next[pos] = after
            if after >= 0 { prev[Int(after)] = Int32(pos) }
            let before = prev[pos]
            if before >= 0, let pm = merges.get(c[Int(before)], c[pos]) {
                heap.push(UInt64(pm.rank) << 32 | UInt64(before))
            }
            if after >= 0, let nm = merges.get(c[pos], c[Int(after)]) {
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
