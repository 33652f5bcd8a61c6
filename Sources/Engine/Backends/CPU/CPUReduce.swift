import CKernels
import Foundation

/// Reduction over `axes`; the output keeps reduced dims as size 1.
struct ReducePrimitive: Primitive {
    let op: ReduceOp
    let axes: [Int]
    var name: String { op.rawValue }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? ReducePrimitive else { return false }
        return o.op == op && o.axes == axes
    }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let x = inputs[0]
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: spec.dtype)
        let outCount = out.count
        if outCount == 0 { return [out] }
        // Move reduced axes last; make the data contiguous so each output reduces one run.
        let kept = (0..<x.ndim).filter { !axes.contains($0) }
        let perm = kept + axes
        let permuted = x.view(offset: x.offset, shape: perm.map { x.shape[$0] }, strides: perm.map { x.strides[$0] })
        let reduceLen = axes.map { x.shape[$0] }.reduce(1, *)
        let src: ArrayData
        if reduceLen == 0 {
            src = permuted
        } else {
            let inputType = x.dtype
            src = permuted.isRowContiguous && !permuted.strides.contains(0) ? permuted : copyContiguous(permuted, to: inputType)
        }
        spec.dtype.dispatch(ReduceVisitor(op: op, src: src, reduceLen: reduceLen, outCount: outCount, dst: out.writePointer))
        return [out]
    }
}

private struct ReduceVisitor: DTypeVisitor {
    let op: ReduceOp
    let src: ArrayData
    let reduceLen: Int
    let outCount: Int
    let dst: UnsafeMutableRawPointer

    func visit<O: CPUScalar>(_ o: O.Type) {
        src.dtype.dispatch(Inner<O>(op: op, src: reduceLen == 0 ? nil : src.pointer, inType: src.dtype,
                                    reduceLen: reduceLen, outCount: outCount, dst: dst.assumingMemoryBound(to: O.self)))
    }

    struct Inner<O: CPUScalar>: DTypeVisitor {
        let op: ReduceOp
        let src: UnsafeMutableRawPointer?
        let inType: DType
        let reduceLen: Int
        let outCount: Int
        let dst: UnsafeMutablePointer<O>

        func visit<I: CPUScalar>(_ i: I.Type) {
            let n = reduceLen, op = self.op, dst = self.dst
            guard let src else {
                // Empty reduction: the identity.
                for k in 0..<outCount { dst[k] = identity(op) }
                return
            }
            let x = src.assumingMemoryBound(to: I.self)
            CPU.parallelFor(outCount, work: outCount * n) { range in
                for k in range {
                    let run = x + k * n
                    dst[k] = reduceRun(op, run, n)
                }
            }
            // One long run (full reduction): split it across cores for sum/max/min of float32.
        }

        private func identity(_ op: ReduceOp) -> O {
            switch op {
            case .sum, .any: return O.zero
            case .prod, .all: return O.one
            case .max: return O.isIntegral ? O(int64Bits: O.self == UInt64.self || O.self == UInt32.self || O.self == UInt8.self || O.self == UInt16.self ? 0 : Int64.min) : O(fromDouble: -.infinity)
            case .min: return O.isIntegral ? O(int64Bits: O.self == Bool.self ? 1 : Int64.max) : O(fromDouble: .infinity)
            }
        }

