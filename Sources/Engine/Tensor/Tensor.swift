import Foundation

/// An n-dimensional array. Lazy: ops record a graph; values are computed on `eval`,
/// `item`, `toArray` or printing. Immutable from the user's view; subscript
/// assignment rebinds the variable to an updated copy.
public struct Tensor: Sendable {
    let node: Node

    init(node: Node) { self.node = node }

    /// Wraps already-computed data.
    init(data: ArrayData, stream: Stream = currentStream()) {
        self.node = Node(data: data, stream: stream)
    }

    /// Records `primitive` applied to `inputs`.
    init(_ primitive: any Primitive, _ inputs: [Tensor], shape: [Int], dtype: DType, stream: Stream = currentStream()) {
        self.node = Node(shape: shape, dtype: dtype, primitive: primitive, inputs: inputs.map(\.node), stream: stream)
    }

    /// Records a multi-output primitive; returns one tensor per output spec.
    static func multi(_ primitive: any Primitive & MultiOutput, _ inputs: [Tensor], stream: Stream = currentStream()) -> [Tensor] {
        let nodes = primitive.outputSpecs.map {
            Node(shape: $0.shape, dtype: $0.dtype, primitive: primitive, inputs: inputs.map(\.node), stream: stream)
        }
        let weak = nodes.map { WeakNode(node: $0) }
        for (i, n) in nodes.enumerated() { n.siblings = weak; n.outputIndex = i }
        return nodes.map { Tensor(node: $0) }
    }

    public var shape: [Int] { node.shape }
    public var dtype: DType { node.dtype }
    public var ndim: Int { node.shape.count }
    public var size: Int { node.size }
    public var nbytes: Int { size * dtype.size }
    public var stream: Stream { node.stream }
    public var device: Device { node.stream.device }
    public func dim(_ axis: Int) -> Int { shape[axis < 0 ? axis + ndim : axis] }

    /// Evaluated data (evaluates first).
    var evaluated: ArrayData {
        Scheduler.lock.lock()
        if let d = node.data { Scheduler.lock.unlock(); return d }
        Scheduler.lock.unlock()
        Scheduler.eval([node])
        Scheduler.lock.lock(); defer { Scheduler.lock.unlock() }
        return node.data!
    }

    /// True once the value has been computed.
    public var isEvaluated: Bool { Scheduler.lock.lock(); defer { Scheduler.lock.unlock() }; return node.data != nil }

    public func eval() { Scheduler.eval([node]) }
}

// MARK: - Construction from Swift values

extension Tensor {
    public init<T: TensorScalar>(_ values: [T], shape: [Int]? = nil) {
        let shape = shape ?? [values.count]
        let n = shape.reduce(1, *)
        guard check(shape.allSatisfy { $0 >= 0 }, "Tensor.init", "negative dimension in shape \(fmt(shape))"),
              check(n == values.count, "Tensor.init", "\(values.count) values cannot fill shape \(fmt(shape))")
        else { self = Tensor.errorPlaceholder(T.dtype); return }
        let a = ArrayData(allocating: shape, dtype: T.dtype)
        values.withUnsafeBytes { src in
            if src.count > 0 { a.writePointer.copyMemory(from: src.baseAddress!, byteCount: src.count) }
        }
        self.init(data: a)
    }

    /// Swift `Int` values become int32, as in MLX.
    public init(_ values: [Int], shape: [Int]? = nil) {
        self.init(values.map { Int32(truncatingIfNeeded: $0) }, shape: shape)
    }

    public init<T: TensorScalar>(_ values: [[T]]) {
        let rows = values.count, cols = values.first?.count ?? 0
        guard check(values.allSatisfy { $0.count == cols }, "Tensor.init", "ragged nested array")
        else { self = Tensor.errorPlaceholder(T.dtype); return }
        self.init(values.flatMap { $0 }, shape: [rows, cols])
    }

    public init(_ values: [[Int]]) { self.init(values.map { $0.map { Int32(truncatingIfNeeded: $0) } }) }

    public init<T: TensorScalar>(_ values: [[[T]]]) {
        let a = values.count, b = values.first?.count ?? 0, c = values.first?.first?.count ?? 0
        guard check(values.allSatisfy { $0.count == b && $0.allSatisfy { $0.count == c } }, "Tensor.init", "ragged nested array")
        else { self = Tensor.errorPlaceholder(T.dtype); return }
        self.init(values.flatMap { $0.flatMap { $0 } }, shape: [a, b, c])
    }

