import CVulkan
import Foundation
import Synchronization

/// A VkBuffer with its own memory. `mapped` is set for host-visible (unified-memory) buffers.
struct RawVulkanBuffer: @unchecked Sendable {
    let buffer: VkBuffer
    let memory: VkDeviceMemory
    let capacity: Int
    let mapped: UnsafeMutableRawPointer?
}

/// Size-bucketed cache of device buffers, so evaluating the same graph again does not
/// pay for `vkAllocateMemory` (slow, and counted against `maxMemoryAllocationCount`).
final class VulkanBufferPool: @unchecked Sendable {
    private let context: VulkanContext
    private let lock = NSLock()
    /// Cached buffers by capacity, oldest first, each with the time it was cached.
    private var free: [Int: [(buffer: RawVulkanBuffer, stamp: UInt64)]] = [:]
    private var clock: UInt64 = 0
    private(set) var cachedBytes = 0
    private(set) var liveBytes = 0
    /// `vkAllocateMemory` calls so far (cache misses), for diagnostics.
    private(set) var created = 0
    let cacheLimit: Int
    let hostVisible: Bool

    /// `cacheLimit`: bytes kept for reuse; by default a share of the device's memory.
    init(context: VulkanContext, hostVisible: Bool, cacheLimit limit: Int? = nil) {
        self.context = context
        self.hostVisible = hostVisible
        var heap = 0
        let props = context.memoryProperties
        withUnsafeBytes(of: props.memoryHeaps) { raw in
            let heaps = raw.bindMemory(to: VkMemoryHeap.self)
            for i in 0..<Int(props.memoryHeapCount)
            where heaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT.rawValue != 0 {
                heap = max(heap, Int(heaps[i].size))
            }
        }
        // Unified memory competes with the host allocator's own cache: keep less.
        cacheLimit = limit ?? (hostVisible ? min(heap / 8, 512 << 20) : min(heap / 4, 2 << 30))
    }

    /// Live, cached and created counts read together under the lock.
    var statistics: (live: Int, cached: Int, created: Int) {
        lock.lock(); defer { lock.unlock() }
        return (liveBytes, cachedBytes, created)
    }

    /// Same buckets as the host allocator: powers of two up to 1 MiB, then steps of an eighth.
    static func bucket(_ n: Int) -> Int {
        let n = max(n, 256)
        if n <= 1 << 20 { return 1 << (Int.bitWidth - (n - 1).leadingZeroBitCount) }
        let high = 1 << (Int.bitWidth - 1 - n.leadingZeroBitCount)
        let step = max(high / 8, 1 << 20)
        return (n + step - 1) / step * step
    }

    func allocate(_ bytes: Int) throws -> RawVulkanBuffer {
        let cap = VulkanBufferPool.bucket(bytes)
        lock.lock()
        if var list = free[cap], let b = list.popLast()?.buffer {
            free[cap] = list.isEmpty ? nil : list
            cachedBytes -= cap
            liveBytes += cap
            lock.unlock()
            return b
        }
        lock.unlock()
        let b: RawVulkanBuffer
        do {
            b = try create(cap)
        } catch {
            // Out of device memory: give the cache back and retry once.
            trim(to: 0)
            b = try create(cap)
        }
        lock.lock(); liveBytes += cap; created += 1; lock.unlock()
        return b
    }

    /// Keeps `b` for reuse, making room by destroying the buffers cached longest ago: a
    /// full cache would otherwise keep an earlier workload's buffers for good and create and
    /// destroy device memory on every op of the next one.
    func recycle(_ b: RawVulkanBuffer) {
        var victims: [RawVulkanBuffer] = []
        lock.lock()
        liveBytes -= b.capacity
        if b.capacity <= cacheLimit {
            while cachedBytes + b.capacity > cacheLimit,
                  let key = free.min(by: { $0.value[0].stamp < $1.value[0].stamp })?.key {
                let old = free[key]!.removeFirst().buffer
                if free[key]!.isEmpty { free[key] = nil }
                cachedBytes -= old.capacity
                victims.append(old)
            }
            clock += 1
            free[b.capacity, default: []].append((b, clock))
            cachedBytes += b.capacity
        } else {
            victims.append(b)
        }
        lock.unlock()
        victims.forEach(destroy)
    }

