import Foundation

/// A Swift scalar on one side of a binary op. Weak: it takes the tensor's dtype unless it is a
/// float meeting an integer or bool tensor (then float32), as in MLX.
public enum WeakScalar: Sendable {
    case int(Int), float(Double), bool(Bool)
    func tensor(like other: DType) -> Tensor {
        switch self {
        case .int(let v):
            return Tensor([Int64(v)], shape: []).asType(other == .bool ? .int32 : other)
        case .float(let v):
            let dt: DType = other.isInexact ? other : .float32
            return dt == .float64 ? Tensor([v], shape: []) : Tensor([Float(v)], shape: []).asType(dt)
        case .bool(let v):
            return Tensor([v], shape: []).asType(other)
        }
    }
}

/// Records an elementwise binary op: promotes dtypes, broadcasts, and (for
/// float-only ops) lifts integers to float32.
func binaryOp(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, name: String? = nil) -> Tensor {
    let opName = name ?? op.rawValue
    var dt = promoteTypes(a.dtype, b.dtype)
    switch op {
    case .divide, .atan2:
        if !dt.isInexact { dt = .float32 }
    case .logicalAnd, .logicalOr:
        break
    default: break
    }
    guard let shape = broadcastShapes(a.shape, b.shape, opName) else { return .errorPlaceholder(dt) }
    if dt == .complex64 {
        switch op {
        case .add, .subtract, .multiply, .divide, .equal, .notEqual: break
        default:
            reportError(.invalidArgument(op: opName, message: "complex64 is not supported"))
            return .errorPlaceholder(dt)
        }
    }
    let outType: DType = op.isComparison ? .bool : dt
    let x = a.asType(dt).broadcast(to: shape), y = b.asType(dt).broadcast(to: shape)
    return Tensor(BinaryPrimitive(op: op), [x, y], shape: shape, dtype: outType)
}

func binaryOp(_ op: BinaryOp, _ a: Tensor, _ s: WeakScalar) -> Tensor { binaryOp(op, a, s.tensor(like: a.dtype)) }
func binaryOp(_ op: BinaryOp, _ s: WeakScalar, _ b: Tensor) -> Tensor { binaryOp(op, s.tensor(like: b.dtype), b) }

// MARK: - Free functions

public func add(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.add, a, b) }
public func subtract(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.subtract, a, b) }
public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.multiply, a, b) }
public func divide(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.divide, a, b) }
public func floorDivide(_ a: Tensor, _ b: Tensor) -> Tensor {
    let dt = promoteTypes(a.dtype, b.dtype)
    if dt.isInexact { return floor(divide(a, b)) }
    return binaryOp(.floorDivide, a, b, name: "floor_divide")
}
public func remainder(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.remainder, a, b) }
public func power(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.power, a, b) }
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.maximum, a, b) }
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.minimum, a, b) }
public func atan2(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.atan2, a, b) }
public func equal(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.equal, a, b) }
public func notEqual(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.notEqual, a, b) }
public func less(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.less, a, b) }
public func lessEqual(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.lessEqual, a, b) }
public func greater(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.greater, a, b) }
public func greaterEqual(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.greaterEqual, a, b) }
public func logicalAnd(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.logicalAnd, a.asType(.bool), b.asType(.bool), name: "logical_and") }
public func logicalOr(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.logicalOr, a.asType(.bool), b.asType(.bool), name: "logical_or") }

/// Elementwise choice: `x` where `condition` is true, else `y` (broadcast together).
public func which(_ condition: Tensor, _ x: Tensor, _ y: Tensor) -> Tensor {
    let dt = promoteTypes(x.dtype, y.dtype)
    guard let s1 = broadcastShapes(condition.shape, x.shape, "where"),
          let shape = broadcastShapes(s1, y.shape, "where") else { return .errorPlaceholder(dt) }
    return Tensor(WherePrimitive(), [condition.asType(.bool).broadcast(to: shape), x.asType(dt).broadcast(to: shape),
                                     y.asType(dt).broadcast(to: shape)], shape: shape, dtype: dt)
}
public func which(_ condition: Tensor, _ x: Tensor, _ y: Double) -> Tensor { which(condition, x, WeakScalar.float(y).tensor(like: x.dtype)) }
public func which(_ condition: Tensor, _ x: Double, _ y: Tensor) -> Tensor { which(condition, WeakScalar.float(x).tensor(like: y.dtype), y) }

