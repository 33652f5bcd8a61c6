import Foundation

/// Samplers computed from a key tensor (uint32 [2]) by the counter-based algorithms
/// in `RandomAlgorithms`; the same key gives the same values on every device.
struct RandomPrimitive: Primitive {
    enum Kind: Sendable {
        case bits(width: Int)
        case uniform(low: Float, high: Float)
        case normal(loc: Float, scale: Float)
        case randInt(low: Int, high: Int)
        case bernoulli(p: Float)
        case truncatedNormal(lower: Float, upper: Float)
        case gumbel
        case laplace(loc: Float, scale: Float)
        case permutation
        case split(count: Int)
    }
    let kind: Kind
    var name: String { "random" }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let keyData = copyContiguous(inputs[0], to: .uint32)
        let key = Array(UnsafeBufferPointer(start: keyData.pointer.assumingMemoryBound(to: UInt32.self), count: 2))
        let n = spec.shape.reduce(1, *)
        let format: RandomAlgorithms.FloatFormat = spec.dtype == .float16 ? .float16 : (spec.dtype == .bfloat16 ? .bfloat16 : .float32)
        func floats(_ v: [Float]) -> ArrayData {
            let a = ArrayData(allocating: spec.shape, dtype: .float32)
            v.withUnsafeBytes { if n > 0 { a.writePointer.copyMemory(from: $0.baseAddress!, byteCount: n * 4) } }
            return spec.dtype == .float32 ? a : copyContiguous(a, to: spec.dtype)
        }
        func typed<T: TensorScalar>(_ v: [T]) -> ArrayData {
            let a = ArrayData(allocating: spec.shape, dtype: T.dtype)
            v.withUnsafeBytes { if n > 0 { a.writePointer.copyMemory(from: $0.baseAddress!, byteCount: n * T.dtype.size) } }
            return T.dtype == spec.dtype ? a : copyContiguous(a, to: spec.dtype)
        }
        switch kind {
        case .bits(let width):
            let b = RandomAlgorithms.bitsBytes(key: key, byteCount: n * width)
            let a = ArrayData(allocating: spec.shape, dtype: spec.dtype)
            b.withUnsafeBytes { if n > 0 { a.writePointer.copyMemory(from: $0.baseAddress!, byteCount: n * width) } }
            return [a]
        case .uniform(let lo, let hi): return [floats(RandomAlgorithms.uniform(key: key, count: n, low: lo, high: hi, format: format))]
        case .normal(let loc, let scale): return [floats(RandomAlgorithms.normal(key: key, count: n, loc: loc, scale: scale, format: format))]
        case .randInt(let lo, let hi): return [typed(RandomAlgorithms.randInt(key: key, count: n, low: lo, high: hi))]
        case .bernoulli(let p): return [typed(RandomAlgorithms.bernoulli(key: key, count: n, p: p))]
        case .truncatedNormal(let lo, let hi): return [floats(RandomAlgorithms.truncatedNormal(key: key, count: n, lower: lo, upper: hi))]
        case .gumbel: return [floats(RandomAlgorithms.gumbel(key: key, count: n, format: format))]
        case .laplace(let loc, let scale): return [floats(RandomAlgorithms.laplace(key: key, count: n, loc: loc, scale: scale))]
        case .permutation: return [typed(RandomAlgorithms.permutation(key: key, count: n).map { Int32($0) })]
        case .split(let count): return [typed(RandomAlgorithms.split(key: key, count: count).flatMap { $0 })]
        }
    }
}

/// Random sampling with explicit keys (`key:`) or a global key sequence (`seed`).
public enum Random {
    final class Global: @unchecked Sendable {
        let lock = NSLock()
        var sequence = RandomAlgorithms.KeySequence(seed: UInt64(Date().timeIntervalSince1970 * 1000))
        func next() -> [UInt32] { lock.lock(); defer { lock.unlock() }; return sequence.next() }
    }
    static let global = Global()

    /// Seeds the global key sequence (as `mx.random.seed`).
    public static func seed(_ seed: UInt64) {
        global.lock.lock(); global.sequence.seed(seed); global.lock.unlock()
    }

    /// A key tensor (uint32 [2]) for `seed`.
    public static func key(_ seed: UInt64) -> Tensor { Tensor(RandomAlgorithms.key(seed), shape: [2]) }

    /// `count` new keys, shape [count, 2].
    public static func split(_ key: Tensor, count: Int = 2) -> Tensor {
        guard check(key.shape == [2], "random.split", "key must have shape (2,), got \(fmt(key.shape))") else { return .errorPlaceholder(.uint32) }
        return Tensor(RandomPrimitive(kind: .split(count: count)), [key], shape: [count, 2], dtype: .uint32)
    }

