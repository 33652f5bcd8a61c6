import CKernels
import Foundation

// MARK: - Unary

/// Float math for one unary op, in float32 and float64.
@inline(__always)
func unaryFloat<F: BinaryFloatingPoint & ElementaryMath>(_ op: UnaryOp, _ x: F) -> F {
    switch op {
    case .abs: return Swift.abs(x)
    case .negative: return -x
    case .sign: return x > 0 ? 1 : (x < 0 ? -1 : x)  // sign(±0) = ±0, NaN stays NaN
    case .exp: return F.exp(x)
    case .expm1: return F.expm1(x)
    case .log: return F.log(x)
    case .log1p: return F.log1p(x)
    case .log2: return F.log2(x)
    case .log10: return F.log10(x)
    case .sqrt: return x.squareRoot()
    case .rsqrt: return 1 / x.squareRoot()
    case .square: return x * x
    case .reciprocal: return 1 / x
    case .sin: return F.sin(x)
    case .cos: return F.cos(x)
    case .tan: return F.tan(x)
    case .asin: return F.asin(x)
    case .acos: return F.acos(x)
    case .atan: return F.atan(x)
    case .sinh: return F.sinh(x)
    case .cosh: return F.cosh(x)
    case .tanh: return F.tanh(x)
    case .asinh: return F.asinh(x)
    case .acosh: return F.acosh(x)
    case .atanh: return F.atanh(x)
    case .sigmoid: return 1 / (1 + F.exp(-x))  // as MLX computes it
    case .erf: return F.erf(x)
    case .erfInverse: return F.erfinv(x)
    case .floor: return x.rounded(.down)
    case .ceil: return x.rounded(.up)
    case .round: return x.rounded(.toNearestOrEven)
    case .real, .conjugate: return x
    case .imag: return 0
    case .isNaN, .isInf, .isFinite, .logicalNot: return x  // handled as predicates
    }
}

