import Foundation

// MARK: - View primitives (no copy)

/// Broadcast view: stride 0 along expanded dims.
struct BroadcastPrimitive: Primitive {
    let shape: [Int]
    var name: String { "broadcast" }
    func isEquivalent(to other: any Primitive) -> Bool { (other as? BroadcastPrimitive)?.shape == shape }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let x = inputs[0]
        let lead = shape.count - x.ndim
        var strides = [Int](repeating: 0, count: shape.count)
        for i in 0..<x.ndim where x.shape[i] == shape[lead + i] { strides[lead + i] = x.strides[i] }
        return [x.view(offset: x.offset, shape: shape, strides: strides)]
    }
}

/// Reshape: a view of contiguous data, a copy otherwise.
struct ReshapePrimitive: Primitive {
    let shape: [Int]
    var name: String { "reshape" }
    func isEquivalent(to other: any Primitive) -> Bool { (other as? ReshapePrimitive)?.shape == shape }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let x = inputs[0]
        if let strides = reshapedStrides(x, shape) {
            return [x.view(offset: x.offset, shape: shape, strides: strides)]
        }
        let c = copyContiguous(x, to: x.dtype)
        return [c.view(offset: 0, shape: shape, strides: rowMajorStrides(shape))]
    }
}

/// Strides for viewing `x` with `shape` without copying, when possible
/// (row-contiguous data, or dims that only split/merge contiguous groups).
func reshapedStrides(_ x: ArrayData, _ shape: [Int]) -> [Int]? {
    if x.isRowContiguous && !x.strides.contains(0) { return rowMajorStrides(shape) }
    if x.count == 0 { return rowMajorStrides(shape) }
    // General case: match groups of old dims to groups of new dims (NumPy's algorithm).
    let old = zip(x.shape, x.strides).filter { $0.0 != 1 }
    let oldShape = old.map(\.0), oldStrides = old.map(\.1)
    var newStrides = [Int](repeating: 0, count: shape.count)
    var oi = 0, ni = 0
    let newNonOne = shape.enumerated().filter { $0.element != 1 }.map(\.offset)
    var nk = 0
    while oi < oldShape.count && nk < newNonOne.count {
        var op = oldShape[oi], np = shape[newNonOne[nk]]
        let oStart = oi, nStart = nk
        while op != np {
            if op < np { oi += 1; if oi >= oldShape.count { return nil }; op *= oldShape[oi] }
            else { nk += 1; if nk >= newNonOne.count { return nil }; np *= shape[newNonOne[nk]] }
        }
        for k in oStart..<oi where oldStrides[k] != oldStrides[k + 1] * oldShape[k + 1] { return nil }
        var s = oldStrides[oi]
        for k in stride(from: nk, through: nStart, by: -1) {
            newStrides[newNonOne[k]] = s
            s *= shape[newNonOne[k]]
        }
        oi += 1; nk += 1
        _ = ni
    }
    for (i, d) in shape.enumerated() where d == 1 { newStrides[i] = 0 }
    return newStrides
}

struct TransposePrimitive: Primitive {
    let axes: [Int]
    var name: String { "transpose" }
    func isEquivalent(to other: any Primitive) -> Bool { (other as? TransposePrimitive)?.axes == axes }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let x = inputs[0]
        return [x.view(offset: x.offset, shape: axes.map { x.shape[$0] }, strides: axes.map { x.strides[$0] })]
    }
}

/// Strided slice view: start/stop/step per axis (already normalised, step may be negative).
struct SlicePrimitive: Primitive {
    let start: [Int], step: [Int], shape: [Int]
    var name: String { "slice" }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? SlicePrimitive else { return false }
        return o.start == start && o.step == step && o.shape == shape
    }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let x = inputs[0]
        var off = x.offset
        for i in 0..<x.ndim where shape[i] > 0 { off += start[i] * x.strides[i] }
        return [x.view(offset: off, shape: shape, strides: zip(x.strides, step).map { $0 * $1 })]
    }
}

// MARK: - Shape helpers

