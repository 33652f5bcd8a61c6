import Engine

/// A weight matrix [out, in] applied as x · Wᵀ (+ bias), stored dense (float32, or float16 /
/// bfloat16 as the file holds them, widened by the matmul as it reads them) or in MLX's affine
/// quantized layout (GGUF Q4_0/Q4_1/Q8_0 blocks are converted to it exactly at load).
public struct Linear: Sendable {
    public enum Storage: Sendable {
        case dense(Tensor)
        case affine(wq: Tensor, scales: Tensor, biases: Tensor, groupSize: Int, bits: Int)
    }

    public let storage: Storage
    public let bias: Tensor?
    /// How quantized weights meet few-row inputs (decoding): int16 activations by default, the
    /// fast path whose error (≤ 2^-16 of each group's largest |x|) is far below the weights'
    /// own quantization error; `.exact` reproduces MLX's float arithmetic.
    public var precision: QuantizedMatmulPrecision = .int16Activations
    /// Quantized storage whose biases are −2^(bits−1) · scales (checked when loaded from GGUF
    /// Q8_0 / Q4_0 blocks): decoding then reads the scales alone.
    public var symmetric = false
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
            y = quantizedMatmul(x, wq, scales: s, biases: b, transpose: true, groupSize: gs, bits: bits,
                                precision: precision, symmetric: symmetric)
        }
        if let bias { y = y + bias }
        return y
    }

    /// Rows of the matrix (an embedding lookup), dequantized.
    public func rows(_ ids: Tensor) -> Tensor {
        switch storage {
        case let .dense(w):
            let r = take(w, ids, axis: 0)
            return r.dtype == .float32 ? r : r.asType(.float32)
        case let .affine(wq, s, b, gs, bits):
            let flat = ids.reshaped([-1])
            // float32 arithmetic whatever the stored scale type (half-precision products would
            // round each weight once more).
            let r = dequantize(take(wq, flat, axis: 0), scales: take(s, flat, axis: 0).asType(.float32),
                               biases: take(b, flat, axis: 0).asType(.float32),
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

extension Linear {
    /// Several matrices with the same inputs stacked into one [Σ outputs, inputs] matrix, so one
    /// pass over x computes them all (split the result with `split(_:sizes:)`); nil when their
    /// storage differs.
    static func stacked(_ parts: [Linear]) -> Linear? {
        guard let first = parts.first, parts.allSatisfy({ $0.inputs == first.inputs }) else { return nil }
        let bias: Tensor?
        if parts.allSatisfy({ $0.bias != nil }) {
            bias = concatenated(parts.map { $0.bias! }, axis: 0)
        } else if parts.allSatisfy({ $0.bias == nil }) {
            bias = nil
        } else { return nil }
        switch first.storage {
        case .dense:
            var ws: [Tensor] = []
            for p in parts { guard case let .dense(w) = p.storage else { return nil }; ws.append(w) }
            return Linear(.dense(concatenated(ws, axis: 0)), bias: bias)
        case let .affine(_, _, _, gs0, bits0):
            var q: [Tensor] = [], s: [Tensor] = [], b: [Tensor] = []
            for p in parts {
                guard case let .affine(wq, sc, bi, gs, bits) = p.storage, gs == gs0, bits == bits0 else { return nil }
                q.append(wq); s.append(sc); b.append(bi)
            }
            var l = Linear(.affine(wq: concatenated(q, axis: 0), scales: concatenated(s, axis: 0),
                                   biases: concatenated(b, axis: 0), groupSize: gs0, bits: bits0), bias: bias)
            l.precision = first.precision
            l.symmetric = parts.allSatisfy(\.symmetric)
            return l
        }
    }

    /// Splits the last axis of a stacked layer's output into the parts' widths (views).
    static func split(_ y: Tensor, sizes: [Int]) -> [Tensor] {
        var bounds: [Int] = [], end = 0
        for n in sizes.dropLast() { end += n; bounds.append(end) }
        return Engine.split(y, indices: bounds, axis: -1)
    }
}