    func trim(to limit: Int) {
        lock.lock()
        var victims: [RawVulkanBuffer] = []
        while cachedBytes > limit, let key = free.keys.max() {
            if var list = free[key], let b = list.popLast()?.buffer {
                victims.append(b)
                cachedBytes -= b.capacity
                free[key] = list.isEmpty ? nil : list
            }
        }
        lock.unlock()
        victims.forEach(destroy)
    }

    private func create(_ size: Int) throws -> RawVulkanBuffer {
        let device = context.device
        var info = VkBufferCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO
        info.size = VkDeviceSize(size)
        info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT.rawValue | VK_BUFFER_USAGE_TRANSFER_SRC_BIT.rawValue
            | VK_BUFFER_USAGE_TRANSFER_DST_BIT.rawValue
        info.sharingMode = VK_SHARING_MODE_EXCLUSIVE
        var buffer: VkBuffer?
        try vkCheck(vkCreateBuffer(device, &info, nil, &buffer), "vkCreateBuffer(\(size) bytes)")
        guard let buffer else { throw VulkanError("vkCreateBuffer returned no buffer") }
        var req = VkMemoryRequirements()
        vkGetBufferMemoryRequirements(device, buffer, &req)
        let hostFlags = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT.rawValue | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT.rawValue
        let typeIndex: UInt32?
        if hostVisible {
            typeIndex = context.memoryTypeIndex(
                typeBits: req.memoryTypeBits, required: hostFlags,
                preferred: [VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT.rawValue | VK_MEMORY_PROPERTY_HOST_CACHED_BIT.rawValue,
                            VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT.rawValue])
        } else {
            // Device-local, and not from the small host-visible BAR heap when avoidable.
            typeIndex = context.memoryTypeIndex(
                typeBits: req.memoryTypeBits, required: VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT.rawValue,
                avoid: VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT.rawValue)
        }
        guard let typeIndex else {
            vkDestroyBuffer(device, buffer, nil)
            throw VulkanError("no suitable memory type for a \(size)-byte buffer")
        }
        var alloc = VkMemoryAllocateInfo()
        alloc.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO
        alloc.allocationSize = req.size
        alloc.memoryTypeIndex = typeIndex
        var memory: VkDeviceMemory?
        let r = vkAllocateMemory(device, &alloc, nil, &memory)
        guard r == VK_SUCCESS, let memory else {
            vkDestroyBuffer(device, buffer, nil)
            throw VulkanError("vkAllocateMemory(\(size) bytes)", r)
        }
        do {
            try vkCheck(vkBindBufferMemory(device, buffer, memory, 0), "vkBindBufferMemory")
            var mapped: UnsafeMutableRawPointer?
            if hostVisible {
                try vkCheck(vkMapMemory(device, memory, 0, VkDeviceSize(VK_WHOLE_SIZE), 0, &mapped), "vkMapMemory")
            }
            return RawVulkanBuffer(buffer: buffer, memory: memory, capacity: size, mapped: mapped)
        } catch {
            vkDestroyBuffer(device, buffer, nil)
            vkFreeMemory(device, memory, nil)
            throw error
        }
    }

    private func destroy(_ b: RawVulkanBuffer) {
        vkDestroyBuffer(context.device, b.buffer, nil)
        vkFreeMemory(context.device, b.memory, nil)  // unmaps implicitly
    }
}

/// The device copy of one `Buffer`. Kernels run synchronously (each call waits for its
/// fence), so no GPU work is pending on an allocation when the host reads or frees it.
final class VulkanBuffer: DeviceAllocation, @unchecked Sendable {
    /// nil when device memory ran out: the buffer then stays usable on the host only.
    let raw: RawVulkanBuffer?
    private let backend: VulkanBackend

