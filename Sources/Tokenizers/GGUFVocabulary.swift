import Foundation

/// A GGUF metadata value (header key/values only; tensors are the Formats module's business).
public enum GGUFValue: Sendable, Equatable {
    case uint(UInt64), int(Int64), float(Double), bool(Bool), string(String), array([GGUFValue])
    var string: String? { if case .string(let s) = self { return s }; return nil }
    var int: Int? {
        switch self {
        case .uint(let u): return u <= UInt64(Int.max) ? Int(u) : nil
        case .int(let i): return Int(i)
        default: return nil
        }
    }
    var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    var array: [GGUFValue]? { if case .array(let a) = self { return a }; return nil }
    var double: Double? {
        switch self {
        case .float(let d): return d
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        default: return nil
        }
    }
}

/// Minimal little-endian GGUF (v2/v3) metadata reader, with bounds checks on every read.
public struct GGUFMetadata: Sendable {
    public let version: UInt32
    public let values: [String: GGUFValue]
    public let keys: [String]

    public init(url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw FileManager.default.fileExists(atPath: url.path) ? TokenizerError.unreadable(url.path, reason: error.localizedDescription)
                                                                  : TokenizerError.fileNotFound(url.path)
        }
        try self.init(data: data, name: url.path)
    }

    public init(data: Data, name: String = "GGUF") throws {
        (version, values, keys) = try data.withUnsafeBytes { raw in
            var r = GGUFCursor(bytes: raw, name: name)
            guard try r.bytes(4).elementsEqual("GGUF".utf8) else { throw TokenizerError.malformed(name, reason: "bad magic (not a GGUF file)") }
            let version = try r.u32()
            guard version == 2 || version == 3 else { throw TokenizerError.unsupported("GGUF version \(version) in \(name)") }
            _ = try r.u64()  // tensor count
            let count = try r.u64()
            guard count < 1_000_000 else { throw TokenizerError.malformed(name, reason: "implausible key/value count \(count)") }
            var values: [String: GGUFValue] = [:]
            var keys: [String] = []
            for _ in 0..<count {
                let key = try r.string()
                let type = try r.u32()
                values[key] = try r.value(type: type, depth: 0)
                keys.append(key)
            }
            return (version, values, keys)
        }
    }

    public subscript(key: String) -> GGUFValue? { values[key] }
}

/// Bounds-checked little-endian reads over the file's bytes.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    let name: String
    var pos = 0

    init(bytes: UnsafeRawBufferPointer, name: String) { self.bytes = bytes; self.name = name }

    func fail(_ reason: String) -> TokenizerError { .malformed(name, reason: "\(reason) at byte \(pos)") }

    mutating func bytes(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - pos else { throw fail("truncated file") }
        defer { pos += n }
        return UnsafeRawBufferPointer(rebasing: bytes[pos..<(pos + n)])
    }
    mutating func fixed<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard size <= bytes.count - pos else { throw fail("truncated file") }
        defer { pos += size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: pos, as: T.self))
    }
    mutating func u32() throws -> UInt32 { try fixed(UInt32.self) }
    mutating func u64() throws -> UInt64 { try fixed(UInt64.self) }
    mutating func string() throws -> String {
        let n = try u64()
        guard n <= UInt64(bytes.count - pos) else { throw fail("string length \(n) past the end") }
        return String(decoding: try self.bytes(Int(n)), as: UTF8.self)
    }
    mutating func value(type: UInt32, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint(UInt64(try fixed(UInt8.self)))
        case 1: return .int(Int64(try fixed(Int8.self)))
        case 2: return .uint(UInt64(try fixed(UInt16.self)))
        case 3: return .int(Int64(try fixed(Int16.self)))
        case 4: return .uint(UInt64(try fixed(UInt32.self)))
        case 5: return .int(Int64(try fixed(Int32.self)))
        case 6: return .float(Double(Float(bitPattern: try fixed(UInt32.self))))
        case 7:
            let b = try fixed(UInt8.self)
            guard b <= 1 else { throw fail("bool value \(b)") }
            return .bool(b == 1)
        case 8: return .string(try string())
        case 9:
            guard depth < 4 else { throw fail("arrays nested too deeply") }
            let elementType = try u32()
            let n = try u64()
            guard n <= UInt64(bytes.count - pos) else { throw fail("array count \(n) past the end") }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(n))
            for _ in 0..<n { items.append(try value(type: elementType, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint(try u64())
        case 11: return .int(Int64(bitPattern: try u64()))
        case 12: return .float(Double(bitPattern: try u64()))
        default: throw fail("unknown value type \(type)")
        }
    }
}

