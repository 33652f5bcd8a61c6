import CBLAS
import Foundation

/// Dense linear algebra through LAPACKE (OpenBLAS), float32, batched over leading dims.
/// Matrices are row-major [..., M, N]; each output spec is contiguous.
struct LinalgPrimitive: Primitive, MultiOutput {
    enum Op: Equatable, Sendable {
        case inv, triInv(upper: Bool), cholesky(upper: Bool), choleskyInv(upper: Bool)
        case qr, svd(full: Bool), eigh(upper: Bool, vectors: Bool), eig(vectors: Bool)
        case solve, solveTriangular(upper: Bool), luFactor, lu
    }
    let op: Op
    let outputSpecs: [OutputSpec]
    var name: String {
        switch op {
        case .inv: return "inv"
        case .triInv: return "tri_inv"
        case .cholesky: return "cholesky"
        case .choleskyInv: return "cholesky_inv"
        case .qr: return "qr"
        case .svd: return "svd"
        case .eigh(_, let v): return v ? "eigh" : "eigvalsh"
        case .eig(let v): return v ? "eig" : "eigvals"
        case .solve: return "solve"
        case .solveTriangular: return "solve_triangular"
        case .luFactor: return "lu_factor"
        case .lu: return "lu"
        }
    }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? LinalgPrimitive else { return false }
        return o.op == op && o.outputSpecs == outputSpecs
    }

    private func fail(_ what: String) -> EngineError { .evaluationFailed(op: name, message: what) }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let a = contiguousVector(inputs[0], .float32)
        let nd = a.ndim
        let M = a.shape[nd - 2], N = a.shape[nd - 1]
        let batch = a.count / max(M * N, 1)
        let outs = outputSpecs.map { ArrayData(allocating: $0.shape, dtype: $0.dtype) }
        if a.count == 0 { return outs }
        let ap = a.pointer.assumingMemoryBound(to: Float.self)
        let L = LAPACK_ROW_MAJOR
        func fp(_ i: Int) -> UnsafeMutablePointer<Float> { outs[i].writePointer.assumingMemoryBound(to: Float.self) }
        var work = [Float](repeating: 0, count: M * N)
        for b in 0..<batch {
            let src = ap + b * M * N
            work.withUnsafeMutableBufferPointer { w in w.baseAddress!.update(from: src, count: M * N) }
            let info: Int32 = try work.withUnsafeMutableBufferPointer { wb -> Int32 in
                let w = wb.baseAddress!
                switch op {
                case .inv:
                    var piv = [Int32](repeating: 0, count: N)
                    var r = LAPACKE_sgetrf(L, Int32(N), Int32(N), w, Int32(N), &piv)
                    if r > 0 { throw fail("matrix \(b) is singular (zero pivot \(r)); shape \(fmt(a.shape))") }
                    r = LAPACKE_sgetri(L, Int32(N), w, Int32(N), &piv)
                    if r > 0 { throw fail("matrix \(b) is singular; shape \(fmt(a.shape))") }
                    fp(0).advanced(by: b * N * N).update(from: w, count: N * N)
                    return r
                case .triInv(let upper):
                    let r = LAPACKE_strtri(L, upper ? 85 : 76, 78, Int32(N), w, Int32(N))
                    if r > 0 { throw fail("triangular matrix \(b) is singular; shape \(fmt(a.shape))") }
                    zeroTriangle(w, N, keepUpper: upper)
                    fp(0).advanced(by: b * N * N).update(from: w, count: N * N)
                    return r
                case .cholesky(let upper):
                    let r = LAPACKE_spotrf(L, upper ? 85 : 76, Int32(N), w, Int32(N))
                    if r > 0 { throw fail("matrix \(b) is not positive definite (leading minor \(r)); shape \(fmt(a.shape))") }
                    zeroTriangle(w, N, keepUpper: upper)
                    fp(0).advanced(by: b * N * N).update(from: w, count: N * N)
                    return r
                case .choleskyInv(let upper):
                    let r = LAPACKE_spotri(L, upper ? 85 : 76, Int32(N), w, Int32(N))
                    if r > 0 { throw fail("the factor of matrix \(b) is singular; shape \(fmt(a.shape))") }
                    // Fill the other triangle (the inverse is symmetric).
                    for i in 0..<N { for j in 0..<N where upper ? j < i : j > i { w[i * N + j] = w[j * N + i] } }
                    fp(0).advanced(by: b * N * N).update(from: w, count: N * N)
                    return r
                case .qr:
                    let K = Swift.min(M, N)
                    var tau = [Float](repeating: 0, count: Swift.max(K, 1))
                    var r = LAPACKE_sgeqrf(L, Int32(M), Int32(N), w, Int32(N), &tau)
                    let R = fp(1).advanced(by: b * K * N)
                    for i in 0..<K { for j in 0..<N { R[i * N + j] = j >= i ? w[i * N + j] : 0 } }
                    // Q: the first K columns, from the reflectors.
                    var q = [Float](repeating: 0, count: M * K)
                    for i in 0..<M { for j in 0..<K { q[i * K + j] = w[i * N + j] } }
                    r = LAPACKE_sorgqr(L, Int32(M), Int32(K), Int32(K), &q, Int32(K), &tau)
                    fp(0).advanced(by: b * M * K).update(from: q, count: M * K)
                    return r
                case .svd(let full):
                    let K = Swift.min(M, N)
                    var s = [Float](repeating: 0, count: K), sup = [Float](repeating: 0, count: Swift.max(K, 1))
                    if full {
                        let U = fp(0).advanced(by: b * M * M), Vt = fp(2).advanced(by: b * N * N)
                        let r = LAPACKE_sgesvd(L, 65, 65, Int32(M), Int32(N), w, Int32(N), &s, U, Int32(M), Vt, Int32(N), &sup)
                        if r > 0 { throw fail("SVD of matrix \(b) did not converge") }
                        fp(1).advanced(by: b * K).update(from: s, count: K)
                        return r
                    }
                    var u = [Float](repeating: 0, count: 1), vt = [Float](repeating: 0, count: 1)
                    let r = LAPACKE_sgesvd(L, 78, 78, Int32(M), Int32(N), w, Int32(N), &s, &u, 1, &vt, 1, &sup)
                    if r > 0 { throw fail("SVD of matrix \(b) did not converge") }
                    fp(0).advanced(by: b * K).update(from: s, count: K)
                    return r
                case .eigh(let upper, let vectors):
                    var e = [Float](repeating: 0, count: N)
                    let r = LAPACKE_ssyevd(L, vectors ? 86 : 78, upper ? 85 : 76, Int32(N), w, Int32(N), &e)
                    if r > 0 { throw fail("eigendecomposition of matrix \(b) did not converge") }
                    fp(0).advanced(by: b * N).update(from: e, count: N)
                    if vectors { fp(1).advanced(by: b * N * N).update(from: w, count: N * N) }
                    return r
                case .eig(let vectors):
                    var wr = [Float](repeating: 0, count: N), wi = [Float](repeating: 0, count: N)
                    var vr = [Float](repeating: 0, count: vectors ? N * N : 1), vl = [Float](repeating: 0, count: 1)
                    let r = LAPACKE_sgeev(L, 78, vectors ? 86 : 78, Int32(N), w, Int32(N), &wr, &wi, &vl, 1, &vr, Int32(vectors ? N : 1))
                    if r > 0 { throw fail("eigendecomposition of matrix \(b) did not converge") }
                    let ev = UnsafeMutableRawPointer(outs[0].writePointer).assumingMemoryBound(to: Float.self).advanced(by: b * N * 2)
                    for i in 0..<N { ev[2 * i] = wr[i]; ev[2 * i + 1] = wi[i] }
                    if vectors {
                        // Complex eigenvectors from LAPACK's real packing of conjugate pairs.
                        let V = UnsafeMutableRawPointer(outs[1].writePointer).assumingMemoryBound(to: Float.self).advanced(by: b * N * N * 2)
                        var j = 0
                        while j < N {
                            if wi[j] == 0 || j == N - 1 {
                                for i in 0..<N { V[2 * (i * N + j)] = vr[i * N + j]; V[2 * (i * N + j) + 1] = 0 }
                                j += 1
                            } else {
                                for i in 0..<N {
                                    let re = vr[i * N + j], im = vr[i * N + j + 1]
                                    V[2 * (i * N + j)] = re; V[2 * (i * N + j) + 1] = im
                                    V[2 * (i * N + j + 1)] = re; V[2 * (i * N + j + 1) + 1] = -im
                                }
                                j += 2
                            }
                        }
                    }
                    return r
                case .solve, .solveTriangular:
                    let rhs = contiguousVector(inputs[1], .float32)
                    let K = rhs.shape.last!
                    let bb = fp(0).advanced(by: b * N * K)
                    bb.update(from: rhs.pointer.assumingMemoryBound(to: Float.self).advanced(by: b * N * K), count: N * K)
                    if case .solveTriangular(let upper) = op {
                        let r = LAPACKE_strtrs(L, upper ? 85 : 76, 78, 78, Int32(N), Int32(K), w, Int32(N), bb, Int32(K))
                        if r > 0 { throw fail("triangular matrix \(b) is singular; shape \(fmt(a.shape))") }
                        return r
                    }
                    var piv = [Int32](repeating: 0, count: N)
                    let r = LAPACKE_sgesv(L, Int32(N), Int32(K), w, Int32(N), &piv, bb, Int32(K))
                    if r > 0 { throw fail("matrix \(b) is singular; shape \(fmt(a.shape))") }
                    return r
                case .luFactor:
                    let K = Swift.min(M, N)
                    var piv = [Int32](repeating: 0, count: Swift.max(K, 1))
                    let r = LAPACKE_sgetrf(L, Int32(M), Int32(N), w, Int32(N), &piv)
                    fp(0).advanced(by: b * M * N).update(from: w, count: M * N)
                    let pv = outs[1].writePointer.assumingMemoryBound(to: UInt32.self).advanced(by: b * K)
                    for i in 0..<K { pv[i] = UInt32(piv[i] - 1) }
                    return r < 0 ? r : 0
                case .lu:
                    // Permutation p, unit-lower L [M, K], upper U [K, N]: x = (L U)[p].
                    let K = Swift.min(M, N)
                    var piv = [Int32](repeating: 0, count: Swift.max(K, 1))
                    let r = LAPACKE_sgetrf(L, Int32(M), Int32(N), w, Int32(N), &piv)
                    var perm = Array(0..<M)
                    for i in 0..<K { perm.swapAt(i, Int(piv[i]) - 1) }
                    let pv = outs[0].writePointer.assumingMemoryBound(to: UInt32.self).advanced(by: b * M)
                    // MLX's p is the inverse: row i of x is row p[i] of L U.
                    for i in 0..<M { pv[perm[i]] = UInt32(i) }
                    let Lm = fp(1).advanced(by: b * M * K), Um = fp(2).advanced(by: b * K * N)
                    for i in 0..<M { for j in 0..<K { Lm[i * K + j] = j < i ? w[i * N + j] : (j == i ? 1 : 0) } }
                    for i in 0..<K { for j in 0..<N { Um[i * N + j] = j >= i ? w[i * N + j] : 0 } }
                    return r < 0 ? r : 0
                }
            }
            if info < 0 { throw fail("LAPACK rejected argument \(-info); shape \(fmt(a.shape))") }
        }
        withExtendedLifetime(a) {}
        return outs
    }

    private func zeroTriangle(_ w: UnsafeMutablePointer<Float>, _ n: Int, keepUpper: Bool) {
        for i in 0..<n { for j in 0..<n where keepUpper ? j < i : j > i { w[i * n + j] = 0 } }
    }
}
