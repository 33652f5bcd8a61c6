/// Placeholder until the Vulkan backend lands: no GPU.
func makeGPUBackend() -> (any Backend)? { nil }
