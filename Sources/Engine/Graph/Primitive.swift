/// Shape and dtype of one output of a primitive.
public struct OutputSpec: Sendable, Hashable {
    public let shape: [Int]
    public let dtype: DType
    public init(_ shape: [Int], _ dtype: DType) { self.shape = shape; self.dtype = dtype }
}

/// One operation: everything about it lives with it — its name, its CPU kernel,
/// optional accelerator kernels (through backend-specific protocols such as
/// `VulkanPrimitive`), and its equivalence for common-subexpression elimination.
/// Differentiation (`vjp`/`jvp`) and `vmap` rules are added by the transforms layer.
public protocol Primitive: Sendable {
    var name: String { get }
    /// Computes the outputs on the CPU. Inputs may be strided views.
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData]
    /// True when `other` computes the same function of the same inputs.
    func isEquivalent(to other: any Primitive) -> Bool
}

extension Primitive {
    public func isEquivalent(to other: any Primitive) -> Bool { false }
}

/// An execution engine for primitives on one device kind.
public protocol Backend: AnyObject, Sendable {
    var deviceName: String { get }
    /// Runs `primitive` if this backend has a kernel for it with these inputs; nil otherwise
    /// (the scheduler then runs it on the CPU).
    func run(_ primitive: any Primitive, inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData]?
}

enum Backends {
    /// The Vulkan backend, or nil where no Vulkan device exists.
    static let gpu: (any Backend)? = makeGPUBackend()
}
