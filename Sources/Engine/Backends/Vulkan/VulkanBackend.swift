import CVulkan
import Foundation
import Synchronization

/// The Vulkan backend, or nil where Vulkan cannot run (no ICD or device, instance or
/// device creation failed, `ZOO_DISABLE_GPU=1`). Never crashes, never waits.
func makeGPUBackend() -> (any Backend)? { VulkanStatus.backend }

enum VulkanStatus {
    private static let result: Result<VulkanBackend, VulkanError> = {
        let env = ProcessInfo.processInfo.environment
        if let v = env["ZOO_DISABLE_GPU"], !v.isEmpty, v != "0" {
            return .failure(VulkanError("ZOO_DISABLE_GPU=\(v)"))
        }
        do { return .success(try VulkanBackend()) } catch let e as VulkanError {
            return .failure(e)
        } catch {
            return .failure(VulkanError("\(error)"))
        }
    }()

    static var backend: VulkanBackend? { try? result.get() }

    /// Why there is no Vulkan backend; nil when there is one.
    static var unavailableReason: String? {
        if case .failure(let e) = result { return e.description }
        return nil
    }
}

/// Runs elementwise, reduction and matmul primitives with GLSL compute kernels.
/// Every call records one command buffer, submits it and waits for it under the queue
/// lock, so results are complete when `run` returns and buffers move lazily between host
/// and device through `Buffer`'s residency tracking.
final class VulkanBackend: Backend, @unchecked Sendable {
    let context: VulkanContext
    let pool: VulkanBufferPool
    let queue: VulkanQueue
    let pipelines: VulkanPipelineCache

    var deviceName: String { context.deviceName }

    /// Kernels dispatched so far (guarded by the queue lock).
    private var dispatches = 0
    var dispatchCount: Int { queue.lock.lock(); defer { queue.lock.unlock() }; return dispatches }
    /// Bytes copied to and from mapped (host-visible) device buffers.
    let mappedUploadBytes = Atomic<Int>(0)
    let mappedDownloadBytes = Atomic<Int>(0)

    init() throws {
        context = try VulkanContext()
        pool = VulkanBufferPool(context: context, hostVisible: context.unifiedMemory)
        queue = try VulkanQueue(context: context)
        pipelines = try VulkanPipelineCache(context: context)
    }

    func run(_ primitive: any Primitive, inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData]? {
        guard outputs.count == 1, let spec = outputs.first else { return nil }
        let out: ArrayData?
        switch primitive {
        case let p as UnaryPrimitive:
            guard inputs.count == 1 else { return nil }
            out = try runUnary(p.op, inputs[0], spec)
        case let p as BinaryPrimitive:
            guard inputs.count == 2 else { return nil }
            out = try runBinary(p.op, inputs[0], inputs[1], spec)
        case let p as ReducePrimitive:
            guard inputs.count == 1 else { return nil }
            out = try runReduce(p.op, axes: p.axes, inputs[0], spec)
        case is MatmulPrimitive:
            guard inputs.count == 2 else { return nil }
            out = try runMatmul(inputs[0], inputs[1], spec)
        default:
            return nil
        }
        return out.map { [$0] }
    }

    // MARK: - Support checks

    func elementType(_ dtype: DType) -> GLSLElementType? {
        guard let t = GLSLElementType.of(dtype) else { return nil }
        if t.needs16BitStorage && !context.has16BitStorage { return nil }
        if t.needs8BitStorage && !context.has8BitStorage { return nil }
        return t
    }

    /// Kernels index with 32-bit ints and bind whole buffers: every element a view can
    /// reach must be addressable that way.
    func addressable(_ a: ArrayData) -> Bool {
        guard a.buffer.byteCount <= context.maxStorageBufferRange else { return false }
        if a.count == 0 { return true }
        var lo = a.offset, hi = a.offset
        for (n, s) in zip(a.shape, a.strides) where n > 1 {
            if s > 0 { hi += (n - 1) * s } else { lo += (n - 1) * s }
        }
        return lo >= 0 && hi < Int(Int32.max) && (hi + 1) * a.dtype.size <= a.buffer.byteCount
    }