/// Clamps to [min, max]; either bound may be nil.
public func clip(_ x: Tensor, min lo: Tensor? = nil, max hi: Tensor? = nil) -> Tensor {
    guard check(lo != nil || hi != nil, "clip", "at least one of min and max must be given") else { return .errorPlaceholder(x.dtype) }
    var r = x
    if let lo { r = maximum(r, lo) }
    if let hi { r = minimum(r, hi) }
    return r
}
public func clip(_ x: Tensor, min lo: Double? = nil, max hi: Double? = nil) -> Tensor {
    guard check(lo != nil || hi != nil, "clip", "at least one of min and max must be given") else { return .errorPlaceholder(x.dtype) }
    var r = x
    if let lo { r = binaryOp(.maximum, r, lo == lo.rounded() && !x.dtype.isInexact ? .int(Int(lo)) : .float(lo)) }
    if let hi { r = binaryOp(.minimum, r, hi == hi.rounded() && !x.dtype.isInexact ? .int(Int(hi)) : .float(hi)) }
    return r
}

struct WherePrimitive: Primitive {
    var name: String { "where" }
    func isEquivalent(to other: any Primitive) -> Bool { other is WherePrimitive }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let c = inputs[0], x = inputs[1], y = inputs[2]
        let out = ArrayData(allocating: outputs[0].shape, dtype: outputs[0].dtype)
        if out.count == 0 { return [out] }
        let layout = StridedLayout(shape: out.shape, strides: [c.strides, x.strides, y.strides])
        let pc = c.pointer.assumingMemoryBound(to: Bool.self), px = x.pointer, py = y.pointer, po = out.writePointer
        let es = out.dtype.size
        let sc = layout.innerStride(0), sx = layout.innerStride(1), sy = layout.innerStride(2)
        func run<E>(_: E.Type) {
            let xx = px.assumingMemoryBound(to: E.self), yy = py.assumingMemoryBound(to: E.self), oo = po.assumingMemoryBound(to: E.self)
            layout.forEachRun { o, n, offs in
                for i in 0..<n { oo[o + i] = pc[offs[0] + i * sc] ? xx[offs[1] + i * sx] : yy[offs[2] + i * sy] }
            }
        }
        switch es {
        case 1: run(UInt8.self)
        case 2: run(UInt16.self)
        case 4: run(UInt32.self)
        default: run(UInt64.self)
        }
        return [out]
    }
}

// MARK: - Operators

