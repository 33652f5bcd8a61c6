// `ZooBench vulkan_check`: every op with a Vulkan kernel, evaluated on the GPU and on the
// CPU, compared case by case; GPU and CPU timings; the memory paths; a graph mixing GPU
// kernels with CPU fallbacks; memory over repeated evaluations. Made to be run once on a
// machine with a real GPU and no Swift (tools/gpu_check.sh), and on lavapipe here.
//
//   ZooBench vulkan_check [size=small|full] [perf=0] [repeat=N] [mm=2048]
//
// size: `full` (the default on a real GPU) adds 16M-element and 2048²/4096² cases; `small`
// (the default on a CPU Vulkan device such as lavapipe) keeps every case under a few
// seconds there. mm: the large matmul sizes of `full` (mm and 2·mm; 2048 by default).
// perf=0 leaves out the timings. Exit status: 0 all passed, 1 a case failed, 2 no Vulkan
// device.
//
// Tolerances, per case:
// - exact: integer, bool and comparison results; float add, subtract, multiply, max/min,
//   floor division, negation, abs, floor/ceil/round (IEEE-exact in SPIR-V and on the CPU).
// - relative (rtol, atol) against the CPU: float division and the transcendental functions
//   (the kernels' own math library is within ~1e-6 relative of float64; the CPU's exp, erf
//   and erfinv are fast approximations a few 1e-6 off: the same table as VulkanTests);
//   half types add one rounding of each side (float16 2^-10, bfloat16 2^-7 relative).
// - bound against a float64 reference, per output element: a float32 sum in which every
//   term goes through at most k roundings is within about k·u·Σ|x| of the exact sum
//   (u = 2^-24), plus u·|result| for the final rounding. k is the longest chain of additions
//   in the kernel: a matmul output is one
//   fused-multiply-add chain over K (k = K); a reduction is a strided chain of ⌈n/256⌉ terms
//   then a 256-way tree (k = ⌈n/256⌉ + 8), or one chain of n terms when n < 256. Products
//   of n factors: n·u·|result|. Half outputs add their own rounding. The GPU-CPU difference
//   is printed beside it.

import Engine
import Foundation

/// How a case is judged.
enum Tolerance {
    /// Equal to the CPU's values (NaN where the CPU has NaN).
    case exact
    /// |gpu - cpu| ≤ rtol·|cpu| + atol; NaN and infinities must match.
    case relative(Double, Double)
    /// |gpu - reference| ≤ bound, element by element (reference computed in float64).
    case bounded(reference: [Double], bound: [Double])

    var label: String {
        switch self {
        case .exact: "exact"
        case .relative(let r, let a): "rtol=\(short(r))" + (a > 0 ? ",atol=\(short(a))" : "")
        case .bounded: "f32-sum-bound"
        }
    }
}

func short(_ x: Double) -> String { x == 0 ? "0" : String(format: "%.2g", x) }

/// Unit roundoff of float32, float16 and bfloat16.
let u32 = 0x1p-24, u16 = 0x1p-11, ubf16 = 0x1p-8

struct VulkanCheckError: Error, CustomStringConvertible {
    var description: String
}

final class VulkanCheck {
    var full: Bool
    var perf: Bool
    var repeatCount: Int
    /// The large matmul size in `full` mode (and twice it for the largest).
    var mm: Int
    var cases = 0
    var failures: [String] = []
    var warnings: [String] = []

    init(_ args: [String: String], realGPU: Bool) throws {
        switch args["size"] {
        case nil: full = realGPU
        case "full": full = true
        case "small": full = false
        case let s?: throw VulkanCheckError(description: "size=\(s): expected small or full")
        }
        perf = args["perf"] != "0"
        repeatCount = Int(args["repeat"] ?? "") ?? 40
        mm = Int(args["mm"] ?? "") ?? 2048
    }

    var report: GPUReport { GPUReport.current! }

    // MARK: - Running and judging one case

    /// Evaluates `f` on the GPU (counting its kernels) and on the CPU, judges the GPU's values
    /// with `tolerance` (given both results), prints one line. `minKernels`: how many GPU
    /// dispatches the case must make (0 for graphs that may legitimately stay on the CPU).
    @discardableResult
    func check(_ op: String, _ dtype: DType, _ shape: [Int], _ layout: String = "contiguous", minKernels: Int = 1,
               warnOnly: Bool = false, tolerance: (Tensor, Tensor) throws -> Tolerance = { _, _ in .exact },
               _ f: () -> Tensor) -> Bool {
        cases += 1
        let name = "\(op) \(dtype) \(fmt(shape)) \(layout)"
        var line = "CHECK " + pad(op, 14) + pad("\(dtype)", 9) + pad(fmt(shape), 18) + pad(layout, 20)
        do {
            let (g, c, kernels) = try withError { () -> (Tensor, Tensor, Int) in
                let before = report.dispatches
                let g = withDevice(.gpu) { f() }
                eval(g)
                let kernels = report.dispatches - before
                let c = withDevice(.cpu) { f() }
                eval(c)
                return (g, c, kernels)
            }
            guard g.shape == c.shape, g.dtype == c.dtype else {
                throw VulkanCheckError(description: "gpu \(g.dtype)\(fmt(g.shape)) vs cpu \(c.dtype)\(fmt(c.shape))")
            }
            let tol = try withError { try tolerance(g, c) }
            let gv = g.toDoubles(), cv = c.toDoubles()
            let r = judge(gv, cv, tol)
            var verdict = r.ok
            var note = r.note
            if kernels < minKernels {
                verdict = false
                note = "ran on the CPU: \(kernels) GPU kernels, expected >= \(minKernels)"
            }
            line += "maxdiff=" + pad(String(format: "%.3g", r.maxDiff), 10) + pad(tol.label, 16)
            line += "k=\(kernels) "
            if case .bounded = tol { line += "err/bound=\(String(format: "%.3f", r.worst)) " }
            if verdict {
                line += "PASS"
            } else if warnOnly {
                line += "WARN " + note
                warnings.append("\(name): \(note)")
            } else {
                line += "FAIL " + note
                failures.append("\(name): \(note)")
            }
            print(line)
            return verdict
        } catch {
            print(line + "FAIL \(error)")
            failures.append("\(name): \(error)")
            return false
        }
    }

