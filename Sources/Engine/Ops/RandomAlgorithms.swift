// Counter-based random number algorithms, reproducing MLX (verified against
// mlx 0.32.4, CPU stream) on plain Swift arrays. No Tensor types are used
// here: the `Random` ops (Ops/Random.swift) and the CPU/Vulkan kernels build
// on these functions, and the tests compare them with fixtures written by
// tools/gen_random_fixtures.py.
//
// # Keys
//
// A key is two `UInt32` words. `key(seed)` is `[UInt32(seed >> 32),
// UInt32(truncatingIfNeeded: seed)]`. Every sampler takes a key explicitly;
// nothing here holds hidden state.
//
// # Global seed semantics (what `Random.seed` must do to match MLX)
//
// MLX keeps one global key (in Python, `mx.random.state`; in C++,
// `random::KeySequence::default_()`, one per thread). Initially it is
// `key(milliseconds since the Unix epoch)`. `mx.random.seed(s)` replaces it by
// `key(s)`. Every sampler called *without* `key:` first advances the global
// key once:
//
//     (state, sub) = split(state)        // split(state, count: 2): rows 0 and 1
//     use `sub` as the sampler's key, keep `state` for the next call
//
// So after `seed(42)`, the first `uniform([4])` equals
// `uniform(key: split(key(42))[1], count: 4)`, the second call uses
// `split(split(key(42))[0])[1]`, and so on — one split per sampler call,
// whatever the sampler (verified with mlx 0.32.4). `KeySequence` below is that
// state machine; the engine wraps one instance in a lock (or a task-local).
//
// # Bit layout (`bits`)
//
// For one key and an output of `n` bytes, MLX hashes counters with
// threefry-2x32 (20 rounds) and lays the words out in two halves:
// let `w = ceil(n / 4)` words, `h = w / 2`, `odd = w % 2`.
// For i in 0..<h: `(a, b) = threefry(key, (i, h + odd + i))`, word[i] = a,
// word[h + odd + i] = b. If `w` is odd, word[h] = `threefry(key, (h, 0)).0`.
// The words are stored little-endian and the output is the first `n` bytes
// (so a 1- or 2-byte dtype packs 4 or 2 values in each word). With a batch of
// keys (shape `[..., 2]`) each key produces its own `n`-byte block in this
// layout, blocks concatenated in key order.
//
// # Exactness
//
// key, split, bits, threefry, uniform (float32/float16/bfloat16), randInt,
// bernoulli, permutation, categorical, gumbel, laplace, normal and
// truncatedNormal reproduce MLX's float32 arithmetic step by step (same
// operation order, the same fused multiply-adds in erfinv/erf, MLX's own
// polynomial exp inside erf, and the C library's `logf`/`log1pf`). With the
// same C library (glibc on Linux, as MLX's Linux wheels use) results are
// bit-identical (checked on 26 million samples and on the fixtures);
// `logf`/`log1pf` are the only functions taken from the platform, so with
// another libm (Darwin) a sample that goes through a logarithm (normal,
// truncatedNormal, gumbel, categorical, laplace) may differ in its last bit
// or two. key/split/bits/uniform/randInt/bernoulli/permutation use no libm.
//
// Note: MLX's `uniform` always draws 32-bit words, whatever the dtype; it does
// NOT draw 16-bit bits for float16/bfloat16. The half-precision variants only
// differ in the clamp value below one and in rounding every arithmetic step
// to that dtype.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#elseif canImport(ucrt)
import ucrt
#endif

enum RandomAlgorithms {

    // MARK: - Keys and raw bits

    /// The key for `seed`, as `mx.random.key(seed)`: high word first.
    static func key(_ seed: UInt64) -> [UInt32] {
        [UInt32(truncatingIfNeeded: seed >> 32), UInt32(truncatingIfNeeded: seed)]
    }

