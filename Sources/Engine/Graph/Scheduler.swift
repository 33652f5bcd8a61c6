import Foundation

/// Evaluates the unevaluated subgraph under a set of nodes in topological order.
/// Safe to call from several tasks at once: each node is scheduled exactly once;
/// a caller that needs a node scheduled elsewhere waits for it.
enum Scheduler {
    static let lock = NSCondition()
    /// Counts DFS walks (guarded by `lock`); see `Node.mark`.
    nonisolated(unsafe) private static var epoch: UInt = 0

    /// Builds the tape (topological order) of nodes that still need computing, marking them
    /// scheduled. Returns the tape and the nodes other evaluations are already computing.
    private static func schedule(_ roots: [Node]) -> (tape: [Node], foreign: [Node]) {
        var tape: [Node] = []
        var foreign: [Node] = []
        // Iterative post-order DFS (graphs can be hundreds of thousands deep). Visited nodes
        // carry this walk's epoch (no hashing: the lock is held for the whole walk, and the
        // evaluating thread waits for it).
        var stack: [(Node, Int)] = []
        lock.lock()
        epoch &+= 1
        let mark = epoch
        for root in roots {
            if root.data != nil || root.mark == mark { continue }
            stack.append((root, 0))
            root.mark = mark
            while let (node, i) = stack.popLast() {
                if node.data != nil { continue }
                if node.scheduled && i == 0 {
                    foreign.append(node)
                    continue
                }
                if i < node.inputs.count {
                    stack.append((node, i + 1))
                    let child = node.inputs[i]
                    if child.data == nil && child.mark != mark {
                        child.mark = mark
                        stack.append((child, 0))
                    }
                } else {
                    node.scheduled = true
                    for s in node.siblings { s.node?.scheduled = true }
                    tape.append(node)
                }
            }
        }
        lock.unlock()
        return (tape, foreign)
    }

    static func eval(_ roots: [Node]) {
        var (tape, foreign) = schedule(roots)
        run(&tape)
        if !foreign.isEmpty { wait(foreign) }
        // Nodes shared with another evaluation may still be in flight.
        wait(roots)
    }

    static func asyncEval(_ roots: [Node]) {
        let t0 = Profile.enabled ? DispatchTime.now().uptimeNanoseconds : 0
        let (scheduled, _) = schedule(roots)
        if Profile.enabled { Profile.record("(schedule, async)", nanoseconds: DispatchTime.now().uptimeNanoseconds - t0) }
        guard let stream = scheduled.last?.stream else { return }
        // The closure owns the only reference to the tape, which `run` empties as it goes.
        let box = TapeBox(scheduled)
        stream.queue.async { run(&box.tape) }
    }

    /// Nodes some thread is waiting for (with how many waiters), guarded by `lock`. A finished
    /// node wakes the waiters only when it is one of them: a decode step finishes hundreds of
    /// nodes while the caller waits for the last one, and waking it for each costs a context
    /// switch each time.
    nonisolated(unsafe) private static var awaited: [ObjectIdentifier: Int] = [:]

    /// Waits (lock held) until `n` has data.
    private static func waitLocked(_ n: Node) {
        let id = ObjectIdentifier(n)
        while n.data == nil {
            awaited[id, default: 0] += 1
            lock.wait()
            if let c = awaited[id], c > 1 { awaited[id] = c - 1 } else { awaited[id] = nil }
        }
    }

    private static func wait(_ nodes: [Node]) {
        lock.lock()
        for n in nodes { waitLocked(n) }
        lock.unlock()
    }

