import XCTest
@testable import Engine

/// fixtures/engine/ops_linalg.json (MLX 0.32.4 `mx.linalg` through tools/gen_ops_fixtures.py).
/// Factors unique only up to signs are compared after fixing the signs the same way on both
/// sides (and eigenvectors of general matrices through A v = λ v).
final class LinalgFixtureTests: XCTestCase {
    static func run(_ c: FixtureCase) -> [Tensor]? {
        let x = c.inputs.map(OpFixtureTests.tensor)
        let upper = c.bool("upper") ?? false
        switch c.op {
        case "inv": return [Linalg.inv(x[0])]
        case "tri_inv": return [Linalg.triInv(x[0], upper: upper)]
        case "cholesky": return [Linalg.cholesky(x[0], upper: upper)]
        case "cholesky_inv": return [Linalg.choleskyInv(x[0], upper: upper)]
        case "eigvalsh": return [Linalg.eigvalsh(x[0])]
        case "eigh": let r = Linalg.eigh(x[0]); return [r.values, r.vectors]
        case "solve": return [Linalg.solve(x[0], x[1])]
        case "solve_triangular": return [Linalg.solveTriangular(x[0], x[1], upper: upper)]
        case "det": return [Linalg.det(x[0])]
        case "slogdet": let r = Linalg.slogdet(x[0]); return [r.sign, r.logAbsDet]
        case "qr": let r = Linalg.qr(x[0]); return [r.q, r.r]
        case "svd": let r = Linalg.svd(x[0]); return [r.u, r.s, r.vt]
        case "pinv": return [Linalg.pinv(x[0])]
        case "lu": let r = Linalg.lu(x[0]); return [r.p, r.l, r.u]
        case "lu_factor": let r = Linalg.luFactor(x[0]); return [r.lu, r.pivots]
        case "eigvals": return [Linalg.eigvals(x[0])]
        case "eig": let r = Linalg.eig(x[0]); return [r.values, r.vectors]
        case "cross": return [Linalg.cross(x[0], x[1], axis: c.int("axis")!)]
        case "norm":
            let axes = c.isNull("axes") ? nil : c.ints("axes")
            let keep = c.bool("keepdims") ?? false
            if let s = c.string("ord"), s == "fro" || s == "nuc" { return [Linalg.norm(x[0], ord: s, axes: axes, keepDims: keep)] }
            return [Linalg.norm(x[0], ord: c.isNull("ord") ? nil : c.double("ord"), axes: axes, keepDims: keep)]
        default: return nil
        }
    }

    /// Flips the sign of each column (of the last two dims) so its largest-magnitude entry is
    /// positive; returns the flips too (to apply to a partner factor).
    static func fixColumnSigns(_ m: [Double], rows: Int, cols: Int, batch: Int) -> ([Double], [Double]) {
        var out = m, flips = [Double](repeating: 1, count: batch * cols)
        for b in 0..<batch {
            for j in 0..<cols {
                var best = 0.0
                for i in 0..<rows where abs(m[b * rows * cols + i * cols + j]) > abs(best) + 1e-6 { best = m[b * rows * cols + i * cols + j] }
                let f: Double = best < 0 ? -1 : 1
                flips[b * cols + j] = f
                for i in 0..<rows { out[b * rows * cols + i * cols + j] *= f }
            }
        }
        return (out, flips)
    }

    func close(_ a: [Double], _ b: [Double], _ tol: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let bad = zip(a, b).filter { abs($0 - $1) > tol * (1 + abs($1)) }.count
        XCTAssertEqual(bad, 0, "\(what): \(bad) of \(a.count) values differ beyond \(tol)", file: file, line: line)
    }

