import ArgumentParser
import Engine
import Foundation
import Tokenizers
import Zoo

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models Zoo knows by name (model cards).")
    func run() {
        for c in ModelRegistry.cards() {
            let size = c.files.reduce(0) { $0 + $1.size }
            print("\(c.name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(c.architecture.padding(toLength: 7, withPad: " ", startingAt: 0)) \(formatBytes(size).padding(toLength: 10, withPad: " ", startingAt: 0)) \(c.license)")
        }
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a model card and where its files are.")
    @Argument(help: "Model name") var name: String
    func run() throws {
        let c: ModelCard
        do { c = try ModelRegistry.card(named: name) } catch { throw CLIError(error.localizedDescription) }
        print("\(c.name) (\(c.architecture), \(c.license))\n\(c.description)\n")
        for s in c.sources {
            print("source: \(s.type) \(s.package.map { "\($0)==\(s.version ?? "?")" } ?? s.repository ?? "")\(s.revision.map { "@\($0)" } ?? "")")
        }
        print("cache: \(ModelRegistry.cacheDirectory(c.name).path)")
        for f in c.files { print("file: \(f.name)  \(formatBytes(f.size))  sha256 \(f.sha256)") }
        print("tokenizer: \(c.tokenizer); chat template: \(c.chatTemplate ? "yes" : "no")")
        if let s = c.smoke { print("smoke: \(s.prompt.debugDescription) → \(s.greedyTokens.prefix(8)) (\(s.reference))") }
    }
}

struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Download and verify a model's files into the cache.")
    @Argument(help: "Model name") var name: String
    func run() throws {
        do {
            let c = try ModelRegistry.card(named: name)
            let dir = try ModelRegistry.fetch(c) { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }
            print("\(c.name): \(c.files.count) files verified in \(dir.path)")
        } catch { throw CLIError(error.localizedDescription) }
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate text with a model (by name, .gguf file or folder).")
    @Argument(help: "Model name or path") var model: String
    @Option(help: "The prompt") var prompt: String
    @Option(help: "Tokens to generate at most") var maxTokens: Int?
    @Option(help: "Sampling temperature (0: greedy)") var temperature: Float?
    @Option(help: "Nucleus sampling mass") var topP: Float?
    @Option(help: "Sample among the k most likely tokens") var topK: Int?
    @Option(help: "Drop tokens less likely than min-p times the most likely") var minP: Float?
    @Option(help: "Penalty for tokens seen in the last 64") var repetitionPenalty: Float?
    @Option(help: "Random seed") var seed: UInt64 = 0
    @Option(help: "Stop at this text (repeatable)") var stop: [String] = []
    @Option(help: "System message (with --chat)") var system: String?
    @Flag(help: "Apply the model's chat template to the prompt") var chat = false
    @Flag(help: "Do not stop at the end-of-sequence token") var ignoreEos = false
    @Flag(help: "Print one JSON object with text, tokens and statistics") var json = false

    func run() throws {
        do { try generate() } catch { throw CLIError(error.localizedDescription) }
    }

    func generate() throws {
        let loaded = try ModelRegistry.load(model) { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }
        var p = loaded.card?.defaultParameters ?? GenerateParameters()
        if let v = maxTokens { p.maxTokens = v }
        if let v = temperature { p.temperature = v }
        if let v = topP { p.topP = v }
        if let v = topK { p.topK = v }
        if let v = minP { p.minP = v }
        if let v = repetitionPenalty { p.repetitionPenalty = v }
        p.seed = seed
        p.stopStrings = stop
        p.ignoreEOS = ignoreEos
        let text: String
        if chat {
            var messages: [[String: String]] = []
            if let system { messages.append(["role": "system", "content": system]) }
            messages.append(["role": "user", "content": prompt])
            text = try loaded.tokenizer.applyChatTemplate(messages: messages, addGenerationPrompt: true)
        } else {
            text = prompt
        }
        // A chat template already spells out its special tokens.
        let ids = loaded.tokenizer.encode(text, addSpecialTokens: !chat)
        let result = try Zoo.generate(model: loaded.model, tokenizer: loaded.tokenizer, promptTokens: ids, parameters: p) { piece in
            if !json { FileHandle.standardOutput.write(piece.data(using: .utf8)!) }
        }
        let s = result.statistics
        if json {
            var object: [String: Any] = [
                "text": result.text, "tokens": result.tokens, "promptTokens": ids,
                "timeToFirstTokenSeconds": s.timeToFirstTokenSeconds, "prefillTokensPerSecond": s.prefillTokensPerSecond,
                "decodeTokensPerSecond": s.decodeTokensPerSecond, "peakMemoryBytes": s.peakMemoryBytes, "stopReason": s.stopReason,
            ]
            if let rss = processPeakRSS() { object["peakRSSBytes"] = rss }
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print()
            FileHandle.standardError.write(String(format: "\n[%d prompt tokens, %d generated; first token %.0f ms; prefill %.1f tok/s; decode %.1f tok/s; peak %@; %@]\n",
                                                  s.promptTokens, s.generatedTokens, s.timeToFirstTokenSeconds * 1000, s.prefillTokensPerSecond,
                                                  s.decodeTokensPerSecond, formatBytes(s.peakMemoryBytes), s.stopReason).data(using: .utf8)!)
        }
    }
}

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sentence embeddings with an encoder model (mean pooling, L2-normalised).")
    @Argument(help: "Model name or folder") var model: String
    @Argument(help: "Texts to embed") var texts: [String]
    @Flag(help: "Print JSON: one array of floats per text") var json = false

    func run() throws {
        do {
            let (m, tok) = try ModelRegistry.loadEmbedder(model) { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }
            let e = try m.embed(texts, tokenizer: tok)
            let dim = e.dim(1)
            let values = e.toArray(Float.self)
            let rows = (0 ..< texts.count).map { Array(values[$0 * dim ..< ($0 + 1) * dim]) }
            if json {
                print(String(decoding: try JSONSerialization.data(withJSONObject: rows.map { $0.map { Double($0) } }), as: UTF8.self))
            } else {
                for (t, r) in zip(texts, rows) {
                    print("\(t.debugDescription) [\(dim)]: " + r.prefix(8).map { String(format: "%.4f", $0) }.joined(separator: " ") + " …")
                }
            }
        } catch { throw CLIError(error.localizedDescription) }
    }
}

