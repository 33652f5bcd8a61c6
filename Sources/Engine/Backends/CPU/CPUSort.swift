import CKernels
import Foundation

/// `x` with the last axis contiguous and lines `n` apart (a contiguous copy when needed).
private func linesOf(_ x: ArrayData) -> ArrayData {
    x.isRowContiguous && !x.strides.contains(0) ? x : copyContiguous(x, to: x.dtype)
}

/// Stable ascending sort along the last axis (NaN last, -0 equal to +0, as MLX);
/// values (`arg` false) or uint32 indices (`arg` true).
struct SortPrimitive: Primitive {
    let arg: Bool
    var name: String { arg ? "argsort" : "sort" }
    func isEquivalent(to other: any Primitive) -> Bool { (other as? SortPrimitive)?.arg == arg }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: spec.dtype)
        let n = spec.shape.last ?? 1
        let lines = n == 0 ? 0 : out.count / n
        if lines == 0 { return [out] }
        let x = linesOf(inputs[0])
        let xp = UncheckedBox(UnsafeRawPointer(x.pointer)), op = UncheckedBox(out.writePointer)
        let dt = x.dtype, es = dt.size, arg = arg
        let radix = ![.int64, .uint64, .float64, .complex64].contains(dt)
        CPU.parallelFor(lines, work: lines * n * 8) { range in
            var keys = [UInt32](repeating: 0, count: n), idx = [UInt32](repeating: 0, count: n)
            var tk = [UInt32](repeating: 0, count: n), ti = [UInt32](repeating: 0, count: n)
            var fl = dt == .float16 || dt == .bfloat16 ? [Float](repeating: 0, count: n) : []
            for line in range {
                let src = xp.value + line * n * es
                for i in 0..<n { idx[i] = UInt32(i) }
                if radix {
                    makeKeys(src, dt, n, &keys, &fl)
                    keys.withUnsafeMutableBufferPointer { k in idx.withUnsafeMutableBufferPointer { ix in
                        tk.withUnsafeMutableBufferPointer { a in ti.withUnsafeMutableBufferPointer { b in
                            zoo_radix_sort_u32(k.baseAddress, ix.baseAddress, n, a.baseAddress, b.baseAddress)
                        } }
                    } }
                } else {
                    comparisonSort(src, dt, n, &idx)
                }
                if arg {
                    let o = (op.value + line * n * 4).assumingMemoryBound(to: UInt32.self)
                    for i in 0..<n { o[i] = idx[i] }
                } else {
                    gatherElements(src, op.value + line * n * es, idx, es)
                }
            }
        }
        withExtendedLifetime(x) {}
        return [out]
    }

    /// dst[i] = src[idx[i]] for elements of `es` bytes.
    private func gatherElements(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, _ idx: [UInt32], _ es: Int) {
        func run<E>(_: E.Type) {
            let s = src.assumingMemoryBound(to: E.self), d = dst.assumingMemoryBound(to: E.self)
            idx.withUnsafeBufferPointer { ix in for i in 0..<ix.count { d[i] = s[Int(ix[i])] } }
        }
        switch es {
        case 1: run(UInt8.self)
        case 2: run(UInt16.self)
        case 4: run(UInt32.self)
        default: run(UInt64.self)
        }
    }

    func makeKeys(_ src: UnsafeRawPointer, _ dt: DType, _ n: Int, _ keys: inout [UInt32], _ fl: inout [Float]) {
        keys.withUnsafeMutableBufferPointer { k in
            let kp = k.baseAddress!
            switch dt {
            case .float32: zoo_float_keys(src.assumingMemoryBound(to: Float.self), kp, n)
            case .float16, .bfloat16:
                fl.withUnsafeMutableBufferPointer { f in
                    let u = src.assumingMemoryBound(to: UInt16.self)
                    if dt == .float16 { zoo_f16_to_f32(u, f.baseAddress, n) } else { zoo_bf16_to_f32(u, f.baseAddress, n) }
                    zoo_float_keys(f.baseAddress, kp, n)
                }
            case .int8: let p = src.assumingMemoryBound(to: Int8.self); for i in 0..<n { kp[i] = UInt32(bitPattern: Int32(p[i])) ^ 0x8000_0000 }
            case .int16: let p = src.assumingMemoryBound(to: Int16.self); for i in 0..<n { kp[i] = UInt32(bitPattern: Int32(p[i])) ^ 0x8000_0000 }
            case .int32: let p = src.assumingMemoryBound(to: Int32.self); for i in 0..<n { kp[i] = UInt32(bitPattern: p[i]) ^ 0x8000_0000 }
            case .uint8, .bool: let p = src.assumingMemoryBound(to: UInt8.self); for i in 0..<n { kp[i] = UInt32(p[i]) }
            case .uint16: let p = src.assumingMemoryBound(to: UInt16.self); for i in 0..<n { kp[i] = UInt32(p[i]) }
            case .uint32: let p = src.assumingMemoryBound(to: UInt32.self); for i in 0..<n { kp[i] = p[i] }
            default: preconditionFailure("no 32-bit keys for \(dt)")
            }
        }
    }

    /// 64-bit and complex types: a comparison sort with the index as tie-break (stable).
    private func comparisonSort(_ src: UnsafeRawPointer, _ dt: DType, _ n: Int, _ idx: inout [UInt32]) {
        switch dt {
        case .int64:
            let p = src.assumingMemoryBound(to: Int64.self)
            idx.sort { p[Int($0)] != p[Int($1)] ? p[Int($0)] < p[Int($1)] : $0 < $1 }
        case .uint64:
            let p = src.assumingMemoryBound(to: UInt64.self)
            idx.sort { p[Int($0)] != p[Int($1)] ? p[Int($0)] < p[Int($1)] : $0 < $1 }
        case .float64:
            let p = src.assumingMemoryBound(to: Double.self)
            idx.sort { a, b in
                let x = p[Int(a)], y = p[Int(b)]
                if x.isNaN || y.isNaN { return x.isNaN == y.isNaN ? a < b : y.isNaN }
                return x != y ? x < y : a < b
            }
        default:
            // complex64: lexicographic (real, imaginary), as NumPy orders complex numbers
            let p = src.assumingMemoryBound(to: Complex64.self)
            idx.sort { a, b in
                let x = p[Int(a)], y = p[Int(b)]
                if x.real != y.real { return x.real < y.real }
                if x.imaginary != y.imaginary { return x.imaginary < y.imaginary }
                return a < b
            }
        }
    }
}

