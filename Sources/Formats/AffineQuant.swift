import Foundation

/// MLX's affine group quantization as it is stored in files (mlx-lm's safetensors layout:
/// `weight` uint32 words, `scales` and `biases` per group). Values of a row form one
/// little-endian bit stream, `bits` bits each; a row of `k` values takes `k * bits / 32` words.
/// Used by the converter; the arithmetic follows MLX's CPU kernel so the bits match.
public enum MLXAffine {
    public static let supportedBits: Set<Int> = [2, 3, 4, 5, 6, 8]
    public static let supportedGroupSizes: Set<Int> = [32, 64, 128]

    public struct Quantized: Sendable {
        public var words: [UInt32]
        public var scales: [Float]
        public var biases: [Float]
        public let rows: Int, columns: Int, groupSize: Int, bits: Int
        public var wordsPerRow: Int { columns * bits / 32 }
        public var groupsPerRow: Int { columns / groupSize }
    }

    public static func validate(columns: Int, groupSize: Int, bits: Int) throws {
        guard supportedBits.contains(bits) else { throw FormatError.invalidArgument("affine quantization: bits must be one of 2, 3, 4, 5, 6, 8 (got \(bits))") }
        guard supportedGroupSizes.contains(groupSize) else { throw FormatError.invalidArgument("affine quantization: group size must be 32, 64 or 128 (got \(groupSize))") }
        guard columns % groupSize == 0 else {
            throw FormatError.invalidArgument("affine quantization: last dimension \(columns) is not a multiple of the group size \(groupSize)")
        }
    }

    /// Quantizes a row-major [rows, columns] matrix. `scaleRounding` rounds each scale and
    /// bias to the dtype they will be stored in (MLX stores them in the weight's dtype).
    public static func quantize(_ w: UnsafeBufferPointer<Float>, rows: Int, columns: Int, groupSize: Int, bits: Int,
                                scaleRounding: @Sendable (Float) -> Float = { $0 }) throws -> Quantized {
        try validate(columns: columns, groupSize: groupSize, bits: bits)
        let groups = rows * columns / groupSize
        let wordsPerRow = columns * bits / 32
        var words = [UInt32](repeating: 0, count: rows * wordsPerRow)
        var scales = [Float](repeating: 0, count: groups)
        var biases = [Float](repeating: 0, count: groups)
        let nBins = Float((1 << bits) - 1)
        words.withUnsafeMutableBufferPointer { wp in
            scales.withUnsafeMutableBufferPointer { sp in
                biases.withUnsafeMutableBufferPointer { bp in
                    let (wp, sp, bp) = (UncheckedBox(wp), UncheckedBox(sp), UncheckedBox(bp))
                    parallelChunks(rows, minChunk: max(1, 8192 / max(columns, 1))) { lo, hi in
                        for r in lo ..< hi {
                            let row = w.baseAddress! + r * columns
                            let out = UnsafeMutableRawPointer(wp.value.baseAddress! + r * wordsPerRow).assumingMemoryBound(to: UInt8.self)
                            var bitPos = 0
                            for g in 0 ..< columns / groupSize {
                                let x = row + g * groupSize
                                var lo = Float.infinity, hi = -Float.infinity
                                for j in 0 ..< groupSize { hi = max(hi, x[j]); lo = min(lo, x[j]) }
                                let useMin = abs(lo) > abs(hi)
                                var scale = max((hi - lo) / nBins, 1e-7)
                                if !useMin { scale = -scale }
                                let edge = useMin ? lo : hi
                                let q0 = (edge / scale).rounded(.toNearestOrEven)
                                var bias: Float = 0
                                if q0 != 0 { scale = edge / q0; bias = edge }
                                for j in 0 ..< groupSize {
                                    let q = min(max(((x[j] - bias) / scale).rounded(.toNearestOrEven), 0), nBins)
                                    putBits(out, bitPos, bits, UInt32(q))
                                    bitPos += bits
                                }
                                let gi = r * (columns / groupSize) + g
                                sp.value[gi] = scaleRounding(scale)
                                bp.value[gi] = scaleRounding(bias)
                            }
                        }
                    }
                }
            }
        }
        return Quantized(words: words, scales: scales, biases: biases, rows: rows, columns: columns, groupSize: groupSize, bits: bits)
    }

