import Foundation

/// Turns one pre-tokenized word into ids (tokenizer.json `model`).
protocol TokenModel: Sendable {
    func tokenize(_ word: [Unicode.Scalar]) -> [Int]
    func token(for id: Int) -> String?
    func id(for token: String) -> Int?
    var vocabularySize: Int { get }
}

/// id <-> token tables shared by the models.
struct Vocabulary: Sendable {
    let tokens: [String]
    let ids: TokenTable

    init(tokens: [String]) {
        self.tokens = tokens
        ids = TokenTable(tokens: tokens)
    }

    /// From a tokenizer.json `{"token": id}` object; ids may have gaps.
    init(object: JSONObject, place: String) throws {
        var maxId = -1
        var pairs: [(String, Int)] = []
        pairs.reserveCapacity(object.count)
        for (k, v) in zip(object.keys, object.values) {
            guard let id = v.int, id >= 0, id < object.count + 1_000_000 else { throw TokenizerError.wrongType("vocab[\(k)]", expected: "a non-negative integer id", in: place) }
            pairs.append((k, id)); maxId = max(maxId, id)
        }
        var tokens = [String](repeating: "", count: maxId + 1)
        var present = [Bool](repeating: false, count: maxId + 1)
        // The last entry for an id wins, as in a JSON object read into a map.
        for (k, id) in pairs { tokens[id] = k; present[id] = true }
        self.tokens = tokens
        ids = TokenTable(tokens: tokens, present: present)
    }

    func token(for id: Int) -> String? { id >= 0 && id < tokens.count ? tokens[id] : nil }
}

func makeModel(_ json: JSONValue) throws -> any TokenModel {
    guard json.object != nil else { throw TokenizerError.missingKey("model", in: "tokenizer.json") }
    // Older files omit the model type; infer it from its fields.
    var type = json["type"]?.string
    if type == nil {
        if json["merges"] != nil { type = "BPE" } else if json["continuing_subword_prefix"] != nil { type = "WordPiece" } else if json["vocab"]?.array != nil { type = "Unigram" }
    }
    switch type {
    case "BPE": return try BPEModel(json: json)
    case "WordPiece": return try WordPieceModel(json: json)
    case "Unigram": return try UnigramModel(json: json)
    case "WordLevel": return try WordLevelModel(json: json)
    default: throw TokenizerError.unknownComponent(kind: "model", type: type ?? "(none)")
    }
}

/// Whole-word lookup.
struct WordLevelModel: TokenModel {
    let vocab: Vocabulary
    let unkId: Int?
    init(json: JSONValue) throws {
        guard let v = json["vocab"]?.object else { throw TokenizerError.missingKey("vocab", in: "model WordLevel") }
        let vocab = try Vocabulary(object: v, place: "model WordLevel")
        self.vocab = vocab
        unkId = json["unk_token"]?.string.flatMap { vocab.ids[$0] }
    }
    func tokenize(_ word: [Unicode.Scalar]) -> [Int] {
        if let id = vocab.ids[word.string] { return [id] }
        return unkId.map { [$0] } ?? []
    }
    func token(for id: Int) -> String? { vocab.token(for: id) }
    func id(for token: String) -> Int? { vocab.ids[token] }
    var vocabularySize: Int { vocab.tokens.count }
}