    static func fitsPushConstant(_ values: [Int]) -> Bool {
        values.allSatisfy { $0 >= Int(Int32.min) && $0 <= Int(Int32.max) }
    }

    // MARK: - Elementwise

    func runUnary(_ op: UnaryOp, _ a: ArrayData, _ spec: OutputSpec) throws -> ArrayData? {
        guard let ta = elementType(a.dtype),
              let (expr, isBool) = VulkanOpExpressions.unary(op, compute: ta.compute, isBool: a.dtype == .bool),
              spec.dtype == (isBool ? .bool : a.dtype), let to = elementType(spec.dtype)
        else { return nil }
        return try elementwise([a], ta, to, op: "OP(x)", expr: expr, spec)
    }

    func runBinary(_ op: BinaryOp, _ a: ArrayData, _ b: ArrayData, _ spec: OutputSpec) throws -> ArrayData? {
        guard a.dtype == b.dtype, let ta = elementType(a.dtype),
              let (expr, isBool) = VulkanOpExpressions.binary(op, compute: ta.compute, isBool: a.dtype == .bool),
              spec.dtype == (isBool ? .bool : a.dtype), let to = elementType(spec.dtype)
        else { return nil }
        return try elementwise([a, b], ta, to, op: "OP(x, y)", expr: expr, spec)
    }

    private func elementwise(_ operands: [ArrayData], _ ta: GLSLElementType, _ to: GLSLElementType,
                             op: String, expr: String, _ spec: OutputSpec) throws -> ArrayData? {
        let n = spec.shape.reduce(1, *)
        if n == 0 { return ArrayData(allocating: spec.shape, dtype: spec.dtype) }
        guard n < Int(Int32.max) else { return nil }
        var strides: [[Int]] = []
        for a in operands {
            guard addressable(a), let s = broadcastStrides(a.shape, a.strides, to: spec.shape) else { return nil }
            strides.append(s)
        }
        let (shape, merged) = collapseDims(spec.shape, strides)
        guard shape.count <= 8 else { return nil }
        let modes = merged.map { s -> Int in
            if s.allSatisfy({ $0 == 0 }) { return 2 }
            return s == rowMajorStrides(shape) ? 1 : 0
        }

        var builder = VulkanShaderBuilder(name: "elementwise", body: VulkanKernelSources.elementwise)
        builder.computeType = ta.compute
        builder.operand("A", ta)
        if operands.count == 2 {
            builder.operand("B", ta)
            builder.defines["BINARY"] = "1"
        }
        builder.operand("O", to, output: true)
        builder.defines[op] = expr
        builder.defines["MODE_A"] = "\(modes[0])"
        builder.defines["MODE_B"] = "\(operands.count == 2 ? modes[1] : 2)"

        func padded(_ v: [Int], _ fill: Int) -> [Int] { v + [Int](repeating: fill, count: 8 - v.count) }
        var push = [n, shape.count, operands[0].offset, operands.count == 2 ? operands[1].offset : 0]
        push += padded(shape, 1) + padded(merged[0], 0) + padded(operands.count == 2 ? merged[1] : [], 0)
        guard VulkanBackend.fitsPushConstant(push) else { return nil }
        return try launch(builder, inputs: operands, push: push, groups: linearGroups(n), spec)
    }

    // MARK: - Reduction

    /// Reductions longer than this many elements per output, with few outputs, run in two
    /// passes (see `runReduce`).
    static let splitReduction = 1 << 15
    /// Elements each first-pass work group combines (64 per invocation).
    static let reductionChunk = 1 << 14

