import CVulkan
import Foundation

/// A failed Vulkan call or an unusable device.
struct VulkanError: Error, CustomStringConvertible {
    let description: String
    init(_ what: String, _ result: VkResult? = nil) {
        description = result.map { "\(what) failed (\(VulkanError.name($0)))" } ?? what
    }

    static func name(_ r: VkResult) -> String {
        switch r {
        case VK_ERROR_OUT_OF_HOST_MEMORY: "VK_ERROR_OUT_OF_HOST_MEMORY"
        case VK_ERROR_OUT_OF_DEVICE_MEMORY: "VK_ERROR_OUT_OF_DEVICE_MEMORY"
        case VK_ERROR_INITIALIZATION_FAILED: "VK_ERROR_INITIALIZATION_FAILED"
        case VK_ERROR_DEVICE_LOST: "VK_ERROR_DEVICE_LOST"
        case VK_ERROR_LAYER_NOT_PRESENT: "VK_ERROR_LAYER_NOT_PRESENT"
        case VK_ERROR_EXTENSION_NOT_PRESENT: "VK_ERROR_EXTENSION_NOT_PRESENT"
        case VK_ERROR_FEATURE_NOT_PRESENT: "VK_ERROR_FEATURE_NOT_PRESENT"
        case VK_ERROR_INCOMPATIBLE_DRIVER: "VK_ERROR_INCOMPATIBLE_DRIVER: no Vulkan driver (ICD) found"
        case VK_ERROR_TOO_MANY_OBJECTS: "VK_ERROR_TOO_MANY_OBJECTS"
        default: "VkResult \(r.rawValue)"
        }
    }
}

@inline(__always)
func vkCheck(_ result: VkResult, _ what: @autoclosure () -> String) throws {
    if result != VK_SUCCESS { throw VulkanError(what(), result) }
}

func vkMakeVersion(_ major: UInt32, _ minor: UInt32, _ patch: UInt32) -> UInt32 {
    (major << 22) | (minor << 12) | patch
}

/// Reads a fixed-size C char array (imported as a tuple) as a String.
func vkString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
        let bytes = raw.bindMemory(to: UInt8.self)
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}

/// One physical device as enumerated, with what device selection needs.
struct VulkanDeviceInfo {
    let index: Int
    let handle: VkPhysicalDevice
    let name: String
    let type: VkPhysicalDeviceType
    let apiVersion: UInt32
    let computeQueueFamily: UInt32?

    var typeName: String {
        switch type {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: "discrete GPU"
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: "integrated GPU"
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: "virtual GPU"
        case VK_PHYSICAL_DEVICE_TYPE_CPU: "CPU"
        default: "other"
        }
    }

    /// Preference when no device is named: real GPUs before software rasterizers.
    var score: Int {
        switch type {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: 4
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: 3
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: 2
        case VK_PHYSICAL_DEVICE_TYPE_CPU: 1
        default: 0
        }
    }

    var usable: Bool { computeQueueFamily != nil && apiVersion >= vkMakeVersion(1, 1, 0) }
}

/// Picks a device: `ZOO_VULKAN_DEVICE` (an index in enumeration order, or a
/// case-insensitive substring of the device name) or else the best-scored one.
func selectVulkanDevice(_ devices: [VulkanDeviceInfo], request: String?) throws -> VulkanDeviceInfo {
    let usable = devices.filter(\.usable)
    let listing = devices.map { "\($0.index): \($0.name) (\($0.typeName))" }.joined(separator: ", ")
    if let request = request?.trimmingCharacters(in: .whitespaces), !request.isEmpty {
        if let i = Int(request) {
            guard let d = devices.first(where: { $0.index == i }) else {
                throw VulkanError("ZOO_VULKAN_DEVICE=\(request): no device with that index (devices: \(listing))")
            }
            guard d.usable else { throw VulkanError("ZOO_VULKAN_DEVICE=\(request): \(d.name) has no Vulkan 1.1 compute queue") }
            return d
        }
        guard let d = usable.first(where: { $0.name.range(of: request, options: .caseInsensitive) != nil }) else {
            throw VulkanError("ZOO_VULKAN_DEVICE=\(request): no usable device matches (devices: \(listing))")
        }
        return d
    }
    guard let best = usable.max(by: { ($0.score, -$0.index) < ($1.score, -$1.index) }) else {
        throw VulkanError(devices.isEmpty ? "no Vulkan physical device" : "no Vulkan 1.1 device with a compute queue (devices: \(listing))")
    }
    return best
}

