import Foundation

/// Linear algebra (`mlx.core.linalg`) through LAPACK, float32 on the CPU, batched over
/// leading dimensions. Failures found while computing (a singular matrix, a matrix that is
/// not positive definite) are reported as evaluation errors naming the op.
public enum Linalg {
    private static func matrixCheck(_ x: Tensor, _ op: String, square: Bool = true) -> Bool {
        check(x.ndim >= 2, op, "input must have at least 2 dimensions, got shape \(fmt(x.shape))")
            && check(!square || x.dim(-1) == x.dim(-2), op, "input must be square in its last two dimensions, got shape \(fmt(x.shape))")
            && check(x.dtype.isFloatingPoint || x.dtype.isInteger, op, "unsupported dtype \(x.dtype)")
    }

    private static func run(_ op: LinalgPrimitive.Op, _ inputs: [Tensor], _ specs: [OutputSpec]) -> [Tensor] {
        Tensor.multi(LinalgPrimitive(op: op, outputSpecs: specs), inputs.map { $0.asType(.float32) })
    }

    public static func inv(_ x: Tensor) -> Tensor {
        guard matrixCheck(x, "inv") else { return .errorPlaceholder() }
        return run(.inv, [x], [OutputSpec(x.shape, .float32)])[0]
    }

    /// Inverse of a triangular matrix.
    public static func triInv(_ x: Tensor, upper: Bool = false) -> Tensor {
        guard matrixCheck(x, "tri_inv") else { return .errorPlaceholder() }
        return run(.triInv(upper: upper), [x], [OutputSpec(x.shape, .float32)])[0]
    }

    /// L with x = L Lᵀ (or U with x = Uᵀ U when `upper`).
    public static func cholesky(_ x: Tensor, upper: Bool = false) -> Tensor {
        guard matrixCheck(x, "cholesky") else { return .errorPlaceholder() }
        return run(.cholesky(upper: upper), [x], [OutputSpec(x.shape, .float32)])[0]
    }

    /// The inverse of A from its Cholesky factor.
    public static func choleskyInv(_ factor: Tensor, upper: Bool = false) -> Tensor {
        guard matrixCheck(factor, "cholesky_inv") else { return .errorPlaceholder() }
        return run(.choleskyInv(upper: upper), [factor], [OutputSpec(factor.shape, .float32)])[0]
    }

    /// Reduced QR: q [..., M, K], r [..., K, N] with K = min(M, N).
    public static func qr(_ x: Tensor) -> (q: Tensor, r: Tensor) {
        guard matrixCheck(x, "qr", square: false) else { return (.errorPlaceholder(), .errorPlaceholder()) }
        let lead = Array(x.shape.dropLast(2)), M = x.dim(-2), N = x.dim(-1), K = Swift.min(M, N)
        let r = run(.qr, [x], [OutputSpec(lead + [M, K], .float32), OutputSpec(lead + [K, N], .float32)])
        return (r[0], r[1])
    }

    /// Full SVD: u [..., M, M], s [..., K], vt [..., N, N].
    public static func svd(_ x: Tensor) -> (u: Tensor, s: Tensor, vt: Tensor) {
        guard matrixCheck(x, "svd", square: false) else { return (.errorPlaceholder(), .errorPlaceholder(), .errorPlaceholder()) }
        let lead = Array(x.shape.dropLast(2)), M = x.dim(-2), N = x.dim(-1), K = Swift.min(M, N)
        let r = run(.svd(full: true), [x], [OutputSpec(lead + [M, M], .float32), OutputSpec(lead + [K], .float32),
                                             OutputSpec(lead + [N, N], .float32)])
        return (r[0], r[1], r[2])
    }

    /// Singular values only (`svd(compute_uv=False)`).
    public static func singularValues(_ x: Tensor) -> Tensor {
        guard matrixCheck(x, "svd", square: false) else { return .errorPlaceholder() }
        let lead = Array(x.shape.dropLast(2))
        return run(.svd(full: false), [x], [OutputSpec(lead + [Swift.min(x.dim(-2), x.dim(-1))], .float32)])[0]
    }

