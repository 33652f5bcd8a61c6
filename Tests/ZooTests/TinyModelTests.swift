import Engine
import Formats
import Foundation
import Tokenizers
@testable import Zoo
import XCTest

/// Tiny random-configuration LLaMA models written as GGUF files: no downloads.
final class TinyModelTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-tiny-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    struct Spec {
        var hidden = 64, ffn = 96, layers = 2, heads = 4, kvHeads = 2, vocab = 80, context = 64
        var arch = "llama"
        var skip: String? = nil
        var wrongShape: String? = nil
        var quantized = true
        var tied = true
    }

    /// Writes a random model; matrices alternate between Q8_0, Q4_1 and F32.
    func tinyGGUF(_ s: Spec = Spec(), name: String = "tiny.gguf") throws -> URL {
        let url = dir.appendingPathComponent(name)
        let w = try GGUFWriter(path: url.path)
        try w.set("general.architecture", .string(s.arch))
        for (k, v) in [("block_count", s.layers), ("embedding_length", s.hidden), ("feed_forward_length", s.ffn),
                       ("attention.head_count", s.heads), ("attention.head_count_kv", s.kvHeads), ("context_length", s.context)] {
            try w.set("\(s.arch).\(k)", .uint32(UInt32(v)))
        }
        try w.set("\(s.arch).attention.layer_norm_rms_epsilon", .float32(1e-5))
        try w.set("\(s.arch).rope.freq_base", .float32(10000))
        let hd = s.hidden / s.heads
        var tensors: [(String, [Int])] = [("token_embd.weight", [s.vocab, s.hidden]), ("output_norm.weight", [s.hidden])]
        if !s.tied { tensors.append(("output.weight", [s.vocab, s.hidden])) }
        for i in 0 ..< s.layers {
            tensors += [("blk.\(i).attn_norm.weight", [s.hidden]), ("blk.\(i).ffn_norm.weight", [s.hidden]),
                        ("blk.\(i).attn_q.weight", [s.heads * hd, s.hidden]), ("blk.\(i).attn_k.weight", [s.kvHeads * hd, s.hidden]),
                        ("blk.\(i).attn_v.weight", [s.kvHeads * hd, s.hidden]), ("blk.\(i).attn_output.weight", [s.hidden, s.heads * hd]),
                        ("blk.\(i).ffn_gate.weight", [s.ffn, s.hidden]), ("blk.\(i).ffn_up.weight", [s.ffn, s.hidden]),
                        ("blk.\(i).ffn_down.weight", [s.hidden, s.ffn])]
        }
        var data: [[UInt8]] = []
        for (n, (name, shape0)) in tensors.enumerated() where name != s.skip {
            var shape = shape0
            if name == s.wrongShape { shape[0] += 32 }
            let count = shape.reduce(1, *)
            var v = Random.normal([count], key: Random.key(UInt64(n + 1))).toArray(Float.self)
            if shape.count == 1 { v = v.map { 1 + 0.1 * $0 } } else { v = v.map { $0 * 0.3 } }
            let type: GGMLType = shape.count == 1 || !s.quantized ? .f32 : [GGMLType.q8_0, .q4_1, .f32][n % 3]
            try w.addTensor(name: name, shape: shape, type: type)
            data.append(type == .f32 ? v.withUnsafeBytes(Array.init) : try GGMLBlocks.quantize(type, v))
        }
        try w.beginData()
        for d in data { try w.writeTensorData(d) }
        try w.finish()
        return url
    }

    /// `.exact` by default: the equalities below are about cache and chunk logic, so every path
    /// must compute in float32 (the int16-activation GEMV is checked on its own below).
    func load(_ url: URL, precision: QuantizedMatmulPrecision = .exact) throws -> LlamaModel {
        let f = try GGUF.read(url)
        let store = WeightStore(gguf: f)
        store.quantizedPrecision = precision
        return try LlamaModel(configuration: LlamaConfiguration(gguf: f.metadata, tensorRows: f.info(named: "token_embd.weight")?.shape.first),
                              weights: store)
    }

    /// Decoding through the int16-activation GEMV stays close to float32 decoding: within 1e-3
    /// of the logits' range at every step, and the same greedy token.
    func testInt16ActivationDecodingStaysCloseToExact() throws {
        let url = try tinyGGUF(Spec(quantized: true, tied: true), name: "i16.gguf")
        let exact = try load(url), fast = try load(url, precision: .int16Activations)
        let ids: [Int32] = [3, 17, 42, 5, 8, 61, 2, 33, 9]
        let ce = exact.newCache(maxSize: nil, keep: 4), cf = fast.newCache(maxSize: nil, keep: 4)
        for t in 0 ..< ids.count {
            let x = Tensor([ids[t]], shape: [1, 1])
            let a = exact(x, cache: ce, lastOnly: true), b = fast(x, cache: cf, lastOnly: true)
            let range = (max(a) - min(a)).item(Float.self)
            XCTAssertGreaterThan(range, 0.1)
            XCTAssertLessThan(maxDiff(a, b), 1e-3 * range, "position \(t)")
            XCTAssertEqual(argMax(a, axis: -1).item(Int32.self), argMax(b, axis: -1).item(Int32.self), "position \(t)")
        }
    }

    func maxDiff(_ a: Tensor, _ b: Tensor) -> Float { max(abs(a - b)).item(Float.self) }

    func testShapesAndCachedDecodingMatchesFullForward() throws {
        for quantized in [true, false] {
            let model = try load(try tinyGGUF(Spec(quantized: quantized, tied: quantized), name: "m\(quantized).gguf"))
            let ids: [Int32] = [3, 17, 42, 5, 8, 61, 2, 33, 9]
            let full = model(Tensor(ids, shape: [1, ids.count]), cache: model.newCache(maxSize: nil, keep: 4), lastOnly: false)
            XCTAssertEqual(full.shape, [1, ids.count, 80])
            let cache = model.newCache(maxSize: nil, keep: 4)
            let first = model(Tensor(Array(ids[0 ..< 4]), shape: [1, 4]), cache: cache, lastOnly: false)
            XCTAssertLessThan(maxDiff(first, full[0..., 0 ..< 4, 0...]), 1e-4)
            for t in 4 ..< ids.count {
                let step = model(Tensor([ids[t]], shape: [1, 1]), cache: cache, lastOnly: false)
                XCTAssertEqual(step.shape, [1, 1, 80])
                XCTAssertLessThan(maxDiff(step, full[0..., t ..< t + 1, 0...]), 1e-4, "position \(t), quantized \(quantized)")
            }
            XCTAssertEqual(cache[0].offset, ids.count)
            let last = model(Tensor(ids, shape: [1, ids.count]), cache: model.newCache(maxSize: nil, keep: 4), lastOnly: true)
            XCTAssertEqual(last.shape, [1, 1, 80])
            XCTAssertLessThan(maxDiff(last, full[0..., (ids.count - 1)..., 0...]), 1e-5)
        }
    }

    func testChunkedAndWholePrefillAgree() throws {
        let model = try load(try tinyGGUF())
        let prompt = (0 ..< 23).map { ($0 * 7 + 3) % 80 }
        var whole = GenerateParameters(maxTokens: 12)
        whole.prefillChunk = 512
        var chunked = whole
        chunked.prefillChunk = 5
        let a = try TokenGenerator(model: model, prompt: prompt, parameters: whole)
        let b = try TokenGenerator(model: model, prompt: prompt, parameters: chunked)
        var ta: [Int] = [], tb: [Int] = []
        while let t = a.next() { ta.append(t) }
        while let t = b.next() { tb.append(t) }
        XCTAssertEqual(ta.count, 12)
        XCTAssertEqual(ta, tb)
        let ka = a.kvCache[1].state[0], kb = b.kvCache[1].state[0]
        XCTAssertEqual(ka.shape, kb.shape)
        XCTAssertLessThan(maxDiff(ka, kb), 1e-4)
    }

    func testGreedyEqualsArgmaxOfFullForward() throws {
        let model = try load(try tinyGGUF(Spec(tied: false)))
        let prompt = [1, 2, 3, 4]
        let g = try TokenGenerator(model: model, prompt: prompt, parameters: GenerateParameters(maxTokens: 6))
        var seq = prompt
        while let t = g.next() {
            let logits = model(Tensor(seq.map { Int32($0) }, shape: [1, seq.count]), cache: model.newCache(maxSize: nil, keep: 4), lastOnly: true)
            XCTAssertEqual(t, Int(argMax(logits.reshaped([-1])).item(Int32.self)))
            seq.append(t)
        }
        XCTAssertEqual(seq.count, 10)
    }

    func testSamplingIsSeededAndRespectsTopK() throws {
        let model = try load(try tinyGGUF())
        var p = GenerateParameters(maxTokens: 10, temperature: 1.0, topK: 3, seed: 7)
        func run(_ p: GenerateParameters) throws -> [Int] {
            let g = try TokenGenerator(model: model, prompt: [5, 6, 7], parameters: p)
            var out: [Int] = []
            while let t = g.next() { out.append(t) }
            return out
        }
        let a = try run(p), b = try run(p)
        XCTAssertEqual(a, b, "same seed, same tokens")
        p.seed = 8
        let c = try run(p)
        XCTAssertEqual(c.count, 10)
        // Each sampled token is among the top 3 of its step's logits.
        var seq = [5, 6, 7]
        for t in a {
            let logits = model(Tensor(seq.map { Int32($0) }, shape: [1, seq.count]), cache: model.newCache(maxSize: nil, keep: 4), lastOnly: true).reshaped([-1])
            let top = argSort(-logits).toArray(Int32.self).prefix(3).map(Int.init)
            XCTAssertTrue(top.contains(t), "token \(t) not in top-3 \(top)")
            seq.append(t)
        }
        for (name, bad) in [("temperature", GenerateParameters(temperature: -1)), ("topP", GenerateParameters(topP: 0)),
                            ("repetitionPenalty", GenerateParameters(repetitionPenalty: 0))] {
            XCTAssertThrowsError(try TokenGenerator(model: model, prompt: [1], parameters: bad), name)
        }
    }

    func testRotatingCacheMatchesStandardWithinItsWindow() throws {
        let model = try load(try tinyGGUF())
        var p = GenerateParameters(maxTokens: 8)
        let a = try TokenGenerator(model: model, prompt: [9, 8, 7, 6], parameters: p)
        p.maxKVSize = 32
        let b = try TokenGenerator(model: model, prompt: [9, 8, 7, 6], parameters: p)
        var ta: [Int] = [], tb: [Int] = []
        while let t = a.next() { ta.append(t) }
        while let t = b.next() { tb.append(t) }
        XCTAssertEqual(ta, tb)
        // Past its window the rotating cache stays bounded.
        p.maxKVSize = 6
        p.maxTokens = 20
        let c = try TokenGenerator(model: model, prompt: [9, 8, 7, 6], parameters: p)
        while c.next() != nil {}
        XCTAssertLessThanOrEqual(c.kvCache[0].state[0].dim(2), 6)
    }

    func testBadModelsThrowNamedErrors() throws {
        XCTAssertThrowsError(try load(try tinyGGUF(Spec(skip: "blk.1.ffn_up.weight"), name: "a.gguf"))) { e in
            XCTAssertEqual(e as? ZooError, .missingTensor("blk.1.ffn_up.weight", in: self.dir.appendingPathComponent("a.gguf").path))
        }
        XCTAssertThrowsError(try load(try tinyGGUF(Spec(wrongShape: "blk.0.attn_k.weight"), name: "b.gguf"))) { e in
            XCTAssertEqual(e as? ZooError, .tensorShape("blk.0.attn_k.weight", expected: [32, 64], actual: [64, 64]))
        }
        XCTAssertThrowsError(try ModelRegistry.loadLocal(try tinyGGUF(Spec(arch: "mamba"), name: "c.gguf"))) { e in
            XCTAssertEqual(e as? ZooError, .unsupportedArchitecture("mamba"))
        }
        let model = try load(try tinyGGUF())
        XCTAssertThrowsError(try TokenGenerator(model: model, prompt: Array(repeating: 1, count: 65), parameters: GenerateParameters())) { e in
            XCTAssertEqual(e as? ZooError, .promptTooLong(tokens: 65, context: 64))
        }
        XCTAssertThrowsError(try TokenGenerator(model: model, prompt: [], parameters: GenerateParameters()))
    }
}