    /// Threefry-2x32 with 20 rounds (Salmon et al. 2011), the block function
    /// used by MLX and JAX.
    @inline(__always)
    static func threefry2x32(key: (UInt32, UInt32), _ x: (UInt32, UInt32)) -> (UInt32, UInt32) {
        let k0 = key.0, k1 = key.1
        let k2 = k0 ^ k1 ^ 0x1BD1_1BDA
        var a = x.0 &+ k0
        var b = x.1 &+ k1
        @inline(__always) func mix(_ r: UInt32) {
            a = a &+ b
            b = (b << r) | (b >> (32 &- r))
            b ^= a
        }
        // Five groups of four rounds; rotation constants alternate between
        // the two sets. After each group a key word is injected.
        mix(13); mix(15); mix(26); mix(6)
        a = a &+ k1; b = b &+ k2 &+ 1
        mix(17); mix(29); mix(16); mix(24)
        a = a &+ k2; b = b &+ k0 &+ 2
        mix(13); mix(15); mix(26); mix(6)
        a = a &+ k0; b = b &+ k1 &+ 3
        mix(17); mix(29); mix(16); mix(24)
        a = a &+ k1; b = b &+ k2 &+ 4
        mix(13); mix(15); mix(26); mix(6)
        a = a &+ k2; b = b &+ k0 &+ 5
        return (a, b)
    }

    @inline(__always)
    private static func pair(_ key: [UInt32]) -> (UInt32, UInt32) {
        precondition(key.count == 2, "[RandomAlgorithms] a key has 2 uint32 words, got \(key.count)")
        return (key[0], key[1])
    }

    /// The words of one key's block (see "Bit layout" above): `wordCount`
    /// words, before truncation to a byte count.
    static func words(key: [UInt32], wordCount: Int) -> [UInt32] {
        precondition(wordCount >= 0, "[RandomAlgorithms.words] negative count \(wordCount)")
        let k = pair(key)
        var out = [UInt32](repeating: 0, count: wordCount)
        let half = wordCount / 2
        let odd = wordCount % 2
        out.withUnsafeMutableBufferPointer { p in
            for i in 0..<half {
                let (x, y) = threefry2x32(key: k, (UInt32(truncatingIfNeeded: i),
                                                   UInt32(truncatingIfNeeded: half + odd + i)))
                p[i] = x
                p[half + odd + i] = y
            }
            if odd == 1 {
                p[half] = threefry2x32(key: k, (UInt32(truncatingIfNeeded: half), 0)).0
            }
        }
        return out
    }

    /// `byteCount` random bytes for one key, exactly as MLX's `RandomBits`
    /// fills an output of that many bytes.
    static func bitsBytes(key: [UInt32], byteCount: Int) -> [UInt8] {
        let w = words(key: key, wordCount: (byteCount + 3) / 4)
        var out = [UInt8](repeating: 0, count: byteCount)
        for j in 0..<byteCount {
            out[j] = UInt8(truncatingIfNeeded: w[j >> 2] >> (UInt32(j & 3) * 8))
        }
        return out
    }

    /// `count` random values of `width` bytes (1, 2 or 4), each returned
    /// zero-extended in a `UInt32`, as `random::bits(shape, width, key)` with
    /// `count` = the product of `shape` (the layout depends only on the total
    /// size, not on the shape).
    static func bits(key: [UInt32], count: Int, width: Int = 4) -> [UInt32] {
        precondition(count >= 0, "[RandomAlgorithms.bits] negative count \(count)")
        switch width {
        case 4:
            return words(key: key, wordCount: count)
        case 2:
            let w = words(key: key, wordCount: (2 * count + 3) / 4)
            return (0..<count).map { (w[$0 >> 1] >> (UInt32($0 & 1) * 16)) & 0xFFFF }
        case 1:
            let w = words(key: key, wordCount: (count + 3) / 4)
            return (0..<count).map { (w[$0 >> 2] >> (UInt32($0 & 3) * 8)) & 0xFF }
        default:
            preconditionFailure("[RandomAlgorithms.bits] bit width must be in {1, 2, 4} but got \(width)")
        }
    }

