import Engine
import Foundation

/// File formats the converter reads and writes.
public enum TensorFileFormat: String, Sendable, CaseIterable {
    case safetensors, gguf, npz

    /// From a path's extension (a folder or `.json` index means safetensors).
    public init?(path: String) {
        let ext = (path as NSString).pathExtension.lowercased()
        switch ext {
        case "safetensors", "json": self = .safetensors
        case "gguf": self = .gguf
        case "npz": self = .npz
        default:
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { self = .safetensors } else { return nil }
        }
    }
}

/// Target encodings for `zoo convert --quantize`.
public enum Quantization: String, Sendable, CaseIterable {
    case q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q6_k, affine8, affine4

    public var ggmlType: GGMLType? {
        switch self {
        case .q8_0: .q8_0
        case .q4_0: .q4_0
        case .q4_1: .q4_1
        case .q5_0: .q5_0
        case .q5_1: .q5_1
        case .q4_k: .q4_K
        case .q6_k: .q6_K
        case .affine8, .affine4: nil
        }
    }

    public var affineBits: Int? { self == .affine8 ? 8 : self == .affine4 ? 4 : nil }
}

public struct ConversionOptions: Sendable {
    /// Output format; by default from the output path's extension.
    public var format: TensorFileFormat?
    public var quantization: Quantization?
    /// Float type for tensors written as floats (dequantized or kept): nil keeps float16 /
    /// bfloat16 / float32 sources as they are and writes dequantized blocks as float32.
    public var floatType: DType?
    /// Group size for affine quantization of float weights (blocks converted exactly keep 32).
    public var groupSize: Int = 64
    /// Tensors with fewer values stay in float.
    public var minQuantizedElements: Int = 4096
    public var progress: (@Sendable (_ done: Int, _ total: Int, _ tensor: String) -> Void)?

    public init(format: TensorFileFormat? = nil, quantization: Quantization? = nil, floatType: DType? = nil) {
        self.format = format
        self.quantization = quantization
        self.floatType = floatType
    }
}

public struct ConversionReport: Sendable, CustomStringConvertible {
    public var tensors = 0
    public var quantized = 0
    public var exactAffine = 0
    public var keptFloat = 0
    public var bytesWritten = 0
    public var family: TensorNames.Family?
    public var description: String {
        "\(tensors) tensors (\(quantized) quantized, \(exactAffine) converted exactly, \(keptFloat) float), \(bytesWritten) bytes"
    }
}

/// Converts between safetensors (plain or MLX affine-quantized), GGUF and NPZ.
@discardableResult
public func convert(from input: URL, to output: URL, quantization: Quantization? = nil) throws -> ConversionReport {
    try convert(from: input, to: output, options: ConversionOptions(quantization: quantization))
}

@discardableResult
public func convert(from input: URL, to output: URL, options: ConversionOptions) throws -> ConversionReport {
    guard let format = options.format ?? TensorFileFormat(path: output.path) else {
        throw FormatError.invalidArgument("cannot tell the output format of \(output.path): use a .safetensors, .gguf or .npz name or --to")
    }
    if let q = options.quantization {
        if format == .gguf, q.ggmlType == nil { throw FormatError.invalidArgument("\(q.rawValue) is an MLX layout: write it to .safetensors") }
        if format != .gguf, q.ggmlType != nil { throw FormatError.invalidArgument("\(q.rawValue) is a GGUF block type: write it to .gguf") }
        if format == .npz { throw FormatError.invalidArgument("NPZ output holds plain arrays only") }
    }
    if let f = options.floatType, !f.isFloatingPoint || f == .float64 {
        throw FormatError.invalidArgument("--dtype must be float16, bfloat16 or float32 (got \(f))")
    }
    if options.quantization?.affineBits != nil {
        try MLXAffine.validate(columns: options.groupSize, groupSize: options.groupSize, bits: 4)
    }
    let source = try ConversionSource(url: input)
    var plan = try ConversionPlan(source: source, format: format, options: options)
    switch format {
    case .gguf: try plan.writeGGUF(to: output)
    case .safetensors: try plan.writeSafeTensors(to: output)
    case .npz: try plan.writeNPZ(to: output)
    }
    plan.report.bytesWritten = (try? FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int) ?? 0
    return plan.report
}