        @inline(__always)
        private func reduceRun<I: CPUScalar>(_ op: ReduceOp, _ run: UnsafeMutablePointer<I>, _ n: Int) -> O {
            switch op {
            case .all:
                for j in 0..<n where !convertScalar(run[j], to: Bool.self) { return O.zero }
                return O.one
            case .any:
                for j in 0..<n where convertScalar(run[j], to: Bool.self) { return O.one }
                return O.zero
            default: break
            }
            if I.self == Float.self && (op == .sum || op == .max || op == .min) {
                let p = UnsafeRawPointer(run).assumingMemoryBound(to: Float.self)
                let v: Float = op == .sum ? parallelSum(p, n) : (op == .max ? zoo_max_f32(p, n) : zoo_min_f32(p, n))
                return O(floatValue: v)
            }
            if I.self == Float16.self && op == .sum {
                return O(floatValue: zoo_sum_f16(UnsafeRawPointer(run).assumingMemoryBound(to: UInt16.self), n))
            }
            if I.self == BFloat16.self && op == .sum {
                return O(floatValue: zoo_sum_bf16(UnsafeRawPointer(run).assumingMemoryBound(to: UInt16.self), n))
            }
            if I.self == Double.self {
                let p = UnsafeRawPointer(run).assumingMemoryBound(to: Double.self)
                switch op {
                case .sum: return O(fromDouble: zoo_sum_f64(p, n))
                case .prod: var a = 1.0; for j in 0..<n { a *= p[j] }; return O(fromDouble: a)
                case .max: var a = -Double.infinity; for j in 0..<n { let v = p[j]; if v.isNaN { return O(fromDouble: .nan) }; if v > a { a = v } }; return O(fromDouble: a)
                default: var a = Double.infinity; for j in 0..<n { let v = p[j]; if v.isNaN { return O(fromDouble: .nan) }; if v < a { a = v } }; return O(fromDouble: a)
                }
            }
            if I.self == Complex64.self {
                let p = UnsafeRawPointer(run).assumingMemoryBound(to: Complex64.self)
                var re: Float = op == .prod ? 1 : 0, im: Float = 0
                for j in 0..<n {
                    if op == .prod { (re, im) = (re * p[j].real - im * p[j].imaginary, re * p[j].imaginary + im * p[j].real) }
                    else { re += p[j].real; im += p[j].imaginary }
                }
                return unsafeBitCast(Complex64(re, im), to: O.self)
            }
            if I.isIntegral {
                // Integer accumulation in the output type (wrapping), as MLX does.
                switch op {
                case .sum:
                    var a: Int64 = 0
                    for j in 0..<n { a = a &+ run[j].int64Bits }
                    return O(int64Bits: a)
                case .prod:
                    var a: Int64 = 1
                    for j in 0..<n { a = a &* run[j].int64Bits }
                    return O(int64Bits: a)
                case .max, .min:
                    var best = run[0]
                    for j in 1..<max(n, 1) {
                        let v = run[j]
                        let greater = I.self == UInt64.self ? UInt64(bitPattern: v.int64Bits) > UInt64(bitPattern: best.int64Bits) : v.int64Bits > best.int64Bits
                        let less = I.self == UInt64.self ? UInt64(bitPattern: v.int64Bits) < UInt64(bitPattern: best.int64Bits) : v.int64Bits < best.int64Bits
                        if op == .max ? greater : less { best = v }
                    }
                    return convertScalar(best, to: O.self)
                default: return O.zero
                }
            }
            // float16 / bfloat16 / float32 prod, max, min: float32 accumulation.
            switch op {
            case .sum: var a: Float = 0; for j in 0..<n { a += run[j].floatValue }; return O(floatValue: a)
            case .prod: var a: Float = 1; for j in 0..<n { a *= run[j].floatValue }; return O(floatValue: a)
            case .max:
                var a = -Float.infinity
                for j in 0..<n { let v = run[j].floatValue; if v.isNaN { return O(floatValue: .nan) }; if v > a { a = v } }
                return O(floatValue: a)
            default:
                var a = Float.infinity
                for j in 0..<n { let v = run[j].floatValue; if v.isNaN { return O(floatValue: .nan) }; if v < a { a = v } }
                return O(floatValue: a)
            }
        }
    }
}

/// Sum of a long float32 run on all cores.
func parallelSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    if n < 1 << 18 || CPU.cores == 1 { return zoo_sum_f32(p, n) }
    // One contiguous run per core: each core streams a single region (measured on a 64 MB
    // sum: 2 parts 28-32 GB/s, 8 interleaved parts 22-25 GB/s).
    let parts = CPU.cores
    let partial = UnsafeMutablePointer<Float>.allocate(capacity: parts)
    defer { partial.deallocate() }
    CPU.parallelTasks(parts) { c in
        let lo = n * c / parts, hi = n * (c + 1) / parts
        partial[c] = zoo_sum_f32(p + lo, hi - lo)
    }
    var s: Float = 0
    for c in 0..<parts { s += partial[c] }
    return s
}

