import Foundation

/// One entry of a subscript: an integer, a range or stride, `.ellipsis`, `.newAxis`, or an
/// integer tensor (gather).
public enum TensorIndex: Sendable {
    case int(Int)
    /// start/stop nil mean "from the beginning / to the end" for the step's direction.
    case slice(start: Int?, stop: Int?, step: Int)
    /// `...`: as many full slices as needed (write `.ellipsis`).
    case ellipsisMarker
    /// A new axis of size 1 (write `.newAxis`).
    case newAxisMarker
    case tensor(Tensor)
}

public protocol TensorIndexConvertible: Sendable { var tensorIndex: TensorIndex { get } }
extension TensorIndex: TensorIndexConvertible { public var tensorIndex: TensorIndex { self } }
extension Int: TensorIndexConvertible { public var tensorIndex: TensorIndex { .int(self) } }
extension Range<Int>: TensorIndexConvertible { public var tensorIndex: TensorIndex { .slice(start: lowerBound, stop: upperBound, step: 1) } }
extension ClosedRange<Int>: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { .slice(start: lowerBound, stop: upperBound == -1 ? nil : upperBound + 1, step: 1) }
}
extension PartialRangeFrom<Int>: TensorIndexConvertible { public var tensorIndex: TensorIndex { .slice(start: lowerBound, stop: nil, step: 1) } }
extension PartialRangeUpTo<Int>: TensorIndexConvertible { public var tensorIndex: TensorIndex { .slice(start: nil, stop: upperBound, step: 1) } }
extension PartialRangeThrough<Int>: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { .slice(start: nil, stop: upperBound == -1 ? nil : upperBound + 1, step: 1) }
}
extension StrideTo<Int>: TensorIndexConvertible {
    public var tensorIndex: TensorIndex {
        // StrideTo does not expose its bounds; read them by reflection (labels from, to, by).
        let fields = Dictionary(Mirror(reflecting: self).children.compactMap { c in (c.value as? Int).map { (c.label ?? "", $0) } },
                                uniquingKeysWith: { a, _ in a })
        let start = fields["from"] ?? fields["_start"] ?? 0
        let end = fields["to"] ?? fields["_end"] ?? 0
        let step = fields["by"] ?? fields["_stride"] ?? 1
        return .slice(start: start, stop: end, step: step)
    }
}
extension Tensor: TensorIndexConvertible { public var tensorIndex: TensorIndex { .tensor(self) } }

extension TensorIndexConvertible where Self == TensorIndex {
    public static var ellipsis: TensorIndex { .ellipsisMarker }
    public static var newAxis: TensorIndex { .newAxisMarker }
    /// `start:stop:step` in NumPy terms (`nil` for an open end).
    public static func stride(_ start: Int? = nil, _ stop: Int? = nil, by step: Int = 1) -> TensorIndex {
        .slice(start: start, stop: stop, step: step)
    }
}

/// NumPy slice normalisation: (start, step, count) for an axis of size `n`.
func resolveSlice(_ start: Int?, _ stop: Int?, _ step: Int, _ n: Int) -> (Int, Int) {
    if step > 0 {
        var s = start ?? 0, e = stop ?? n
        if s < 0 { s += n }; if e < 0 { e += n }
        s = Swift.min(Swift.max(s, 0), n); e = Swift.min(Swift.max(e, 0), n)
        return (s, e > s ? (e - s + step - 1) / step : 0)
    } else {
        var s = start ?? n - 1, e = stop ?? -n - 1
        if s < 0 { s += n }; if e < 0 { e += n }
        s = Swift.min(Swift.max(s, -1), n - 1); e = Swift.min(Swift.max(e, -1), n - 1)
        return (s, s > e ? (s - e - step - 1) / (-step) : 0)
    }
}

/// The parsed form of a subscript against a tensor.
private struct IndexPlan {
    var expanded: Tensor                 // x with new axes inserted
    var start: [Int], step: [Int], size: [Int]
    var intAxes: [Int] = []              // axes indexed by an integer (dropped)
    var tensorAxes: [Int] = []           // axes indexed by tensors (gather)
    var tensors: [Tensor] = []
    var advancedAdjacent = true
}