    init(raw: RawVulkanBuffer?, backend: VulkanBackend) {
        self.raw = raw
        self.backend = backend
    }

    func download(to host: UnsafeMutableRawPointer, count: Int) {
        guard let raw, count > 0 else { return }
        if let mapped = raw.mapped {
            host.copyMemory(from: mapped, byteCount: count)
            backend.mappedDownloadBytes.add(count, ordering: .relaxed)
        } else {
            do { try backend.queue.copy(from: raw, to: host, count: count) } catch {
                fatalError("Vulkan: reading a tensor back from \(backend.deviceName) failed: \(error)")
            }
        }
    }

    func upload(from host: UnsafeRawPointer, count: Int) {
        guard let raw, count > 0 else { return }
        if let mapped = raw.mapped {
            mapped.copyMemory(from: host, byteCount: count)
            backend.mappedUploadBytes.add(count, ordering: .relaxed)
        } else {
            do { try backend.queue.copy(from: host, to: raw, count: count) } catch {
                fatalError("Vulkan: copying a tensor to \(backend.deviceName) failed: \(error)")
            }
        }
    }

    deinit { if let raw { backend.pool.recycle(raw) } }
}

/// The compute queue: one command buffer, recorded and submitted under a lock, and a
/// fence waited on before returning. Also moves data through a staging buffer for
/// device-local memory.
final class VulkanQueue: @unchecked Sendable {
    private let context: VulkanContext
    let lock = NSLock()
    private let commandPool: VkCommandPool
    private let commandBuffer: VkCommandBuffer
    private let fence: VkFence
    private let descriptorPool: VkDescriptorPool
    private var staging: RawVulkanBuffer?
    /// Bytes moved through the staging buffer so far (guarded by `lock`).
    private(set) var stagedUploadBytes = 0
    private(set) var stagedDownloadBytes = 0
    static let stagingSize = 16 << 20

    var transferStatistics: (upload: Int, download: Int) {
        lock.lock(); defer { lock.unlock() }
        return (stagedUploadBytes, stagedDownloadBytes)
    }
    static let maxDescriptorSets: UInt32 = 64

    init(context: VulkanContext) throws {
        self.context = context
        let device = context.device
        var poolInfo = VkCommandPoolCreateInfo()
        poolInfo.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO
        poolInfo.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT.rawValue
        poolInfo.queueFamilyIndex = context.queueFamily
        var pool: VkCommandPool?
        try vkCheck(vkCreateCommandPool(device, &poolInfo, nil, &pool), "vkCreateCommandPool")
        commandPool = pool!
        var allocInfo = VkCommandBufferAllocateInfo()
        allocInfo.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO
        allocInfo.commandPool = commandPool
        allocInfo.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY
        allocInfo.commandBufferCount = 1
        var cb: VkCommandBuffer?
        try vkCheck(vkAllocateCommandBuffers(device, &allocInfo, &cb), "vkAllocateCommandBuffers")
        commandBuffer = cb!
        var fenceInfo = VkFenceCreateInfo()
        fenceInfo.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO
        var f: VkFence?
        try vkCheck(vkCreateFence(device, &fenceInfo, nil, &f), "vkCreateFence")
        fence = f!
        var size = VkDescriptorPoolSize(type: VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, descriptorCount: 4 * VulkanQueue.maxDescriptorSets)
        var dpInfo = VkDescriptorPoolCreateInfo()
        dpInfo.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO
        dpInfo.maxSets = VulkanQueue.maxDescriptorSets
        dpInfo.poolSizeCount = 1
        var dp: VkDescriptorPool?
        try withUnsafePointer(to: &size) { p in
            dpInfo.pPoolSizes = p
            try vkCheck(vkCreateDescriptorPool(device, &dpInfo, nil, &dp), "vkCreateDescriptorPool")
        }
        descriptorPool = dp!
    }