/// Tokenizers built from `tokenizer.ggml.*` metadata.
public enum GGUFTokenizer {
    public static func load(from url: URL) throws -> any Tokenizer {
        try make(GGUFMetadata(url: url), name: url.path)
    }

    public static func make(_ meta: GGUFMetadata, name: String = "GGUF") throws -> any Tokenizer {
        guard let model = meta["tokenizer.ggml.model"]?.string else { throw TokenizerError.missingKey("tokenizer.ggml.model", in: name) }
        let tokens = try stringArray(meta, "tokenizer.ggml.tokens", name)
        var types = [Int](repeating: 1, count: tokens.count)
        if let t = meta["tokenizer.ggml.token_type"]?.array {
            guard t.count == tokens.count else { throw TokenizerError.malformed(name, reason: "token_type has \(t.count) entries for \(tokens.count) tokens") }
            types = t.map { $0.int ?? 1 }
        }
        func tokenId(_ key: String) throws -> Int? {
            guard let v = meta[key] else { return nil }
            guard let id = v.int, id >= 0, id < tokens.count else { throw TokenizerError.malformed(name, reason: "\(key) out of range") }
            return id
        }
        let bos = try tokenId("tokenizer.ggml.bos_token_id")
        let eos = try tokenId("tokenizer.ggml.eos_token_id")
        let template = meta["tokenizer.chat_template"]?.string
        // Unknown (2), control (3) and user-defined (4) tokens are matched in text before the model
        // runs, as llama.cpp does when parsing special tokens.
        let added = tokens.indices.filter { types[$0] == 2 || types[$0] == 3 || types[$0] == 4 }.map {
            AddedToken(content: tokens[$0], id: $0, special: types[$0] != 4, normalized: false)
        }
        switch model {
        case "gpt2":
            let mergeStrings = try stringArray(meta, "tokenizer.ggml.merges", name)
            let merges = mergeStrings.map { BPEModel.MergeEntry.ggufLine($0) }
            let pre = meta["tokenizer.ggml.pre"]?.string ?? "default"
            // llama.cpp looks whole words up before merging for LLaMA-3 vocabularies.
            let ignoreMerges = ["llama-bpe", "llama3", "llama-v3", "dbrx", "smaug-bpe"].contains(pre)
            let bpe = try BPEModel(vocab: Vocabulary(tokens: tokens), merges: merges, unkToken: nil, ignoreMerges: ignoreMerges)
            let addBos = meta["tokenizer.ggml.add_bos_token"]?.bool ?? false
            let post: (any PostProcessor)? = addBos && bos != nil ? TemplateProcessor(single: [.special([bos!]), .sequence]) : nil
            return try HFTokenizer(normalizer: nil, preTokenizer: try gpt2PreTokenizer(pre), model: bpe,
                                   postProcessor: post, decoder: ByteLevelDecoder(), addedTokens: added,
                                   chatTemplate: template, bosToken: bos.map { tokens[$0] }, eosToken: eos.map { tokens[$0] })
        case "llama":
            guard let s = meta["tokenizer.ggml.scores"]?.array, s.count == tokens.count else {
                throw TokenizerError.missingKey("tokenizer.ggml.scores", in: name)
            }
            let spm = SPMScoreModel(tokens: tokens, scores: s.map { $0.double ?? 0 }, types: types,
                                    unkId: try tokenId("tokenizer.ggml.unknown_token_id"))
            return LlamaSPMTokenizer(model: spm, added: added, addSpacePrefix: meta["tokenizer.ggml.add_space_prefix"]?.bool ?? true,
                                     addBos: meta["tokenizer.ggml.add_bos_token"]?.bool ?? true,
                                     addEos: meta["tokenizer.ggml.add_eos_token"]?.bool ?? false,
                                     bosTokenId: bos, eosTokenId: eos, chatTemplate: try template.map { try ChatTemplate($0) })
        default:
            throw TokenizerError.unknownComponent(kind: "tokenizer.ggml.model", type: model)
        }
    }

