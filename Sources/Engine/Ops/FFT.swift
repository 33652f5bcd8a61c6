import Foundation

/// Discrete Fourier transforms, as `mlx.core.fft` (norm "backward": inverses scale by 1/n).
/// Any length works (mixed radix, Bluestein for large prime factors).
public enum FFT {
    /// x cropped or zero-padded to `length` along `axis`.
    private static func resized(_ x: Tensor, axis a: Int, to length: Int) -> Tensor {
        let cur = x.shape[a]
        if cur == length { return x }
        if cur > length {
            var items = [TensorIndex](repeating: .slice(start: nil, stop: nil, step: 1), count: x.ndim)
            items[a] = .slice(start: 0, stop: length, step: 1)
            return x.index(items)
        }
        var w = [(Int, Int)](repeating: (0, 0), count: x.ndim)
        w[a] = (0, length - cur)
        return padded(x, widths: w)
    }

    private static func transform(_ x: Tensor, n: Int?, axis: Int, kind: FFTPrimitive.Kind, inverse: Bool, op: String) -> Tensor {
        let outType: DType = kind == .complexToReal ? .float32 : .complex64
        guard check(x.ndim >= 1, op, "input must have at least one dimension, got shape \(fmt(x.shape))"),
              let a = normalizeAxis(axis, x.ndim, op) else { return .errorPlaceholder(outType) }
        if kind == .realToComplex {
            guard check(x.dtype != .complex64, op, "input must be real, got complex64") else { return .errorPlaceholder(outType) }
        }
        let len: Int
        switch kind {
        case .complexToReal: len = n ?? 2 * (x.shape[a] - 1)
        default: len = n ?? x.shape[a]
        }
        guard check(len > 0, op, "transform length must be positive, got \(len) for axis \(axis) of shape \(fmt(x.shape))")
        else { return .errorPlaceholder(outType) }
        let inLen = kind == .complexToReal ? len / 2 + 1 : len
        let outLen = kind == .realToComplex ? len / 2 + 1 : len
        // Real input to a complex transform stays real (the kernel reads it as such): a
        // conversion to complex64 would cost a full pass.
        let realInput = kind == .realToComplex || (kind == .complexToComplex && x.dtype != .complex64)
        var t = x.asType(realInput ? .float32 : .complex64)
        t = resized(t, axis: a, to: inLen)
        let last = t.ndim - 1
        if a != last { t = t.movedAxis(source: a, destination: last) }
        var shape = t.shape
        shape[last] = outLen
        var r = Tensor(FFTPrimitive(kind: kind, inverse: inverse, n: len), [t], shape: shape, dtype: outType)
        if a != last { r = r.movedAxis(source: last, destination: a) }
        return r
    }

    public static func fft(_ x: Tensor, n: Int? = nil, axis: Int = -1) -> Tensor {
        transform(x, n: n, axis: axis, kind: .complexToComplex, inverse: false, op: "fft")
    }
    public static func ifft(_ x: Tensor, n: Int? = nil, axis: Int = -1) -> Tensor {
        transform(x, n: n, axis: axis, kind: .complexToComplex, inverse: true, op: "ifft")
    }
    public static func rfft(_ x: Tensor, n: Int? = nil, axis: Int = -1) -> Tensor {
        transform(x, n: n, axis: axis, kind: .realToComplex, inverse: false, op: "rfft")
    }
    public static func irfft(_ x: Tensor, n: Int? = nil, axis: Int = -1) -> Tensor {
        transform(x, n: n, axis: axis, kind: .complexToReal, inverse: true, op: "irfft")
    }

    /// Axes and lengths of an n-D transform (defaults as NumPy/MLX).
    private static func plan(_ x: Tensor, _ s: [Int]?, _ axes: [Int]?, _ op: String) -> ([Int], [Int?])? {
        let ax = axes ?? (s.map { Array((x.ndim - $0.count)..<x.ndim) } ?? Array(0..<x.ndim))
        guard check(s == nil || s!.count == ax.count, op, "s \(s!) and axes \(ax) differ in length"),
              let norm = normalizeAxes(ax, x.ndim, op) else { return nil }
        return (norm, s.map { $0.map { Optional($0) } } ?? [Int?](repeating: nil, count: norm.count))
    }

    public static func fftn(_ x: Tensor, s: [Int]? = nil, axes: [Int]? = nil) -> Tensor {
        guard let (ax, lens) = plan(x, s, axes, "fftn") else { return .errorPlaceholder(.complex64) }
        return zip(ax, lens).reduce(x) { fft($0, n: $1.1, axis: $1.0) }
    }
    public static func ifftn(_ x: Tensor, s: [Int]? = nil, axes: [Int]? = nil) -> Tensor {
        guard let (ax, lens) = plan(x, s, axes, "ifftn") else { return .errorPlaceholder(.complex64) }
        return zip(ax, lens).reduce(x) { ifft($0, n: $1.1, axis: $1.0) }
    }
    /// rfft over the last of `axes`, then fft over the others.
    public static func rfftn(_ x: Tensor, s: [Int]? = nil, axes: [Int]? = nil) -> Tensor {
        guard let (ax, lens) = plan(x, s, axes, "rfftn"), !ax.isEmpty else { return .errorPlaceholder(.complex64) }
        let first = rfft(x, n: lens.last!, axis: ax.last!)
        return zip(ax.dropLast(), lens.dropLast()).reduce(first) { fft($0, n: $1.1, axis: $1.0) }
    }
    /// ifft over all but the last of `axes`, then irfft over the last.
    public static func irfftn(_ x: Tensor, s: [Int]? = nil, axes: [Int]? = nil) -> Tensor {
        guard let (ax, lens) = plan(x, s, axes, "irfftn"), !ax.isEmpty else { return .errorPlaceholder(.float32) }
        let mid = zip(ax.dropLast(), lens.dropLast()).reduce(x) { ifft($0, n: $1.1, axis: $1.0) }
        return irfft(mid, n: lens.last!, axis: ax.last!)
    }
    public static func fft2(_ x: Tensor, s: [Int]? = nil, axes: [Int] = [-2, -1]) -> Tensor { fftn(x, s: s, axes: axes) }
    public static func ifft2(_ x: Tensor, s: [Int]? = nil, axes: [Int] = [-2, -1]) -> Tensor { ifftn(x, s: s, axes: axes) }
    public static func rfft2(_ x: Tensor, s: [Int]? = nil, axes: [Int] = [-2, -1]) -> Tensor { rfftn(x, s: s, axes: axes) }
    public static func irfft2(_ x: Tensor, s: [Int]? = nil, axes: [Int] = [-2, -1]) -> Tensor { irfftn(x, s: s, axes: axes) }
}
