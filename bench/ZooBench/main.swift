// ZooBench: the Zoo side of `make bench`.
//
//   ZooBench list                         benchmark names and default arguments
//   ZooBench NAME [key=value ...] [--json]
//                                         run one benchmark once (warm-up plus timed calls)
//   ZooBench serve                        read requests "NAME key=value ..." from stdin, one
//                                         per line, answer each with one line "RESULT {json}"
//   ZooBench vulkan_info                  the Vulkan device and its memory types (exit 2: none)
//   ZooBench vulkan_check [size=small|full] [perf=0] [repeat=N]
//                                         every Vulkan kernel against the CPU, timings, memory
//                                         paths (VulkanCheck.swift); exit 1 on a failed case,
//                                         2 without a Vulkan device
//
// Common keys: min_time (seconds of timed calls wanted, default 0.3), min_reps (3),
// max_reps (30), warmup (1). The driver tools/bench_peers.py runs this beside the
// Python peers (MLX, NumPy, PyTorch), alternating, and computes medians and ratios.

import Engine
import Foundation

func parseRequest(_ words: [String]) -> (String, [String: String], Bool)? {
    guard let name = words.first else { return nil }
    var args: [String: String] = [:]
    var json = false
    for w in words.dropFirst() {
        if w == "--json" { json = true; continue }
        let parts = w.split(separator: "=", maxSplits: 1).map(String.init)
        if parts.count == 2 { args[parts[0]] = parts[1] } else { args[w] = "1" }
    }
    return (name, args, json)
}

func resultJSON(_ name: String, _ args: [String: String], _ r: Result<BenchResult, Error>) -> String {
    var kv: [(String, String)] = [("side", JSON.string("zoo")), ("bench", JSON.string(name)),
                                  ("args", JSON.object(args.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }))]
    switch r {
    case .success(let res):
        kv.append(("ok", JSON.bool(true)))
        kv.append(("seconds", JSON.number(median(res.samples))))
        kv.append(("samples", JSON.array(res.samples.map { JSON.number($0) })))
        kv.append(contentsOf: res.extra)
    case .failure(let e):
        kv.append(("ok", JSON.bool(false)))
        kv.append(("error", JSON.string("\(e)")))
    }
    return JSON.object(kv)
}

let runner = ZooRunner()
let argv = Array(CommandLine.arguments.dropFirst())

switch argv.first {
case nil, "-h", "--help", "help":
    print("usage: ZooBench list | serve | NAME [key=value ...] [--json]")
    for (n, d) in benchmarkNames { print("  \(n.padding(toLength: 18, withPad: " ", startingAt: 0)) \(d)") }
    print("  vulkan_check       size=small|full perf=1 repeat=40  every Vulkan kernel against the CPU (exit 1 on failure)")
case "list":
    for (n, _) in benchmarkNames { print(n) }
case "vulkan_info":
    exit(runVulkanInfo())
case "vulkan_check":
    let (_, args, _) = parseRequest(argv)!
    exit(runVulkanCheck(args))
case "serve":
    print("READY")
    fflush(nil)
    while let line = readLine() {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let (name, args, _) = parseRequest(words) else { continue }
        if name == "quit" { break }
        let r = Result { try runner.run(name, args) }
        print("RESULT " + resultJSON(name, args, r))
        fflush(nil)
    }
default:
    let (name, args, json) = parseRequest(argv)!
    let r = Result { try runner.run(name, args) }
    if json {
        print(resultJSON(name, args, r))
    } else {
        switch r {
        case .success(let res):
            let m = median(res.samples)
            print("\(name): median \(String(format: "%.6f", m)) s over \(res.samples.count) calls"
                  + res.extra.map { "  \($0.0)=\($0.1)" }.joined())
        case .failure(let e):
            print("\(name): error: \(e)")
            exit(1)
        }
    }
}