    /// Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix, read from
    /// its lower ("L") or upper ("U") triangle.
    public static func eigh(_ x: Tensor, uplo: String = "L") -> (values: Tensor, vectors: Tensor) {
        guard matrixCheck(x, "eigh"), check(uplo == "L" || uplo == "U", "eigh", "uplo must be \"L\" or \"U\", got \"\(uplo)\"")
        else { return (.errorPlaceholder(), .errorPlaceholder()) }
        let lead = Array(x.shape.dropLast(2)), N = x.dim(-1)
        let r = run(.eigh(upper: uplo == "U", vectors: true), [x], [OutputSpec(lead + [N], .float32), OutputSpec(x.shape, .float32)])
        return (r[0], r[1])
    }

    public static func eigvalsh(_ x: Tensor, uplo: String = "L") -> Tensor {
        guard matrixCheck(x, "eigvalsh"), check(uplo == "L" || uplo == "U", "eigvalsh", "uplo must be \"L\" or \"U\", got \"\(uplo)\"")
        else { return .errorPlaceholder() }
        return run(.eigh(upper: uplo == "U", vectors: false), [x], [OutputSpec(Array(x.shape.dropLast(2)) + [x.dim(-1)], .float32)])[0]
    }

    /// Eigenvalues and right eigenvectors of a general matrix (complex64).
    public static func eig(_ x: Tensor) -> (values: Tensor, vectors: Tensor) {
        guard matrixCheck(x, "eig") else { return (.errorPlaceholder(.complex64), .errorPlaceholder(.complex64)) }
        let lead = Array(x.shape.dropLast(2)), N = x.dim(-1)
        let r = run(.eig(vectors: true), [x], [OutputSpec(lead + [N], .complex64), OutputSpec(x.shape, .complex64)])
        return (r[0], r[1])
    }

    public static func eigvals(_ x: Tensor) -> Tensor {
        guard matrixCheck(x, "eigvals") else { return .errorPlaceholder(.complex64) }
        return run(.eig(vectors: false), [x], [OutputSpec(Array(x.shape.dropLast(2)) + [x.dim(-1)], .complex64)])[0]
    }

    private static func rhs(_ a: Tensor, _ b: Tensor, _ op: String) -> (Tensor, Bool)? {
        let vector = b.ndim == 1
        let bm = vector ? b.expandedDimensions(axis: -1) : b
        guard check(bm.ndim == a.ndim && bm.dim(-2) == a.dim(-1), op,
                    "b of shape \(fmt(b.shape)) does not match a of shape \(fmt(a.shape))"),
              check(Array(bm.shape.dropLast(2)) == Array(a.shape.dropLast(2)), op,
                    "batch dimensions of a \(fmt(a.shape)) and b \(fmt(b.shape)) differ")
        else { return nil }
        return (bm, vector)
    }

    /// x with a x = b (b a vector [N] or matrices [..., N, K]).
    public static func solve(_ a: Tensor, _ b: Tensor) -> Tensor {
        guard matrixCheck(a, "solve"), let (bm, vector) = rhs(a, b, "solve") else { return .errorPlaceholder() }
        let r = run(.solve, [a, bm], [OutputSpec(bm.shape, .float32)])[0]
        return vector ? r.squeezed(axes: [-1]) : r
    }

    public static func solveTriangular(_ a: Tensor, _ b: Tensor, upper: Bool = false) -> Tensor {
        guard matrixCheck(a, "solve_triangular"), let (bm, vector) = rhs(a, b, "solve_triangular") else { return .errorPlaceholder() }
        let r = run(.solveTriangular(upper: upper), [a, bm], [OutputSpec(bm.shape, .float32)])[0]
        return vector ? r.squeezed(axes: [-1]) : r
    }

    /// LAPACK's packed LU (unit-lower L below the diagonal, U on and above) and its 0-based pivots.
    public static func luFactor(_ x: Tensor) -> (lu: Tensor, pivots: Tensor) {
        guard matrixCheck(x, "lu_factor", square: false) else { return (.errorPlaceholder(), .errorPlaceholder(.uint32)) }
        let lead = Array(x.shape.dropLast(2)), K = Swift.min(x.dim(-2), x.dim(-1))
        let r = run(.luFactor, [x], [OutputSpec(x.shape, .float32), OutputSpec(lead + [K], .uint32)])
        return (r[0], r[1])
    }

