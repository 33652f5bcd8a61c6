import Foundation

/// Fills an array with one value (given as a 0-d input of the output dtype).
struct FullPrimitive: Primitive {
    var name: String { "full" }
    func isEquivalent(to other: any Primitive) -> Bool { other is FullPrimitive }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let v = inputs[0]
        let out = ArrayData(allocating: outputs[0].shape, dtype: outputs[0].dtype)
        let n = out.count, es = out.dtype.size
        if n == 0 { return [out] }
        let src = v.pointer, dst = out.writePointer
        func fill<E>(_: E.Type) {
            let value = src.load(as: E.self)
            let d = dst.assumingMemoryBound(to: E.self)
            CPU.parallelFor(CPU.cores, work: n) { r in
                for c in r { let lo = n * c / CPU.cores, hi = n * (c + 1) / CPU.cores; d.advanced(by: lo).update(repeating: value, count: hi - lo) }
            }
        }
        switch es {
        case 1: fill(UInt8.self)
        case 2: fill(UInt16.self)
        case 4: fill(UInt32.self)
        default: fill(UInt64.self)
        }
        return [out]
    }
}

/// start + i * step for every i, computed in float64 then cast (as MLX does).
struct ArangePrimitive: Primitive {
    let start: Double, step: Double
    var name: String { "arange" }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: spec.dtype)
        let n = out.count
        let start = self.start, step = self.step
        struct Fill: DTypeVisitor {
            let p: UnsafeMutableRawPointer; let n: Int; let start: Double; let step: Double
            func visit<T: CPUScalar>(_ t: T.Type) {
                let d = p.assumingMemoryBound(to: T.self)
                if T.isIntegral {
                    let s = Int64(start), st = Int64(step)
                    for i in 0..<n { d[i] = T(int64Bits: s + Int64(i) * st) }
                } else if T.self == Double.self {
                    var v = start
                    for i in 0..<n { d[i] = T(fromDouble: v); v += step }
                } else {
                    // MLX accumulates in the output type: start, start + step, ...
                    var v = T(floatValue: Float(start))
                    let st = Float(step)
                    for i in 0..<n { d[i] = v; v = T(floatValue: v.floatValue + st) }
                }
            }
        }
        if n > 0 { spec.dtype.dispatch(Fill(p: out.writePointer, n: n, start: start, step: step)) }
        return [out]
    }
}

/// Lower-triangular ones mask: out[i, j] = j <= i + k.
struct TriPrimitive: Primitive {
    let k: Int
    var name: String { "tri" }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let n = spec.shape[0], m = spec.shape[1]
        let mask = ArrayData(allocating: spec.shape, dtype: .bool)
        if n * m > 0 {
            let p = mask.writePointer.assumingMemoryBound(to: Bool.self)
            for i in 0..<n { for j in 0..<m { p[i * m + j] = j <= i + k } }
        }
        return [spec.dtype == .bool ? mask : copyContiguous(mask, to: spec.dtype)]
    }
}

/// `n × m` identity-like: ones on diagonal k.
struct EyePrimitive: Primitive {
    let k: Int
    var name: String { "eye" }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let n = spec.shape[0], m = spec.shape[1]
        let mask = ArrayData(allocating: spec.shape, dtype: .bool)
        if n * m > 0 {
            let p = mask.writePointer.assumingMemoryBound(to: Bool.self)
            for i in 0..<n { for j in 0..<m { p[i * m + j] = j == i + k } }
        }
        return [spec.dtype == .bool ? mask : copyContiguous(mask, to: spec.dtype)]
    }
}

private func validShape(_ shape: [Int], _ op: String) -> Bool {
    check(shape.allSatisfy { $0 >= 0 }, op, "negative dimension in shape \(fmt(shape))")
}

