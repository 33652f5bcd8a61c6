import XCTest
@testable import Engine

/// fixtures/engine/ops_fft.json (MLX 0.32.4 through tools/gen_ops_fixtures.py): fft, ifft, rfft,
/// irfft and their 2-D / n-D forms, lengths with large prime factors included.
final class FFTFixtureTests: XCTestCase {
    static func run(_ c: FixtureCase) -> Tensor? {
        let x = OpFixtureTests.tensor(c.inputs[0])
        let axis = c.int("axis") ?? -1, n = c.int("n")
        let s = c.ints("s"), axes = c.ints("axes")
        switch c.op {
        case "fft": return FFT.fft(x, n: n, axis: axis)
        case "ifft": return FFT.ifft(x, n: n, axis: axis)
        case "rfft": return FFT.rfft(x, n: n, axis: axis)
        case "irfft": return FFT.irfft(x, n: n, axis: axis)
        case "fft2": return FFT.fft2(x, s: s, axes: axes ?? [-2, -1])
        case "ifft2": return FFT.ifft2(x, s: s, axes: axes ?? [-2, -1])
        case "rfft2": return FFT.rfft2(x, s: s, axes: axes ?? [-2, -1])
        case "irfft2": return FFT.irfft2(x, s: s, axes: axes ?? [-2, -1])
        case "fftn": return FFT.fftn(x, s: s, axes: axes)
        case "ifftn": return FFT.ifftn(x, s: s, axes: axes)
        case "rfftn": return FFT.rfftn(x, s: s, axes: axes)
        case "irfftn": return FFT.irfftn(x, s: s, axes: axes)
        default: return nil
        }
    }

    func testTransforms() {
        guard let f = loadFixtures("ops_fft.json") else { return }
        var passed = 0
        for c in f.cases {
            var r: Tensor?
            do { r = try withError { Self.run(c) } } catch { XCTFail("\(c.name): Zoo raised \(error)"); continue }
            guard let r else { XCTFail("\(c.name): op \(c.op) is not mapped"); continue }
            let before = testRun?.failureCount ?? 0
            assertFixtureMatches(OpFixtureTests.actual(r), c.expected!, case: c)
            if (testRun?.failureCount ?? 0) == before { passed += 1 }
        }
        XCTAssertGreaterThan(f.cases.count, 0)
        print("ops_fft.json: \(passed) passed of \(f.cases.count) cases")
    }

    func testRoundTripLargePrime() {
        // 1009 is prime: Bluestein with a 2048-point inner transform.
        let x = Random.normal([3, 1009], key: Random.key(9))
        let back = FFT.irfft(FFT.rfft(x), n: 1009)
        XCTAssertLessThan((back - x).abs().max().item(Float.self), 1e-5)
    }

    func testErrors() {
        func expectError(_ op: String, _ mentions: [String], _ body: () -> Void, line: UInt = #line) {
            do { try withError { body() }; XCTFail("expected an error from \(op)", line: line) } catch let e as EngineError {
                XCTAssertEqual(e.op, op, line: line)
                for m in mentions { XCTAssertTrue(e.localizedDescription.contains(m), "'\(e.localizedDescription)' lacks \(m)", line: line) }
            } catch { XCTFail("\(error)", line: line) }
        }
        expectError("fft", ["axis 2"]) { _ = FFT.fft(zeros([3, 4]), axis: 2) }
        expectError("fft", ["length", "0"]) { _ = FFT.fft(zeros([3, 4]), n: 0) }
        expectError("rfft", ["real", "complex64"]) { _ = FFT.rfft(zeros([4], dtype: .complex64)) }
        expectError("fftn", ["s", "axes"]) { _ = FFT.fftn(zeros([3, 4]), s: [3], axes: [0, 1]) }
    }
}

/// Lengths past the fixtures' (from 2^15 points the kernel runs four-step over the cores, real
/// input of even length through a half-length complex transform): sampled bins against a
/// direct DFT in double precision, both halves of the spectrum, every input kind.
final class FFTLongTests: XCTestCase {
    /// 2^16; 3 * 2^15; 61 * 1024 (a factor of 61 inside a four-step split); 2 * 40009 (a prime
    /// half: Bluestein over a four-step power of two); 59 * 61 * 11 (odd).
    static let lengths = [1 << 16, 3 << 15, 61 * 1024, 2 * 40009, 59 * 61 * 11]

    func testSampledBins() {
        for n in Self.lengths {
            let x = Random.uniform(low: -1, high: 1, [n], key: Random.key(UInt64(n)))
            let xs = x.toArray(Double.self)
            let asComplex = x.asType(.complex64)
            let results: [(String, [Complex64], Int)] = [
                ("fft real", FFT.fft(x).toArray(Complex64.self), -1),
                ("fft complex", FFT.fft(asComplex).toArray(Complex64.self), -1),
                ("ifft real", FFT.ifft(x).toArray(Complex64.self), 1),
                ("rfft", FFT.rfft(x).toArray(Complex64.self), -1),
            ]
            let bins = [0, 1, 2, 7, n / 4, n / 2 - 1, n / 2, n / 2 + 1, n - 3, n - 1] + (0..<4).map { ($0 * 7919 + 13) % n }
            let tol = 1e-6 * Double(n).squareRoot() * log2(Double(n))
            for (name, r, sign) in results {
                let scale = name.hasPrefix("ifft") ? 1 / Double(n) : 1
                XCTAssertEqual(r.count, name == "rfft" ? n / 2 + 1 : n, "\(name) n=\(n)")
                for k in bins where k < r.count {
                    var sr = 0.0, si = 0.0
                    for (j, v) in xs.enumerated() {
                        let a = Double(sign) * 2 * Double.pi * Double((j * k) % n) / Double(n)
                        sr += v * cos(a); si += v * sin(a)
                    }
                    let e = abs(sr * scale - Double(r[k].real)) + abs(si * scale - Double(r[k].imaginary))
                    XCTAssertLessThan(e, tol * scale, "\(name) n=\(n) bin \(k)")
                }
            }
            let back = FFT.ifft(FFT.fft(x))
            XCTAssertLessThan((real(back) - x).abs().max().item(Float.self), 1e-5, "round trip n=\(n)")
        }
    }

    /// Several long lines at once (lines in parallel, each line's passes on all cores).
    func testBatchedLines() {
        let n = 1 << 15
        let x = Random.uniform(low: -1, high: 1, [3, n], key: Random.key(5))
        let all = FFT.fft(x), rows = (0..<3).map { FFT.fft(x[$0]) }
        for i in 0..<3 {
            XCTAssertLessThan((all[i] - rows[i]).abs().max().item(Float.self), 1e-6)
        }
        XCTAssertLessThan((FFT.irfft(FFT.rfft(x), n: n) - x).abs().max().item(Float.self), 1e-5)
    }
}
