import Engine
import Formats
import Foundation

/// Named weights from a GGUF file or a safetensors checkpoint, under GGUF's tensor names
/// (`blk.N.attn_q.weight` …; Hugging Face names are mapped with `TensorNames`). Quantized
/// matrices come back as `Linear`s that stay quantized.
public final class WeightStore: @unchecked Sendable {
    public enum Source { case gguf(GGUFFile), safetensors(SafeTensorsCheckpoint, quantization: [String: Any]?) }
    public let source: Source
    public let path: String
    /// GGUF name → name in the file.
    private var names: [String: String] = [:]
    /// Whether Q/K rows are in GGUF's interleaved rotary order (GGUF files) or Hugging Face's.
    public let interleavedRotary: Bool
    /// How the quantized `Linear`s made from now on treat few-row inputs (see `Linear.precision`).
    public var quantizedPrecision: QuantizedMatmulPrecision = .int16Activations

    public init(gguf: GGUFFile) {
        source = .gguf(gguf)
        path = gguf.path
        for t in gguf.tensorInfos { names[t.name] = t.name }
        interleavedRotary = true
    }

    public init(safetensors url: URL, family: TensorNames.Family) throws {
        let ck = try SafeTensorsCheckpoint(url: url)
        var quant = ck.metadata["quantization"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let dir = (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true ? url : url.deletingLastPathComponent()
        if quant == nil, let d = try? Data(contentsOf: dir.appendingPathComponent("config.json")),
           let cfg = try? JSONSerialization.jsonObject(with: d) as? [String: Any] {
            quant = cfg["quantization"] as? [String: Any]
        }
        source = .safetensors(ck, quantization: quant)
        path = url.path
        for n in ck.names {
            if let g = TensorNames.ggufName(hf: n, family: family) { names[g] = n } else { names[n] = n }
        }
        interleavedRotary = false
    }

    public func contains(_ name: String) -> Bool { names[name] != nil }

    /// A tensor as float32 (dequantized when stored in blocks).
    public func tensor(_ name: String, shape: [Int]? = nil) throws -> Tensor {
        guard let stored = names[name] else { throw ZooError.missingTensor(name, in: path) }
        var t: Tensor
        switch source {
        case let .gguf(f): t = try f.tensor(named: stored).asType(.float32)
        case let .safetensors(ck, _): t = try ck.tensor(named: stored).asType(.float32)
        }
        // Small tensors (norms, biases) are copied so they do not keep the whole file mapped
        // once the large weights have been converted; large float32 ones stay borrowed.
        if t.nbytes < 1 << 20 { t = Tensor(t.toArray(Float.self), shape: t.shape) }
        if let shape, t.shape != shape { throw ZooError.tensorShape(name, expected: shape, actual: t.shape) }
        return t
    }

    public func optionalTensor(_ name: String, shape: [Int]? = nil) throws -> Tensor? {
        contains(name) ? try tensor(name, shape: shape) : nil
    }

    /// A weight matrix [outputs, inputs] (+ optional bias `<prefix>.bias`).
    public func linear(_ prefix: String, outputs: Int, inputs: Int) throws -> Linear {
        let weightName = prefix + ".weight"
        let bias = try optionalTensor(prefix + ".bias", shape: [outputs])
        guard let stored = names[weightName] else { throw ZooError.missingTensor(weightName, in: path) }
        switch source {
        case let .gguf(f):
            let info = f.info(named: stored)!
            guard info.shape == [outputs, inputs] else { throw ZooError.tensorShape(weightName, expected: [outputs, inputs], actual: info.shape) }
            if [.q4_0, .q4_1, .q8_0].contains(info.type) {
                let q = try f.withRawBytes(info) { try MLXAffine.fromGGML(info.type, $0, rows: outputs, columns: inputs) }
                var l = Linear(.affine(wq: Tensor(q.words, shape: [outputs, q.wordsPerRow]),
                                       scales: Self.compactScales(q.scales, shape: [outputs, q.groupsPerRow]),
                                       biases: Self.compactScales(q.biases, shape: [outputs, q.groupsPerRow]),
                                       groupSize: q.groupSize, bits: q.bits), bias: bias)
                l.precision = quantizedPrecision
                // Q8_0 and Q4_0 blocks are symmetric (value = d · (code − 2^(bits−1))): the
                // converted biases are exactly −2^(bits−1) · scales; checked, not assumed.
                let zero = -Float(1 << (q.bits - 1))
                l.symmetric = zip(q.scales, q.biases).allSatisfy { $0 * zero == $1 }
                return l
            }
            // float16 and bfloat16 matrices stay as stored (mapped from the file): the matmul
            // widens them as it reads them. Other block types are dequantized once (K-quants
            // have no exact affine form).
            let t = try f.tensor(named: stored)
            return Linear(.dense(Self.isHalf(t.dtype) ? t : t.asType(.float32)), bias: bias)
        case let .safetensors(ck, quant):
            let base = String(stored.dropLast(".weight".count))
            if ck.names.contains(base + ".scales") {
                var gs = quant?["group_size"] as? Int ?? 64, bits = quant?["bits"] as? Int ?? 4
                if let m = quant?[base] as? [String: Any] { gs = m["group_size"] as? Int ?? gs; bits = m["bits"] as? Int ?? bits }
                let wq = try ck.tensor(named: stored)
                guard wq.shape == [outputs, inputs * bits / 32] else {
                    throw ZooError.tensorShape(weightName, expected: [outputs, inputs * bits / 32], actual: wq.shape)
                }
                // Scales and biases stay in their stored float type: the kernels read float16
                // and bfloat16 directly (half the bytes per token of float32).
                let s = try Self.floatScales(ck.tensor(named: base + ".scales"))
                let b = try Self.floatScales(ck.tensor(named: base + ".biases"))
                guard s.shape == [outputs, inputs / gs] else { throw ZooError.tensorShape(base + ".scales", expected: [outputs, inputs / gs], actual: s.shape) }
                var l = Linear(.affine(wq: wq, scales: s, biases: b, groupSize: gs, bits: bits), bias: bias)
                l.precision = quantizedPrecision
                return l
            }
            let t = try ck.tensor(named: stored)
            if Self.isHalf(t.dtype) {
                guard t.shape == [outputs, inputs] else { throw ZooError.tensorShape(weightName, expected: [outputs, inputs], actual: t.shape) }
                return Linear(.dense(t), bias: bias)
            }
            return Linear(.dense(try tensor(weightName, shape: [outputs, inputs])), bias: bias)
        }
    }

    static func isHalf(_ d: DType) -> Bool { d == .float16 || d == .bfloat16 }

    /// Scales or biases converted from GGUF blocks (whose scales are float16): kept as float16
    /// when every value is exactly a float16, so each decoded token reads half the bytes.
    static func compactScales(_ v: [Float], shape: [Int]) -> Tensor {
        let full = Tensor(v, shape: shape)
        let half = full.asType(.float16)
        // (The Engine's conversion kernels: Swift's own Float16 conversion is a library call
        // per value on x86.)
        if all(half.asType(.float32) .== full).item(Bool.self) {
            eval(half)
            return half
        }
        return full
    }

    static func floatScales(_ t: Tensor) -> Tensor {
        [.float32, .float16, .bfloat16].contains(t.dtype) ? t : t.asType(.float32)
    }

    /// GGUF metadata (empty for safetensors).
    public var metadata: [String: GGUFValue] {
        if case let .gguf(f) = source { return f.metadata }
        return [:]
    }
}