    @inline(__always) static func putBits(_ p: UnsafeMutablePointer<UInt8>, _ bitPos: Int, _ bits: Int, _ v: UInt32) {
        var v = UInt64(v) << UInt64(bitPos & 7)
        var i = bitPos >> 3
        var n = bits + (bitPos & 7)
        while n > 0 {
            p[i] |= UInt8(truncatingIfNeeded: v)
            v >>= 8; i += 1; n -= 8
        }
    }

    @inline(__always) static func getBits(_ p: UnsafePointer<UInt8>, _ bitPos: Int, _ bits: Int) -> UInt32 {
        var v: UInt64 = 0
        let first = bitPos >> 3, last = (bitPos + bits - 1) >> 3
        for i in stride(from: last, through: first, by: -1) { v = (v << 8) | UInt64(p[i]) }
        return UInt32((v >> UInt64(bitPos & 7)) & ((1 << UInt64(bits)) - 1))
    }

    /// scale * q + bias for every value.
    public static func dequantize(_ q: Quantized) -> [Float] {
        var out = [Float](repeating: 0, count: q.rows * q.columns)
        q.words.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self).baseAddress!
            for r in 0 ..< q.rows {
                let row = bytes + r * q.wordsPerRow * 4
                for c in 0 ..< q.columns {
                    let g = r * q.groupsPerRow + c / q.groupSize
                    out[r * q.columns + c] = q.scales[g] * Float(getBits(row, c * q.bits, q.bits)) + q.biases[g]
                }
            }
        }
        return out
    }

    /// The exact affine form of GGML Q4_0 / Q4_1 / Q8_0 blocks (group size 32), as MLX's GGUF
    /// loader produces it: Q4_0 → scale d, bias −8d; Q4_1 → scale d, bias m; Q8_0 → 8-bit with
    /// scale d, bias −128d (values offset by 128). Scales and biases are float16 values.
    public static func fromGGML(_ type: GGMLType, _ bytes: UnsafeRawBufferPointer, rows: Int, columns: Int) throws -> Quantized {
        guard [.q4_0, .q4_1, .q8_0].contains(type) else {
            throw FormatError.invalidArgument("no exact affine form for \(type) (Q4_0, Q4_1 and Q8_0 have one)")
        }
        guard columns % 32 == 0, type.byteCount(elements: rows * columns) == bytes.count else {
            throw FormatError.invalidArgument("\(type) data of \(bytes.count) bytes does not hold [\(rows), \(columns)]")
        }
        let bits = type == .q8_0 ? 8 : 4
        let (_, ts) = type.blockLayout
        let blocksPerRow = columns / 32
        let wordsPerRow = columns * bits / 32
        var words = [UInt32](repeating: 0, count: rows * wordsPerRow)
        var scales = [Float](repeating: 0, count: rows * blocksPerRow)
        var biases = [Float](repeating: 0, count: rows * blocksPerRow)
        let src = bytes.baseAddress!
        words.withUnsafeMutableBytes { wraw in
            let out = wraw.bindMemory(to: UInt8.self).baseAddress!
            for b in 0 ..< rows * blocksPerRow {
                let p = src + b * ts
                let d = f16(p, 0)
                let o = out + b * 32 * bits / 8
                switch type {
                case .q4_0, .q4_1:
                    // GGML: value j in the low nibble of byte j, value j+16 in the high nibble.
                    // MLX: values in order, two per byte, low nibble first.
                    let qs = type == .q4_0 ? 2 : 4
                    for j in stride(from: 0, to: 32, by: 2) {
                        let a = j < 16 ? u8(p, qs + j) & 0xF : u8(p, qs + j - 16) >> 4
                        let c = j + 1 < 16 ? u8(p, qs + j + 1) & 0xF : u8(p, qs + j + 1 - 16) >> 4
                        o[j / 2] = a | (c << 4)
                    }
                    scales[b] = d
                    biases[b] = type == .q4_0 ? Float(Float16(-8 * d)) : f16(p, 2)
                default:
                    for j in 0 ..< 32 { o[j] = UInt8(bitPattern: i8(p, 2 + j)) &+ 128 }
                    scales[b] = d
                    biases[b] = Float(Float16(-128 * d))
                }
            }
        }
        return Quantized(words: words, scales: scales, biases: biases, rows: rows, columns: columns, groupSize: 32, bits: bits)
    }
}