// MARK: - Source

/// One tensor of the input, decodable to float32 or readable as stored.
struct SourceTensor {
    enum Storage { case ggml(GGMLType), plain(DType), affine(MLXAffineRef) }
    let name: String
    let shape: [Int]
    let storage: Storage
    let raw: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    let tensor: () throws -> Tensor

    var elementCount: Int { shape.reduce(1, *) }
    var rows: Int { shape.count <= 1 ? 1 : shape.dropLast().reduce(1, *) }
    var columns: Int { shape.last ?? 1 }

    func floats() throws -> [Float] {
        switch storage {
        case let .ggml(t):
            var out: [Float] = []
            try raw { out = try GGMLBlocks.dequantize(t, $0, count: elementCount, tensor: name) }
            return out
        case .plain:
            return try tensor().asType(.float32).toArray(Float.self)
        case let .affine(a):
            return try a.dequantize()
        }
    }
}

/// An MLX affine triple found in a safetensors input.
struct MLXAffineRef {
    let weight: Tensor, scales: Tensor, biases: Tensor
    let bits: Int, groupSize: Int
    func dequantize() throws -> [Float] {
        let rows = weight.shape.dropLast().reduce(1, *)
        let columns = weight.shape.last! * 32 / bits
        let q = MLXAffine.Quantized(words: weight.toArray(UInt32.self), scales: scales.asType(.float32).toArray(Float.self),
                                    biases: biases.asType(.float32).toArray(Float.self), rows: rows, columns: columns,
                                    groupSize: groupSize, bits: bits)
        return MLXAffine.dequantize(q)
    }
}

struct ConversionSource {
    var tensors: [SourceTensor] = []
    var ggufMetadata: [(String, GGUFValue)] = []
    var ggufAlignment = GGUFFile.defaultAlignment
    var isGGUFNamed = false
    var family: TensorNames.Family?
    var headCount: Int?, headCountKV: Int?

