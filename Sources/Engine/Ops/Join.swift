import Foundation

public func concatenated(_ xs: [Tensor], axis: Int = 0) -> Tensor {
    guard check(!xs.isEmpty, "concatenate", "needs at least one tensor") else { return .errorPlaceholder() }
    let nd = xs[0].ndim
    guard check(nd > 0, "concatenate", "cannot concatenate 0-d tensors"),
          let a = normalizeAxis(axis, nd, "concatenate") else { return .errorPlaceholder(xs[0].dtype) }
    var dt = xs[0].dtype
    for x in xs.dropFirst() { dt = promoteTypes(dt, x.dtype) }
    var shape = xs[0].shape
    shape[a] = 0
    for x in xs {
        var s = x.shape, t = xs[0].shape
        guard check(x.ndim == nd, "concatenate", "all tensors need the same rank: \(xs.map { fmt($0.shape) }.joined(separator: ", "))") else { return .errorPlaceholder(dt) }
        s[a] = 0; t[a] = 0
        guard check(s == t, "concatenate", "shapes \(xs.map { fmt($0.shape) }.joined(separator: ", ")) differ outside axis \(axis)") else { return .errorPlaceholder(dt) }
        shape[a] += x.shape[a]
    }
    if xs.count == 1 { return xs[0].asType(dt) }
    return Tensor(ConcatenatePrimitive(axis: a), xs.map { $0.asType(dt) }, shape: shape, dtype: dt)
}

public func stacked(_ xs: [Tensor], axis: Int = 0) -> Tensor {
    guard check(!xs.isEmpty, "stack", "needs at least one tensor") else { return .errorPlaceholder() }
    guard check(xs.allSatisfy { $0.shape == xs[0].shape }, "stack", "all shapes must be equal: \(xs.map { fmt($0.shape) }.joined(separator: ", "))")
    else { return .errorPlaceholder(xs[0].dtype) }
    guard let a = normalizeAxis(axis, xs[0].ndim + 1, "stack") else { return .errorPlaceholder(xs[0].dtype) }
    return concatenated(xs.map { $0.expandedDimensions(axis: a) }, axis: a)
}

/// Splits into `parts` equal pieces along `axis`.
public func split(_ x: Tensor, parts: Int, axis: Int = 0) -> [Tensor] {
    guard let a = normalizeAxis(axis, x.ndim, "split") else { return [.errorPlaceholder(x.dtype)] }
    guard check(parts > 0 && x.shape[a] % parts == 0, "split",
                "axis \(axis) of size \(x.shape[a]) cannot be split into \(parts) equal parts") else { return [.errorPlaceholder(x.dtype)] }
    let n = x.shape[a] / parts
    return split(x, indices: (1..<parts).map { $0 * n }, axis: a)
}

/// Splits at the given indices along `axis`.
public func split(_ x: Tensor, indices: [Int], axis: Int = 0) -> [Tensor] {
    guard let a = normalizeAxis(axis, x.ndim, "split") else { return [.errorPlaceholder(x.dtype)] }
    let n = x.shape[a]
    var bounds = [0] + indices.map { Swift.min(Swift.max($0 < 0 ? $0 + n : $0, 0), n) } + [n]
    for i in 1..<bounds.count { bounds[i] = Swift.max(bounds[i], bounds[i - 1]) }
    // Slice views built directly (the general subscript's parsing costs more than the op:
    // decoders split every layer's stacked projections this way).
    let ones = [Int](repeating: 1, count: x.ndim)
    return (0..<(bounds.count - 1)).map { i in
        if bounds[i] == 0 && bounds[i + 1] == n { return x }
        var start = [Int](repeating: 0, count: x.ndim), shape = x.shape
        start[a] = bounds[i]
        shape[a] = bounds[i + 1] - bounds[i]
        return Tensor(SlicePrimitive(start: start, step: ones, shape: shape), [x], shape: shape, dtype: x.dtype)
    }
}

