import Foundation

/// A tokenizer.json pipeline: added tokens, normalizer, pre-tokenizer, model, post-processor,
/// decoder — the Hugging Face `tokenizers` semantics. GGUF `gpt2` vocabularies build one too.
public struct HFTokenizer: Tokenizer {
    let normalizer: (any Normalizer)?
    let preTokenizer: (any PreTokenizer)?
    let model: any TokenModel
    let postProcessor: (any PostProcessor)?
    let decoder: (any Decoder)?
    public let addedTokens: [AddedToken]
    let rawMatcher: AddedTokenMatcher
    let normalizedMatcher: AddedTokenMatcher
    let addedById: [Int: AddedToken]
    let addedByContent: ExactMap<Int>
    let specialIds: Set<Int>
    public let chatTemplate: String?
    let compiledTemplate: ChatTemplate?
    public let bosToken: String?
    public let eosToken: String?

    init(normalizer: (any Normalizer)?, preTokenizer: (any PreTokenizer)?, model: any TokenModel,
         postProcessor: (any PostProcessor)?, decoder: (any Decoder)?, addedTokens: [AddedToken],
         chatTemplate: String?, bosToken: String?, eosToken: String?) throws {
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.addedTokens = addedTokens
        let raw = addedTokens.filter { !$0.normalized }
        let norm = addedTokens.filter { $0.normalized }
        rawMatcher = AddedTokenMatcher(tokens: raw, patterns: raw.map { $0.content })
        normalizedMatcher = AddedTokenMatcher(tokens: norm, patterns: norm.map {
            normalizer?.normalize(Array($0.content.unicodeScalars)).string ?? $0.content
        })
        var byId: [Int: AddedToken] = [:]
        var byContent = ExactMap<Int>()
        for t in addedTokens { byId[t.id] = t; byContent[t.content] = t.id }
        addedById = byId
        addedByContent = byContent
        specialIds = Set(addedTokens.filter { $0.special }.map { $0.id })
        self.chatTemplate = chatTemplate
        compiledTemplate = try chatTemplate.map { try ChatTemplate($0) }
        self.bosToken = bosToken
        self.eosToken = eosToken
    }

    /// Loads `tokenizer.json` (and `tokenizer_config.json` beside it when present).
    public init(folder: URL) throws {
        try self.init(file: folder.appendingPathComponent("tokenizer.json"),
                      config: folder.appendingPathComponent("tokenizer_config.json"))
    }

    public init(file: URL, config: URL? = nil) throws {
        let data = try readFile(file)
        var configJSON: JSONValue?
        if let config, FileManager.default.fileExists(atPath: config.path) {
            do { configJSON = try JSONValue.parse(try readFile(config)) } catch let e as JSONError {
                throw TokenizerError.malformed(config.path, reason: e.localizedDescription)
            }
        }
        try self.init(json: data, config: configJSON, name: file.path)
    }

    /// Builds from tokenizer.json bytes (and an optional parsed tokenizer_config.json).
    public init(json data: Data, config: JSONValue? = nil, name: String = "tokenizer.json") throws {
        let root: JSONValue
        do { root = try JSONValue.parse(data) } catch let e as JSONError {
            throw TokenizerError.malformed(name, reason: e.localizedDescription)
        }
        guard root.object != nil else { throw TokenizerError.wrongType("(root)", expected: "an object", in: name) }
        guard let modelJSON = root["model"] else { throw TokenizerError.missingKey("model", in: name) }
        let model = try makeModel(modelJSON)
        var added: [AddedToken] = []
        if let list = root["added_tokens"], !list.isNull {
            guard let items = list.array else { throw TokenizerError.wrongType("added_tokens", expected: "an array", in: name) }
            added = try items.enumerated().map { try AddedToken(json: $1, index: $0) }
        }
        func tokenText(_ v: JSONValue?) -> String? { v?.string ?? v?["content"]?.string }
        var template: String?
        if let t = config?["chat_template"] {
            if let s = t.string { template = s } else if let list = t.array {
                template = list.first(where: { $0["name"]?.string == "default" })?["template"]?.string ?? list.first?["template"]?.string
            }
        }
        try self.init(normalizer: try makeNormalizer(root["normalizer"] ?? .null),
                      preTokenizer: try makePreTokenizer(root["pre_tokenizer"] ?? .null),
                      model: model,
                      postProcessor: try makePostProcessor(root["post_processor"] ?? .null),
                      decoder: try makeDecoder(root["decoder"] ?? .null),
                      addedTokens: added, chatTemplate: template,
                      bosToken: tokenText(config?["bos_token"]), eosToken: tokenText(config?["eos_token"]))
    }

    // MARK: Tokenizer

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        for segment in rawMatcher.split(Array(text.unicodeScalars), atStart: true) {
            switch segment {
            case .token(let id): ids.append(id)
            case .text(let scalars, let atStart):
                let normalized = normalizer?.normalize(scalars) ?? scalars
                for inner in normalizedMatcher.split(normalized, atStart: atStart) {
                    switch inner {
                    case .token(let id): ids.append(id)
                    case .text(let t, let innerStart):
                        let splits = preTokenizer?.preTokenize([TextSplit(t, atStart: innerStart)]) ?? [TextSplit(t, atStart: innerStart)]
                        for s in splits { ids.append(contentsOf: model.tokenize(s.scalars)) }
                    }
                }
            }
        }
        return postProcessor?.process(ids, addSpecialTokens: addSpecialTokens) ?? ids
    }

    /// Token strings of `ids`, as the reference passes them to the decoder.
    public func tokens(_ ids: [Int], skipSpecialTokens: Bool = false) -> [String] {
        ids.compactMap { id -> String? in
            if skipSpecialTokens && specialIds.contains(id) { return nil }
            if let a = addedById[id] { return a.content }
            return model.token(for: id)
        }
    }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        let toks = tokens(ids, skipSpecialTokens: skipSpecialTokens)
        guard let decoder else { return toks.joined(separator: " ") }
        return decoder.decodeChain(toks).joined()
    }

    public func applyChatTemplate(messages: [[String: String]], addGenerationPrompt: Bool) throws -> String {
        guard let compiledTemplate else { throw TokenizerError.noChatTemplate }
        return try compiledTemplate.render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                           bosToken: bosToken, eosToken: eosToken)
    }

    public func token(for id: Int) -> String? { addedById[id]?.content ?? model.token(for: id) }
    public func id(for token: String) -> Int? { addedByContent[token] ?? model.id(for: token) }
    public var vocabularySize: Int { max(model.vocabularySize, (addedTokens.map { $0.id }.max() ?? -1) + 1) }
    public var bosTokenId: Int? { bosToken.flatMap { id(for: $0) } }
    public var eosTokenId: Int? { eosToken.flatMap { id(for: $0) } }
}