    struct Judgement {
        var ok: Bool
        var maxDiff: Double
        var worst: Double
        var note: String
    }

    /// `gpu` against the CPU's values (or the float64 reference of a bounded tolerance).
    func judge(_ gpu: [Double], _ cpu: [Double], _ tol: Tolerance) -> Judgement {
        guard gpu.count == cpu.count else { return Judgement(ok: false, maxDiff: .nan, worst: .nan, note: "count differs") }
        var maxDiff = 0.0, worst = 0.0, bad = 0
        var first = ""
        for i in gpu.indices {
            let g = gpu[i], c = cpu[i]
            if g.isFinite && c.isFinite { maxDiff = max(maxDiff, Swift.abs(g - c)) }
            let ok: Bool
            switch tol {
            case .exact:
                ok = g == c || (g.isNaN && c.isNaN)
                if !ok { worst = .infinity }
            case .relative(let rtol, let atol):
                if g.isNaN || c.isNaN || g.isInfinite || c.isInfinite {
                    ok = g == c || (g.isNaN && c.isNaN)
                } else {
                    let allowed = rtol * Swift.abs(c) + atol
                    let d = Swift.abs(g - c)
                    ok = d <= allowed
                    worst = max(worst, allowed > 0 ? d / allowed : (d > 0 ? .infinity : 0))
                }
            case .bounded(let reference, let bound):
                let r = reference[i]
                if g.isNaN || r.isNaN || g.isInfinite || r.isInfinite {
                    ok = g == r || (g.isNaN && r.isNaN)
                } else {
                    let d = Swift.abs(g - r)
                    ok = d <= bound[i]
                    worst = max(worst, bound[i] > 0 ? d / bound[i] : (d > 0 ? .infinity : 0))
                }
            }
            if !ok {
                bad += 1
                if bad == 1 {
                    if case .bounded(let reference, let bound) = tol {
                        first = "[\(i)] gpu \(g) cpu \(c) float64 \(reference[i]) bound \(bound[i])"
                    } else {
                        first = "[\(i)] gpu \(g) cpu \(c)"
                    }
                }
            }
        }
        return Judgement(ok: bad == 0, maxDiff: maxDiff, worst: worst,
                         note: bad == 0 ? "" : "\(bad) of \(gpu.count) differ, first \(first)")
    }

    // MARK: - Inputs

    func floats(_ n: Int, _ lo: Float, _ hi: Float, seed: UInt64) -> [Float] {
        pseudoRandomFloats(n, low: lo, high: hi, seed: seed)
    }

    /// A float tensor of `dtype` made on the CPU (already evaluated, so it is an input).
    func tensor(_ values: [Float], _ shape: [Int], _ dtype: DType = .float32) -> Tensor {
        let t = withDevice(.cpu) { Tensor(values, shape: shape).asType(dtype) }
        eval(t)
        return t
    }

    func random(_ shape: [Int], _ lo: Float, _ hi: Float, _ dtype: DType = .float32, seed: UInt64) -> Tensor {
        tensor(floats(shape.reduce(1, *), lo, hi, seed: seed), shape, dtype)
    }

    /// Whole numbers in [-amplitude, amplitude]: sums and products stay exact in float32 while
    /// every partial sum is at most 2^24 in magnitude, in whatever order they are added.
    func integers(_ shape: [Int], _ amplitude: Int, _ dtype: DType = .float32, seed: UInt64) -> Tensor {
        let span = Float(2 * amplitude + 1)
        let v = floats(shape.reduce(1, *), 0, 1, seed: seed).map { Swift.min(($0 * span).rounded(.down), span - 1) - Float(amplitude) }
        return tensor(v, shape, dtype)
    }

