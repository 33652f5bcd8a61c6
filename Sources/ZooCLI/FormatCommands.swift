import ArgumentParser
import Engine
import Formats
import Foundation

extension Quantization: ExpressibleByArgument {}
extension TensorFileFormat: ExpressibleByArgument {}

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert weights between safetensors, GGUF and NPZ, optionally quantizing.",
        discussion: """
        Tensor names are mapped between Hugging Face and GGUF conventions for the LLaMA and GPT-2
        families. GGUF block types (q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q6_k) go to .gguf; MLX affine
        layouts (affine8 affine4) go to .safetensors. Norms, biases, vectors and small tensors stay float.
        The output is written to a temporary file and renamed only when complete.
        """)

    @Argument(help: "Input: .gguf, .safetensors (or a folder / index .json of shards), .npz") var input: String
    @Argument(help: "Output file") var output: String
    @Option(help: "Output format (default: from the output's extension): safetensors, gguf, npz") var to: TensorFileFormat?
    @Option(help: "Quantization: q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q6_k affine8 affine4") var quantize: Quantization?
    @Option(help: "Float type for float tensors: float16, bfloat16, float32") var dtype: String?
    @Option(help: "Group size for affine quantization (32, 64, 128)") var groupSize = 64

    func run() throws {
        var options = ConversionOptions(format: to, quantization: quantize)
        if let dtype {
            guard let d = DType(name: dtype) else { throw ValidationError("unknown dtype '\(dtype)'") }
            options.floatType = d
        }
        options.groupSize = groupSize
        let size = (try? FileManager.default.attributesOfItem(atPath: input)[.size] as? Int) ?? 0
        let bar = ProgressBar(enabled: isatty(2) != 0 && size > 100_000_000)
        options.progress = { done, total, name in bar.update(done, total, name) }
        let start = Date()
        do {
            let report = try Formats.convert(from: URL(fileURLWithPath: input), to: URL(fileURLWithPath: output), options: options)
            bar.finish()
            print("wrote \(output): \(report) in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
        } catch {
            bar.finish()
            throw CLIError(error.localizedDescription)
        }
    }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a tensor file's metadata and tensor table (.gguf, .safetensors, .npz, .npy).")

    @Argument(help: "The file") var file: String
    @Flag(help: "Machine-readable output") var json = false
    @Option(help: "Show at most this many metadata values of arrays") var maxArray = 8

    struct Row: Encodable { let name: String; let dtype: String; let shape: [Int]; let bytes: Int }
    struct Report: Encodable {
        let file: String
        let format: String
        var version: Int?
        var metadata: [String: String]
        var tensors: [Row]
        var totalBytes: Int
        var totalParameters: Int
    }

    func run() throws {
        do { try inspect() } catch { throw CLIError(error.localizedDescription) }
    }

    func inspect() throws {
        let url = URL(fileURLWithPath: file)
        var report: Report
        switch (file as NSString).pathExtension.lowercased() {
        case "gguf":
            let f = try GGUF.read(url)
            var meta: [String: String] = [:]
            for k in f.metadataKeys { meta[k] = describe(f.metadata[k]!) }
            report = Report(file: file, format: "gguf", version: Int(f.version), metadata: meta,
                            tensors: f.tensorInfos.map { Row(name: $0.name, dtype: $0.type.description, shape: $0.shape, bytes: $0.byteCount) },
                            totalBytes: 0, totalParameters: 0)
        case "npz", "npy":
            let arrays = file.hasSuffix(".npy") ? ["array": try NPY.read(url)] : try NPZ.read(url)
            report = Report(file: file, format: file.hasSuffix(".npy") ? "npy" : "npz", metadata: [:],
                            tensors: arrays.keys.sorted().map { let t = arrays[$0]!; return Row(name: $0, dtype: t.dtype.description, shape: t.shape, bytes: t.nbytes) },
                            totalBytes: 0, totalParameters: 0)
        default:
            let ck = try SafeTensorsCheckpoint(url: url)
            let rows = ck.names.map { n -> Row in
                let (_, i) = ck.info(named: n)!
                return Row(name: n, dtype: i.dtype.rawValue, shape: i.shape, bytes: i.byteCount)
            }
            report = Report(file: file, format: "safetensors", metadata: ck.metadata.mapValues { $0.count > 200 ? "\($0.prefix(197))…" : $0 },
                            tensors: rows, totalBytes: 0, totalParameters: 0)
        }
        report.totalBytes = report.tensors.reduce(0) { $0 + $1.bytes }
        report.totalParameters = report.tensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(report), as: UTF8.self))
            return
        }
        print("\(report.file): \(report.format)\(report.version.map { " v\($0)" } ?? "")")
        if !report.metadata.isEmpty {
            print("\nmetadata (\(report.metadata.count)):")
            let width = min(48, report.metadata.keys.map(\.count).max() ?? 0)
            for k in report.metadata.keys.sorted() { print("  \(k.padding(toLength: width, withPad: " ", startingAt: 0))  \(report.metadata[k]!)") }
        }
        print("\ntensors (\(report.tensors.count)):")
        let nameWidth = min(60, report.tensors.map(\.name.count).max() ?? 0)
        for r in report.tensors {
            let shape = "[" + r.shape.map(String.init).joined(separator: ", ") + "]"
            print("  \(r.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0))  \(r.dtype.padding(toLength: 8, withPad: " ", startingAt: 0))  \(shape.padding(toLength: 16, withPad: " ", startingAt: 0))  \(formatBytes(r.bytes))")
        }
        print("\ntotal: \(report.tensors.count) tensors, \(report.totalParameters) values, \(formatBytes(report.totalBytes))")
    }

    func describe(_ v: GGUFValue) -> String {
        if case let .array(t, items) = v, items.count > maxArray {
            return "[\(t)] × \(items.count): " + items.prefix(maxArray).map(\.description).joined(separator: ", ") + ", …"
        }
        return v.description
    }
}

func formatBytes(_ n: Int) -> String {
    let d = Double(n)
    if d >= 1e9 { return String(format: "%.2f GB", d / 1e9) }
    if d >= 1e6 { return String(format: "%.2f MB", d / 1e6) }
    if d >= 1e3 { return String(format: "%.1f kB", d / 1e3) }
    return "\(n) B"
}

/// An error printed as its message (no stack of Swift type names) with a non-zero status.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// A one-line progress bar on stderr, drawn only on a terminal.
final class ProgressBar: @unchecked Sendable {
    let enabled: Bool
    private let lock = NSLock()
    private var last = -1
    init(enabled: Bool) { self.enabled = enabled }

    func update(_ done: Int, _ total: Int, _ name: String) {
        guard enabled, total > 0 else { return }
        lock.lock(); defer { lock.unlock() }
        let pct = done * 100 / total
        guard pct != last else { return }
        last = pct
        let width = 30, filled = width * done / total
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write("\r[\(bar)] \(String(format: "%3d", pct))% \(name.prefix(40).padding(toLength: 40, withPad: " ", startingAt: 0))".data(using: .utf8)!)
    }

    func finish() {
        guard enabled, last >= 0 else { return }
        FileHandle.standardError.write("\n".data(using: .utf8)!)
    }
}
