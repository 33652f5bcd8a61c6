import Engine
import Foundation
import Tokenizers

/// Sampling and stopping settings for `generate`.
public struct GenerateParameters: Sendable {
    public var maxTokens: Int = 256
    /// 0 is greedy decoding.
    public var temperature: Float = 0
    public var topK: Int = 0
    public var topP: Float = 1
    public var minP: Float = 0
    public var repetitionPenalty: Float = 1
    /// Tokens looked back at by the repetition penalty.
    public var repetitionContext: Int = 64
    public var seed: UInt64 = 0
    /// Extra stop sequences (the tokenizer's end-of-sequence token always stops).
    public var stopStrings: [String] = []
    public var stopTokens: Set<Int> = []
    /// Keep going past the end-of-sequence token (for benchmarks and reference checks).
    public var ignoreEOS = false
    /// Prompt tokens evaluated per forward pass while prefilling.
    public var prefillChunk: Int = 512
    /// Keep at most this many positions in the KV cache (rotating); nil keeps all.
    public var maxKVSize: Int?

    public init(maxTokens: Int = 256, temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                repetitionPenalty: Float = 1, seed: UInt64 = 0) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
    }

    func validate() throws {
        guard maxTokens >= 0 else { throw ZooError.invalidArgument("maxTokens must be ≥ 0 (got \(maxTokens))") }
        guard temperature >= 0, temperature.isFinite else { throw ZooError.invalidArgument("temperature must be ≥ 0 (got \(temperature))") }
        guard topK >= 0 else { throw ZooError.invalidArgument("topK must be ≥ 0 (got \(topK))") }
        guard topP > 0, topP <= 1 else { throw ZooError.invalidArgument("topP must be in (0, 1] (got \(topP))") }
        guard minP >= 0, minP < 1 else { throw ZooError.invalidArgument("minP must be in [0, 1) (got \(minP))") }
        guard repetitionPenalty > 0 else { throw ZooError.invalidArgument("repetitionPenalty must be > 0 (got \(repetitionPenalty))") }
        guard prefillChunk > 0 else { throw ZooError.invalidArgument("prefillChunk must be > 0") }
    }
}

/// Timings and sizes of one generation.
public struct GenerationStatistics: Sendable, Codable {
    public var promptTokens = 0
    public var generatedTokens = 0
    public var timeToFirstTokenSeconds = 0.0
    public var prefillSeconds = 0.0
    public var decodeSeconds = 0.0
    public var peakMemoryBytes = 0
    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
    public var decodeTokensPerSecond: Double {
        generatedTokens > 1 && decodeSeconds > 0 ? Double(generatedTokens - 1) / decodeSeconds : 0
    }
    public var stopReason: String = "length"
}

/// Turns logits [1, vocabulary] into the next token id [1], inside the graph (so the next
/// forward pass can be built before this one is evaluated).
struct Sampler {
    let p: GenerateParameters
    var key: Tensor

    init(_ p: GenerateParameters) {
        self.p = p
        key = Random.key(p.seed)
    }

    mutating func callAsFunction(_ logits: Tensor, history: [Int]) -> Tensor {
        var l = logits.asType(.float32)
        if p.repetitionPenalty != 1, !history.isEmpty {
            let recent = Array(Set(history.suffix(p.repetitionContext))).sorted()
            let idx = Tensor(recent.map { Int32($0) }, shape: [1, recent.count])
            let picked = takeAlong(l, idx, axis: -1)
            let penalized = which(picked .< 0, picked * p.repetitionPenalty, picked / p.repetitionPenalty)
            l = putAlong(l, idx, values: penalized, axis: -1)
        }
        if p.temperature == 0 { return argMax(l, axis: -1) }
        l = l / p.temperature
        if p.topK > 0 && p.topK < l.dim(-1) {
            let kth = topK(l, k: p.topK, axis: -1).min(axes: [-1], keepDims: true)
            l = which(l .< kth, Tensor(-Float.infinity), l)
        }
        if p.minP > 0 {
            let threshold = l.max(axes: [-1], keepDims: true) + Float(log(Double(p.minP)))
            l = which(l .< threshold, Tensor(-Float.infinity), l)
        }
        let parts = Random.split(key, count: 2)
        key = parts[0]
        if p.topP < 1 {
            // Keep the smallest set of tokens whose probability reaches topP, sample among them.
            let probs = softmax(l, axis: -1)
            let order = argSort(probs, axis: -1)
            let sorted = takeAlong(probs, order, axis: -1)
            let cumulative = cumsum(sorted, axis: -1)
            let kept = which(cumulative .> (1 - p.topP), sorted, Tensor(Float(0)))
            let choice = Random.categorical(log(kept), axis: -1, key: parts[1])
            return takeAlong(order, choice.reshaped([1, 1]), axis: -1).reshaped([1])
        }
        return Random.categorical(l, axis: -1, key: parts[1])
    }
}

