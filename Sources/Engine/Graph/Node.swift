import Foundation

/// A vertex of the lazy graph: an output of a primitive applied to input nodes.
/// Once evaluated it holds its data and lets go of its primitive and inputs.
final class Node: @unchecked Sendable {
    let shape: [Int]
    let dtype: DType
    let stream: Stream
    // Mutable state is guarded by `Scheduler.lock`.
    var primitive: (any Primitive)?
    var inputs: [Node]
    var data: ArrayData?
    /// Outputs of the same primitive call (multi-output primitives), weakly held.
    var siblings: [WeakNode] = []
    var outputIndex = 0
    var scheduled = false
    /// The epoch of the last scheduling walk that visited this node (guarded by `Scheduler.lock`).
    var mark: UInt = 0

    init(shape: [Int], dtype: DType, primitive: any Primitive, inputs: [Node], stream: Stream) {
        self.shape = shape
        self.dtype = dtype
        self.primitive = primitive
        self.inputs = inputs
        self.stream = stream
    }

    init(data: ArrayData, stream: Stream) {
        self.shape = data.shape
        self.dtype = data.dtype
        self.data = data
        self.inputs = []
        self.stream = stream
    }

    var size: Int { shape.reduce(1, *) }

    // Long chains (a + b applied 200,000 times) must not release recursively.
    deinit {
        guard !inputs.isEmpty else { return }
        var stack = inputs
        inputs = []
        while var n = stack.popLast() {
            if isKnownUniquelyReferenced(&n) {
                stack.append(contentsOf: n.inputs)
                n.inputs = []
            }
        }
    }
}

struct WeakNode: @unchecked Sendable {
    weak var node: Node?
}
