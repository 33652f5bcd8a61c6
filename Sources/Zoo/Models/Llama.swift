import Engine
import Formats
import Foundation

/// LLaMA-style decoder configuration (SmolLM, Llama 2/3, Qwen2, Mistral), from a Hugging Face
/// `config.json` or from GGUF metadata.
public struct LlamaConfiguration: Codable, Sendable, Equatable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDimension: Int?
    public var vocabularySize: Int
    public var rmsNormEps: Float = 1e-5
    public var ropeTheta: Float = 10000
    public var ropeScaling: RopeScaling?
    public var contextLength: Int = 2048
    public var tieWordEmbeddings: Bool = false
    public var attentionBias: Bool = false

    public struct RopeScaling: Codable, Sendable, Equatable {
        public var type: String
        public var factor: Float
        public var lowFreqFactor: Float?
        public var highFreqFactor: Float?
        public var originalMaxPositionEmbeddings: Int?

        enum CodingKeys: String, CodingKey {
            case type = "rope_type", legacyType = "type", factor, lowFreqFactor = "low_freq_factor"
            case highFreqFactor = "high_freq_factor", originalMaxPositionEmbeddings = "original_max_position_embeddings"
        }

        public init(type: String, factor: Float, lowFreqFactor: Float? = nil, highFreqFactor: Float? = nil, originalMaxPositionEmbeddings: Int? = nil) {
            self.type = type
            self.factor = factor
            self.lowFreqFactor = lowFreqFactor
            self.highFreqFactor = highFreqFactor
            self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = try c.decodeIfPresent(String.self, forKey: .type) ?? c.decodeIfPresent(String.self, forKey: .legacyType) ?? "linear"
            factor = try c.decodeIfPresent(Float.self, forKey: .factor) ?? 1
            lowFreqFactor = try c.decodeIfPresent(Float.self, forKey: .lowFreqFactor)
            highFreqFactor = try c.decodeIfPresent(Float.self, forKey: .highFreqFactor)
            originalMaxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .originalMaxPositionEmbeddings)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(type, forKey: .type)
            try c.encode(factor, forKey: .factor)
            try c.encodeIfPresent(lowFreqFactor, forKey: .lowFreqFactor)
            try c.encodeIfPresent(highFreqFactor, forKey: .highFreqFactor)
            try c.encodeIfPresent(originalMaxPositionEmbeddings, forKey: .originalMaxPositionEmbeddings)
        }
    }

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", intermediateSize = "intermediate_size", layerCount = "num_hidden_layers"
        case headCount = "num_attention_heads", kvHeadCount = "num_key_value_heads", headDimension = "head_dim"
        case vocabularySize = "vocab_size", rmsNormEps = "rms_norm_eps", ropeTheta = "rope_theta", ropeScaling = "rope_scaling"
        case contextLength = "max_position_embeddings", tieWordEmbeddings = "tie_word_embeddings", attentionBias = "attention_bias"
    }

    public init(hiddenSize: Int, intermediateSize: Int, layerCount: Int, headCount: Int, kvHeadCount: Int,
                vocabularySize: Int, headDimension: Int? = nil) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.vocabularySize = vocabularySize
        self.headDimension = headDimension
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        layerCount = try c.decode(Int.self, forKey: .layerCount)
        headCount = try c.decode(Int.self, forKey: .headCount)
        kvHeadCount = try c.decodeIfPresent(Int.self, forKey: .kvHeadCount) ?? headCount
        headDimension = try c.decodeIfPresent(Int.self, forKey: .headDimension)
        vocabularySize = try c.decode(Int.self, forKey: .vocabularySize)
        rmsNormEps = try c.decodeIfPresent(Float.self, forKey: .rmsNormEps) ?? 1e-5
        ropeTheta = try c.decodeIfPresent(Float.self, forKey: .ropeTheta) ?? 10000
        ropeScaling = try c.decodeIfPresent(RopeScaling.self, forKey: .ropeScaling)
        contextLength = try c.decodeIfPresent(Int.self, forKey: .contextLength) ?? 2048
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
    }

    /// From `<arch>.*` GGUF keys (llama.cpp's names).
    public init(gguf m: [String: GGUFValue], tensorRows vocabulary: Int?) throws {
        guard let arch = m["general.architecture"]?.stringValue else { throw ZooError.invalidConfiguration("GGUF has no general.architecture") }
        func int(_ k: String) throws -> Int {
            guard let v = m["\(arch).\(k)"]?.intValue else { throw ZooError.invalidConfiguration("GGUF key \(arch).\(k) is missing") }
            return v
        }
        hiddenSize = try int("embedding_length")
        intermediateSize = try int("feed_forward_length")
        layerCount = try int("block_count")
        headCount = try int("attention.head_count")
        kvHeadCount = m["\(arch).attention.head_count_kv"]?.intValue ?? headCount
        headDimension = m["\(arch).attention.key_length"]?.intValue
        vocabularySize = m["\(arch).vocab_size"]?.intValue ?? vocabulary ?? m["tokenizer.ggml.tokens"]?.arrayValue?.count ?? 0
        rmsNormEps = Float(m["\(arch).attention.layer_norm_rms_epsilon"]?.doubleValue ?? 1e-5)
        ropeTheta = Float(m["\(arch).rope.freq_base"]?.doubleValue ?? 10000)
        contextLength = m["\(arch).context_length"]?.intValue ?? 2048
        if let type = m["\(arch).rope.scaling.type"]?.stringValue, type != "none",
           let factor = m["\(arch).rope.scaling.factor"]?.doubleValue {
            ropeScaling = RopeScaling(type: type, factor: Float(factor),
                                      originalMaxPositionEmbeddings: m["\(arch).rope.scaling.original_context_length"]?.intValue)
        }
    }

    public var resolvedHeadDimension: Int { headDimension ?? hiddenSize / headCount }

    func validate() throws {
        guard hiddenSize > 0, layerCount > 0, headCount > 0, kvHeadCount > 0, vocabularySize > 0, intermediateSize > 0 else {
            throw ZooError.invalidConfiguration("sizes must be positive: \(self)")
        }
        guard headCount % kvHeadCount == 0 else {
            throw ZooError.invalidConfiguration("\(headCount) attention heads are not a multiple of \(kvHeadCount) key/value heads")
        }
        guard resolvedHeadDimension % 2 == 0 else { throw ZooError.invalidConfiguration("head dimension \(resolvedHeadDimension) is odd") }
    }
}