func normalizeAxis(_ axis: Int, _ ndim: Int, _ op: String) -> Int? {
    let a = axis < 0 ? axis + ndim : axis
    guard check(a >= 0 && a < ndim, op, "axis \(axis) is out of range for a tensor with \(ndim) dimensions") else { return nil }
    return a
}

func normalizeAxes(_ axes: [Int], _ ndim: Int, _ op: String) -> [Int]? {
    var out: [Int] = []
    for a in axes {
        guard let n = normalizeAxis(a, ndim, op) else { return nil }
        guard check(!out.contains(n), op, "repeated axis \(a) in \(axes)") else { return nil }
        out.append(n)
    }
    return out
}

/// NumPy broadcasting of two shapes, or nil (after reporting) when incompatible.
func broadcastShapes(_ a: [Int], _ b: [Int], _ op: String) -> [Int]? {
    if a == b { return a }
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        if da == db || db == 1 { out[i] = da }
        else if da == 1 { out[i] = db }
        else {
            reportError(.invalidArgument(op: op, message: "shapes \(fmt(a)) and \(fmt(b)) cannot be broadcast together"))
            return nil
        }
    }
    return out
}

// MARK: - Public shape ops

extension Tensor {
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var shape = newShape
        // One pass (reshapes are among the most frequent ops a model builds).
        var known = 1, inferred = 0, negative = false
        for d in shape {
            if d == -1 { inferred += 1 } else { known *= d; negative = negative || d < 0 }
        }
        let size = self.size
        guard check(inferred <= 1, "reshape", "only one dimension can be -1, got \(fmt(newShape))"),
              check(!negative, "reshape", "negative dimension in \(fmt(newShape))")
        else { return .errorPlaceholder(dtype) }
        if inferred == 1 {
            guard check(known > 0 && size % known == 0, "reshape",
                        "cannot reshape tensor of shape \(fmt(self.shape)) (size \(size)) into \(fmt(newShape))")
            else { return .errorPlaceholder(dtype) }
            shape = shape.map { $0 == -1 ? size / known : $0 }
        }
        guard check(shape.reduce(1, *) == size, "reshape",
                    "cannot reshape tensor of shape \(fmt(self.shape)) (size \(size)) into \(fmt(newShape))")
        else { return .errorPlaceholder(dtype) }
        if shape == self.shape { return self }
        return Tensor(ReshapePrimitive(shape: shape), [self], shape: shape, dtype: dtype)
    }
    public func reshaped(_ shape: Int...) -> Tensor { reshaped(shape) }

    public func flattened(start: Int = 0, end: Int = -1) -> Tensor {
        if ndim == 0 { return reshaped([1]) }
        guard let s = normalizeAxis(start, ndim, "flatten"), let e = normalizeAxis(end, ndim, "flatten") else { return .errorPlaceholder(dtype) }
        guard check(s <= e, "flatten", "start axis \(start) is after end axis \(end) for shape \(fmt(shape))") else { return .errorPlaceholder(dtype) }
        return reshaped(Array(shape[..<s]) + [shape[s...e].reduce(1, *)] + Array(shape[(e + 1)...]))
    }

    public func transposed(_ axes: [Int]) -> Tensor {
        guard check(axes.count == ndim, "transpose", "axes \(axes) do not match a tensor of shape \(fmt(shape))"),
              let ax = normalizeAxes(axes, ndim, "transpose") else { return .errorPlaceholder(dtype) }
        if ax == Array(0..<ndim) { return self }
        return Tensor(TransposePrimitive(axes: ax), [self], shape: ax.map { shape[$0] }, dtype: dtype)
    }
    public func transposed() -> Tensor { transposed(Array((0..<ndim).reversed())) }
    public func transposed(_ axes: Int...) -> Tensor { axes.isEmpty ? transposed() : transposed(axes) }
    public var T: Tensor { transposed() }

    public func swappedAxes(_ a: Int, _ b: Int) -> Tensor {
        guard let a = normalizeAxis(a, ndim, "swapaxes"), let b = normalizeAxis(b, ndim, "swapaxes") else { return .errorPlaceholder(dtype) }
        var p = Array(0..<ndim); p.swapAt(a, b)
        return transposed(p)
    }

    public func movedAxis(source: Int, destination: Int) -> Tensor {
        guard let s = normalizeAxis(source, ndim, "moveaxis"), let d = normalizeAxis(destination, ndim, "moveaxis") else { return .errorPlaceholder(dtype) }
        var p = Array(0..<ndim); p.remove(at: s); p.insert(s, at: d)
        return transposed(p)
    }

    public func squeezed(axes: [Int]? = nil) -> Tensor {
        let ax: [Int]
        if let axes {
            guard let n = normalizeAxes(axes, ndim, "squeeze") else { return .errorPlaceholder(dtype) }
            for a in n {
                guard check(shape[a] == 1, "squeeze", "cannot squeeze axis \(a) of size \(shape[a]) in shape \(fmt(shape))") else { return .errorPlaceholder(dtype) }
            }
            ax = n
        } else {
            ax = shape.indices.filter { shape[$0] == 1 }
        }
        return reshaped(shape.indices.filter { !ax.contains($0) }.map { shape[$0] })
    }
    public func squeezed(axis: Int) -> Tensor { squeezed(axes: [axis]) }

    public func expandedDimensions(axes: [Int]) -> Tensor {
        let outDim = ndim + axes.count
        guard let ax = normalizeAxes(axes, outDim, "expand_dims") else { return .errorPlaceholder(dtype) }
        var out: [Int] = []
        var it = shape.makeIterator()
        for i in 0..<outDim { out.append(ax.contains(i) ? 1 : it.next()!) }
        return reshaped(out)
    }
    public func expandedDimensions(axis: Int) -> Tensor { expandedDimensions(axes: [axis]) }

    public func broadcast(to newShape: [Int]) -> Tensor {
        if newShape == shape { return self }
        guard check(newShape.count >= ndim && newShape.allSatisfy { $0 >= 0 }, "broadcast_to",
                    "cannot broadcast shape \(fmt(shape)) to \(fmt(newShape))") else { return .errorPlaceholder(dtype) }
        let lead = newShape.count - ndim
        for i in 0..<ndim {
            guard check(shape[i] == newShape[lead + i] || shape[i] == 1, "broadcast_to",
                        "cannot broadcast shape \(fmt(shape)) to \(fmt(newShape))") else { return .errorPlaceholder(dtype) }
        }
        return Tensor(BroadcastPrimitive(shape: newShape), [self], shape: newShape, dtype: dtype)
    }
}