    static func stringArray(_ meta: GGUFMetadata, _ key: String, _ name: String) throws -> [String] {
        guard let v = meta[key] else { throw TokenizerError.missingKey(key, in: name) }
        guard let a = v.array else { throw TokenizerError.wrongType(key, expected: "an array of strings", in: name) }
        return try a.map { guard let s = $0.string else { throw TokenizerError.wrongType(key, expected: "an array of strings", in: name) }; return s }
    }

    /// The pre-tokenizer llama.cpp associates with `tokenizer.ggml.pre`.
    static func gpt2PreTokenizer(_ pre: String) throws -> any PreTokenizer {
        switch pre {
        case "default", "gpt2", "gpt-2", "starcoder", "refact", "olmo", "jais":
            return ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: true)
        case "smollm", "deepseek-coder":
            // Each digit alone, then the GPT-2 pattern.
            return SequencePreTokenizer(preTokenizers: [DigitsPreTokenizer(individual: true),
                                                        ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: true)])
        case "llama-bpe", "llama3", "llama-v3", "dbrx", "smaug-bpe":
            return CustomByteLevelPreTokenizer(split: { llama3Split($0, maxDigits: 3) })
        case "qwen2":
            return CustomByteLevelPreTokenizer(split: { llama3Split($0, maxDigits: 1) })
        default:
            throw TokenizerError.unsupported("tokenizer.ggml.pre '\(pre)'")
        }
    }
}

/// Byte-level pre-tokenizer with a hand-written split function instead of GPT-2's.
struct CustomByteLevelPreTokenizer: PreTokenizer {
    let split: @Sendable ([Unicode.Scalar]) -> [Range<Int>]
    func preTokenize(_ splits: [TextSplit]) -> [TextSplit] {
        splits.flatMap { s in split(s.scalars).map { TextSplit(ByteLevel.encode(Array(s.scalars[$0])), atStart: s.atStart && $0.lowerBound == 0) } }
    }
}

/// llama.cpp's SentencePiece-style vocabulary: merges chosen by the merged piece's score, then
/// byte fallback for pieces not in the vocabulary.
struct SPMScoreModel: Sendable {
    let vocab: Vocabulary
    let scores: [Double]
    let types: [Int]
    let unkId: Int?
    let byteIds: [Int]

    init(tokens: [String], scores: [Double], types: [Int], unkId: Int?) {
        vocab = Vocabulary(tokens: tokens)
        self.scores = scores
        self.types = types
        self.unkId = unkId
        let v = vocab
        byteIds = (0..<256).map { v.ids[byteToken(UInt8($0))] ?? -1 }
    }

    func tokenize(_ text: String) -> [Int] {
        // Symbols are UTF-8 characters (as byte ranges).
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return [] }
        var starts: [Int] = []
        var lens: [Int] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let len = b < 0x80 ? 1 : b >> 5 == 0x6 ? 2 : b >> 4 == 0xE ? 3 : b >> 3 == 0x1E ? 4 : 1
            let l = min(len, bytes.count - i)
            starts.append(i); lens.append(l); i += l
        }
        let n = starts.count
        var prev = (0..<n).map { $0 - 1 }
        var next = (0..<n).map { $0 + 1 < n ? $0 + 1 : -1 }
        // Max-heap by (score, -left position).
        var heap: [(Double, Int, Int, Int)] = []  // score, left, right, size
        func pieceId(_ l: Int, _ r: Int) -> Int? {
            vocab.ids[String(decoding: bytes[starts[l]..<(starts[r] + lens[r])], as: UTF8.self)]
        }
        func tryAdd(_ l: Int, _ r: Int) {
            guard l >= 0, r >= 0, let id = pieceId(l, r) else { return }
            heap.append((scores[id], l, r, lens[l] + lens[r]))
            var k = heap.count - 1
            while k > 0 {
                let p = (k - 1) / 2
                if better(heap[k], heap[p]) { heap.swapAt(k, p); k = p } else { break }
            }
        }
        func better(_ a: (Double, Int, Int, Int), _ b: (Double, Int, Int, Int)) -> Bool {
            a.0 > b.0 || (a.0 == b.0 && a.1 < b.1)
        }
        func pop() -> (Double, Int, Int, Int)? {
            guard !heap.isEmpty else { return nil }
            let top = heap[0]
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var k = 0
                while true {
                    let a = 2 * k + 1, b = a + 1
                    var m = k
                    if a < heap.count && better(heap[a], heap[m]) { m = a }
                    if b < heap.count && better(heap[b], heap[m]) { m = b }
                    if m == k { break }
                    heap.swapAt(k, m); k = m
                }
            }
            return top
        }
        for k in 1..<max(n, 1) { tryAdd(k - 1, k) }
        while let (_, l, r, size) = pop() {
            guard lens[l] > 0, lens[r] > 0, lens[l] + lens[r] == size, next[l] == r else { continue }
            lens[l] += lens[r]
            lens[r] = 0
            next[l] = next[r]
            if next[r] >= 0 { prev[next[r]] = l }
            tryAdd(prev[l], l)
            tryAdd(l, next[l])
        }
        var out: [Int] = []
        var k = 0
        while k >= 0 {
            let piece = bytes[starts[k]..<(starts[k] + lens[k])]
            if let id = vocab.ids[String(decoding: piece, as: UTF8.self)], String(validating: piece, as: UTF8.self) != nil {
                out.append(id)
            } else {
                for b in piece {
                    if byteIds[Int(b)] >= 0 { out.append(byteIds[Int(b)]) } else if let u = unkId { out.append(u) }
                }
            }
            k = next[k]
        }
        return out
    }
}

