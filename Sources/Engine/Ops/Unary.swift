import Foundation

/// Records a unary op. Float-only math lifts integer/bool inputs to float32 (as MLX does).
func unaryOp(_ op: UnaryOp, _ x: Tensor) -> Tensor {
    switch op {
    case .isNaN, .isInf, .isFinite:
        return Tensor(UnaryPrimitive(op: op), [x], shape: x.shape, dtype: .bool)
    case .logicalNot:
        return Tensor(UnaryPrimitive(op: op), [x], shape: x.shape, dtype: .bool)
    case .abs, .negative, .sign, .square, .floor, .ceil, .round, .conjugate:
        if x.dtype == .bool && (op == .negative) {
            reportError(.invalidArgument(op: op.rawValue, message: "not supported for bool tensors; use logicalNot"))
            return .errorPlaceholder(.bool)
        }
        if x.dtype == .complex64 && [.floor, .ceil].contains(op) {
            reportError(.invalidArgument(op: op.rawValue, message: "not supported for complex64"))
            return .errorPlaceholder(x.dtype)
        }
        let outType: DType = (op == .abs && x.dtype == .complex64) ? .float32 : x.dtype
        let r = Tensor(UnaryPrimitive(op: op), [x], shape: x.shape, dtype: x.dtype)
        return outType == x.dtype ? r : r.asType(outType)
    case .real, .imag:
        guard x.dtype == .complex64 else {
            return op == .real ? x : zerosLike(x)
        }
        return Tensor(UnaryPrimitive(op: op), [x], shape: x.shape, dtype: .complex64).asType(.float32)
    default:
        if x.dtype == .complex64 && [.expm1, .sigmoid, .erf, .erfInverse].contains(op) {
            reportError(.invalidArgument(op: op.rawValue, message: "complex64 is not supported"))
            return .errorPlaceholder(x.dtype)
        }
        let input = x.dtype.isInexact ? x : x.asType(.float32)
        return Tensor(UnaryPrimitive(op: op), [input], shape: x.shape, dtype: input.dtype)
    }
}

public func abs(_ x: Tensor) -> Tensor { unaryOp(.abs, x) }
public func negative(_ x: Tensor) -> Tensor { unaryOp(.negative, x) }
public func sign(_ x: Tensor) -> Tensor { unaryOp(.sign, x) }
public func exp(_ x: Tensor) -> Tensor { unaryOp(.exp, x) }
public func expm1(_ x: Tensor) -> Tensor { unaryOp(.expm1, x) }
public func log(_ x: Tensor) -> Tensor { unaryOp(.log, x) }
public func log1p(_ x: Tensor) -> Tensor { unaryOp(.log1p, x) }
public func log2(_ x: Tensor) -> Tensor { unaryOp(.log2, x) }
public func log10(_ x: Tensor) -> Tensor { unaryOp(.log10, x) }
public func sqrt(_ x: Tensor) -> Tensor { unaryOp(.sqrt, x) }
public func rsqrt(_ x: Tensor) -> Tensor { unaryOp(.rsqrt, x) }
public func square(_ x: Tensor) -> Tensor { unaryOp(.square, x) }
public func reciprocal(_ x: Tensor) -> Tensor { unaryOp(.reciprocal, x) }
public func sin(_ x: Tensor) -> Tensor { unaryOp(.sin, x) }
public func cos(_ x: Tensor) -> Tensor { unaryOp(.cos, x) }
public func tan(_ x: Tensor) -> Tensor { unaryOp(.tan, x) }
public func asin(_ x: Tensor) -> Tensor { unaryOp(.asin, x) }
public func acos(_ x: Tensor) -> Tensor { unaryOp(.acos, x) }
public func atan(_ x: Tensor) -> Tensor { unaryOp(.atan, x) }
public func sinh(_ x: Tensor) -> Tensor { unaryOp(.sinh, x) }
public func cosh(_ x: Tensor) -> Tensor { unaryOp(.cosh, x) }
public func tanh(_ x: Tensor) -> Tensor { unaryOp(.tanh, x) }
public func asinh(_ x: Tensor) -> Tensor { unaryOp(.asinh, x) }
public func acosh(_ x: Tensor) -> Tensor { unaryOp(.acosh, x) }
public func atanh(_ x: Tensor) -> Tensor { unaryOp(.atanh, x) }
public func sigmoid(_ x: Tensor) -> Tensor { unaryOp(.sigmoid, x) }
public func erf(_ x: Tensor) -> Tensor { unaryOp(.erf, x) }
public func erfInverse(_ x: Tensor) -> Tensor { unaryOp(.erfInverse, x) }
public func floor(_ x: Tensor) -> Tensor { unaryOp(.floor, x) }
public func ceil(_ x: Tensor) -> Tensor { unaryOp(.ceil, x) }
public func round(_ x: Tensor) -> Tensor { unaryOp(.round, x) }
public func isNaN(_ x: Tensor) -> Tensor { unaryOp(.isNaN, x) }
public func isInf(_ x: Tensor) -> Tensor { unaryOp(.isInf, x) }
public func isFinite(_ x: Tensor) -> Tensor { unaryOp(.isFinite, x) }
public func logicalNot(_ x: Tensor) -> Tensor { unaryOp(.logicalNot, x) }
public func real(_ x: Tensor) -> Tensor { unaryOp(.real, x) }
public func imag(_ x: Tensor) -> Tensor { unaryOp(.imag, x) }
public func conjugate(_ x: Tensor) -> Tensor { unaryOp(.conjugate, x) }
/// Identity in value; blocks gradients once transforms land.
public func stopGradient(_ x: Tensor) -> Tensor { x }

/// Applies a unary op by kind.
public func unary(_ op: UnaryOp, _ x: Tensor) -> Tensor { unaryOp(op, x) }

extension Tensor {
    public func abs() -> Tensor { unaryOp(.abs, self) }
    public func exp() -> Tensor { unaryOp(.exp, self) }
    public func log() -> Tensor { unaryOp(.log, self) }
    public func sqrt() -> Tensor { unaryOp(.sqrt, self) }
    public func square() -> Tensor { unaryOp(.square, self) }
}