    private static func resolve(_ key: Tensor?, _ op: String) -> Tensor? {
        if let key {
            guard check(key.shape == [2], op, "key must have shape (2,), got \(fmt(key.shape))") else { return nil }
            return key
        }
        return Tensor(global.next(), shape: [2])
    }

    private static func sample(_ kind: RandomPrimitive.Kind, _ shape: [Int], _ dtype: DType, _ key: Tensor?, _ op: String) -> Tensor {
        guard check(shape.allSatisfy { $0 >= 0 }, op, "negative dimension in shape \(fmt(shape))"),
              let k = resolve(key, op) else { return .errorPlaceholder(dtype) }
        return Tensor(RandomPrimitive(kind: kind), [k], shape: shape, dtype: dtype)
    }

    private static func requireFloat(_ dtype: DType, _ op: String) -> Bool {
        check(dtype.isFloatingPoint && dtype != .float64, op, "dtype must be float32, float16 or bfloat16, got \(dtype)")
    }

    /// Raw random bits (uint32 by default; width 1, 2 or 4 bytes).
    public static func bits(_ shape: [Int], width: Int = 4, key: Tensor? = nil) -> Tensor {
        guard check([1, 2, 4].contains(width), "random.bits", "width must be 1, 2 or 4, got \(width)") else { return .errorPlaceholder(.uint32) }
        let dt: DType = width == 1 ? .uint8 : (width == 2 ? .uint16 : .uint32)
        return sample(.bits(width: width), shape, dt, key, "random.bits")
    }

    public static func uniform(low: Float = 0, high: Float = 1, _ shape: [Int], dtype: DType = .float32, key: Tensor? = nil) -> Tensor {
        guard requireFloat(dtype, "random.uniform") else { return .errorPlaceholder(dtype) }
        return sample(.uniform(low: low, high: high), shape, dtype, key, "random.uniform")
    }

    public static func normal(_ shape: [Int], dtype: DType = .float32, loc: Float = 0, scale: Float = 1, key: Tensor? = nil) -> Tensor {
        guard requireFloat(dtype, "random.normal") else { return .errorPlaceholder(dtype) }
        return sample(.normal(loc: loc, scale: scale), shape, dtype, key, "random.normal")
    }

    public static func randInt(low: Int, high: Int, _ shape: [Int], dtype: DType = .int32, key: Tensor? = nil) -> Tensor {
        guard check(dtype.isInteger, "random.randint", "dtype must be an integer type, got \(dtype)") else { return .errorPlaceholder(dtype) }
        return sample(.randInt(low: low, high: high), shape, dtype, key, "random.randint")
    }

    public static func bernoulli(_ p: Float = 0.5, _ shape: [Int], key: Tensor? = nil) -> Tensor {
        guard check(p >= 0 && p <= 1, "random.bernoulli", "p must be in [0, 1], got \(p)") else { return .errorPlaceholder(.bool) }
        return sample(.bernoulli(p: p), shape, .bool, key, "random.bernoulli")
    }

    public static func truncatedNormal(lower: Float, upper: Float, _ shape: [Int], dtype: DType = .float32, key: Tensor? = nil) -> Tensor {
        guard requireFloat(dtype, "random.truncated_normal"),
              check(lower < upper, "random.truncated_normal", "lower \(lower) must be below upper \(upper)") else { return .errorPlaceholder(dtype) }
        return sample(.truncatedNormal(lower: lower, upper: upper), shape, dtype, key, "random.truncated_normal")
    }

    public static func gumbel(_ shape: [Int], dtype: DType = .float32, key: Tensor? = nil) -> Tensor {
        guard requireFloat(dtype, "random.gumbel") else { return .errorPlaceholder(dtype) }
        return sample(.gumbel, shape, dtype, key, "random.gumbel")
    }

    public static func laplace(_ shape: [Int], dtype: DType = .float32, loc: Float = 0, scale: Float = 1, key: Tensor? = nil) -> Tensor {
        guard requireFloat(dtype, "random.laplace") else { return .errorPlaceholder(dtype) }
        return sample(.laplace(loc: loc, scale: scale), shape, dtype, key, "random.laplace")
    }

    /// A random permutation of 0..<n (int32).
    public static func permutation(_ n: Int, key: Tensor? = nil) -> Tensor {
        sample(.permutation, [n], .int32, key, "random.permutation")
    }

    /// Samples class indices from unnormalised log-probabilities along `axis`.
    public static func categorical(_ logits: Tensor, axis: Int = -1, key: Tensor? = nil) -> Tensor {
        guard let a = normalizeAxis(axis, logits.ndim, "random.categorical"), let k = resolve(key, "random.categorical") else { return .errorPlaceholder(.uint32) }
        let g = sample(.gumbel, logits.shape, .float32, k, "random.categorical")
        return argMax(logits.asType(.float32) + g, axis: a)
    }
}
