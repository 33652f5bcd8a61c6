import Foundation

// More of MLX's shape utilities: roll, flip, atleast1d/2d/3d, unflatten and edge padding.

/// Elements shifted by `shift` along `axis` (the flattened tensor when nil), wrapping around.
public func roll(_ x: Tensor, shift: Int, axis: Int? = nil) -> Tensor {
    guard let axis else { return roll(x.reshaped([-1]), shift: shift, axis: 0).reshaped(x.shape) }
    guard let a = normalizeAxis(axis, x.ndim, "roll") else { return .errorPlaceholder(x.dtype) }
    let n = x.shape[a]
    if n == 0 { return x }
    let s = ((shift % n) + n) % n
    if s == 0 { return x }
    var head = [TensorIndex](repeating: .slice(start: nil, stop: nil, step: 1), count: x.ndim), tail = head
    head[a] = .slice(start: n - s, stop: nil, step: 1)
    tail[a] = .slice(start: nil, stop: n - s, step: 1)
    return concatenated([x.index(head), x.index(tail)], axis: a)
}

/// Rolls along several axes at once.
public func roll(_ x: Tensor, shifts: [Int], axes: [Int]) -> Tensor {
    guard check(shifts.count == axes.count, "roll", "\(shifts.count) shifts for \(axes.count) axes") else { return .errorPlaceholder(x.dtype) }
    return zip(shifts, axes).reduce(x) { roll($0, shift: $1.0, axis: $1.1) }
}

/// Reverses the order of elements along `axes` (every axis when nil). A view.
public func flip(_ x: Tensor, axes: [Int]? = nil) -> Tensor {
    let all = Array(0..<x.ndim)
    guard let ax = normalizeAxes(axes ?? all, x.ndim, "flip") else { return .errorPlaceholder(x.dtype) }
    var items = [TensorIndex](repeating: .slice(start: nil, stop: nil, step: 1), count: x.ndim)
    for a in ax { items[a] = .slice(start: nil, stop: nil, step: -1) }
    return x.ndim == 0 ? x : x.index(items)
}

public func atleast1d(_ x: Tensor) -> Tensor { x.ndim >= 1 ? x : x.reshaped([1]) }
public func atleast2d(_ x: Tensor) -> Tensor {
    switch x.ndim {
    case 0: return x.reshaped([1, 1])
    case 1: return x.reshaped([1, x.dim(0)])
    default: return x
    }
}
public func atleast3d(_ x: Tensor) -> Tensor {
    switch x.ndim {
    case 0: return x.reshaped([1, 1, 1])
    case 1: return x.reshaped([1, x.dim(0), 1])
    case 2: return x.reshaped([x.dim(0), x.dim(1), 1])
    default: return x
    }
}

/// Splits `axis` into `shape` (one entry may be -1).
public func unflatten(_ x: Tensor, axis: Int, shape: [Int]) -> Tensor {
    let op = "unflatten"
    guard let a = normalizeAxis(axis, x.ndim, op),
          check(!shape.isEmpty && shape.filter({ $0 == -1 }).count <= 1 && shape.allSatisfy({ $0 >= -1 }), op,
                "shape \(shape) must be non-empty with at most one -1")
    else { return .errorPlaceholder(x.dtype) }
    let known = shape.filter { $0 != -1 }.reduce(1, *)
    let n = x.shape[a]
    var s = shape
    if let i = s.firstIndex(of: -1) {
        guard check(known > 0 && n % known == 0, op, "cannot unflatten axis \(axis) of size \(n) in \(fmt(x.shape)) into \(shape)")
        else { return .errorPlaceholder(x.dtype) }
        s[i] = n / known
    }
    guard check(s.reduce(1, *) == n, op, "cannot unflatten axis \(axis) of size \(n) in \(fmt(x.shape)) into \(shape)")
    else { return .errorPlaceholder(x.dtype) }
    return x.reshaped(Array(x.shape[..<a]) + s + Array(x.shape[(a + 1)...]))
}

/// How `padded` fills: a constant, or the edge values repeated.
public enum PadMode: String, Sendable { case constant, edge }

/// Padding with a mode; `.edge` repeats the border values.
public func padded(_ x: Tensor, widths: [(Int, Int)], mode: PadMode, value: Double = 0) -> Tensor {
    if mode == .constant { return padded(x, widths: widths, value: value) }
    guard check(widths.count == x.ndim || widths.count == 1, "pad", "\(widths.count) pad widths for a tensor of shape \(fmt(x.shape))"),
          check(widths.allSatisfy { $0.0 >= 0 && $0.1 >= 0 }, "pad", "pad widths must be non-negative")
    else { return .errorPlaceholder(x.dtype) }
    let w = widths.count == 1 ? [(Int, Int)](repeating: widths[0], count: x.ndim) : widths
    var r = x
    for (a, (lo, hi)) in w.enumerated() where lo > 0 || hi > 0 {
        let n = r.shape[a]
        guard check(n > 0, "pad", "edge padding needs a non-empty axis \(a) in \(fmt(x.shape))") else { return .errorPlaceholder(x.dtype) }
        var first = [TensorIndex](repeating: .slice(start: nil, stop: nil, step: 1), count: r.ndim), last = first
        first[a] = .slice(start: 0, stop: 1, step: 1)
        last[a] = .slice(start: n - 1, stop: n, step: 1)
        var parts: [Tensor] = []
        if lo > 0 { parts.append(repeated(r.index(first), count: lo, axis: a)) }
        parts.append(r)
        if hi > 0 { parts.append(repeated(r.index(last), count: hi, axis: a)) }
        r = concatenated(parts, axis: a)
    }
    return r
}

/// Coordinate grids from 1-D inputs; `indexing` "xy" (Cartesian, default) or "ij" (matrix).
public func meshgrid(_ arrays: [Tensor], indexing: String = "xy") -> [Tensor] {
    guard check(indexing == "xy" || indexing == "ij", "meshgrid", "indexing must be \"xy\" or \"ij\", got \"\(indexing)\"")
    else { return arrays }
    let flat = arrays.map { $0.reshaped([-1]) }
    var sizes = flat.map { $0.dim(0) }
    let swap = indexing == "xy" && flat.count >= 2
    if swap { sizes.swapAt(0, 1) }
    return flat.enumerated().map { i, t in
        var shape = [Int](repeating: 1, count: flat.count)
        var pos = i
        if swap && i < 2 { pos = 1 - i }
        shape[pos] = t.dim(0)
        return t.reshaped(shape).broadcast(to: sizes)
    }
}
