import Engine
import Formats
import Foundation
import Tokenizers

/// BERT encoder configuration (`config.json` of a BertModel).
public struct BertConfiguration: Codable, Sendable, Equatable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var vocabularySize: Int
    public var maxPositions: Int = 512
    public var typeVocabularySize: Int = 2
    public var layerNormEps: Float = 1e-12
    public var hiddenAct: String = "gelu"

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", intermediateSize = "intermediate_size", layerCount = "num_hidden_layers"
        case headCount = "num_attention_heads", vocabularySize = "vocab_size", maxPositions = "max_position_embeddings"
        case typeVocabularySize = "type_vocab_size", layerNormEps = "layer_norm_eps", hiddenAct = "hidden_act"
    }
}

/// A BERT encoder with sentence-transformers' mean pooling and L2 normalisation (MiniLM).
public final class BertModel: @unchecked Sendable {
    public let configuration: BertConfiguration
    struct Layer {
        let q: Linear, k: Linear, v: Linear, o: Linear
        let attentionNorm: (Tensor, Tensor)
        let up: Linear, down: Linear
        let outputNorm: (Tensor, Tensor)
    }
    let words: Tensor, positions: Tensor, types: Tensor
    let embeddingNorm: (Tensor, Tensor)
    let layers: [Layer]

    public init(folder: URL) throws {
        let configURL = folder.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: configURL) else { throw ZooError.fileNotFound(configURL.path) }
        let raw = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        guard (raw["model_type"] as? String) == "bert" else { throw ZooError.unsupportedArchitecture(raw["model_type"] as? String ?? "?") }
        let c: BertConfiguration
        do { c = try JSONDecoder().decode(BertConfiguration.self, from: data) } catch {
            throw ZooError.invalidConfiguration("\(configURL.path): \(error)")
        }
        guard c.hiddenAct == "gelu" else { throw ZooError.invalidConfiguration("hidden_act \(c.hiddenAct) (gelu is supported)") }
        guard c.hiddenSize % c.headCount == 0 else { throw ZooError.invalidConfiguration("hidden size \(c.hiddenSize) not divisible by \(c.headCount) heads") }
        configuration = c
        let ck = try SafeTensorsCheckpoint(url: folder)
        let prefix = ck.names.contains("bert.embeddings.word_embeddings.weight") ? "bert." : ""
        func t(_ name: String, _ shape: [Int]) throws -> Tensor {
            guard ck.info(named: prefix + name) != nil else { throw ZooError.missingTensor(prefix + name, in: folder.path) }
            let x = try ck.tensor(named: prefix + name).asType(.float32)
            guard x.shape == shape else { throw ZooError.tensorShape(prefix + name, expected: shape, actual: x.shape) }
            return x
        }
        func linear(_ name: String, _ out: Int, _ inp: Int) throws -> Linear {
            Linear(.dense(try t(name + ".weight", [out, inp])), bias: try t(name + ".bias", [out]))
        }
        func norm(_ name: String) throws -> (Tensor, Tensor) { (try t(name + ".weight", [c.hiddenSize]), try t(name + ".bias", [c.hiddenSize])) }
        let d = c.hiddenSize
        words = try t("embeddings.word_embeddings.weight", [c.vocabularySize, d])
        positions = try t("embeddings.position_embeddings.weight", [c.maxPositions, d])
        types = try t("embeddings.token_type_embeddings.weight", [c.typeVocabularySize, d])
        embeddingNorm = try norm("embeddings.LayerNorm")
        layers = try (0 ..< c.layerCount).map { i in
            let p = "encoder.layer.\(i)."
            return Layer(q: try linear(p + "attention.self.query", d, d), k: try linear(p + "attention.self.key", d, d),
                         v: try linear(p + "attention.self.value", d, d), o: try linear(p + "attention.output.dense", d, d),
                         attentionNorm: try norm(p + "attention.output.LayerNorm"),
                         up: try linear(p + "intermediate.dense", c.intermediateSize, d),
                         down: try linear(p + "output.dense", d, c.intermediateSize),
                         outputNorm: try norm(p + "output.LayerNorm"))
        }
        var all: [Tensor] = [words, positions, types]
        for l in layers {
            for lin in [l.q, l.k, l.v, l.o, l.up, l.down] { all += lin.tensors }
        }
        eval(all)
    }

    /// Hidden states [B, L, hidden] for ids [B, L] with a 0/1 attention mask [B, L].
    public func callAsFunction(_ ids: Tensor, mask: Tensor) -> Tensor {
        let c = configuration
        let (B, L) = (ids.dim(0), ids.dim(1))
        let hd = c.hiddenSize / c.headCount
        let positionRows: Tensor = positions[0 ..< L].expandedDimensions(axes: [0])
        let typeRow: Tensor = types[0 ..< 1].expandedDimensions(axes: [0])
        var x: Tensor = take(words, ids, axis: 0) + positionRows
        x = x + typeRow
        x = Fast.layerNorm(x, weight: embeddingNorm.0, bias: embeddingNorm.1, eps: c.layerNormEps)
        // Padding keys get −∞ before the softmax.
        let additive = which(mask.asType(.bool), Tensor(Float(0)), Tensor(-Float.infinity)).reshaped([B, 1, 1, L])
        for l in layers {
            func heads(_ t: Tensor) -> Tensor { t.reshaped([B, L, c.headCount, hd]).transposed([0, 2, 1, 3]) }
            let a = Fast.scaledDotProductAttention(queries: heads(l.q(x)), keys: heads(l.k(x)), values: heads(l.v(x)),
                                                   scale: 1 / Float(hd).squareRoot(), mask: .additive(additive))
            x = Fast.layerNorm(x + l.o(a.transposed([0, 2, 1, 3]).reshaped([B, L, c.hiddenSize])),
                               weight: l.attentionNorm.0, bias: l.attentionNorm.1, eps: c.layerNormEps)
            let h = l.up(x)
            let inner: Tensor = erf(h * Float(1 / 2.0.squareRoot())) + 1
            let g: Tensor = h * inner * 0.5
            x = Fast.layerNorm(x + l.down(g), weight: l.outputNorm.0, bias: l.outputNorm.1, eps: c.layerNormEps)
        }
        return x
    }

    /// Sentence embeddings [N, hidden]: mean of the token states (padding excluded), L2-normalised.
    public func embed(_ texts: [String], tokenizer: any Tokenizer, normalize: Bool = true) throws -> Tensor {
        guard !texts.isEmpty else { throw ZooError.invalidArgument("no texts to embed") }
        let encoded = texts.map { Array(tokenizer.encode($0, addSpecialTokens: true).prefix(configuration.maxPositions)) }
        let L = encoded.map(\.count).max()!
        var ids = [Int32](), mask = [Float]()
        for e in encoded {
            ids += e.map { Int32($0) } + [Int32](repeating: 0, count: L - e.count)
            mask += [Float](repeating: 1, count: e.count) + [Float](repeating: 0, count: L - e.count)
        }
        let m = Tensor(mask, shape: [texts.count, L])
        let h = self(Tensor(ids, shape: [texts.count, L]), mask: m)
        let summed = (h * m.expandedDimensions(axes: [2])).sum(axes: [1])
        var pooled = summed / m.sum(axes: [1], keepDims: true)
        if normalize {
            pooled = pooled / maximum(sqrt((pooled * pooled).sum(axes: [1], keepDims: true)), Float(1e-12))
        }
        return pooled
    }
}
