import Foundation

/// Copies `count` elements of size `es` between strided layouts (element strides).
@inline(__always)
func copyElements(_ es: Int, from src: UnsafeRawPointer, _ srcStride: Int, to dst: UnsafeMutableRawPointer, _ dstStride: Int, _ n: Int) {
    if srcStride == 1 && dstStride == 1 { dst.copyMemory(from: src, byteCount: n * es); return }
    func run<E>(_: E.Type) {
        let s = src.assumingMemoryBound(to: E.self), d = dst.assumingMemoryBound(to: E.self)
        for i in 0..<n { d[i * dstStride] = s[i * srcStride] }
    }
    switch es {
    case 1: run(UInt8.self)
    case 2: run(UInt16.self)
    case 4: run(UInt32.self)
    default: run(UInt64.self)
    }
}

/// Reads index tensors (any integer dtype, broadcast to one shape) as Int arrays,
/// normalising negatives and checking bounds.
func readIndices(_ idx: ArrayData, axisSize: Int, op: String) throws -> [Int] {
    let c = copyContiguous(idx, to: .int64)
    let p = c.pointer.assumingMemoryBound(to: Int64.self)
    var out = [Int](repeating: 0, count: c.count)
    for i in 0..<c.count {
        var v = Int(p[i])
        if v < 0 { v += axisSize }
        guard v >= 0 && v < axisSize else {
            throw EngineError.invalidArgument(op: op, message: "index \(p[i]) is out of bounds for axis of size \(axisSize)")
        }
        out[i] = v
    }
    return out
}

/// Gather: inputs are x and one index tensor per axis in `axes` (all broadcast to shape I).
/// Output shape: I + the non-indexed dims of x in order.
struct GatherPrimitive: Primitive {
    let axes: [Int]
    var name: String { "gather" }
    func isEquivalent(to other: any Primitive) -> Bool { (other as? GatherPrimitive)?.axes == axes }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let x = inputs[0]
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: x.dtype)
        let offsets = try gatherOffsets(x, Array(inputs.dropFirst()), axes, op: "gather")
        let rest = (0..<x.ndim).filter { !axes.contains($0) }
        let block = StridedLayout(shape: rest.map { x.shape[$0] }, strides: [rest.map { x.strides[$0] }])
        let blockSize = rest.map { x.shape[$0] }.reduce(1, *)
        if blockSize == 0 || offsets.isEmpty { return [out] }
        let es = x.dtype.size
        let src = UnsafeRawPointer(x.pointer), dst = out.writePointer
        let inner = block.innerStride(0)
        for (p, base) in offsets.enumerated() {
            let d = dst + p * blockSize * es
            block.forEachRun(parallel: false) { o, n, offs in
                copyElements(es, from: src + (base + offs[0]) * es, inner, to: d + o * es, 1, n)
            }
        }
        return [out]
    }
}

/// Element offsets (into x) of each gathered position.
func gatherOffsets(_ x: ArrayData, _ indices: [ArrayData], _ axes: [Int], op: String) throws -> [Int] {
    let count = indices.first?.count ?? 1
    var offsets = [Int](repeating: 0, count: count)
    for (k, axis) in axes.enumerated() {
        let idx = try readIndices(indices[k], axisSize: x.shape[axis], op: op)
        let s = x.strides[axis]
        for i in 0..<count { offsets[i] += idx[i] * s }
    }
    return offsets
}

/// Indexed assignment: copy of x with `values` written at the gathered positions
/// (values shaped I + non-indexed dims, as gather's output).
struct ScatterSetPrimitive: Primitive {
    let axes: [Int]
    var name: String { "scatter" }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let x = inputs[0], values = inputs[1]
        let out = copyContiguous(x, to: x.dtype)
        let offsets = try gatherOffsets(out, Array(inputs.dropFirst(2)), axes, op: "scatter")
        let rest = (0..<x.ndim).filter { !axes.contains($0) }
        let blockShape = rest.map { x.shape[$0] }
        let blockSize = blockShape.reduce(1, *)
        if blockSize == 0 || offsets.isEmpty { return [out] }
        let es = x.dtype.size
        let dst = out.writePointer
        let vals = contiguousData(values)
        let vp = UnsafeRawPointer(vals.pointer)
        let block = StridedLayout(shape: blockShape, strides: [rest.map { out.strides[$0] }])
        let inner = block.innerStride(0)
        for (p, base) in offsets.enumerated() {
            let s = vp + p * blockSize * es
            block.forEachRun(parallel: false) { o, n, offs in
                copyElements(es, from: s + o * es, 1, to: dst + (base + offs[0]) * es, inner, n)
            }
        }
        return [out]
    }
}

/// Copy of x with `update` written into the strided region start/step/shape.
struct SliceUpdatePrimitive: Primitive {
    let start: [Int], step: [Int], shape: [Int]
    var name: String { "slice_update" }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let x = inputs[0], u = inputs[1]
        let out = copyContiguous(x, to: x.dtype)
        if shape.contains(0) { return [out] }
        var off = 0
        for i in 0..<x.ndim { off += start[i] * out.strides[i] }
        let region = StridedLayout(shape: shape, strides: [zip(out.strides, step).map { $0 * $1 }, u.strides])
        let es = x.dtype.size
        let dst = out.writePointer, src = UnsafeRawPointer(u.pointer)
        let di = region.innerStride(0), si = region.innerStride(1)
        region.forEachRun { o, n, offs in
            copyElements(es, from: src + offs[1] * es, si, to: dst + (off + offs[0]) * es, di, n)
        }
        return [out]
    }
}

/// Concatenation along `axis`.
struct ConcatenatePrimitive: Primitive {
    let axis: Int
    var name: String { "concatenate" }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: spec.dtype)
        if out.count == 0 { return [out] }
        let es = spec.dtype.size
        var pos = 0
        for x in inputs {
            defer { pos += x.shape[axis] }
            if x.count == 0 { continue }
            let off = pos * out.strides[axis]
            let layout = StridedLayout(shape: x.shape, strides: [out.strides, x.strides])
            let dst = out.writePointer, src = UnsafeRawPointer(x.pointer)
            let di = layout.innerStride(0), si = layout.innerStride(1)
            layout.forEachRun { _, n, offs in
                copyElements(es, from: src + offs[1] * es, si, to: dst + (off + offs[0]) * es, di, n)
            }
        }
        return [out]
    }
}
