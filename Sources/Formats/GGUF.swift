import Engine
import Foundation

/// GGUF metadata value types, numbered as in the file.
public enum GGUFValueType: UInt32, Sendable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12
}

/// One GGUF metadata value. Arrays keep their element type (and may nest).
public indirect enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), uint64(UInt64), int64(Int64), float64(Double)
    case array(GGUFValueType, [GGUFValue])

    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        case .array: .array
        }
    }

    /// Integer value of any integer (or bool) case.
    public var intValue: Int? {
        switch self {
        case let .uint8(v): Int(v)
        case let .int8(v): Int(v)
        case let .uint16(v): Int(v)
        case let .int16(v): Int(v)
        case let .uint32(v): Int(v)
        case let .int32(v): Int(v)
        case let .uint64(v): Int(exactly: v)
        case let .int64(v): Int(v)
        case let .bool(v): v ? 1 : 0
        default: nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case let .float32(v): Double(v)
        case let .float64(v): v
        default: intValue.map(Double.init)
        }
    }

    public var stringValue: String? { if case let .string(s) = self { s } else { nil } }
    public var boolValue: Bool? { if case let .bool(b) = self { b } else { nil } }
    public var arrayValue: [GGUFValue]? { if case let .array(_, a) = self { a } else { nil } }

    public var description: String {
        switch self {
        case let .string(s): s.count > 60 ? "\"\(s.prefix(57))…\"" : "\"\(s)\""
        case let .bool(b): "\(b)"
        case let .float32(v): "\(v)"
        case let .float64(v): "\(v)"
        case let .array(t, a):
            a.count > 6 ? "[\(t)] × \(a.count)" : "[" + a.map(\.description).joined(separator: ", ") + "]"
        default: intValue.map(String.init) ?? "?"
        }
    }
}