private func plan(_ x: Tensor, _ items: [TensorIndex], op: String) -> IndexPlan? {
    // Expand the ellipsis and insert new axes as size-1 dims.
    let consuming = items.filter { if case .newAxisMarker = $0 { return false }; if case .ellipsisMarker = $0 { return false }; return true }.count
    let ellipses = items.filter { if case .ellipsisMarker = $0 { return true }; return false }.count
    guard check(ellipses <= 1, op, "an index can only have one ellipsis"),
          check(consuming <= x.ndim, op, "too many indices (\(consuming)) for a tensor of shape \(fmt(x.shape))") else { return nil }
    var full: [TensorIndex] = []
    for it in items {
        if case .ellipsisMarker = it {
            full += [TensorIndex](repeating: .slice(start: nil, stop: nil, step: 1), count: x.ndim - consuming)
        } else { full.append(it) }
    }
    var shape: [Int] = []
    var dim = 0
    var resolved: [TensorIndex] = []
    for it in full {
        if case .newAxisMarker = it { shape.append(1); resolved.append(.slice(start: nil, stop: nil, step: 1)); continue }
        shape.append(x.shape[dim]); dim += 1; resolved.append(it)
    }
    while dim < x.ndim { shape.append(x.shape[dim]); dim += 1; resolved.append(.slice(start: nil, stop: nil, step: 1)) }
    let hasTensor = resolved.contains { if case .tensor = $0 { return true }; return false }
    var p = IndexPlan(expanded: shape == x.shape ? x : x.reshaped(shape), start: [], step: [], size: [])
    var advancedPositions: [Int] = []
    for (axis, it) in resolved.enumerated() {
        let n = shape[axis]
        switch it {
        case .int(let k):
            let kk = k < 0 ? k + n : k
            guard check(kk >= 0 && kk < n, op, "index \(k) is out of bounds for axis \(axis) with size \(n) (shape \(fmt(x.shape)))") else { return nil }
            if hasTensor {
                p.start.append(0); p.step.append(1); p.size.append(n)
                p.tensorAxes.append(axis); p.tensors.append(Tensor(Int32(kk))); advancedPositions.append(axis)
            } else {
                p.start.append(kk); p.step.append(1); p.size.append(1); p.intAxes.append(axis)
            }
        case .slice(let s, let e, let st):
            guard check(st != 0, op, "slice step cannot be zero") else { return nil }
            let (b, c) = resolveSlice(s, e, st, n)
            p.start.append(b); p.step.append(st); p.size.append(c)
        case .tensor(let t):
            guard check(t.dtype.isInteger || t.dtype == .bool && false, op, "index tensors must have an integer dtype, got \(t.dtype)") else { return nil }
            p.start.append(0); p.step.append(1); p.size.append(n)
            p.tensorAxes.append(axis); p.tensors.append(t); advancedPositions.append(axis)
        default: break
        }
    }
    if let f = advancedPositions.first, let l = advancedPositions.last { p.advancedAdjacent = l - f == advancedPositions.count - 1 }
    return p
}

private func sliceView(_ x: Tensor, _ p: IndexPlan) -> Tensor {
    if p.start.allSatisfy({ $0 == 0 }) && p.step.allSatisfy({ $0 == 1 }) && p.size == x.shape { return x }
    return Tensor(SlicePrimitive(start: p.start, step: p.step, shape: p.size), [x], shape: p.size, dtype: x.dtype)
}

extension Tensor {
    public subscript(_ indices: any TensorIndexConvertible...) -> Tensor {
        get { index(indices.map(\.tensorIndex)) }
        set { self = updated(indices.map(\.tensorIndex), with: newValue) }
    }

    public subscript(indices: [TensorIndex]) -> Tensor {
        get { index(indices) }
        set { self = updated(indices, with: newValue) }
    }

    /// NumPy-style indexing.
    public func index(_ items: [TensorIndex]) -> Tensor {
        guard let p = plan(self, items, op: "getitem") else { return .errorPlaceholder(dtype) }
        let sliced = sliceView(p.expanded, p)
        if p.tensorAxes.isEmpty {
            let keep = (0..<sliced.ndim).filter { !p.intAxes.contains($0) }
            return sliced.reshaped(keep.map { sliced.shape[$0] })
        }
        guard let (gathered, _, idxShape) = gatherAdvanced(sliced, p) else { return .errorPlaceholder(dtype) }
        return placeAdvanced(gathered, p, idxShape.count)
    }

