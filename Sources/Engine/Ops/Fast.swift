import Foundation

/// The mask of `Fast.scaledDotProductAttention`.
public enum AttentionMask: Sendable {
    /// Every query sees every key.
    case none
    /// Query i sees keys 0...i + (keys - queries) (aligned at the end, as MLX does).
    case causal
    /// Added to the scores before the softmax; broadcastable to [B, Hq, Lq, Lk]. A bool tensor
    /// keeps the scores where it is true (the others become -inf).
    case additive(Tensor)
}

/// Fused operations (one pass over the data on the CPU), as in `mlx.core.fast`.
public enum Fast {
    private static func floatType(_ op: String, _ tensors: [Tensor?]) -> DType? {
        var dt: DType?
        for t in tensors.compactMap({ $0 }) { dt = dt.map { promoteTypes($0, t.dtype) } ?? t.dtype }
        guard let d = dt, check([.float32, .float16, .bfloat16].contains(d), op,
                                "inputs must be float32, float16 or bfloat16, got \(tensors.compactMap { $0?.dtype.description }.joined(separator: ", "))")
        else { return nil }
        return d
    }

    private static func checkVector(_ op: String, _ what: String, _ v: Tensor?, _ x: Tensor) -> Bool {
        guard let v else { return true }
        return check(v.ndim == 1 && v.dim(0) == x.dim(-1), op,
                     "\(what) of shape \(fmt(v.shape)) must be 1-D with the size of the last axis of x \(fmt(x.shape))")
    }

    /// x / sqrt(mean(x², axis: -1) + eps) * weight.
    public static func rmsNorm(_ x: Tensor, weight: Tensor?, eps: Float) -> Tensor {
        let op = "rms_norm"
        guard check(x.ndim >= 1, op, "x must have at least one dimension, got shape \(fmt(x.shape))"),
              checkVector(op, "weight", weight, x),
              let dt = floatType(op, [x, weight]) else { return .errorPlaceholder(x.dtype) }
        let inputs = [x.asType(dt)] + (weight.map { [$0.asType(dt)] } ?? [])
        return Tensor(RMSNormPrimitive(eps: eps, hasWeight: weight != nil), inputs, shape: x.shape, dtype: dt)
    }

    /// silu(gate) · up = gate · sigmoid(gate) · up, the SwiGLU feed-forward's activation, in one
    /// pass (float32: bit for bit the composition's values; other types compute the composition).
    /// `gate` and `up` may be column slices of one stacked projection's output (no copy).
    public static func swiGLU(_ gate: Tensor, _ up: Tensor) -> Tensor {
        let op = "swiglu"
        guard check(gate.shape == up.shape, op, "gate \(fmt(gate.shape)) and up \(fmt(up.shape)) must have the same shape"),
              let dt = floatType(op, [gate, up]) else { return .errorPlaceholder(gate.dtype) }
        guard dt == .float32, gate.ndim >= 1 else { return gate * sigmoid(gate) * up }
        return Tensor(SwiGLUPrimitive(), [gate, up], shape: gate.shape, dtype: .float32)
    }

    /// `swiGLU(gate, up)` where `gateUp`'s last axis holds gate then up (a stacked gate/up
    /// projection's output): [..., 2n] → [..., n], read in place (one graph node instead of
    /// two slices and the product).
    public static func swiGLU(_ gateUp: Tensor) -> Tensor {
        let op = "swiglu"
        guard check(gateUp.ndim >= 1 && gateUp.dim(-1) % 2 == 0, op,
                    "gateUp must have an even last dimension (gate then up), got shape \(fmt(gateUp.shape))"),
              let dt = floatType(op, [gateUp]) else { return .errorPlaceholder(gateUp.dtype) }
        let n = gateUp.dim(-1) / 2
        guard dt == .float32 else {
            let halves = split(gateUp, indices: [n], axis: -1)
            return swiGLU(halves[0], halves[1])
        }
        return Tensor(SwiGLUPrimitive(packed: true), [gateUp], shape: Array(gateUp.shape.dropLast()) + [n], dtype: .float32)
    }

