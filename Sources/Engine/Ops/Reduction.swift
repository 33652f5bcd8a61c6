import Foundation

private func reduceAxes(_ x: Tensor, _ axes: [Int]?, _ op: String) -> [Int]? {
    guard let axes else { return Array(0..<x.ndim) }
    return normalizeAxes(axes, x.ndim, op)?.sorted()
}

private func reduced(_ x: Tensor, _ op: ReduceOp, _ axes: [Int]?, _ keepDims: Bool, dtype: DType, name: String) -> Tensor {
    guard let ax = reduceAxes(x, axes, name) else { return .errorPlaceholder(dtype) }
    var kept = x.shape
    for a in ax { kept[a] = 1 }
    if (op == .max || op == .min) && ax.contains(where: { x.shape[$0] == 0 }) {
        reportError(.invalidArgument(op: name, message: "cannot reduce over a zero-size axis of shape \(fmt(x.shape)) (no identity)"))
        return .errorPlaceholder(dtype)
    }
    let r = ax.isEmpty ? x.asType(dtype) : Tensor(ReducePrimitive(op: op, axes: ax), [x], shape: kept, dtype: dtype)
    return keepDims ? r : r.reshaped(x.shape.indices.filter { !ax.contains($0) }.map { x.shape[$0] })
}

/// sum/prod result type: small integers widen to 32 bits, as in MLX.
private func accumulationType(_ d: DType) -> DType {
    switch d {
    case .bool, .int8, .int16: return .int32
    case .uint8, .uint16: return .uint32
    default: return d
    }
}

public func sum(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    reduced(x, .sum, axes, keepDims, dtype: accumulationType(x.dtype), name: "sum")
}
public func prod(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    reduced(x, .prod, axes, keepDims, dtype: accumulationType(x.dtype), name: "prod")
}
public func max(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    reduced(x, .max, axes, keepDims, dtype: x.dtype, name: "max")
}
public func min(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    reduced(x, .min, axes, keepDims, dtype: x.dtype, name: "min")
}
public func all(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    reduced(x, .all, axes, keepDims, dtype: .bool, name: "all")
}
public func any(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    reduced(x, .any, axes, keepDims, dtype: .bool, name: "any")
}

public func mean(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    guard let ax = reduceAxes(x, axes, "mean") else { return .errorPlaceholder() }
    let dt: DType = x.dtype.isInexact ? x.dtype : .float32
    let n = ax.map { x.shape[$0] }.reduce(1, *)
    return sum(x.asType(dt), axes: ax, keepDims: keepDims) / Double(n)
}

/// Variance with `ddof` delta degrees of freedom.
public func variance(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false, ddof: Int = 0) -> Tensor {
    guard let ax = reduceAxes(x, axes, "var") else { return .errorPlaceholder() }
    let dt: DType = x.dtype.isInexact ? x.dtype : .float32
    let xf = x.asType(dt)
    let n = ax.map { x.shape[$0] }.reduce(1, *)
    let m = mean(xf, axes: ax, keepDims: true)
    let d = xf - m
    let ss = sum(d * d, axes: ax, keepDims: keepDims)
    return ss / Double(Swift.max(n - ddof, 0))
}
public func std(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false, ddof: Int = 0) -> Tensor {
    sqrt(variance(x, axes: axes, keepDims: keepDims, ddof: ddof))
}

/// log(sum(exp(x))) computed stably.
public func logSumExp(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    guard let ax = reduceAxes(x, axes, "logsumexp") else { return .errorPlaceholder() }
    let xf = x.dtype.isInexact ? x : x.asType(.float32)
    if ax.isEmpty { return xf }
    let m = max(xf, axes: ax, keepDims: true)
    // Infinite maxima would give inf - inf; shift by zero there instead.
    let shift = which(isInf(m), zerosLike(m), m)
    let s = log(sum(exp(xf - shift), axes: ax, keepDims: true)) + shift
    return keepDims ? s : s.reshaped(x.shape.indices.filter { !ax.contains($0) }.map { x.shape[$0] })
}

