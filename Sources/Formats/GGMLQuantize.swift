import Foundation

// Encoders for GGML block types. Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 reproduce gguf-py's
// `quants.py` arithmetic step for step (float32 where it uses float32, float64 where it
// widens), so the bytes match it. Q4_K and Q6_K (which gguf-py cannot encode) search each
// sub-block's scale by least squares; their error is checked against llama.cpp's published
// bounds in the tests.

@inline(__always) func storeF16(_ v: Float, _ p: UnsafeMutableRawPointer, _ offset: Int) {
    p.storeBytes(of: Float16(v).bitPattern.littleEndian, toByteOffset: offset, as: UInt16.self)
}

enum GGMLQuantizer {
    /// Encodes `blocks` blocks of `type` from `src` (blocks × blockSize floats) into `dst`.
    static func quantize(_ type: GGMLType, _ src: UnsafePointer<Float>, blocks: Int, into dst: UnsafeMutableRawPointer) {
        let (bs, ts) = type.blockLayout
        for b in 0 ..< blocks {
            quantizeBlock(type, src + b * bs, dst + b * ts)
        }
    }

    static func quantizeBlock(_ type: GGMLType, _ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        switch type {
        case .f32: p.storeBytes(of: x[0].bitPattern.littleEndian, as: UInt32.self)
        case .f16: storeF16(x[0], p, 0)
        case .bf16: p.storeBytes(of: bf16RoundNearestEven(x[0]).littleEndian, as: UInt16.self)
        case .q8_0: q8_0(x, p)
        case .q4_0: symmetric(x, p, levels: 8, bits: 4)
        case .q5_0: symmetric(x, p, levels: 16, bits: 5)
        case .q4_1: asymmetric(x, p, maxLevel: 15, bits: 4)
        case .q5_1: asymmetric(x, p, maxLevel: 31, bits: 5)
        case .q4_K: q4_K(x, p)
        case .q6_K: q6_K(x, p)
        default: fatalError("quantizeBlock: \(type) is rejected by canQuantize before this point")
        }
    }

    /// bfloat16 with round-to-nearest-even (NaN kept quiet), as gguf-py and PyTorch do.
    @inline(__always) static func bf16RoundNearestEven(_ v: Float) -> UInt16 {
        let bits = v.bitPattern
        if v.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }

    static func q8_0(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for j in 0 ..< 32 { amax = max(amax, abs(x[j])) }
        let d = amax / 127
        let id: Float = d == 0 ? 0 : 1 / d
        storeF16(d, p, 0)
        for j in 0 ..< 32 {
            let q = (x[j] * id).rounded(.toNearestOrAwayFromZero)
            p.storeBytes(of: Int8(q), toByteOffset: 2 + j, as: Int8.self)
        }
    }

    /// Q4_0 / Q5_0: d = (value of largest magnitude) / -levels, values offset by `levels`.
    static func symmetric(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer, levels: Int, bits: Int) {
        var imax = 0
        var amax: Float = -1
        for j in 0 ..< 32 where abs(x[j]) > amax { amax = abs(x[j]); imax = j }
        let d = x[imax] / Float(-levels)
        let id: Float = d == 0 ? 0 : 1 / d
        let top = 2 * levels - 1
        var q = [UInt8](repeating: 0, count: 32)
        for j in 0 ..< 32 {
            // gguf-py widens to float64 here (it emulates the fused multiply-add of ggml's C code).
            let v = Float(Double(x[j]) * Double(id) + Double(levels) + 0.5).rounded(.towardZero)
            q[j] = UInt8(min(Float(top), max(0, v)))
        }
        storeF16(d, p, 0)
        pack(q, p, qsOffset: bits == 5 ? 6 : 2, qhOffset: bits == 5 ? 2 : nil)
    }

    /// Q4_1 / Q5_1: d = (max - min) / maxLevel, m = min.
    static func asymmetric(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer, maxLevel: Int, bits: Int) {
        var lo = x[0], hi = x[0]
        for j in 1 ..< 32 { lo = min(lo, x[j]); hi = max(hi, x[j]) }
        let d = (hi - lo) / Float(maxLevel)
        let id: Float = d == 0 ? 0 : 1 / d
        var q = [UInt8](repeating: 0, count: 32)
        for j in 0 ..< 32 {
            let v = ((x[j] - lo) * id + 0.5).rounded(.towardZero)
            q[j] = UInt8(min(Float(maxLevel), max(0, v)))
        }
        storeF16(d, p, 0)
        storeF16(lo, p, 2)
        pack(q, p, qsOffset: bits == 5 ? 8 : 4, qhOffset: bits == 5 ? 4 : nil)
    }