/// A LLaMA-style decoder: RMSNorm, rotary attention with grouped-query heads, SwiGLU MLP,
/// optional attention biases, tied or separate output embedding.
public final class LlamaModel: LanguageModel, @unchecked Sendable {
    public let configuration: LlamaConfiguration
    /// A class: the forward pass reads a dozen weights per layer, and copying a struct of
    /// them retained and released each one per layer and token.
    final class Layer: Sendable {
        init(attentionNorm: Tensor, mlpNorm: Tensor, o: Linear, down: Linear, qkv: Linear?, gateUp: Linear?,
             q: Linear?, k: Linear?, v: Linear?, gate: Linear?, up: Linear?) {
            (self.attentionNorm, self.mlpNorm, self.o, self.down, self.qkv, self.gateUp) = (attentionNorm, mlpNorm, o, down, qkv, gateUp)
            (self.q, self.k, self.v, self.gate, self.up) = (q, k, v, gate, up)
        }
        let attentionNorm: Tensor, mlpNorm: Tensor
        let o: Linear, down: Linear
        /// q, k and v (and gate and up) stacked into one matrix when their storage allows, so one
        /// pass over x computes them; otherwise kept apart.
        let qkv: Linear?, gateUp: Linear?
        let q: Linear?, k: Linear?, v: Linear?, gate: Linear?, up: Linear?
    }
    let embedding: Linear
    let layers: [Layer]
    let norm: Tensor
    let output: Linear
    let tiedOutput: Bool
    /// GGUF stores Q/K rows with each rotary pair adjacent (MLX's "traditional" RoPE);
    /// Hugging Face checkpoints keep the two halves apart.
    let traditionalRope: Bool
    let ropeFrequencies: Tensor?