    func testLinalg() {
        guard let f = loadFixtures("ops_linalg.json") else { return }
        var passed = 0
        for c in f.cases {
            var results: [Tensor]?
            do {
                results = try withError { () -> [Tensor]? in
                    let r = Self.run(c)
                    if let r { eval(r) }
                    return r
                }
            } catch { XCTFail("\(c.name): Zoo raised \(error)"); continue }
            guard let r = results else { XCTFail("\(c.name): op \(c.op) is not mapped"); continue }
            let expected = c.expectedList ?? [c.expected!]
            let before = testRun?.failureCount ?? 0
            let tol = c.rtol
            switch c.string("compare") {
            case "eigh":
                assertFixtureMatches(OpFixtureTests.actual(r[0]), expected[0], case: c)
                let n = r[1].dim(-1), batch = r[1].size / max(n * n, 1)
                close(Self.fixColumnSigns(r[1].toDoubles(), rows: n, cols: n, batch: batch).0,
                      Self.fixColumnSigns(expected[1].doubles, rows: n, cols: n, batch: batch).0, tol * 10, c.name)
            case "qr":
                // Make diag(R) non-negative on both sides (flip Q's column and R's row together).
                func canon(_ q: [Double], _ rr: [Double], _ M: Int, _ K: Int, _ N: Int, _ batch: Int) -> ([Double], [Double]) {
                    var q = q, rr = rr
                    for b in 0..<batch { for k in 0..<K where rr[b * K * N + k * N + k] < 0 {
                        for i in 0..<M { q[b * M * K + i * K + k] *= -1 }
                        for j in 0..<N { rr[b * K * N + k * N + j] *= -1 }
                    } }
                    return (q, rr)
                }
                let M = r[0].dim(-2), K = r[0].dim(-1), N = r[1].dim(-1), batch = r[0].size / max(M * K, 1)
                XCTAssertEqual(r[0].shape, expected[0].shape, c.name)
                XCTAssertEqual(r[1].shape, expected[1].shape, c.name)
                let z = canon(r[0].toDoubles(), r[1].toDoubles(), M, K, N, batch)
                let e = canon(expected[0].doubles, expected[1].doubles, M, K, N, batch)
                close(z.0, e.0, tol * 10, c.name + " q")
                close(z.1, e.1, tol * 10, c.name + " r")
            case "svd":
                assertFixtureMatches(OpFixtureTests.actual(r[1]), expected[1], case: c)
                XCTAssertEqual(r[0].shape, expected[0].shape, c.name)
                XCTAssertEqual(r[2].shape, expected[2].shape, c.name)
                // Reconstruction from Zoo's own factors.
                let a = OpFixtureTests.tensor(c.inputs[0])
                let M = a.dim(-2), N = a.dim(-1), K = min(M, N)
                let uk = r[0].index([.ellipsis, .slice(start: nil, stop: nil, step: 1), .slice(start: 0, stop: K, step: 1)])
                let vk = r[2].index([.ellipsis, .slice(start: 0, stop: K, step: 1), .slice(start: nil, stop: nil, step: 1)])
                let rebuilt = matmul(uk * r[1].expandedDimensions(axis: -2), vk)
                close(rebuilt.toDoubles(), a.toDoubles(), tol * 10, c.name + " U S Vt")
            case "eig":
                // Eigenvalues as sorted sets; vectors through A v = λ v.
                func sorted(_ t: [FixtureComplex]) -> [Double] {
                    t.sorted { ($0.re, $0.im) < ($1.re, $1.im) }.flatMap { [$0.re, $0.im] }
                }
                let zv = r[0].toArray(Complex64.self).map { FixtureComplex(re: Double($0.real), im: Double($0.imaginary)) }
                close(sorted(zv), sorted(expected[0].complexes), tol * 10, c.name + " values")
                if r.count > 1 {
                    let a = OpFixtureTests.tensor(c.inputs[0]).asType(.complex64)
                    let av = matmul(a, r[1]), vl = r[1] * r[0].expandedDimensions(axis: -2)
                    XCTAssertLessThan(abs(av - vl).max().item(Float.self), 1e-3, c.name + " A v = λ v")
                }
            default:
                XCTAssertEqual(r.count, expected.count, c.name)
                for (t, e) in zip(r, expected) { assertFixtureMatches(OpFixtureTests.actual(t), e, case: c) }
            }
            if (testRun?.failureCount ?? 0) == before { passed += 1 }
        }
        XCTAssertGreaterThan(f.cases.count, 0)
        print("ops_linalg.json: \(passed) passed of \(f.cases.count) cases")
    }

    func testErrors() {
        func expectError(_ op: String, _ mentions: [String], _ body: () -> Void, line: UInt = #line) {
            do { try withError { body() }; XCTFail("expected an error from \(op)", line: line) } catch let e as EngineError {
                XCTAssertEqual(e.op, op, line: line)
                for m in mentions { XCTAssertTrue(e.localizedDescription.contains(m), "'\(e.localizedDescription)' lacks \(m)", line: line) }
            } catch { XCTFail("\(error)", line: line) }
        }
        expectError("inv", ["square", "(2,3)"]) { _ = Linalg.inv(zeros([2, 3])) }
        expectError("inv", ["2 dimensions", "(3,)"]) { _ = Linalg.inv(zeros([3])) }
        expectError("inv", ["singular"]) { eval(Linalg.inv(Tensor([[1, 2], [2, 4]] as [[Float]]))) }
        expectError("solve", ["singular"]) { eval(Linalg.solve(zeros([2, 2]), ones([2]))) }
        expectError("cholesky", ["positive definite"]) { eval(Linalg.cholesky(Tensor([[1, 2], [2, 1]] as [[Float]]))) }
        expectError("solve", ["(3,)", "(2,2)"]) { _ = Linalg.solve(eye(2), ones([3])) }
        expectError("cross", ["size 3", "(4,)"]) { _ = Linalg.cross(ones([4]), ones([4])) }
        expectError("norm", ["\"max\""]) { _ = Linalg.norm(ones([2, 2]), ord: "max") }
        expectError("eigh", ["uplo"]) { _ = Linalg.eigh(eye(2), uplo: "X") }
    }
}
