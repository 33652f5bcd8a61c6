/// Elementwise unary operations. One primitive (`UnaryPrimitive`) serves them all.
public enum UnaryOp: String, Sendable, CaseIterable {
    case abs, negative, sign, exp, expm1, log, log1p, log2, log10, sqrt, rsqrt, square, reciprocal
    case sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, asinh, acosh, atanh
    case sigmoid, erf, erfInverse, floor, ceil, round
    case isNaN, isInf, isFinite, logicalNot
    case real, imag, conjugate
}

/// Elementwise binary operations (`BinaryPrimitive`). Inputs have the same dtype;
/// comparisons and logical ops produce bool.
public enum BinaryOp: String, Sendable, CaseIterable {
    case add, subtract, multiply, divide, floorDivide, remainder, power, maximum, minimum, atan2
    case equal, notEqual, less, lessEqual, greater, greaterEqual
    case logicalAnd, logicalOr

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .logicalAnd, .logicalOr: true
        default: false
        }
    }
}

/// Reductions (`ReducePrimitive`).
public enum ReduceOp: String, Sendable {
    case sum, prod, max, min, all, any
}
