import Foundation

/// Token string -> id, with the tokens' bytes in one arena and open addressing over ids.
/// Lookups hash raw UTF-8 bytes (no String needed) and compare bytes exactly, so canonically
/// equivalent spellings stay distinct tokens.
struct TokenTable: Sendable {
    private var arena: [UInt8] = []
    private var offsets: [Int] = [0]
    private var slots: [Int32]
    private let mask: Int

    /// `present[i] == false` marks ids without a token (gaps in a tokenizer.json vocab).
    init(tokens: [String], present: [Bool]? = nil) {
        var capacity = 16
        while capacity < tokens.count * 2 { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        arena.reserveCapacity(tokens.count * 8)
        offsets.reserveCapacity(tokens.count + 1)
        for (id, t) in tokens.enumerated() {
            var s = t
            s.withUTF8 { arena.append(contentsOf: $0) }
            offsets.append(arena.count)
            if let present, !present[id] { continue }
            insert(id)
        }
    }

    private mutating func insert(_ id: Int) {
        let start = offsets[id], end = offsets[id + 1]
        let h = arena.withUnsafeBufferPointer { TokenTable.hash(UnsafeBufferPointer(rebasing: $0[start..<end])) }
        var i = h & mask
        while slots[i] >= 0 {
            if equal(Int(slots[i]), id) { return }  // first id wins
            i = (i + 1) & mask
        }
        slots[i] = Int32(id)
    }

    private func equal(_ a: Int, _ b: Int) -> Bool {
        let (sa, ea, sb, eb) = (offsets[a], offsets[a + 1], offsets[b], offsets[b + 1])
        guard ea - sa == eb - sb else { return false }
        return arena.withUnsafeBufferPointer { p in
            ea == sa || memcmp(p.baseAddress! + sa, p.baseAddress! + sb, ea - sa) == 0
        }
    }

    @inline(__always) static func hash(_ p: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in p { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        h ^= h >> 33; h = h &* 0xff51_afd7_ed55_8ccd; h ^= h >> 33
        return Int(truncatingIfNeeded: h)
    }

    func id(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = TokenTable.hash(bytes) & mask
        return arena.withUnsafeBufferPointer { a -> Int? in
            while true {
                let slot = Int(slots[i])
                if slot < 0 { return nil }
                let s = offsets[slot], e = offsets[slot + 1]
                if e - s == bytes.count && (bytes.count == 0 || memcmp(a.baseAddress! + s, bytes.baseAddress!, bytes.count) == 0) { return slot }
                i = (i + 1) & mask
            }
        }
    }

    subscript(_ token: String) -> Int? {
        var s = token
        return s.withUTF8 { id($0) }
    }

    subscript(_ bytes: [UInt8]) -> Int? { bytes.withUnsafeBufferPointer { id($0) } }
}

/// (left id, right id) -> merge, open addressing with a multiplicative hash.
struct PairTable: Sendable {
    private var keys: [UInt64]
    private var ranks: [Int32]
    private var ids: [Int32]
    private let mask: Int
    private(set) var count = 0

    init(capacity n: Int) {
        var capacity = 16
        while capacity < n * 2 { capacity <<= 1 }
        keys = [UInt64](repeating: .max, count: capacity)
        ranks = [Int32](repeating: 0, count: capacity)
        ids = [Int32](repeating: 0, count: capacity)
        mask = capacity - 1
    }

    @inline(__always) private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Later entries for the same pair replace earlier ones (as a dictionary insert would).
    mutating func set(_ left: Int32, _ right: Int32, rank: Int32, id: Int32) {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        var i = slot(key)
        while keys[i] != .max && keys[i] != key { i = (i + 1) & mask }
        if keys[i] == .max { count += 1 }
        keys[i] = key; ranks[i] = rank; ids[i] = id
    }

    @inline(__always) func get(_ left: Int32, _ right: Int32) -> (rank: Int32, id: Int32)? {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key { return (ranks[i], ids[i]) }
            if k == .max { return nil }
            i = (i + 1) & mask
        }
    }
}
