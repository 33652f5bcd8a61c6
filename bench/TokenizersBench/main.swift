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
default:
    exit(2)
}
