// The Zoo side of the Formats benchmarks (driver: tools/bench_formats.py).

import Engine
import Formats
import Foundation

/// `st_read path=FILE`: open a safetensors file and sum every tensor, so every byte is read.
/// `gguf_q8 in=FILE out=FILE`: convert a GGUF file to Q8_0 (as `zoo convert --quantize q8_0`).
func formatBenchmark(_ name: String, _ args: [String: String], _ policy: RepPolicy) throws -> BenchResult? {
    switch name {
    case "st_read":
        guard let path = args["path"] else { throw BenchError(description: "st_read needs path=") }
        var total = 0.0
        var failure: Error?
        let samples = measure(policy) {
            timeOnce {
                do {
                    let f = try SafeTensorsFile(path: path)
                    var sums: [Tensor] = []
                    for info in f.infos { sums.append(sum(try f.tensor(named: info.name).asType(.float32))) }
                    eval(sums)
                    total = sums.reduce(0.0) { $0 + Double($1.item(Float.self)) }
                } catch { failure = error }
            }
        }
        if let failure { throw failure }
        return BenchResult(samples: samples, extra: [("checksum", JSON.number(total))])
    case "gguf_q8":
        guard let input = args["in"], let output = args["out"] else { throw BenchError(description: "gguf_q8 needs in= and out=") }
        var failure: Error?
        let samples = measure(policy) {
            timeOnce {
                do {
                    try convert(from: URL(fileURLWithPath: input), to: URL(fileURLWithPath: output), quantization: .q8_0)
                } catch { failure = error }
            }
        }
        if let failure { throw failure }
        return BenchResult(samples: samples)
    default:
        return nil
    }
}
