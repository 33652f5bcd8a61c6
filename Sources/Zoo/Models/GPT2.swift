import Engine
import Formats
import Foundation

/// GPT-2 configuration (`config.json` of GPT2LMHeadModel).
public struct GPT2Configuration: Codable, Sendable, Equatable {
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var vocabularySize: Int
    public var contextLength: Int
    public var innerSize: Int?
    public var layerNormEps: Float = 1e-5
    public var activation: String = "gelu_new"

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "n_embd", layerCount = "n_layer", headCount = "n_head", vocabularySize = "vocab_size"
        case contextLength = "n_positions", innerSize = "n_inner", layerNormEps = "layer_norm_epsilon", activation = "activation_function"
    }
}

/// GPT-2: learned positions, pre-LayerNorm blocks, GELU MLP, Conv1D-layout weights ([in, out]
/// in the checkpoint, transposed at load), output tied to the token embedding.
public final class GPT2Model: LanguageModel, @unchecked Sendable {
    public let configuration: GPT2Configuration
    struct Layer {
        let norm1: (Tensor, Tensor), norm2: (Tensor, Tensor)
        let qkv: Linear, proj: Linear, fc: Linear, fcProj: Linear
    }
    let tokens: Tensor, positions: Tensor
    let layers: [Layer]
    let finalNorm: (Tensor, Tensor)

    public var vocabularySize: Int { configuration.vocabularySize }
    public var contextLength: Int { configuration.contextLength }

    public init(folder: URL) throws {
        let configURL = folder.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: configURL) else { throw ZooError.fileNotFound(configURL.path) }
        let c: GPT2Configuration
        do { c = try JSONDecoder().decode(GPT2Configuration.self, from: data) } catch {
            throw ZooError.invalidConfiguration("\(configURL.path): \(error)")
        }
        guard ["gelu_new", "gelu_pytorch_tanh", "gelu"].contains(c.activation) else {
            throw ZooError.invalidConfiguration("activation_function \(c.activation)")
        }
        guard c.hiddenSize % c.headCount == 0 else { throw ZooError.invalidConfiguration("n_embd \(c.hiddenSize) not divisible by n_head \(c.headCount)") }
        configuration = c
        let ck = try SafeTensorsCheckpoint(url: folder)
        let prefix = ck.names.contains { $0.hasPrefix("transformer.") } ? "transformer." : ""
        func t(_ name: String, _ shape: [Int]) throws -> Tensor {
            guard ck.info(named: prefix + name) != nil else { throw ZooError.missingTensor(prefix + name, in: folder.path) }
            let x = try ck.tensor(named: prefix + name).asType(.float32)
            guard x.shape == shape else { throw ZooError.tensorShape(prefix + name, expected: shape, actual: x.shape) }
            return x
        }
        /// Conv1D: y = x · W + b with W [in, out].
        func conv1d(_ name: String, _ inp: Int, _ out: Int) throws -> Linear {
            Linear(.dense(try t(name + ".weight", [inp, out]).T.contiguous()), bias: try t(name + ".bias", [out]))
        }
        func norm(_ name: String) throws -> (Tensor, Tensor) { (try t(name + ".weight", [c.hiddenSize]), try t(name + ".bias", [c.hiddenSize])) }
        let d = c.hiddenSize, inner = c.innerSize ?? 4 * c.hiddenSize
        tokens = try t("wte.weight", [c.vocabularySize, d])
        positions = try t("wpe.weight", [c.contextLength, d])
        layers = try (0 ..< c.layerCount).map { i in
            let p = "h.\(i)."
            return Layer(norm1: try norm(p + "ln_1"), norm2: try norm(p + "ln_2"),
                         qkv: try conv1d(p + "attn.c_attn", d, 3 * d), proj: try conv1d(p + "attn.c_proj", d, d),
                         fc: try conv1d(p + "mlp.c_fc", d, inner), fcProj: try conv1d(p + "mlp.c_proj", inner, d))
        }
        finalNorm = try norm("ln_f")
        eval(parameters)
    }

    public var parameters: [Tensor] {
        var all: [Tensor] = [tokens, positions, finalNorm.0, finalNorm.1]
        for l in layers {
            all += [l.norm1.0, l.norm1.1, l.norm2.0, l.norm2.1]
            for lin in [l.qkv, l.proj, l.fc, l.fcProj] { all += lin.tensors }
        }
        return all
    }

    public func newCache(maxSize: Int?, keep: Int) -> [KVCache] {
        // Learned absolute positions cannot slide: a rotating cache is not offered.
        (0 ..< configuration.layerCount).map { _ in StandardKVCache() }
    }

    public func callAsFunction(_ ids: Tensor, cache: [KVCache], lastOnly: Bool) -> Tensor {
        let c = configuration
        let (B, L) = (ids.dim(0), ids.dim(1))
        let hd = c.hiddenSize / c.headCount
        let offset = cache.first?.offset ?? 0
        let pos: Tensor = positions[offset ..< offset + L].expandedDimensions(axes: [0])
        var x: Tensor = take(tokens, ids, axis: 0) + pos
        for (i, l) in layers.enumerated() {
            let h = Fast.layerNorm(x, weight: l.norm1.0, bias: l.norm1.1, eps: c.layerNormEps)
            let qkv = l.qkv(h).reshaped([B, L, 3, c.headCount, hd])
            let q = qkv[0..., 0..., 0, 0..., 0...].transposed([0, 2, 1, 3])
            let k = qkv[0..., 0..., 1, 0..., 0...].transposed([0, 2, 1, 3])
            let v = qkv[0..., 0..., 2, 0..., 0...].transposed([0, 2, 1, 3])
            let (keys, values) = cache[i].update(keys: k, values: v)
            let a = Fast.scaledDotProductAttention(queries: q, keys: keys, values: values, scale: 1 / Float(hd).squareRoot(),
                                                   mask: L > 1 ? .causal : .none)
            x = x + l.proj(a.transposed([0, 2, 1, 3]).reshaped([B, L, c.hiddenSize]))
            let m = l.fc(Fast.layerNorm(x, weight: l.norm2.0, bias: l.norm2.1, eps: c.layerNormEps))
            x = x + l.fcProj(GPT2Model.gelu(m, exact: c.activation == "gelu"))
        }
        if lastOnly && L > 1 { x = x[0..., (L - 1)..., 0...] }
        return matmul(Fast.layerNorm(x, weight: finalNorm.0, bias: finalNorm.1, eps: c.layerNormEps), tokens.T)
    }

    /// GELU: the tanh approximation GPT-2 was trained with, or the exact erf form.
    static func gelu(_ x: Tensor, exact: Bool) -> Tensor {
        if exact {
            let e: Tensor = erf(x * Float(1 / 2.0.squareRoot())) + 1
            return x * e * 0.5
        }
        let cube: Tensor = x * x * x
        let inner: Tensor = (x + cube * 0.044715) * Float((2 / Double.pi).squareRoot())
        let t: Tensor = tanh(inner) + 1
        return x * t * 0.5
    }
}