    /// Low nibbles: value j in qs[j] & 0xF, value j+16 in qs[j] >> 4; fifth bits (5-bit types)
    /// as a little-endian 32-bit mask.
    @inline(__always) static func pack(_ q: [UInt8], _ p: UnsafeMutableRawPointer, qsOffset: Int, qhOffset: Int?) {
        for j in 0 ..< 16 {
            p.storeBytes(of: (q[j] & 0xF) | ((q[j + 16] & 0xF) << 4), toByteOffset: qsOffset + j, as: UInt8.self)
        }
        if let qhOffset {
            var qh: UInt32 = 0
            for j in 0 ..< 32 { qh |= UInt32(q[j] >> 4) << UInt32(j) }
            p.storeBytes(of: qh.littleEndian, toByteOffset: qhOffset, as: UInt32.self)
        }
    }

    // MARK: K-quants

    /// Best (scale, min) for `x[0..<n]` mapped to 0...maxLevel as `scale * q - min` with min ≥ 0
    /// (the K-quant convention): a grid of candidate scales, each refined by least squares.
    static func fitScaleMin(_ x: UnsafePointer<Float>, _ n: Int, maxLevel: Int) -> (scale: Float, min: Float) {
        var lo = x[0], hi = x[0]
        for j in 1 ..< n { lo = min(lo, x[j]); hi = max(hi, x[j]) }
        lo = min(lo, 0)
        if hi <= lo { return (0, -lo) }
        let nmax = Float(maxLevel)
        var best = (scale: (hi - lo) / nmax, min: -lo)
        var bestErr = Float.infinity
        for step in 0 ... 20 {
            let iscale = (nmax + Float(step - 10) * 0.1) / (hi - lo)
            // Assign levels with this scale, then fit scale and offset to them exactly.
            var sq: Float = 0, sqq: Float = 0, sx: Float = 0, sxq: Float = 0
            for j in 0 ..< n {
                let l = min(nmax, max(0, ((x[j] - lo) * iscale).rounded()))
                sq += l; sqq += l * l; sx += x[j]; sxq += x[j] * l
            }
            let fn = Float(n)
            let det = fn * sqq - sq * sq
            var scale: Float, offset: Float
            if det > 0 {
                scale = (fn * sxq - sq * sx) / det
                offset = (sqq * sx - sq * sxq) / det
            } else {
                scale = 1 / iscale; offset = lo
            }
            if offset > 0 { // the format needs min >= 0, i.e. offset <= 0: refit the scale alone
                offset = 0
                scale = sqq > 0 ? sxq / sqq : 0
            }
            if scale <= 0 { continue }
            var err: Float = 0
            for j in 0 ..< n {
                let l = min(nmax, max(0, ((x[j] - offset) / scale).rounded()))
                let e = scale * l + offset - x[j]
                err += e * e
            }
            if err < bestErr { bestErr = err; best = (scale, -offset) }
        }
        return best
    }