    /// A copy with `value` written at `items` (what `x[items] = value` does).
    public func updated(_ items: [TensorIndex], with value: Tensor) -> Tensor {
        guard let p = plan(self, items, op: "setitem") else { return .errorPlaceholder(dtype) }
        let base = p.expanded
        let v = value.asType(dtype)
        if p.tensorAxes.isEmpty {
            let keep = (0..<base.ndim).filter { !p.intAxes.contains($0) }
            let resultShape = keep.map { p.size[$0] }
            guard let _ = broadcastShapes(v.shape, resultShape, "setitem"),
                  check(broadcastShapes(v.shape, resultShape, "setitem") == resultShape, "setitem",
                        "value of shape \(fmt(value.shape)) cannot be broadcast to the indexed shape \(fmt(resultShape))")
            else { return .errorPlaceholder(dtype) }
            let region = v.broadcast(to: resultShape).reshaped(p.size)
            let r = Tensor(SliceUpdatePrimitive(start: p.start, step: p.step, shape: p.size), [base, region], shape: base.shape, dtype: dtype)
            return r.reshaped(shape)
        }
        // Advanced: write into the slice region through a scatter, then put the region back.
        let sliced = sliceView(base, p)
        guard let idx = broadcastIndexTensors(p.tensors) else { return .errorPlaceholder(dtype) }
        let rest = (0..<sliced.ndim).filter { !p.tensorAxes.contains($0) }
        let gatherShape = idx[0].shape + rest.map { sliced.shape[$0] }
        // Value is given in the placed order; undo the placement to gather order.
        let placedShape = placedShapeOf(gatherShape, p, idx[0].ndim)
        guard check(broadcastShapes(v.shape, placedShape, "setitem") == placedShape, "setitem",
                    "value of shape \(fmt(value.shape)) cannot be broadcast to the indexed shape \(fmt(placedShape))")
        else { return .errorPlaceholder(dtype) }
        let vPlaced = v.broadcast(to: placedShape)
        let vGather = unplace(vPlaced, p, idx[0].ndim)
        let scattered = Tensor(ScatterSetPrimitive(axes: p.tensorAxes), [sliced, vGather] + idx, shape: sliced.shape, dtype: dtype)
        if scattered.shape == base.shape && p.start.allSatisfy({ $0 == 0 }) && p.step.allSatisfy({ $0 == 1 }) {
            return scattered.reshaped(shape)
        }
        let r = Tensor(SliceUpdatePrimitive(start: p.start, step: p.step, shape: p.size), [base, scattered], shape: base.shape, dtype: dtype)
        return r.reshaped(shape)
    }
}

private func broadcastIndexTensors(_ ts: [Tensor]) -> [Tensor]? {
    var shape: [Int] = []
    for t in ts { guard let s = broadcastShapes(shape, t.shape, "getitem") else { return nil }; shape = s }
    return ts.map { $0.broadcast(to: shape) }
}

private func gatherAdvanced(_ sliced: Tensor, _ p: IndexPlan) -> (Tensor, [Int], [Int])? {
    guard let idx = broadcastIndexTensors(p.tensors) else { return nil }
    let rest = (0..<sliced.ndim).filter { !p.tensorAxes.contains($0) }
    let shape = idx[0].shape + rest.map { sliced.shape[$0] }
    return (Tensor(GatherPrimitive(axes: p.tensorAxes), [sliced] + idx, shape: shape, dtype: sliced.dtype), rest, idx[0].shape)
}

/// NumPy puts adjacent advanced-index dims where the first advanced axis was.
private func placementPermutation(_ p: IndexPlan, _ idxRank: Int, _ total: Int) -> [Int]? {
    guard p.advancedAdjacent, let first = p.tensorAxes.first, first > 0 else { return nil }
    // Gather order: [I dims..., rest dims...]; rest dims before `first` go in front.
    let restBefore = first
    var perm: [Int] = []
    for r in 0..<restBefore { perm.append(idxRank + r) }
    for i in 0..<idxRank { perm.append(i) }
    for r in (idxRank + restBefore)..<total { perm.append(r) }
    return perm
}

private func placeAdvanced(_ g: Tensor, _ p: IndexPlan, _ idxRank: Int) -> Tensor {
    guard let perm = placementPermutation(p, idxRank, g.ndim) else { return g }
    return g.transposed(perm)
}

