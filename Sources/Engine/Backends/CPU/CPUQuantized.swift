import CBLAS
import CKernels
import Foundation

// Affine group quantization in MLX's layout: each row of K values becomes a little-endian
// bit stream of `bits`-wide codes packed in K * bits / 32 uint32 words, with one scale and
// one bias per `groupSize` values (value = scale * code + bias).

struct QuantizePrimitive: Primitive, MultiOutput {
    let groupSize: Int
    let bits: Int
    let outputSpecs: [OutputSpec]
    var name: String { "quantize" }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? QuantizePrimitive else { return false }
        return o.groupSize == groupSize && o.bits == bits && o.outputSpecs == outputSpecs
    }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let w = contiguousData(inputs[0])
        let wq = ArrayData(allocating: outputs[0].shape, dtype: .uint32)
        let s = ArrayData(allocating: outputs[1].shape, dtype: outputs[1].dtype)
        let b = ArrayData(allocating: outputs[2].shape, dtype: outputs[2].dtype)
        let K = w.shape.last ?? 0
        let rows = K == 0 ? 0 : w.count / K
        let wp = UncheckedBox(w.pointer), qp = UncheckedBox(wq.writePointer.assumingMemoryBound(to: UInt32.self))
        let sp = UncheckedBox(s.writePointer), bp = UncheckedBox(b.writePointer)
        let (g, bits, code) = (Int32(groupSize), Int32(bits), fastDTypeCode(w.dtype))
        CPU.parallelFor(rows, work: rows * K * 8) { r in
            zoo_affine_quantize(wp.value, qp.value, sp.value, bp.value, r.lowerBound, r.upperBound, K, g, bits, code)
        }
        withExtendedLifetime(w) {}
        return [wq, s, b]
    }
}

struct DequantizePrimitive: Primitive {
    let groupSize: Int
    let bits: Int
    var name: String { "dequantize" }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? DequantizePrimitive else { return false }
        return o.groupSize == groupSize && o.bits == bits
    }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let wq = contiguousData(inputs[0])
        let s = contiguousVector(inputs[1], spec.dtype), b = contiguousVector(inputs[2], spec.dtype)
        let out = ArrayData(allocating: spec.shape, dtype: spec.dtype)
        let K = spec.shape.last ?? 0
        let rows = K == 0 ? 0 : out.count / K
        let qp = UncheckedBox(wq.pointer.assumingMemoryBound(to: UInt32.self))
        let sp = UncheckedBox(s.pointer), bp = UncheckedBox(b.pointer), op = UncheckedBox(out.writePointer)
        let (g, bits, code) = (Int32(groupSize), Int32(bits), fastDTypeCode(spec.dtype))
        CPU.parallelFor(rows, work: rows * K * 2) { r in
            zoo_affine_dequantize(qp.value, sp.value, bp.value, op.value, r.lowerBound, r.upperBound, K, g, bits, code)
        }
        withExtendedLifetime((wq, s, b)) {}
        return [out]
    }
}

/// x [M, K] (float32) times a quantized matrix: W [N, K] used transposed (`transpose`), or
/// W [K, N]. Small M: a fused dequantize-dot kernel that reads each packed word once per call;
/// M >= `gemmThreshold`: a GEMM whose weight operand is dequantized a few rows at a time into
/// a block that stays in cache (zoo_qgemm_t / zoo_qgemm_n).
struct QuantizedMatmulPrimitive: Primitive {
    let transpose: Bool
    let groupSize: Int
    let bits: Int
    var precision: QuantizedMatmulPrecision = .exact
    /// The biases are -2^(bits-1) · scales (see `quantizedMatmul(symmetric:)`): the int16 GEMV
    /// reads the scales alone.
    var symmetric = false
    /// Rows of x from which the dequantize-then-GEMM path is used.
    static let gemmThreshold = 8
    var name: String { "quantized_matmul" }
    func isEquivalent(to other: any Primitive) -> Bool {
        guard let o = other as? QuantizedMatmulPrimitive else { return false }
        return o.transpose == transpose && o.groupSize == groupSize && o.bits == bits && o.precision == precision
            && o.symmetric == symmetric
    }

