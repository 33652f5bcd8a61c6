/// Element types. `description` is the MLX name.
public enum DType: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case bool, uint8, uint16, uint32, uint64, int8, int16, int32, int64
    case float16, bfloat16, float32, float64, complex64

    public var size: Int {
        switch self {
        case .bool, .uint8, .int8: return 1
        case .uint16, .int16, .float16, .bfloat16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64, .complex64: return 8
        }
    }

    public var description: String {
        switch self {
        case .bool: "bool"
        case .uint8: "uint8"
        case .uint16: "uint16"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .int8: "int8"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .float16: "float16"
        case .bfloat16: "bfloat16"
        case .float32: "float32"
        case .float64: "float64"
        case .complex64: "complex64"
        }
    }

    public init?(name: String) {
        guard let d = DType.allCases.first(where: { $0.description == name }) else { return nil }
        self = d
    }

    public var isFloatingPoint: Bool {
        switch self { case .float16, .bfloat16, .float32, .float64: true; default: false }
    }
    public var isInexact: Bool { isFloatingPoint || self == .complex64 }
    public var isComplex: Bool { self == .complex64 }
    public var isSignedInteger: Bool {
        switch self { case .int8, .int16, .int32, .int64: true; default: false }
    }
    public var isUnsignedInteger: Bool {
        switch self { case .uint8, .uint16, .uint32, .uint64: true; default: false }
    }
    public var isInteger: Bool { isSignedInteger || isUnsignedInteger }

    /// The kind letter used by NumPy: b, u, i, f, c.
    var kind: Character {
        if self == .bool { return "b" }
        if isUnsignedInteger { return "u" }
        if isSignedInteger { return "i" }
        if isComplex { return "c" }
        return "f"
    }
}

/// Type promotion as in MLX (which follows NumPy / JAX for these types):
/// bool < integers < floats < complex; mixed signed/unsigned widens;
/// int64 with uint64 gives float32; float16 with bfloat16 gives float32.
public func promoteTypes(_ a: DType, _ b: DType) -> DType {
    if a == b { return a }
    return promotionTable[a.rawValue][b.rawValue]
}

private let promotionTable: [[DType]] = {
    let order = DType.allCases
    var table = [[DType]](repeating: [DType](repeating: .float32, count: order.count), count: order.count)
    for a in order {
        for b in order { table[a.rawValue][b.rawValue] = computePromotion(a, b) }
    }
    return table
}()

private func computePromotion(_ a: DType, _ b: DType) -> DType {
    if a == b { return a }
    if a == .bool { return b }
    if b == .bool { return a }
    if a == .complex64 || b == .complex64 { return .complex64 }
    if a.isFloatingPoint || b.isFloatingPoint {
        if a.isFloatingPoint && b.isFloatingPoint {
            if a == .float64 || b == .float64 { return .float64 }
            if a == .float32 || b == .float32 { return .float32 }
            return .float32  // float16 with bfloat16
        }
        // A float with an integer keeps the float type (MLX rule).
        return a.isFloatingPoint ? a : b
    }
    // Both integers.
    if a.isSignedInteger == b.isSignedInteger { return a.size >= b.size ? a : b }
    let (s, u) = a.isSignedInteger ? (a, b) : (b, a)
    if s.size > u.size { return s }
    switch u.size {
    case 1: return .int16
    case 2: return .int32
    case 4: return .int64
    default: return .float32
    }
}