/// Constant padding: `widths[i] = (before, after)` per axis.
public func padded(_ x: Tensor, widths: [(Int, Int)], value: Double = 0) -> Tensor {
    guard check(widths.count == x.ndim || widths.count == 1, "pad", "\(widths.count) pad widths for a tensor of shape \(fmt(x.shape))"),
          check(widths.allSatisfy { $0.0 >= 0 && $0.1 >= 0 }, "pad", "pad widths must be non-negative")
    else { return .errorPlaceholder(x.dtype) }
    let w = widths.count == 1 ? [(Int, Int)](repeating: widths[0], count: x.ndim) : widths
    let shape = zip(x.shape, w).map { $0 + $1.0 + $1.1 }
    let base = full(shape, Tensor([value], shape: []), dtype: x.dtype)
    return Tensor(SliceUpdatePrimitive(start: w.map(\.0), step: [Int](repeating: 1, count: x.ndim), shape: x.shape),
                  [base, x], shape: shape, dtype: x.dtype)
}
public func padded(_ x: Tensor, width: Int, value: Double = 0) -> Tensor {
    padded(x, widths: [(width, width)], value: value)
}

/// Repeats the whole tensor `reps` times per axis.
public func tiled(_ x: Tensor, _ reps: [Int]) -> Tensor {
    guard check(reps.allSatisfy { $0 >= 0 }, "tile", "repetitions must be non-negative, got \(reps)") else { return .errorPlaceholder(x.dtype) }
    let nd = Swift.max(x.ndim, reps.count)
    let shape = [Int](repeating: 1, count: nd - x.ndim) + x.shape
    let r = [Int](repeating: 1, count: nd - reps.count) + reps
    // [r0, s0, r1, s1, ...] broadcast then merged.
    var expanded: [Int] = [], target: [Int] = []
    for i in 0..<nd { expanded += [1, shape[i]]; target += [r[i], shape[i]] }
    return x.reshaped(expanded).broadcast(to: target).reshaped(zip(r, shape).map { $0 * $1 })
}

/// Repeats each element `count` times along `axis` (flattened when nil).
public func repeated(_ x: Tensor, count: Int, axis: Int? = nil) -> Tensor {
    guard check(count >= 0, "repeat", "count must be non-negative, got \(count)") else { return .errorPlaceholder(x.dtype) }
    guard let axis else { return repeated(x.reshaped([-1]), count: count, axis: 0) }
    guard let a = normalizeAxis(axis, x.ndim, "repeat") else { return .errorPlaceholder(x.dtype) }
    var s = x.shape
    s.insert(1, at: a + 1)
    var t = s
    t[a + 1] = count
    var out = x.shape
    out[a] *= count
    return x.reshaped(s).broadcast(to: t).reshaped(out)
}

/// A view with explicit shape, strides and offset (elements) over x's data; copies x first
/// when x is not contiguous, as MLX does.
public func asStrided(_ x: Tensor, shape: [Int], strides: [Int], offset: Int = 0) -> Tensor {
    guard check(shape.count == strides.count, "as_strided", "shape \(fmt(shape)) and strides \(strides) differ in length")
    else { return .errorPlaceholder(x.dtype) }
    var hi = offset, lo = offset
    for (n, s) in zip(shape, strides) where n > 0 { if s > 0 { hi += (n - 1) * s } else { lo += (n - 1) * s } }
    guard check(shape.contains(0) || (lo >= 0 && hi < Swift.max(x.size, 1)), "as_strided",
                "view of shape \(fmt(shape)) with strides \(strides) reads outside a tensor of \(x.size) elements")
    else { return .errorPlaceholder(x.dtype) }
    return Tensor(AsStridedPrimitive(shape: shape, strides: strides, offset: offset), [x], shape: shape, dtype: x.dtype)
}

struct AsStridedPrimitive: Primitive {
    let shape: [Int], strides: [Int], offset: Int
    var name: String { "as_strided" }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let c = contiguousData(inputs[0])
        return [c.view(offset: c.offset + offset, shape: shape, strides: strides)]
    }
}

extension Tensor {
    public func tiled(_ reps: [Int]) -> Tensor { Engine.tiled(self, reps) }
    public func repeated(count: Int, axis: Int? = nil) -> Tensor { Engine.repeated(self, count: count, axis: axis) }
}