    init(url: URL) throws {
        switch TensorFileFormat(path: url.path) {
        case .gguf:
            let f = try GGUF.read(url)
            ggufMetadata = f.metadataKeys.map { ($0, f.metadata[$0]!) }
            ggufAlignment = f.alignment
            isGGUFNamed = true
            for info in f.tensorInfos {
                let storage: SourceTensor.Storage = info.type.plainDType.map { .plain($0) } ?? .ggml(info.type)
                tensors.append(SourceTensor(name: info.name, shape: info.shape, storage: storage,
                                            raw: { body in try f.withRawBytes(info) { try body($0) } },
                                            tensor: { try f.tensor(named: info.name) }))
            }
        case .npz:
            let arrays = try NPZ.read(url)
            for (name, t) in arrays.sorted(by: { $0.key < $1.key }) {
                tensors.append(SourceTensor(name: name, shape: t.shape, storage: .plain(t.dtype),
                                            raw: { body in try t.withUnsafeBytes { try body($0) } }, tensor: { t }))
            }
        case .safetensors:
            let ck = try SafeTensorsCheckpoint(url: url)
            let meta = ck.metadata
            if let json = meta["gguf.metadata"] { ggufMetadata = try GGUFJSON.decode(json) }
            // mlx-lm records quantization in config.json; Zoo also in the file's metadata.
            var quant = meta["quantization"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            let dir = url.hasDirectoryPath || (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true ? url : url.deletingLastPathComponent()
            if let data = try? Data(contentsOf: dir.appendingPathComponent("config.json")),
               let cfg = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                if quant == nil { quant = cfg["quantization"] as? [String: Any] }
                headCount = cfg["num_attention_heads"] as? Int
                headCountKV = cfg["num_key_value_heads"] as? Int ?? headCount
            }
            let names = Set(ck.names)
            var consumed = Set<String>()
            for name in ck.names where name.hasSuffix(".scales") {
                let base = String(name.dropLast(".scales".count))
                guard names.contains(base + ".weight"), names.contains(base + ".biases") else { continue }
                let (gs, bits) = ConversionSource.affineParameters(quant, module: base)
                let w = try ck.tensor(named: base + ".weight"), s = try ck.tensor(named: name), b = try ck.tensor(named: base + ".biases")
                guard w.dtype == .uint32, let words = w.shape.last, let groups = s.shape.last, words * 32 / bits == groups * gs else {
                    throw FormatError.invalidArgument("\(base): weight \(w.shape) / scales \(s.shape) do not fit \(bits)-bit groups of \(gs)")
                }
                let ref = MLXAffineRef(weight: w, scales: s, biases: b, bits: bits, groupSize: gs)
                let shape = Array(w.shape.dropLast()) + [words * 32 / bits]
                tensors.append(SourceTensor(name: base + ".weight", shape: shape, storage: .affine(ref),
                                            raw: { _ in throw FormatError.invalidArgument("affine tensors have no single raw form") },
                                            tensor: { Tensor(try ref.dequantize(), shape: shape) }))
                consumed.formUnion([base + ".weight", name, base + ".biases"])
            }
            for name in ck.names where !consumed.contains(name) {
                let (file, info) = ck.info(named: name)!
                let dt = info.dtype.engineDType
                let plainRaw = info.dtype != .f8e4m3 && info.dtype != .f8e5m2
                tensors.append(SourceTensor(name: name, shape: info.shape, storage: .plain(dt),
                                            raw: { body in
                                                if plainRaw { try file.withRawBytes(info) { try body($0) } } else {
                                                    try file.tensor(named: name).withUnsafeBytes { try body($0) }
                                                }
                                            },
                                            tensor: { try file.tensor(named: name) }))
            }
            tensors.sort { $0.name < $1.name }
            isGGUFNamed = tensors.contains { $0.name.hasPrefix("blk.") || $0.name == "token_embd.weight" }
        case nil:
            throw FormatError.invalidArgument("cannot tell the format of \(url.path) (.safetensors, .gguf, .npz, a folder or an index .json)")
        }
        let arch = ggufMetadata.first { $0.0 == "general.architecture" }?.1.stringValue
        family = isGGUFNamed ? TensorNames.family(ofGGUFArchitecture: arch) : TensorNames.family(ofHFNames: tensors.map(\.name))
        if let arch, headCount == nil {
            headCount = ggufMetadata.first { $0.0 == "\(arch).attention.head_count" }?.1.intValue
            headCountKV = ggufMetadata.first { $0.0 == "\(arch).attention.head_count_kv" }?.1.intValue ?? headCount
        }
    }

    static func affineParameters(_ q: [String: Any]?, module: String) -> (Int, Int) {
        var gs = q?["group_size"] as? Int ?? 64, bits = q?["bits"] as? Int ?? 4
        if let m = q?[module] as? [String: Any] {
            gs = m["group_size"] as? Int ?? gs
            bits = m["bits"] as? Int ?? bits
        }
        return (gs, bits)
    }
}

// MARK: - Plan

struct ConversionPlan {
    enum Target { case ggml(GGMLType), float(DType), exactAffine, affine(bits: Int), copyGGML(GGMLType) }
    struct Item {
        let source: SourceTensor
        let name: String
        let shape: [Int]
        let target: Target
        /// Row reordering (LLaMA Q/K between naming conventions) or a 2-D transpose (GPT-2 Conv1D).
        let rowPermutation: [Int]?
        let transpose: Bool
    }

    let source: ConversionSource
    let format: TensorFileFormat
    let options: ConversionOptions
    var items: [Item] = []
    var report = ConversionReport()

    init(source: ConversionSource, format: TensorFileFormat, options: ConversionOptions) throws {
        self.source = source
        self.format = format
        self.options = options
        report.family = source.family
        let wantGGUFNames = format == .gguf
        for t in source.tensors {
            var name = t.name
            var perm: [Int]?
            var transpose = false
            var shape = t.shape
            if let fam = source.family, wantGGUFNames != source.isGGUFNamed {
                let mapped = wantGGUFNames ? TensorNames.ggufName(hf: t.name, family: fam) : TensorNames.hfName(gguf: t.name, family: fam)
                if let mapped {
                    name = mapped
                    let ggufName = wantGGUFNames ? mapped : t.name
                    if fam == .llama, t.shape.count == 2, ggufName.hasSuffix("attn_q.weight") || ggufName.hasSuffix("attn_k.weight") {
                        let heads = ggufName.hasSuffix("attn_q.weight") ? source.headCount : source.headCountKV
                        if let heads { perm = TensorNames.ropePermutation(rows: t.shape[0], heads: heads, toGGUF: wantGGUFNames) }
                    }
                    if fam == .gpt2, t.shape.count == 2, TensorNames.isGPT2Conv1D(gguf: ggufName) {
                        transpose = true
                        shape = [t.shape[1], t.shape[0]]
                    }
                }
            }
            let target = ConversionPlan.decide(t, outName: name, shape: shape, format: format, options: options, transposed: transpose)
            items.append(Item(source: t, name: name, shape: shape, target: target, rowPermutation: perm, transpose: transpose))
        }
        let names = items.map(\.name)
        guard Set(names).count == names.count else { throw FormatError.invalidArgument("tensor names collide after mapping to \(format)") }
        report.tensors = items.count
    }

