import CKernels
import Foundation

/// One-dimensional discrete Fourier transforms along the last axis, in double precision
/// (CKernels/fft.c: mixed radix, Bluestein for large prime factors, four-step over all cores
/// for long lines, real input as a half-length complex transform), results in complex64/float32.
struct FFTPrimitive: Primitive {
    enum Kind: Sendable { case complexToComplex, realToComplex, complexToReal }
    let kind: Kind
    let inverse: Bool
    /// Transform length (input length for c2c and r2c, output length for c2r).
    let n: Int
    var name: String {
        switch kind {
        case .complexToComplex: return inverse ? "ifft" : "fft"
        case .realToComplex: return "rfft"
        case .complexToReal: return "irfft"
        }
    }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? FFTPrimitive else { return false }
        return o.kind == kind && o.inverse == inverse && o.n == n
    }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: spec.dtype)
        if out.count == 0 { return [out] }
        let realInput = kind == .realToComplex || inputs[0].dtype != .complex64
        let x = contiguousVector(inputs[0], realInput ? .float32 : .complex64)
        let lenIn = x.shape.last!, lenOut = spec.shape.last!
        let lines = out.count / lenOut
        let n = self.n, kind = self.kind, sign: Int32 = inverse ? 1 : -1
        let scale = inverse ? 1.0 / Double(n) : 1.0
        let inKind: Int32 = kind == .complexToReal ? 2 : (realInput ? 1 : 0)
        // Real input of even length: half as long a complex transform (see zoo_fft_plan_create_real).
        guard let (made, owned) = FFTPlans.plan(n, real: inKind == 1 && n % 2 == 0) else {
            throw EngineError.evaluationFailed(op: name, message: "no memory for the tables of a length-\(n) transform")
        }
        let plan = UncheckedBox(made)
        defer { if owned { zoo_fft_plan_destroy(made) } }
        let xp = UncheckedBox(UnsafeRawPointer(x.pointer)), op = UncheckedBox(out.writePointer)
        let inStride = realInput ? lenIn : 2 * lenIn
        let outReal: Int32 = kind == .complexToReal ? 1 : 0
        let outStride = kind == .complexToReal ? lenOut : 2 * lenOut
        let failed = FailureFlag()
        let workSize = zoo_fft_work_size(made)
        CPU.parallelFor(lines, work: lines * n * 16) { range in
            // Work space from the engine's buffer cache: long transforms would otherwise fault in
            // fresh pages on every call.
            let work = ArrayData(allocating: [workSize], dtype: .float64)
            let wp = work.writePointer.assumingMemoryBound(to: Double.self)
            for line in range {
                if zoo_fft_line(plan.value, xp.value.assumingMemoryBound(to: Float.self) + line * inStride, inKind, lenIn,
                                op.value.assumingMemoryBound(to: Float.self) + line * outStride, lenOut, outReal, sign, scale,
                                wp) != 0 {
                    failed.set()
                }
            }
            withExtendedLifetime(work) {}
        }
        withExtendedLifetime(x) {}
        if failed.isSet {
            throw EngineError.evaluationFailed(op: name, message: "no memory for the work space of a length-\(n) transform")
        }
        return [out]
    }
}

/// Plans (twiddle tables, Bluestein filters) by length, kept for reuse: making one for 2^20
/// costs more than the transform. Plans are read-only, so threads share them.
enum FFTPlans {
    private struct Key: Hashable { let n: Int, real: Bool }
    private static let lock = NSLock()
    nonisolated(unsafe) private static var plans: [Key: OpaquePointer] = [:]
    nonisolated(unsafe) private static var cachedLength = 0
    /// At most this many transform points cached in all (about 16 bytes of tables each, more
    /// for Bluestein lengths): 2^22 points is 64 MiB or so.
    private static let capacity = 1 << 22

    /// A plan for length n (for real input of even length when `real`), or nil when out of
    /// memory; `owned` plans (made once the cache is full) are the caller's to destroy.
    static func plan(_ n: Int, real: Bool = false) -> (plan: OpaquePointer, owned: Bool)? {
        lock.lock(); defer { lock.unlock() }
        let key = Key(n: n, real: real)
        if let p = plans[key] { return (p, false) }
        guard let p = real ? zoo_fft_plan_create_real(n) : zoo_fft_plan_create(n) else { return nil }
        if cachedLength + n <= capacity { plans[key] = p; cachedLength += n; return (p, false) }
        return (p, true)
    }
}