    /// Records with `body`, submits, and waits. The caller must hold `lock`.
    func submitAndWait(_ body: (VkCommandBuffer) throws -> Void) throws {
        defer { vkResetDescriptorPool(context.device, descriptorPool, 0) }
        try vkCheck(vkResetCommandBuffer(commandBuffer, 0), "vkResetCommandBuffer")
        var begin = VkCommandBufferBeginInfo()
        begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO
        begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT.rawValue
        try vkCheck(vkBeginCommandBuffer(commandBuffer, &begin), "vkBeginCommandBuffer")
        // Every submission is ordered after all earlier device work (previous submissions
        // included) and its writes are made visible to host reads after the fence.
        deviceBarrier(commandBuffer)
        do { try body(commandBuffer) } catch {
            _ = vkEndCommandBuffer(commandBuffer)
            throw error
        }
        hostReadBarrier(commandBuffer)
        try vkCheck(vkEndCommandBuffer(commandBuffer), "vkEndCommandBuffer")
        var cb: VkCommandBuffer? = commandBuffer
        try withUnsafePointer(to: &cb) { cbs in
            var submit = VkSubmitInfo()
            submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO
            submit.commandBufferCount = 1
            submit.pCommandBuffers = cbs
            try vkCheck(vkQueueSubmit(context.queue, 1, &submit, fence), "vkQueueSubmit")
        }
        var f: VkFence? = fence
        try vkCheck(vkWaitForFences(context.device, 1, &f, VkBool32(VK_TRUE), UInt64.max), "vkWaitForFences")
        try vkCheck(vkResetFences(context.device, 1, &f), "vkResetFences")
    }

    /// A descriptor set for one dispatch; valid until the current submission completes.
    func descriptorSet(layout: VkDescriptorSetLayout, buffers: [(RawVulkanBuffer, Int)]) throws -> VkDescriptorSet {
        var l: VkDescriptorSetLayout? = layout
        var info = VkDescriptorSetAllocateInfo()
        info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO
        info.descriptorPool = descriptorPool
        info.descriptorSetCount = 1
        var set: VkDescriptorSet?
        try withUnsafePointer(to: &l) { lp in
            info.pSetLayouts = lp
            try vkCheck(vkAllocateDescriptorSets(context.device, &info, &set), "vkAllocateDescriptorSets")
        }
        guard let set else { throw VulkanError("vkAllocateDescriptorSets returned no set") }
        var infos = buffers.map { b, range in
            VkDescriptorBufferInfo(buffer: b.buffer, offset: 0, range: VkDeviceSize(range))
        }
        infos.withUnsafeMutableBufferPointer { ip in
            var writes = (0..<ip.count).map { i -> VkWriteDescriptorSet in
                var w = VkWriteDescriptorSet()
                w.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET
                w.dstSet = set
                w.dstBinding = UInt32(i)
                w.descriptorCount = 1
                w.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                w.pBufferInfo = UnsafePointer(ip.baseAddress! + i)
                return w
            }
            vkUpdateDescriptorSets(context.device, UInt32(writes.count), &writes, 0, nil)
        }
        return set
    }

    private func stagingBuffer() throws -> RawVulkanBuffer {
        if let s = staging { return s }
        let device = context.device
        var info = VkBufferCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO
        info.size = VkDeviceSize(VulkanQueue.stagingSize)
        info.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT.rawValue | VK_BUFFER_USAGE_TRANSFER_DST_BIT.rawValue
        info.sharingMode = VK_SHARING_MODE_EXCLUSIVE
        var buffer: VkBuffer?
        try vkCheck(vkCreateBuffer(device, &info, nil, &buffer), "vkCreateBuffer(staging)")
        var req = VkMemoryRequirements()
        vkGetBufferMemoryRequirements(device, buffer!, &req)
        let hostFlags = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT.rawValue | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT.rawValue
        guard let type = context.memoryTypeIndex(typeBits: req.memoryTypeBits, required: hostFlags,
                                                 preferred: [VK_MEMORY_PROPERTY_HOST_CACHED_BIT.rawValue]) else {
            vkDestroyBuffer(device, buffer, nil)
            throw VulkanError("no host-visible memory type for the staging buffer")
        }
        var alloc = VkMemoryAllocateInfo()
        alloc.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO
        alloc.allocationSize = req.size
        alloc.memoryTypeIndex = type
        var memory: VkDeviceMemory?
        try vkCheck(vkAllocateMemory(device, &alloc, nil, &memory), "vkAllocateMemory(staging)")
        try vkCheck(vkBindBufferMemory(device, buffer!, memory!, 0), "vkBindBufferMemory(staging)")
        var mapped: UnsafeMutableRawPointer?
        try vkCheck(vkMapMemory(device, memory!, 0, VkDeviceSize(VK_WHOLE_SIZE), 0, &mapped), "vkMapMemory(staging)")
        let s = RawVulkanBuffer(buffer: buffer!, memory: memory!, capacity: VulkanQueue.stagingSize, mapped: mapped)
        staging = s
        return s
    }