    /// The per-tensor policy: norms, biases, vectors and small tensors stay float (as llama.cpp's
    /// and mlx-lm's converters keep them); rows that are not whole blocks fall back to Q8_0 or float.
    static func decide(_ t: SourceTensor, outName: String, shape: [Int], format: TensorFileFormat, options: ConversionOptions, transposed: Bool) -> Target {
        let isFloatLike: Bool = { if case .plain(let d) = t.storage { return d.isFloatingPoint } else { return true } }()
        func floatTarget() -> Target {
            if case let .plain(d) = t.storage {
                if !d.isFloatingPoint { return .float(d) } // integer tensors pass through
                if format == .gguf && shape.count <= 1 { return .float(.float32) } // GGUF keeps norms in F32
                return .float(options.floatType ?? d)
            }
            if format == .gguf && shape.count <= 1 { return .float(.float32) }
            return .float(options.floatType ?? .float32)
        }
        let quantizable = isFloatLike && shape.count == 2 && t.elementCount >= options.minQuantizedElements
            && !outName.contains("norm") && !outName.hasSuffix(".bias")
        guard let q = options.quantization else {
            if format == .gguf, case let .ggml(g) = t.storage { return .copyGGML(g) }
            return floatTarget()
        }
        guard quantizable else { return floatTarget() }
        if let g = q.ggmlType {
            if case let .ggml(src) = t.storage, src == g { return .copyGGML(g) }
            let columns = shape.last!
            if columns % g.blockLayout.blockSize == 0 { return .ggml(g) }
            if columns % 32 == 0 { return .ggml(.q8_0) }
            return floatTarget()
        }
        let bits = q.affineBits!
        if !transposed, case let .ggml(src) = t.storage, (bits == 4 && (src == .q4_0 || src == .q4_1)) || (bits == 8 && src == .q8_0) {
            return .exactAffine
        }
        if shape.last! % options.groupSize == 0 { return .affine(bits: bits) }
        return floatTarget()
    }

    // MARK: Data of one item

    /// Float32 values of the item in output layout (permuted / transposed).
    func outputFloats(_ item: Item) throws -> [Float] {
        var v = try item.source.floats()
        if item.transpose { v = transpose2D(v, rows: item.source.shape[0], columns: item.source.shape[1]) }
        if let p = item.rowPermutation { v = permuteRows(v, p) }
        return v
    }

    func transpose2D<T>(_ v: [T], rows: Int, columns: Int) -> [T] {
        guard rows > 0, columns > 0 else { return v }
        var out = v
        for r in 0 ..< rows { for c in 0 ..< columns { out[c * rows + r] = v[r * columns + c] } }
        return out
    }

    func permuteRows<T>(_ v: [T], _ perm: [Int]) -> [T] {
        let cols = v.count / perm.count
        var out = v
        for (dst, src) in perm.enumerated() {
            out[dst * cols ..< (dst + 1) * cols] = v[src * cols ..< (src + 1) * cols]
        }
        return out
    }

    /// Stored bytes of a GGML tensor copied as is (rows permuted when needed).
    func copiedBytes(_ item: Item) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try item.source.raw { bytes = Array($0) }
        if let p = item.rowPermutation { bytes = permuteRows(bytes, p) }
        return bytes
    }

    func floatBytes(_ values: [Float], _ dtype: DType, shape: [Int]) -> [UInt8] {
        if dtype == .float32 { return values.withUnsafeBytes(Array.init) }
        return Tensor(values, shape: shape).asType(dtype).toBytes()
    }

