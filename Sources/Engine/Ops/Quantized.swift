import Foundation

// MLX-style affine group quantization (`mx.quantize`, `mx.dequantize`, `mx.quantized_matmul`).

private let quantBits: Set<Int> = [2, 3, 4, 5, 6, 8]
private let quantGroups: Set<Int> = [32, 64, 128]

/// a and b agree in all but their last axis (checked without building arrays: this runs on
/// every quantized product of a decode step).
private func sameLeadingDimensions(_ a: [Int], _ b: [Int]) -> Bool {
    guard a.count == b.count, !a.isEmpty else { return a.count == b.count }
    for i in 0 ..< a.count - 1 where a[i] != b[i] { return false }
    return true
}

private func checkQuantParams(_ op: String, groupSize: Int, bits: Int) -> Bool {
    check(quantBits.contains(bits), op, "bits must be one of 2, 3, 4, 5, 6, 8, got \(bits)")
        && check(quantGroups.contains(groupSize), op, "groupSize must be 32, 64 or 128, got \(groupSize)")
}

/// Quantizes the rows of `w` (last axis) in groups of `groupSize` values to `bits`-bit codes.
/// Returns the packed codes (uint32, last axis K * bits / 32) and the scales and biases
/// (w's dtype, last axis K / groupSize) — byte for byte what `mlx.core.quantize` returns.
public func quantize(_ w: Tensor, groupSize: Int = 64, bits: Int = 4) -> (wq: Tensor, scales: Tensor, biases: Tensor) {
    let op = "quantize"
    let fail = (Tensor.errorPlaceholder(.uint32), Tensor.errorPlaceholder(w.dtype), Tensor.errorPlaceholder(w.dtype))
    guard checkQuantParams(op, groupSize: groupSize, bits: bits),
          check(w.ndim >= 2, op, "the matrix to quantize must have at least 2 dimensions, got shape \(fmt(w.shape))"),
          check([.float32, .float16, .bfloat16].contains(w.dtype), op, "w must be float32, float16 or bfloat16, got \(w.dtype)"),
          check(w.dim(-1) % groupSize == 0, op,
                "the last axis of w \(fmt(w.shape)) must be a multiple of groupSize \(groupSize)")
    else { return fail }
    let K = w.dim(-1)
    let lead = Array(w.shape.dropLast())
    let specs = [OutputSpec(lead + [K * bits / 32], .uint32), OutputSpec(lead + [K / groupSize], w.dtype),
                 OutputSpec(lead + [K / groupSize], w.dtype)]
    let r = Tensor.multi(QuantizePrimitive(groupSize: groupSize, bits: bits, outputSpecs: specs), [w])
    return (r[0], r[1], r[2])
}

/// Checks packed codes against their scales/biases; returns K (values per row) or nil.
private func packedColumns(_ op: String, _ wq: Tensor, _ scales: Tensor, _ biases: Tensor, groupSize: Int, bits: Int) -> Int? {
    var shapes: String { "wq \(fmt(wq.shape)), scales \(fmt(scales.shape)), biases \(fmt(biases.shape))" }  // built only for an error message
    guard checkQuantParams(op, groupSize: groupSize, bits: bits),
          check(wq.dtype == .uint32, op, "packed weights must be uint32, got \(wq.dtype)"),
          check(wq.ndim >= 2, op, "packed weights must have at least 2 dimensions: \(shapes)"),
          check(scales.shape == biases.shape, op, "scales and biases must have the same shape: \(shapes)"),
          check(sameLeadingDimensions(wq.shape, scales.shape), op,
                "scales and biases must match the leading dimensions of wq: \(shapes)"),
          check(scales.dtype.isFloatingPoint && biases.dtype == scales.dtype, op,
                "scales and biases must share one floating-point dtype, got \(scales.dtype) and \(biases.dtype)"),
          check((wq.dim(-1) * 32) % bits == 0 && wq.dim(-1) * 32 / bits == scales.dim(-1) * groupSize, op,
                "\(wq.dim(-1)) words of \(bits)-bit codes do not fill \(scales.dim(-1)) groups of \(groupSize): \(shapes)")
    else { return nil }
    return wq.dim(-1) * 32 / bits
}