/// Set by SIGINT while an answer is being generated.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    var generating = false
    func raise() { lock.lock(); raised = true; lock.unlock() }
    func take() -> Bool { lock.lock(); defer { raised = false; lock.unlock() }; return raised }
    var isRaised: Bool { lock.lock(); defer { lock.unlock() }; return raised }
}

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with a model interactively (history through its chat template).",
        discussion: "Ctrl-C stops the current answer; Ctrl-C at the prompt, Ctrl-D or /exit leaves. /reset clears the history.")
    @Argument(help: "Model name or path") var model: String
    @Option(help: "System message") var system: String?
    @Option(help: "Tokens per answer at most") var maxTokens = 512
    @Option(help: "Sampling temperature (0: greedy)") var temperature: Float?
    @Option(help: "Nucleus sampling mass") var topP: Float?
    @Option(help: "Random seed") var seed: UInt64 = 0

    func run() throws {
        let loaded: LoadedModel
        do { loaded = try ModelRegistry.load(model) { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) } } catch {
            throw CLIError(error.localizedDescription)
        }
        var p = loaded.card?.defaultParameters ?? GenerateParameters()
        p.maxTokens = maxTokens
        if let t = temperature { p.temperature = t }
        if let t = topP { p.topP = t }
        p.seed = seed
        let flag = InterruptFlag()
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            if flag.generating { flag.raise() } else { print(""); Foundation.exit(0) }
        }
        source.resume()
        var history: [[String: String]] = system.map { [["role": "system", "content": $0]] } ?? []
        print("Chatting with \(loaded.card?.name ?? model). Ctrl-C stops an answer; Ctrl-D or /exit quits; /reset clears the history.")
        while true {
            print("\n> ", terminator: "")
            fflush(nil)
            guard let line = readLine() else { print(""); break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/exit" { break }
            if text == "/reset" { history = system.map { [["role": "system", "content": $0]] } ?? []; print("(history cleared)"); continue }
            history.append(["role": "user", "content": text])
            do {
                let rendered = try loaded.tokenizer.applyChatTemplate(messages: history, addGenerationPrompt: true)
                let ids = loaded.tokenizer.encode(rendered, addSpecialTokens: false)
                p.seed &+= 1
                flag.generating = true
                var answer = ""
                let (stats, _) = try runChatTurn(loaded, ids, p, isCancelled: { flag.isRaised }) { piece in
                    answer += piece
                    FileHandle.standardOutput.write(piece.data(using: .utf8)!)
                }
                flag.generating = false
                if flag.take() { print(" [stopped]", terminator: "") }
                print()
                FileHandle.standardError.write(String(format: "[%d tokens, %.1f tok/s]\n", stats.generatedTokens, stats.decodeTokensPerSecond).data(using: .utf8)!)
                history.append(["role": "assistant", "content": answer])
            } catch {
                flag.generating = false
                FileHandle.standardError.write("error: \(error.localizedDescription)\n".data(using: .utf8)!)
                history.removeLast()
            }
        }
    }

    func runChatTurn(_ m: LoadedModel, _ ids: [Int], _ p: GenerateParameters, isCancelled: @escaping () -> Bool,
                     onPiece: @escaping (String) -> Void) throws -> (GenerationStatistics, [Int]) {
        try generateTokens(model: m.model, tokenizer: m.tokenizer, promptTokens: ids, parameters: p, isCancelled: isCancelled, onPiece: onPiece)
    }
}

/// The process's peak resident set (VmHWM of /proc/self/status; nil where there is none). A
/// parent's wait4 figure is no substitute: a child forked from a large process starts with the
/// parent's high-water mark.
func processPeakRSS() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    else { return nil }
    return kb * 1024
}
