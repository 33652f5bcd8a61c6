import Foundation

extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// MLX-style text: `array([[1, 2],\n       [3, 4]], dtype=int32)` (evaluates the tensor).
    public var description: String {
        let values: [String]
        switch dtype {
        case .bool: values = toArray(Bool.self).map { $0 ? "True" : "False" }
        case .complex64: values = toArray(Complex64.self).map { "\(formatFloat(Double($0.real)))\($0.imaginary < 0 ? "-" : "+")\(formatFloat(Double(Swift.abs($0.imaginary))))j" }
        case .uint64: values = toArray(UInt64.self).map { String($0) }
        case _ where dtype.isInteger: values = toArray(Int64.self).map { String($0) }
        default: values = toArray(Double.self).map(formatFloat)
        }
        let body: String
        if ndim == 0 {
            body = values.first ?? ""
        } else {
            let summarise = size > 1000
            body = render(values: values, shape: shape, dim: 0, offset: 0, indent: 6, summarise: summarise)
        }
        return "array(\(body), dtype=\(dtype))"
    }

    public var debugDescription: String { description }

    private func render(values: [String], shape: [Int], dim: Int, offset: Int, indent: Int, summarise: Bool) -> String {
        let n = shape[dim]
        let stride = shape[(dim + 1)...].reduce(1, *)
        let items: [Int?] = summarise && n > 6 ? Array(0..<3) + [nil] + Array((n - 3)..<n) : Array(0..<n)
        if dim == shape.count - 1 {
            return "[" + items.map { $0.map { values[offset + $0] } ?? "..." }.joined(separator: ", ") + "]"
        }
        let sep = "," + String(repeating: "\n", count: shape.count - dim - 1) + String(repeating: " ", count: indent + dim + 1)
        return "[" + items.map { i in
            guard let i else { return "..." }
            return render(values: values, shape: shape, dim: dim + 1, offset: offset + i * stride, indent: indent, summarise: summarise)
        }.joined(separator: sep) + "]"
    }
}

/// Six significant digits, trailing zeros dropped (as MLX prints).
private func formatFloat(_ v: Double) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    var s = String(format: "%g", v)
    if !s.contains(".") && !s.contains("e") { s += "" }
    return s
}
