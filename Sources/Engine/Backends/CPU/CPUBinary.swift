import CKernels
import Foundation

@inline(__always)
func binaryFloat<F: BinaryFloatingPoint & ElementaryMath>(_ op: BinaryOp, _ a: F, _ b: F) -> F {
    switch op {
    case .add: return a + b
    case .subtract: return a - b
    case .multiply: return a * b
    case .divide: return a / b
    case .floorDivide: return (a / b).rounded(.down)
    case .remainder:
        // Python semantics: the result has the sign of the divisor.
        let r = F.fmod(a, b)
        return r != 0 && ((r < 0) != (b < 0)) ? r + b : r
    case .power: return F.pow(a, b)
    case .maximum: return a.isNaN || b.isNaN ? a + b : (a > b ? a : b)
    case .minimum: return a.isNaN || b.isNaN ? a + b : (a < b ? a : b)
    case .atan2: return F.atan2(a, b)
    default: return 0
    }
}

@inline(__always)
func binaryInt<T: FixedWidthInteger>(_ op: BinaryOp, _ a: T, _ b: T) -> T {
    switch op {
    case .add: return a &+ b
    case .subtract: return a &- b
    case .multiply: return a &* b
    case .divide, .floorDivide:
        if b == 0 { return 0 }
        if T.isSigned && b == 0 &- 1 { return 0 &- a }
        let q = a / b
        return (a % b != 0) && ((a < 0) != (b < 0)) ? q - 1 : q
    case .remainder:
        if b == 0 { return 0 }
        if T.isSigned && b == 0 &- 1 { return 0 }
        let r = a % b
        return r != 0 && ((r < 0) != (b < 0)) ? r &+ b : r
    case .power:
        if T.isSigned && b < 0 { return 0 }
        var result: T = 1, base = a, e = b
        while e > 0 {
            if e & 1 == 1 { result = result &* base }
            base = base &* base
            e >>= 1
        }
        return result
    case .maximum: return a > b ? a : b
    case .minimum: return a < b ? a : b
    case .atan2: return T(truncatingIfNeeded: Int64(Foundation.atan2(Double(a), Double(b))))
    default: return 0
    }
}

@inline(__always)
func compare<T: Comparable>(_ op: BinaryOp, _ a: T, _ b: T) -> Bool {
    switch op {
    case .equal: return a == b
    case .notEqual: return a != b
    case .less: return a < b
    case .lessEqual: return a <= b
    case .greater: return a > b
    case .greaterEqual: return a >= b
    default: return false
    }
}

struct BinaryPrimitive: Primitive {
    let op: BinaryOp
    var name: String { op.rawValue }
    func isEquivalent(to other: any Primitive) -> Bool { (other as? BinaryPrimitive)?.op == op }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let a = inputs[0], b = inputs[1]
        let out = ArrayData(allocating: outputs[0].shape, dtype: outputs[0].dtype)
        if out.count == 0 { return [out] }
        // Small dense float32 operands (a residual add while decoding): one call, without the
        // layout analysis, which costs more than the arithmetic at these sizes.
        if a.dtype == .float32, b.dtype == .float32, out.dtype == .float32, out.count < CPU.parallelThreshold, let code = cCode,
           let sa = Self.denseStride(a, out.count), let sb = Self.denseStride(b, out.count) {
            zoo_binary_f32(code, a.pointer.assumingMemoryBound(to: Float.self), sa,
                           b.pointer.assumingMemoryBound(to: Float.self), sb,
                           out.writePointer.assumingMemoryBound(to: Float.self), out.count)
            return [out]
        }
        let layout = StridedLayout(shape: out.shape, strides: [a.strides, b.strides])
        let pa = a.pointer, pb = b.pointer, po = out.writePointer
        let sa = layout.innerStride(0), sb = layout.innerStride(1)
        if a.dtype == .float32, sa == 0 || sa == 1, sb == 0 || sb == 1, let code = cCode {
            layout.forEachRun { o, n, offs in
                zoo_binary_f32(code, pa.assumingMemoryBound(to: Float.self) + offs[0], sa,
                               pb.assumingMemoryBound(to: Float.self) + offs[1], sb,
                               po.assumingMemoryBound(to: Float.self) + o, n)
            }
            return [out]
        }
        a.dtype.dispatch(BinaryVisitor(op: op, layout: layout, pa: pa, pb: pb, po: po))
        return [out]
    }

    /// 1 when `x` holds `count` elements row-contiguously, 0 when it is one value; nil otherwise.
    private static func denseStride(_ x: ArrayData, _ count: Int) -> Int? {
        let n = x.count
        if n == count && x.isRowContiguous { return 1 }
        return n == 1 ? 0 : nil
    }

    private var cCode: Int32? {
        switch op {
        case .add: 0
        case .subtract: 1
        case .multiply: 2
        case .divide: 3
        case .maximum: 4
        case .minimum: 5
        default: nil
        }
    }
}

