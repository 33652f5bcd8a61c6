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