    /// The int16-activation GEMV (see `QuantizedMatmulPrecision.int16Activations`); false when
    /// it does not apply, so the caller takes the float path.
    private func int16GEMV(_ x: ArrayData, _ wq: ArrayData, _ scales: ArrayData, _ biases: ArrayData,
                           _ out: ArrayData, M: Int, K: Int, N: Int) -> Bool {
        let sdt: Int32
        switch scales.dtype {
        case .float32: sdt = 0
        case .float16: sdt = 1
        case .bfloat16: sdt = 2
        default: return false
        }
        guard precision == .int16Activations, transpose, biases.dtype == scales.dtype,
              zoo_qmv_i16_supported(Int32(groupSize), Int32(bits)) != 0 else { return false }
        let s = contiguousData(scales), b = contiguousData(biases)
        let groups = K / groupSize
        let xq = UnsafeMutablePointer<Int16>.allocate(capacity: M * K)
        let xs = UnsafeMutablePointer<Float>.allocate(capacity: 2 * M * groups)
        defer { xq.deallocate(); xs.deallocate() }
        let xp = x.pointer.assumingMemoryBound(to: Float.self)
        guard zoo_qmv_prepare_i16(xp, M, K, Int32(groupSize), Int32(bits), xq, xs, xs + M * groups) != 0
        else { return false }
        let (g, bits) = (Int32(groupSize), Int32(self.bits))
        let qp = wq.pointer.assumingMemoryBound(to: UInt32.self)
        let sp = s.pointer, bp: UnsafeMutableRawPointer? = symmetric ? nil : b.pointer
        let yp = out.writePointer.assumingMemoryBound(to: Float.self)
        // Whole 4-row blocks (the kernel's unit).
        CPU.parallelBlocks(N, unit: 4, work: N * K * M, threshold: 8, maxTasks: CPU.cores * 8) { lo, hi in
            zoo_qmv_t_i16(xq, xs, xs + M * groups, M, K, qp, sp, bp, sdt, yp, N, lo, hi, g, bits)
        }
        withExtendedLifetime((s, b)) {}
        return true
    }

