import Foundation

// The scatter family along one axis (PyTorch's scatter/scatter_add/scatter_reduce, MLX's
// put_along_axis and the reductions behind `array.at`): the counterparts of `takeAlong`.

private func scatterAlong(_ x: Tensor, _ indices: Tensor, _ updates: Tensor, axis: Int, _ reduce: ScatterReduce) -> Tensor {
    let op = reduce == .set ? "put_along_axis" : "scatter_\(reduce.rawValue)"
    guard check(indices.dtype.isInteger, op, "indices must have an integer dtype, got \(indices.dtype)"),
          let a = normalizeAxis(axis, x.ndim, op),
          check(indices.ndim == x.ndim, op, "indices of shape \(fmt(indices.shape)) must have the rank of x \(fmt(x.shape))")
    else { return .errorPlaceholder(x.dtype) }
    // Indices broadcast against x on every axis but `axis`; updates broadcast to that shape.
    var target = x.shape
    target[a] = indices.shape[a]
    let s = quietBroadcast(target, indices.shape)
    guard check(s != nil && s!.enumerated().allSatisfy { $0.offset == a || $0.element == x.shape[$0.offset] }, op,
                "indices of shape \(fmt(indices.shape)) do not broadcast against x \(fmt(x.shape)) off axis \(axis)"),
          let s,
          check(quietBroadcast(updates.shape, s) == s, op,
                "updates of shape \(fmt(updates.shape)) do not broadcast to the index shape \(fmt(s))")
    else { return .errorPlaceholder(x.dtype) }
    return Tensor(ScatterAxisPrimitive(reduce: reduce, axis: a),
                  [x, indices.broadcast(to: s), updates.asType(x.dtype).broadcast(to: s)], shape: x.shape, dtype: x.dtype)
}

/// Copy of x with updates written at `indices` along `axis` (the last write wins for repeats).
public func scatter(_ x: Tensor, indices: Tensor, updates: Tensor, axis: Int) -> Tensor {
    scatterAlong(x, indices, updates, axis: axis, .set)
}
/// Copy of x with updates added at `indices` along `axis` (repeated indices accumulate).
public func scatterAdd(_ x: Tensor, indices: Tensor, updates: Tensor, axis: Int) -> Tensor {
    scatterAlong(x, indices, updates, axis: axis, .add)
}
public func scatterProd(_ x: Tensor, indices: Tensor, updates: Tensor, axis: Int) -> Tensor {
    scatterAlong(x, indices, updates, axis: axis, .prod)
}
public func scatterMax(_ x: Tensor, indices: Tensor, updates: Tensor, axis: Int) -> Tensor {
    scatterAlong(x, indices, updates, axis: axis, .max)
}
public func scatterMin(_ x: Tensor, indices: Tensor, updates: Tensor, axis: Int) -> Tensor {
    scatterAlong(x, indices, updates, axis: axis, .min)
}

/// NumPy broadcasting of two shapes, or nil (no error reported).
func quietBroadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
    }
    return out
}