/// libm bridge so one generic body serves Float and Double.
protocol ElementaryMath {
    static func exp(_ x: Self) -> Self
    static func expm1(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func log1p(_ x: Self) -> Self
    static func log2(_ x: Self) -> Self
    static func log10(_ x: Self) -> Self
    static func sin(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
    static func tan(_ x: Self) -> Self
    static func asin(_ x: Self) -> Self
    static func acos(_ x: Self) -> Self
    static func atan(_ x: Self) -> Self
    static func sinh(_ x: Self) -> Self
    static func cosh(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func asinh(_ x: Self) -> Self
    static func acosh(_ x: Self) -> Self
    static func atanh(_ x: Self) -> Self
    static func erf(_ x: Self) -> Self
    static func erfinv(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
    static func atan2(_ y: Self, _ x: Self) -> Self
    static func fmod(_ x: Self, _ y: Self) -> Self
}

extension Float: ElementaryMath {
    static func exp(_ x: Float) -> Float { zoo_expf(x) }
    static func expm1(_ x: Float) -> Float { Foundation.expm1f(x) }
    static func log(_ x: Float) -> Float { Foundation.logf(x) }
    static func log1p(_ x: Float) -> Float { Foundation.log1pf(x) }
    static func log2(_ x: Float) -> Float { Foundation.log2f(x) }
    static func log10(_ x: Float) -> Float { Foundation.log10f(x) }
    static func sin(_ x: Float) -> Float { Foundation.sinf(x) }
    static func cos(_ x: Float) -> Float { Foundation.cosf(x) }
    static func tan(_ x: Float) -> Float { Foundation.tanf(x) }
    static func asin(_ x: Float) -> Float { Foundation.asinf(x) }
    static func acos(_ x: Float) -> Float { Foundation.acosf(x) }
    static func atan(_ x: Float) -> Float { Foundation.atanf(x) }
    static func sinh(_ x: Float) -> Float { Foundation.sinhf(x) }
    static func cosh(_ x: Float) -> Float { Foundation.coshf(x) }
    static func tanh(_ x: Float) -> Float { Foundation.tanhf(x) }
    static func asinh(_ x: Float) -> Float { Foundation.asinhf(x) }
    static func acosh(_ x: Float) -> Float { Foundation.acoshf(x) }
    static func atanh(_ x: Float) -> Float { Foundation.atanhf(x) }
    // MLX's own float32 erf / erfinv approximations, so results match it bit for bit.
    static func erf(_ x: Float) -> Float { RandomAlgorithms.erf(x) }
    static func erfinv(_ x: Float) -> Float { RandomAlgorithms.erfinv(x) }
    static func pow(_ x: Float, _ y: Float) -> Float { Foundation.powf(x, y) }
    static func atan2(_ y: Float, _ x: Float) -> Float { Foundation.atan2f(y, x) }
    static func fmod(_ x: Float, _ y: Float) -> Float { Foundation.fmodf(x, y) }
}

extension Double: ElementaryMath {
    static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    static func expm1(_ x: Double) -> Double { Foundation.expm1(x) }
    static func log(_ x: Double) -> Double { Foundation.log(x) }
    static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
    static func log2(_ x: Double) -> Double { Foundation.log2(x) }
    static func log10(_ x: Double) -> Double { Foundation.log10(x) }
    static func sin(_ x: Double) -> Double { Foundation.sin(x) }
    static func cos(_ x: Double) -> Double { Foundation.cos(x) }
    static func tan(_ x: Double) -> Double { Foundation.tan(x) }
    static func asin(_ x: Double) -> Double { Foundation.asin(x) }
    static func acos(_ x: Double) -> Double { Foundation.acos(x) }
    static func atan(_ x: Double) -> Double { Foundation.atan(x) }
    static func sinh(_ x: Double) -> Double { Foundation.sinh(x) }
    static func cosh(_ x: Double) -> Double { Foundation.cosh(x) }
    static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
    static func asinh(_ x: Double) -> Double { Foundation.asinh(x) }
    static func acosh(_ x: Double) -> Double { Foundation.acosh(x) }
    static func atanh(_ x: Double) -> Double { Foundation.atanh(x) }
    static func erf(_ x: Double) -> Double { Foundation.erf(x) }
    /// Inverse error function: Giles' single-precision-style initial guess refined by
    /// two Newton steps on erf in double precision.
    static func erfinv(_ y: Double) -> Double {
        if y.isNaN || y < -1 || y > 1 { return .nan }
        if y == 1 { return .infinity }
        if y == -1 { return -.infinity }
        var w = -Foundation.log((1 - y) * (1 + y))
        var x: Double
        if w < 5 {
            w -= 2.5
            var p = 2.81022636e-08
            p = 3.43273939e-07 + p * w; p = -3.5233877e-06 + p * w; p = -4.39150654e-06 + p * w
            p = 0.00021858087 + p * w; p = -0.00125372503 + p * w; p = -0.00417768164 + p * w
            p = 0.246640727 + p * w; p = 1.50140941 + p * w
            x = p * y
        } else {
            w = w.squareRoot() - 3
            var p = -0.000200214257
            p = 0.000100950558 + p * w; p = 0.00134934322 + p * w; p = -0.00367342844 + p * w
            p = 0.00573950773 + p * w; p = -0.0076224613 + p * w; p = 0.00943887047 + p * w
            p = 1.00167406 + p * w; p = 2.83297682 + p * w
            x = p * y
        }
        for _ in 0..<2 {
            let err = Foundation.erf(x) - y
            x -= err / (2 / Double.pi.squareRoot() * Foundation.exp(-x * x))
        }
        return x
    }
    static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
    static func atan2(_ y: Double, _ x: Double) -> Double { Foundation.atan2(y, x) }
    static func fmod(_ x: Double, _ y: Double) -> Double { Foundation.fmod(x, y) }
}

@inline(__always)
func unaryInt<T: FixedWidthInteger>(_ op: UnaryOp, _ x: T) -> T {
    switch op {
    case .abs: return T.isSigned && x < 0 ? 0 &- x : x
    case .negative: return 0 &- x
    case .sign: return x > 0 ? 1 : (x == 0 ? 0 : (0 &- 1))
    case .square: return x &* x
    default: return x  // floor, ceil, round, real, conjugate are identities on integers
    }
}

struct UnaryPrimitive: Primitive {
    let op: UnaryOp
    var name: String { op.rawValue }
    func isEquivalent(to other: any Primitive) -> Bool { (other as? UnaryPrimitive)?.op == op }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let x = inputs[0]
        let out = ArrayData(allocating: outputs[0].shape, dtype: outputs[0].dtype)
        if x.count == 0 { return [out] }
        let layout = StridedLayout(shape: x.shape, strides: [x.strides])
        let src = x.pointer, dst = out.writePointer
        // Vectorised float32 kernels for the hot ops.
        if x.dtype == .float32 && layout.innerStride(0) == 1, let code = cKernelCode {
            layout.forEachRun { o, n, offs in
                zoo_unary_f32(code, src.assumingMemoryBound(to: Float.self) + offs[0],
                              dst.assumingMemoryBound(to: Float.self) + o, n)
            }
            return [out]
        }
        x.dtype.dispatch(UnaryVisitor(op: op, layout: layout, src: src, dst: dst))
        return [out]
    }

    private var cKernelCode: Int32? {
        switch op {
        case .exp: 0
        case .negative: 1
        case .abs: 2
        case .square: 3
        case .sqrt: 4
        case .sigmoid: 5
        case .reciprocal: 9
        default: nil
        }
    }
}

private struct UnaryVisitor: DTypeVisitor {
    let op: UnaryOp
    let layout: StridedLayout
    let src: UnsafeMutableRawPointer
    let dst: UnsafeMutableRawPointer

    func visit<T: CPUScalar>(_ t: T.Type) {
        let s = src.assumingMemoryBound(to: T.self)
        let inner = layout.innerStride(0)
        switch op {
        case .isNaN, .isInf, .isFinite, .logicalNot:
            let d = dst.assumingMemoryBound(to: Bool.self)
            let op = self.op
            layout.forEachRun { o, n, offs in
                for i in 0..<n {
                    let v = s[offs[0] + i * inner]
                    switch op {
                    case .logicalNot: d[o + i] = !convertScalar(v, to: Bool.self)
                    case .isNaN: d[o + i] = !T.isIntegral && v.doubleValue.isNaN
                    case .isInf: d[o + i] = !T.isIntegral && v.doubleValue.isInfinite
                    default: d[o + i] = T.isIntegral || v.doubleValue.isFinite
                    }
                }
            }
            return
        default: break
        }
        let d = dst.assumingMemoryBound(to: T.self)
        let op = self.op
        if T.self == Double.self {
            let s = src.assumingMemoryBound(to: Double.self), d = dst.assumingMemoryBound(to: Double.self)
            layout.forEachRun { o, n, offs in for i in 0..<n { d[o + i] = unaryFloat(op, s[offs[0] + i * inner]) } }
        } else if T.self == Complex64.self {
            let s = src.assumingMemoryBound(to: Complex64.self), d = dst.assumingMemoryBound(to: Complex64.self)
            layout.forEachRun { o, n, offs in for i in 0..<n { d[o + i] = complexUnary(op, s[offs[0] + i * inner]) } }
        } else if T.isIntegral {
            layout.forEachRun { o, n, offs in
                for i in 0..<n { d[o + i] = integerUnary(op, s[offs[0] + i * inner]) }
            }
        } else {
            layout.forEachRun { o, n, offs in
                for i in 0..<n { d[o + i] = T(floatValue: unaryFloat(op, s[offs[0] + i * inner].floatValue)) }
            }
        }
    }
}

@inline(__always)
private func integerUnary<T: CPUScalar>(_ op: UnaryOp, _ v: T) -> T {
    switch v {
    case let x as Int8: return unaryInt(op, x) as! T
    case let x as Int16: return unaryInt(op, x) as! T
    case let x as Int32: return unaryInt(op, x) as! T
    case let x as Int64: return unaryInt(op, x) as! T
    case let x as UInt8: return unaryInt(op, x) as! T
    case let x as UInt16: return unaryInt(op, x) as! T
    case let x as UInt32: return unaryInt(op, x) as! T
    case let x as UInt64: return unaryInt(op, x) as! T
    case let x as Bool:
        switch op {
        case .abs, .square, .floor, .ceil, .round, .sign, .real, .conjugate: return x as! T
        default: return v
        }
    default: return v
    }
}

/// Complex math in double precision (principal branches, as NumPy and MLX).
private struct Z {
    var re: Double, im: Double
    init(_ re: Double, _ im: Double = 0) { self.re = re; self.im = im }
    static func + (a: Z, b: Z) -> Z { Z(a.re + b.re, a.im + b.im) }
    static func - (a: Z, b: Z) -> Z { Z(a.re - b.re, a.im - b.im) }
    static func * (a: Z, b: Z) -> Z { Z(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re) }
    static func / (a: Z, b: Z) -> Z {
        let d = b.re * b.re + b.im * b.im
        return Z((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d)
    }
    var abs: Double { hypot(re, im) }
    var log: Z { Z(Foundation.log(abs), Foundation.atan2(im, re)) }
    var sqrt: Z {
        if re == 0 && im == 0 { return Z(0, im) }
        let m = abs
        let r = Foundation.sqrt((m + Swift.abs(re)) / 2)
        if re >= 0 { return Z(r, im / (2 * r)) }
        return Z(Swift.abs(im) / (2 * r), im < 0 ? -r : r)
    }
    static let i = Z(0, 1)
}

private func complexUnary(_ op: UnaryOp, _ c: Complex64) -> Complex64 {
    let z = Z(Double(c.real), Double(c.imaginary))
    let one = Z(1)
    let r: Z
    switch op {
    case .negative: r = Z(-z.re, -z.im)
    case .conjugate: r = Z(z.re, -z.im)
    case .real: r = Z(z.re)
    case .imag: r = Z(z.im)
    case .abs: r = Z(z.abs)
    case .square: r = z * z
    case .sign: r = z.abs == 0 ? Z(0) : Z(z.re / z.abs, z.im / z.abs)
    case .exp: let e = Foundation.exp(z.re); r = Z(e * Foundation.cos(z.im), e * Foundation.sin(z.im))
    case .log: r = z.log
    case .log1p: r = (one + z).log
    case .log2: let l = z.log; r = Z(l.re / M_LN2, l.im / M_LN2)
    case .log10: let l = z.log; r = Z(l.re / M_LN10, l.im / M_LN10)
    case .sqrt: r = z.sqrt
    case .rsqrt: r = one / z.sqrt
    case .reciprocal: r = one / z
    case .sin: r = Z(Foundation.sin(z.re) * Foundation.cosh(z.im), Foundation.cos(z.re) * Foundation.sinh(z.im))
    case .cos: r = Z(Foundation.cos(z.re) * Foundation.cosh(z.im), -Foundation.sin(z.re) * Foundation.sinh(z.im))
    case .tan:
        r = Z(Foundation.sin(z.re) * Foundation.cosh(z.im), Foundation.cos(z.re) * Foundation.sinh(z.im))
            / Z(Foundation.cos(z.re) * Foundation.cosh(z.im), -Foundation.sin(z.re) * Foundation.sinh(z.im))
    case .sinh: r = Z(Foundation.sinh(z.re) * Foundation.cos(z.im), Foundation.cosh(z.re) * Foundation.sin(z.im))
    case .cosh: r = Z(Foundation.cosh(z.re) * Foundation.cos(z.im), Foundation.sinh(z.re) * Foundation.sin(z.im))
    case .tanh:
        r = Z(Foundation.sinh(z.re) * Foundation.cos(z.im), Foundation.cosh(z.re) * Foundation.sin(z.im))
            / Z(Foundation.cosh(z.re) * Foundation.cos(z.im), Foundation.sinh(z.re) * Foundation.sin(z.im))
    case .asin: r = Z(0, -1) * (Z.i * z + (one - z * z).sqrt).log
    case .acos: let a = Z(0, -1) * (Z.i * z + (one - z * z).sqrt).log; r = Z(Double.pi / 2 - a.re, -a.im)
    case .atan: r = Z(0, 0.5) * ((one - Z.i * z).log - (one + Z.i * z).log)
    case .asinh: r = (z + (z * z + one).sqrt).log
    case .acosh: r = (z + (z + one).sqrt * (z - one).sqrt).log
    case .atanh: r = Z(0.5) * ((one + z).log - (one - z).log)
    case .round: r = Z(z.re.rounded(.toNearestOrEven), z.im.rounded(.toNearestOrEven))
    default: r = Z(.nan, .nan)
    }
    return Complex64(Float(r.re), Float(r.im))
}