    /// `bits` for a batch of keys: each key yields `countPerKey` values, in
    /// key order (MLX's `RandomBits` with keys of shape `[..., 2]`).
    static func bits(keys: [[UInt32]], countPerKey: Int, width: Int = 4) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(keys.count * countPerKey)
        for k in keys { out.append(contentsOf: bits(key: k, count: countPerKey, width: width)) }
        return out
    }

    /// `count` new keys, as `mx.random.split(key, count)` (a `[count, 2]`
    /// array of `bits`).
    static func split(key: [UInt32], count: Int = 2) -> [[UInt32]] {
        let w = words(key: key, wordCount: 2 * count)
        return (0..<count).map { [w[2 * $0], w[2 * $0 + 1]] }
    }

    /// The global key sequence (see "Global seed semantics").
    struct KeySequence: Sendable, Equatable {
        private(set) var state: [UInt32]
        init(seed: UInt64) { state = RandomAlgorithms.key(seed) }
        mutating func seed(_ seed: UInt64) { state = RandomAlgorithms.key(seed) }
        /// The key for the next sampler call that has no explicit key.
        mutating func next() -> [UInt32] {
            let s = RandomAlgorithms.split(key: state, count: 2)
            state = s[0]
            return s[1]
        }
    }

    // MARK: - Floating-point formats

    /// The floating-point dtypes a uniform/normal sample can have. Values are
    /// carried as `Float`; `round` gives the nearest value of the format.
    enum FloatFormat: Sendable {
        case float32, float16, bfloat16

        /// Round a `Float` to this format (round to nearest, ties to even),
        /// returned as the `Float` holding that value exactly.
        @inline(__always)
        func round(_ x: Float) -> Float {
            switch self {
            case .float32: return x
            case .float16: return RandomAlgorithms.roundToFloat16(x)
            case .bfloat16: return RandomAlgorithms.roundToBFloat16(x)
            }
        }

        /// The largest value of the format below 1 (the clamp that keeps
        /// uniform samples in [low, high)).
        var belowOne: Float {
            switch self {
            case .float32: return 1 - 0x1p-24
            case .float16: return 1 - 0x1p-11
            case .bfloat16: return 1 - 0x1p-8
            }
        }
    }

    /// Nearest IEEE binary16 value (ties to even), overflowing to infinity.
    static func roundToFloat16(_ x: Float) -> Float {
        if !x.isFinite { return x }
        let a = abs(x)
        if a >= 65520 { return x < 0 ? -.infinity : .infinity }
        // Quantum: 2^-24 below the normal range, else 2^(exponent - 10).
        let e = a < 0x1p-14 ? -14 : Int(a.exponent)
        let scale = Float(sign: .plus, exponent: 10 - e, significand: 1)
        let q = (a * scale).rounded(.toNearestOrEven) / scale
        return x < 0 ? -q : q
    }

    /// Nearest bfloat16 value, rounding as MLX's `bfloat16_t` does (round to
    /// nearest even on the upper 16 bits; NaN stays NaN).
    static func roundToBFloat16(_ x: Float) -> Float {
        if x.isNaN { return x }
        var u = x.bitPattern
        u = u &+ (((u >> 16) & 1) &+ 0x7FFF)
        return Float(bitPattern: u & 0xFFFF_0000)
    }

    // MARK: - Uniform

    /// MLX's unit sample before scaling: `min(Float(bits) / 2^32, belowOne)`,
    /// rounded to the format.
    @inline(__always)
    private static func unit(_ b: UInt32, _ format: FloatFormat) -> Float {
        // `array(UInt32.max, float32)` is 2^32, so the division is exact.
        let v = Float(b) / 4_294_967_296.0
        return format.round(min(v, format.belowOne))
    }

    /// `mx.random.uniform(low, high, shape, dtype, key)` with `count` =
    /// product of `shape`. Every step is rounded to `format`, so the values
    /// are exactly representable in it.
    static func uniform(key: [UInt32], count: Int, low: Float = 0, high: Float = 1,
                        format: FloatFormat = .float32) -> [Float] {
        let lo = format.round(low)
        let hi = format.round(high)
        let range = format.round(hi - lo)
        return bits(key: key, count: count).map { b in
            format.round(format.round(range * unit(b, format)) + lo)
        }
    }

    /// Uniform samples with per-element bounds (`low`/`high` already
    /// broadcast to `count` elements).
    static func uniform(key: [UInt32], low: [Float], high: [Float],
                        format: FloatFormat = .float32) -> [Float] {
        precondition(low.count == high.count, "[RandomAlgorithms.uniform] low and high differ in size")
        let b = bits(key: key, count: low.count)
        return (0..<low.count).map { i in
            let lo = format.round(low[i])
            let range = format.round(format.round(high[i]) - lo)
            return format.round(format.round(range * unit(b[i], format)) + lo)
        }
    }

    // MARK: - Special functions (MLX's CPU float32 approximations)

    /// MLX's single-precision inverse error function: log(1 - a²) then one
    /// of two degree-8/9 polynomials (Giles' approximation), all with fused
    /// multiply-adds.
    static func erfinv(_ a: Float) -> Float {
        var t = Float(1).addingProduct(a, 0 - a)
        t = logf(t)
        @inline(__always) func horner(_ c: [Float]) -> Float {
            var p = c[0]
            for i in 1..<c.count { p = c[i].addingProduct(p, t) }
            return p
        }
        let p: Float
        if abs(t) > 6.125 {
            p = horner([3.03697567e-10, 2.93243101e-8, 1.22150334e-6, 2.84108955e-5,
                        3.93552968e-4, 3.02698812e-3, 4.83185798e-3, -2.64646143e-1,
                        8.40016484e-1])
        } else {
            p = horner([5.43877832e-9, 1.43285448e-7, 1.22774793e-6, 1.12963626e-7,
                        -5.61530760e-5, -1.47697632e-4, 2.31468678e-3, 1.15392581e-2,
                        -2.32015476e-1, 8.86226892e-1])
        }
        return a * p
    }

    /// MLX's single-precision `exp` (Cephes-style: 2^round(x·log2 e) times a
    /// degree-6 polynomial), used inside its `erf`.
    static func mlxExp(_ v: Float) -> Float {
        if v.isNaN { return v }
        if v > 88 { return .infinity }
        if v < -88 { return 0 }
        let x = v * 1.442695
        // MLX adds 0.5 in double precision before the floor.
        let ip = Float((Double(x) + 0.5).rounded(.down))
        let f = x - ip
        var p: Float = 1.535336188319500e-4
        p = Float(1.339887440266574e-3).addingProduct(p, f)
        p = Float(9.618437357674640e-3).addingProduct(p, f)
        p = Float(5.550332471162809e-2).addingProduct(p, f)
        p = Float(2.402264791363012e-1).addingProduct(p, f)
        p = Float(6.931472028550421e-1).addingProduct(p, f)
        p = Float(1.0).addingProduct(p, f)
        let e = UInt32(bitPattern: (Int32(ip) &+ 127) << 23)
        return Float(bitPattern: e) * p
    }

    /// MLX's single-precision `erf` (Abramowitz–Stegun 7.1.26 form with
    /// fused multiply-adds and MLX's own `exp`).
    static func erf(_ x: Float) -> Float {
        let t = 1 / Float(1).addingProduct(0.3275911, abs(x))
        var r = Float(-1.453152027).addingProduct(1.061405429, t)
        r = Float(1.421413741).addingProduct(r, t)
        r = Float(-0.284496736).addingProduct(r, t)
        r = Float(0.254829592).addingProduct(r, t)
        let e = -mlxExp(-x * x)
        let result = Float(1).addingProduct(e * t, r)
        return x > 0 ? result : -result
    }

    // MARK: - Normal family

    /// `mx.random.normal(shape, dtype, loc, scale, key)`:
    /// `loc + (sqrt2 · scale) · erfinv(uniform(nextafter(-1, 0), 1))`, the
    /// uniform and erfinv in float32, the rest in `format`. Bit-exact.
    static func normal(key: [UInt32], count: Int, loc: Float = 0, scale: Float = 1,
                       format: FloatFormat = .float32) -> [Float] {
        let u = uniform(key: key, count: count, low: -1 + 0x1p-24, high: 1)
        var s = format.round(Float(2.0.squareRoot()))
        if scale != 1 { s = format.round(s * format.round(scale)) }
        let l = format.round(loc)
        return u.map { x in
            let v = format.round(s * format.round(erfinv(x)))
            return loc != 0 ? format.round(l + v) : v
        }
    }

    /// `mx.random.truncated_normal(lower, upper, shape, float32, key)`:
    /// `sqrt2 · erfinv(uniform(erf(lower/sqrt2), erf(upper/sqrt2)))` clipped
    /// to [lower, upper]. float32 only.
    static func truncatedNormal(key: [UInt32], count: Int, lower: Float, upper: Float) -> [Float] {
        let sqrt2 = Float(2.0.squareRoot())
        let a = erf(lower / sqrt2)
        let b = erf(upper / sqrt2)
        return uniform(key: key, count: count, low: a, high: b).map { u in
            max(min(upper, sqrt2 * erfinv(u)), lower)
        }
    }

    /// `mx.random.laplace(shape, float32, loc, scale, key)`:
    /// `sign(u) · log1p(-|u|)` with `u` uniform in (-1, 1), then
    /// `scale · x` (if scale != 1) and `loc + x` (if loc != 0). float32.
    static func laplace(key: [UInt32], count: Int, loc: Float = 0, scale: Float = 1) -> [Float] {
        let u = uniform(key: key, count: count, low: -1 + 0x1p-24, high: 1)
        return u.map { x in
            let sign: Float = x < 0 ? -1 : (x > 0 ? 1 : 0)
            var v = sign * log1pf(-1 * abs(x))
            if scale != 1 { v = scale * v }
            if loc != 0 { v = loc + v }
            return v
        }
    }

    /// `mx.random.gumbel(shape, dtype, key)`: `-log(-log(uniform(0, 1)))`,
    /// each step rounded to `format`.
    static func gumbel(key: [UInt32], count: Int, format: FloatFormat = .float32) -> [Float] {
        uniform(key: key, count: count, format: format).map { u in
            -format.round(logf(-format.round(logf(u))))
        }
    }

    // MARK: - Discrete

    /// `mx.random.randint(low, high, shape, int32, key)` as MLX 0.32.4
    /// computes it: a float32 uniform in [Float(low), Float(high)), clamped
    /// below at `low`, rounded down (floor, so negative draws go to the
    /// integer below), converted to the integer dtype. The int64 dtype uses
    /// the same single 32-bit draw and formula. As in MLX the float32 step
    /// loses integers once |low| or |high| passes 2^24, and a draw can then
    /// even round up to `high`; that is reproduced, not corrected. Values
    /// outside the int32 range are not meaningful for the int32 dtype.
    /// (Newer upstream MLX sources draw randint in integer space instead —
    /// raw bits modulo the range, two draws for 64-bit dtypes — so this must
    /// follow the pinned MLX version of the fixtures.)
    static func randInt(key: [UInt32], count: Int, low: Int, high: Int) -> [Int64] {
        let lo = Float(low)
        let hi = Float(high)
        return uniform(key: key, count: count, low: lo, high: hi).map { u in
            Int64(max(u, lo).rounded(.down))
        }
    }

    /// `mx.random.bernoulli(p, shape, key)`: `Float(bits) < p · 4294967808`
    /// (the float after 2^32), so p ≤ 0 is always false and p ≥ 1 always true.
    static func bernoulli(key: [UInt32], count: Int, p: Float = 0.5) -> [Bool] {
        let threshold = p * bernoulliScale
        return bits(key: key, count: count).map { Float($0) < threshold }
    }

    /// Bernoulli with one probability per element (`p` broadcast to the
    /// output shape already).
    static func bernoulli(key: [UInt32], p: [Float]) -> [Bool] {
        let b = bits(key: key, count: p.count)
        return (0..<p.count).map { Float(b[$0]) < p[$0] * bernoulliScale }
    }

    private static let bernoulliScale: Float = Float(4_294_967_296.0).nextUp

    /// `mx.random.permutation(n, key)`: the indices that sort `bits(n)`
    /// (ties, which need two equal 32-bit words, keep index order).
    static func permutation(key: [UInt32], count: Int) -> [Int] {
        let b = bits(key: key, count: count)
        return (0..<count).sorted { b[$0] != b[$1] ? b[$0] < b[$1] : $0 < $1 }
    }

    /// `mx.random.categorical(logits, axis: -1, key)` for logits given as
    /// rows (`[batch][classes]`): one sample per row, the argmax of
    /// `gumbel + logits` (first index on ties). The Gumbel noise has the
    /// logits' shape, row-major.
    static func categorical(key: [UInt32], logits: [[Float]]) -> [Int] {
        let classes = logits.first?.count ?? 0
        precondition(logits.allSatisfy { $0.count == classes }, "[RandomAlgorithms.categorical] ragged logits")
        let g = gumbel(key: key, count: logits.count * classes)
        return logits.indices.map { r in
            argmax((0..<classes).map { g[r * classes + $0] + logits[r][$0] })
        }
    }

    /// `mx.random.categorical(logits, axis: -1, num_samples: n, key)`:
    /// `[batch][n]` samples. MLX draws Gumbel noise of shape
    /// `[batch, classes, n]` (classes before samples) and reduces over classes.
    static func categorical(key: [UInt32], logits: [[Float]], numSamples: Int) -> [[Int]] {
        let classes = logits.first?.count ?? 0
        precondition(logits.allSatisfy { $0.count == classes }, "[RandomAlgorithms.categorical] ragged logits")
        let g = gumbel(key: key, count: logits.count * classes * numSamples)
        return logits.indices.map { r in
            (0..<numSamples).map { s in
                argmax((0..<classes).map { c in g[(r * classes + c) * numSamples + s] + logits[r][c] })
            }
        }
    }

    /// MLX's argmax: the first index of the largest value (a NaN counts as
    /// largest).
    private static func argmax(_ v: [Float]) -> Int {
        var best = 0
        for i in 1..<max(v.count, 1) where v[i] > v[best] || (v[i].isNaN && !v[best].isNaN) {
            best = i
        }
        return best
    }
}