    /// M >= `gemmThreshold`: tasks of whole register-tile strips of W (6 rows transposed, 16
    /// columns not), several per core so a core slowed by other work takes fewer. Scales and
    /// biases are read in their own dtype when it is float32, float16 or bfloat16.
    private func quantizedGEMM(_ x: ArrayData, _ wq: ArrayData, _ scales: ArrayData, _ biases: ArrayData,
                               _ out: ArrayData, M: Int, K: Int, N: Int) {
        var sdt: Int32
        switch scales.dtype {
        case .float32: sdt = 0
        case .float16: sdt = 1
        case .bfloat16: sdt = 2
        default: sdt = -1
        }
        if biases.dtype != scales.dtype { sdt = -1 }
        let s = sdt < 0 ? contiguousVector(scales, .float32) : contiguousData(scales)
        let b = sdt < 0 ? contiguousVector(biases, .float32) : contiguousData(biases)
        let code = max(sdt, 0)
        let (g, bits) = (Int32(groupSize), Int32(self.bits))
        let qp = UncheckedBox(wq.pointer.assumingMemoryBound(to: UInt32.self))
        let sp = UncheckedBox(s.pointer), bp = UncheckedBox(b.pointer)
        let xp = UncheckedBox(x.pointer.assumingMemoryBound(to: Float.self))
        let yp = UncheckedBox(out.writePointer.assumingMemoryBound(to: Float.self))
        if transpose {
            stripGEMM(xp.value, rows: M, K: K, N: N, packX: true) { packed, lo, hi, scratch in
                zoo_qgemm_t(packed, M, K, qp.value, sp.value, bp.value, code, yp.value, N, lo, hi, g, bits, scratch)
            }
        } else {
            stripGEMM(xp.value, rows: M, K: K, N: N, packX: false) { _, lo, hi, scratch in
                zoo_qgemm_n(xp.value, M, K, qp.value, sp.value, bp.value, code, yp.value, N, lo, hi, g, bits, scratch)
            }
        }
        withExtendedLifetime((s, b)) {}
    }

    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let spec = outputs[0]
        let out = ArrayData(allocating: spec.shape, dtype: .float32)
        let x = contiguousVector(inputs[0], .float32)
        let wq = contiguousData(inputs[1])
        let K = x.shape.last!, N = spec.shape.last!
        let M = K == 0 ? out.count / max(N, 1) : x.count / K
        if out.count == 0 { return [out] }
        if K == 0 { memset(out.writePointer, 0, out.count * 4); return [out] }
        if M < Self.gemmThreshold, int16GEMV(x, wq, inputs[2], inputs[3], out, M: M, K: K, N: N) {
            withExtendedLifetime((x, wq)) {}
            return [out]
        }
        if M >= Self.gemmThreshold {
            quantizedGEMM(x, wq, inputs[2], inputs[3], out, M: M, K: K, N: N)
            withExtendedLifetime((x, wq)) {}
            return [out]
        }
        let s = contiguousVector(inputs[2], .float32), b = contiguousVector(inputs[3], .float32)
        let xp = UncheckedBox(x.pointer.assumingMemoryBound(to: Float.self))
        let qp = UncheckedBox(wq.pointer.assumingMemoryBound(to: UInt32.self))
        let sp = UncheckedBox(s.pointer.assumingMemoryBound(to: Float.self))
        let bp = UncheckedBox(b.pointer.assumingMemoryBound(to: Float.self))
        let yp = UncheckedBox(out.writePointer.assumingMemoryBound(to: Float.self))
        let (g, bits) = (Int32(groupSize), Int32(bits))
        if transpose {
            CPU.parallelFor(N, work: N * K * M) { r in
                zoo_qmv_t(xp.value, M, K, qp.value, sp.value, bp.value, yp.value, N, r.lowerBound, r.upperBound, g, bits)
            }
        } else {
            // Column blocks of whole groups.
            let blocks = N / groupSize
            CPU.parallelFor(blocks, work: N * K * M) { r in
                zoo_qmv_n(xp.value, M, K, qp.value, sp.value, bp.value, yp.value, N,
                          r.lowerBound * groupSize, r.upperBound * groupSize, g, bits)
            }
        }
        withExtendedLifetime((x, wq, s, b)) {}
        return [out]
    }
}

/// The driver of the strip GEMMs (zoo_qgemm_t / zoo_qgemm_n / zoo_hgemm_t): x [rows, K]
/// packed into panels of 16 rows first when `packX` (the transposed kernels read it so), then
/// `kernel(packed, lo, hi, scratch)` over whole register-tile strips of W's N outputs (6 when
/// packed, 16 otherwise), several tasks per core so a core slowed by other work takes fewer,
/// each with its own scratch of zoo_qgemm_scratch_floats(K) floats.
func stripGEMM(_ x: UnsafePointer<Float>, rows: Int, K: Int, N: Int, packX: Bool,
               _ kernel: (_ packed: UnsafePointer<Float>?, _ lo: Int, _ hi: Int, _ scratch: UnsafeMutablePointer<Float>) -> Void) {
    let packed = packX ? UnsafeMutablePointer<Float>.allocate(capacity: zoo_qgemm_packed_floats(rows, K)) : nil
    defer { packed?.deallocate() }
    if let packed {
        let xp = UncheckedBox(x), pp = UncheckedBox(packed)
        CPU.parallelFor((rows + 15) / 16, work: rows * K) { r in
            zoo_qgemm_pack_x(xp.value, rows, K, pp.value, r.lowerBound, r.upperBound)
        }
    }
    let scratchFloats = zoo_qgemm_scratch_floats(K)
    CPU.parallelBlocks(N, unit: packX ? 6 : 16, work: rows * N * K, threshold: 8, maxTasks: CPU.cores * 4) { lo, hi in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchFloats)
        defer { scratch.deallocate() }
        kernel(packed.map { UnsafePointer($0) }, lo, hi, scratch)
    }
}