    /// Bytes of a plain tensor in `dtype`; no float round trip when nothing changes.
    func plainBytes(_ item: Item, _ dtype: DType) throws -> [UInt8] {
        if case let .plain(d) = item.source.storage, d == dtype, item.rowPermutation == nil, !item.transpose {
            var b: [UInt8] = []
            try item.source.raw { b = Array($0) }
            return b
        }
        if case let .plain(d) = item.source.storage, !d.isFloatingPoint {
            var t = try item.source.tensor()
            if item.transpose { t = t.T }
            if let p = item.rowPermutation { t = take(t, Tensor(p.map { Int32($0) }), axis: 0) }
            return t.toBytes()
        }
        return floatBytes(try outputFloats(item), dtype, shape: item.shape)
    }

    func progress(_ i: Int, _ name: String) { options.progress?(i, items.count, name) }

    // MARK: Writers

    mutating func writeGGUF(to url: URL) throws {
        let w = try GGUFWriter(path: url.path, alignment: source.ggufAlignment)
        var types: [GGMLType] = []
        for item in items {
            let t: GGMLType = switch item.target {
            case let .ggml(g), let .copyGGML(g): g
            case let .float(d): GGMLType(plain: d) ?? .f32
            case .exactAffine, .affine: .f32 // excluded by convert()'s checks
            }
            types.append(t)
        }
        for (k, v) in source.ggufMetadata where k != "general.alignment" || source.ggufAlignment != GGUFFile.defaultAlignment {
            try w.set(k, v)
        }
        if source.ggufMetadata.isEmpty {
            try w.set("general.architecture", .string(source.family?.rawValue ?? "unknown"))
        }
        if let q = options.quantization?.ggmlType {
            try w.set("general.file_type", .uint32(GGUFFileType.of(q)))
            try w.set("general.quantization_version", .uint32(2))
        } else if let f = options.floatType {
            try w.set("general.file_type", .uint32(f == .float16 ? 1 : f == .bfloat16 ? 32 : 0))
        }
        for (item, t) in zip(items, types) {
            guard item.shape.last.map({ $0 % t.blockLayout.blockSize == 0 }) ?? true else {
                throw FormatError.invalidArgument("tensor '\(item.name)' \(item.shape) cannot be stored as \(t)")
            }
            try w.addTensor(name: item.name, shape: item.shape, type: t)
        }
        try w.beginData()
        for (i, (item, t)) in zip(items, types).enumerated() {
            progress(i, item.name)
            switch item.target {
            case .copyGGML:
                try w.writeTensorData(try copiedBytes(item))
            case let .ggml(g):
                report.quantized += 1
                let v = try outputFloats(item)
                try w.writeTensorData(try GGMLBlocks.quantize(g, v))
            default:
                report.keptFloat += 1
                guard let d = t.plainDType else { throw FormatError.invalidArgument("no plain dtype for \(t)") }
                try w.writeTensorData(try plainBytes(item, d))
            }
        }
        progress(items.count, "")
        try w.finish()
    }

