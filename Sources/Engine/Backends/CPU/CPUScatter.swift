import Foundation

/// How a scatter combines an update with the value already there.
public enum ScatterReduce: String, Sendable { case set, add, prod, max, min }

/// Along-axis scatter: inputs x, indices and updates (both of one shape S, the rank of x).
/// out = copy of x; for every position p of S in row-major order, the element of out at p with
/// its `axis` coordinate replaced by indices[p] is combined with updates[p].
struct ScatterAxisPrimitive: Primitive {
    let reduce: ScatterReduce
    let axis: Int
    var name: String { reduce == .set ? "put_along_axis" : "scatter_\(reduce.rawValue)" }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? ScatterAxisPrimitive else { return false }
        return o.reduce == reduce && o.axis == axis
    }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let x = inputs[0]
        let out = copyContiguous(x, to: x.dtype)
        let updates = contiguousData(inputs[2])
        let S = inputs[1].shape
        let count = S.reduce(1, *)
        if count == 0 || out.count == 0 { return [out] }
        let idx = try readIndices(inputs[1], axisSize: x.shape[axis], op: name)
        // Offset in out of each position p with the axis coordinate dropped.
        var offsets = [Int](repeating: 0, count: count)
        var coord = [Int](repeating: 0, count: S.count)
        let st = out.strides
        for p in 0..<count {
            var off = 0
            for d in 0..<S.count where d != axis { off += coord[d] * st[d] }
            offsets[p] = off + idx[p] * st[axis]
            var d = S.count - 1
            while d >= 0 { coord[d] += 1; if coord[d] < S[d] { break }; coord[d] = 0; d -= 1 }
        }
        x.dtype.dispatch(ScatterVisitor(reduce: reduce, dst: out.writePointer, src: UnsafeRawPointer(updates.pointer), offsets: offsets))
        withExtendedLifetime(updates) {}
        return [out]
    }
}

private struct ScatterVisitor: DTypeVisitor {
    let reduce: ScatterReduce
    let dst: UnsafeMutableRawPointer
    let src: UnsafeRawPointer
    let offsets: [Int]
    func visit<T: CPUScalar>(_ t: T.Type) {
        let d = dst.assumingMemoryBound(to: T.self), s = src.assumingMemoryBound(to: T.self)
        if reduce == .set { for (p, o) in offsets.enumerated() { d[o] = s[p] }; return }
        if T.isIntegral {
            let unsigned = T.self == UInt8.self || T.self == UInt16.self || T.self == UInt32.self || T.self == UInt64.self || T.self == Bool.self
            for (p, o) in offsets.enumerated() {
                let a = d[o].int64Bits, b = s[p].int64Bits
                let r: Int64
                switch reduce {
                case .add: r = T.self == Bool.self ? (a | b) : a &+ b
                case .prod: r = a &* b
                case .max: r = unsigned ? (UInt64(bitPattern: a) >= UInt64(bitPattern: b) ? a : b) : Swift.max(a, b)
                case .min: r = unsigned ? (UInt64(bitPattern: a) <= UInt64(bitPattern: b) ? a : b) : Swift.min(a, b)
                case .set: r = b
                }
                d[o] = T(int64Bits: r)
            }
            return
        }
        let narrow = T.self != Double.self
        for (p, o) in offsets.enumerated() {
            let a = d[o].doubleValue, b = s[p].doubleValue
            var r: Double
            switch reduce {
            case .add: r = narrow ? Double(Float(a) + Float(b)) : a + b
            case .prod: r = narrow ? Double(Float(a) * Float(b)) : a * b
            case .max: r = a.isNaN || b.isNaN ? .nan : Swift.max(a, b)
            case .min: r = a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
            case .set: r = b
            }
            d[o] = T(fromDouble: r)
        }
    }
}
