import Foundation

/// Adds special tokens around an encoded sequence (tokenizer.json `post_processor`).
protocol PostProcessor: Sendable {
    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int]
}

/// `single` template: special tokens and the `$A` sequence.
struct TemplateProcessor: PostProcessor {
    enum Piece: Sendable { case sequence, special([Int]) }
    let single: [Piece]
    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] {
        guard addSpecialTokens else { return ids }
        var out: [Int] = []
        for p in single {
            switch p {
            case .sequence: out.append(contentsOf: ids)
            case .special(let s): out.append(contentsOf: s)
            }
        }
        return out
    }
}

struct NoOpProcessor: PostProcessor {
    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] { ids }
}

struct SequenceProcessor: PostProcessor {
    let processors: [any PostProcessor]
    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] {
        processors.reduce(ids) { $1.process($0, addSpecialTokens: addSpecialTokens) }
    }
}

func makePostProcessor(_ json: JSONValue) throws -> (any PostProcessor)? {
    if json.isNull { return nil }
    let spec = try ComponentSpec(json, kind: "post_processor")
    func pair(_ key: String) throws -> Int {
        guard let a = try spec.value(key).array, a.count == 2, let id = a[1].int else {
            throw TokenizerError.wrongType(key, expected: "[token, id]", in: spec.place)
        }
        return id
    }
    switch spec.type {
    case "BertProcessing", "RobertaProcessing":
        let cls = try pair("cls"), sep = try pair("sep")
        return TemplateProcessor(single: [.special([cls]), .sequence, .special([sep])])
    case "ByteLevel": return NoOpProcessor()
    case "TemplateProcessing":
        let specials = try spec.value("special_tokens")
        var pieces: [TemplateProcessor.Piece] = []
        for item in try spec.array("single") {
            if item["Sequence"] != nil { pieces.append(.sequence); continue }
            guard let name = item["SpecialToken"]?["id"]?.string else {
                throw TokenizerError.wrongType("single", expected: "Sequence or SpecialToken items", in: spec.place)
            }
            guard let ids = specials[name]?["ids"]?.array?.compactMap({ $0.int }) else {
                throw TokenizerError.missingToken(name, in: "post_processor TemplateProcessing special_tokens")
            }
            pieces.append(.special(ids))
        }
        return TemplateProcessor(single: pieces)
    case "Sequence":
        return SequenceProcessor(processors: try spec.array("processors").compactMap { try makePostProcessor($0) })
    default:
        throw TokenizerError.unknownComponent(kind: "post_processor", type: spec.type)
    }
}