/// Instance, logical device, queue and memory types of the chosen GPU.
final class VulkanContext: @unchecked Sendable {
    let instance: VkInstance
    let physicalDevice: VkPhysicalDevice
    let device: VkDevice
    let queue: VkQueue
    let queueFamily: UInt32
    let deviceName: String
    let deviceType: VkPhysicalDeviceType
    let limits: VkPhysicalDeviceLimits
    let memoryProperties: VkPhysicalDeviceMemoryProperties
    /// Storage buffers may hold 8-bit (bool) and 16-bit (float16) elements.
    let has8BitStorage: Bool
    let has16BitStorage: Bool
    /// Unified memory (integrated GPU, CPU device): buffers are host-visible and mapped,
    /// so transfers are plain copies. Otherwise buffers are device-local and transfers
    /// go through a staging buffer.
    let unifiedMemory: Bool
    let maxStorageBufferRange: Int

    init() throws {
        var loaderVersion: UInt32 = vkMakeVersion(1, 0, 0)
        _ = vkEnumerateInstanceVersion(&loaderVersion)
        guard loaderVersion >= vkMakeVersion(1, 1, 0) else {
            throw VulkanError("Vulkan loader is 1.0; 1.1 is needed")
        }
        let apiVersion = min(loaderVersion & ~UInt32(0xfff), vkMakeVersion(1, 3, 0))

        // Instance (portability enumeration where the loader offers it, e.g. MoltenVK).
        var instanceExtensions: [String] = []
        var flags: VkInstanceCreateFlags = 0
        var extCount: UInt32 = 0
        _ = vkEnumerateInstanceExtensionProperties(nil, &extCount, nil)
        var extProps = [VkExtensionProperties](repeating: VkExtensionProperties(), count: Int(extCount))
        _ = vkEnumerateInstanceExtensionProperties(nil, &extCount, &extProps)
        let available = Set(extProps.prefix(Int(extCount)).map { vkString($0.extensionName) })
        if available.contains("VK_KHR_portability_enumeration") {
            instanceExtensions.append("VK_KHR_portability_enumeration")
            flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR.rawValue
        }

        var createdInstance: VkInstance?
        let appName = strdup("Zoo")
        defer { free(appName) }
        let app = UnsafeMutablePointer<VkApplicationInfo>.allocate(capacity: 1)
        defer { app.deallocate() }
        app.initialize(to: VkApplicationInfo())
        app.pointee.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO
        app.pointee.pApplicationName = UnsafePointer(appName)
        app.pointee.pEngineName = UnsafePointer(appName)
        app.pointee.apiVersion = apiVersion
        let extNames = CStringArray(instanceExtensions)
        defer { extNames.free() }
        var info = VkInstanceCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO
        info.flags = flags
        info.pApplicationInfo = UnsafePointer(app)
        info.enabledExtensionCount = UInt32(instanceExtensions.count)
        info.ppEnabledExtensionNames = extNames.pointer
        let result = vkCreateInstance(&info, nil, &createdInstance)
        try vkCheck(result, "vkCreateInstance")
        guard let instance = createdInstance else { throw VulkanError("vkCreateInstance returned no instance") }
        self.instance = instance

        do {
            // Physical devices.
            var count: UInt32 = 0
            try vkCheck(vkEnumeratePhysicalDevices(instance, &count, nil), "vkEnumeratePhysicalDevices")
            var handles = [VkPhysicalDevice?](repeating: nil, count: Int(count))
            try vkCheck(vkEnumeratePhysicalDevices(instance, &count, &handles), "vkEnumeratePhysicalDevices")
            var infos: [VulkanDeviceInfo] = []
            for (i, h) in handles.prefix(Int(count)).enumerated() {
                guard let h else { continue }
                var props = VkPhysicalDeviceProperties()
                vkGetPhysicalDeviceProperties(h, &props)
                var qCount: UInt32 = 0
                vkGetPhysicalDeviceQueueFamilyProperties(h, &qCount, nil)
                var qProps = [VkQueueFamilyProperties](repeating: VkQueueFamilyProperties(), count: Int(qCount))
                vkGetPhysicalDeviceQueueFamilyProperties(h, &qCount, &qProps)
                let computeBit = VK_QUEUE_COMPUTE_BIT.rawValue
                let family = qProps.prefix(Int(qCount)).firstIndex { $0.queueFlags & computeBit != 0 && $0.queueCount > 0 }
                infos.append(VulkanDeviceInfo(index: i, handle: h, name: vkString(props.deviceName), type: props.deviceType,
                                              apiVersion: props.apiVersion, computeQueueFamily: family.map(UInt32.init)))
            }
            let chosen = try selectVulkanDevice(infos, request: ProcessInfo.processInfo.environment["ZOO_VULKAN_DEVICE"])
            physicalDevice = chosen.handle
            deviceName = chosen.name
            deviceType = chosen.type
            queueFamily = chosen.computeQueueFamily!

            var props = VkPhysicalDeviceProperties()
            vkGetPhysicalDeviceProperties(physicalDevice, &props)
            limits = props.limits
            maxStorageBufferRange = Int(props.limits.maxStorageBufferRange)
            var memProps = VkPhysicalDeviceMemoryProperties()
            vkGetPhysicalDeviceMemoryProperties(physicalDevice, &memProps)
            memoryProperties = memProps

            // Device extensions.
            var devExtCount: UInt32 = 0
            _ = vkEnumerateDeviceExtensionProperties(physicalDevice, nil, &devExtCount, nil)
            var devExtProps = [VkExtensionProperties](repeating: VkExtensionProperties(), count: Int(devExtCount))
            _ = vkEnumerateDeviceExtensionProperties(physicalDevice, nil, &devExtCount, &devExtProps)
            let devExts = Set(devExtProps.prefix(Int(devExtCount)).map { vkString($0.extensionName) })
            let core12 = chosen.apiVersion >= vkMakeVersion(1, 2, 0) && apiVersion >= vkMakeVersion(1, 2, 0)
            var deviceExtensions: [String] = []
            if devExts.contains("VK_KHR_portability_subset") { deviceExtensions.append("VK_KHR_portability_subset") }
            let can8Bit = core12 || devExts.contains("VK_KHR_8bit_storage")
            if !core12 && can8Bit { deviceExtensions.append("VK_KHR_8bit_storage") }

            // Features: 16-bit storage (core 1.1) and 8-bit storage (core 1.2 or extension).
            var storage16 = VkPhysicalDevice16BitStorageFeatures()
            storage16.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES
            var storage8 = VkPhysicalDevice8BitStorageFeatures()
            storage8.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES
            let q8 = UnsafeMutablePointer<VkPhysicalDevice8BitStorageFeatures>.allocate(capacity: 1)
            let q16 = UnsafeMutablePointer<VkPhysicalDevice16BitStorageFeatures>.allocate(capacity: 1)
            defer { q8.deallocate(); q16.deallocate() }
            q8.initialize(to: storage8)
            storage16.pNext = can8Bit ? UnsafeMutableRawPointer(q8) : nil
            q16.initialize(to: storage16)
            var features2 = VkPhysicalDeviceFeatures2()
            features2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2
            features2.pNext = UnsafeMutableRawPointer(q16)
            vkGetPhysicalDeviceFeatures2(physicalDevice, &features2)
            storage8 = q8.pointee
            storage16 = q16.pointee
            has16BitStorage = storage16.storageBuffer16BitAccess != 0
            has8BitStorage = can8Bit && storage8.storageBuffer8BitAccess != 0
            if !has8BitStorage, let i = deviceExtensions.firstIndex(of: "VK_KHR_8bit_storage") { deviceExtensions.remove(at: i) }

            // Enable only what the kernels use.
            var enable16 = VkPhysicalDevice16BitStorageFeatures()
            enable16.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES
            enable16.storageBuffer16BitAccess = has16BitStorage ? 1 : 0
            var enable8 = VkPhysicalDevice8BitStorageFeatures()
            enable8.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES
            enable8.storageBuffer8BitAccess = has8BitStorage ? 1 : 0

            var createdDevice: VkDevice?
            let devExtNames = CStringArray(deviceExtensions)
            defer { devExtNames.free() }
            let p8 = UnsafeMutablePointer<VkPhysicalDevice8BitStorageFeatures>.allocate(capacity: 1)
            let p16 = UnsafeMutablePointer<VkPhysicalDevice16BitStorageFeatures>.allocate(capacity: 1)
            let prio = UnsafeMutablePointer<Float>.allocate(capacity: 1)
            let queueInfo = UnsafeMutablePointer<VkDeviceQueueCreateInfo>.allocate(capacity: 1)
            defer { p8.deallocate(); p16.deallocate(); prio.deallocate(); queueInfo.deallocate() }
            p8.initialize(to: enable8)
            enable16.pNext = has8BitStorage ? UnsafeMutableRawPointer(p8) : nil
            p16.initialize(to: enable16)
            prio.initialize(to: 1)
            queueInfo.initialize(to: VkDeviceQueueCreateInfo())
            queueInfo.pointee.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO
            queueInfo.pointee.queueFamilyIndex = queueFamily
            queueInfo.pointee.queueCount = 1
            queueInfo.pointee.pQueuePriorities = UnsafePointer(prio)
            var deviceInfo = VkDeviceCreateInfo()
            deviceInfo.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO
            deviceInfo.pNext = UnsafeRawPointer(p16)
            deviceInfo.queueCreateInfoCount = 1
            deviceInfo.pQueueCreateInfos = UnsafePointer(queueInfo)
            deviceInfo.enabledExtensionCount = UInt32(deviceExtensions.count)
            deviceInfo.ppEnabledExtensionNames = devExtNames.pointer
            let r = vkCreateDevice(physicalDevice, &deviceInfo, nil, &createdDevice)
            try vkCheck(r, "vkCreateDevice(\(deviceName))")
            guard let device = createdDevice else { throw VulkanError("vkCreateDevice returned no device") }
            self.device = device
            var q: VkQueue?
            vkGetDeviceQueue(device, queueFamily, 0, &q)
            guard let q else {
                vkDestroyDevice(device, nil)
                throw VulkanError("vkGetDeviceQueue returned no queue")
            }
            queue = q

            let isUMADevice = deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU || deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU
            let mappedFlags = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT.rawValue | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT.rawValue
                | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT.rawValue
            let hasMappable = (0..<Int(memProps.memoryTypeCount)).contains { i in
                VulkanContext.memoryType(memProps, i).propertyFlags & mappedFlags == mappedFlags
            }
            // ZOO_VULKAN_MEMORY=staging|mapped overrides the choice (to exercise both paths).
            switch ProcessInfo.processInfo.environment["ZOO_VULKAN_MEMORY"] {
            case "staging": unifiedMemory = false
            case "mapped": unifiedMemory = hasMappable
            default: unifiedMemory = isUMADevice && hasMappable
            }
        } catch {
            vkDestroyInstance(instance, nil)
            throw error
        }
    }

