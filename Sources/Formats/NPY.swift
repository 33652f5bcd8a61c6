import Engine
import Foundation

/// NumPy `.npy` files, versions 1–3, C and Fortran order, little- and big-endian data.
/// bfloat16 is stored as MLX stores it: descr `<V2` (two raw bytes per value).
public enum NPY {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Reads a `.npy` file (memory-mapped; little-endian C-order data is borrowed, not copied).
    public static func read(_ url: URL) throws -> Tensor {
        let file = try MappedFile(path: url.path)
        return try parse(file.bytes, path: url.path, owner: file)
    }

    /// Parses `.npy` bytes; with an `owner`, the tensor may borrow `bytes` (which `owner` keeps alive).
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String, owner: AnyObject?) throws -> Tensor {
        var r = ByteReader(bytes, path: path)
        let m = try r.readBytes(6, "magic")
        guard Array(m) == magic else {
            throw FormatError.badMagic(path: path, expected: "NPY", found: Array(m).map { String(format: "%02x", $0) }.joined())
        }
        let major = try r.read(UInt8.self, "version")
        _ = try r.read(UInt8.self, "version")
        let headerLength: Int
        switch major {
        case 1: headerLength = Int(try r.read(UInt16.self, "header length"))
        case 2, 3: headerLength = Int(try r.read(UInt32.self, "header length"))
        default: throw FormatError.unsupported(path: path, offset: 6, what: "NPY version \(major)")
        }
        let headerAt = r.offset
        let headerBytes = try r.readBytes(headerLength, "header")
        // Version 3 allows UTF-8 in the header; 1 and 2 are Latin-1 (ASCII in practice).
        guard let header = String(bytes: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw FormatError.malformed(path: path, offset: headerAt, reason: "header is not text")
        }
        let (descr, fortran, shape) = try parseHeader(header, path: path, offset: headerAt)
        let (dtype, bigEndian) = try parseDescr(descr, path: path, offset: headerAt)
        var count = 1
        for d in shape {
            let (c, o) = count.multipliedReportingOverflow(by: d)
            guard !o, c <= 1 << 42 else { throw FormatError.malformed(path: path, offset: headerAt, reason: "shape \(shape) is absurd") }
            count = c
        }
        let n = count * dtype.size
        let dataAt = r.offset
        let data = try r.readBytes(n, "array data")
        // Fortran order is the C-order array of reversed shape, transposed.
        let storedShape = fortran ? Array(shape.reversed()) : shape
        var t: Tensor
        if n == 0 {
            t = zeros(storedShape, dtype: dtype)
        } else if bigEndian && dtype.size > 1 {
            var swapped = Array(data)
            let w = dtype == .complex64 ? 4 : dtype.size
            for i in stride(from: 0, to: swapped.count, by: w) { swapped[i ..< i + w].reverse() }
            t = swapped.withUnsafeBytes { Tensor(bytes: $0, shape: storedShape, dtype: dtype) }
        } else if let owner, dataAt % dtype.size == 0, (Int(bitPattern: data.baseAddress!) % dtype.size) == 0 {
            t = Tensor(borrowing: UnsafeMutableRawPointer(mutating: data.baseAddress!), shape: storedShape, dtype: dtype, owner: owner)
        } else {
            t = Tensor(bytes: data, shape: storedShape, dtype: dtype)
        }
        if fortran && shape.count > 1 { t = t.transposed() }
        return t
    }

    /// The three keys of the header dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
    static func parseHeader(_ h: String, path: String, offset: Int) throws -> (String, Bool, [Int]) {
        func bad(_ why: String) -> FormatError { .malformed(path: path, offset: offset, reason: "header \(why): \(h.prefix(120))") }
        func value(after key: String) throws -> Substring {
            guard let k = h.range(of: "'\(key)'") ?? h.range(of: "\"\(key)\"") else { throw bad("has no '\(key)'") }
            var rest = h[k.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { throw bad("has no ':' after '\(key)'") }
            rest = rest.dropFirst().drop { $0 == " " }
            return rest
        }
        let d = try value(after: "descr")
        guard let q = d.first, q == "'" || q == "\"", let end = d.dropFirst().firstIndex(of: q) else {
            throw bad("descr is not a string (structured dtypes are not supported)")
        }
        let descr = String(d[d.index(after: d.startIndex) ..< end])
        let f = try value(after: "fortran_order")
        let fortran: Bool
        if f.hasPrefix("True") { fortran = true } else if f.hasPrefix("False") { fortran = false } else { throw bad("fortran_order is not True/False") }
        let s = try value(after: "shape")
        guard s.first == "(", let close = s.firstIndex(of: ")") else { throw bad("shape is not a tuple") }
        let inner = s[s.index(after: s.startIndex) ..< close]
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let p = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if p.isEmpty { continue }
            guard let v = Int(p), v >= 0, v <= Int(Int32.max) else { throw bad("shape has a bad size '\(p)'") }
            shape.append(v)
        }
        return (descr, fortran, shape)
    }

    static func parseDescr(_ descr: String, path: String, offset: Int) throws -> (DType, Bool) {
        var s = Substring(descr)
        var big = false
        if let c = s.first, "<>|=".contains(c) { big = c == ">"; s = s.dropFirst() }
        let dt: DType? = switch s {
        case "b1", "?": .bool
        case "u1", "B": .uint8
        case "u2": .uint16
        case "u4": .uint32
        case "u8": .uint64
        case "i1", "b": .int8
        case "i2": .int16
        case "i4": .int32
        case "i8": .int64
        case "f2", "e": .float16
        case "f4": .float32
        case "f8": .float64
        case "c8": .complex64
        case "V2": .bfloat16 // MLX's encoding of bfloat16
        default: nil
        }
        guard let dt else { throw FormatError.unsupported(path: path, offset: offset, what: "NPY dtype '\(descr)'") }
        return (dt, big)
    }

    static func descr(_ dtype: DType) -> String {
        switch dtype {
        case .bool: "|b1"
        case .uint8: "|u1"
        case .int8: "|i1"
        case .uint16: "<u2"
        case .int16: "<i2"
        case .uint32: "<u4"
        case .int32: "<i4"
        case .uint64: "<u8"
        case .int64: "<i8"
        case .float16: "<f2"
        case .bfloat16: "<V2"
        case .float32: "<f4"
        case .float64: "<f8"
        case .complex64: "<c8"
        }
    }

    /// The `.npy` header (version 1, or 2 when the header needs it) padded to 64 bytes.
    static func header(dtype: DType, shape: [Int]) -> [UInt8] {
        let shapeText = shape.isEmpty ? "()" : shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = Array("{'descr': '\(descr(dtype))', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        let v1 = (10 + dict.count + 1 + 63) / 64 * 64 - 10 <= 65535
        let prefix = v1 ? 10 : 12
        let total = (prefix + dict.count + 1 + 63) / 64 * 64
        dict += [UInt8](repeating: 0x20, count: total - prefix - dict.count - 1) + [0x0A]
        var out = magic + [v1 ? 1 : 2, 0]
        if v1 {
            withUnsafeBytes(of: UInt16(dict.count).littleEndian) { out += $0 }
        } else {
            withUnsafeBytes(of: UInt32(dict.count).littleEndian) { out += $0 }
        }
        return out + dict
    }

    /// The whole `.npy` encoding of a tensor (C order, little-endian).
    public static func encode(_ tensor: Tensor) -> [UInt8] {
        var out = header(dtype: tensor.dtype, shape: tensor.shape)
        tensor.withUnsafeBytes { out += $0 }
        return out
    }

    public static func write(_ tensor: Tensor, to url: URL) throws {
        let w = try AtomicFileWriter(path: url.path)
        try w.write(header(dtype: tensor.dtype, shape: tensor.shape))
        try tensor.withUnsafeBytes { try w.write($0) }
        try w.commit()
    }
}
