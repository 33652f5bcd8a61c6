import CKernels
import Foundation

enum CPU {
    /// Threads a parallel kernel runs on: the pool's workers and the calling thread
    /// (`ZOO_NUM_THREADS` overrides the number of online cores).
    static let cores = Int(zoo_pool_threads())
    /// Elements below which a kernel stays on one thread (thread hand-off costs more).
    static let parallelThreshold = 1 << 15
    /// Multiply-adds from which a BLAS product is left to OpenBLAS's threads with the pool's
    /// spinning workers put to sleep first (`zoo_pool_park`).
    static let blasParkWork = 1 << 22
    /// float32 products from this many multiply-adds run on the pool (`zoo_sgemm`) rather than
    /// OpenBLAS; `ZOO_SGEMM=openblas` sends every one to OpenBLAS.
    static let pooledSGEMMWork = 1 << 18
    static let pooledSGEMMEnabled = ProcessInfo.processInfo.environment["ZOO_SGEMM"] != "openblas"

    /// Splits `0..<count` into contiguous chunks run on all cores when `work` (an element
    /// count estimate) is large enough.
    static func parallelFor(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
        if count <= 1 || cores == 1 || work < parallelThreshold {
            if count > 0 { body(0..<count) }
            return
        }
        let chunks = min(count, cores * (work >= 1 << 22 ? 4 : 1))
        parallelTasks(chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Splits `0..<n` into `maxTasks` (or fewer) ranges of whole `unit`s — a kernel's block of
    /// rows — and runs `body(lo, hi)` for each non-empty one on the worker pool; one range
    /// when the work (`work`, in multiply-adds) is below the parallel threshold times
    /// `threshold`. Several tasks per core: a core that starts late takes fewer of them.
    static func parallelBlocks(_ n: Int, unit: Int, work: Int, threshold: Int, maxTasks: Int,
                               _ body: (_ lo: Int, _ hi: Int) -> Void) {
        let blocks = (n + unit - 1) / unit
        let tasks = work < parallelThreshold * threshold ? 1 : min(blocks, maxTasks)
        parallelTasks(tasks) { t in
            let lo = min(n, blocks * t / tasks * unit), hi = min(n, blocks * (t + 1) / tasks * unit)
            if lo < hi { body(lo, hi) }
        }
    }

    /// Runs `body(0..<n)` on the worker pool (CKernels' pool.c: spinning workers, so
    /// back-to-back kernels do not pay a thread wake-up each). Tasks are claimed one at a
    /// time, so a core slowed by other work takes fewer of them.
    static func parallelTasks(_ n: Int, _ body: (Int) -> Void) {
        if n <= 0 { return }
        if n == 1 || cores == 1 { for i in 0..<n { body(i) }; return }
        withoutActuallyEscaping(body) { body in
            var task = body
            withUnsafeMutablePointer(to: &task) { p in
                zoo_pool_run(n, { ctx, i in
                    ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(i)
                }, p)
            }
        }
    }
}

struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

/// Iteration over the elements of several strided operands in row-major order of `shape`,
/// with dimensions merged wherever every operand is contiguous across them.
struct StridedLayout {
    var shape: [Int]
    var strides: [[Int]]

    init(shape: [Int], strides: [[Int]]) {
        // Drop size-1 dims, then merge neighbours that are contiguous in every operand.
        var sh: [Int] = []
        var st: [[Int]] = strides.map { _ in [] }
        for (i, d) in shape.enumerated() where d != 1 {
            sh.append(d)
            for k in strides.indices { st[k].append(strides[k][i]) }
        }
        var i = sh.count - 1
        while i > 0 {
            if st.allSatisfy({ $0[i - 1] == $0[i] * sh[i] }) {
                sh[i - 1] *= sh[i]
                for k in st.indices { st[k][i - 1] = st[k][i]; st[k].remove(at: i) }
                sh.remove(at: i)
            }
            i -= 1
        }
        if sh.isEmpty { sh = [1]; st = st.map { _ in [0] } }
        self.shape = sh
        self.strides = st
    }

    var inner: Int { shape.last! }
    var outer: Int { shape.dropLast().reduce(1, *) }
    func innerStride(_ k: Int) -> Int { strides[k].last! }

    /// Offset (elements) of operand `k` at the start of outer row `row`.
    @inline(__always)
    func offset(_ k: Int, row: Int) -> Int {
        var r = row, off = 0
        let s = strides[k]
        var d = shape.count - 2
        while d >= 0 {
            let n = shape[d]
            off += (r % n) * s[d]
            r /= n
            d -= 1
        }
        return off
    }

    /// Calls `body(outStart, count, offsets)` for every inner run; offsets are per operand.
    /// Runs are spread over cores when the total is large.
    func forEachRun(parallel: Bool = true, _ body: (_ outStart: Int, _ count: Int, _ offsets: [Int]) -> Void) {
        let outer = self.outer, inner = self.inner
        let total = outer * inner
        if outer == 1 {
            // One long run: split it.
            let pieces = parallel && total >= CPU.parallelThreshold ? CPU.cores * 4 : 1
            CPU.parallelFor(pieces, work: total) { r in
                for p in r {
                    let lo = inner * p / pieces, hi = inner * (p + 1) / pieces
                    if lo < hi { body(lo, hi - lo, strides.map { $0.last! * lo }) }
                }
            }
            return
        }
        CPU.parallelFor(outer, work: parallel ? total : 0) { rows in
            var offs = (0..<strides.count).map { offset($0, row: rows.lowerBound) }
            var idx = [Int](repeating: 0, count: shape.count - 1)
            var r = rows.lowerBound
            for d in stride(from: shape.count - 2, through: 0, by: -1) { idx[d] = r % shape[d]; r /= shape[d] }
            for row in rows {
                body(row * inner, inner, offs)
                // Advance the multi-index of the outer dims.
                var d = shape.count - 2
                while d >= 0 {
                    idx[d] += 1
                    for k in offs.indices { offs[k] += strides[k][d] }
                    if idx[d] < shape[d] { break }
                    for k in offs.indices { offs[k] -= strides[k][d] * shape[d] }
                    idx[d] = 0
                    d -= 1
                }
            }
        }
    }
}

/// Primitives that stream big operands from memory once per call when few rows of x meet
/// them (matrix-vector products while decoding). The scheduler asks an idle pool worker to
/// pull the next such node's operands into the cache while the small serial kernels before
/// it run (`zoo_pool_prefetch`), so the memory bus does not idle between products.
protocol StreamsOperands {
    /// Indices of the inputs the call will stream, given its input nodes; empty when it will
    /// not stream them (many rows: a GEMM that reuses them from cache anyway).
    func streamedInputs(_ inputs: [Node]) -> [Int]
}

extension QuantizedMatmulPrimitive: StreamsOperands {
    func streamedInputs(_ inputs: [Node]) -> [Int] {
        guard transpose, let k = inputs[0].shape.last, k > 0, inputs[0].size / k < Self.gemmThreshold else { return [] }
        return symmetric ? [1, 2] : [1, 2, 3]
    }
}

extension MatmulPrimitive: StreamsOperands {
    func streamedInputs(_ inputs: [Node]) -> [Int] {
        let a = inputs[0].shape, b = inputs[1].shape
        guard a.count == 2 || a.dropLast(2).allSatisfy({ $0 == 1 }), a.count >= 2, b.count >= 2,
              a[a.count - 2] < QuantizedMatmulPrimitive.gemmThreshold, b[b.count - 2] * b[b.count - 1] >= 1 << 16
        else { return [] }
        return [1]
    }
}

/// The primitive as `StreamsOperands`, or nil. A comparison of metatypes: a conditional cast
/// to a protocol is a conformance lookup, too slow to make for every node.
@inline(__always)
func streamingPrimitive(_ p: any Primitive) -> StreamsOperands? {
    let t = type(of: p)
    if t == QuantizedMatmulPrimitive.self { return p as? QuantizedMatmulPrimitive }
    if t == MatmulPrimitive.self { return p as? MatmulPrimitive }
    return nil
}

/// The scheduler's look-ahead for `StreamsOperands` nodes: each tape node is examined once;
/// the request for the next streaming node is built once and re-sent before each serial node
/// (a pool job in between stops the worker; the request resumes where it stopped).
struct OperandPrefetch {
    /// At most this much of one operand (the start of it: what the product reads first).
    static let maxBytes = 8 << 20
    /// How far ahead in the tape to look.
    static let window = 16

    private var scanned = Int.max        // tape indices from here up have been examined
    private var next = -1                // tape index of the next streaming node, or -1
    private var ptrs: [UnsafeRawPointer?] = []
    private var bytes: [Int] = []

    /// Called with the scheduler's lock held, before running a node that does not stream.
    mutating func ahead(in tape: [Node]) {
        if next >= tape.count { next = -1; ptrs.removeAll(keepingCapacity: true); bytes.removeAll(keepingCapacity: true) }
        if next < 0 {
            var j = min(scanned, tape.count) - 1
            let last = max(0, tape.count - Self.window)
            while j >= last {
                if let prim = tape[j].primitive, let p = streamingPrimitive(prim) {
                    next = j
                    prepare(tape[j], p)
                    j -= 1
                    break
                }
                j -= 1
            }
            scanned = j + 1
        }
        if next >= 0, !ptrs.isEmpty { zoo_pool_prefetch(ptrs, bytes, Int32(ptrs.count)) }
    }

    private mutating func prepare(_ n: Node, _ p: StreamsOperands) {
        guard n.stream.device.kind == .cpu else { return }
        for i in p.streamedInputs(n.inputs) {
            guard let d = n.inputs[i].data, let extent = Self.extentBytes(d) else { continue }
            ptrs.append(UnsafeRawPointer(d.buffer.block.pointer + d.offset * d.dtype.size))
            bytes.append(min(extent, Self.maxBytes))
        }
    }

    /// Bytes from the first element to the last of a view with non-negative strides.
    private static func extentBytes(_ d: ArrayData) -> Int? {
        var last = 0
        for (n, s) in zip(d.shape, d.strides) {
            guard s >= 0 else { return nil }
            last += (n - 1) * s
        }
        return d.count == 0 ? nil : (last + 1) * d.dtype.size
    }
}
