import Engine
import Foundation

/// Element types of the safetensors format.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", u16 = "U16", i16 = "I16", f16 = "F16", bf16 = "BF16"
    case u32 = "U32", i32 = "I32", f32 = "F32", u64 = "U64", i64 = "I64", f64 = "F64", c64 = "C64"
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    public var size: Int {
        switch self {
        case .bool, .u8, .i8, .f8e4m3, .f8e5m2: 1
        case .u16, .i16, .f16, .bf16: 2
        case .u32, .i32, .f32: 4
        case .u64, .i64, .f64, .c64: 8
        }
    }

    /// The Engine dtype a tensor of this type is read as (F8 types widen exactly to float16).
    public var engineDType: DType {
        switch self {
        case .bool: .bool
        case .u8: .uint8
        case .i8: .int8
        case .u16: .uint16
        case .i16: .int16
        case .f16, .f8e4m3, .f8e5m2: .float16
        case .bf16: .bfloat16
        case .u32: .uint32
        case .i32: .int32
        case .f32: .float32
        case .u64: .uint64
        case .i64: .int64
        case .f64: .float64
        case .c64: .complex64
        }
    }

    public init(_ dtype: DType) {
        switch dtype {
        case .bool: self = .bool
        case .uint8: self = .u8
        case .int8: self = .i8
        case .uint16: self = .u16
        case .int16: self = .i16
        case .float16: self = .f16
        case .bfloat16: self = .bf16
        case .uint32: self = .u32
        case .int32: self = .i32
        case .float32: self = .f32
        case .uint64: self = .u64
        case .int64: self = .i64
        case .float64: self = .f64
        case .complex64: self = .c64
        }
    }
}

public struct SafeTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range relative to the start of the data section.
    public let begin: Int, end: Int
    public var byteCount: Int { end - begin }
}

/// A safetensors file over a memory map. Opening reads and validates only the header;
/// tensors borrow the mapped pages when asked for.
public final class SafeTensorsFile: @unchecked Sendable {
    public let path: String
    public let metadata: [String: String]
    /// Tensor infos in data order.
    public let infos: [SafeTensorInfo]
    public let dataOffset: Int
    let file: MappedFile
    private let index: [String: Int]

    static let maxHeader = 100 << 20

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        var r = ByteReader(file.bytes, path: path)
        let n = try r.read(UInt64.self, "header length")
        guard n <= UInt64(SafeTensorsFile.maxHeader) else {
            throw FormatError.malformed(path: path, offset: 0, reason: "header length \(n) exceeds \(SafeTensorsFile.maxHeader) bytes")
        }
        let headerBytes = try r.readBytes(Int(n), "JSON header")
        dataOffset = 8 + Int(n)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes), options: [])
        } catch {
            throw FormatError.malformed(path: path, offset: 8, reason: "header is not JSON (\(error.localizedDescription))")
        }
        guard let top = json as? [String: Any] else {
            throw FormatError.malformed(path: path, offset: 8, reason: "header is not a JSON object")
        }
        var meta: [String: String] = [:]
        var infos: [SafeTensorInfo] = []
        for (name, value) in top {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw FormatError.malformed(path: path, offset: 8, reason: "__metadata__ is not an object")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw FormatError.malformed(path: path, offset: 8, reason: "__metadata__ value of '\(k)' is not a string")
                    }
                    meta[k] = s
                }
                continue
            }
            infos.append(try SafeTensorsFile.parseInfo(name, value, path: path))
        }
        infos.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        // Tensors must tile the data section exactly: no gaps, no overlaps, nothing past the end.
        let dataSize = file.count - dataOffset
        var expected = 0
        for t in infos {
            guard t.begin == expected else {
                throw FormatError.malformed(path: path, offset: dataOffset + t.begin,
                                            reason: t.begin < expected ? "tensor '\(t.name)' overlaps the previous tensor" : "gap before tensor '\(t.name)' (expected offset \(expected))")
            }
            expected = t.end
        }
        guard expected <= dataSize else {
            throw FormatError.truncated(path: path, offset: dataOffset + (infos.last?.begin ?? 0), section: "tensor data",
                                        needed: expected, available: dataSize)
        }
        guard expected == dataSize else {
            throw FormatError.malformed(path: path, offset: dataOffset + expected, reason: "\(dataSize - expected) bytes after the last tensor")
        }
        metadata = meta
        self.infos = infos
        index = Dictionary(uniqueKeysWithValues: infos.enumerated().map { ($1.name, $0) })
    }

    public convenience init(url: URL) throws { try self.init(path: url.path) }

    static func parseInfo(_ name: String, _ value: Any, path: String) throws -> SafeTensorInfo {
        func bad(_ why: String) -> FormatError { .malformed(path: path, offset: 8, reason: "tensor '\(name)': \(why)") }
        guard let d = value as? [String: Any] else { throw bad("entry is not an object") }
        guard let ds = d["dtype"] as? String else { throw bad("missing dtype") }
        guard let dtype = SafeTensorsDType(rawValue: ds) else {
            throw FormatError.unsupported(path: path, offset: 8, what: "tensor '\(name)' has dtype \(ds)")
        }
        guard let shapeAny = d["shape"] as? [Any] else { throw bad("missing shape") }
        var shape: [Int] = []
        var count = 1
        for s in shapeAny {
            guard let n = s as? NSNumber, let v = Int(exactly: n.doubleValue), v >= 0, v <= Int(Int32.max) else {
                throw bad("shape \(shapeAny) is not a list of sizes")
            }
            let (c, o) = count.multipliedReportingOverflow(by: v)
            guard !o, c <= 1 << 42 else { throw bad("shape \(shapeAny) is absurd") }
            count = c
            shape.append(v)
        }
        guard let offs = d["data_offsets"] as? [Any], offs.count == 2,
              let b = (offs[0] as? NSNumber).flatMap({ Int(exactly: $0.doubleValue) }),
              let e = (offs[1] as? NSNumber).flatMap({ Int(exactly: $0.doubleValue) }), b >= 0, e >= b
        else { throw bad("data_offsets is not [begin, end]") }
        guard e - b == count * dtype.size else {
            throw bad("data_offsets span \(e - b) bytes but shape \(shape) of \(ds) needs \(count * dtype.size)")
        }
        return SafeTensorInfo(name: name, dtype: dtype, shape: shape, begin: b, end: e)
    }

    public func info(named name: String) -> SafeTensorInfo? { index[name].map { infos[$0] } }
    public var names: [String] { infos.map(\.name) }

    public func withRawBytes<R>(_ info: SafeTensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(file) {
            try body(UnsafeRawBufferPointer(start: info.byteCount == 0 ? nil : UnsafeRawPointer(file.pointer(at: dataOffset + info.begin)),
                                            count: info.byteCount))
        }
    }

    /// The tensor, borrowing the mapped bytes when aligned (F8 types are widened to float16).
    public func tensor(named name: String) throws -> Tensor {
        guard let t = info(named: name) else { throw FormatError.missingTensor(name: name, path: path) }
        let dt = t.dtype.engineDType
        if t.byteCount == 0 { return zeros(t.shape, dtype: dt) }
        switch t.dtype {
        case .f8e4m3, .f8e5m2:
            let halves: [Float16] = withRawBytes(t) { raw in raw.map { t.dtype == .f8e4m3 ? Float8.e4m3ToHalf($0) : Float8.e5m2ToHalf($0) } }
            return Tensor(halves, shape: t.shape)
        default:
            let at = dataOffset + t.begin
            if at % dt.size == 0 {
                return Tensor(borrowing: file.pointer(at: at), shape: t.shape, dtype: dt, owner: file)
            }
            return withRawBytes(t) { Tensor(bytes: $0, shape: t.shape, dtype: dt) }
        }
    }
}