    /// `secondPass`: `a` holds the first pass's accumulators (float32 for every float type,
    /// uint32 for bool), so the output type may differ from the input's.
    func runReduce(_ op: ReduceOp, axes: [Int], _ a: ArrayData, _ spec: OutputSpec,
                   secondPass: Bool = false) throws -> ArrayData? {
        guard let ta = elementType(a.dtype), addressable(a) else { return nil }
        let isLogical = op == .all || op == .any
        let outputOK = spec.dtype == (isLogical ? .bool : a.dtype) || secondPass
        guard outputOK, let to = elementType(spec.dtype),
              let macros = VulkanOpExpressions.reduction(op, compute: ta.compute, inputIsBool: a.dtype == .bool)
        else { return nil }
        let axisSet = Set(axes)
        guard axisSet.allSatisfy({ $0 >= 0 && $0 < a.ndim }) else { return nil }
        var keptShape: [Int] = [], keptStrides: [Int] = []
        var redShape: [Int] = [], redStrides: [Int] = []
        for d in 0..<a.ndim {
            if axisSet.contains(d) {
                redShape.append(a.shape[d]); redStrides.append(a.strides[d])
            } else {
                keptShape.append(a.shape[d]); keptStrides.append(a.strides[d])
            }
        }
        let nOut = keptShape.reduce(1, *)
        let nRed = redShape.reduce(1, *)
        guard spec.shape.reduce(1, *) == nOut else { return nil }
        if nOut == 0 { return ArrayData(allocating: spec.shape, dtype: spec.dtype) }
        if nRed == 0 && (op == .max || op == .min) { return nil }
        guard nOut < Int(Int32.max), nRed < Int(Int32.max) else { return nil }
        let (ks, kst) = collapseDims(keptShape, [keptStrides])
        let (rs, rst) = collapseDims(redShape, [redStrides])
        guard ks.count <= 6, rs.count <= 6 else { return nil }

        var builder = VulkanShaderBuilder(name: "reduce", body: VulkanKernelSources.reduce)
        builder.computeType = ta.compute
        builder.operand("A", ta)
        builder.operand("O", to, output: true)
        for (k, v) in macros { builder.defines[k] = v }
        if rs.count <= 1 { builder.defines["RED_1D"] = "1" }
        // A workgroup per output when each reduction is long or there are few outputs;
        // otherwise an invocation per output.
        let rows = nRed >= 256 || (nRed > 16 && nOut < 4096)
        if rows { builder.defines["ROWS"] = "1" }
        // Long reductions with few outputs in two passes: one work group per output would
        // leave a GPU nearly idle, and lavapipe ends any shader loop after 65535 iterations
        // (a sum of 2^24 elements came out wrong). Pass 1: `parts` work groups per output
        // each combine `chunk` elements into an accumulator; pass 2 reduces those.
        let split = !secondPass && rows && nRed >= VulkanBackend.splitReduction
            && (nOut <= 4096 || nRed / 256 >= 1 << 15)
        var chunk = 0, parts = 0
        var passOneSpec = spec
        if split {
            parts = min((nRed + VulkanBackend.reductionChunk - 1) / VulkanBackend.reductionChunk, 65535)
            chunk = (nRed + parts - 1) / parts
            guard nOut * parts < Int(Int32.max), let acc = macros["ACC_T"],
                  let accType: DType = ["float": .float32, "int": .int32, "uint": .uint32][acc],
                  let taAcc = elementType(accType) else { return nil }
            builder.defines["SPLIT"] = "1"
            builder.defines["FINISH(a)"] = "(a)"
            builder.operands.removeLast()
            builder.operand("O", taAcc, output: true)
            passOneSpec = OutputSpec([nOut, parts], accType)
        }

        func padded(_ v: [Int], _ fill: Int) -> [Int] { v + [Int](repeating: fill, count: 6 - v.count) }
        var push = [nOut, nRed, a.offset, ks.count, rs.count, chunk, parts, 0]
        push += padded(ks, 1) + padded(kst[0], 0) + padded(rs, 1) + padded(rst[0], 0)
        guard VulkanBackend.fitsPushConstant(push) else { return nil }
        let groups = rows ? splitGroups(split ? nOut * parts : nOut) : linearGroups(nOut)
        guard let out = try launch(builder, inputs: [a], push: push, groups: groups, passOneSpec) else { return nil }
        guard split else { return out }
        // The partial results stay on the device for the second pass.
        return try runReduce(op, axes: [1], out, spec, secondPass: true)
    }