    private func copyCommand(_ cb: VkCommandBuffer, from src: VkBuffer, srcOffset: Int,
                             to dst: VkBuffer, dstOffset: Int, count: Int) {
        var region = VkBufferCopy(srcOffset: VkDeviceSize(srcOffset), dstOffset: VkDeviceSize(dstOffset), size: VkDeviceSize(count))
        vkCmdCopyBuffer(cb, src, dst, 1, &region)
    }

    /// Device-local buffer -> host memory, in staging-sized chunks.
    func copy(from src: RawVulkanBuffer, to host: UnsafeMutableRawPointer, count: Int) throws {
        lock.lock(); defer { lock.unlock() }
        let staging = try stagingBuffer()
        var done = 0
        while done < count {
            let n = min(VulkanQueue.stagingSize, count - done)
            try submitAndWait { cb in
                copyCommand(cb, from: src.buffer, srcOffset: done, to: staging.buffer, dstOffset: 0, count: n)
            }
            (host + done).copyMemory(from: staging.mapped!, byteCount: n)
            done += n
            stagedDownloadBytes += n
        }
    }

    /// Host memory -> device-local buffer, in staging-sized chunks.
    func copy(from host: UnsafeRawPointer, to dst: RawVulkanBuffer, count: Int) throws {
        lock.lock(); defer { lock.unlock() }
        let staging = try stagingBuffer()
        var done = 0
        while done < count {
            let n = min(VulkanQueue.stagingSize, count - done)
            staging.mapped!.copyMemory(from: host + done, byteCount: n)
            try submitAndWait { cb in
                copyCommand(cb, from: staging.buffer, srcOffset: 0, to: dst.buffer, dstOffset: done, count: n)
            }
            done += n
            stagedUploadBytes += n
        }
    }
}

/// Makes transfer/compute writes visible to host reads after the fence.
func hostReadBarrier(_ cb: VkCommandBuffer) {
    var barrier = VkMemoryBarrier()
    barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER
    barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT.rawValue | VK_ACCESS_SHADER_WRITE_BIT.rawValue
    barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT.rawValue
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT.rawValue | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT.rawValue,
                         VK_PIPELINE_STAGE_HOST_BIT.rawValue, 0, 1, &barrier, 0, nil, 0, nil)
}

/// Orders what follows after all earlier transfers and kernels (across submissions too).
/// Host writes before a submission are visible to it without a barrier.
func deviceBarrier(_ cb: VkCommandBuffer) {
    let stages = VK_PIPELINE_STAGE_TRANSFER_BIT.rawValue | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT.rawValue
    var barrier = VkMemoryBarrier()
    barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER
    barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT.rawValue | VK_ACCESS_SHADER_WRITE_BIT.rawValue
    barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT.rawValue | VK_ACCESS_SHADER_WRITE_BIT.rawValue
        | VK_ACCESS_TRANSFER_READ_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue
    vkCmdPipelineBarrier(cb, stages, stages, 0, 1, &barrier, 0, nil, 0, nil)
}