public func full(_ shape: [Int], _ value: Tensor, dtype: DType? = nil) -> Tensor {
    let dt = dtype ?? value.dtype
    guard validShape(shape, "full") else { return .errorPlaceholder(dt) }
    guard check(value.size == 1 || broadcastShapes(value.shape, shape, "full") == shape, "full",
                "value of shape \(fmt(value.shape)) cannot fill shape \(fmt(shape))") else { return .errorPlaceholder(dt) }
    if value.size != 1 { return value.asType(dt).broadcast(to: shape).contiguous() }
    return Tensor(FullPrimitive(), [value.asType(dt).reshaped([])], shape: shape, dtype: dt)
}
public func full(_ shape: [Int], _ value: Double, dtype: DType = .float32) -> Tensor {
    full(shape, dtype.isInteger ? Tensor([Int64(value)], shape: []) : Tensor([value], shape: []), dtype: dtype)
}
public func full(_ shape: [Int], _ value: Int, dtype: DType = .int32) -> Tensor {
    full(shape, Tensor([Int64(value)], shape: []), dtype: dtype)
}
public func zeros(_ shape: [Int], dtype: DType = .float32) -> Tensor { full(shape, Tensor([Int64(0)], shape: []), dtype: dtype) }
public func ones(_ shape: [Int], dtype: DType = .float32) -> Tensor { full(shape, Tensor([Int64(1)], shape: []), dtype: dtype) }
public func zerosLike(_ x: Tensor) -> Tensor { zeros(x.shape, dtype: x.dtype) }
public func onesLike(_ x: Tensor) -> Tensor { ones(x.shape, dtype: x.dtype) }
public func fullLike(_ x: Tensor, _ value: Double) -> Tensor { full(x.shape, value, dtype: x.dtype) }

/// Values from `start` up to (not including) `stop` by `step`.
public func arange(_ start: Double, _ stop: Double, _ step: Double = 1, dtype: DType = .float32) -> Tensor {
    guard check(step != 0, "arange", "step must not be zero"),
          check(start.isFinite && stop.isFinite && step.isFinite, "arange", "start, stop and step must be finite")
    else { return .errorPlaceholder(dtype) }
    let n = max(0, Int(((stop - start) / step).rounded(.up)))
    return Tensor(ArangePrimitive(start: start, step: step), [], shape: [n], dtype: dtype)
}
public func arange(_ start: Int, _ stop: Int, _ step: Int = 1, dtype: DType = .int32) -> Tensor {
    arange(Double(start), Double(stop), Double(step), dtype: dtype)
}
public func arange(_ stop: Int, dtype: DType = .int32) -> Tensor { arange(0, stop, 1, dtype: dtype) }
public func arange(_ stop: Double, dtype: DType = .float32) -> Tensor { arange(0, stop, 1, dtype: dtype) }

/// `count` evenly spaced values from start to stop inclusive.
public func linspace(_ start: Double, _ stop: Double, count: Int = 50, dtype: DType = .float32) -> Tensor {
    guard check(count >= 0, "linspace", "count must be non-negative, got \(count)") else { return .errorPlaceholder(dtype) }
    if count == 1 { return full([1], start, dtype: dtype) }
    let step = count > 1 ? (stop - start) / Double(count - 1) : 0
    // start + i * step computed in float32, as MLX does.
    let idx = arange(0, Double(count), 1, dtype: .float32)
    return (idx * Float(step) + Float(start)).asType(dtype)
}

public func eye(_ n: Int, _ m: Int? = nil, k: Int = 0, dtype: DType = .float32) -> Tensor {
    let m = m ?? n
    guard check(n >= 0 && m >= 0, "eye", "negative size \(n)×\(m)") else { return .errorPlaceholder(dtype) }
    return Tensor(EyePrimitive(k: k), [], shape: [n, m], dtype: dtype)
}
public func identity(_ n: Int, dtype: DType = .float32) -> Tensor { eye(n, dtype: dtype) }

/// Ones at and below diagonal `k`.
public func tri(_ n: Int, _ m: Int? = nil, k: Int = 0, dtype: DType = .float32) -> Tensor {
    let m = m ?? n
    guard check(n >= 0 && m >= 0, "tri", "negative size \(n)×\(m)") else { return .errorPlaceholder(dtype) }
    return Tensor(TriPrimitive(k: k), [], shape: [n, m], dtype: dtype)
}
public func tril(_ x: Tensor, k: Int = 0) -> Tensor {
    guard check(x.ndim >= 2, "tril", "needs at least 2 dimensions, got shape \(fmt(x.shape))") else { return .errorPlaceholder(x.dtype) }
    let mask = tri(x.dim(-2), x.dim(-1), k: k, dtype: .bool)
    return which(mask, x, zerosLike(x))
}
public func triu(_ x: Tensor, k: Int = 0) -> Tensor {
    guard check(x.ndim >= 2, "triu", "needs at least 2 dimensions, got shape \(fmt(x.shape))") else { return .errorPlaceholder(x.dtype) }
    let mask = tri(x.dim(-2), x.dim(-1), k: k - 1, dtype: .bool)
    return which(mask, zerosLike(x), x)
}