    // MARK: - Matmul

    func runMatmul(_ a: ArrayData, _ b: ArrayData, _ spec: OutputSpec) throws -> ArrayData? {
        guard a.dtype == b.dtype, a.dtype.isFloatingPoint, let ta = elementType(a.dtype),
              spec.dtype == .float32 || spec.dtype == a.dtype, let to = elementType(spec.dtype),
              a.ndim >= 2, b.ndim >= 2, spec.shape.count >= 2, addressable(a), addressable(b)
        else { return nil }
        let M = a.shape[a.ndim - 2], K = a.shape[a.ndim - 1]
        let N = b.shape[b.ndim - 1]
        guard b.shape[b.ndim - 2] == K, spec.shape.suffix(2) == [M, N] else { return nil }
        let batchShape = Array(spec.shape.dropLast(2))
        let batch = batchShape.reduce(1, *)
        if batch * M * N == 0 { return ArrayData(allocating: spec.shape, dtype: spec.dtype) }
        guard batch * M * N < Int(Int32.max), batch <= 65535,
              let sa = broadcastStrides(Array(a.shape.dropLast(2)), Array(a.strides.dropLast(2)), to: batchShape),
              let sb = broadcastStrides(Array(b.shape.dropLast(2)), Array(b.strides.dropLast(2)), to: batchShape)
        else { return nil }
        let (bs, bst) = collapseDims(batchShape, [sa, sb])
        guard bs.count <= 4 else { return nil }
        let sAm = a.strides[a.ndim - 2], sAk = a.strides[a.ndim - 1]
        let sBk = b.strides[b.ndim - 2], sBn = b.strides[b.ndim - 1]

        var builder = VulkanShaderBuilder(name: "matmul", body: VulkanKernelSources.matmul)
        builder.operand("A", ta)
        builder.operand("B", ta)
        builder.operand("O", to, output: true)
        if sAk == 1 || K == 1 { builder.defines["A_KFAST"] = "1" }
        if sBn == 1 || N == 1 { builder.defines["B_NFAST"] = "1" }

        func padded(_ v: [Int], _ fill: Int) -> [Int] { v + [Int](repeating: fill, count: 4 - v.count) }
        var push = [M, N, K, a.offset, b.offset, sAm, sAk, sBk, sBn, bs.count, 0, 0]
        push += padded(bs, 1) + padded(bst[0], 0) + padded(bst[1], 0)
        guard VulkanBackend.fitsPushConstant(push) else { return nil }
        let groups = (UInt32((N + 63) / 64), UInt32((M + 63) / 64), UInt32(batch))
        guard groups.0 <= 65535, groups.1 <= 65535 else { return nil }
        return try launch(builder, inputs: [a, b], push: push, groups: groups, spec)
    }

    // MARK: - Launch

    /// Work groups of 256 invocations covering `n`, split over x and y (x is capped at 65535).
    func linearGroups(_ n: Int) -> (UInt32, UInt32, UInt32) { splitGroups((n + 255) / 256) }

    func splitGroups(_ groups: Int) -> (UInt32, UInt32, UInt32) {
        let x = min(max(groups, 1), 65535)
        return (UInt32(x), UInt32((groups + x - 1) / x), 1)
    }

