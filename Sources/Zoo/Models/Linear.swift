import Engine

/// A weight matrix [out, in] applied as x · Wᵀ (+ bias), stored dense or in MLX's affine
/// quantized layout (GGUF Q4_0/Q4_1/Q8_0 blocks are converted to it exactly at load).
public struct Linear: Sendable {
    public enum Storage: Sendable {
        case dense(Tensor)
        case affine(wq: Tensor, scales: Tensor, biases: Tensor, groupSize: Int, bits: Int)
    }

    public let storage: Storage
    public let bias: Tensor?
    public let outputs: Int
    public let inputs: Int

    public init(_ storage: Storage, bias: Tensor? = nil) {
        self.storage = storage
        self.bias = bias
        switch storage {
        case let .dense(w): (outputs, inputs) = (w.dim(0), w.dim(1))
        case let .affine(wq, _, _, _, bits): (outputs, inputs) = (wq.dim(0), wq.dim(1) * 32 / bits)
        }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var y: Tensor
        switch storage {
        case let .dense(w): y = matmul(x, w.T)
        case let .affine(wq, s, b, gs, bits):
            y = quantizedMatmul(x, wq, scales: s, biases: b, transpose: true, groupSize: gs, bits: bits)
        }
        if let bias { y = y + bias }
        return y
    }

    /// Rows of the matrix (an embedding lookup), dequantized.
    public func rows(_ ids: Tensor) -> Tensor {
        switch storage {
        case let .dense(w): return take(w, ids, axis: 0)
        case let .affine(wq, s, b, gs, bits):
            let flat = ids.reshaped([-1])
            let r = dequantize(take(wq, flat, axis: 0), scales: take(s, flat, axis: 0), biases: take(b, flat, axis: 0),
                               groupSize: gs, bits: bits)
            return r.reshaped(ids.shape + [inputs])
        }
    }

    public var isQuantized: Bool { if case .affine = storage { true } else { false } }

    /// Tensors to evaluate so the weights are resident.
    public var tensors: [Tensor] {
        var t: [Tensor]
        switch storage {
        case let .dense(w): t = [w]
        case let .affine(wq, s, b, _, _): t = [wq, s, b]
        }
        if let bias { t.append(bias) }
        return t
    }

    public var byteCount: Int { tensors.reduce(0) { $0 + $1.nbytes } }
}
