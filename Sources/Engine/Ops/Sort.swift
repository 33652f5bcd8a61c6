import Foundation

// Sorting, selection and scans along one axis. The primitives work on the last axis: the
// ops move the axis there (a view) and back.

private func alongLast(_ x: Tensor, _ axis: Int, _ op: String, _ body: (Tensor) -> Tensor) -> Tensor? {
    guard let a = normalizeAxis(axis, x.ndim, op) else { return nil }
    let last = x.ndim - 1
    if a == last { return body(x) }
    return body(x.movedAxis(source: a, destination: last)).movedAxis(source: last, destination: a)
}

/// Values sorted ascending along `axis` (nil: the flattened tensor); NaN last.
public func sort(_ x: Tensor, axis: Int? = -1) -> Tensor {
    guard let axis else { return sort(x.reshaped([-1]), axis: 0) }
    guard x.ndim > 0 || check(false, "sort", "cannot sort a scalar along axis \(axis)") else { return .errorPlaceholder(x.dtype) }
    return alongLast(x, axis, "sort") { Tensor(SortPrimitive(arg: false), [$0], shape: $0.shape, dtype: $0.dtype) }
        ?? .errorPlaceholder(x.dtype)
}

/// Indices (uint32) that sort `x` along `axis`; stable (equal values keep their order).
public func argSort(_ x: Tensor, axis: Int? = -1) -> Tensor {
    guard let axis else { return argSort(x.reshaped([-1]), axis: 0) }
    guard x.ndim > 0 || check(false, "argsort", "cannot sort a scalar along axis \(axis)") else { return .errorPlaceholder(.uint32) }
    return alongLast(x, axis, "argsort") { Tensor(SortPrimitive(arg: true), [$0], shape: $0.shape, dtype: .uint32) }
        ?? .errorPlaceholder(.uint32)
}

private func checkKth(_ x: Tensor, _ kth: Int, _ axis: Int, _ op: String) -> Int? {
    guard let a = normalizeAxis(axis, x.ndim, op) else { return nil }
    let n = x.shape[a]
    guard check(kth >= -n && kth < n, op, "kth \(kth) is out of range for axis \(axis) of size \(n) in shape \(fmt(x.shape))")
    else { return nil }
    return a
}

/// A copy of x where the element at `kth` along `axis` is the one a sort would put there,
/// smaller-or-equal elements before it and greater-or-equal after it (this implementation
/// returns them sorted).
public func partition(_ x: Tensor, kth: Int, axis: Int? = -1) -> Tensor {
    guard let axis else { return partition(x.reshaped([-1]), kth: kth, axis: 0) }
    guard x.ndim > 0, checkKth(x, kth, axis, "partition") != nil else {
        if x.ndim == 0 { _ = check(false, "partition", "cannot partition a scalar") }
        return .errorPlaceholder(x.dtype)
    }
    return sort(x, axis: axis)
}

/// Indices that partition x around `kth` (see `partition`).
public func argPartition(_ x: Tensor, kth: Int, axis: Int? = -1) -> Tensor {
    guard let axis else { return argPartition(x.reshaped([-1]), kth: kth, axis: 0) }
    guard x.ndim > 0, checkKth(x, kth, axis, "argpartition") != nil else {
        if x.ndim == 0 { _ = check(false, "argpartition", "cannot partition a scalar") }
        return .errorPlaceholder(.uint32)
    }
    return argSort(x, axis: axis)
}

/// The `k` largest values along `axis` (nil: flattened), in ascending order.
public func topK(_ x: Tensor, k: Int, axis: Int? = -1) -> Tensor {
    guard let axis else { return topK(x.reshaped([-1]), k: k, axis: 0) }
    guard x.ndim > 0 || check(false, "topk", "cannot take the top k of a scalar") else { return .errorPlaceholder(x.dtype) }
    guard let a = normalizeAxis(axis, x.ndim, "topk") else { return .errorPlaceholder(x.dtype) }
    let n = x.shape[a]
    guard check(k >= 1 && k <= n, "topk", "k \(k) must be in 1...\(n) for axis \(axis) of shape \(fmt(x.shape))")
    else { return .errorPlaceholder(x.dtype) }
    return alongLast(x, a, "topk") { t in
        var shape = t.shape
        shape[shape.count - 1] = k
        return Tensor(TopKPrimitive(k: k), [t], shape: shape, dtype: t.dtype)
    } ?? .errorPlaceholder(x.dtype)
}

// MARK: - Scans

private func scan(_ x: Tensor, _ op: ScanOp, axis: Int?, reverse: Bool, inclusive: Bool, name: String) -> Tensor {
    guard let axis else { return scan(x.reshaped([-1]), op, axis: 0, reverse: reverse, inclusive: inclusive, name: name) }
    var dt = x.dtype
    if op == .sum && dt == .bool { dt = .int32 }
    if op == .logaddexp && !dt.isInexact { dt = .float32 }
    guard check(!(op == .logaddexp && dt == .complex64), name, "complex64 is not supported") else { return .errorPlaceholder(dt) }
    guard x.ndim > 0 || check(false, name, "cannot scan a scalar along axis \(axis)") else { return .errorPlaceholder(dt) }
    let input = x.asType(dt)
    return alongLast(input, axis, name) {
        Tensor(ScanPrimitive(op: op, reverse: reverse, inclusive: inclusive), [$0], shape: $0.shape, dtype: dt)
    } ?? .errorPlaceholder(dt)
}

/// Cumulative sum along `axis` (nil: flattened); bool sums to int32.
public func cumsum(_ x: Tensor, axis: Int? = nil, reverse: Bool = false, inclusive: Bool = true) -> Tensor {
    scan(x, .sum, axis: axis, reverse: reverse, inclusive: inclusive, name: "cumsum")
}
public func cumprod(_ x: Tensor, axis: Int? = nil, reverse: Bool = false, inclusive: Bool = true) -> Tensor {
    scan(x, .prod, axis: axis, reverse: reverse, inclusive: inclusive, name: "cumprod")
}
public func cummax(_ x: Tensor, axis: Int? = nil, reverse: Bool = false, inclusive: Bool = true) -> Tensor {
    scan(x, .max, axis: axis, reverse: reverse, inclusive: inclusive, name: "cummax")
}
public func cummin(_ x: Tensor, axis: Int? = nil, reverse: Bool = false, inclusive: Bool = true) -> Tensor {
    scan(x, .min, axis: axis, reverse: reverse, inclusive: inclusive, name: "cummin")
}
/// log(cumsum(exp(x))) computed stably; integers give float32.
public func logCumSumExp(_ x: Tensor, axis: Int? = nil, reverse: Bool = false, inclusive: Bool = true) -> Tensor {
    scan(x, .logaddexp, axis: axis, reverse: reverse, inclusive: inclusive, name: "logcumsumexp")
}

extension Tensor {
    public func sorted(axis: Int? = -1) -> Tensor { Engine.sort(self, axis: axis) }
    public func argSort(axis: Int? = -1) -> Tensor { Engine.argSort(self, axis: axis) }
    public func cumsum(axis: Int? = nil, reverse: Bool = false, inclusive: Bool = true) -> Tensor {
        Engine.cumsum(self, axis: axis, reverse: reverse, inclusive: inclusive)
    }
}