    /// Scalar tensors. Double literals become float32 (as in MLX); Int becomes int32.
    public init<T: TensorScalar>(_ value: T) { self.init([value], shape: []) }
    public init(_ value: Double) { self.init([Float(value)], shape: []) }
    public init(_ value: Int) { self.init([Int32(truncatingIfNeeded: value)], shape: []) }
    public init(_ value: Double, dtype: DType) { self = Tensor(Float(value)).asType(dtype) }

    /// Raw bytes of a given dtype (row-major).
    public init(bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType) {
        let a = ArrayData(allocating: shape, dtype: dtype)
        let n = shape.reduce(1, *) * dtype.size
        precondition(bytes.count >= n, "Tensor(bytes:): \(bytes.count) bytes for shape \(fmt(shape)) of \(dtype)")
        if n > 0 { a.writePointer.copyMemory(from: bytes.baseAddress!, byteCount: n) }
        self.init(data: a)
    }

    /// A tensor over memory owned by `owner` (no copy). `pointer` must stay valid and unchanged
    /// while `owner` lives, and be aligned to the dtype's size.
    public init(borrowing pointer: UnsafeMutableRawPointer, shape: [Int], dtype: DType, owner: AnyObject) {
        let n = shape.reduce(1, *) * dtype.size
        let buffer = Buffer(borrowing: pointer, byteCount: n, owner: owner)
        self.init(data: ArrayData(buffer: buffer, shape: shape, strides: rowMajorStrides(shape), dtype: dtype))
    }

    /// A harmless value returned by an op whose arguments were rejected inside `withError`.
    static func errorPlaceholder(_ dtype: DType = .float32) -> Tensor {
        let a = ArrayData(allocating: [], dtype: dtype)
        memset(a.writePointer, 0, dtype.size)
        return Tensor(data: a)
    }
}

// MARK: - Reading values

extension Tensor {
    /// The single value of a one-element tensor.
    public func item<T: TensorScalar>(_ type: T.Type = T.self) -> T {
        guard check(size == 1, "item", "tensor of shape \(fmt(shape)) has \(size) elements, not 1")
        else { return T(fromDouble: 0) }
        return toArray(T.self)[0]
    }

    /// All values in row-major order, converted to `T`.
    public func toArray<T: TensorScalar>(_ type: T.Type = T.self) -> [T] {
        let t = dtype == T.dtype ? self : asType(T.dtype)
        let d = contiguousData(t.evaluated)
        let n = d.count
        return [T](unsafeUninitializedCapacity: n) { buf, count in
            if n > 0 { UnsafeMutableRawPointer(buf.baseAddress!).copyMemory(from: d.pointer, byteCount: n * T.dtype.size) }
            count = n
        }
    }

    /// Raw bytes, row-major, in the tensor's dtype.
    public func toBytes() -> [UInt8] {
        let d = contiguousData(evaluated)
        let n = d.count * dtype.size
        return [UInt8](unsafeUninitializedCapacity: n) { buf, count in
            if n > 0 { UnsafeMutableRawPointer(buf.baseAddress!).copyMemory(from: d.pointer, byteCount: n) }
            count = n
        }
    }

    /// Calls `body` with the evaluated, row-major bytes (no copy when already contiguous).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let d = contiguousData(evaluated)
        return try withExtendedLifetime(d) {
            try body(UnsafeRawBufferPointer(start: d.count == 0 ? nil : UnsafeRawPointer(d.pointer),
                                            count: d.count * dtype.size))
        }
    }

    /// Values widened to Double (any dtype; complex gives the real part).
    public func toDoubles() -> [Double] { toArray(Double.self) }
}

// MARK: - Evaluation

public func eval(_ tensors: Tensor...) { Scheduler.eval(tensors.map(\.node)) }
public func eval(_ tensors: [Tensor]) { Scheduler.eval(tensors.map(\.node)) }
/// Starts evaluation and returns at once; a later `eval` or read waits for it.
public func asyncEval(_ tensors: [Tensor]) { Scheduler.asyncEval(tensors.map(\.node)) }
public func asyncEval(_ tensors: Tensor...) { Scheduler.asyncEval(tensors.map(\.node)) }