/// Token-by-token generation. Each step's forward pass is built and started (`asyncEval`)
/// before the previous token is read back and detokenized, so the CPU never waits for itself.
public final class TokenGenerator {
    public let model: any LanguageModel
    public let parameters: GenerateParameters
    public private(set) var statistics = GenerationStatistics()
    var cache: [KVCache]
    var sampler: Sampler
    var history: [Int]
    var pending: Tensor?
    var produced = 0
    let start = DispatchTime.now()
    var decodeStart: DispatchTime?

    public init(model: any LanguageModel, prompt: [Int], parameters: GenerateParameters, cache: [KVCache]? = nil) throws {
        try parameters.validate()
        guard !prompt.isEmpty else { throw ZooError.invalidArgument("the prompt has no tokens") }
        let existing = cache?.first?.offset ?? 0
        if parameters.maxKVSize == nil, existing + prompt.count > model.contextLength {
            throw ZooError.promptTooLong(tokens: existing + prompt.count, context: model.contextLength)
        }
        self.model = model
        self.parameters = parameters
        self.cache = cache ?? model.newCache(maxSize: parameters.maxKVSize, keep: 4)
        sampler = Sampler(parameters)
        history = prompt
        statistics.promptTokens = prompt.count
        Memory.resetPeak()
        // Prefill all but the last chunk, evaluating the cache after each to bound the graph.
        var rest = prompt[...]
        while rest.count > parameters.prefillChunk {
            let chunk = Array(rest.prefix(parameters.prefillChunk))
            rest = rest.dropFirst(parameters.prefillChunk)
            _ = model(Tensor(chunk.map { Int32($0) }, shape: [1, chunk.count]), cache: self.cache, lastOnly: true)
            eval(self.cache.flatMap(\.state))
        }
        let logits = model(Tensor(rest.map { Int32($0) }, shape: [1, rest.count]), cache: self.cache, lastOnly: true)
        pending = sampler(logits.reshaped([1, -1]), history: history)
        asyncEval([pending!])
    }

    /// The next token id, or nil when `maxTokens` are done.
    public func next() -> Int? {
        guard produced < parameters.maxTokens, let y = pending else { return nil }
        // Build and start the step after this one before reading this token.
        var following: Tensor?
        if produced + 1 < parameters.maxTokens && (parameters.repetitionPenalty == 1) {
            let t0 = Profile.enabled ? DispatchTime.now().uptimeNanoseconds : 0
            defer { if Profile.enabled { Profile.record("(build decode step)", nanoseconds: DispatchTime.now().uptimeNanoseconds - t0) } }
            let logits = model(y.reshaped([1, 1]), cache: cache, lastOnly: true)
            following = sampler(logits.reshaped([1, -1]), history: history)
            asyncEval([following!])
        }
        let token = Int(y.item(Int32.self))
        produced += 1
        history.append(token)
        let now = DispatchTime.now()
        if produced == 1 {
            statistics.timeToFirstTokenSeconds = Double(now.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            statistics.prefillSeconds = statistics.timeToFirstTokenSeconds
            decodeStart = now
        } else if let d = decodeStart {
            statistics.decodeSeconds = Double(now.uptimeNanoseconds - d.uptimeNanoseconds) / 1e9
        }
        statistics.generatedTokens = produced
        statistics.peakMemoryBytes = max(statistics.peakMemoryBytes, Memory.peakBytes)
        if following == nil && produced < parameters.maxTokens {
            // The repetition penalty needs this token first.
            let logits = model(Tensor([Int32(token)], shape: [1, 1]), cache: cache, lastOnly: true)
            following = sampler(logits.reshaped([1, -1]), history: history)
            asyncEval([following!])
        }
        pending = following
        return token
    }

    /// Stops generation early (the pending step is dropped).
    public func stop(reason: String) {
        statistics.stopReason = reason
        pending = nil
    }

    /// The caches, for continuing a conversation.
    public var kvCache: [KVCache] { cache }
}

/// A piece of generated text with the token that completed it.
public struct GeneratedPiece: Sendable {
    public let text: String
    public let token: Int
}

/// Generation as an `AsyncSequence` of text pieces (stop tokens and strings handled; the
/// pieces concatenate to the decoded text).
public struct TextGeneration: AsyncSequence, Sendable {
    public typealias Element = GeneratedPiece
    let model: any LanguageModel
    let tokenizer: any Tokenizer
    let prompt: [Int]
    let parameters: GenerateParameters
    let onFinish: @Sendable (GenerationStatistics, [Int]) -> Void

