// Timing and small helpers for ZooBench.

import Foundation

let benchClock = ContinuousClock()

func seconds(_ d: Duration) -> Double {
    let c = d.components
    return Double(c.seconds) + Double(c.attoseconds) * 1e-18
}

/// Seconds taken by `body`.
@inline(never)
func timeOnce(_ body: () -> Void) -> Double {
    let t0 = benchClock.now
    body()
    return seconds(benchClock.now - t0)
}

/// How many times to run a benchmark body inside one sample.
struct RepPolicy {
    var warmup = 1
    var minReps = 3
    var maxReps = 30
    /// Stop adding repetitions once the measured ones add up to this many seconds.
    var minTotal = 0.3
}

/// Runs `warmup` untimed calls, then timed calls until both `minReps` and
/// `minTotal` seconds are reached (or `maxReps`). `body` returns the seconds
/// of the part it times (so it can leave set-up and tear-down out).
func measure(_ p: RepPolicy, _ body: () -> Double) -> [Double] {
    for _ in 0..<p.warmup { _ = body() }
    var times: [Double] = []
    var total = 0.0
    while times.count < p.maxReps && (times.count < p.minReps || total < p.minTotal) {
        let t = body()
        times.append(t)
        total += t
    }
    return times
}

func median(_ xs: [Double]) -> Double {
    precondition(!xs.isEmpty)
    let s = xs.sorted()
    let m = s.count / 2
    return s.count % 2 == 1 ? s[m] : 0.5 * (s[m - 1] + s[m])
}

/// Deterministic pseudo-random floats in [low, high) (xorshift64*), so inputs
/// cost no engine op to make.
func pseudoRandomFloats(_ count: Int, low: Float = 0, high: Float = 1, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [Float] {
    var state = seed | 1
    let scale = (high - low) / Float(1 << 24)
    return [Float](unsafeUninitializedCapacity: count) { buf, n in
        for i in 0..<count {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            let r = (state &* 0x2545_F491_4F6C_DD1D) >> 40  // 24 random bits
            buf[i] = low + Float(r) * scale
        }
        n = count
    }
}

/// Minimal JSON writing for result lines: values are JSON texts already.
enum JSON {
    static func number(_ d: Double) -> String { d.isFinite ? "\(d)" : "null" }
    static func bool(_ b: Bool) -> String { b ? "true" : "false" }
    static func array(_ xs: [String]) -> String { "[" + xs.joined(separator: ",") + "]" }
    static func object(_ kv: [(String, String)]) -> String {
        "{" + kv.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }
    static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
