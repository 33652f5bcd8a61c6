import Foundation

/// Writes a GGUF v3 file in the order the format requires, as an explicit state machine:
///
///     collecting (add key/values and tensor infos, any order)
///       → data (header, key/values and the tensor-info table written; tensors written in the
///         order their infos were added, each padded to the alignment)
///       → finished (file renamed into place)
///
/// Calls out of order throw. Dimensions are given row-major and reversed on disk. Nothing is
/// left at the destination unless `finish()` succeeds.
public final class GGUFWriter {
    public enum State: Equatable, Sendable { case collecting, data(next: Int), finished, failed }

    public private(set) var state: State = .collecting
    public let path: String
    public let alignment: Int
    private var keys: [String] = []
    private var values: [String: GGUFValue] = [:]
    private var infos: [GGUFTensorInfo] = []
    private var names: Set<String> = []
    private var nextOffset = 0
    private var out: AtomicFileWriter?
    private var dataStart = 0

    public init(path: String, alignment: Int = GGUFFile.defaultAlignment) throws {
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw FormatError.invalidArgument("GGUFWriter: alignment \(alignment) is not a power of two")
        }
        self.path = path
        self.alignment = alignment
    }

    /// Adds (or replaces) a metadata value. `general.alignment` may be set only to the
    /// writer's alignment; the writer adds it itself when it is not the default.
    public func set(_ key: String, _ value: GGUFValue) throws {
        guard state == .collecting else { throw outOfOrder("set('\(key)')") }
        if key == "general.alignment" && value.intValue != alignment {
            throw FormatError.invalidArgument("GGUFWriter: general.alignment \(value) differs from the writer's alignment \(alignment)")
        }
        if values[key] == nil { keys.append(key) }
        values[key] = value
    }

    /// Declares a tensor: its data must be written later, in declaration order.
    public func addTensor(name: String, shape: [Int], type: GGMLType) throws {
        guard state == .collecting else { throw outOfOrder("addTensor('\(name)')") }
        guard !names.contains(name) else { throw FormatError.invalidArgument("GGUFWriter: duplicate tensor '\(name)'") }
        guard shape.allSatisfy({ $0 >= 0 }), shape.count <= GGUFFile.maxDims else {
            throw FormatError.invalidArgument("GGUFWriter: tensor '\(name)' has invalid shape \(shape)")
        }
        let count = shape.reduce(1, *)
        guard let n = type.byteCount(elements: count), (shape.last ?? 1) % type.blockLayout.blockSize == 0 else {
            throw FormatError.invalidArgument("GGUFWriter: tensor '\(name)' rows of \(shape.last ?? 1) values are not whole \(type) blocks of \(type.blockLayout.blockSize)")
        }
        names.insert(name)
        infos.append(GGUFTensorInfo(name: name, shape: shape, type: type, offset: nextOffset, byteCount: n))
        nextOffset += (n + alignment - 1) / alignment * alignment
    }

    /// Writes the header, metadata and tensor-info table; moves to the data state.
    public func beginData() throws {
        guard state == .collecting else { throw outOfOrder("beginData") }
        do {
            let w = try AtomicFileWriter(path: path)
            out = w
            try w.write(Array("GGUF".utf8))
            try w.write(UInt32(3))
            try w.write(UInt64(infos.count))
            let addAlignment = alignment != GGUFFile.defaultAlignment && values["general.alignment"] == nil
            try w.write(UInt64(keys.count + (addAlignment ? 1 : 0)))
            if addAlignment { try writeKV(w, "general.alignment", .uint32(UInt32(alignment))) }
            for k in keys { try writeKV(w, k, values[k]!) }
            for t in infos {
                try writeString(w, t.name)
                try w.write(UInt32(t.shape.count))
                for d in t.shape.reversed() { try w.write(UInt64(d)) }
                try w.write(t.type.rawValue)
                try w.write(UInt64(t.offset))
            }
            try pad(w)
            dataStart = w.position
            state = .data(next: 0)
        } catch {
            state = .failed
            out = nil
            throw error
        }
    }

    /// Writes the next tensor's bytes (exactly its declared size).
    public func writeTensorData(_ bytes: UnsafeRawBufferPointer) throws {
        if state == .collecting { try beginData() }
        guard case let .data(next) = state, let w = out else { throw outOfOrder("writeTensorData") }
        guard next < infos.count else { throw FormatError.invalidArgument("GGUFWriter: more tensor data than the \(infos.count) declared tensors") }
        let t = infos[next]
        guard bytes.count == t.byteCount else {
            state = .failed
            throw FormatError.invalidArgument("GGUFWriter: tensor '\(t.name)' needs \(t.byteCount) bytes, got \(bytes.count)")
        }
        do {
            try w.write(bytes)
            try pad(w)
        } catch { state = .failed; throw error }
        state = .data(next: next + 1)
    }

    public func writeTensorData(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try writeTensorData($0) } }

    /// Checks every declared tensor was written and renames the file into place.
    public func finish() throws {
        if state == .collecting { try beginData() }
        guard case let .data(next) = state, let w = out else { throw outOfOrder("finish") }
        guard next == infos.count else {
            throw FormatError.invalidArgument("GGUFWriter: only \(next) of \(infos.count) tensors were written (next: '\(infos[next].name)')")
        }
        try w.commit()
        out = nil
        state = .finished
    }

    public var declaredTensors: [GGUFTensorInfo] { infos }

    private func outOfOrder(_ call: String) -> FormatError {
        .invalidArgument("GGUFWriter: \(call) is not allowed in state \(state)")
    }

    private func pad(_ w: AtomicFileWriter) throws {
        let r = w.position % alignment
        if r != 0 { try w.writeZeros(alignment - r) }
    }

    private func writeString(_ w: AtomicFileWriter, _ s: String) throws {
        let b = Array(s.utf8)
        try w.write(UInt64(b.count))
        try w.write(b)
    }

    private func writeKV(_ w: AtomicFileWriter, _ key: String, _ v: GGUFValue) throws {
        try writeString(w, key)
        try w.write(v.type.rawValue)
        try writeValue(w, v)
    }

    private func writeValue(_ w: AtomicFileWriter, _ v: GGUFValue) throws {
        switch v {
        case let .uint8(x): try w.write(x)
        case let .int8(x): try w.write(x)
        case let .uint16(x): try w.write(x)
        case let .int16(x): try w.write(x)
        case let .uint32(x): try w.write(x)
        case let .int32(x): try w.write(x)
        case let .float32(x): try w.write(x.bitPattern)
        case let .bool(x): try w.write(UInt8(x ? 1 : 0))
        case let .string(s): try writeString(w, s)
        case let .uint64(x): try w.write(x)
        case let .int64(x): try w.write(x)
        case let .float64(x): try w.write(x.bitPattern)
        case let .array(t, items):
            guard items.allSatisfy({ $0.type == t }) else {
                throw FormatError.invalidArgument("GGUFWriter: array of \(t) holds values of another type")
            }
            try w.write(t.rawValue)
            try w.write(UInt64(items.count))
            for item in items { try writeValue(w, item) }
        }
    }
}