private func placedShapeOf(_ gatherShape: [Int], _ p: IndexPlan, _ idxRank: Int) -> [Int] {
    guard let perm = placementPermutation(p, idxRank, gatherShape.count) else { return gatherShape }
    return perm.map { gatherShape[$0] }
}

private func unplace(_ v: Tensor, _ p: IndexPlan, _ idxRank: Int) -> Tensor {
    guard let perm = placementPermutation(p, idxRank, v.ndim) else { return v }
    var inv = [Int](repeating: 0, count: perm.count)
    for (i, a) in perm.enumerated() { inv[a] = i }
    return v.transposed(inv)
}

// MARK: - take / takeAlong / putAlong

/// Elements of `x` at `indices` along `axis` (flattened x when axis is nil).
public func take(_ x: Tensor, _ indices: Tensor, axis: Int? = nil) -> Tensor {
    guard check(indices.dtype.isInteger, "take", "indices must have an integer dtype, got \(indices.dtype)") else { return .errorPlaceholder(x.dtype) }
    guard let axis else { return take(x.reshaped([-1]), indices, axis: 0) }
    guard let a = normalizeAxis(axis, x.ndim, "take") else { return .errorPlaceholder(x.dtype) }
    guard check(x.shape[a] > 0 || indices.size == 0, "take", "cannot take from an empty axis of shape \(fmt(x.shape))") else { return .errorPlaceholder(x.dtype) }
    let rest = (0..<x.ndim).filter { $0 != a }
    let g = Tensor(GatherPrimitive(axes: [a]), [x, indices], shape: indices.shape + rest.map { x.shape[$0] }, dtype: x.dtype)
    // Move the index dims to where the axis was.
    let ir = indices.ndim
    let perm = Array(ir..<(ir + a)) + Array(0..<ir) + Array((ir + a)..<(ir + rest.count))
    return g.transposed(perm)
}

private func alongIndices(_ x: Tensor, _ indices: Tensor, _ a: Int, op: String) -> [Tensor]? {
    guard check(indices.ndim == x.ndim, op, "indices of shape \(fmt(indices.shape)) must have the rank of x \(fmt(x.shape))") else { return nil }
    var shape = x.shape
    shape[a] = indices.shape[a]
    guard let s = broadcastShapes(shape, indices.shape, op) else { return nil }
    var idx: [Tensor] = []
    for d in 0..<x.ndim {
        if d == a { idx.append(indices.broadcast(to: s)); continue }
        var r = [Int](repeating: 1, count: x.ndim); r[d] = s[d]
        idx.append(arange(s[d]).reshaped(r).broadcast(to: s))
    }
    return idx
}

/// out[..., i, ...] = x[..., indices[..., i, ...], ...] along `axis`.
public func takeAlong(_ x: Tensor, _ indices: Tensor, axis: Int? = nil) -> Tensor {
    guard check(indices.dtype.isInteger, "take_along_axis", "indices must have an integer dtype, got \(indices.dtype)") else { return .errorPlaceholder(x.dtype) }
    guard let axis else { return takeAlong(x.reshaped([-1]), indices.reshaped([-1]), axis: 0) }
    guard let a = normalizeAxis(axis, x.ndim, "take_along_axis"),
          let idx = alongIndices(x, indices, a, op: "take_along_axis") else { return .errorPlaceholder(x.dtype) }
    return Tensor(GatherPrimitive(axes: Array(0..<x.ndim)), [x] + idx, shape: idx[0].shape, dtype: x.dtype)
}

/// Copy of x with `values` written at `indices` along `axis`.
public func putAlong(_ x: Tensor, _ indices: Tensor, values: Tensor, axis: Int) -> Tensor {
    guard let a = normalizeAxis(axis, x.ndim, "put_along_axis"),
          let idx = alongIndices(x, indices, a, op: "put_along_axis") else { return .errorPlaceholder(x.dtype) }
    guard check(broadcastShapes(values.shape, idx[0].shape, "put_along_axis") == idx[0].shape, "put_along_axis",
                "values of shape \(fmt(values.shape)) do not broadcast to \(fmt(idx[0].shape))") else { return .errorPlaceholder(x.dtype) }
    return Tensor(ScatterSetPrimitive(axes: Array(0..<x.ndim)), [x, values.asType(x.dtype).broadcast(to: idx[0].shape)] + idx,
                  shape: x.shape, dtype: x.dtype)
}