/// 8-bit float formats, widened exactly to float16. NaNs come out quiet with PyTorch's
/// payloads, so conversions agree bit for bit.
enum Float8 {
    /// E4M3 "fn": bias 7, no infinities, S.1111.111 is NaN.
    static func e4m3ToHalf(_ b: UInt8) -> Float16 {
        let sign: Float = b & 0x80 != 0 ? -1 : 1
        let e = Int((b >> 3) & 0xF), m = Float(b & 7)
        if e == 15 && b & 7 == 7 { return Float16(bitPattern: (UInt16(b & 0x80) << 8) | 0x7F80) }
        let v = e == 0 ? m / 8 * 0x1p-6 : (1 + m / 8) * Float(sign: .plus, exponent: e - 7, significand: 1)
        return Float16(sign * v)
    }

    /// E5M2: the top byte of an IEEE float16.
    static func e5m2ToHalf(_ b: UInt8) -> Float16 {
        let h = UInt16(b) << 8
        return Float16(bitPattern: (h & 0x7C00) == 0x7C00 && (h & 0x0300) != 0 ? h | 0x0200 : h)
    }
}

/// One tensor to write: its bytes come from `bytes` (called once, while writing).
public struct SafeTensorsEntry {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    public let write: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void

    public init(name: String, dtype: SafeTensorsDType, shape: [Int],
                write: @escaping ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.write = write
    }

    public init(name: String, tensor: Tensor) {
        self.init(name: name, dtype: SafeTensorsDType(tensor.dtype), shape: tensor.shape) { sink in
            try tensor.withUnsafeBytes { try sink($0) }
        }
    }

    public var byteCount: Int { shape.reduce(1, *) * dtype.size }
}