    public func makeAsyncIterator() -> AsyncThrowingStream<GeneratedPiece, Error>.Iterator {
        let (model, tokenizer, prompt, parameters, onFinish) = (self.model, self.tokenizer, self.prompt, self.parameters, self.onFinish)
        let box = UnsafeSendable((model, tokenizer))
        let stream = AsyncThrowingStream<GeneratedPiece, Error> { continuation in
            let task = Task.detached {
                do {
                    let (model, tokenizer) = box.value
                    let (stats, tokens) = try runGeneration(model: model, tokenizer: tokenizer, prompt: prompt, parameters: parameters,
                                                            isCancelled: { Task.isCancelled }) { piece in
                        continuation.yield(piece)
                    }
                    onFinish(stats, tokens)
                    continuation.finish()
                } catch { continuation.finish(throwing: error) }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return stream.makeAsyncIterator()
    }
}

struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// The loop behind both forms of `generate`: stops on EOS / stop tokens / stop strings.
@discardableResult
func runGeneration(model: any LanguageModel, tokenizer: any Tokenizer, prompt: [Int], parameters: GenerateParameters,
                   cache: [KVCache]? = nil, isCancelled: () -> Bool = { false },
                   onPiece: (GeneratedPiece) -> Void) throws -> (statistics: GenerationStatistics, tokens: [Int]) {
    let generator = try TokenGenerator(model: model, prompt: prompt, parameters: parameters, cache: cache)
    var detok = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: true)
    var stops = parameters.stopTokens
    if let eos = tokenizer.eosTokenId, !parameters.ignoreEOS { stops.insert(eos) }
    var text = ""
    var held = ""  // text withheld while it could still be the start of a stop string
    let longestStop = parameters.stopStrings.map(\.count).max() ?? 0
    var generated: [Int] = []
    while let token = generator.next() {
        if isCancelled() { generator.stop(reason: "cancelled"); break }
        if stops.contains(token) { generator.stop(reason: "stop token"); break }
        generated.append(token)
        held += detok.append(token)
        if longestStop > 0 {
            if let hit = parameters.stopStrings.compactMap({ held.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
                let piece = String(held[..<hit.lowerBound])
                if !piece.isEmpty { onPiece(GeneratedPiece(text: piece, token: token)); text += piece }
                held = ""
                generator.stop(reason: "stop string")
                break
            }
            // Release what can no longer begin a stop string.
            let keep = min(held.count, longestStop - 1)
            let release = String(held.dropLast(keep))
            if !release.isEmpty { onPiece(GeneratedPiece(text: release, token: token)); text += release }
            held = String(held.suffix(keep))
        } else if !held.isEmpty {
            onPiece(GeneratedPiece(text: held, token: token)); text += held
            held = ""
        }
    }
    held += generator.statistics.stopReason == "length" ? detok.finish() : ""
    if !held.isEmpty { onPiece(GeneratedPiece(text: held, token: -1)) }
    return (generator.statistics, generated)
}

/// Streams generated text pieces.
public func generate(model: any LanguageModel, tokenizer: any Tokenizer, prompt: String,
                     parameters: GenerateParameters = GenerateParameters(),
                     onFinish: @escaping @Sendable (GenerationStatistics, [Int]) -> Void = { _, _ in }) -> TextGeneration {
    TextGeneration(model: model, tokenizer: tokenizer, prompt: tokenizer.encode(prompt), parameters: parameters, onFinish: onFinish)
}

/// The blocking form: the whole completion, its token ids and statistics; `onPiece` sees each
/// text piece as it is produced. (Without the closure, `generate` is the `AsyncSequence` form.)
public func generate(model: any LanguageModel, tokenizer: any Tokenizer, prompt: String,
                     parameters: GenerateParameters = GenerateParameters(),
                     onPiece: (String) -> Void) throws -> (text: String, tokens: [Int], statistics: GenerationStatistics) {
    try generate(model: model, tokenizer: tokenizer, promptTokens: tokenizer.encode(prompt), parameters: parameters, onPiece: onPiece)
}

public func generate(model: any LanguageModel, tokenizer: any Tokenizer, promptTokens: [Int],
                     parameters: GenerateParameters = GenerateParameters(), cache: [KVCache]? = nil,
                     onPiece: (String) -> Void = { _ in }) throws -> (text: String, tokens: [Int], statistics: GenerationStatistics) {
    var text = ""
    let (stats, tokens) = try runGeneration(model: model, tokenizer: tokenizer, prompt: promptTokens, parameters: parameters, cache: cache) { piece in
        text += piece.text
        onPiece(piece.text)
    }
    return (text, tokens, stats)
}

/// Generation with a cancellation check between tokens (`zoo chat` stops an answer on Ctrl-C).
public func generateTokens(model: any LanguageModel, tokenizer: any Tokenizer, promptTokens: [Int],
                           parameters: GenerateParameters, isCancelled: () -> Bool,
                           onPiece: (String) -> Void) throws -> (GenerationStatistics, [Int]) {
    let (stats, tokens) = try runGeneration(model: model, tokenizer: tokenizer, prompt: promptTokens, parameters: parameters,
                                            isCancelled: isCancelled) { onPiece($0.text) }
    return (stats, tokens)
}