    deinit {
        // Only reached when backend creation fails after the device exists.
        vkDeviceWaitIdle(device)
        vkDestroyDevice(device, nil)
        vkDestroyInstance(instance, nil)
    }

    static func memoryType(_ p: VkPhysicalDeviceMemoryProperties, _ i: Int) -> VkMemoryType {
        withUnsafeBytes(of: p.memoryTypes) { $0.bindMemory(to: VkMemoryType.self)[i] }
    }

    /// The first memory type allowed by `typeBits` that has all `required` flags, trying
    /// each `preferred` set of extra flags in order first.
    func memoryTypeIndex(typeBits: UInt32, required: VkMemoryPropertyFlags,
                         preferred: [VkMemoryPropertyFlags] = [], avoid: VkMemoryPropertyFlags = 0) -> UInt32? {
        let n = Int(memoryProperties.memoryTypeCount)
        func find(_ flags: VkMemoryPropertyFlags, _ avoid: VkMemoryPropertyFlags) -> UInt32? {
            for i in 0..<n where typeBits & (1 << UInt32(i)) != 0 {
                let f = VulkanContext.memoryType(memoryProperties, i).propertyFlags
                if f & flags == flags && f & avoid == 0 { return UInt32(i) }
            }
            return nil
        }
        for extra in preferred { if let i = find(required | extra, avoid) { return i } }
        return find(required, avoid) ?? find(required, 0)
    }
}

/// A NULL-free array of C strings that outlives the create-info structs pointing at it.
struct CStringArray {
    let pointer: UnsafePointer<UnsafePointer<CChar>?>?
    private let storage: UnsafeMutablePointer<UnsafePointer<CChar>?>?
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        guard count > 0 else { storage = nil; pointer = nil; return }
        let s = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: count)
        for (i, str) in strings.enumerated() { s[i] = UnsafePointer(strdup(str)) }
        storage = s
        pointer = UnsafePointer(s)
    }

    func free() {
        guard let storage else { return }
        for i in 0..<count { Foundation.free(UnsafeMutablePointer(mutating: storage[i])) }
        storage.deallocate()
    }
}