    public var vocabularySize: Int { configuration.vocabularySize }
    public var contextLength: Int { configuration.contextLength }
    public var layerCount: Int { configuration.layerCount }

    public init(configuration c: LlamaConfiguration, weights w: WeightStore) throws {
        try c.validate()
        configuration = c
        let d = c.hiddenSize, hd = c.resolvedHeadDimension
        embedding = try w.linear("token_embd", outputs: c.vocabularySize, inputs: d)
        var layers: [Layer] = []
        for i in 0 ..< c.layerCount {
            let p = "blk.\(i)."
            let q = try w.linear(p + "attn_q", outputs: c.headCount * hd, inputs: d)
            let k = try w.linear(p + "attn_k", outputs: c.kvHeadCount * hd, inputs: d)
            let v = try w.linear(p + "attn_v", outputs: c.kvHeadCount * hd, inputs: d)
            let gate = try w.linear(p + "ffn_gate", outputs: c.intermediateSize, inputs: d)
            let up = try w.linear(p + "ffn_up", outputs: c.intermediateSize, inputs: d)
            let qkv = Linear.stacked([q, k, v]), gateUp = Linear.stacked([gate, up])
            layers.append(Layer(
                attentionNorm: try w.tensor(p + "attn_norm.weight", shape: [d]),
                mlpNorm: try w.tensor(p + "ffn_norm.weight", shape: [d]),
                o: try w.linear(p + "attn_output", outputs: d, inputs: c.headCount * hd),
                down: try w.linear(p + "ffn_down", outputs: d, inputs: c.intermediateSize),
                qkv: qkv, gateUp: gateUp,
                q: qkv == nil ? q : nil, k: qkv == nil ? k : nil, v: qkv == nil ? v : nil,
                gate: gateUp == nil ? gate : nil, up: gateUp == nil ? up : nil))
        }
        self.layers = layers
        norm = try w.tensor("output_norm.weight", shape: [d])
        tiedOutput = !w.contains("output.weight")
        output = tiedOutput ? embedding : try w.linear("output", outputs: c.vocabularySize, inputs: d)
        traditionalRope = w.interleavedRotary
        ropeFrequencies = LlamaModel.frequencies(c)
        eval(parameters)
    }

    /// Custom rotary frequencies for Llama 3 scaling; nil when `base` alone describes them.
    static func frequencies(_ c: LlamaConfiguration) -> Tensor? {
        guard let s = c.ropeScaling, s.type == "llama3" else { return nil }
        let dims = c.resolvedHeadDimension
        let low = s.lowFreqFactor ?? 1, high = s.highFreqFactor ?? 4
        let old = Float(s.originalMaxPositionEmbeddings ?? 8192)
        let lowWavelen = old / low, highWavelen = old / high
        var freqs: [Float] = []
        for i in stride(from: 0, to: dims, by: 2) {
            let f = powf(c.ropeTheta, Float(i) / Float(dims))  // the period multiplier: 1 / inv_freq
            let wavelen = 2 * Float.pi * f
            if wavelen < highWavelen { freqs.append(f) } else if wavelen > lowWavelen { freqs.append(f * s.factor) } else {
                let smooth = (old / wavelen - low) / (high - low)
                freqs.append(f / ((1 - smooth) / s.factor + smooth))
            }
        }
        return Tensor(freqs)
    }

    public var parameters: [Tensor] {
        var t = embedding.tensors + [norm]
        if !tiedOutput { t += output.tensors }
        for l in layers {
            t += [l.attentionNorm, l.mlpNorm] + l.o.tensors + l.down.tensors
            for lin in [l.qkv, l.q, l.k, l.v, l.gateUp, l.gate, l.up] { t += lin?.tensors ?? [] }
        }
        return t
    }

    public var parameterBytes: Int { parameters.reduce(0) { $0 + $1.nbytes } }