infix operator .== : ComparisonPrecedence
infix operator .!= : ComparisonPrecedence
infix operator .< : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .> : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence
infix operator .&& : LogicalConjunctionPrecedence
infix operator .|| : LogicalDisjunctionPrecedence
infix operator ** : MultiplicationPrecedence

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor { binaryOp(.add, a, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { binaryOp(.subtract, a, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { binaryOp(.multiply, a, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { binaryOp(.divide, a, b) }
    public static func % (a: Tensor, b: Tensor) -> Tensor { binaryOp(.remainder, a, b) }
    public static func ** (a: Tensor, b: Tensor) -> Tensor { binaryOp(.power, a, b) }
    public static func .== (a: Tensor, b: Tensor) -> Tensor { binaryOp(.equal, a, b) }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { binaryOp(.notEqual, a, b) }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { binaryOp(.less, a, b) }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { binaryOp(.lessEqual, a, b) }
    public static func .> (a: Tensor, b: Tensor) -> Tensor { binaryOp(.greater, a, b) }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { binaryOp(.greaterEqual, a, b) }
    public static func .&& (a: Tensor, b: Tensor) -> Tensor { logicalAnd(a, b) }
    public static func .|| (a: Tensor, b: Tensor) -> Tensor { logicalOr(a, b) }
    public static prefix func - (a: Tensor) -> Tensor { negative(a) }
    public static prefix func ! (a: Tensor) -> Tensor { logicalNot(a) }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
}

/// Scalars on either side of every operator (Int literals and Double/Float values).
public protocol WeakScalarConvertible { var weakScalar: WeakScalar { get } }
extension Int: WeakScalarConvertible { public var weakScalar: WeakScalar { .int(self) } }
extension Int32: WeakScalarConvertible { public var weakScalar: WeakScalar { .int(Int(self)) } }
extension Double: WeakScalarConvertible { public var weakScalar: WeakScalar { .float(self) } }
extension Float: WeakScalarConvertible { public var weakScalar: WeakScalar { .float(Double(self)) } }
extension Bool: WeakScalarConvertible { public var weakScalar: WeakScalar { .bool(self) } }

extension Tensor {
    public static func + <S: WeakScalarConvertible>(a: Tensor, b: S) -> Tensor { binaryOp(.add, a, b.weakScalar) }
    public static func + <S: WeakScalarConvertible>(a: S, b: Tensor) -> Tensor { binaryOp(.add, a.weakScalar, b) }
    public static func - <S: WeakScalarConvertible>(a: Tensor, b: S) -> Tensor { binaryOp(.subtract, a, b.weakScalar) }
    public static func - <S: WeakScalarConvertible>(a: S, b: Tensor) -> Tensor { binaryOp(.subtract, a.weakScalar, b) }
    public static func * <S: WeakScalarConvertible>(a: Tensor, b: S) -> Tensor { binaryOp(.multiply, a, b.weakScalar) }
    public static func * <S: WeakScalarConvertible>(a: S, b: Tensor) -> Tensor { binaryOp(.multiply, a.weakScalar, b) }
    public static func / <S: WeakScalarConvertible>(a: Tensor, b: S) -> Tensor { binaryOp(.divide, a, b.weakScalar) }
    public static func / <S: WeakScalarConvertible>(a: S, b: Tensor) -> Tensor { binaryOp(.divide, a.weakScalar, b) }
    public static func % <S: WeakScalarConvertible>(a: Tensor, b: S) -> Tensor { binaryOp(.remainder, a, b.weakScalar) }
    public static func % <S: WeakScalarConvertible>(a: S, b: Tensor) -> Tensor { binaryOp(.remainder, a.weakScalar, b) }
    public static func ** <S: WeakScalarConvertible>(a: Tensor, b: S) -> Tensor { binaryOp(.power, a, b.weakScalar) }
    public static func ** <S: WeakScalarConvertible>(a: S, b: Tensor) -> Tensor { binaryOp(.power, a.weakScalar, b) }
    public static func .== <S: WeakScalarConvertible>(a: Tensor, b: S) -> Tensor { binaryOp(.equal, a, b.weakScalar) }
    public static func .!= <S: WeakScalarConvertible>(a: Tensor, b: S) -> Tensor { binaryOp(.notEqual, a, b.weakScalar) }
    public static func .< <S: WeakScalarConvertible>(a: Tensor, b: S) -> Tensor { binaryOp(.less, a, b.weakScalar) }
    public static func .<= <S: WeakScalarConvertible>(a: Tensor, b: S) -> Tensor { binaryOp(.lessEqual, a, b.weakScalar) }
    public static func .> <S: WeakScalarConvertible>(a: Tensor, b: S) -> Tensor { binaryOp(.greater, a, b.weakScalar) }
    public static func .>= <S: WeakScalarConvertible>(a: Tensor, b: S) -> Tensor { binaryOp(.greaterEqual, a, b.weakScalar) }
    public static func .< <S: WeakScalarConvertible>(a: S, b: Tensor) -> Tensor { binaryOp(.less, a.weakScalar, b) }
    public static func .> <S: WeakScalarConvertible>(a: S, b: Tensor) -> Tensor { binaryOp(.greater, a.weakScalar, b) }
}

/// Applies a binary op with a weak scalar (used by tests and generic code).
public func binary(_ op: BinaryOp, _ a: Tensor, scalar: WeakScalar, scalarOnLeft: Bool = false) -> Tensor {
    let name: String? = nil
    _ = name
    if op == .floorDivide {
        let s = scalar.tensor(like: a.dtype)
        return scalarOnLeft ? floorDivide(s, a) : floorDivide(a, s)
    }
    return scalarOnLeft ? binaryOp(op, scalar, a) : binaryOp(op, a, scalar)
}

/// Applies a binary op by kind.
public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
    switch op {
    case .floorDivide: return floorDivide(a, b)
    case .logicalAnd: return logicalAnd(a, b)
    case .logicalOr: return logicalOr(a, b)
    default: return binaryOp(op, a, b)
    }
}

// Free functions with a weak scalar on one side.
public func add<S: WeakScalarConvertible>(_ a: Tensor, _ b: S) -> Tensor { binaryOp(.add, a, b.weakScalar) }
public func subtract<S: WeakScalarConvertible>(_ a: Tensor, _ b: S) -> Tensor { binaryOp(.subtract, a, b.weakScalar) }
public func multiply<S: WeakScalarConvertible>(_ a: Tensor, _ b: S) -> Tensor { binaryOp(.multiply, a, b.weakScalar) }
public func divide<S: WeakScalarConvertible>(_ a: Tensor, _ b: S) -> Tensor { binaryOp(.divide, a, b.weakScalar) }
public func power<S: WeakScalarConvertible>(_ a: Tensor, _ b: S) -> Tensor { binaryOp(.power, a, b.weakScalar) }
public func maximum<S: WeakScalarConvertible>(_ a: Tensor, _ b: S) -> Tensor { binaryOp(.maximum, a, b.weakScalar) }
public func minimum<S: WeakScalarConvertible>(_ a: Tensor, _ b: S) -> Tensor { binaryOp(.minimum, a, b.weakScalar) }
public func maximum<S: WeakScalarConvertible>(_ a: S, _ b: Tensor) -> Tensor { binaryOp(.maximum, a.weakScalar, b) }
public func minimum<S: WeakScalarConvertible>(_ a: S, _ b: Tensor) -> Tensor { binaryOp(.minimum, a.weakScalar, b) }
