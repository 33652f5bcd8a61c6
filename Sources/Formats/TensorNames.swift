import Foundation

/// Tensor names between Hugging Face checkpoints and GGUF files, for the LLaMA family
/// (LLaMA, Mistral, Qwen2, SmolLM: `model.layers.N.…`) and GPT-2 (`h.N.…`).
public enum TensorNames {
    public enum Family: String, Sendable { case llama, gpt2 }

    /// (HF suffix inside a layer, GGUF suffix inside a block)
    static let llamaLayer: [(String, String)] = [
        ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"), ("self_attn.v_proj", "attn_v"),
        ("self_attn.o_proj", "attn_output"), ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"),
        ("mlp.down_proj", "ffn_down"), ("input_layernorm", "attn_norm"), ("post_attention_layernorm", "ffn_norm"),
    ]
    static let llamaGlobal: [(String, String)] = [
        ("model.embed_tokens", "token_embd"), ("model.norm", "output_norm"), ("lm_head", "output"),
    ]
    static let gpt2Layer: [(String, String)] = [
        ("ln_1", "attn_norm"), ("attn.c_attn", "attn_qkv"), ("attn.c_proj", "attn_output"),
        ("ln_2", "ffn_norm"), ("mlp.c_fc", "ffn_up"), ("mlp.c_proj", "ffn_down"),
    ]
    static let gpt2Global: [(String, String)] = [
        ("wte", "token_embd"), ("wpe", "position_embd"), ("ln_f", "output_norm"), ("lm_head", "output"),
    ]

    /// Splits `prefix.rest.weight` into (module, parameter suffix such as "weight").
    static func splitParameter(_ name: String) -> (String, String)? {
        for p in ["weight", "bias", "scales", "biases"] where name.hasSuffix("." + p) {
            return (String(name.dropLast(p.count + 1)), p)
        }
        return nil
    }

    /// The GGUF name of a Hugging Face tensor, or nil when the name is not one of the family's.
    public static func ggufName(hf: String, family: Family) -> String? {
        var name = hf
        if family == .gpt2, name.hasPrefix("transformer.") { name.removeFirst("transformer.".count) }
        guard let (module, param) = splitParameter(name) else { return nil }
        let (layerPrefix, layerMap, globalMap) = family == .llama
            ? ("model.layers.", llamaLayer, llamaGlobal) : ("h.", gpt2Layer, gpt2Global)
        if module.hasPrefix(layerPrefix) {
            let rest = module.dropFirst(layerPrefix.count)
            guard let dot = rest.firstIndex(of: "."), let n = Int(rest[..<dot]) else { return nil }
            let inner = String(rest[rest.index(after: dot)...])
            guard let g = layerMap.first(where: { $0.0 == inner })?.1 else { return nil }
            return "blk.\(n).\(g).\(param)"
        }
        guard let g = globalMap.first(where: { $0.0 == module })?.1 else { return nil }
        return "\(g).\(param)"
    }

    /// The Hugging Face name of a GGUF tensor, or nil when it is not one of the family's.
    public static func hfName(gguf: String, family: Family) -> String? {
        guard let (module, param) = splitParameter(gguf) else { return nil }
        let (layerPrefix, layerMap, globalMap) = family == .llama
            ? ("model.layers.", llamaLayer, llamaGlobal) : ("h.", gpt2Layer, gpt2Global)
        if module.hasPrefix("blk.") {
            let rest = module.dropFirst(4)
            guard let dot = rest.firstIndex(of: "."), let n = Int(rest[..<dot]) else { return nil }
            let inner = String(rest[rest.index(after: dot)...])
            guard let h = layerMap.first(where: { $0.1 == inner })?.0 else { return nil }
            return "\(layerPrefix)\(n).\(h).\(param)"
        }
        guard let h = globalMap.first(where: { $0.1 == module })?.0 else { return nil }
        return "\(h).\(param)"
    }

    /// Guesses the family of a checkpoint from its tensor names.
    public static func family(ofHFNames names: [String]) -> Family? {
        if names.contains(where: { $0.hasPrefix("model.layers.") || $0 == "model.embed_tokens.weight" }) { return .llama }
        if names.contains(where: { $0.hasPrefix("h.") || $0.hasPrefix("transformer.h.") || $0 == "wte.weight" || $0 == "transformer.wte.weight" }) { return .gpt2 }
        return nil
    }

    public static func family(ofGGUFArchitecture arch: String?) -> Family? {
        switch arch {
        case "llama", "mistral", "qwen2", "smollm": .llama
        case "gpt2": .gpt2
        default: nil
        }
    }

    /// GPT-2's Conv1D layers store weights as [in, out]; GGUF stores [out, in].
    static func isGPT2Conv1D(gguf: String) -> Bool {
        ["attn_qkv.weight", "attn_output.weight", "ffn_up.weight", "ffn_down.weight"].contains { gguf.hasSuffix($0) }
    }

    /// LLaMA's Q and K projections: GGUF keeps the two halves of each head's rotary pairs
    /// interleaved, Hugging Face keeps them as two halves. `toGGUF` reorders HF rows to GGUF's.
    static func ropePermutation(rows: Int, heads: Int, toGGUF: Bool) -> [Int]? {
        guard heads > 0, rows % heads == 0, (rows / heads) % 2 == 0 else { return nil }
        let headDim = rows / heads, half = headDim / 2
        var perm = [Int](repeating: 0, count: rows)
        for h in 0 ..< heads {
            for i in 0 ..< half {
                for j in 0 ..< 2 {
                    // GGUF row (h, i, j) ⇔ HF row (h, j, i)
                    let g = h * headDim + i * 2 + j, f = h * headDim + j * half + i
                    if toGGUF { perm[g] = f } else { perm[f] = g }
                }
            }
        }
        return perm
    }
}
