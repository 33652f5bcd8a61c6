/// An evaluated tensor: a buffer plus the strided view of it that the tensor sees.
/// Views (transpose, slice, broadcast, contiguous reshape) share the buffer.
public struct ArrayData: @unchecked Sendable {
    public let buffer: Buffer
    /// Offset of element [0, 0, …] in elements of `dtype`.
    public let offset: Int
    public let shape: [Int]
    /// Strides in elements; 0 for broadcast dimensions.
    public let strides: [Int]
    public let dtype: DType
    public let isRowContiguous: Bool

    public init(buffer: Buffer, offset: Int = 0, shape: [Int], strides: [Int], dtype: DType) {
        self.buffer = buffer
        self.offset = offset
        self.shape = shape
        self.strides = strides
        self.dtype = dtype
        self.isRowContiguous = ArrayData.rowContiguous(shape: shape, strides: strides)
    }

    /// A new, row-contiguous, uninitialised array.
    public init(allocating shape: [Int], dtype: DType) {
        let n = shape.reduce(1, *)
        self.init(buffer: Buffer(byteCount: max(n, 1) * dtype.size), shape: shape,
                  strides: rowMajorStrides(shape), dtype: dtype)
    }

    public var count: Int { shape.reduce(1, *) }
    public var ndim: Int { shape.count }

    /// Host pointer to element [0, …] (syncs a device copy back first).
    public var pointer: UnsafeMutableRawPointer { buffer.host + offset * dtype.size }
    /// Host pointer for filling a freshly allocated array.
    public var writePointer: UnsafeMutableRawPointer { buffer.hostForWriting + offset * dtype.size }

    static func rowContiguous(shape: [Int], strides: [Int]) -> Bool {
        var expected = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            if shape[i] == 1 { continue }
            if shape[i] == 0 { return true }
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Same buffer, new view.
    func view(offset: Int, shape: [Int], strides: [Int]) -> ArrayData {
        ArrayData(buffer: buffer, offset: offset, shape: shape, strides: strides, dtype: dtype)
    }
}

public func rowMajorStrides(_ shape: [Int]) -> [Int] {
    Array(unsafeUninitializedCapacity: shape.count) { s, count in
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= max(shape[i], 1)
        }
        count = shape.count
    }
}
