import CShaderc
import CVulkan
import Foundation

/// A compiled compute pipeline with its layouts.
struct VulkanPipeline: @unchecked Sendable {
    let pipeline: VkPipeline
    let layout: VkPipelineLayout
    let setLayout: VkDescriptorSetLayout
    let bindings: Int
}

/// A shader variant: one source per op family, specialised by `#define`s (as in ggml-vulkan).
struct ShaderVariant: Hashable {
    let name: String
    let defines: [String: String]
    let bindings: Int

    /// The cache key: the shader name and its defines in a fixed order.
    var key: String {
        name + "|" + defines.keys.sorted().map { "\($0)=\(defines[$0]!)" }.joined(separator: ";")
    }
}

/// GLSL -> SPIR-V at run time (libshaderc) and pipelines cached by (shader, defines).
final class VulkanPipelineCache: @unchecked Sendable {
    /// Bytes of push constants every pipeline layout declares (the guaranteed minimum).
    static let pushConstantSize = 128

    private let context: VulkanContext
    private let lock = NSLock()
    private let compiler: OpaquePointer
    private let options: OpaquePointer
    private var setLayouts: [Int: VkDescriptorSetLayout] = [:]
    private var pipelineLayouts: [Int: VkPipelineLayout] = [:]
    private var pipelines: [String: VulkanPipeline] = [:]
    private var failed: [String: String] = [:]
    private var vkCache: VkPipelineCache?

    init(context: VulkanContext) throws {
        self.context = context
        guard let c = shaderc_compiler_initialize() else { throw VulkanError("shaderc_compiler_initialize failed") }
        guard let o = shaderc_compile_options_initialize() else {
            shaderc_compiler_release(c)
            throw VulkanError("shaderc_compile_options_initialize failed")
        }
        compiler = c
        options = o
        shaderc_compile_options_set_target_env(o, shaderc_target_env_vulkan, UInt32(shaderc_env_version_vulkan_1_1.rawValue))
        shaderc_compile_options_set_optimization_level(o, shaderc_optimization_level_performance)
        var info = VkPipelineCacheCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO
        _ = vkCreatePipelineCache(context.device, &info, nil, &vkCache)
    }

    /// Pipelines built so far.
    var count: Int { lock.lock(); defer { lock.unlock() }; return pipelines.count }

    /// Compile errors met so far (shader bugs, or a driver that rejects a pipeline), by variant.
    var failures: [String: String] { lock.lock(); defer { lock.unlock() }; return failed }

    /// The pipeline for `variant`, compiling it on first use; nil if it cannot be built
    /// (the failure is recorded once and the caller falls back to the CPU).
    func pipeline(_ variant: ShaderVariant, source: () -> String) -> VulkanPipeline? {
        let key = variant.key
        lock.lock(); defer { lock.unlock() }
        if let p = pipelines[key] { return p }
        if failed[key] != nil { return nil }
        do {
            let spirv = try compile(source(), name: variant.name)
            let p = try makePipeline(spirv: spirv, bindings: variant.bindings)
            pipelines[key] = p
            return p
        } catch {
            failed[key] = "\(error)"
            if ProcessInfo.processInfo.environment["ZOO_VULKAN_DEBUG"] != nil {
                FileHandle.standardError.write(Data("Vulkan: \(key): \(error)\n".utf8))
            }
            return nil
        }
    }

    func compile(_ source: String, name: String) throws -> [UInt32] {
        let result = source.withCString { src in
            shaderc_compile_into_spv(compiler, src, strlen(src), shaderc_compute_shader, name + ".comp", "main", options)
        }
        guard let result else { throw VulkanError("shaderc returned no result for \(name)") }
        defer { shaderc_result_release(result) }
        guard shaderc_result_get_compilation_status(result) == shaderc_compilation_status_success else {
            let log = String(cString: shaderc_result_get_error_message(result))
            throw VulkanError("shader \(name) did not compile: \(log)")
        }
        let n = shaderc_result_get_length(result)
        var words = [UInt32](repeating: 0, count: n / 4)
        words.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: shaderc_result_get_bytes(result), byteCount: n / 4 * 4) }
        return words
    }

    private func layouts(bindings: Int) throws -> (VkDescriptorSetLayout, VkPipelineLayout) {
        if let s = setLayouts[bindings], let p = pipelineLayouts[bindings] { return (s, p) }
        let device = context.device
        var entries = (0..<bindings).map { i -> VkDescriptorSetLayoutBinding in
            var b = VkDescriptorSetLayoutBinding()
            b.binding = UInt32(i)
            b.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
            b.descriptorCount = 1
            b.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT.rawValue
            return b
        }
        var setInfo = VkDescriptorSetLayoutCreateInfo()
        setInfo.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO
        setInfo.bindingCount = UInt32(bindings)
        var setLayout: VkDescriptorSetLayout?
        try entries.withUnsafeMutableBufferPointer { e in
            setInfo.pBindings = UnsafePointer(e.baseAddress)
            try vkCheck(vkCreateDescriptorSetLayout(device, &setInfo, nil, &setLayout), "vkCreateDescriptorSetLayout")
        }
        var range = VkPushConstantRange(stageFlags: VK_SHADER_STAGE_COMPUTE_BIT.rawValue, offset: 0,
                                        size: UInt32(VulkanPipelineCache.pushConstantSize))
        var layoutInfo = VkPipelineLayoutCreateInfo()
        layoutInfo.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO
        layoutInfo.setLayoutCount = 1
        layoutInfo.pushConstantRangeCount = 1
        var pipelineLayout: VkPipelineLayout?
        var sl: VkDescriptorSetLayout? = setLayout
        try withUnsafePointer(to: &sl) { slp in
            try withUnsafePointer(to: &range) { rp in
                layoutInfo.pSetLayouts = slp
                layoutInfo.pPushConstantRanges = rp
                try vkCheck(vkCreatePipelineLayout(device, &layoutInfo, nil, &pipelineLayout), "vkCreatePipelineLayout")
            }
        }
        setLayouts[bindings] = setLayout!
        pipelineLayouts[bindings] = pipelineLayout!
        return (setLayout!, pipelineLayout!)
    }

    private func makePipeline(spirv: [UInt32], bindings: Int) throws -> VulkanPipeline {
        let device = context.device
        let (setLayout, layout) = try layouts(bindings: bindings)
        var module: VkShaderModule?
        try spirv.withUnsafeBufferPointer { code in
            var info = VkShaderModuleCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO
            info.codeSize = code.count * 4
            info.pCode = code.baseAddress
            try vkCheck(vkCreateShaderModule(device, &info, nil, &module), "vkCreateShaderModule")
        }
        defer { vkDestroyShaderModule(device, module, nil) }
        let entry = strdup("main")!
        defer { free(entry) }
        var stage = VkPipelineShaderStageCreateInfo()
        stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO
        stage.stage = VK_SHADER_STAGE_COMPUTE_BIT
        stage.module = module
        stage.pName = UnsafePointer(entry)
        var info = VkComputePipelineCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO
        info.stage = stage
        info.layout = layout
        var pipeline: VkPipeline?
        try vkCheck(vkCreateComputePipelines(device, vkCache, 1, &info, nil, &pipeline), "vkCreateComputePipelines")
        return VulkanPipeline(pipeline: pipeline!, layout: layout, setLayout: setLayout, bindings: bindings)
    }
}
