// Tokenizer benchmark: load time and single-thread encode throughput, printed as JSON lines.
//   TokenizersBench load PATH ROUNDS
//   TokenizersBench encode PATH TEXT_FILE ROUNDS
import Foundation
import Tokenizers

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }

let args = CommandLine.arguments
guard args.count >= 4 else {
    FileHandle.standardError.write(Data("usage: TokenizersBench load PATH ROUNDS | encode PATH TEXT_FILE ROUNDS\n".utf8))
    exit(2)
}
let url = URL(fileURLWithPath: args[2])
switch args[1] {
case "load":
    let rounds = Int(args[3]) ?? 5
    var times: [Double] = []
    for _ in 0..<rounds {
        let t0 = now()
        let tok = try Tokenizers.load(from: url)
        times.append(now() - t0)
        precondition(tok.vocabularySize > 0)
    }
    print("{\"what\": \"load\", \"seconds\": \(median(times))}")
case "encode":
    let text = try String(contentsOfFile: args[3], encoding: .utf8)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let bytes = Double(text.utf8.count)
    let rounds = Int(args[4]) ?? 3
    let tok = try Tokenizers.load(from: url)
    var times: [Double] = []
    var count = 0
    for _ in 0..<rounds {
        let t0 = now()
        count = 0
        for line in lines { count += tok.encode(line, addSpecialTokens: false).count }
        times.append(now() - t0)
    }
    let t = median(times)
    print("{\"what\": \"encode\", \"seconds\": \(t), \"mb_per_s\": \(bytes / t / 1e6), \"tokens\": \(count)}")
case "phases":
    // Where load time goes: parsing vs building.
    let rounds = Int(args[3]) ?? 3
    for _ in 0..<rounds {
        if url.pathExtension == "gguf" {
            let t0 = now()
            let meta = try GGUFMetadata(url: url)
            let t1 = now()
            _ = try GGUFTokenizer.make(meta)
            let t2 = now()
            print("{\"what\": \"phases\", \"metadata_s\": \(t1 - t0), \"build_s\": \(t2 - t1)}")
        } else {
            let data = try Data(contentsOf: url.appendingPathComponent("tokenizer.json"))
            let t0 = now()
            _ = try JSONValue.parse(data)
            let t1 = now()
            _ = try HFTokenizer(json: data)
            let t2 = now()
            print("{\"what\": \"phases\", \"json_parse_s\": \(t1 - t0), \"parse_and_build_s\": \(t2 - t1)}")
        }
    }
default:
    exit(2)
}