    /// Row permutation p, unit-lower l and upper u with x = (l u)[p] (row i of x is row p[i] of l u).
    public static func lu(_ x: Tensor) -> (p: Tensor, l: Tensor, u: Tensor) {
        guard matrixCheck(x, "lu", square: false) else { return (.errorPlaceholder(.uint32), .errorPlaceholder(), .errorPlaceholder()) }
        let lead = Array(x.shape.dropLast(2)), M = x.dim(-2), N = x.dim(-1), K = Swift.min(M, N)
        let r = run(.lu, [x], [OutputSpec(lead + [M], .uint32), OutputSpec(lead + [M, K], .float32), OutputSpec(lead + [K, N], .float32)])
        return (r[0], r[1], r[2])
    }

    /// Determinant (from the LU factorisation).
    public static func det(_ x: Tensor) -> Tensor {
        guard matrixCheck(x, "det") else { return .errorPlaceholder() }
        let (lu, piv) = luFactor(x)
        let d = diagonal(lu, axis1: -2, axis2: -1)
        let swaps = sum((piv .!= arange(x.dim(-1), dtype: .uint32)).asType(.int32), axes: [-1])
        let sign = 1 - 2 * (swaps % 2).asType(.float32)
        return prod(d, axes: [-1]) * sign
    }

    /// (sign, log |det|).
    public static func slogdet(_ x: Tensor) -> (sign: Tensor, logAbsDet: Tensor) {
        guard matrixCheck(x, "slogdet") else { return (.errorPlaceholder(), .errorPlaceholder()) }
        let (lu, piv) = luFactor(x)
        let d = diagonal(lu, axis1: -2, axis2: -1)
        let swaps = sum((piv .!= arange(x.dim(-1), dtype: .uint32)).asType(.int32), axes: [-1])
        let sign = (1 - 2 * (swaps % 2).asType(.float32)) * prod(Engine.sign(d), axes: [-1])
        return (sign, sum(log(abs(d)), axes: [-1]))
    }

    /// Moore–Penrose pseudo-inverse through the SVD (singular values below
    /// max(M, N) · eps · s_max count as zero).
    public static func pinv(_ x: Tensor) -> Tensor {
        guard matrixCheck(x, "pinv", square: false) else { return .errorPlaceholder() }
        let M = x.dim(-2), N = x.dim(-1), K = Swift.min(M, N)
        let (u, s, vt) = svd(x)
        let cutoff = s.max(axes: [-1], keepDims: true) * (Double(Swift.max(M, N)) * Double(Float.ulpOfOne))
        let sInv = which(s .> cutoff, 1 / s, zerosLike(s))
        let uk = u.index([.ellipsis, .slice(start: nil, stop: nil, step: 1), .slice(start: 0, stop: K, step: 1)])
        let vk = vt.index([.ellipsis, .slice(start: 0, stop: K, step: 1), .slice(start: nil, stop: nil, step: 1)])
        return matmul(vk.swappedAxes(-1, -2) * sInv.expandedDimensions(axis: -2), uk.swappedAxes(-1, -2))
    }

    /// Cross product of 3-vectors along `axis`.
    public static func cross(_ a: Tensor, _ b: Tensor, axis: Int = -1) -> Tensor {
        let op = "cross"
        guard let ax = normalizeAxis(axis, a.ndim, op), normalizeAxis(axis, b.ndim, op) != nil,
              check(a.shape[ax] == 3 && b.dim(axis) == 3, op, "axis \(axis) must have size 3 in \(fmt(a.shape)) and \(fmt(b.shape))")
        else { return .errorPlaceholder(promoteTypes(a.dtype, b.dtype)) }
        func c(_ t: Tensor, _ i: Int) -> Tensor { take(t, Tensor([Int32(i)]), axis: axis) }
        let x = c(a, 1) * c(b, 2) - c(a, 2) * c(b, 1)
        let y = c(a, 2) * c(b, 0) - c(a, 0) * c(b, 2)
        let z = c(a, 0) * c(b, 1) - c(a, 1) * c(b, 0)
        return concatenated([x, y, z], axis: axis)
    }