private struct BinaryVisitor: DTypeVisitor {
    let op: BinaryOp
    let layout: StridedLayout
    let pa: UnsafeMutableRawPointer, pb: UnsafeMutableRawPointer, po: UnsafeMutableRawPointer

    func visit<T: CPUScalar>(_ t: T.Type) {
        let a = pa.assumingMemoryBound(to: T.self), b = pb.assumingMemoryBound(to: T.self)
        let sa = layout.innerStride(0), sb = layout.innerStride(1)
        let op = self.op
        if op == .logicalAnd || op == .logicalOr {
            let o = po.assumingMemoryBound(to: Bool.self)
            let isAnd = op == .logicalAnd
            layout.forEachRun { start, n, offs in
                for i in 0..<n {
                    let x = convertScalar(a[offs[0] + i * sa], to: Bool.self)
                    let y = convertScalar(b[offs[1] + i * sb], to: Bool.self)
                    o[start + i] = isAnd ? (x && y) : (x || y)
                }
            }
            return
        }
        if op.isComparison {
            let o = po.assumingMemoryBound(to: Bool.self)
            layout.forEachRun { start, n, offs in
                for i in 0..<n { o[start + i] = compareScalars(op, a[offs[0] + i * sa], b[offs[1] + i * sb]) }
            }
            return
        }
        let o = po.assumingMemoryBound(to: T.self)
        layout.forEachRun { start, n, offs in
            for i in 0..<n { o[start + i] = combine(op, a[offs[0] + i * sa], b[offs[1] + i * sb]) }
        }
    }
}

@inline(__always)
private func compareScalars<T: CPUScalar>(_ op: BinaryOp, _ x: T, _ y: T) -> Bool {
    switch (x, y) {
    case let (x as Float, y as Float): return compare(op, x, y)
    case let (x as Double, y as Double): return compare(op, x, y)
    case let (x as Int32, y as Int32): return compare(op, x, y)
    case let (x as Int64, y as Int64): return compare(op, x, y)
    case let (x as UInt64, y as UInt64): return compare(op, x, y)
    case let (x as Bool, y as Bool): return compare(op, x ? 1 : 0, y ? 1 : 0)
    case let (x as Complex64, y as Complex64):
        switch op {
        case .equal: return x == y
        case .notEqual: return x != y
        default: return compare(op, (x.real, x.imaginary) < (y.real, y.imaginary) ? 0 : ((x.real, x.imaginary) == (y.real, y.imaginary) ? 1 : 2), 1)
        }
    default:
        if T.isIntegral { return compare(op, x.int64Bits, y.int64Bits) }
        return compare(op, x.floatValue, y.floatValue)
    }
}

@inline(__always)
private func combine<T: CPUScalar>(_ op: BinaryOp, _ x: T, _ y: T) -> T {
    switch (x, y) {
    case let (x as Double, y as Double): return binaryFloat(op, x, y) as! T
    case let (x as Int32, y as Int32): return binaryInt(op, x, y) as! T
    case let (x as Int64, y as Int64): return binaryInt(op, x, y) as! T
    case let (x as Int8, y as Int8): return binaryInt(op, x, y) as! T
    case let (x as Int16, y as Int16): return binaryInt(op, x, y) as! T
    case let (x as UInt8, y as UInt8): return binaryInt(op, x, y) as! T
    case let (x as UInt16, y as UInt16): return binaryInt(op, x, y) as! T
    case let (x as UInt32, y as UInt32): return binaryInt(op, x, y) as! T
    case let (x as UInt64, y as UInt64): return binaryInt(op, x, y) as! T
    case let (x as Bool, y as Bool):
        let r = binaryInt(op, UInt8(x ? 1 : 0), UInt8(y ? 1 : 0))
        return (r != 0) as! T
    case let (x as Complex64, y as Complex64): return complexBinary(op, x, y) as! T
    default:
        return T(floatValue: binaryFloat(op, x.floatValue, y.floatValue))
    }
}

private func complexBinary(_ op: BinaryOp, _ a: Complex64, _ b: Complex64) -> Complex64 {
    switch op {
    case .add: return Complex64(a.real + b.real, a.imaginary + b.imaginary)
    case .subtract: return Complex64(a.real - b.real, a.imaginary - b.imaginary)
    case .multiply: return Complex64(a.real * b.real - a.imaginary * b.imaginary, a.real * b.imaginary + a.imaginary * b.real)
    case .divide:
        let d = b.real * b.real + b.imaginary * b.imaginary
        return Complex64((a.real * b.real + a.imaginary * b.imaginary) / d, (a.imaginary * b.real - a.real * b.imaginary) / d)
    default: return Complex64(.nan, .nan)
    }
}
