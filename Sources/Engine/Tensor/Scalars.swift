import Foundation

/// bfloat16 stored natively (the top 16 bits of a float32); computed in float32.
public struct BFloat16: Sendable, Hashable, CustomStringConvertible {
    public var bitPattern: UInt16
    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }
    /// Round to nearest even, NaN kept quiet.
    @inline(__always) public init(_ f: Float) {
        let bits = f.bitPattern
        if f.isNaN { bitPattern = UInt16(truncatingIfNeeded: (bits >> 16) | 0x40); return }
        let rounding = ((bits >> 16) & 1) &+ 0x7FFF
        bitPattern = UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }
    @inline(__always) public var float: Float { Float(bitPattern: UInt32(bitPattern) << 16) }
    public var description: String { float.description }
}

/// complex64: two float32.
public struct Complex64: Sendable, Hashable, CustomStringConvertible {
    public var real: Float
    public var imaginary: Float
    public init(_ real: Float, _ imaginary: Float = 0) { self.real = real; self.imaginary = imaginary }
    public var description: String { "\(real)\(imaginary < 0 ? "-" : "+")\(abs(imaginary))j" }
}

/// Swift types that are the storage of a DType.
public protocol TensorScalar: Sendable {
    static var dtype: DType { get }
    /// Value converted with C-cast semantics (truncation toward zero for integers).
    init(fromDouble d: Double)
    var doubleValue: Double { get }
}

extension Bool: TensorScalar {
    public static var dtype: DType { .bool }
    public init(fromDouble d: Double) { self = d != 0 }
    public var doubleValue: Double { self ? 1 : 0 }
}

extension TensorScalar where Self: FixedWidthInteger {
    public init(fromDouble d: Double) {
        if d.isNaN { self = 0; return }
        if d >= Double(Self.max) { self = Self.max; return }
        if d <= Double(Self.min) { self = Self.min; return }
        self = Self(d.rounded(.towardZero))
    }
    public var doubleValue: Double { Double(self) }
}
extension UInt8: TensorScalar { public static var dtype: DType { .uint8 } }
extension UInt16: TensorScalar { public static var dtype: DType { .uint16 } }
extension UInt32: TensorScalar { public static var dtype: DType { .uint32 } }
extension UInt64: TensorScalar { public static var dtype: DType { .uint64 } }
extension Int8: TensorScalar { public static var dtype: DType { .int8 } }
extension Int16: TensorScalar { public static var dtype: DType { .int16 } }
extension Int32: TensorScalar { public static var dtype: DType { .int32 } }
extension Int64: TensorScalar { public static var dtype: DType { .int64 } }
#if arch(x86_64) || arch(arm64)
extension Float16: TensorScalar {
    public static var dtype: DType { .float16 }
    public init(fromDouble d: Double) { self = Float16(Float(d)) }
    public var doubleValue: Double { Double(Float(self)) }
}
#endif
extension BFloat16: TensorScalar {
    public static var dtype: DType { .bfloat16 }
    public init(fromDouble d: Double) { self.init(Float(d)) }
    public var doubleValue: Double { Double(float) }
}
extension Float: TensorScalar {
    public static var dtype: DType { .float32 }
    public init(fromDouble d: Double) { self = Float(d) }
    public var doubleValue: Double { Double(self) }
}
extension Double: TensorScalar {
    public static var dtype: DType { .float64 }
    public init(fromDouble d: Double) { self = d }
    public var doubleValue: Double { self }
}
extension Complex64: TensorScalar {
    public static var dtype: DType { .complex64 }
    public init(fromDouble d: Double) { self.init(Float(d), 0) }
    public var doubleValue: Double { Double(real) }
}