    /// (x - mean) / sqrt(var + eps) * weight + bias over the last axis.
    public static func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
        let op = "layer_norm"
        guard check(x.ndim >= 1, op, "x must have at least one dimension, got shape \(fmt(x.shape))"),
              checkVector(op, "weight", weight, x), checkVector(op, "bias", bias, x),
              let dt = floatType(op, [x, weight, bias]) else { return .errorPlaceholder(x.dtype) }
        var inputs = [x.asType(dt)]
        if let weight { inputs.append(weight.asType(dt)) }
        if let bias { inputs.append(bias.asType(dt)) }
        return Tensor(LayerNormPrimitive(eps: eps, hasWeight: weight != nil, hasBias: bias != nil), inputs,
                      shape: x.shape, dtype: dt)
    }

    /// Rotary positional encoding of x [B, *, T, D] over its first `dimensions` features.
    /// Positions are (offset + t) * scale; frequencies base^(-2i/dimensions), or 1/freqs[i]
    /// when `freqs` is given (then `base` must be nil).
    public static func rope(_ x: Tensor, dimensions: Int, traditional: Bool, base: Float?, scale: Float,
                            offset: Int, freqs: Tensor? = nil) -> Tensor {
        let op = "rope"
        guard check(x.ndim >= 3, op, "input must have at least 3 dimensions (B, *, T, D), got shape \(fmt(x.shape))"),
              check(dimensions > 0 && dimensions <= x.dim(-1) && dimensions % 2 == 0, op,
                    "dimensions \(dimensions) must be even, positive and at most the last axis of x \(fmt(x.shape))"),
              check((base == nil) != (freqs == nil), op, "exactly one of base and freqs must be given"),
              let dt = floatType(op, [x]) else { return .errorPlaceholder(x.dtype) }
        var inputs = [x]
        if let freqs {
            guard check(freqs.ndim == 1 && freqs.dim(0) == dimensions / 2, op,
                        "freqs of shape \(fmt(freqs.shape)) must have dimensions / 2 = \(dimensions / 2) elements")
            else { return .errorPlaceholder(dt) }
            inputs.append(freqs.asType(.float32))
        }
        return Tensor(RoPEPrimitive(dims: dimensions, traditional: traditional, base: base, scale: scale, offset: offset),
                      inputs, shape: x.shape, dtype: dt)
    }

    /// softmax(q·kᵀ · scale + mask) · v for q [B, Hq, Lq, D], k and v [B, Hk, Lk, D]
    /// (Hq a multiple of Hk: grouped-query heads share their key/value head).
    public static func scaledDotProductAttention(queries: Tensor, keys: Tensor, values: Tensor, scale: Float,
                                                 mask: AttentionMask = .none) -> Tensor {
        let op = "scaled_dot_product_attention"
        let q = queries, k = keys, v = values
        var shapes: String { "queries \(fmt(q.shape)), keys \(fmt(k.shape)), values \(fmt(v.shape))" }  // built only for an error message
        guard check(q.ndim == 4 && k.ndim == 4 && v.ndim == 4, op, "queries, keys and values must be 4-D [B, H, L, D]; got \(shapes)"),
              check(q.dim(0) == k.dim(0) && k.dim(0) == v.dim(0), op, "batch sizes differ: \(shapes)"),
              check(k.dim(1) == v.dim(1) && k.dim(1) > 0 && q.dim(1) % k.dim(1) == 0, op,
                    "query heads must be a multiple of key/value heads (which must agree): \(shapes)"),
              check(k.dim(2) == v.dim(2), op, "keys and values have different lengths: \(shapes)"),
              check(q.dim(3) == k.dim(3) && q.dim(3) == v.dim(3), op, "head dimensions differ: \(shapes)"),
              let dt = floatType(op, [q, k, v]) else { return .errorPlaceholder(q.dtype) }
        let full = [q.dim(0), q.dim(1), q.dim(2), k.dim(2)]
        var inputs = [q.asType(.float32), k.asType(.float32), v.asType(.float32)]
        var kind: Int32 = 0
        switch mask {
        case .none: break
        case .causal: kind = 1
        case .additive(let m):
            let fits = m.ndim <= 4 && m.shape.reversed().enumerated().allSatisfy { i, d in d == 1 || d == full[3 - i] }
            guard check(fits, op, "mask of shape \(fmt(m.shape)) does not broadcast to the scores \(fmt(full)) [B, Hq, Lq, Lk]")
            else { return .errorPlaceholder(dt) }
            let additive = m.dtype == .bool
                ? which(m, Tensor(Float(0)), Tensor(-Float.infinity)) : m.asType(.float32)
            inputs.append(additive.broadcast(to: full))
            kind = 2
        }
        let r = Tensor(SDPAPrimitive(scale: scale, maskKind: kind), inputs, shape: q.shape, dtype: .float32)
        return r.asType(dt)
    }
}