    mutating func writeSafeTensors(to url: URL) throws {
        var entries: [SafeTensorsEntry] = []
        var quant: [String: Any] = [:]
        var perModule: [String: [String: Int]] = [:]
        var counts = (quantized: 0, exact: 0, float: 0)
        let affineBits = options.quantization?.affineBits
        for (i, item) in items.enumerated() {
            let plan = self
            switch item.target {
            case .exactAffine, .affine:
                let module = item.name.hasSuffix(".weight") ? String(item.name.dropLast(".weight".count)) : item.name
                let rows = item.shape.dropLast().reduce(1, *), columns = item.shape.last!
                let exact: Bool = { if case .exactAffine = item.target { return true } else { return false } }()
                let gs = exact ? 32 : options.groupSize
                let bits: Int = {
                    if case let .affine(b) = item.target { return b }
                    if case .ggml(.q8_0) = item.source.storage { return 8 }
                    return 4
                }()
                if gs != options.groupSize || bits != affineBits { perModule[module] = ["group_size": gs, "bits": bits] }
                if exact { counts.exact += 1 } else { counts.quantized += 1 }
                let scaleType: DType = {
                    if exact { return .float16 }
                    if case let .plain(d) = item.source.storage, d.isFloatingPoint, d != .float64 { return options.floatType ?? d }
                    return options.floatType ?? .float32
                }()
                let computed = QuantizedCache()
                let make: () throws -> MLXAffine.Quantized = {
                    if let q = computed.value { return q }
                    plan.progress(i, item.name)
                    var q: MLXAffine.Quantized
                    if exact {
                        var r: MLXAffine.Quantized?
                        try item.source.raw { raw in
                            guard case let .ggml(g) = item.source.storage else { return }
                            r = try MLXAffine.fromGGML(g, raw, rows: rows, columns: columns)
                        }
                        q = r!
                        if let p = item.rowPermutation {
                            q.words = plan.permuteRows(q.words, p)
                            q.scales = plan.permuteRows(q.scales, p)
                            q.biases = plan.permuteRows(q.biases, p)
                        }
                    } else {
                        var v = try plan.outputFloats(item)
                        // Quantize the values as they would be stored in the float type, as mx.quantize
                        // of an array of that dtype does.
                        if scaleType != .float32 { v = Tensor(v, shape: [v.count]).asType(scaleType).asType(.float32).toArray(Float.self) }
                        let round = ScaleRounding.function(for: scaleType)
                        q = try v.withUnsafeBufferPointer { try MLXAffine.quantize($0, rows: rows, columns: columns, groupSize: gs, bits: bits, scaleRounding: round) }
                    }
                    computed.value = q
                    return q
                }
                let lead = Array(item.shape.dropLast())
                entries.append(SafeTensorsEntry(name: module + ".weight", dtype: .u32, shape: lead + [columns * bits / 32]) { sink in
                    try make().words.withUnsafeBytes { try sink($0) }
                })
                for (suffix, pick) in [("scales", \MLXAffine.Quantized.scales), ("biases", \MLXAffine.Quantized.biases)] {
                    entries.append(SafeTensorsEntry(name: module + "." + suffix, dtype: SafeTensorsDType(scaleType), shape: lead + [columns / gs]) { sink in
                        let q = try make()
                        let bytes = plan.floatBytes(q[keyPath: pick], scaleType, shape: [q[keyPath: pick].count])
                        try bytes.withUnsafeBytes { try sink($0) }
                        if suffix == "biases" { computed.value = nil }
                    })
                }
            case let .float(d):
                counts.float += 1
                entries.append(SafeTensorsEntry(name: item.name, dtype: SafeTensorsDType(d), shape: item.shape) { sink in
                    plan.progress(i, item.name)
                    try plan.plainBytes(item, d).withUnsafeBytes { try sink($0) }
                })
            case .ggml, .copyGGML:
                throw FormatError.invalidArgument("GGML block types cannot be stored in safetensors")
            }
        }
        var metadata: [String: String] = ["format": affineBits != nil ? "mlx" : "pt"]
        if let bits = affineBits {
            quant = ["group_size": options.groupSize, "bits": bits]
            for (m, p) in perModule { quant[m] = p }
            metadata["quantization"] = String(decoding: try JSONSerialization.data(withJSONObject: quant, options: [.sortedKeys]), as: UTF8.self)
        }
        if !source.ggufMetadata.isEmpty { metadata["gguf.metadata"] = try GGUFJSON.encode(source.ggufMetadata) }
        entries.sort { $0.name < $1.name }
        try SafeTensors.write(entries: entries, metadata: metadata, to: url)
        progress(items.count, "")
        report.quantized = counts.quantized
        report.exactAffine = counts.exact
        report.keptFloat = counts.float
    }

    mutating func writeNPZ(to url: URL) throws {
        var arrays: [String: Tensor] = [:]
        for (i, item) in items.enumerated() {
            progress(i, item.name)
            guard case let .float(d) = item.target else { throw FormatError.invalidArgument("NPZ holds plain arrays only") }
            let bytes = try plainBytes(item, d)
            arrays[item.name] = bytes.withUnsafeBytes { Tensor(bytes: $0, shape: item.shape, dtype: d) }
        }
        report.keptFloat = items.count
        try NPZ.write(arrays, to: url, compression: .stored)
        progress(items.count, "")
    }
}