    /// Values with a few specials written in (NaN, ±inf, ±0, ±1) where n allows.
    func withSpecials(_ x: [Float]) -> [Float] {
        var x = x
        let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 1, -1, 0.5, -0.5]
        if x.count >= 64 { for (i, s) in specials.enumerated() { x[17 + 3 * i] = s } }
        return x
    }

    // MARK: - Elementwise

    static let unaryFloatOps: [(UnaryOp, Float, Float, Double, Double)] = [
        // op, input range, rtol, atol (against the CPU)
        (.abs, -100, 100, 0, 0), (.negative, -100, 100, 0, 0), (.sign, -100, 100, 0, 0),
        (.square, -100, 100, 0, 0), (.floor, -100, 100, 0, 0), (.ceil, -100, 100, 0, 0),
        (.round, -100, 100, 0, 0), (.isNaN, -100, 100, 0, 0), (.isInf, -100, 100, 0, 0),
        (.isFinite, -100, 100, 0, 0), (.logicalNot, -100, 100, 0, 0),
        (.exp, -87, 87, 6e-6, 0), (.expm1, -5, 5, 1e-6, 1e-7),
        (.log, 1e-3, 1e4, 1e-6, 1e-7), (.log1p, -0.9, 50, 1e-6, 1e-7),
        (.log2, 1e-3, 1e4, 1e-6, 1e-7), (.log10, 1e-3, 1e4, 1e-6, 1e-7),
        (.sqrt, 1e-3, 1e4, 2e-7, 0), (.rsqrt, 1e-3, 1e4, 2e-7, 0), (.reciprocal, 1e-3, 1e4, 2e-7, 0),
        (.sin, -300, 300, 1e-6, 2e-7), (.cos, -300, 300, 1e-6, 2e-7), (.tan, -1.5, 1.5, 1e-6, 1e-7),
        (.asin, -0.999, 0.999, 1e-6, 1e-7), (.acos, -0.999, 0.999, 1e-6, 1e-7), (.atan, -50, 50, 1e-6, 0),
        (.sinh, -80, 80, 1e-6, 1e-7), (.cosh, -80, 80, 1e-6, 1e-7), (.tanh, -10, 10, 1e-6, 1e-7),
        (.asinh, -1e4, 1e4, 1e-6, 1e-7), (.acosh, 1, 1e4, 1e-6, 1e-7), (.atanh, -0.999, 0.999, 1e-6, 1e-7),
        (.sigmoid, -30, 30, 6e-6, 1e-7), (.erf, -5, 5, 1e-6, 1e-6), (.erfInverse, -0.95, 0.95, 1e-5, 1e-6),
    ]

    static func binaryTolerance(_ op: BinaryOp) -> Tolerance {
        switch op {
        case .divide: .relative(1.2e-7, 0)
        case .remainder: .relative(1e-6, 1e-6)
        case .power, .atan2: .relative(1e-6, 1e-7)
        default: .exact
        }
    }

    static let comparisons: Set<BinaryOp> = [.equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .logicalAnd, .logicalOr]

    func elementwise() {
        print("\n== elementwise: binary (every op), float32, odd sizes, specials")
        let sizes = full ? [1, 7, 255, 257, 4097, 1_000_003] : [1, 7, 257, 4097, 100_003]
        for n in sizes {
            let av = withSpecials(floats(n, -3, 3, seed: 1)), bvRaw = floats(n, 0.25, 3, seed: 2)
            let bv = bvRaw.enumerated().map { $0.offset % 2 == 0 ? $0.element : -$0.element }
            let a = tensor(av, [n]), b = tensor(bv, [n])
            let pa = tensor(av.map { Swift.abs($0) + 0.5 }, [n]), pb = tensor(bv.map { $0 * 1.5 }, [n])
            for op in BinaryOp.allCases {
                let (x, y) = op == .power ? (pa, pb) : (a, b)
                check("\(op)", .float32, [n], tolerance: { _, _ in Self.binaryTolerance(op) }) { binary(op, x, y) }
            }
        }

        // More work groups than one grid dimension holds (65535 x 256): the y dimension is used.
        let huge = 65535 * 256 + 513
        let ha = random([huge], -1, 1, seed: 10), hb = random([huge], -1, 1, seed: 11)
        check("add", .float32, [huge], "2-D grid") { ha + hb }

        print("\n== elementwise: views (broadcast, transposed, sliced, reversed), float32")
        let (m, n) = full ? (1023, 517) : (37, 29)
        let a = random([m, n], -2, 2, seed: 3)
        let row = random([n], -2, 2, seed: 4), col = random([m, 1], -2, 2, seed: 5)
        let t = random([n, m], -2, 2, seed: 6)
        let big = random([2 * m + 1, 3 * n], -2, 2, seed: 7)
        let views: [(String, () -> Tensor)] = [
            ("row-broadcast", { row }), ("col-broadcast", { col }), ("scalar", { Tensor(Float(1.5)) }),
            ("transposed", { t.transposed() }),
            ("sliced-step", { big[.stride(1, nil, by: 2), .stride(2, nil, by: 3)] }),
            ("reversed", { big[.stride(2 * m - 1, nil, by: -2), .stride(3 * n - 1, nil, by: -3)] }),
        ]
        for (layout, v) in views {
            for op in [BinaryOp.add, .multiply, .less, .maximum] {
                check("\(op)", .float32, [m, n], layout) { binary(op, a, v()) }
                check("\(op)", .float32, [m, n], layout + "-lhs") { binary(op, v(), a) }
            }
            check("exp", .float32, [m, n], layout, tolerance: { _, _ in .relative(6e-6, 0) }) {
                exp(v() + Tensor(Float(0))) + exp(v().broadcast(to: [m, n]))
            }
        }
        let x4 = random([2, 3, 4, 5], -1, 1, seed: 8), y3 = random([3, 1, 5], -1, 1, seed: 9)
        check("subtract", .float32, [2, 3, 4, 5], "rank4-broadcast") { x4 - y3 }

        print("\n== elementwise: unary (every float op), float32, specials")
        let un = full ? 100_003 : 4097
        for (i, (op, lo, hi, rtol, atol)) in Self.unaryFloatOps.enumerated() {
            let x = tensor(withSpecials(floats(un, lo, hi, seed: 100 + UInt64(i))), [un])
            let tol: Tolerance = rtol == 0 && atol == 0 ? .exact : .relative(rtol, atol)
            check("\(op)", .float32, [un], tolerance: { _, _ in tol }) { unary(op, x) }
        }

        print("\n== elementwise: float16 and bfloat16 (computed in float32, one rounding)")
        let hn = full ? 1_000_001 : 999
        for (dtype, unit) in [(DType.float16, 0x1p-10), (.bfloat16, 0x1p-7)] {
            let a = random([hn], -4, 4, dtype, seed: 20), b = random([hn], 0.5, 4, dtype, seed: 21)
            for op in [BinaryOp.add, .subtract, .multiply, .divide, .maximum, .less, .equal] {
                check("\(op)", dtype, [hn], tolerance: { _, _ in op == .divide ? .relative(unit + 2e-7, 0) : .relative(unit, 0) }) {
                    binary(op, a, b)
                }
            }
            let tb = random([31, 45], -3, 3, dtype, seed: 22)
            check("add", dtype, [45, 31], "transposed", tolerance: { _, _ in .relative(unit, 0) }) { tb.transposed() + tb.transposed() }
            for op in [UnaryOp.exp, .tanh, .sigmoid, .negative, .square, .sin] {
                let x = random([hn], -3, 3, dtype, seed: 23)
                check("\(op)", dtype, [hn], tolerance: { _, _ in .relative(unit + 1e-5, 1e-4) }) { unary(op, x) }
            }
        }

        print("\n== elementwise: int32, uint32 and bool (exact)")
        let inN = 1001
        var ia = (0..<inN).map { i in Int32(truncatingIfNeeded: (i &* 7919) % 2001 - 1000) }
        var ib = (0..<inN).map { i in Int32(truncatingIfNeeded: (i &* 104_729) % 41 - 20) }
        ia[0] = .min; ib[0] = -1; ia[1] = .max; ib[1] = .max; ib[2] = 0; ia[3] = -7; ib[3] = 2
        let ta = Tensor(ia, shape: [inN]), tb = Tensor(ib, shape: [inN]), tp = Tensor(ib.map { $0 % 6 }, shape: [inN])
        for op in BinaryOp.allCases where op != .atan2 {
            // True division of integers is float32 division (NumPy rules): its tolerance.
            check("\(op)", .int32, [inN], tolerance: { _, _ in Self.binaryTolerance(op) }) { binary(op, ta, op == .power ? tp : tb) }
        }
        for op in [UnaryOp.abs, .negative, .sign, .square, .logicalNot] {
            check("\(op)", .int32, [inN]) { unary(op, ta) }
        }
        let ua = Tensor(ia.map { UInt32(bitPattern: $0) }, shape: [inN])
        let ub = Tensor(ib.map { UInt32(bitPattern: $0) % 40 }, shape: [inN])
        for op in BinaryOp.allCases where op != .atan2 {
            check("\(op)", .uint32, [inN], tolerance: { _, _ in Self.binaryTolerance(op) }) { binary(op, ua, ub) }
        }
        let pa = Tensor((0..<inN).map { $0 % 2 == 0 }, shape: [inN]), pb = Tensor((0..<inN).map { $0 % 3 == 0 }, shape: [inN])
        for op in BinaryOp.allCases where op != .atan2 {
            check("\(op)", .bool, [inN]) { binary(op, pa, pb) }
        }
        check("logicalNot", .bool, [inN]) { logicalNot(pa) }

        print("\n== elementwise: float32 subnormals (Vulkan lets drivers flush them: WARN, not FAIL)")
        let tiny = tensor((0..<1024).map { Float(bitPattern: UInt32($0 + 1)) }, [1024])
        check("add", .float32, [1024], "subnormal", warnOnly: true) { tiny + tiny }
        check("multiply", .float32, [1024], "subnormal", warnOnly: true) { tiny * Tensor(Float(4)) }
    }

    // MARK: - Reductions

    /// k·u·Σ|x| + u·|ref| per output, with the float64 reference and Σ|x| from the CPU.
    func sumBound(_ x: Tensor, axes: [Int], outputUnit: Double = 0) -> (Tensor, Tensor) throws -> Tolerance {
        { _, _ in
            let nRed = axes.map { x.shape[$0] }.reduce(1, *)
            // One pass: ⌈n/256⌉ + 8; two passes (long reductions): 64 + 8 + ⌈parts/256⌉ + 8.
            let k = Double(nRed < 256 ? nRed : (nRed + 255) / 256 + 16 + (nRed + (1 << 22) - 1) >> 22)
            let (ref, mag) = withDevice(.cpu) {
                let x64 = x.asType(.float64)
                return (sum(x64, axes: axes).toDoubles(), sum(abs(x64), axes: axes).toDoubles())
            }
            let bound = zip(ref, mag).map { r, s in k * u32 * s + (u32 + outputUnit) * Swift.abs(r) + 1e-300 }
            return .bounded(reference: ref, bound: bound)
        }
    }

    func prodBound(_ x: Tensor, axes: [Int]) -> (Tensor, Tensor) throws -> Tolerance {
        { _, _ in
            let nRed = axes.map { x.shape[$0] }.reduce(1, *)
            let ref = withDevice(.cpu) { prod(x.asType(.float64), axes: axes).toDoubles() }
            return .bounded(reference: ref, bound: ref.map { Double(nRed + 1) * u32 * Swift.abs($0) + 1e-300 })
        }
    }

    func reductions() {
        print("\n== reductions: sum/prod (float64 reference, f32 summation bound), max/min/all/any (exact)")
        var shapes: [([Int], [Int])] = [
            ([1], [0]), ([7], [0]), ([1000], [0]), ([4097], [0]),
            ([7, 1000], [1]), ([7, 1000], [0]), ([1000, 7], [1]), ([7, 1000], [0, 1]),
            ([3, 5, 7], [0, 2]), ([3, 5, 7], [1]), ([2, 3, 4, 5], [1, 3]), ([300, 20], [1]), ([5000, 3], [1]),
            ([70000, 257], [1]),  // a work group per output, more than 65535 of them: 2-D grid
        ]
        shapes += full ? [([1 << 24], [0]), ([4096, 4096], [1]), ([4096, 4096], [0])]
                       : [([1 << 20], [0]), ([1024, 1024], [1]), ([1024, 1024], [0])]
        for (i, (shape, axes)) in shapes.enumerated() {
            let x = random(shape, -1, 1, seed: 200 + UInt64(i))
            check("sum", .float32, shape, "axes=\(axes)", tolerance: sumBound(x, axes: axes)) { sum(x, axes: axes) }
            // Whole numbers: the exact sum, so no element may be missed or counted twice.
            let nRed = axes.map { shape[$0] }.reduce(1, *)
            let w = integers(shape, Swift.max(1, Swift.min(3, (1 << 24) / Swift.max(nRed, 1))), seed: 250 + UInt64(i))
            check("sum", .float32, shape, "axes=\(axes),whole") { sum(w, axes: axes) }
            check("max", .float32, shape, "axes=\(axes)") { max(x, axes: axes) }
            check("min", .float32, shape, "axes=\(axes)") { min(x, axes: axes) }
            if shape.reduce(1, *) <= 1 << 16 {
                let p = random(shape, 1 - 1 / 16, 1 + 1 / 16, seed: 300 + UInt64(i))
                check("prod", .float32, shape, "axes=\(axes)", tolerance: prodBound(p, axes: axes)) { prod(p, axes: axes) }
                check("all", .bool, shape, "axes=\(axes)", minKernels: 2) { all(x .> Tensor(Float(-0.9)), axes: axes) }
                check("any", .bool, shape, "axes=\(axes)", minKernels: 2) { any(x .> Tensor(Float(0.9)), axes: axes) }
            }
        }
        let base = random([30, 40], -1, 1, seed: 400)
        let bcast = random([30], -1, 1, seed: 401)
        for axes in [[0], [1], [0, 1]] {
            let tr = base.transposed()
            check("sum", .float32, [40, 30], "transposed,axes=\(axes)", tolerance: sumBound(tr, axes: axes)) { sum(base.transposed(), axes: axes) }
            check("max", .float32, [40, 30], "transposed,axes=\(axes)") { max(base.transposed(), axes: axes) }
            let bc = bcast.broadcast(to: [40, 30])
            check("sum", .float32, [40, 30], "broadcast,axes=\(axes)", tolerance: sumBound(bc, axes: axes)) { sum(bcast.broadcast(to: [40, 30]), axes: axes) }
        }
        var withNaN = floats(300, -1, 1, seed: 402)
        withNaN[123] = .nan
        let nanT = tensor(withNaN, [300])
        check("max", .float32, [300], "with-NaN") { max(nanT, axes: [0]) }
        let ints = Tensor((0..<5000).map { i in i == 0 ? Int32.max : Int32(truncatingIfNeeded: (i &* 2_654_435_761) >> 3) }, shape: [5, 1000])
        for op in ["sum", "prod", "max", "min"] {
            check(op, .int32, [5, 1000], "axes=[1],wraps") {
                switch op {
                case "sum": sum(ints, axes: [1])
                case "prod": prod(ints, axes: [1])
                case "max": max(ints, axes: [1])
                default: min(ints, axes: [1])
                }
            }
        }
        let uints = Tensor((0..<777).map { UInt32(truncatingIfNeeded: $0 &* 2_654_435_761) }, shape: [111, 7])
        check("sum", .uint32, [111, 7], "axes=[0]") { sum(uints, axes: [0]) }
        check("max", .uint32, [111, 7], "axes=[0]") { max(uints, axes: [0]) }
        for (dtype, unit) in [(DType.float16, u16), (.bfloat16, ubf16)] {
            let h = random([3, 1000], 0, 1, dtype, seed: 403)
            check("sum", dtype, [3, 1000], "axes=[1]", tolerance: sumBound(h, axes: [1], outputUnit: unit)) { sum(h, axes: [1]) }
            check("max", dtype, [3, 1000], "axes=[1]") { max(h, axes: [1]) }
        }
    }

    // MARK: - Matmul

    /// (K + 2)·u·(|A| @ |B|) + output rounding, against the float64 product (one fma chain over K).
    func matmulBound(_ a: Tensor, _ b: Tensor, outputUnit: Double = 0) -> (Tensor, Tensor) throws -> Tolerance {
        { _, _ in
            let K = a.shape[a.ndim - 1]
            let (ref, mag) = withDevice(.cpu) {
                let a64 = a.asType(.float64), b64 = b.asType(.float64)
                return (matmul(a64, b64).toDoubles(), matmul(abs(a64), abs(b64)).toDoubles())
            }
            let tiny = outputUnit == u16 ? 0x1p-25 : 1e-300  // half of float16's smallest subnormal
            let bound = zip(ref, mag).map { r, s in Double(K + 2) * u32 * s + outputUnit * 1.01 * Swift.abs(r) + tiny }
            return .bounded(reference: ref, bound: bound)
        }
    }

    func matmuls() {
        print("\n== matmul: 64x64 tiles, K steps of 16: sizes off the tiles, views, batches, half types")
        var sizes: [([Int], Int, Int, Int)] = [
            ([], 1, 1, 1), ([], 17, 33, 9), ([], 63, 64, 65), ([], 65, 17, 70), ([], 128, 64, 256),
            ([], 1, 300, 100), ([], 300, 1, 200), ([], 3, 0, 4), ([3], 5, 7, 2), ([2, 3], 65, 17, 70), ([], 257, 129, 191),
        ]
        sizes += full ? [([], 1000, 1000, 1000), ([], mm, mm, mm)] : [([], 500, 300, 400)]
        for (i, (batch, M, K, N)) in sizes.enumerated() {
            let a = random(batch + [M, K], -1, 1, seed: 500 + UInt64(i)), b = random(batch + [K, N], -1, 1, seed: 600 + UInt64(i))
            check("matmul", .float32, batch + [M, K, N], "contiguous", minKernels: M * N * K == 0 ? 0 : 1,
                  tolerance: matmulBound(a, b)) { matmul(a, b) }
        }
        let (M, K, N) = full ? (1031, 771, 517) : (40, 50, 30)
        let at = random([K, M], -1, 1, seed: 700), bt = random([N, K], -1, 1, seed: 701)
        let a = random([M, K], -1, 1, seed: 702), b = random([K, N], -1, 1, seed: 703)
        check("matmul", .float32, [M, K, N], "A-transposed", tolerance: matmulBound(at.transposed(), b)) { matmul(at.transposed(), b) }
        check("matmul", .float32, [M, K, N], "B-transposed", tolerance: matmulBound(a, bt.transposed())) { matmul(a, bt.transposed()) }
        check("matmul", .float32, [M, K, N], "both-transposed", tolerance: matmulBound(at.transposed(), bt.transposed())) {
            matmul(at.transposed(), bt.transposed())
        }
        let bigA = random([2 * M + 3, K + 5], -1, 1, seed: 704)
        let sliced = bigA[.stride(3, nil, by: 2), .stride(5, nil, by: 1)]
        check("matmul", .float32, [M, K, N], "A-sliced", tolerance: matmulBound(sliced, b)) { matmul(bigA[.stride(3, nil, by: 2), .stride(5, nil, by: 1)], b) }
        let a3 = random([4, M, K], -1, 1, seed: 705)
        check("matmul", .float32, [4, M, K, N], "B-broadcast", tolerance: matmulBound(a3, b)) { matmul(a3, b) }
        let v = random([K], -1, 1, seed: 706)
        check("matmul", .float32, [1, K, N], "vector", tolerance: matmulBound(v.reshaped([1, K]), b)) { matmul(v, b) }
        // Whole numbers in [-2, 2]: every product and partial sum is exact (|sum| <= 4K), so
        // the float32 result must equal the CPU's exactly: any lost or doubled tile shows.
        var exact: [(Int, Int, Int)] = [(65, 17, 70), (63, 64, 65), (257, 129, 191), (1, 300, 100)]
        exact += full ? [(mm, mm, mm), (2 * mm + 1, 2 * mm - 1, 2 * mm + 3)] : [(500, 300, 400)]
        for (i, (m, k, n)) in exact.enumerated() {
            let wa = integers([m, k], 2, seed: 720 + UInt64(i)), wb = integers([k, n], 2, seed: 740 + UInt64(i))
            check("matmul", .float32, [m, k, n], "whole") { matmul(wa, wb) }
        }
        let wt = integers([2 * K, M], 2, seed: 760), wbt = integers([N, K], 2, seed: 761)
        check("matmul", .float32, [M, K, N], "whole,views") { matmul(wt[.stride(1, nil, by: 2)].transposed(), wbt.transposed()) }
        // Half types: values in {-1, 0, 1} and |sum| <= K stay exact where K fits the type
        // (2048 for float16, 256 for bfloat16), whatever the rounding of the final store.
        for (dtype, kMax) in [(DType.float16, 2048), (.bfloat16, 256)] {
            let k = full ? kMax : Swift.min(kMax, 256)
            let ha = integers([k + 3, k], 1, dtype, seed: 780), hb = integers([k, k - 5], 1, dtype, seed: 781)
            check("matmul", dtype, [k + 3, k, k - 5], "whole") { matmul(ha, hb) }
        }
        let hs = full ? [(257, 129, 191), (mm, mm, mm)] : [(40, 50, 30), (257, 129, 191)]
        for (dtype, unit) in [(DType.float16, u16), (.bfloat16, ubf16)] {
            for (i, (m, k, n)) in hs.enumerated() {
                let ha = random([m, k], -1, 1, dtype, seed: 800 + UInt64(i)), hb = random([k, n], -1, 1, dtype, seed: 900 + UInt64(i))
                check("matmul", dtype, [m, k, n], "contiguous", tolerance: matmulBound(ha, hb, outputUnit: unit)) { matmul(ha, hb) }
            }
        }
    }

    // MARK: - Memory paths, mixed graphs, repeated evaluation

    func memoryPaths() {
        print("\n== memory: path '\(report.memoryPath)' (staging on a discrete GPU: device-local buffers, 16 MiB staging chunks)")
        let r0 = report
        // More than one staging chunk, odd byte counts (bool: 1 byte per element).
        let n = 5 << 20 + 1  // 20 MiB + 4 bytes of float32
        let x = random([n], -1, 1, seed: 1000)
        check("negative", .float32, [n], "> staging") { -x }
        let bn = 20 << 20 + 3
        let bx = Tensor((0..<bn).map { $0 % 3 == 0 }, shape: [bn])
        check("logicalNot", .bool, [bn], "> staging,odd") { logicalNot(bx) }
        let r1 = report
        let up = r1.stagedUploadBytes - r0.stagedUploadBytes + r1.mappedUploadBytes - r0.mappedUploadBytes
        let down = r1.stagedDownloadBytes - r0.stagedDownloadBytes + r1.mappedDownloadBytes - r0.mappedDownloadBytes
        let staged = r1.stagedUploadBytes - r0.stagedUploadBytes
        let want = n * 4 + bn
        print("       uploaded \(mib(up)) (staged \(mib(staged))), downloaded \(mib(down)); inputs \(mib(want))")
        expect(up >= want && down >= want, "memory: transfers counted (uploaded \(up), downloaded \(down), want >= \(want) each)")
        if report.memoryPath == "staging" {
            expect(staged >= want, "memory: staging path moved the inputs (\(staged) bytes staged)")
        }

        // A GPU result read by a CPU op, then used by GPU ops without a new upload.
        let a = random([4099], -1, 1, seed: 1001), b = random([4099], -1, 1, seed: 1002)
        check("residency", .float32, [4099], "gpu->cpu->gpu", minKernels: 3) {
            let s = a + b
            let sorted = withDevice(.cpu) { s.sorted() }  // CPU op reading the device result
            return (s * a) + sorted
        }
        // The same device-resident input used many times, and a chain that never visits the host.
        check("chain", .float32, [4099], "device-only", minKernels: 6, tolerance: { _, _ in .relative(6e-6, 1e-6) }) {
            var y = a
            for _ in 0..<3 { y = exp(y * Tensor(Float(0.5))) - b }
            return y
        }
        // Large matmul result read back through the staging buffer in chunks (4096² float32 = 64 MiB).
        if full {
            let m = 2 * mm
            let p = random([m, m], -1, 1, seed: 1003), q = random([m, m], -1, 1, seed: 1004)
            check("matmul", .float32, [m, m, m], "64MiB-readback", tolerance: matmulBound(p, q)) { matmul(p, q) }
        }
    }

    func mixedGraph() {
        print("\n== mixed graph: GPU kernels and CPU fallbacks (cumsum, sort, asType, softmax) in one eval")
        let x = random([64, 64], -2, 2, seed: 1100), w = random([64, 48], 0, 1, seed: 1101)
        // All values positive from exp on, so relative errors add up without cancellation:
        // exp 6e-6, cumsum 64u, matmul 66u, sum 48u, each side: well inside 1e-4.
        check("mixed", .float32, [64], "gpu+cpu", minKernels: 4, tolerance: { _, _ in .relative(1e-4, 0) }) {
            let h = exp(x)                       // GPU
            let c = cumsum(h, axis: 1)           // CPU fallback
            let m = matmul(c, w)                 // GPU
            let s = m.sorted(axis: -1)           // CPU fallback
            let f = (s * Tensor(Float(2))).asType(.float16).asType(.float32)  // GPU, CPU casts
            return sum(f + softmax(m, axis: -1), axes: [1])  // GPU reductions
        }
    }

    func repeated() {
        print("\n== repeated evaluation: \(repeatCount) rounds, device pool, host memory and RSS must stay flat")
        let a = random([1 << 20], -1, 1, seed: 1200), b = random([1 << 20], -1, 1, seed: 1201)
        let p = random([256, 256], -1, 1, seed: 1202)
        func oneRound() -> Double {
            let r = withDevice(.gpu) { sum(exp(a) * b - a, axes: [0]) + sum(matmul(p, p).transposed() + p, axes: [0, 1]) }
            return r.item(Float.self).isFinite ? 1 : 0
        }
        let warm = max(5, repeatCount / 4)
        for _ in 0..<warm { _ = oneRound() }
        let r0 = report, host0 = Memory.activeBytes, rss0 = residentBytes()
        let k0 = r0.dispatches
        for _ in 0..<repeatCount { _ = oneRound() }
        let r1 = report, host1 = Memory.activeBytes, rss1 = residentBytes()
        let perRound = Double(r1.dispatches - k0) / Double(repeatCount)
        print("       after warm-up: device live \(mib(r0.liveBytes)), cached \(mib(r0.cachedBytes)), allocations \(r0.allocations), "
              + "host active \(mib(host0)), RSS \(mib(rss0))")
        print("       after \(repeatCount) more: device live \(mib(r1.liveBytes)), cached \(mib(r1.cachedBytes)), allocations \(r1.allocations), "
              + "host active \(mib(host1)), RSS \(mib(rss1)); \(String(format: "%.1f", perRound)) kernels per round")
        expect(perRound >= 5, "repeat: rounds ran on the GPU (\(perRound) kernels per round)")
        expect(r1.liveBytes <= r0.liveBytes, "repeat: device bytes in use grew from \(r0.liveBytes) to \(r1.liveBytes)")
        expect(r1.allocations == r0.allocations, "repeat: device allocations grew from \(r0.allocations) to \(r1.allocations) (pool not reused)")
        expect(host1 <= host0, "repeat: host bytes in use grew from \(host0) to \(host1)")
        expect(rss1 <= rss0 + rss0 / 10 + (16 << 20), "repeat: resident memory grew from \(mib(rss0)) to \(mib(rss1))")
    }

    func expect(_ condition: Bool, _ what: String) {
        cases += 1
        if condition {
            print("CHECK " + what + ": PASS")
        } else {
            print("CHECK " + what + ": FAIL")
            failures.append(what)
        }
    }

    // MARK: - Timing

    /// GPU first call (fresh inputs: upload, new pipelines) and warm median, CPU median.
    func timing() {
        print("\n== timing (GPU first call: new pipelines + input upload + run; warm: median of further calls)")
        let n = full ? 1 << 24 : 1 << 22
        let rows = full ? 4096 : 1024
        struct Case { var name: String; var dtype: DType; var shape: [Int]; var bytes: Int; var flops: Int; var inputs: () -> [Tensor]; var f: ([Tensor]) -> Tensor }
        var list: [Case] = [
            Case(name: "add", dtype: .float32, shape: [n], bytes: 12 * n, flops: 0,
                 inputs: { [self.random([n], -1, 1, seed: 1300), self.random([n], -1, 1, seed: 1301)] }, f: { $0[0] + $0[1] }),
            Case(name: "add", dtype: .float16, shape: [n], bytes: 6 * n, flops: 0,
                 inputs: { [self.random([n], -1, 1, .float16, seed: 1302), self.random([n], -1, 1, .float16, seed: 1303)] }, f: { $0[0] + $0[1] }),
            Case(name: "exp", dtype: .float32, shape: [n], bytes: 8 * n, flops: 0,
                 inputs: { [self.random([n], -1, 1, seed: 1304)] }, f: { exp($0[0]) }),
            Case(name: "add-bcast", dtype: .float32, shape: [rows, rows], bytes: 8 * rows * rows, flops: 0,
                 inputs: { [self.random([rows, rows], -1, 1, seed: 1305), self.random([rows], -1, 1, seed: 1306)] }, f: { $0[0] + $0[1] }),
            Case(name: "sum-all", dtype: .float32, shape: [n], bytes: 4 * n, flops: 0,
                 inputs: { [self.random([n], -1, 1, seed: 1307)] }, f: { sum($0[0]) }),
            Case(name: "sum-rows", dtype: .float32, shape: [rows, rows], bytes: 4 * rows * rows, flops: 0,
                 inputs: { [self.random([rows, rows], -1, 1, seed: 1308)] }, f: { sum($0[0], axes: [1]) }),
            Case(name: "sum-cols", dtype: .float32, shape: [rows, rows], bytes: 4 * rows * rows, flops: 0,
                 inputs: { [self.random([rows, rows], -1, 1, seed: 1309)] }, f: { sum($0[0], axes: [0]) }),
        ]
        for (m, dtype) in (full ? [(mm, DType.float32), (2 * mm, .float32), (2 * mm, .float16)] : [(512, DType.float32), (1024, .float32), (1024, .float16)]) {
            list.append(Case(name: "matmul", dtype: dtype, shape: [m, m, m], bytes: 0, flops: 2 * m * m * m,
                             inputs: { [self.random([m, m], -1, 1, dtype, seed: 1310), self.random([m, m], -1, 1, dtype, seed: 1311)] },
                             f: { matmul($0[0], $0[1]) }))
        }
        let policy = RepPolicy(warmup: 0, minReps: 3, maxReps: full ? 20 : 5, minTotal: full ? 0.3 : 0.1)
        for c in list {
            let inputs = c.inputs()
            let p0 = report.pipelinesBuilt
            var result: Tensor? = nil
            let first = timeOnce {
                let r = withDevice(.gpu) { c.f(inputs) }
                eval(r)
                result = r
            }
            let newPipelines = report.pipelinesBuilt - p0
            result = nil
            let gpu = median(measure(policy) { timeOnce { let r = withDevice(.gpu) { c.f(inputs) }; eval(r) } })
            let cpu = median(measure(policy) { timeOnce { let r = withDevice(.cpu) { c.f(inputs) }; eval(r) } })
            let rate: (Double) -> String = { t in
                c.flops > 0 ? String(format: "%8.1f GFLOP/s", Double(c.flops) / t / 1e9)
                            : String(format: "%8.1f GB/s", Double(c.bytes) / t / 1e9)
            }
            print("PERF  " + pad(c.name, 10) + pad("\(c.dtype)", 9) + pad(fmt(c.shape), 20)
                  + "gpu first " + ms(first) + " (\(newPipelines) new pipeline\(newPipelines == 1 ? "" : "s"))  "
                  + "warm " + ms(gpu) + " " + rate(gpu) + "   cpu " + ms(cpu) + " " + rate(cpu)
                  + String(format: "   gpu/cpu speed x%.2f", cpu / gpu))
            withExtendedLifetime(result) {}
        }
    }

    // MARK: - Driver

    func run() -> Int32 {
        let r = report
        print("gpu: \(Device.gpu.info)")
        print(r.description.split(separator: "\n").map { "     " + $0 }.joined(separator: "\n"))
        print("cpu: \(Device.cpu.info)")
        print("size: \(full ? "full" : "small")")
        let t0 = benchClock.now
        if perf { timing() }
        elementwise()
        reductions()
        matmuls()
        memoryPaths()
        mixedGraph()
        repeated()
        let end = report
        if !end.pipelineFailures.isEmpty {
            for (k, e) in end.pipelineFailures.sorted(by: { $0.key < $1.key }) { print("pipeline failure: \(k): \(e)") }
            failures.append("\(end.pipelineFailures.count) pipelines failed to build")
        }
        print("\ntotals: \(end.dispatches) kernels, \(end.pipelinesBuilt) pipelines, \(end.allocations) device allocations, "
              + "staged up/down \(mib(end.stagedUploadBytes))/\(mib(end.stagedDownloadBytes)), "
              + "mapped up/down \(mib(end.mappedUploadBytes))/\(mib(end.mappedDownloadBytes)); "
              + String(format: "%.1f s", seconds(benchClock.now - t0)))
        for w in warnings { print("WARN \(w)") }
        for f in failures { print("FAILED \(f)") }
        print("vulkan_check: \(cases) cases, \(failures.count) failed, \(warnings.count) warnings on \(Device.gpu.info)")
        return failures.isEmpty ? 0 : 1
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s.padding(toLength: n, withPad: " ", startingAt: 0) }
func fmt(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }
func ms(_ s: Double) -> String { String(format: "%9.3f ms", s * 1e3) }
func mib(_ b: Int) -> String { String(format: "%.1f MiB", Double(b) / Double(1 << 20)) }

/// Resident set size of this process (Linux), 0 where unknown.
func residentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = s.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// The `vulkan_info` command: the device report, exit status 2 without a Vulkan device.
func runVulkanInfo() -> Int32 {
    guard Device.gpu.isAvailable, let report = GPUReport.current else {
        print("vulkan_info: no Vulkan device: \(GPUReport.unavailableReason ?? "unknown reason")")
        return 2
    }
    print(report.description)
    return 0
}

/// The `vulkan_check` command: exit status 0 passed, 1 failed, 2 no Vulkan device.
func runVulkanCheck(_ args: [String: String]) -> Int32 {
    guard Device.gpu.isAvailable, let report = GPUReport.current else {
        print("vulkan_check: no Vulkan device: \(GPUReport.unavailableReason ?? "unknown reason")")
        return 2
    }
    do {
        let check = try VulkanCheck(args, realGPU: report.deviceType != "CPU")
        let status = check.run()
        fflush(nil)
        return status
    } catch {
        print("vulkan_check: \(error)")
        return 1
    }
}