    /// Evaluates the tape, emptying it: the tape must hold the only references the scheduler
    /// keeps, so each finished node (and its buffer) is released as soon as nothing downstream
    /// needs it, and its buffer returns to the cache for the next node of the same size. (An
    /// intact tape kept every intermediate of a forward pass alive until its end: hundreds of
    /// MB for a long prompt, each one freshly faulted in.)
    private static func run(_ tape: inout [Node]) {
        tape.reverse()
        let profile = Profile.enabled
        let prefetch = CPU.cores > 1
        var lookAhead = OperandPrefetch()
        // Reused from node to node (kept capacity): a decode step runs hundreds of nodes, and
        // fresh arrays cost an allocation and a free each.
        var inputData: [ArrayData] = []
        var single: [OutputSpec] = []
        // One critical section per node: it publishes the previous node's results and gathers
        // this node's inputs (the lock is also what an `asyncEval` walk of the next graph holds,
        // so every extra acquisition is a chance to wait for it).
        var done: (node: Node, results: [ArrayData])?
        lock.lock()
        while true {
            if let (prev, results) = done {
                var wake = false
                if prev.siblings.isEmpty {
                    wake = !awaited.isEmpty && awaited[ObjectIdentifier(prev)] != nil
                    finish(prev, results[0])
                } else {
                    for s in prev.siblings {
                        if let n = s.node, n.data == nil {
                            wake = wake || (!awaited.isEmpty && awaited[ObjectIdentifier(n)] != nil)
                            finish(n, results[n.outputIndex])
                        }
                    }
                }
                if wake { lock.broadcast() }
                done = nil
            }
            guard let node = tape.popLast() else { break }
            // An input computed by another evaluation may not be ready yet.
            inputData.removeAll(keepingCapacity: true)
            for i in node.inputs {
                waitLocked(i)
                inputData.append(i.data!)
            }
            let primitive = node.primitive!
            if prefetch && streamingPrimitive(primitive) == nil { lookAhead.ahead(in: tape) }
            lock.unlock()
            let specs: [OutputSpec]
            if node.siblings.isEmpty {
                single.removeAll(keepingCapacity: true)
                single.append(OutputSpec(node.shape, node.dtype))
                specs = single
            } else {
                specs = (primitive as! MultiOutput).outputSpecs
            }
            let results: [ArrayData]
            if profile {
                let t0 = DispatchTime.now().uptimeNanoseconds
                results = execute(primitive, inputs: inputData, specs: specs, stream: node.stream)
                let key = Profile.byShape ? primitive.name + " " + fmt(specs[0].shape) : primitive.name
                Profile.record(key, nanoseconds: DispatchTime.now().uptimeNanoseconds - t0)
            } else {
                results = execute(primitive, inputs: inputData, specs: specs, stream: node.stream)
            }
            done = (node, results)
            lock.lock()
        }
        lock.unlock()
    }

    private static func finish(_ n: Node, _ data: ArrayData) {
        n.data = data
        n.primitive = nil
        n.inputs = []
        n.siblings = []
    }

    static func execute(_ p: any Primitive, inputs: [ArrayData], specs: [OutputSpec], stream: Stream) -> [ArrayData] {
        do {
            if stream.device.kind == .gpu, let gpu = Backends.gpu,
               let out = try gpu.run(p, inputs: inputs, outputs: specs) {
                return out
            }
            return try p.evalCPU(inputs, outputs: specs)
        } catch {
            let e = (error as? EngineError) ?? .evaluationFailed(op: p.name, message: "\(error)")
            reportError(e)
            return specs.map { spec in
                let a = ArrayData(allocating: spec.shape, dtype: spec.dtype)
                memset(a.writePointer, 0, max(a.count, 1) * spec.dtype.size)
                return a
            }
        }
    }
}

/// Primitives with several outputs state all their output specs.
protocol MultiOutput {
    var outputSpecs: [OutputSpec] { get }
}

/// A tape handed to an asynchronous evaluation (a reference, so `run` can empty it in place).
private final class TapeBox: @unchecked Sendable {
    var tape: [Node]
    init(_ tape: [Node]) { self.tape = tape }
}

/// Opt-in time per primitive (`ZOO_PROFILE=1`, or `ZOO_PROFILE=shapes` to tell output shapes
/// apart): each evaluated node's kernel time, summed by op name and printed to standard error
/// when the process exits. Callers may record their own
/// spans (the generator records the time spent building each step's graph).
public enum Profile {
    public static let enabled: Bool = {
        guard let v = ProcessInfo.processInfo.environment["ZOO_PROFILE"], !v.isEmpty, v != "0" else { return false }
        atexit { Profile.report() }
        return true
    }()
    static let byShape = ProcessInfo.processInfo.environment["ZOO_PROFILE"] == "shapes"
    private static let lock = NSLock()
    nonisolated(unsafe) private static var totals: [String: (count: Int, ns: UInt64)] = [:]

    public static func record(_ name: String, nanoseconds: UInt64) {
        lock.lock()
        let t = totals[name] ?? (0, 0)
        totals[name] = (t.count + 1, t.ns + nanoseconds)
        lock.unlock()
    }

    static func report() {
        lock.lock(); defer { lock.unlock() }
        let all = totals.values.reduce(UInt64(0)) { $0 + $1.ns }
        let width = max(26, totals.keys.map(\.count).max() ?? 0)
        var lines = ["op".padding(toLength: width, withPad: " ", startingAt: 0) + "   calls     total ms   mean µs   share"]
        for (name, t) in totals.sorted(by: { $0.value.ns > $1.value.ns }) {
            let ms = Double(t.ns) / 1e6, mean = Double(t.ns) / 1e3 / Double(t.count)
            lines.append(name.padding(toLength: width, withPad: " ", startingAt: 0)
                + String(format: " %7d %12.1f %9.2f %6.1f%%", t.count, ms, mean, 100 * Double(t.ns) / Double(max(all, 1))))
        }
        FileHandle.standardError.write((lines.joined(separator: "\n") + "\n").data(using: .utf8)!)
    }
}