enum ScaleRounding {
    @Sendable static func half(_ v: Float) -> Float { Float(Float16(v)) }
    @Sendable static func bfloat(_ v: Float) -> Float { Float(bitPattern: UInt32(GGMLQuantizer.bf16RoundNearestEven(v)) << 16) }
    @Sendable static func none(_ v: Float) -> Float { v }
    static func function(for d: DType) -> @Sendable (Float) -> Float {
        d == .float16 ? half : d == .bfloat16 ? bfloat : none
    }
}

final class QuantizedCache: @unchecked Sendable { var value: MLXAffine.Quantized? }

/// llama.cpp's `general.file_type` numbers for the encodings Zoo writes.
enum GGUFFileType {
    static func of(_ t: GGMLType) -> UInt32 {
        switch t {
        case .f32: 0
        case .f16: 1
        case .q4_0: 2
        case .q4_1: 3
        case .q8_0: 7
        case .q5_0: 8
        case .q5_1: 9
        case .q4_K: 15 // Q4_K_M
        case .q6_K: 18
        case .bf16: 32
        default: 0
        }
    }
}

/// GGUF metadata carried through safetensors' string metadata, with its value types, so a
/// GGUF → safetensors → GGUF round trip keeps every key (tokenizer included) unchanged.
enum GGUFJSON {
    static func encode(_ kvs: [(String, GGUFValue)]) throws -> String {
        let arr: [[Any]] = kvs.map { [$0.0, encodeValue($0.1)] }
        return String(decoding: try JSONSerialization.data(withJSONObject: arr, options: []), as: UTF8.self)
    }

    static func encodeValue(_ v: GGUFValue) -> [Any] {
        switch v {
        case let .array(t, items): return ["array", t.rawValue, items.map(encodeValue)]
        case let .string(s): return ["string", s]
        case let .bool(b): return ["bool", b]
        case let .float32(f): return ["float32", Int(f.bitPattern)]
        case let .float64(f): return ["float64", String(f.bitPattern)]
        case let .uint64(u): return ["uint64", String(u)]
        case let .int64(i): return ["int64", String(i)]
        default: return ["\(v.type)", v.intValue!]
        }
    }

    static func decode(_ json: String) throws -> [(String, GGUFValue)] {
        guard let arr = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[Any]] else {
            throw FormatError.invalidArgument("gguf.metadata is not Zoo's GGUF metadata JSON")
        }
        return try arr.map { pair in
            guard pair.count == 2, let k = pair[0] as? String, let v = pair[1] as? [Any] else {
                throw FormatError.invalidArgument("gguf.metadata entry is malformed")
            }
            return (k, try decodeValue(v))
        }
    }

    static func decodeValue(_ v: [Any]) throws -> GGUFValue {
        guard let tag = v.first as? String, v.count >= 2 else { throw FormatError.invalidArgument("gguf.metadata value is malformed") }
        let n = (v[1] as? NSNumber)
        func bad() -> FormatError { .invalidArgument("gguf.metadata value \(v) is malformed") }
        switch tag {
        case "array":
            guard v.count == 3, let raw = n?.uint32Value, let t = GGUFValueType(rawValue: raw), let items = v[2] as? [[Any]] else { throw bad() }
            return .array(t, try items.map(decodeValue))
        case "string": guard let s = v[1] as? String else { throw bad() }; return .string(s)
        case "bool": guard let b = v[1] as? Bool else { throw bad() }; return .bool(b)
        case "float32": guard let n else { throw bad() }; return .float32(Float(bitPattern: n.uint32Value))
        case "float64": guard let s = v[1] as? String, let b = UInt64(s) else { throw bad() }; return .float64(Double(bitPattern: b))
        case "uint64": guard let s = v[1] as? String, let u = UInt64(s) else { throw bad() }; return .uint64(u)
        case "int64": guard let s = v[1] as? String, let i = Int64(s) else { throw bad() }; return .int64(i)
        case "uint8": guard let n else { throw bad() }; return .uint8(n.uint8Value)
        case "int8": guard let n else { throw bad() }; return .int8(n.int8Value)
        case "uint16": guard let n else { throw bad() }; return .uint16(n.uint16Value)
        case "int16": guard let n else { throw bad() }; return .int16(n.int16Value)
        case "uint32": guard let n else { throw bad() }; return .uint32(n.uint32Value)
        case "int32": guard let n else { throw bad() }; return .int32(n.int32Value)
        default: throw bad()
        }
    }
}