/// scale * code + bias for every packed code (the dtype of `scales`).
public func dequantize(_ wq: Tensor, scales: Tensor, biases: Tensor, groupSize: Int = 64, bits: Int = 4) -> Tensor {
    guard let K = packedColumns("dequantize", wq, scales, biases, groupSize: groupSize, bits: bits)
    else { return .errorPlaceholder(scales.dtype) }
    return Tensor(DequantizePrimitive(groupSize: groupSize, bits: bits), [wq, scales, biases],
                  shape: Array(wq.shape.dropLast()) + [K], dtype: scales.dtype)
}

/// x @ dequantize(wq)ᵀ (`transpose`, wq holding [N, K]) or x @ dequantize(wq) (wq holding
/// [K, N]), without materialising the dequantized matrix for small batches.
/// How `quantizedMatmul` treats x in few-row products (M < 8, the generation path) on the CPU.
public enum QuantizedMatmulPrecision: Sendable, Hashable {
    /// x stays float32: the same results as MLX (the default).
    case exact
    /// Each quantization group of x is rounded to 16-bit integers with its own scale (error at
    /// most 2^-16 of the group's largest |x|, 30× finer than float16) and dotted with the codes
    /// in integer lanes: fewer instructions per weight. Bits 4 and 8 with group sizes that are
    /// multiples of 32 on x86-64 with AVX2; other cases, and x holding inf or NaN, use `.exact`.
    case int16Activations
}

///
/// `symmetric: true` promises that every bias is −2^(bits−1) times its scale (codes centred on
/// the middle one, as GGUF's Q8_0 and Q4_0 blocks convert): the int16-activation GEMV then
/// reads the scales alone (8-bit: 34 instead of 36 bytes per 32 weights with float16 scales).
/// The result is the same up to float rounding; other paths read the biases as usual.
public func quantizedMatmul(_ x: Tensor, _ wq: Tensor, scales: Tensor, biases: Tensor, transpose: Bool = true,
                            groupSize: Int = 64, bits: Int = 4,
                            precision: QuantizedMatmulPrecision = .exact, symmetric: Bool = false) -> Tensor {
    let op = "quantized_matmul"
    guard let cols = packedColumns(op, wq, scales, biases, groupSize: groupSize, bits: bits)
    else { return .errorPlaceholder(x.dtype) }
    let dt = promoteTypes(x.dtype, scales.dtype)
    var shapes: String { "x \(fmt(x.shape)), wq \(fmt(wq.shape))" }  // built only for an error message
    guard check(wq.ndim == 2, op, "only 2-D quantized matrices are supported, got \(shapes)"),
          check(x.ndim >= 1, op, "x must have at least one dimension: \(shapes)"),
          check([.float32, .float16, .bfloat16].contains(dt), op, "x must be float32, float16 or bfloat16, got \(x.dtype)")
    else { return .errorPlaceholder(dt) }
    let K = x.dim(-1)
    let N: Int
    if transpose {
        guard check(cols == K, op, "last axis of x (\(K)) must equal the quantized matrix's \(cols) columns (transpose: true): \(shapes)")
        else { return .errorPlaceholder(dt) }
        N = wq.dim(0)
    } else {
        guard check(wq.dim(0) == K, op, "last axis of x (\(K)) must equal the quantized matrix's \(wq.dim(0)) rows (transpose: false): \(shapes)")
        else { return .errorPlaceholder(dt) }
        N = cols
    }
    let outShape = Array(x.shape.dropLast()) + [N]
    // Scales and biases go in as stored (float32, float16 or bfloat16): the kernels read them
    // directly, so half-precision ones are not converted again on every call.
    let r = Tensor(QuantizedMatmulPrimitive(transpose: transpose, groupSize: groupSize, bits: bits,
                                            precision: precision, symmetric: symmetric),
                   [x.asType(.float32), wq, scales, biases],
                   shape: outShape, dtype: .float32)
    return r.asType(dt)
}
