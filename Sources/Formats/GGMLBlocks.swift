import Foundation

/// Whole-tensor block conversion, split across cores. The per-block work is the scalar
/// reference code in `GGMLDequantizer` / `GGMLQuantizer`.
public enum GGMLBlocks {
    /// Decodes `count` values of `type` from `bytes`.
    public static func dequantize(_ type: GGMLType, _ bytes: UnsafeRawBufferPointer, count: Int,
                                  path: String = "<memory>", tensor: String = "") throws -> [Float] {
        guard type.canDequantize else {
            throw FormatError.unsupported(path: path, offset: 0, what: "dequantizing \(type) (tensor '\(tensor)')")
        }
        guard let need = type.byteCount(elements: count), need <= bytes.count else {
            throw FormatError.invalidArgument("\(tensor): \(count) values of \(type) need \(type.byteCount(elements: count).map(String.init) ?? "whole blocks"), have \(bytes.count) bytes")
        }
        let (bs, ts) = type.blockLayout
        let blocks = count / bs
        return [Float](unsafeUninitializedCapacity: count) { out, n in
            if count > 0 {
                let src = bytes.baseAddress!
                let dst = out.baseAddress!
                parallelChunks(blocks, minChunk: max(1, 16384 / bs)) { lo, hi in
                    GGMLDequantizer.dequantize(type, src + lo * ts, blocks: hi - lo, into: dst + lo * bs)
                }
            }
            n = count
        }
    }

    /// Encodes `values` as `type` (the count must be a whole number of blocks).
    public static func quantize(_ type: GGMLType, _ values: UnsafeBufferPointer<Float>) throws -> [UInt8] {
        guard type.canQuantize else { throw FormatError.invalidArgument("no encoder for GGML type \(type)") }
        guard let n = type.byteCount(elements: values.count) else {
            throw FormatError.invalidArgument("\(values.count) values are not a whole number of \(type) blocks of \(type.blockLayout.blockSize)")
        }
        let (bs, ts) = type.blockLayout
        let blocks = values.count / bs
        return [UInt8](unsafeUninitializedCapacity: n) { out, count in
            if n > 0 {
                let src = values.baseAddress!
                let dst = UnsafeMutableRawPointer(out.baseAddress!)
                parallelChunks(blocks, minChunk: max(1, 16384 / bs)) { lo, hi in
                    GGMLQuantizer.quantize(type, src + lo * bs, blocks: hi - lo, into: dst + lo * ts)
                }
            }
            count = n
        }
    }

    public static func quantize(_ type: GGMLType, _ values: [Float]) throws -> [UInt8] {
        try values.withUnsafeBufferPointer { try quantize(type, $0) }
    }
}

/// Runs `body(lo, hi)` over `0..<n` in chunks on all cores.
func parallelChunks(_ n: Int, minChunk: Int, _ body: (Int, Int) -> Void) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let chunks = min(max(1, n / max(1, minChunk)), cores * 4)
    if chunks <= 1 { body(0, n); return }
    withoutActuallyEscaping(body) { body in
        let box = UncheckedBox(body)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = n * c / chunks, hi = n * (c + 1) / chunks
            if hi > lo { box.value(lo, hi) }
        }
    }
}

struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
