import Engine
import Foundation
@testable import Formats
import XCTest

final class ConvertTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func u(_ name: String) -> URL { dir.appendingPathComponent(name) }

    func values(_ n: Int, seed: UInt64) -> [Float] { Random.normal([n], key: Random.key(seed)).toArray(Float.self) }

    /// A tiny LLaMA-style GGUF: 2 heads of 32, 1 KV head.
    func tinyLlama() throws -> URL {
        let url = u("tiny.gguf")
        let w = try GGUFWriter(path: url.path)
        try w.set("general.architecture", .string("llama"))
        try w.set("llama.attention.head_count", .uint32(2))
        try w.set("llama.attention.head_count_kv", .uint32(1))
        try w.set("tokenizer.ggml.tokens", .array(.string, [.string("a"), .string("b")]))
        let tensors: [(String, [Int], GGMLType)] = [
            ("token_embd.weight", [96, 64], .q8_0), ("blk.0.attn_norm.weight", [64], .f32),
            ("blk.0.attn_q.weight", [64, 64], .f32), ("blk.0.attn_k.weight", [32, 64], .q4_1),
            ("blk.0.ffn_up.weight", [128, 64], .f16), ("output_norm.weight", [64], .f32),
        ]
        var data: [[UInt8]] = []
        for (i, (name, shape, type)) in tensors.enumerated() {
            try w.addTensor(name: name, shape: shape, type: type)
            let v = values(shape.reduce(1, *), seed: UInt64(i))
            switch type {
            case .f32: data.append(v.withUnsafeBytes(Array.init))
            case .f16: data.append(Tensor(v).asType(.float16).toBytes())
            default: data.append(try GGMLBlocks.quantize(type, v))
            }
        }
        try w.beginData()
        for d in data { try w.writeTensorData(d) }
        try w.finish()
        return url
    }

    func testGGUFToSafeTensorsAndBackKeepsNamesOrderAndMetadata() throws {
        let src = try tinyLlama()
        let st = u("tiny.safetensors")
        let r1 = try convert(from: src, to: st)
        XCTAssertEqual(r1.family, .llama)
        let (tensors, meta) = try SafeTensors.read(st)
        XCTAssertEqual(Set(tensors.keys), ["model.embed_tokens.weight", "model.layers.0.input_layernorm.weight",
                                           "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                                           "model.layers.0.mlp.up_proj.weight", "model.norm.weight"])
        XCTAssertNotNil(meta["gguf.metadata"])
        let g = try GGUF.read(src)
        // Q rows come back in Hugging Face order: row h*32 + j*16 + i is GGUF row h*32 + 2i + j.
        let q = try g.tensor(named: "blk.0.attn_q.weight").toArray(Float.self)
        let hf = tensors["model.layers.0.self_attn.q_proj.weight"]!.toArray(Float.self)
        for h in 0 ..< 2 { for i in 0 ..< 16 { for j in 0 ..< 2 {
            XCTAssertEqual(Array(hf[(h * 32 + j * 16 + i) * 64 ..< (h * 32 + j * 16 + i + 1) * 64]),
                           Array(q[(h * 32 + 2 * i + j) * 64 ..< (h * 32 + 2 * i + j + 1) * 64]))
        } } }
        // And back: the same GGUF tensors, F16 kept F16, dequantized blocks now F32 with equal values.
        let back = u("back.gguf")
        try convert(from: st, to: back)
        let b = try GGUF.read(back)
        XCTAssertEqual(b.metadataKeys, g.metadataKeys)
        for k in g.metadataKeys { XCTAssertEqual(b.metadata[k], g.metadata[k], k) }
        XCTAssertEqual(Set(b.tensorInfos.map(\.name)), Set(g.tensorInfos.map(\.name)))
        for t in g.tensorInfos {
            XCTAssertEqual(try b.dequantized(named: t.name).toArray(Float.self), try g.dequantized(named: t.name).toArray(Float.self), t.name)
        }
        XCTAssertEqual(b.info(named: "blk.0.ffn_up.weight")?.type, .f16)
        XCTAssertEqual(b.info(named: "token_embd.weight")?.type, .f32)
    }

    func testQuantizationPolicyAndFallbacks() throws {
        let src = try tinyLlama()
        let out = u("q4k.gguf")
        var o = ConversionOptions(quantization: .q4_k)
        o.minQuantizedElements = 1024
        try convert(from: src, to: out, options: o)
        let f = try GGUF.read(out)
        XCTAssertEqual(f.info(named: "blk.0.attn_norm.weight")?.type, .f32, "norms stay F32")
        XCTAssertEqual(f.info(named: "blk.0.attn_q.weight")?.type, .q8_0, "64 columns are not whole Q4_K blocks: Q8_0")
        XCTAssertEqual(f.info(named: "blk.0.attn_k.weight")?.type, .q8_0)
        XCTAssertEqual(f.metadata["general.file_type"], .uint32(15))
        // Same-type blocks are copied, not re-encoded.
        let q8 = u("q8.gguf")
        try convert(from: src, to: q8, quantization: .q8_0)
        let g = try GGUF.read(q8), s = try GGUF.read(src)
        let a = try g.withRawBytes(g.info(named: "token_embd.weight")!) { Array($0) }
        let b = try s.withRawBytes(s.info(named: "token_embd.weight")!) { Array($0) }
        XCTAssertEqual(a, b)
    }

    func testAffineFromBlocksIsExactAndRecorded() throws {
        let src = try tinyLlama()
        let out = u("a4.safetensors")
        var o = ConversionOptions(quantization: .affine4)
        o.minQuantizedElements = 1024
        try convert(from: src, to: out, options: o)
        let f = try SafeTensorsFile(url: out)
        XCTAssertEqual(f.metadata["format"], "mlx")
        let quant = try JSONSerialization.jsonObject(with: Data(f.metadata["quantization"]!.utf8)) as! [String: Any]
        XCTAssertEqual(quant["bits"] as? Int, 4)
        XCTAssertEqual((quant["model.layers.0.self_attn.k_proj"] as? [String: Int])?["group_size"], 32, "Q4_1 converted exactly, group 32")
        // Read back through the converter's affine path: values equal the GGUF's (rows in HF order).
        let back = u("a4-back.gguf")
        try convert(from: out, to: back)
        let b = try GGUF.read(back), s = try GGUF.read(src)
        XCTAssertEqual(try b.dequantized(named: "blk.0.attn_k.weight").toArray(Float.self),
                       try s.dequantized(named: "blk.0.attn_k.weight").toArray(Float.self))
    }

    func testGPT2Conv1DWeightsAreTransposed() throws {
        let w = Tensor(values(64 * 192, seed: 3), shape: [64, 192])
        let st = u("gpt2.safetensors")
        try SafeTensors.write(["h.0.attn.c_attn.weight": w, "h.0.ln_1.weight": ones([64]), "wte.weight": ones([10, 64])], to: st)
        let g = u("gpt2.gguf")
        let r = try convert(from: st, to: g)
        XCTAssertEqual(r.family, .gpt2)
        let f = try GGUF.read(g)
        let t = try f.tensor(named: "blk.0.attn_qkv.weight")
        XCTAssertEqual(t.shape, [192, 64])
        XCTAssertEqual(t.toArray(Float.self), w.T.toArray(Float.self))
        XCTAssertNotNil(f.info(named: "blk.0.attn_norm.weight"))
        XCTAssertNotNil(f.info(named: "token_embd.weight"))
        let back = u("gpt2-back.safetensors")
        try convert(from: g, to: back)
        XCTAssertEqual(try SafeTensors.read(back).tensors["h.0.attn.c_attn.weight"]!.toArray(Float.self), w.toArray(Float.self))
    }

    func testBadRequestsThrowAndLeaveNothingBehind() throws {
        let src = try tinyLlama()
        XCTAssertThrowsError(try convert(from: src, to: u("x.safetensors"), quantization: .q4_0))
        XCTAssertThrowsError(try convert(from: src, to: u("x.gguf"), quantization: .affine4))
        XCTAssertThrowsError(try convert(from: src, to: u("x.bin")))
        XCTAssertThrowsError(try convert(from: u("missing.gguf"), to: u("x.gguf"))) { e in
            XCTAssertTrue((e as? FormatError).map { if case .io = $0 { true } else { false } } ?? false, "\(e)")
        }
        XCTAssertThrowsError(try convert(from: src, to: u("no/such/dir/x.gguf")))
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") || $0.hasPrefix("x.") }
        XCTAssertEqual(left, [], "no output or temporary file after failures")
    }
}