/// The k largest values along the last axis, ascending (ties: the later index wins, as a stable
/// ascending sort's tail). 32-bit-key types select with a size-k heap (O(n log k)); the
/// others sort.
struct TopKPrimitive: Primitive {
    let k: Int
    var name: String { "topk" }
    func isEquivalent(to other: any Primitive) -> Bool { (other as? TopKPrimitive)?.k == k }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: spec.dtype)
        let x = linesOf(inputs[0])
        let n = x.shape.last ?? 1, k = self.k
        let lines = k == 0 ? 0 : out.count / k
        if lines == 0 { return [out] }
        let dt = x.dtype, es = dt.size
        if [.int64, .uint64, .float64, .complex64].contains(dt) {
            // Sort, then keep the tail.
            let sorted = try SortPrimitive(arg: false).evalCPU([x], outputs: [OutputSpec(x.shape, dt)])[0]
            let sp = UnsafeRawPointer(sorted.pointer), dp = out.writePointer
            for l in 0..<lines { (dp + l * k * es).copyMemory(from: sp + (l * n + n - k) * es, byteCount: k * es) }
            return [out]
        }
        let xp = UncheckedBox(UnsafeRawPointer(x.pointer)), op = UncheckedBox(out.writePointer)
        let sorter = SortPrimitive(arg: false)
        CPU.parallelFor(lines, work: lines * n * 2) { range in
            var keys = [UInt32](repeating: 0, count: n)
            var fl = dt == .float16 || dt == .bfloat16 ? [Float](repeating: 0, count: n) : []
            // Min-heap of (key, index) pairs packed in a UInt64: larger index wins ties.
            var heap = [UInt64](repeating: 0, count: k)
            for line in range {
                let src = xp.value + line * n * es
                sorter.makeKeys(src, dt, n, &keys, &fl)
                var size = 0
                keys.withUnsafeBufferPointer { kb in
                    heap.withUnsafeMutableBufferPointer { h in
                        for i in 0..<n {
                            let v = UInt64(kb[i]) << 32 | UInt64(i)
                            if size < k {
                                var c = size; size += 1
                                while c > 0 { let p = (c - 1) / 2; if h[p] <= v { break }; h[c] = h[p]; c = p }
                                h[c] = v
                            } else if v > h[0] {
                                var c = 0
                                while true {
                                    let l = 2 * c + 1
                                    if l >= k { break }
                                    var m = l
                                    if l + 1 < k && h[l + 1] < h[l] { m = l + 1 }
                                    if h[m] >= v { break }
                                    h[c] = h[m]; c = m
                                }
                                h[c] = v
                            }
                        }
                    }
                }
                heap.sort()
                let dst = op.value + line * k * es
                for (j, e) in heap.enumerated() {
                    (dst + j * es).copyMemory(from: src + Int(e & 0xFFFF_FFFF) * es, byteCount: es)
                }
            }
        }
        withExtendedLifetime(x) {}
        return [out]
    }
}

/// Scans (cumulative sum/prod/max/min/logaddexp) along the last axis.
enum ScanOp: String, Sendable { case sum, prod, max, min, logaddexp }

struct ScanPrimitive: Primitive {
    let op: ScanOp
    let reverse: Bool
    let inclusive: Bool
    var name: String { "cum" + op.rawValue }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? ScanPrimitive else { return false }
        return o.op == op && o.reverse == reverse && o.inclusive == inclusive
    }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: spec.dtype)
        let n = spec.shape.last ?? 1
        let lines = n == 0 ? 0 : out.count / n
        if lines == 0 { return [out] }
        let x = inputs[0].dtype == spec.dtype ? linesOf(inputs[0]) : copyContiguous(inputs[0], to: spec.dtype)
        spec.dtype.dispatch(ScanVisitor(op: op, reverse: reverse, inclusive: inclusive, src: UnsafeRawPointer(x.pointer),
                                        dst: out.writePointer, n: n, lines: lines))
        withExtendedLifetime(x) {}
        return [out]
    }
}