    static func q4_K(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        var scales = [Float](repeating: 0, count: 8), mins = [Float](repeating: 0, count: 8)
        for s in 0 ..< 8 { (scales[s], mins[s]) = fitScaleMin(x + 32 * s, 32, maxLevel: 15) }
        let maxScale = scales.max()!, maxMin = mins.max()!
        // Sub-block scales and mins become 6-bit multiples of two float16 super-scales.
        let d = Float(Float16(maxScale / 63)), dmin = Float(Float16(maxMin / 63))
        var ls = [UInt8](repeating: 0, count: 8), lm = [UInt8](repeating: 0, count: 8)
        for s in 0 ..< 8 {
            ls[s] = d > 0 ? UInt8(min(63, max(0, (scales[s] / d).rounded()))) : 0
            lm[s] = dmin > 0 ? UInt8(min(63, max(0, (mins[s] / dmin).rounded()))) : 0
        }
        storeF16(d, p, 0)
        storeF16(dmin, p, 2)
        for j in 0 ..< 4 {
            p.storeBytes(of: (ls[j] & 63) | ((ls[j + 4] >> 4) << 6), toByteOffset: 4 + j, as: UInt8.self)
            p.storeBytes(of: (lm[j] & 63) | ((lm[j + 4] >> 4) << 6), toByteOffset: 8 + j, as: UInt8.self)
            p.storeBytes(of: (ls[j + 4] & 0xF) | ((lm[j + 4] & 0xF) << 4), toByteOffset: 12 + j, as: UInt8.self)
        }
        var levels = [UInt8](repeating: 0, count: 256)
        for s in 0 ..< 8 {
            let sd = d * Float(ls[s]), sm = dmin * Float(lm[s])
            for j in 0 ..< 32 {
                levels[32 * s + j] = sd > 0 ? UInt8(min(15, max(0, ((x[32 * s + j] + sm) / sd).rounded()))) : 0
            }
        }
        for chunk in 0 ..< 4 {
            for l in 0 ..< 32 {
                p.storeBytes(of: levels[chunk * 64 + l] | (levels[chunk * 64 + 32 + l] << 4),
                             toByteOffset: 16 + chunk * 32 + l, as: UInt8.self)
            }
        }
    }

    /// Best symmetric scale for `x[0..<16]` with levels -32...31, by least squares over a grid.
    static func fitSymmetric(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var imax = 0
        for j in 1 ..< n where abs(x[j]) > abs(x[imax]) { imax = j }
        let vmax = x[imax]
        if vmax == 0 { return 0 }
        var best: Float = vmax / -32
        var bestErr = Float.infinity
        for step in -9 ... 9 {
            let iscale = -(32 + Float(step) * 0.1) / vmax
            var sxl: Float = 0, sll: Float = 0
            for j in 0 ..< n {
                let l = min(31, max(-32, (x[j] * iscale).rounded()))
                sxl += x[j] * l; sll += l * l
            }
            guard sll > 0 else { continue }
            let scale = sxl / sll
            var err: Float = 0
            for j in 0 ..< n {
                let l = min(31, max(-32, (x[j] / scale).rounded()))
                let e = scale * l - x[j]
                err += e * e
            }
            if err < bestErr { bestErr = err; best = scale }
        }
        return best
    }

    static func q6_K(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        var scales = [Float](repeating: 0, count: 16)
        for s in 0 ..< 16 { scales[s] = fitSymmetric(x + 16 * s, 16) }
        var imax = 0
        for s in 1 ..< 16 where abs(scales[s]) > abs(scales[imax]) { imax = s }
        // Sub-block scales become int8 multiples of one float16 super-scale.
        let d = Float(Float16(scales[imax] / -128))
        var ls = [Int8](repeating: 0, count: 16)
        for s in 0 ..< 16 { ls[s] = d != 0 ? Int8(min(127, max(-128, (scales[s] / d).rounded()))) : 0 }
        var levels = [UInt8](repeating: 32, count: 256)
        for s in 0 ..< 16 {
            let sd = d * Float(ls[s])
            guard sd != 0 else { continue }
            for j in 0 ..< 16 {
                levels[16 * s + j] = UInt8(Int(min(31, max(-32, (x[16 * s + j] / sd).rounded()))) + 32)
            }
        }
        for half in 0 ..< 2 {
            let L = half * 128, ql = half * 64, qh = 128 + half * 32
            for l in 0 ..< 32 {
                let a = levels[L + l], b = levels[L + l + 32], c = levels[L + l + 64], e = levels[L + l + 96]
                p.storeBytes(of: (a & 0xF) | ((c & 0xF) << 4), toByteOffset: ql + l, as: UInt8.self)
                p.storeBytes(of: (b & 0xF) | ((e & 0xF) << 4), toByteOffset: ql + l + 32, as: UInt8.self)
                p.storeBytes(of: (a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6), toByteOffset: qh + l, as: UInt8.self)
            }
        }
        for s in 0 ..< 16 { p.storeBytes(of: ls[s], toByteOffset: 192 + s, as: Int8.self) }
        storeF16(d, p, 208)
    }
}