public func argMax(_ x: Tensor, axis: Int? = nil, keepDims: Bool = false) -> Tensor { argReduce(x, axis, keepDims, isMax: true) }
public func argMin(_ x: Tensor, axis: Int? = nil, keepDims: Bool = false) -> Tensor { argReduce(x, axis, keepDims, isMax: false) }

private func argReduce(_ x: Tensor, _ axis: Int?, _ keepDims: Bool, isMax: Bool) -> Tensor {
    let name = isMax ? "argmax" : "argmin"
    guard let axis else {
        let r = argReduce(x.reshaped([-1]), 0, false, isMax: isMax)
        return keepDims ? r.reshaped([Int](repeating: 1, count: x.ndim)) : r
    }
    guard let a = normalizeAxis(axis, x.ndim, name) else { return .errorPlaceholder(.uint32) }
    guard check(x.shape[a] > 0, name, "cannot reduce a zero-size axis of shape \(fmt(x.shape))") else { return .errorPlaceholder(.uint32) }
    var kept = x.shape
    kept[a] = 1
    let r = Tensor(ArgReducePrimitive(isMax: isMax, axis: a), [x], shape: kept, dtype: .uint32)
    return keepDims ? r : r.squeezed(axes: [a])
}

public func softmax(_ x: Tensor, axis: Int = -1) -> Tensor { softmaxImpl(x, axes: [axis], log: false) }
public func softmax(_ x: Tensor, axes: [Int]) -> Tensor { softmaxImpl(x, axes: axes, log: false) }
public func logSoftmax(_ x: Tensor, axis: Int = -1) -> Tensor { softmaxImpl(x, axes: [axis], log: true) }

private func softmaxImpl(_ x: Tensor, axes: [Int], log: Bool) -> Tensor {
    let name = log ? "logsoftmax" : "softmax"
    guard let ax = normalizeAxes(axes, x.ndim, name)?.sorted() else { return .errorPlaceholder() }
    let xf = x.dtype.isInexact ? x : x.asType(.float32)
    if ax.count != 1 {
        if log { return xf - logSumExp(xf, axes: ax, keepDims: true) }
        let m = max(xf, axes: ax, keepDims: true)
        let e = exp(xf - m)
        return e / sum(e, axes: ax, keepDims: true)
    }
    let a = ax[0]
    if a == x.ndim - 1 {
        return Tensor(SoftmaxPrimitive(log: log), [xf], shape: x.shape, dtype: xf.dtype)
    }
    let moved = xf.swappedAxes(a, -1)
    let r = Tensor(SoftmaxPrimitive(log: log), [moved], shape: moved.shape, dtype: xf.dtype)
    return r.swappedAxes(a, -1)
}

extension Tensor {
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { Engine.sum(self, axes: axes, keepDims: keepDims) }
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { Engine.sum(self, axes: [axis], keepDims: keepDims) }
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { Engine.mean(self, axes: axes, keepDims: keepDims) }
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { Engine.mean(self, axes: [axis], keepDims: keepDims) }
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { Engine.max(self, axes: axes, keepDims: keepDims) }
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { Engine.min(self, axes: axes, keepDims: keepDims) }
    public func prod(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { Engine.prod(self, axes: axes, keepDims: keepDims) }
    public func argMax(axis: Int? = nil, keepDims: Bool = false) -> Tensor { Engine.argMax(self, axis: axis, keepDims: keepDims) }
    public func argMin(axis: Int? = nil, keepDims: Bool = false) -> Tensor { Engine.argMin(self, axis: axis, keepDims: keepDims) }
    public func all(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { Engine.all(self, axes: axes, keepDims: keepDims) }
    public func any(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { Engine.any(self, axes: axes, keepDims: keepDims) }
    public func variance(axes: [Int]? = nil, keepDims: Bool = false, ddof: Int = 0) -> Tensor { Engine.variance(self, axes: axes, keepDims: keepDims, ddof: ddof) }
}
