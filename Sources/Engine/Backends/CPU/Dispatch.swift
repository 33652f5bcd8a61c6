import Foundation

/// A function generic over the storage type of a dtype (Swift has no generic closures).
protocol DTypeVisitor {
    associatedtype Result
    func visit<T: CPUScalar>(_ type: T.Type) -> Result
}

extension DType {
    func dispatch<V: DTypeVisitor>(_ v: V) -> V.Result {
        switch self {
        case .bool: return v.visit(Bool.self)
        case .uint8: return v.visit(UInt8.self)
        case .uint16: return v.visit(UInt16.self)
        case .uint32: return v.visit(UInt32.self)
        case .uint64: return v.visit(UInt64.self)
        case .int8: return v.visit(Int8.self)
        case .int16: return v.visit(Int16.self)
        case .int32: return v.visit(Int32.self)
        case .int64: return v.visit(Int64.self)
        case .float16: return v.visit(Float16.self)
        case .bfloat16: return v.visit(BFloat16.self)
        case .float32: return v.visit(Float.self)
        case .float64: return v.visit(Double.self)
        case .complex64: return v.visit(Complex64.self)
        }
    }
}

/// Storage scalars as the CPU kernels see them: conversions with C-cast semantics.
protocol CPUScalar: TensorScalar {
    static var isIntegral: Bool { get }
    /// Integer value (bit-preserving for 64-bit unsigned), or truncated float.
    var int64Bits: Int64 { get }
    init(int64Bits: Int64)
    /// float32 value used for computing half types.
    var floatValue: Float { get }
    init(floatValue: Float)
    static var zero: Self { get }
    static var one: Self { get }
}

extension CPUScalar where Self: FixedWidthInteger {
    static var isIntegral: Bool { true }
    var int64Bits: Int64 { Int64(truncatingIfNeeded: self) }
    init(int64Bits: Int64) { self.init(truncatingIfNeeded: int64Bits) }
    var floatValue: Float { Float(self) }
    init(floatValue: Float) { self.init(fromDouble: Double(floatValue)) }
    static var zero: Self { 0 }
    static var one: Self { 1 }
}
extension UInt8: CPUScalar {}
extension UInt16: CPUScalar {}
extension UInt32: CPUScalar {}
extension UInt64: CPUScalar {}
extension Int8: CPUScalar {}
extension Int16: CPUScalar {}
extension Int32: CPUScalar {}
extension Int64: CPUScalar {}

extension Bool: CPUScalar {
    static var isIntegral: Bool { true }
    var int64Bits: Int64 { self ? 1 : 0 }
    init(int64Bits: Int64) { self = int64Bits != 0 }
    var floatValue: Float { self ? 1 : 0 }
    init(floatValue: Float) { self = floatValue != 0 }
    static var zero: Bool { false }
    static var one: Bool { true }
}

/// Float to integer as a C cast on x86 would do for in-range values.
@inline(__always) func truncToInt64(_ d: Double) -> Int64 {
    if d.isNaN { return Int64.min }
    if d >= 9.2233720368547758e18 { return d < 1.8446744073709552e19 ? Int64(bitPattern: UInt64(d)) : Int64.min }
    if d < -9.2233720368547758e18 { return Int64.min }
    return Int64(d.rounded(.towardZero))
}

extension Float16: CPUScalar {
    static var isIntegral: Bool { false }
    var int64Bits: Int64 { truncToInt64(Double(Float(self))) }
    init(int64Bits: Int64) { self = Float16(Float(int64Bits)) }
    var floatValue: Float { Float(self) }
    init(floatValue: Float) { self = Float16(floatValue) }
    static var zero: Float16 { 0 }
    static var one: Float16 { 1 }
}
extension BFloat16: CPUScalar {
    static var isIntegral: Bool { false }
    var int64Bits: Int64 { truncToInt64(Double(float)) }
    init(int64Bits: Int64) { self.init(Float(int64Bits)) }
    var floatValue: Float { float }
    init(floatValue: Float) { self.init(floatValue) }
    static var zero: BFloat16 { BFloat16(bitPattern: 0) }
    static var one: BFloat16 { BFloat16(Float(1)) }
}
extension Float: CPUScalar {
    static var isIntegral: Bool { false }
    var int64Bits: Int64 { truncToInt64(Double(self)) }
    init(int64Bits: Int64) { self = Float(int64Bits) }
    var floatValue: Float { self }
    init(floatValue: Float) { self = floatValue }
    static var one: Float { 1 }
}
extension Double: CPUScalar {
    static var isIntegral: Bool { false }
    var int64Bits: Int64 { truncToInt64(self) }
    init(int64Bits: Int64) { self = Double(int64Bits) }
    var floatValue: Float { Float(self) }
    init(floatValue: Float) { self = Double(floatValue) }
    static var one: Double { 1 }
}
extension Complex64: CPUScalar {
    static var isIntegral: Bool { false }
    var int64Bits: Int64 { truncToInt64(Double(real)) }
    init(int64Bits: Int64) { self.init(Float(int64Bits), 0) }
    var floatValue: Float { real }
    init(floatValue: Float) { self.init(floatValue, 0) }
    static var zero: Complex64 { Complex64(0, 0) }
    static var one: Complex64 { Complex64(1, 0) }
}

@inline(__always)
func convertScalar<S: CPUScalar, D: CPUScalar>(_ s: S, to: D.Type) -> D {
    if S.self == D.self { return unsafeBitCast(s, to: D.self) }
    if D.self == Bool.self {
        if let c = s as? Complex64 { return unsafeBitCast(c.real != 0 || c.imaginary != 0, to: D.self) }
        return unsafeBitCast(S.isIntegral ? s.int64Bits != 0 : s.doubleValue != 0, to: D.self)
    }
    if S.isIntegral && D.isIntegral { return D(int64Bits: s.int64Bits) }
    if S.isIntegral {
        if S.self == UInt64.self { return D(fromDouble: Double(UInt64(bitPattern: s.int64Bits))) }
        return D(fromDouble: Double(s.int64Bits))
    }
    if D.isIntegral { return D(int64Bits: truncToInt64(s.doubleValue)) }
    if D.self == Complex64.self, let c = s as? Complex64 { return unsafeBitCast(c, to: D.self) }
    if D.self == Double.self { return unsafeBitCast(s.doubleValue, to: D.self) }
    if S.self == Double.self { return D(fromDouble: s.doubleValue) }
    return D(floatValue: s.floatValue)
}