/// A tensor's entry in the GGUF tensor-info table. `shape` is row-major (the file stores
/// dimensions fastest-first; they are reversed here, as NumPy and gguf-py's `shape` do not).
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let type: GGMLType
    /// Offset of the data from the start of the data section.
    public let offset: Int
    public let byteCount: Int
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A parsed GGUF file (v2 or v3) over a memory map: metadata in file order, tensor infos,
/// and tensors read on demand without copying.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let metadataKeys: [String]
    public let metadata: [String: GGUFValue]
    public let tensorInfos: [GGUFTensorInfo]
    public let alignment: Int
    /// Absolute file offset of the data section.
    public let dataOffset: Int
    let file: MappedFile
    private let index: [String: Int]

    public static let defaultAlignment = 32
    /// Sanity limits: far above any real model, far below what could exhaust memory.
    static let maxTensors = 1 << 24, maxKeyValues = 1 << 20, maxStringLength = 1 << 30, maxDims = 8

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        var r = ByteReader(file.bytes, path: path)
        try r.require(4, "magic")
        let magic = try r.readBytes(4, "magic")
        guard Array(magic) == Array("GGUF".utf8) else {
            throw FormatError.badMagic(path: path, expected: "GGUF", found: Array(magic).map { String(format: "%02x", $0) }.joined())
        }
        let versionAt = r.offset
        version = try r.read(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            throw FormatError.unsupported(path: path, offset: versionAt, what: "GGUF version \(version) (2 and 3 are read)")
        }
        // Each tensor info takes at least 8 + 4 + 4 + 8 bytes, each key/value at least 8 + 4 + 1.
        let tensorCount = try r.readCount("tensor count", minItemSize: 24, limit: GGUFFile.maxTensors)
        let kvCount = try r.readCount("key/value count", minItemSize: 13, limit: GGUFFile.maxKeyValues)

        var keys: [String] = []
        var meta: [String: GGUFValue] = [:]
        keys.reserveCapacity(kvCount)
        for _ in 0 ..< kvCount {
            let keyAt = r.offset
            let key = try GGUFFile.readString(&r, "metadata key")
            let typeAt = r.offset
            let rawType = try r.read(UInt32.self, "type of '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw FormatError.malformed(path: path, offset: typeAt, reason: "unknown value type \(rawType) for key '\(key)'")
            }
            let value = try GGUFFile.readValue(&r, type, key: key, depth: 0)
            guard meta[key] == nil else {
                throw FormatError.malformed(path: path, offset: keyAt, reason: "duplicate key '\(key)'")
            }
            keys.append(key)
            meta[key] = value
        }
        metadataKeys = keys
        metadata = meta

        var align = GGUFFile.defaultAlignment
        if let a = meta["general.alignment"] {
            guard let v = a.intValue, v > 0, v <= 1 << 20, v & (v - 1) == 0 else {
                throw FormatError.malformed(path: path, offset: 0, reason: "general.alignment \(a) is not a power of two")
            }
            align = v
        }
        alignment = align

        var infos: [GGUFTensorInfo] = []
        infos.reserveCapacity(tensorCount)
        var idx: [String: Int] = [:]
        for _ in 0 ..< tensorCount {
            let at = r.offset
            let name = try GGUFFile.readString(&r, "tensor name")
            let ndimAt = r.offset
            let ndim = Int(try r.read(UInt32.self, "dimension count of '\(name)'"))
            guard ndim <= GGUFFile.maxDims else {
                throw FormatError.malformed(path: path, offset: ndimAt, reason: "tensor '\(name)' has \(ndim) dimensions (at most \(GGUFFile.maxDims))")
            }
            var ne: [Int] = []
            var count = 1
            for _ in 0 ..< ndim {
                let dimAt = r.offset
                let d = try r.read(UInt64.self, "dimensions of '\(name)'")
                guard d <= UInt64(Int32.max) else {
                    throw FormatError.malformed(path: path, offset: dimAt, reason: "tensor '\(name)' dimension \(d) is absurd")
                }
                let (c, o) = count.multipliedReportingOverflow(by: Int(d))
                guard !o, c <= 1 << 40 else {
                    throw FormatError.malformed(path: path, offset: dimAt, reason: "tensor '\(name)' has too many elements")
                }
                count = c
                ne.append(Int(d))
            }
            let typeAt = r.offset
            let rawType = try r.read(UInt32.self, "type of '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw FormatError.unsupported(path: path, offset: typeAt, what: "tensor '\(name)' has unknown GGML type \(rawType)")
            }
            let offAt = r.offset
            let off = try r.read(UInt64.self, "offset of '\(name)'")
            guard off <= UInt64(Int.max / 2) else {
                throw FormatError.malformed(path: path, offset: offAt, reason: "tensor '\(name)' offset \(off) is absurd")
            }
            guard let n = type.byteCount(elements: count), ne.first.map({ $0 % type.blockLayout.blockSize == 0 }) ?? true else {
                throw FormatError.malformed(path: path, offset: at, reason: "tensor '\(name)' row of \(ne.first ?? 1) values is not a whole number of \(type) blocks")
            }
            guard Int(off) % align == 0 else {
                throw FormatError.malformed(path: path, offset: offAt, reason: "tensor '\(name)' offset \(off) is not aligned to \(align)")
            }
            guard idx[name] == nil else {
                throw FormatError.malformed(path: path, offset: at, reason: "duplicate tensor name '\(name)'")
            }
            idx[name] = infos.count
            infos.append(GGUFTensorInfo(name: name, shape: ne.reversed(), type: type, offset: Int(off), byteCount: n))
        }
        let data = (r.offset + align - 1) / align * align
        // A file with no tensors may end right after its metadata (before the padding).
        guard data <= file.count || tensorCount == 0 else {
            throw FormatError.truncated(path: path, offset: r.offset, section: "padding before tensor data", needed: data - r.offset, available: r.remaining)
        }
        dataOffset = data
        // Every tensor inside the file, and no two overlapping.
        let dataSize = max(0, file.count - data)
        for t in infos where t.offset + t.byteCount > dataSize {
            throw FormatError.truncated(path: path, offset: data + t.offset, section: "data of tensor '\(t.name)'",
                                        needed: t.byteCount, available: max(0, dataSize - t.offset))
        }
        let sorted = infos.sorted { $0.offset < $1.offset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.byteCount > b.offset && a.byteCount > 0 && b.byteCount > 0 {
            throw FormatError.malformed(path: path, offset: data + b.offset, reason: "tensors '\(a.name)' and '\(b.name)' overlap")
        }
        tensorInfos = infos
        index = idx
    }

    public convenience init(url: URL) throws { try self.init(path: url.path) }

    static func readString(_ r: inout ByteReader, _ section: String) throws -> String {
        let n = try r.readCount("length of \(section)", minItemSize: 1, limit: maxStringLength)
        return try r.readString(n, section)
    }

    static func readValue(_ r: inout ByteReader, _ type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        let s = "value of '\(key)'"
        switch type {
        case .uint8: return .uint8(try r.read(UInt8.self, s))
        case .int8: return .int8(try r.read(Int8.self, s))
        case .uint16: return .uint16(try r.read(UInt16.self, s))
        case .int16: return .int16(try r.read(Int16.self, s))
        case .uint32: return .uint32(try r.read(UInt32.self, s))
        case .int32: return .int32(try r.read(Int32.self, s))
        case .float32: return .float32(try r.readFloat(s))
        case .uint64: return .uint64(try r.read(UInt64.self, s))
        case .int64: return .int64(try r.read(Int64.self, s))
        case .float64: return .float64(try r.readDouble(s))
        case .bool:
            let at = r.offset
            let b = try r.read(UInt8.self, s)
            guard b <= 1 else { throw FormatError.malformed(path: r.path, offset: at, reason: "bool \(s) is \(b)") }
            return .bool(b == 1)
        case .string: return .string(try readString(&r, s))
        case .array:
            guard depth < 8 else { throw FormatError.malformed(path: r.path, offset: r.offset, reason: "arrays nested too deep in '\(key)'") }
            let typeAt = r.offset
            let rawType = try r.read(UInt32.self, "element type of '\(key)'")
            guard let et = GGUFValueType(rawValue: rawType) else {
                throw FormatError.malformed(path: r.path, offset: typeAt, reason: "unknown array element type \(rawType) in '\(key)'")
            }
            let minSize: Int = switch et {
            case .uint8, .int8, .bool: 1
            case .uint16, .int16: 2
            case .uint32, .int32, .float32: 4
            case .uint64, .int64, .float64, .string: 8
            case .array: 12
            }
            let n = try r.readCount("length of '\(key)'", minItemSize: minSize, limit: Int(Int32.max))
            var values: [GGUFValue] = []
            values.reserveCapacity(n)
            for _ in 0 ..< n { values.append(try readValue(&r, et, key: key, depth: depth + 1)) }
            return .array(et, values)
        }
    }

    public func info(named name: String) -> GGUFTensorInfo? { index[name].map { tensorInfos[$0] } }

    /// The raw bytes of a tensor (blocks as stored), borrowed from the mapping.
    public func withRawBytes<R>(_ info: GGUFTensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(file) {
            try body(UnsafeRawBufferPointer(start: info.byteCount == 0 ? nil : UnsafeRawPointer(file.pointer(at: dataOffset + info.offset)),
                                            count: info.byteCount))
        }
    }

    /// A plain-typed tensor as an Engine tensor without copying; block-quantized tensors are
    /// dequantized to float32 (use `dequantized` explicitly for plain ones converted to float).
    public func tensor(named name: String) throws -> Tensor {
        guard let t = info(named: name) else { throw FormatError.missingTensor(name: name, path: path) }
        if let dt = t.type.plainDType {
            let at = dataOffset + t.offset
            if t.byteCount == 0 { return zeros(t.shape, dtype: dt) }
            if at % dt.size == 0 {
                return Tensor(borrowing: file.pointer(at: at), shape: t.shape, dtype: dt, owner: file)
            }
            return Tensor(bytes: UnsafeRawBufferPointer(start: file.pointer(at: at), count: t.byteCount), shape: t.shape, dtype: dt)
        }
        return try dequantized(named: name)
    }

    /// Any tensor Zoo can decode, as float32.
    public func dequantized(named name: String) throws -> Tensor {
        guard let t = info(named: name) else { throw FormatError.missingTensor(name: name, path: path) }
        let values = try withRawBytes(t) { try GGMLBlocks.dequantize(t.type, $0, count: t.elementCount, path: path, tensor: t.name) }
        return Tensor(values, shape: t.shape)
    }

    /// All tensors, by name (plain types borrowed, block types dequantized to float32).
    public func tensors() throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for t in tensorInfos { out[t.name] = try tensor(named: t.name) }
        return out
    }
}

/// Namespace for GGUF entry points (`GGUF.read`).
public enum GGUF {
    public static func read(_ url: URL) throws -> GGUFFile { try GGUFFile(path: url.path) }
    public static func read(path: String) throws -> GGUFFile { try GGUFFile(path: path) }
}
