import CVulkan
import Foundation
import XCTest
@testable import Engine

/// The Vulkan backend checked op by op against the CPU kernels (the same primitive's
/// `evalCPU`), on odd sizes, broadcast and transposed views, with per-op tolerances.
final class VulkanTests: XCTestCase {
    var gpu: any Backend { Backends.gpu! }

    override func setUpWithError() throws {
        guard Backends.gpu != nil else {
            throw XCTSkip("no Vulkan device: \(VulkanStatus.unavailableReason ?? "unknown reason")")
        }
    }

    // MARK: - Helpers

    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
            lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
        }
        mutating func floats(_ n: Int, _ lo: Float, _ hi: Float) -> [Float] { (0..<n).map { _ in uniform(lo, hi) } }
        mutating func ints(_ n: Int, _ lo: Int32, _ hi: Int32) -> [Int32] {
            (0..<n).map { _ in lo + Int32(truncatingIfNeeded: next() % UInt64(Int64(hi) - Int64(lo) + 1)) }
        }
    }

    func array<T>(_ values: [T], _ shape: [Int], _ dtype: DType) -> ArrayData {
        precondition(values.count == shape.reduce(1, *) && MemoryLayout<T>.stride == dtype.size)
        let a = ArrayData(allocating: shape, dtype: dtype)
        values.withUnsafeBytes { if $0.count > 0 { a.writePointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        return a
    }

    func floats(_ v: [Float], _ shape: [Int]? = nil) -> ArrayData { array(v, shape ?? [v.count], .float32) }

    /// A row-major copy of a float32 view, gathered here element by element (an independent
    /// reference for strided reads).
    func materialize(_ v: ArrayData) -> ArrayData {
        let base = v.buffer.host.assumingMemoryBound(to: Float.self)
        var out: [Float] = []
        var index = [Int](repeating: 0, count: v.ndim)
        for _ in 0..<v.count {
            out.append(base[v.offset + zip(index, v.strides).map { $0 * $1 }.reduce(0, +)])
            var d = v.ndim - 1
            while d >= 0 { index[d] += 1; if index[d] < v.shape[d] { break }; index[d] = 0; d -= 1 }
        }
        return floats(out, v.shape)
    }

    func read<T>(_ a: ArrayData, _ type: T.Type) -> [T] {
        let c = contiguousData(a)
        return Array(UnsafeBufferPointer(start: c.pointer.assumingMemoryBound(to: T.self), count: c.count))
    }

    /// Widens any float/int/bool array to Double for comparison.
    func doubles(_ a: ArrayData) -> [Double] {
        switch a.dtype {
        case .float32: return read(a, Float.self).map { Double($0) }
        case .float16: return read(a, Float16.self).map { Double($0) }
        case .bfloat16: return read(a, UInt16.self).map { Double(Float(bitPattern: UInt32($0) << 16)) }
        case .int32: return read(a, Int32.self).map { Double($0) }
        case .uint32: return read(a, UInt32.self).map { Double($0) }
        case .bool: return read(a, UInt8.self).map { Double($0) }
        default: fatalError("unsupported dtype in test")
        }
    }

    /// Runs `p` on the GPU (which must accept it) and on the CPU.
    func both(_ p: any Primitive, _ inputs: [ArrayData], _ spec: OutputSpec,
              file: StaticString = #filePath, line: UInt = #line) throws -> (gpu: ArrayData, cpu: ArrayData) {
        let out = try gpu.run(p, inputs: inputs, outputs: [spec])
        let failures = VulkanStatus.backend?.pipelines.failures ?? [:]
        XCTAssertTrue(failures.isEmpty, "pipeline failures: \(failures)", file: file, line: line)
        let g = try XCTUnwrap(out, "GPU declined \(p.name) on \(inputs.map { "\($0.dtype)\($0.shape)/\($0.strides)" })",
                              file: file, line: line)[0]
        XCTAssertEqual(g.shape, spec.shape, file: file, line: line)
        XCTAssertEqual(g.dtype, spec.dtype, file: file, line: line)
        let c = try p.evalCPU(inputs, outputs: [spec])[0]
        return (g, c)
    }

    /// |gpu - cpu| <= rtol |cpu| + atol elementwise; NaNs and infinities must match exactly.
    func assertClose(_ g: ArrayData, _ c: ArrayData, rtol: Double, atol: Double = 0, _ what: String,
                     inputs: [Double]? = nil, file: StaticString = #filePath, line: UInt = #line) {
        let x = doubles(g), y = doubles(c)
        XCTAssertEqual(x.count, y.count, file: file, line: line)
        var failures = 0
        for i in 0..<min(x.count, y.count) {
            let a = x[i], b = y[i]
            let ok: Bool
            if a.isNaN || b.isNaN { ok = a.isNaN && b.isNaN }
            else if a.isInfinite || b.isInfinite { ok = a == b }
            else { ok = Swift.abs(a - b) <= rtol * Swift.abs(b) + atol }
            if !ok {
                failures += 1
                if failures <= 5 {
                    let input = inputs.map { " (input \($0[i % $0.count]))" } ?? ""
                    XCTFail("\(what)[\(i)]: gpu \(a) cpu \(b)\(input)", file: file, line: line)
                }
            }
        }
        if failures > 5 { XCTFail("\(what): \(failures) mismatches in \(x.count)", file: file, line: line) }
    }

    let sizes = [1, 7, 1000, 4097]

    // MARK: - Binary

    func testBinaryFloat32AllOps() throws {
        var rng = Rng(state: 1)
        for n in sizes {
            var a = rng.floats(n, -3, 3)
            let b = rng.floats(n, 0.25, 3).map { rng.next() % 2 == 0 ? $0 : -$0 }
            if n > 8 { a[3] = b[3]; a[4] = .nan; a[5] = .infinity; a[6] = 0; a[7] = -0.0 }
            let pa = floats(a), pb = floats(b)
            for op in BinaryOp.allCases {
                let spec = OutputSpec([n], op.isComparison ? .bool : .float32)
                var (x, y) = (pa, pb)
                if op == .power {
                    x = floats(a.map { Swift.abs($0) + 0.5 })
                    y = floats(b.map { $0 * 1.5 })
                }
                let (g, c) = try both(BinaryPrimitive(op: op), [x, y], spec)
                switch op {
                case .add, .subtract, .multiply, .maximum, .minimum, .floorDivide:
                    assertClose(g, c, rtol: 0, "\(op) n=\(n)")
                case .divide:
                    assertClose(g, c, rtol: 1.2e-7, "\(op) n=\(n)")
                case .remainder:
                    assertClose(g, c, rtol: 1e-6, atol: 1e-6, "\(op) n=\(n)")
                case .power, .atan2:
                    assertClose(g, c, rtol: 1e-6, atol: 1e-7, "\(op) n=\(n)")
                default:
                    assertClose(g, c, rtol: 0, "\(op) n=\(n)")
                }
            }
        }
    }

    func testBinaryBroadcastTransposedAndOffsetViews() throws {
        var rng = Rng(state: 2)
        let m = 37, n = 29
        let a = floats(rng.floats(m * n, -2, 2), [m, n])
        let row = floats(rng.floats(n, -2, 2), [n])
        let col = floats(rng.floats(m, -2, 2), [m, 1])
        let scalar = floats([1.5], [])
        let t = floats(rng.floats(n * m, -2, 2), [n, m])
        let big = floats(rng.floats(3 * m * n + 11, -2, 2))
        let views: [(String, ArrayData)] = [
            ("row broadcast", row.view(offset: 0, shape: [m, n], strides: [0, 1])),
            ("column broadcast", col.view(offset: 0, shape: [m, n], strides: [1, 0])),
            ("scalar broadcast", scalar.view(offset: 0, shape: [m, n], strides: [0, 0])),
            ("transposed", t.view(offset: 0, shape: [m, n], strides: [1, m])),
            ("offset and step", big.view(offset: 11, shape: [m, n], strides: [3 * n, 3])),
            ("reversed", big.view(offset: 11 + m * n - 1, shape: [m, n], strides: [-n, -1])),
        ]
        for (name, v) in views {
            for op in [BinaryOp.add, .multiply, .less, .power] {
                let lhs = op == .power ? floats(read(a, Float.self).map { Swift.abs($0) + 0.1 }, [m, n]) : a
                let spec = OutputSpec([m, n], op.isComparison ? .bool : .float32)
                // The reference runs the CPU kernel on a contiguous copy of the view.
                let p = BinaryPrimitive(op: op), dense = materialize(v)
                let g = try XCTUnwrap(try gpu.run(p, inputs: [lhs, v], outputs: [spec]))[0]
                let c = try p.evalCPU([lhs, dense], outputs: [spec])[0]
                assertClose(g, c, rtol: op == .power ? 1e-6 : 0, atol: op == .power ? 1e-7 : 0, "\(op) with \(name)")
                let rhs = op == .power ? v : lhs, denseRhs = op == .power ? dense : lhs
                let g2 = try XCTUnwrap(try gpu.run(p, inputs: [v, rhs], outputs: [spec]))[0]
                let c2 = try p.evalCPU([dense, denseRhs], outputs: [spec])[0]
                assertClose(g2, c2, rtol: op == .power ? 1e-6 : 0, atol: op == .power ? 1e-7 : 0, "\(op) with \(name) first")
            }
        }
        // Higher rank with mixed broadcasting: [2, 3, 4, 5] + [3, 1, 5] (NumPy alignment).
        let x = floats(rng.floats(120, -1, 1), [2, 3, 4, 5])
        let y = floats(rng.floats(15, -1, 1), [3, 1, 5]).view(offset: 0, shape: [2, 3, 4, 5], strides: [0, 5, 0, 1])
        let (g, c) = try both(BinaryPrimitive(op: .subtract), [x, y], OutputSpec([2, 3, 4, 5], .float32))
        assertClose(g, c, rtol: 0, "rank-4 broadcast subtract")
    }

    func testBinaryInt32() throws {
        var rng = Rng(state: 3)
        for n in sizes {
            var a = rng.ints(n, -1000, 1000)
            var b = rng.ints(n, -20, 20)
            if n > 8 { a[0] = .min; b[0] = -1; a[1] = .max; b[1] = .max; b[2] = 0; a[3] = -7; b[3] = 2 }
            for op in BinaryOp.allCases where op != .atan2 {
                let bb = op == .power ? b.map { $0 % 6 } : b
                let spec = OutputSpec([n], op.isComparison ? .bool : .int32)
                let (g, c) = try both(BinaryPrimitive(op: op), [array(a, [n], .int32), array(bb, [n], .int32)], spec)
                if spec.dtype == .bool {
                    XCTAssertEqual(read(g, UInt8.self), read(c, UInt8.self), "\(op) n=\(n)")
                } else {
                    XCTAssertEqual(read(g, Int32.self), read(c, Int32.self), "\(op) n=\(n)")
                }
            }
        }
    }

    func testUInt32() throws {
        var rng = Rng(state: 11)
        let n = 777
        var a = (0..<n).map { _ in UInt32(truncatingIfNeeded: rng.next()) }
        var b = (0..<n).map { _ in UInt32(truncatingIfNeeded: rng.next() % 40) }
        a[0] = .max; b[0] = 0; b[1] = 1
        for op in BinaryOp.allCases where op != .atan2 {
            let spec = OutputSpec([n], op.isComparison ? .bool : .uint32)
            let (g, c) = try both(BinaryPrimitive(op: op), [array(a, [n], .uint32), array(b, [n], .uint32)], spec)
            XCTAssertEqual(doubles(g), doubles(c), "uint32 \(op)")
        }
        for op in [UnaryOp.abs, .negative, .sign, .square, .logicalNot] {
            let spec = OutputSpec([n], op == .logicalNot ? .bool : .uint32)
            let (g, c) = try both(UnaryPrimitive(op: op), [array(b, [n], .uint32)], spec)
            XCTAssertEqual(doubles(g), doubles(c), "uint32 \(op)")
        }
        for op in [ReduceOp.sum, .max, .min, .any] {
            let spec = OutputSpec([1, 7], op == .any ? .bool : .uint32)
            let (g, c) = try both(ReducePrimitive(op: op, axes: [0]), [array(Array(a.prefix(777)), [111, 7], .uint32)], spec)
            XCTAssertEqual(doubles(g), doubles(c), "uint32 \(op)")
        }
    }

    func testBinaryBoolHalfAndBFloat16() throws {
        var rng = Rng(state: 4)
        let n = 1001
        let p = (0..<n).map { _ in rng.next() % 2 == 0 }, q = (0..<n).map { _ in rng.next() % 3 == 0 }
        for op in BinaryOp.allCases where op != .atan2 {
            let (g, c) = try both(BinaryPrimitive(op: op), [array(p, [n], .bool), array(q, [n], .bool)], OutputSpec([n], .bool))
            XCTAssertEqual(read(g, UInt8.self), read(c, UInt8.self), "bool \(op)")
        }
        let a = rng.floats(n, -4, 4), b = rng.floats(n, 0.5, 4)
        let ha = array(a.map { Float16($0) }, [n], .float16), hb = array(b.map { Float16($0) }, [n], .float16)
        let ba = array(a.map { BFloat16($0).bitPattern }, [n], .bfloat16)
        let bb = array(b.map { BFloat16($0).bitPattern }, [n], .bfloat16)
        for op in [BinaryOp.add, .subtract, .multiply, .divide, .maximum, .less, .equal] {
            let isCmp = op.isComparison
            let (g, c) = try both(BinaryPrimitive(op: op), [ha, hb], OutputSpec([n], isCmp ? .bool : .float16))
            assertClose(g, c, rtol: 1e-3, "float16 \(op)")
            let (g2, c2) = try both(BinaryPrimitive(op: op), [ba, bb], OutputSpec([n], isCmp ? .bool : .bfloat16))
            assertClose(g2, c2, rtol: 8e-3, "bfloat16 \(op)")
        }
    }

    // MARK: - Unary

    /// Input range and (rtol, atol) per op against a float64 reference: the GPU's own
    /// float32 functions are within about 1e-6 relative on every device.
    func unaryCase(_ op: UnaryOp) -> (lo: Float, hi: Float, rtol: Double, atol: Double)? {
        switch op {
        case .abs, .negative, .sign, .square, .floor, .ceil, .round, .isNaN, .isInf, .isFinite, .logicalNot:
            return (-100, 100, 0, 0)
        case .exp: return (-87, 87, 1e-6, 0)
        case .expm1: return (-5, 5, 1e-6, 1e-7)
        case .log, .log2, .log10: return (1e-3, 1e4, 1e-6, 1e-7)
        case .log1p: return (-0.9, 50, 1e-6, 1e-7)
        case .sqrt, .rsqrt, .reciprocal: return (1e-3, 1e4, 2e-7, 0)
        case .sin, .cos: return (-300, 300, 1e-6, 2e-7)
        case .tan: return (-1.5, 1.5, 1e-6, 1e-7)
        case .asin, .acos: return (-0.999, 0.999, 1e-6, 1e-7)
        case .atan: return (-50, 50, 1e-6, 0)
        case .sinh, .cosh: return (-80, 80, 1e-6, 1e-7)
        case .tanh: return (-10, 10, 1e-6, 1e-7)
        case .asinh: return (-1e4, 1e4, 1e-6, 1e-7)
        case .acosh: return (1, 1e4, 1e-6, 1e-7)
        case .atanh: return (-0.999, 0.999, 1e-6, 1e-7)
        case .sigmoid: return (-30, 30, 1e-6, 1e-7)
        case .erf: return (-5, 5, 1e-6, 1e-7)
        case .erfInverse: return (-0.95, 0.95, 1e-6, 1e-7)
        case .real, .imag, .conjugate: return nil
        }
    }

    /// Extra tolerance against the CPU kernels, whose exp (and so sigmoid), erf and erfinv
    /// are MLX's fast float32 approximations (a few 1e-6 off), not libm.
    func cpuTolerance(_ op: UnaryOp, _ t: (rtol: Double, atol: Double)) -> (rtol: Double, atol: Double) {
        switch op {
        case .exp, .sigmoid: return (6e-6, t.atol)
        case .erf: return (t.rtol, 1e-6)
        case .erfInverse: return (1e-5, 1e-6)
        default: return t
        }
    }

    func unaryInputs(_ op: UnaryOp, _ n: Int, _ rng: inout Rng) -> [Float] {
        guard let cs = unaryCase(op) else { return [] }
        var x = rng.floats(n, cs.lo, cs.hi)
        if n >= 1000 {
            // Edge values where the op defines them.
            let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 1, -1, cs.lo, cs.hi, 0.5, -0.5, 1e-20]
            for (i, s) in specials.enumerated() { x[10 + i] = s }
        }
        return x
    }

    func testUnaryFloat32AllOps() throws {
        var rng = Rng(state: 5)
        for n in sizes {
            for op in UnaryOp.allCases {
                guard let cs = unaryCase(op) else { continue }
                let x = unaryInputs(op, n, &rng)
                let isBool = [.isNaN, .isInf, .isFinite, .logicalNot].contains(op)
                let (g, c) = try both(UnaryPrimitive(op: op), [floats(x)], OutputSpec([n], isBool ? .bool : .float32))
                let t = cpuTolerance(op, (cs.rtol, cs.atol))
                assertClose(g, c, rtol: t.rtol, atol: t.atol, "\(op) n=\(n)", inputs: x.map { Double($0) })
            }
        }
    }

    /// The GPU's float32 functions against float64 libm (rounded to float32).
    func testUnaryFloat32AccuracyAgainstFloat64() throws {
        func reference(_ op: UnaryOp, _ x: Double) -> Double? {
            switch op {
            case .exp: Foundation.exp(x)
            case .expm1: Foundation.expm1(x)
            case .log: Foundation.log(x)
            case .log1p: Foundation.log1p(x)
            case .log2: Foundation.log2(x)
            case .log10: Foundation.log10(x)
            case .sqrt: x.squareRoot()
            case .rsqrt: 1 / x.squareRoot()
            case .reciprocal: 1 / x
            case .sin: Foundation.sin(x)
            case .cos: Foundation.cos(x)
            case .tan: Foundation.tan(x)
            case .asin: Foundation.asin(x)
            case .acos: Foundation.acos(x)
            case .atan: Foundation.atan(x)
            case .sinh: Foundation.sinh(x)
            case .cosh: Foundation.cosh(x)
            case .tanh: Foundation.tanh(x)
            case .asinh: Foundation.asinh(x)
            case .acosh: Foundation.acosh(x)
            case .atanh: Foundation.atanh(x)
            case .sigmoid: 1 / (1 + Foundation.exp(-x))
            case .erf: Foundation.erf(x)
            case .erfInverse: Double.erfinv(x)
            default: nil
            }
        }
        var rng = Rng(state: 12)
        for op in UnaryOp.allCases {
            guard let cs = unaryCase(op), reference(op, 0.5) != nil else { continue }
            let x = unaryInputs(op, 4097, &rng)
            let g = try XCTUnwrap(try gpu.run(UnaryPrimitive(op: op), inputs: [floats(x)], outputs: [OutputSpec([4097], .float32)]))[0]
            let expected = floats(x.map { Float(reference(op, Double($0))!) })
            assertClose(g, expected, rtol: cs.rtol, atol: cs.atol, "\(op) vs float64", inputs: x.map { Double($0) })
        }
    }

    func testUnaryStridedIntHalfAndBool() throws {
        var rng = Rng(state: 6)
        // Transposed float32 input.
        let m = 33, n = 17
        let t = floats(rng.floats(m * n, -2, 2), [n, m]).view(offset: 0, shape: [m, n], strides: [1, m])
        for op in [UnaryOp.exp, .tanh, .abs, .sin] {
            let (g, c) = try both(UnaryPrimitive(op: op), [t], OutputSpec([m, n], .float32))
            assertClose(g, c, rtol: 1e-6, atol: 1e-7, "transposed \(op)")
        }
        // int32.
        var ints = rng.ints(1000, -50000, 50000)
        ints[0] = .min; ints[1] = .max; ints[2] = 0
        for op in [UnaryOp.abs, .negative, .sign, .square, .floor, .round, .isNaN, .isFinite, .logicalNot] {
            let isBool = [.isNaN, .isInf, .isFinite, .logicalNot].contains(op)
            let (g, c) = try both(UnaryPrimitive(op: op), [array(ints, [1000], .int32)], OutputSpec([1000], isBool ? .bool : .int32))
            XCTAssertEqual(doubles(g), doubles(c), "int32 \(op)")
        }
        // float16 and bfloat16 (computed in float32, rounded once).
        let x = rng.floats(999, -3, 3)
        let h = array(x.map { Float16($0) }, [999], .float16)
        let bf = array(x.map { BFloat16($0).bitPattern }, [999], .bfloat16)
        for op in [UnaryOp.exp, .tanh, .sigmoid, .negative, .square, .sin] {
            let (g, c) = try both(UnaryPrimitive(op: op), [h], OutputSpec([999], .float16))
            assertClose(g, c, rtol: 1e-3, atol: 1e-4, "float16 \(op)")
            let (g2, c2) = try both(UnaryPrimitive(op: op), [bf], OutputSpec([999], .bfloat16))
            assertClose(g2, c2, rtol: 8e-3, atol: 1e-4, "bfloat16 \(op)")
        }
        // bool.
        let b = (0..<77).map { _ in rng.next() % 2 == 0 }
        let (g, c) = try both(UnaryPrimitive(op: .logicalNot), [array(b, [77], .bool)], OutputSpec([77], .bool))
        XCTAssertEqual(read(g, UInt8.self), read(c, UInt8.self))
        XCTAssertEqual(read(g, UInt8.self), b.map { $0 ? 0 : 1 })
    }

    // MARK: - Reduction

    func testReductions() throws {
        var rng = Rng(state: 7)
        // (shape, axes, transposed input?) — rows (long) and columns (short) kernels, general axes.
        let cases: [([Int], [Int])] = [
            ([1], [0]), ([7], [0]), ([1000], [0]), ([4097], [0]),
            ([7, 1000], [1]), ([7, 1000], [0]), ([1000, 7], [1]), ([7, 1000], [0, 1]),
            ([3, 5, 7], [0, 2]), ([3, 5, 7], [1]), ([2, 3, 4, 5], [1, 3]), ([5, 0, 3], [1]),
        ]
        for (shape, axes) in cases {
            let count = shape.reduce(1, *)
            let x = rng.floats(count, 0.5, 1.5)
            let outShape = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
            for op in [ReduceOp.sum, .max, .min, .prod, .all, .any] {
                if count == 0 && (op == .max || op == .min) { continue }
                let values: [Float] = switch op {
                case .all, .any: x.map { $0 < 0.6 ? 0 : $0 }
                case .prod: x.map { 1 + ($0 - 1) / 16 }  // stays clear of float32 underflow
                default: x
                }
                let input = floats(values, shape)
                let dtype: DType = op == .all || op == .any ? .bool : .float32
                let (g, c) = try both(ReducePrimitive(op: op, axes: axes), [input], OutputSpec(outShape, dtype))
                // Sums of positive values: 1e-4 relative; products of values near 1 similarly.
                assertClose(g, c, rtol: op == .sum || op == .prod ? 1e-4 : 0, "\(op) \(shape) axes \(axes)")
            }
        }
        // Transposed and broadcast inputs.
        let base = floats(rng.floats(40 * 30, -1, 1), [30, 40])
        let transposed = base.view(offset: 0, shape: [40, 30], strides: [1, 40])
        let broadcast = floats(rng.floats(30, -1, 1)).view(offset: 0, shape: [40, 30], strides: [0, 1])
        for (name, v) in [("transposed", transposed), ("broadcast", broadcast)] {
            for axes in [[0], [1], [0, 1]] {
                let outShape = [axes.contains(0) ? 1 : 40, axes.contains(1) ? 1 : 30]
                let (g, c) = try both(ReducePrimitive(op: .sum, axes: axes), [v], OutputSpec(outShape, .float32))
                assertClose(g, c, rtol: 1e-4, atol: 1e-5, "sum \(name) axes \(axes)")
                let (g2, c2) = try both(ReducePrimitive(op: .max, axes: axes), [v], OutputSpec(outShape, .float32))
                assertClose(g2, c2, rtol: 0, "max \(name) axes \(axes)")
            }
        }
        // NaN propagates through max; int32 sums wrap like the CPU's; float16 accumulates in float32.
        var withNaN = rng.floats(300, -1, 1)
        withNaN[123] = .nan
        let (g, c) = try both(ReducePrimitive(op: .max, axes: [0]), [floats(withNaN)], OutputSpec([1], .float32))
        assertClose(g, c, rtol: 0, "max with NaN")
        var ints = rng.ints(5000, -1 << 30, 1 << 30)
        ints[0] = .max
        for op in [ReduceOp.sum, .max, .min, .prod] {
            let (g, c) = try both(ReducePrimitive(op: op, axes: [1]), [array(ints, [5, 1000], .int32)], OutputSpec([5, 1], .int32))
            XCTAssertEqual(read(g, Int32.self), read(c, Int32.self), "int32 \(op)")
        }
        let h = array(rng.floats(3000, 0, 1).map { Float16($0) }, [3, 1000], .float16)
        let (gh, ch) = try both(ReducePrimitive(op: .sum, axes: [1]), [h], OutputSpec([3, 1], .float16))
        assertClose(gh, ch, rtol: 1e-3, "float16 sum")
    }

    /// Long reductions run in two passes (partial accumulators, then their reduction).
    /// Lavapipe ends a shader loop after 65535 iterations, so a one-pass sum of 2^24
    /// elements (65536 per invocation) used to come out wrong there.
    func testLongReductionsInTwoPasses() throws {
        var rng = Rng(state: 13)
        // Small integers: every partial sum is exact in float32, whatever the order.
        let cases: [([Int], [Int])] = [([40_000], [0]), ([3, 50_001], [1]), ([50_001, 3], [0]), ([2, 17, 2000], [0, 2])]
        for (shape, axes) in cases {
            let count = shape.reduce(1, *)
            let x = (0..<count).map { _ in Float(Int(rng.next() % 7) - 3) }
            let outShape = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
            for op in [ReduceOp.sum, .max, .min, .all, .any] {
                let dtype: DType = op == .all || op == .any ? .bool : .float32
                let (g, c) = try both(ReducePrimitive(op: op, axes: axes), [floats(x, shape)], OutputSpec(outShape, dtype))
                assertClose(g, c, rtol: 0, "\(op) \(shape) axes \(axes)")
            }
            let ints = x.map { Int32($0) * 1_000_003 }
            let (g, c) = try both(ReducePrimitive(op: .sum, axes: axes), [array(ints, shape, .int32)], OutputSpec(outShape, .int32))
            XCTAssertEqual(read(g, Int32.self), read(c, Int32.self), "int32 sum \(shape)")
            let bools = x.map { $0 > 2 }
            let (gb, cb) = try both(ReducePrimitive(op: .max, axes: axes), [array(bools, shape, .bool)], OutputSpec(outShape, .bool))
            XCTAssertEqual(read(gb, UInt8.self), read(cb, UInt8.self), "bool max \(shape)")
            let h = array(x.map { Float16($0 / 4) }, shape, .float16)
            let (gh, ch) = try both(ReducePrimitive(op: .sum, axes: axes), [h], OutputSpec(outShape, .float16))
            assertClose(gh, ch, rtol: 1e-3, "float16 sum \(shape)")
        }
        // 65535·256 elements and more: ones (exact sums) with a larger value last.
        for n in [16_776_960, 16_777_216] {  // sums n + 4: exact in float32
            var ones = [Float](repeating: 1, count: n)
            ones[n - 1] = 5
            let a = floats(ones)
            let s = try XCTUnwrap(try gpu.run(ReducePrimitive(op: .sum, axes: [0]), inputs: [a], outputs: [OutputSpec([1], .float32)]))[0]
            XCTAssertEqual(read(s, Float.self), [Float(n + 4)], "sum of \(n) ones")
            let m = try XCTUnwrap(try gpu.run(ReducePrimitive(op: .max, axes: [0]), inputs: [a], outputs: [OutputSpec([1], .float32)]))[0]
            XCTAssertEqual(read(m, Float.self), [5], "max of \(n)")
        }
    }

    // MARK: - Matmul

    /// |gpu - cpu| <= 1e-4 (|a| @ |b|): relative to the magnitudes summed.
    func assertMatmulClose(_ g: ArrayData, _ c: ArrayData, _ a: ArrayData, _ b: ArrayData, rtol: Double = 1e-4,
                           _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let absA = ArrayData(allocating: a.shape, dtype: .float32)
        let absB = ArrayData(allocating: b.shape, dtype: .float32)
        let av = doubles(a).map { Float(Swift.abs($0)) }, bv = doubles(b).map { Float(Swift.abs($0)) }
        av.withUnsafeBytes { absA.writePointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        bv.withUnsafeBytes { absB.writePointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let scale = doubles(try MatmulPrimitive().evalCPU([absA, absB], outputs: [OutputSpec(c.shape, .float32)])[0])
        let x = doubles(g), y = doubles(c)
        var bad = 0
        for i in x.indices where Swift.abs(x[i] - y[i]) > rtol * scale[i] + 1e-30 {
            bad += 1
            if bad <= 3 { XCTFail("\(what)[\(i)]: gpu \(x[i]) cpu \(y[i]) (scale \(scale[i]))", file: file, line: line) }
        }
    }

    func testMatmul() throws {
        var rng = Rng(state: 8)
        // (batch, M, K, N)
        let cases: [([Int], Int, Int, Int)] = [([], 1, 1, 1), ([], 17, 33, 9), ([], 128, 64, 256), ([3], 5, 7, 2),
                                               ([2, 3], 65, 17, 70), ([], 3, 0, 4), ([], 1, 300, 100)]
        for (batch, M, K, N) in cases {
            let bc = batch.reduce(1, *)
            let a = floats(rng.floats(bc * M * K, -1, 1), batch + [M, K])
            let b = floats(rng.floats(bc * K * N, -1, 1), batch + [K, N])
            let spec = OutputSpec(batch + [M, N], .float32)
            let (g, c) = try both(MatmulPrimitive(), [a, b], spec)
            try assertMatmulClose(g, c, a, b, "matmul \(batch) \(M)x\(K)x\(N)")
        }
        // Transposed operands (views of row-major storage), broadcast batch, offset.
        let M = 40, K = 50, N = 30
        let at = floats(rng.floats(K * M, -1, 1), [K, M]).view(offset: 0, shape: [M, K], strides: [1, M])
        let bt = floats(rng.floats(N * K, -1, 1), [N, K]).view(offset: 0, shape: [K, N], strides: [1, K])
        let (g1, c1) = try both(MatmulPrimitive(), [at, bt], OutputSpec([M, N], .float32))
        try assertMatmulClose(g1, c1, at, bt, "transposed a and b")
        let a3 = floats(rng.floats(4 * M * K, -1, 1), [4, M, K])
        let bShared = floats(rng.floats(K * N + 5, -1, 1)).view(offset: 5, shape: [4, K, N], strides: [0, N, 1])
        let (g2, c2) = try both(MatmulPrimitive(), [a3, bShared], OutputSpec([4, M, N], .float32))
        try assertMatmulClose(g2, c2, a3, bShared, "broadcast batch of b")
        // float16 storage, float32 accumulation.
        let ha = array(rng.floats(M * K, -1, 1).map { Float16($0) }, [M, K], .float16)
        let hb = array(rng.floats(K * N, -1, 1).map { Float16($0) }, [K, N], .float16)
        let (g3, c3) = try both(MatmulPrimitive(), [ha, hb], OutputSpec([M, N], .float16))
        try assertMatmulClose(g3, c3, ha, hb, rtol: 2e-3, "float16")
    }

    // MARK: - Residency, threads, Tensor API

    func testResidency() throws {
        var rng = Rng(state: 9)
        let n = 1000
        let x = rng.floats(n, -1, 1), y = rng.floats(n, -1, 1)
        let a = floats(x), b = floats(y)
        let add = BinaryPrimitive(op: .add), mul = BinaryPrimitive(op: .multiply)
        let spec = OutputSpec([n], .float32)
        // GPU result stays on the device until the host reads it.
        let s = try XCTUnwrap(try gpu.run(add, inputs: [a, b], outputs: [spec]))[0]
        XCTAssertTrue(s.buffer.isOnDevice)
        let expected = zip(x, y).map { $0 + $1 }
        XCTAssertEqual(read(s, Float.self), expected)
        XCTAssertFalse(s.buffer.isOnDevice)
        // Used by a CPU op and by another GPU op.
        let cpu = try mul.evalCPU([s, a], outputs: [spec])[0]
        XCTAssertEqual(read(cpu, Float.self), zip(expected, x).map { $0 * $1 })
        let g = try XCTUnwrap(try gpu.run(mul, inputs: [s, a], outputs: [spec]))[0]
        XCTAssertEqual(read(g, Float.self), zip(expected, x).map { $0 * $1 })
        // A chain that never visits the host in between.
        let g2 = try XCTUnwrap(try gpu.run(add, inputs: [g, g], outputs: [spec]))[0]
        let g3 = try XCTUnwrap(try gpu.run(UnaryPrimitive(op: .negative), inputs: [g2], outputs: [spec]))[0]
        XCTAssertEqual(read(g3, Float.self), zip(expected, x).map { -(($0 * $1) + ($0 * $1)) })
        // Rewriting a host buffer after its upload: the next GPU op sees the new values.
        let z = rng.floats(n, -1, 1)
        z.withUnsafeBytes { a.writePointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let g4 = try XCTUnwrap(try gpu.run(add, inputs: [a, b], outputs: [spec]))[0]
        XCTAssertEqual(read(g4, Float.self), zip(z, y).map { $0 + $1 })
        // A buffer larger than the 16 MiB staging buffer (copied in chunks on a discrete GPU).
        let big = rng.floats(5 << 20, -1, 1)
        let bigA = floats(big)
        let r = try XCTUnwrap(try gpu.run(UnaryPrimitive(op: .negative), inputs: [bigA], outputs: [OutputSpec([big.count], .float32)]))[0]
        XCTAssertEqual(read(r, Float.self), big.map { -$0 })
    }

    /// A full cache gives way to the current workload: after one round of new sizes no more
    /// device memory is created (it used to be created and destroyed on every round).
    func testBufferPoolEvictsOldestWhenFull() throws {
        let backend = try XCTUnwrap(VulkanStatus.backend)
        let pool = VulkanBufferPool(context: backend.context, hostVisible: backend.pool.hostVisible, cacheLimit: 4 << 20)
        defer { pool.trim(to: 0) }
        // An earlier workload leaves three 1 MiB buffers cached.
        let old = try (0..<3).map { _ in try pool.allocate(1 << 20) }
        old.forEach(pool.recycle)
        XCTAssertEqual(pool.statistics.cached, 3 << 20)
        var created: [Int] = []
        for _ in 0..<4 {
            let round = try [pool.allocate(1 << 19), pool.allocate(300_000), pool.allocate(1 << 19)]
            round.forEach(pool.recycle)
            created.append(pool.statistics.created)
        }
        XCTAssertEqual(Set(created.dropFirst()), [created[0]], "device memory created every round: \(created)")
        XCTAssertLessThanOrEqual(pool.statistics.cached, 4 << 20)
        XCTAssertEqual(pool.statistics.live, 0)
        // The most recent 1 MiB buffer is still there for the earlier workload's size.
        let again = try pool.allocate(1 << 20)
        XCTAssertEqual(pool.statistics.created, created.last!)
        pool.recycle(again)
    }

    func testConcurrentCallers() throws {
        var rng = Rng(state: 10)
        let inputs = (0..<8).map { _ in rng.floats(513, -1, 1) }
        let results = UnsafeMutableBufferPointer<[Float]>.allocate(capacity: inputs.count)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        let gpu = self.gpu
        let box = UncheckedSendableBox(results)
        DispatchQueue.concurrentPerform(iterations: inputs.count) { i in
            let a = ArrayData(allocating: [513], dtype: .float32)
            inputs[i].withUnsafeBytes { a.writePointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            let out = try? gpu.run(BinaryPrimitive(op: .multiply), inputs: [a, a], outputs: [OutputSpec([513], .float32)])
            box.value[i] = out.map { Array(UnsafeBufferPointer(start: $0[0].pointer.assumingMemoryBound(to: Float.self), count: 513)) } ?? []
        }
        for i in inputs.indices { XCTAssertEqual(results[i], inputs[i].map { $0 * $0 }, "caller \(i)") }
    }

    func testTensorAPIOnGPU() throws {
        let x: [Float] = [0.5, -1.25, 2, 3.5, -0.75, 1]
        let before = try XCTUnwrap(VulkanStatus.backend).dispatchCount
        let onGPU = withDevice(.gpu) { tensorProgram(x) }
        XCTAssertGreaterThanOrEqual(VulkanStatus.backend!.dispatchCount - before, 7, "ops ran on the CPU")
        let onCPU = withDevice(.cpu) { tensorProgram(x) }
        XCTAssertEqual(onGPU.count, onCPU.count)
        for (g, c) in zip(onGPU, onCPU) { XCTAssertEqual(g, c, accuracy: 1e-5 * max(1, Swift.abs(c))) }
    }

    private func tensorProgram(_ x: [Float]) -> [Float] {
        let a = Tensor(x, shape: [2, 3])
        let b = exp(a) * a + a                    // unary and binary
        let m = matmul(b, b.transposed())         // matmul of a transposed view
        let s = sqrt(abs(m)).toArray(Float.self)  // read back, then reused on the host
        return s + (m + Tensor(1.0)).toArray(Float.self)
    }
}

/// Device selection needs no device: it is checked on made-up device lists.
final class VulkanDeviceSelectionTests: XCTestCase {
    func info(_ i: Int, _ name: String, _ type: VkPhysicalDeviceType, usable: Bool = true) -> VulkanDeviceInfo {
        VulkanDeviceInfo(index: i, handle: OpaquePointer(bitPattern: i + 1)!, name: name, type: type,
                         apiVersion: vkMakeVersion(1, 3, 0), computeQueueFamily: usable ? 0 : nil)
    }

    func testPrefersRealGPUsAndHonoursRequests() throws {
        let devices = [info(0, "llvmpipe (LLVM 15.0.6, 256 bits)", VK_PHYSICAL_DEVICE_TYPE_CPU),
                       info(1, "Intel(R) UHD Graphics 770", VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU),
                       info(2, "NVIDIA H100 80GB HBM3", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU),
                       info(3, "Broken", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, usable: false)]
        XCTAssertEqual(try selectVulkanDevice(devices, request: nil).index, 2)
        XCTAssertEqual(try selectVulkanDevice(Array(devices.prefix(2)), request: nil).index, 1)
        XCTAssertEqual(try selectVulkanDevice(devices, request: "0").index, 0)
        XCTAssertEqual(try selectVulkanDevice(devices, request: "llvmpipe").index, 0)
        XCTAssertEqual(try selectVulkanDevice(devices, request: "intel").index, 1)
        XCTAssertEqual(try selectVulkanDevice(devices, request: " ").index, 2)
        XCTAssertThrowsError(try selectVulkanDevice(devices, request: "7"))
        XCTAssertThrowsError(try selectVulkanDevice(devices, request: "3"))
        XCTAssertThrowsError(try selectVulkanDevice(devices, request: "radeon"))
        XCTAssertThrowsError(try selectVulkanDevice([], request: nil))
    }

    func testDimensionHelpers() {
        // Contiguous dims merge; broadcast and transposed ones do not.
        let (s1, st1) = collapseDims([2, 3, 4], [[12, 4, 1], [0, 0, 0]])
        XCTAssertEqual(s1, [24]); XCTAssertEqual(st1, [[1], [0]])
        let (s2, st2) = collapseDims([2, 1, 3, 4], [[12, 99, 4, 1], [0, 7, 1, 0]])
        XCTAssertEqual(s2, [2, 3, 4]); XCTAssertEqual(st2, [[12, 4, 1], [0, 1, 0]])
        XCTAssertEqual(broadcastStrides([3, 1], [1, 1], to: [2, 3, 5]), [0, 1, 0])
        XCTAssertNil(broadcastStrides([3, 2], [2, 1], to: [3, 5]))
    }
}

/// A buffer's device copy when the backend's allocation can fail; needs no device.
final class BufferResidencyTests: XCTestCase {
    final class FakeAllocation: DeviceAllocation, @unchecked Sendable {
        var uploads = 0
        func download(to host: UnsafeMutableRawPointer, count: Int) {}
        func upload(from host: UnsafeRawPointer, count: Int) { uploads += 1 }
    }

    func testFailedDeviceAllocationIsNotRemembered() {
        let buffer = Buffer(byteCount: 64)
        var attempts = 0
        // Device memory ran out: nil, and nothing is kept.
        XCTAssertNil(buffer.deviceAllocationIfPossible { () -> FakeAllocation? in attempts += 1; return nil })
        XCTAssertFalse(buffer.isOnDevice)
        // The next use tries again, allocates and uploads once.
        let made = FakeAllocation()
        let d = buffer.deviceAllocationIfPossible { () -> FakeAllocation? in attempts += 1; return made }
        XCTAssertTrue(d === made)
        XCTAssertEqual(attempts, 2)
        XCTAssertEqual(made.uploads, 1)
        // Valid on the device now: reused, no new allocation and no new upload.
        let again = buffer.deviceAllocationIfPossible { () -> FakeAllocation? in attempts += 1; return FakeAllocation() }
        XCTAssertTrue(again === made)
        XCTAssertEqual(attempts, 2)
        XCTAssertEqual(made.uploads, 1)
        // A host write makes the device copy stale: the next use uploads again.
        _ = buffer.hostForWriting
        _ = buffer.deviceAllocationIfPossible { () -> FakeAllocation? in nil }
        XCTAssertEqual(made.uploads, 2)
    }
}

struct UncheckedSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