private struct ScanVisitor: DTypeVisitor {
    let op: ScanOp, reverse: Bool, inclusive: Bool
    let src: UnsafeRawPointer, dst: UnsafeMutableRawPointer
    let n: Int, lines: Int

    func visit<T: CPUScalar>(_ t: T.Type) {
        let s = UncheckedBox(src.assumingMemoryBound(to: T.self)), d = UncheckedBox(dst.assumingMemoryBound(to: T.self))
        let (op, reverse, inclusive, n) = (op, reverse, inclusive, n)
        CPU.parallelFor(lines, work: lines * n * 4) { range in
            for line in range {
                let x = s.value + line * n, y = d.value + line * n
                if T.isIntegral { Self.scanInt(op, x, y, n, reverse, inclusive) } else { Self.scanFloat(op, x, y, n, reverse, inclusive) }
            }
        }
    }

    /// Integers (and bool): 64-bit arithmetic that wraps like the storage type.
    static func scanInt<T: CPUScalar>(_ op: ScanOp, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int,
                                      _ reverse: Bool, _ inclusive: Bool) {
        let unsigned = T.self == UInt64.self || T.self == UInt32.self || T.self == UInt16.self || T.self == UInt8.self || T.self == Bool.self
        var acc: Int64
        switch op {
        case .sum: acc = 0
        case .prod: acc = 1
        case .max: acc = unsigned ? 0 : lowest(T.self)
        case .min: acc = highest(T.self)
        case .logaddexp: acc = 0
        }
        for j in 0..<n {
            let i = reverse ? n - 1 - j : j
            let v = x[i].int64Bits
            if !inclusive { y[i] = T(int64Bits: acc) }
            switch op {
            case .sum: acc = T(int64Bits: acc &+ v).int64Bits
            case .prod: acc = T(int64Bits: acc &* v).int64Bits
            case .max: acc = unsigned ? (UInt64(bitPattern: v) > UInt64(bitPattern: acc) ? v : acc) : Swift.max(acc, v)
            case .min: acc = unsigned ? (UInt64(bitPattern: v) < UInt64(bitPattern: acc) ? v : acc) : Swift.min(acc, v)
            case .logaddexp: break
            }
            if inclusive { y[i] = T(int64Bits: acc) }
        }
    }

    static func lowest<T: CPUScalar>(_: T.Type) -> Int64 {
        switch T.self {
        case is Int8.Type: return Int64(Int8.min)
        case is Int16.Type: return Int64(Int16.min)
        case is Int32.Type: return Int64(Int32.min)
        case is Int64.Type: return Int64.min
        default: return 0
        }
    }

    static func highest<T: CPUScalar>(_: T.Type) -> Int64 {
        switch T.self {
        case is Int8.Type: return Int64(Int8.max)
        case is Int16.Type: return Int64(Int16.max)
        case is Int32.Type: return Int64(Int32.max)
        case is Int64.Type: return Int64.max
        case is UInt8.Type: return Int64(UInt8.max)
        case is UInt16.Type: return Int64(UInt16.max)
        case is UInt32.Type: return Int64(UInt32.max)
        case is Bool.Type: return 1
        default: return -1  // UInt64.max as bits
        }
    }

    /// Floats: float32 and narrower accumulate in Float rounded to T after every step (the
    /// arithmetic of T); float64 in Double.
    static func scanFloat<T: CPUScalar>(_ op: ScanOp, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int,
                                        _ reverse: Bool, _ inclusive: Bool) {
        var acc: Double
        switch op {
        case .sum: acc = 0
        case .prod: acc = 1
        case .max, .logaddexp: acc = -.infinity
        case .min: acc = .infinity
        }
        let wide = T.self == Double.self
        for j in 0..<n {
            let i = reverse ? n - 1 - j : j
            let v = x[i].doubleValue
            if !inclusive { y[i] = T(fromDouble: acc) }
            var r: Double
            switch op {
            case .sum: r = acc + v
            case .prod: r = acc * v
            case .max: r = v.isNaN || acc.isNaN ? .nan : Swift.max(acc, v)
            case .min: r = v.isNaN || acc.isNaN ? .nan : Swift.min(acc, v)
            case .logaddexp:
                let m = Swift.max(acc, v)
                r = m == -.infinity ? -.infinity : (m.isNaN ? .nan : m + Foundation.log1p(Foundation.exp(-Swift.abs(acc - v))))
            }
            if !wide {
                // one float32 operation, then the rounding of T
                let f: Float
                switch op {
                case .sum: f = Float(acc) + Float(v)
                case .prod: f = Float(acc) * Float(v)
                default: f = Float(r)
                }
                r = T(fromDouble: Double(f)).doubleValue
            }
            acc = r
            if inclusive { y[i] = T(fromDouble: acc) }
        }
    }
}
