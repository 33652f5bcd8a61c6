import CVulkan
import Foundation

/// What the Vulkan backend says about its device and its work so far: for diagnostics and
/// device checks (`ZooBench vulkan_check`), not for choosing code paths.
public struct GPUReport: Sendable, CustomStringConvertible {
    public var deviceName: String
    /// "discrete GPU", "integrated GPU", "virtual GPU", "CPU" or "other".
    public var deviceType: String
    public var apiVersion: String
    public var driverVersion: String
    public var vendorID: UInt32
    /// "staging" (device-local buffers, copies through a host-visible staging buffer) or
    /// "mapped" (host-visible device buffers, plain copies).
    public var memoryPath: String
    /// One line per memory heap and per memory type, with their flags.
    public var memoryHeaps: [String]
    public var memoryTypes: [String]
    public var maxStorageBufferRange: Int
    public var has16BitStorage: Bool
    public var has8BitStorage: Bool
    /// Kernels dispatched since the backend started.
    public var dispatches: Int
    /// Device buffers in use and kept in the backend's cache; `vkAllocateMemory` calls so far.
    public var liveBytes: Int
    public var cachedBytes: Int
    public var allocations: Int
    /// Bytes copied host -> device and device -> host, by path.
    public var stagedUploadBytes: Int
    public var stagedDownloadBytes: Int
    public var mappedUploadBytes: Int
    public var mappedDownloadBytes: Int
    /// Compute pipelines built so far (each compiled from GLSL on first use).
    public var pipelinesBuilt: Int
    /// Pipelines that failed to build, by variant key, with the error (empty when all built).
    public var pipelineFailures: [String: String]

    /// The report of the running Vulkan backend, or nil where there is none.
    public static var current: GPUReport? { VulkanStatus.backend.map { $0.report() } }

    /// Why there is no Vulkan backend (no loader, no driver, `ZOO_DISABLE_GPU`), or nil.
    public static var unavailableReason: String? { VulkanStatus.unavailableReason }

    public var description: String {
        var lines = ["\(deviceName) (\(deviceType), Vulkan \(apiVersion), driver \(driverVersion), vendor 0x\(String(vendorID, radix: 16)))",
                     "memory path: \(memoryPath); 16-bit storage: \(has16BitStorage); 8-bit storage: \(has8BitStorage); "
                         + "maxStorageBufferRange: \(maxStorageBufferRange)"]
        lines += memoryHeaps + memoryTypes
        return lines.joined(separator: "\n")
    }
}

extension VulkanBackend {
    func report() -> GPUReport {
        var props = VkPhysicalDeviceProperties()
        vkGetPhysicalDeviceProperties(context.physicalDevice, &props)
        func version(_ v: UInt32) -> String { "\(v >> 22).\((v >> 12) & 0x3ff).\(v & 0xfff)" }
        let driver: String
        if props.vendorID == 0x10de {
            // NVIDIA packs its driver version as 10.8.8.6 bits.
            let v = props.driverVersion
            driver = "\(v >> 22).\((v >> 14) & 0xff).\((v >> 6) & 0xff)"
        } else {
            driver = version(props.driverVersion)
        }
        let mem = context.memoryProperties
        func flagNames(_ f: UInt32, _ names: [(UInt32, String)]) -> String {
            let s = names.filter { f & $0.0 != 0 }.map(\.1)
            return s.isEmpty ? "-" : s.joined(separator: "|")
        }
        let typeFlags: [(UInt32, String)] = [
            (VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT.rawValue, "DEVICE_LOCAL"),
            (VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT.rawValue, "HOST_VISIBLE"),
            (VK_MEMORY_PROPERTY_HOST_COHERENT_BIT.rawValue, "HOST_COHERENT"),
            (VK_MEMORY_PROPERTY_HOST_CACHED_BIT.rawValue, "HOST_CACHED"),
            (VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT.rawValue, "LAZILY_ALLOCATED"),
        ]
        let heaps: [String] = withUnsafeBytes(of: mem.memoryHeaps) { raw in
            let h = raw.bindMemory(to: VkMemoryHeap.self)
            return (0..<Int(mem.memoryHeapCount)).map { i in
                let gib = Double(h[i].size) / Double(1 << 30)
                return "heap \(i): \(String(format: "%.1f", gib)) GiB "
                    + flagNames(h[i].flags, [(VK_MEMORY_HEAP_DEVICE_LOCAL_BIT.rawValue, "DEVICE_LOCAL")])
            }
        }
        let types = (0..<Int(mem.memoryTypeCount)).map { i in
            let t = VulkanContext.memoryType(mem, i)
            return "type \(i) (heap \(t.heapIndex)): " + flagNames(t.propertyFlags, typeFlags)
        }
        let typeName: String = switch context.deviceType {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: "discrete GPU"
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: "integrated GPU"
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: "virtual GPU"
        case VK_PHYSICAL_DEVICE_TYPE_CPU: "CPU"
        default: "other"
        }
        let poolStats = pool.statistics
        let staged = queue.transferStatistics
        return GPUReport(
            deviceName: deviceName, deviceType: typeName, apiVersion: version(props.apiVersion), driverVersion: driver,
            vendorID: props.vendorID, memoryPath: pool.hostVisible ? "mapped" : "staging",
            memoryHeaps: heaps, memoryTypes: types, maxStorageBufferRange: context.maxStorageBufferRange,
            has16BitStorage: context.has16BitStorage, has8BitStorage: context.has8BitStorage,
            dispatches: dispatchCount, liveBytes: poolStats.live, cachedBytes: poolStats.cached,
            allocations: poolStats.created, stagedUploadBytes: staged.upload, stagedDownloadBytes: staged.download,
            mappedUploadBytes: mappedUploadBytes.load(ordering: .relaxed),
            mappedDownloadBytes: mappedDownloadBytes.load(ordering: .relaxed),
            pipelinesBuilt: pipelines.count, pipelineFailures: pipelines.failures)
    }
}