/// GGUF `llama` vocabularies, tokenized as llama.cpp does.
struct LlamaSPMTokenizer: Tokenizer {
    let model: SPMScoreModel
    let matcher: AddedTokenMatcher
    let addSpacePrefix: Bool
    let addBos: Bool
    let addEos: Bool
    let bosTokenId: Int?
    let eosTokenId: Int?
    let chatTemplate: ChatTemplate?

    init(model: SPMScoreModel, added: [AddedToken], addSpacePrefix: Bool, addBos: Bool, addEos: Bool,
         bosTokenId: Int?, eosTokenId: Int?, chatTemplate: ChatTemplate?) {
        self.model = model
        matcher = AddedTokenMatcher(tokens: added, patterns: added.map { $0.content })
        self.addSpacePrefix = addSpacePrefix
        self.addBos = addBos; self.addEos = addEos
        self.bosTokenId = bosTokenId; self.eosTokenId = eosTokenId
        self.chatTemplate = chatTemplate
    }

    func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var out: [Int] = []
        if addSpecialTokens && addBos, let b = bosTokenId { out.append(b) }
        var previousSpecial = true
        for segment in matcher.split(Array(text.unicodeScalars), atStart: true) {
            switch segment {
            case .token(let id): out.append(id); previousSpecial = true
            case .text(let scalars, _):
                var s = scalars.string
                if addSpacePrefix && previousSpecial { s = " " + s }
                out.append(contentsOf: model.tokenize(s.replacingLiteral(" ", with: "▁")))
                previousSpecial = false
            }
        }
        if addSpecialTokens && addEos, let e = eosTokenId { out.append(e) }
        return out
    }

    /// As llama.cpp's token-to-piece (llama-cpp-python's `detokenize`): control and unknown
    /// tokens print only when special tokens are kept, user-defined tokens verbatim, `▁` as a
    /// space, byte tokens as bytes; one leading space goes when the ids start with BOS.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            guard let t = model.vocab.token(for: id) else { continue }
            switch model.types[id] {
            case 2, 3: if !skipSpecialTokens { bytes.append(contentsOf: t.utf8) }
            case 4: bytes.append(contentsOf: t.utf8)
            case 6: if let b = parseByteToken(t) { bytes.append(b) }
            case 1: bytes.append(contentsOf: t.replacingLiteral("▁", with: " ").utf8)
            default: break
            }
        }
        if let first = ids.first, first == bosTokenId, bytes.first == 0x20 { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }

    func applyChatTemplate(messages: [[String: String]], addGenerationPrompt: Bool) throws -> String {
        guard let chatTemplate else { throw TokenizerError.noChatTemplate }
        return try chatTemplate.render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                       bosToken: bosTokenId.flatMap { model.vocab.token(for: $0) },
                                       eosToken: eosTokenId.flatMap { model.vocab.token(for: $0) })
    }
    func token(for id: Int) -> String? { model.vocab.token(for: id) }
    func id(for token: String) -> Int? { model.vocab.ids[token] }
    var vocabularySize: Int { model.vocab.tokens.count }
}