public func reshaped(_ x: Tensor, _ shape: [Int]) -> Tensor { x.reshaped(shape) }
public func transposed(_ x: Tensor, _ axes: [Int]? = nil) -> Tensor { axes.map { x.transposed($0) } ?? x.transposed() }
public func squeezed(_ x: Tensor, axes: [Int]? = nil) -> Tensor { x.squeezed(axes: axes) }
public func expandedDimensions(_ x: Tensor, axes: [Int]) -> Tensor { x.expandedDimensions(axes: axes) }
public func broadcast(_ x: Tensor, to shape: [Int]) -> Tensor { x.broadcast(to: shape) }
public func swappedAxes(_ x: Tensor, _ a: Int, _ b: Int) -> Tensor { x.swappedAxes(a, b) }
public func movedAxis(_ x: Tensor, source: Int, destination: Int) -> Tensor { x.movedAxis(source: source, destination: destination) }
public func flattened(_ x: Tensor, start: Int = 0, end: Int = -1) -> Tensor { x.flattened(start: start, end: end) }

/// Broadcasts tensors to one common shape.
public func broadcastArrays(_ xs: [Tensor]) -> [Tensor] {
    var shape: [Int] = []
    for x in xs { guard let s = broadcastShapes(shape, x.shape, "broadcast_arrays") else { return xs }; shape = s }
    return xs.map { $0.broadcast(to: shape) }
}