    public func newCache(maxSize: Int? = nil, keep: Int = 4) -> [KVCache] {
        (0 ..< configuration.layerCount).map { _ -> KVCache in
            if let maxSize { return RotatingKVCache(maxSize: maxSize, keep: keep) }
            return StandardKVCache()
        }
    }

    /// Logits [B, L, vocabulary] for token ids [B, L] (only the last position's when `lastOnly`).
    public func callAsFunction(_ tokens: Tensor, cache: [KVCache], lastOnly: Bool = false) -> Tensor {
        let c = configuration
        let (B, L) = (tokens.dim(0), tokens.dim(1))
        let hd = c.resolvedHeadDimension
        let scale = 1 / Float(hd).squareRoot()
        let ropeScale: Float = c.ropeScaling.map { $0.type == "linear" ? 1 / $0.factor : 1 } ?? 1
        var x = embedding.rows(tokens)
        for (i, l) in layers.enumerated() {
            let h = Fast.rmsNorm(x, weight: l.attentionNorm, eps: c.rmsNormEps)
            // q, k, v as [B, heads, L, hd].
            var q: Tensor, k: Tensor, v: Tensor
            if let qkv = l.qkv, L == 1 {
                // One position: the stacked output reshaped to heads once, then split by head
                // (views; a decode step builds hundreds of nodes, and each costs its scheduling).
                let heads = qkv(h).reshaped([B, c.headCount + 2 * c.kvHeadCount, 1, hd])
                let parts = split(heads, indices: [c.headCount, c.headCount + c.kvHeadCount], axis: 1)
                (q, k, v) = (parts[0], parts[1], parts[2])
            } else {
                let (qh, kh, vh): (Tensor, Tensor, Tensor)
                if let qkv = l.qkv {
                    let parts = Linear.split(qkv(h), sizes: [c.headCount * hd, c.kvHeadCount * hd, c.kvHeadCount * hd])
                    (qh, kh, vh) = (parts[0], parts[1], parts[2])
                } else {
                    (qh, kh, vh) = (l.q!(h), l.k!(h), l.v!(h))
                }
                // With one position the transpose only moves a size-1 axis.
                q = L == 1 ? qh.reshaped([B, c.headCount, 1, hd]) : qh.reshaped([B, L, c.headCount, hd]).transposed([0, 2, 1, 3])
                k = L == 1 ? kh.reshaped([B, c.kvHeadCount, 1, hd]) : kh.reshaped([B, L, c.kvHeadCount, hd]).transposed([0, 2, 1, 3])
                v = L == 1 ? vh.reshaped([B, c.kvHeadCount, 1, hd]) : vh.reshaped([B, L, c.kvHeadCount, hd]).transposed([0, 2, 1, 3])
            }
            let offset = cache[i].offset
            q = Fast.rope(q, dimensions: hd, traditional: traditionalRope, base: ropeFrequencies == nil ? c.ropeTheta : nil,
                          scale: ropeScale, offset: offset, freqs: ropeFrequencies)
            k = Fast.rope(k, dimensions: hd, traditional: traditionalRope, base: ropeFrequencies == nil ? c.ropeTheta : nil,
                          scale: ropeScale, offset: offset, freqs: ropeFrequencies)
            let (keys, values) = cache[i].update(keys: k, values: v)
            let a = Fast.scaledDotProductAttention(queries: q, keys: keys, values: values, scale: scale,
                                                   mask: L > 1 ? .causal : .none)
            x = x + l.o((L == 1 ? a : a.transposed([0, 2, 1, 3])).reshaped([B, L, c.headCount * hd]))
            let m = Fast.rmsNorm(x, weight: l.mlpNorm, eps: c.rmsNormEps)
            // The stacked gate/up output is read in place by the activation.
            let act = l.gateUp.map { Fast.swiGLU($0(m)) } ?? Fast.swiGLU(l.gate!(m), l.up!(m))
            x = x + l.down(act)
        }
        if lastOnly && L > 1 { x = x[0..., (L - 1)..., 0...] }
        return output(Fast.rmsNorm(x, weight: norm, eps: c.rmsNormEps))
    }
}
