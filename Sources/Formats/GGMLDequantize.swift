import Foundation

// Scalar reference dequantizers for GGML block types. Each block is a fixed byte layout; the
// offsets below are the layout (values are little-endian; `d`/`m` scales are float16 unless
// noted). Checked against gguf-py's dequantizers in FormatsTests.

@inline(__always) func f16(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
}

@inline(__always) func u8(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 { p.load(fromByteOffset: offset, as: UInt8.self) }
@inline(__always) func i8(_ p: UnsafeRawPointer, _ offset: Int) -> Int8 { p.load(fromByteOffset: offset, as: Int8.self) }

/// K-quant 6-bit scale and min number `j` (0..<8) from the 12 packed bytes at `q`.
@inline(__always) func scaleMinK4(_ j: Int, _ q: UnsafeRawPointer) -> (Float, Float) {
    if j < 4 {
        return (Float(u8(q, j) & 63), Float(u8(q, j + 4) & 63))
    }
    let d = (u8(q, j + 4) & 0xF) | ((u8(q, j - 4) >> 6) << 4)
    let m = (u8(q, j + 4) >> 4) | ((u8(q, j) >> 6) << 4)
    return (Float(d), Float(m))
}

enum GGMLDequantizer {
    /// Dequantizes `blocks` whole blocks of `type` from `src` into `dst`.
    static func dequantize(_ type: GGMLType, _ src: UnsafeRawPointer, blocks: Int, into dst: UnsafeMutablePointer<Float>) {
        let (bs, ts) = type.blockLayout
        for b in 0 ..< blocks {
            dequantizeBlock(type, src + b * ts, dst + b * bs)
        }
    }

    @inline(__always)
    static func dequantizeBlock(_ type: GGMLType, _ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32: y[0] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
        case .f16: y[0] = f16(p, 0)
        case .bf16: y[0] = Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self))) << 16)
        case .f64: y[0] = Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))))
        case .i8: y[0] = Float(i8(p, 0))
        case .i16: y[0] = Float(Int16(littleEndian: p.loadUnaligned(as: Int16.self)))
        case .i32: y[0] = Float(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
        case .i64: y[0] = Float(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
        case .q4_0:
            // d:f16, qs[16]: value j in the low nibble of qs[j], value j+16 in the high nibble.
            let d = f16(p, 0)
            for j in 0 ..< 16 {
                let q = u8(p, 2 + j)
                y[j] = Float(Int(q & 0xF) - 8) * d
                y[j + 16] = Float(Int(q >> 4) - 8) * d
            }
        case .q4_1:
            // d:f16, m:f16, qs[16]
            let d = f16(p, 0), m = f16(p, 2)
            for j in 0 ..< 16 {
                let q = u8(p, 4 + j)
                y[j] = Float(q & 0xF) * d + m
                y[j + 16] = Float(q >> 4) * d + m
            }
        case .q5_0:
            // d:f16, qh:u32 (fifth bit of value j at bit j), qs[16]
            let d = f16(p, 0)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            for j in 0 ..< 16 {
                let q = u8(p, 6 + j)
                let h0 = Int((qh >> UInt32(j)) & 1) << 4, h1 = Int((qh >> UInt32(j + 16)) & 1) << 4
                y[j] = Float((Int(q & 0xF) | h0) - 16) * d
                y[j + 16] = Float((Int(q >> 4) | h1) - 16) * d
            }
        case .q5_1:
            let d = f16(p, 0), m = f16(p, 2)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            for j in 0 ..< 16 {
                let q = u8(p, 8 + j)
                let h0 = Int((qh >> UInt32(j)) & 1) << 4, h1 = Int((qh >> UInt32(j + 16)) & 1) << 4
                y[j] = Float(Int(q & 0xF) | h0) * d + m
                y[j + 16] = Float(Int(q >> 4) | h1) * d + m
            }
        case .q8_0:
            let d = f16(p, 0)
            for j in 0 ..< 32 { y[j] = Float(i8(p, 2 + j)) * d }
        case .q8_1:
            // d:f16, s:f16 (d times the sum of qs, unused here), qs[32]
            let d = f16(p, 0)
            for j in 0 ..< 32 { y[j] = Float(i8(p, 4 + j)) * d }
        case .q2_K:
            // scales[16] (low nibble scale, high nibble min), qs[64], d:f16, dmin:f16
            let d = f16(p, 80), dmin = f16(p, 82)
            var out = 0, isc = 0
            for half in 0 ..< 2 {
                let q = 16 + half * 32
                for shift in stride(from: 0, to: 8, by: 2) {
                    for part in 0 ..< 2 {
                        let sc = u8(p, isc); isc += 1
                        let dl = d * Float(sc & 0xF), ml = dmin * Float(sc >> 4)
                        for l in 0 ..< 16 {
                            y[out] = dl * Float((u8(p, q + part * 16 + l) >> UInt8(shift)) & 3) - ml
                            out += 1
                        }
                    }
                }
            }
        case .q3_K:
            // hmask[32], qs[64], scales[12] (16 six-bit scales), d:f16
            let d = f16(p, 108)
            var scales = [Int](repeating: 0, count: 16)
            for i in 0 ..< 16 {
                let low = i < 8 ? Int(u8(p, 96 + i) & 0xF) : Int(u8(p, 96 + i - 8) >> 4)
                let high = Int((u8(p, 96 + 8 + i % 4) >> UInt8(2 * (i / 4))) & 3)
                scales[i] = (low | (high << 4)) - 32
            }
            var out = 0, isc = 0
            var mask: UInt8 = 1
            for half in 0 ..< 2 {
                let q = 32 + half * 32
                for shift in stride(from: 0, to: 8, by: 2) {
                    for part in 0 ..< 2 {
                        let dl = d * Float(scales[isc]); isc += 1
                        for l in 0 ..< 16 {
                            let lo = Int((u8(p, q + part * 16 + l) >> UInt8(shift)) & 3)
                            let hi = (u8(p, part * 16 + l) & mask) != 0 ? 0 : 4
                            y[out] = dl * Float(lo - hi)
                            out += 1
                        }
                    }
                    mask <<= 1
                }
            }
        case .q4_K:
            // d:f16, dmin:f16, scales[12], qs[128]
            let d = f16(p, 0), dmin = f16(p, 2)
            let sc = p + 4
            for chunk in 0 ..< 4 {
                let (s1, m1) = scaleMinK4(2 * chunk, sc), (s2, m2) = scaleMinK4(2 * chunk + 1, sc)
                let d1 = d * s1, mm1 = dmin * m1, d2 = d * s2, mm2 = dmin * m2
                let q = 16 + chunk * 32
                for l in 0 ..< 32 {
                    let v = u8(p, q + l)
                    y[chunk * 64 + l] = d1 * Float(v & 0xF) - mm1
                    y[chunk * 64 + 32 + l] = d2 * Float(v >> 4) - mm2
                }
            }
        case .q5_K:
            // d:f16, dmin:f16, scales[12], qh[32], qs[128]
            let d = f16(p, 0), dmin = f16(p, 2)
            let sc = p + 4
            for chunk in 0 ..< 4 {
                let (s1, m1) = scaleMinK4(2 * chunk, sc), (s2, m2) = scaleMinK4(2 * chunk + 1, sc)
                let d1 = d * s1, mm1 = dmin * m1, d2 = d * s2, mm2 = dmin * m2
                let u1 = UInt8(1) << UInt8(2 * chunk), u2 = UInt8(2) << UInt8(2 * chunk)
                let q = 48 + chunk * 32
                for l in 0 ..< 32 {
                    let v = u8(p, q + l), h = u8(p, 16 + l)
                    y[chunk * 64 + l] = d1 * Float(Int(v & 0xF) + ((h & u1) != 0 ? 16 : 0)) - mm1
                    y[chunk * 64 + 32 + l] = d2 * Float(Int(v >> 4) + ((h & u2) != 0 ? 16 : 0)) - mm2
                }
            }
        case .q6_K:
            // ql[128], qh[64], scales[16] (int8), d:f16
            let d = f16(p, 208)
            for half in 0 ..< 2 {
                let ql = half * 64, qh = 128 + half * 32, sc = 192 + half * 8
                for l in 0 ..< 32 {
                    let isc = l / 16
                    let h = Int(u8(p, qh + l))
                    let a = Int(u8(p, ql + l)), b = Int(u8(p, ql + l + 32))
                    let q1 = ((a & 0xF) | ((h & 3) << 4)) - 32
                    let q2 = ((b & 0xF) | (((h >> 2) & 3) << 4)) - 32
                    let q3 = ((a >> 4) | (((h >> 4) & 3) << 4)) - 32
                    let q4 = ((b >> 4) | (((h >> 6) & 3) << 4)) - 32
                    let o = half * 128
                    y[o + l] = d * Float(i8(p, sc + isc)) * Float(q1)
                    y[o + l + 32] = d * Float(i8(p, sc + isc + 2)) * Float(q2)
                    y[o + l + 64] = d * Float(i8(p, sc + isc + 4)) * Float(q3)
                    y[o + l + 96] = d * Float(i8(p, sc + isc + 6)) * Float(q4)
                }
            }
        case .q8_K:
            // d:f32, qs[256] int8, bsums[16] int16
            let d = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            for j in 0 ..< 256 { y[j] = d * Float(i8(p, 4 + j)) }
        default:
            fatalError("dequantizeBlock: \(type) is rejected by canDequantize before this point")
        }
    }
}
