import ArgumentParser
import Engine
import Foundation
import Tokenizers

struct ZooCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zoo",
        abstract: "Zoo: a machine-learning stack in Swift.",
        subcommands: [Demo.self, Devices.self, List.self, Info.self, Fetch.self, Generate.self, Chat.self, Embed.self, Convert.self, Inspect.self, Tokenize.self])
}

/// Builds a small graph, evaluates it on the CPU and (when present) the Vulkan GPU,
/// and prints results and timings.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a small lazy graph on every available device.")

    @Option(help: "Matrix size for the timed matmul.") var size = 512

    func run() throws {
        print("Zoo demo — lazy tensors on \(Device.cpu.info)\(Device.gpu.isAvailable ? " and \(Device.gpu.info)" : "")\n")
        let key = Random.key(0)
        let keys = Random.split(key, count: 2)
        let a = Random.normal([size, size], key: keys[0])
        let b = Random.uniform(low: -1, high: 1, [size, size], key: keys[1])
        eval(a, b)
        var devices: [Device] = [.cpu]
        if Device.gpu.isAvailable { devices.append(.gpu) } else { print("(no Vulkan device: GPU part skipped)\n") }
        var results: [Device: Tensor] = [:]
        for device in devices {
            try withDevice(device) {
                // A graph: softmax(relu(a @ b) / sqrt(n)) summed per row, plus elementwise work.
                let start = DispatchTime.now()
                let h = maximum(matmul(a, b), 0) / Float(size).squareRoot()
                let p = softmax(h, axis: -1)
                let rowMax = p.max(axes: [1])
                let score = sum(exp(-square(a)) * b) / Float(size * size)
                eval(rowMax, score)
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
                print("\(device): matmul \(size)x\(size) + softmax + reductions in \(String(format: "%.2f", ms)) ms")
                print("  row max of softmax[0..<4]: \(rowMax[0..<4])")
                print("  score: \(score.item(Float.self))")
                results[device] = rowMax
                _ = try withError { score }
            }
        }
        if let c = results[.cpu], let g = results[.gpu] {
            let diff = max(abs(c - g)).item(Float.self)
            print("\nmax |cpu - gpu| = \(diff)")
        }
        print("\nMemory: active \(Memory.activeBytes / 1024) KiB, peak \(Memory.peakBytes / 1024) KiB, cache \(Memory.cacheBytes / 1024) KiB")
    }
}

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the devices Zoo can run on.")
    func run() {
        print("cpu: \(Device.cpu.info)")
        print("gpu: \(Device.gpu.isAvailable ? Device.gpu.info : "not available (no Vulkan device)")")
    }
}

/// Encodes text with any tokenizer Zoo reads and prints ids and token pieces.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tokenize text with a tokenizer folder (tokenizer.json, *.model) or a .gguf file.")

    @Argument(help: "A folder with tokenizer.json or a SentencePiece .model, or a tokenizer.json/.model/.gguf file.")
    var path: String
    @Argument(help: "The text to encode.") var text: String
    @Flag(help: "Print JSON: ids, tokens and the decoded text.") var json = false
    @Flag(help: "Do not add special tokens (BOS, [CLS], …).") var noSpecialTokens = false

    func run() throws {
        let tokenizer = try Tokenizers.load(from: URL(fileURLWithPath: path))
        let ids = tokenizer.encode(text, addSpecialTokens: !noSpecialTokens)
        let pieces = ids.map { tokenizer.token(for: $0) ?? "" }
        let decoded = tokenizer.decode(ids)
        if json {
            let object: [String: Any] = ["ids": ids, "tokens": pieces, "decoded": decoded, "count": ids.count]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("\(ids.count) tokens")
            for (id, piece) in zip(ids, pieces) { print("\(id)\t\(piece.debugDescription)") }
            print("decoded: \(decoded.debugDescription)")
        }
    }
}

ZooCommand.main()