    /// Vector norms (ord nil = 2, ±inf, 0, p) over one axis, matrix norms (ord nil = Frobenius,
    /// ±1, ±2, ±inf) over two; `axes` nil: the whole vector (1-D) or matrix (2-D).
    public static func norm(_ x: Tensor, ord: Double? = nil, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let op = "norm"
        let xf = x.dtype.isInexact ? x : x.asType(.float32)
        guard let ax = normalizeAxes(axes ?? Array(0..<x.ndim), x.ndim, op),
              check(!ax.isEmpty && ax.count <= 2 || (axes == nil && ord == nil), op,
                    "norm needs 1 or 2 axes (or none with ord nil), got \(ax.count) for shape \(fmt(x.shape))")
        else { return .errorPlaceholder(xf.dtype) }
        let a = abs(xf)
        guard let ord else { return sqrt(sum(a * a, axes: ax, keepDims: keepDims)) }
        if ax.count == 1 {
            switch ord {
            case .infinity: return max(a, axes: ax, keepDims: keepDims)
            case -.infinity: return min(a, axes: ax, keepDims: keepDims)
            case 0: return sum((a .!= 0).asType(a.dtype), axes: ax, keepDims: keepDims)
            case 1: return sum(a, axes: ax, keepDims: keepDims)
            case 2: return sqrt(sum(a * a, axes: ax, keepDims: keepDims))
            default: return power(sum(power(a, Tensor(Float(ord)).asType(a.dtype)), axes: ax, keepDims: keepDims),
                                  Tensor(Float(1 / ord)).asType(a.dtype))
            }
        }
        let (r, c) = (ax[0], ax[1])
        func keep(_ t: Tensor) -> Tensor { keepDims ? t.expandedDimensions(axes: ax.sorted()) : t }
        switch ord {
        case 1: return keep(max(sum(a, axes: [r], keepDims: true), axes: [c], keepDims: true).squeezed(axes: [r, c]))
        case -1: return keep(min(sum(a, axes: [r], keepDims: true), axes: [c], keepDims: true).squeezed(axes: [r, c]))
        case .infinity: return keep(max(sum(a, axes: [c], keepDims: true), axes: [r], keepDims: true).squeezed(axes: [r, c]))
        case -.infinity: return keep(min(sum(a, axes: [c], keepDims: true), axes: [r], keepDims: true).squeezed(axes: [r, c]))
        case 2, -2:
            let rest = (0..<x.ndim).filter { !ax.contains($0) }
            let s = singularValues(xf.transposed(rest + [r, c]))
            return keep(ord == 2 ? max(s, axes: [-1]) : min(s, axes: [-1]))
        default:
            _ = check(false, op, "matrix norm order \(ord) is not supported (use 1, -1, 2, -2, inf, -inf, or \"fro\"/\"nuc\")")
            return .errorPlaceholder(xf.dtype)
        }
    }

    /// Matrix norms by name: "fro" (Frobenius) or "nuc" (nuclear, sum of singular values).
    public static func norm(_ x: Tensor, ord: String, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let op = "norm"
        guard let ax = normalizeAxes(axes ?? Array(0..<x.ndim), x.ndim, op),
              check(ax.count == 2, op, "norm \"\(ord)\" needs 2 axes, got \(ax.count) for shape \(fmt(x.shape))"),
              check(ord == "fro" || ord == "nuc", op, "unknown norm order \"\(ord)\" (use \"fro\" or \"nuc\")")
        else { return .errorPlaceholder(x.dtype.isInexact ? x.dtype : .float32) }
        if ord == "fro" { return norm(x, ord: nil, axes: ax, keepDims: keepDims) }
        let rest = (0..<x.ndim).filter { !ax.contains($0) }
        let s = sum(singularValues(x.transposed(rest + ax)), axes: [-1])
        return keepDims ? s.expandedDimensions(axes: ax.sorted()) : s
    }
}