    /// Compiles (once) and runs one kernel: inputs made valid on the device, a new
    /// contiguous output written there, one submission waited for. The builder's last
    /// operand is the output; push constants are at most 32 ints.
    func launch(_ builder: VulkanShaderBuilder, inputs: [ArrayData], push: [Int],
                        groups: (UInt32, UInt32, UInt32), _ spec: OutputSpec) throws -> ArrayData? {
        let out = ArrayData(allocating: spec.shape, dtype: spec.dtype)
        let maxRange = context.maxStorageBufferRange
        guard out.buffer.byteCount <= maxRange else { return nil }
        guard let pipeline = pipelines.pipeline(builder.variant, source: builder.source) else { return nil }

        // Device copies of the inputs (uploaded on first use). Taken before the queue lock:
        // a buffer's lock is always taken before the queue's, never after.
        var allocations: [VulkanBuffer] = []
        // Out of device memory: the op runs on the CPU, and the next one tries again.
        for a in inputs {
            guard let alloc: VulkanBuffer = a.buffer.deviceAllocationIfPossible(create: {
                (try? pool.allocate(a.buffer.byteCount)).map { VulkanBuffer(raw: $0, backend: self) }
            }), alloc.raw != nil else { return nil }
            allocations.append(alloc)
        }
        guard let raw = try? pool.allocate(out.buffer.byteCount) else { return nil }
        let fresh = VulkanBuffer(raw: raw, backend: self)
        let outAlloc: VulkanBuffer = out.buffer.deviceAllocationForWriting { fresh }
        allocations.append(outAlloc)
        let bindings = allocations.map { ($0.raw!, min($0.raw!.capacity, maxRange)) }

        var words = push.map { Int32(truncatingIfNeeded: $0) }
        precondition(words.count * 4 <= VulkanPipelineCache.pushConstantSize)
        queue.lock.lock()
        defer { queue.lock.unlock() }
        try queue.submitAndWait { cb in
            let set = try queue.descriptorSet(layout: pipeline.setLayout, buffers: bindings)
            vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.pipeline)
            var s: VkDescriptorSet? = set
            vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout, 0, 1, &s, 0, nil)
            vkCmdPushConstants(cb, pipeline.layout, VK_SHADER_STAGE_COMPUTE_BIT.rawValue, 0, UInt32(words.count * 4), &words)
            vkCmdDispatch(cb, groups.0, groups.1, groups.2)
        }
        dispatches += 1
        withExtendedLifetime(allocations) {}
        return out
    }
}

// MARK: - Shape helpers

/// Strides of a view broadcast to `target` (NumPy rules: trailing dims aligned, size-1 dims
/// get stride 0); nil if the shapes are incompatible.
func broadcastStrides(_ shape: [Int], _ strides: [Int], to target: [Int]) -> [Int]? {
    guard shape.count <= target.count else { return nil }
    let lead = target.count - shape.count
    var out = [Int](repeating: 0, count: target.count)
    for d in 0..<shape.count {
        if shape[d] == target[lead + d] {
            out[lead + d] = shape[d] == 1 ? 0 : strides[d]
        } else if shape[d] == 1 {
            out[lead + d] = 0
        } else {
            return nil
        }
    }
    return out
}

/// Drops size-1 dims and merges neighbours that are contiguous in every operand, so most
/// views reach the kernels as one or two dims. Row-major order of the result is the
/// row-major order of `shape`.
func collapseDims(_ shape: [Int], _ strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
    var outShape: [Int] = []
    var outStrides = [[Int]](repeating: [], count: strides.count)
    for d in shape.indices where shape[d] != 1 {
        if let last = outShape.last,
           strides.indices.allSatisfy({ outStrides[$0].last! == strides[$0][d] * shape[d] }) {
            outShape[outShape.count - 1] = last * shape[d]
            for k in strides.indices { outStrides[k][outStrides[k].count - 1] = strides[k][d] }
        } else {
            outShape.append(shape[d])
            for k in strides.indices { outStrides[k].append(strides[k][d]) }
        }
    }
    return (outShape, outStrides)
}