public enum SafeTensors {
    /// Reads a file, a sharded checkpoint's `*.safetensors.index.json`, or a folder holding
    /// either. Tensors borrow the mapped files.
    public static func read(_ url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let checkpoint = try SafeTensorsCheckpoint(url: url)
        var out: [String: Tensor] = [:]
        for name in checkpoint.names { out[name] = try checkpoint.tensor(named: name) }
        return (out, checkpoint.metadata)
    }

    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        try write(entries: tensors.keys.sorted().map { SafeTensorsEntry(name: $0, tensor: tensors[$0]!) }, metadata: metadata, to: url)
    }

    /// Writes entries in the given order (header padded with spaces to 8 bytes, as the
    /// reference implementation does), atomically.
    public static func write(entries: [SafeTensorsEntry], metadata: [String: String] = [:], to url: URL) throws {
        var seen = Set<String>()
        for e in entries {
            guard !e.name.isEmpty, e.name != "__metadata__", seen.insert(e.name).inserted else {
                throw FormatError.invalidArgument("SafeTensors.write: invalid or duplicate tensor name '\(e.name)'")
            }
        }
        var header = "{"
        var first = true
        if !metadata.isEmpty {
            header += jsonString("__metadata__") + ":{"
            header += metadata.keys.sorted().map { jsonString($0) + ":" + jsonString(metadata[$0]!) }.joined(separator: ",")
            header += "}"
            first = false
        }
        var offset = 0
        for e in entries {
            if !first { header += "," }
            first = false
            header += jsonString(e.name) + ":{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[" + e.shape.map(String.init).joined(separator: ",")
                + "],\"data_offsets\":[\(offset),\(offset + e.byteCount)]}"
            offset += e.byteCount
        }
        header += "}"
        var hb = Array(header.utf8)
        while hb.count % 8 != 0 { hb.append(0x20) }
        let w = try AtomicFileWriter(path: url.path)
        try w.write(UInt64(hb.count))
        try w.write(hb)
        for e in entries {
            let start = w.position
            try e.write { bytes in
                guard bytes.count == e.byteCount else {
                    throw FormatError.invalidArgument("SafeTensors.write: tensor '\(e.name)' gave \(bytes.count) bytes, expected \(e.byteCount)")
                }
                try w.write(bytes)
            }
            guard w.position - start == e.byteCount else {
                throw FormatError.invalidArgument("SafeTensors.write: tensor '\(e.name)' wrote \(w.position - start) bytes, expected \(e.byteCount)")
            }
        }
        try w.commit()
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

/// A checkpoint that may span several files (`model.safetensors.index.json` with a
/// `weight_map` from tensor name to shard file).
public final class SafeTensorsCheckpoint: @unchecked Sendable {
    public let files: [SafeTensorsFile]
    public let metadata: [String: String]
    private let owner: [String: Int]
    public let names: [String]

    public init(url: URL) throws {
        var isDir: ObjCBool = false
        var target = url
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
            let fm = FileManager.default
            let items = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
            if let idx = items.filter({ $0.hasSuffix(".safetensors.index.json") }).sorted().first {
                target = url.appendingPathComponent(idx)
            } else if let one = items.filter({ $0.hasSuffix(".safetensors") }).sorted().first {
                target = url.appendingPathComponent(one)
            } else {
                throw FormatError.io(path: url.path, reason: "folder holds no .safetensors file")
            }
        }
        if target.path.hasSuffix(".json") {
            let data: Data
            do { data = try Data(contentsOf: target) } catch {
                throw FormatError.io(path: target.path, reason: error.localizedDescription)
            }
            guard let top = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  let map = top["weight_map"] as? [String: Any] else {
                throw FormatError.malformed(path: target.path, offset: 0, reason: "not a safetensors index (no weight_map object)")
            }
            let dir = target.deletingLastPathComponent()
            var shardIndex: [String: Int] = [:]
            var files: [SafeTensorsFile] = []
            var owner: [String: Int] = [:]
            for (name, shardAny) in map.sorted(by: { $0.key < $1.key }) {
                guard let shard = shardAny as? String, !shard.contains("/"), !shard.hasPrefix(".") else {
                    throw FormatError.malformed(path: target.path, offset: 0, reason: "weight_map entry for '\(name)' is not a shard file name")
                }
                if shardIndex[shard] == nil {
                    shardIndex[shard] = files.count
                    files.append(try SafeTensorsFile(url: dir.appendingPathComponent(shard)))
                }
                let f = shardIndex[shard]!
                guard files[f].info(named: name) != nil else { throw FormatError.missingTensor(name: name, path: files[f].path) }
                owner[name] = f
            }
            self.files = files
            self.owner = owner
            names = owner.keys.sorted()
            var meta: [String: String] = [:]
            for f in files { meta.merge(f.metadata) { a, _ in a } }
            if let m = top["metadata"] as? [String: Any] {
                for (k, v) in m { meta[k] = "\(v)" }
            }
            metadata = meta
        } else {
            let f = try SafeTensorsFile(url: target)
            files = [f]
            owner = Dictionary(uniqueKeysWithValues: f.infos.map { ($0.name, 0) })
            names = f.infos.map(\.name)
            metadata = f.metadata
        }
    }

    public func info(named name: String) -> (SafeTensorsFile, SafeTensorInfo)? {
        guard let f = owner[name] else { return nil }
        return (files[f], files[f].info(named: name)!)
    }

    public func tensor(named name: String) throws -> Tensor {
        guard let f = owner[name] else { throw FormatError.missingTensor(name: name, path: files.first?.path ?? "") }
        return try files[f].tensor(named: name)
    }
}
