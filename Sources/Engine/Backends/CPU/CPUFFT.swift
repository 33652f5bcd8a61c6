import CKernels
import Foundation

/// One-dimensional discrete Fourier transforms along the last axis, in double precision
/// (CKernels/fft.c: mixed radix, Bluestein for large prime factors), results in complex64/float32.
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
        let (made, owned) = FFTPlans.plan(n)
        let plan = UncheckedBox(made)
        defer { if owned { zoo_fft_plan_destroy(made) } }
        let xp = UncheckedBox(UnsafeRawPointer(x.pointer)), op = UncheckedBox(out.writePointer)
        let inKind: Int32 = kind == .complexToReal ? 2 : (realInput ? 1 : 0)
        let inStride = realInput ? lenIn : 2 * lenIn
        let outReal: Int32 = kind == .complexToReal ? 1 : 0
        let outStride = kind == .complexToReal ? lenOut : 2 * lenOut
        CPU.parallelFor(lines, work: lines * n * 16) { range in
            for line in range {
                zoo_fft_line(plan.value, xp.value.assumingMemoryBound(to: Float.self) + line * inStride, inKind, lenIn,
                             op.value.assumingMemoryBound(to: Float.self) + line * outStride, lenOut, outReal, sign, scale)
            }
        }
        withExtendedLifetime(x) {}
        return [out]
    }
}

/// Plans (twiddle tables, Bluestein filters) by length, kept for reuse: making one for 2^20
/// costs more than the transform. Plans are read-only, so threads share them.
enum FFTPlans {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var plans: [Int: OpaquePointer] = [:]
    nonisolated(unsafe) private static var cachedLength = 0
    /// At most this many transform points cached in all (about 16 bytes of tables each, more
    /// for Bluestein lengths): 2^22 points is 64 MiB or so.
    private static let capacity = 1 << 22

    /// A plan for length n; `owned` plans (made once the cache is full) are the caller's to destroy.
    static func plan(_ n: Int) -> (plan: OpaquePointer, owned: Bool) {
        lock.lock(); defer { lock.unlock() }
        if let p = plans[n] { return (p, false) }
        let p = zoo_fft_plan_create(n)!
        if cachedLength + n <= capacity { plans[n] = p; cachedLength += n; return (p, false) }
        return (p, true)
    }
}