/// Index of the max / min along one axis (the last of the permuted view), uint32 output.
struct ArgReducePrimitive: Primitive {
    let isMax: Bool
    let axis: Int
    var name: String { isMax ? "argmax" : "argmin" }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? ArgReducePrimitive else { return false }
        return o.isMax == isMax && o.axis == axis
    }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let x = inputs[0]
        let out = ArrayData(allocating: outputs[0].shape, dtype: .uint32)
        let outCount = out.count
        if outCount == 0 { return [out] }
        let perm = (0..<x.ndim).filter { $0 != axis } + [axis]
        let permuted = x.view(offset: x.offset, shape: perm.map { x.shape[$0] }, strides: perm.map { x.strides[$0] })
        let n = x.shape[axis]
        if x.dtype == .float32, n > 0 {
            // float32 rows (a language model's logits): the C kernel, eight lanes at a time.
            let rows = contiguousData(permuted)
            let p = UncheckedBox(rows.pointer.assumingMemoryBound(to: Float.self))
            let dst = UncheckedBox(out.writePointer.assumingMemoryBound(to: UInt32.self))
            let isMax: Int32 = self.isMax ? 1 : 0
            CPU.parallelFor(outCount, work: outCount * n) { range in
                for k in range { dst.value[k] = UInt32(zoo_argext_f32(p.value + k * n, n, isMax)) }
            }
            withExtendedLifetime(rows) {}
            return [out]
        }
        // Compare in float64 (exact for every dtype but 64-bit integers beyond 2^53).
        let src = copyContiguous(permuted, to: x.dtype.isInteger && x.dtype.size == 8 ? x.dtype : .float64)
        let dst = out.writePointer.assumingMemoryBound(to: UInt32.self)
        let isMax = self.isMax
        func run<T: Comparable>(_ p: UnsafeMutablePointer<T>, isNaN: (T) -> Bool) {
            CPU.parallelFor(outCount, work: outCount * n) { range in
                for k in range {
                    let r = p + k * n
                    var best = 0
                    for j in 1..<max(n, 1) {
                        if isNaN(r[best]) { break }
                        if isNaN(r[j]) { best = j; break }
                        if isMax ? r[j] > r[best] : r[j] < r[best] { best = j }
                    }
                    dst[k] = UInt32(best)
                }
            }
        }
        switch src.dtype {
        case .int64: run(src.pointer.assumingMemoryBound(to: Int64.self), isNaN: { _ in false })
        case .uint64: run(src.pointer.assumingMemoryBound(to: UInt64.self), isNaN: { _ in false })
        default: run(src.pointer.assumingMemoryBound(to: Double.self), isNaN: { $0.isNaN })
        }
        return [out]
    }
}

/// Fused softmax / log-softmax over the last axis.
struct SoftmaxPrimitive: Primitive {
    let log: Bool
    var name: String { log ? "logsoftmax" : "softmax" }
    func isEquivalent(to other: any Primitive) -> Bool { (other as? SoftmaxPrimitive)?.log == log }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let x = inputs[0]
        let spec = outputs[0]
        let n = x.shape.last ?? 1
        let rows = n == 0 ? 0 : x.count / n
        if x.dtype == .float32 {
            let src = contiguousData(x)
            let out = ArrayData(allocating: spec.shape, dtype: .float32)
            if rows == 0 { return [out] }
            let ps = UncheckedBox(src.pointer.assumingMemoryBound(to: Float.self)), po = UncheckedBox(out.writePointer.assumingMemoryBound(to: Float.self))
            let log: Int32 = self.log ? 1 : 0
            CPU.parallelFor(rows, work: rows * n * 4) { r in
                zoo_softmax_f32(ps.value + r.lowerBound * n, po.value + r.lowerBound * n, r.count, n, log)
            }
            return [out]
        }
        // Half types and float64: compute in float32 / float64 then cast back.
        let wide: DType = x.dtype == .float64 ? .float64 : .float32
        let src = copyContiguous(x, to: wide)
        if wide == .float32 {
            let r = try SoftmaxPrimitive(log: log).evalCPU([src], outputs: [OutputSpec(spec.shape, .float32)])[0]
            return [copyContiguous(r, to: spec.dtype)]
        }
        let out = ArrayData(allocating: spec.shape, dtype: .float64)
        let p = src.pointer.assumingMemoryBound(to: Double.self), o = out.writePointer.assumingMemoryBound(to: Double.self)
        for r in 0..<rows {
            let xr = p + r * n, orow = o + r * n
            var m = -Double.infinity
            for j in 0..<n { m = Swift.max(m, xr[j]) }
            if m == -.infinity { m = 0 }
            var s = 0.0
            for j in 0..<n { s += Foundation.exp(xr[j] - m) }
            for j in 0..<n { orow[j] = log ? xr[j] - m - Foundation.log(s) : Foundation.exp(xr[j] - m) / s }
        }
        return [out]
    }
}
