import Foundation

/// Storage that `appending(_:to:axis:storage:)` grows in place along one axis, in steps: what a
/// KV cache needs. Concatenating a cache with each new position copies the whole cache every
/// step (quadratic in the length); appending writes only the new positions.
///
/// Each position of a storage buffer is written once. The tensors handed out are views of the
/// buffer covering the positions written so far, so writing later positions never changes
/// them. An append that does not continue the latest one (it starts before the positions
/// already written, or from a tensor that is not this storage's latest view) copies into a new
/// buffer instead, so earlier results stay valid whatever the caller does.
public final class AppendStorage: @unchecked Sendable {
    /// Positions added per growth.
    public let step: Int
    private let lock = NSLock()
    private var buffer: Buffer?
    private var capacityShape: [Int] = []
    private var written = 0

    public init(step: Int = 256) { self.step = max(step, 1) }

    /// Positions written into the current buffer (0 before the first evaluated append).
    public var positions: Int {
        lock.lock(); defer { lock.unlock() }
        return written
    }

    fileprivate func append(_ prev: ArrayData?, _ x: ArrayData, axis: Int, out: OutputSpec) -> ArrayData {
        lock.lock(); defer { lock.unlock() }
        let start = prev?.shape[axis] ?? 0, n = x.shape[axis], end = start + n
        let es = out.dtype.size
        var reuse = false
        if let buffer, let prev, prev.buffer === buffer, prev.offset == 0, written == start,
           end <= capacityShape[axis], prev.dtype == out.dtype,
           prev.strides == rowMajorStrides(capacityShape) {
            reuse = true
        }
        if !reuse {
            // A new buffer: room for `end` rounded up to the step; the earlier positions copied.
            var shape = out.shape
            shape[axis] = (end + step - 1) / step * step
            let fresh = Buffer(byteCount: max(shape.reduce(1, *), 1) * es)
            if let prev, start > 0 {
                copy(prev, into: fresh.hostForWriting, strides: rowMajorStrides(shape), at: 0, axis: axis)
            }
            buffer = fresh
            capacityShape = shape
        }
        let buf = buffer!
        _ = buf.host  // the host copy is current (only this storage writes the buffer)
        let strides = rowMajorStrides(capacityShape)
        copy(x, into: buf.hostForWriting, strides: strides, at: start, axis: axis)
        written = end
        return ArrayData(buffer: buf, offset: 0, shape: out.shape, strides: strides, dtype: out.dtype)
    }

    /// Copies `x` into a destination laid out with `strides`, from position `pos` along `axis`.
    private func copy(_ x: ArrayData, into dst: UnsafeMutableRawPointer, strides: [Int], at pos: Int, axis: Int) {
        if x.count == 0 { return }
        let es = x.dtype.size
        let off = pos * strides[axis]
        if x.isRowContiguous && !x.strides.contains(0) {
            // A dense block (a decode step's keys): one copy per index of the leading dims,
            // without the strided-layout analysis (the destination is row-major).
            let n = x.shape[axis...].reduce(1, *)
            let rows = x.shape[..<axis].reduce(1, *)
            let rowStride = axis == 0 ? 0 : strides[axis - 1]
            let src = UnsafeRawPointer(x.pointer)
            for r in 0..<rows {
                (dst + (r * rowStride + off) * es).copyMemory(from: src + r * n * es, byteCount: n * es)
            }
            return
        }
        let layout = StridedLayout(shape: x.shape, strides: [strides, x.strides])
        let src = UnsafeRawPointer(x.pointer)
        let di = layout.innerStride(0), si = layout.innerStride(1)
        layout.forEachRun { _, count, offs in
            copyElements(es, from: src + offs[1] * es, si, to: dst + (off + offs[0]) * es, di, count)
        }
    }
}

struct AppendPrimitive: Primitive {
    let storage: AppendStorage
    let axis: Int
    let hasPrevious: Bool
    var name: String { "append" }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        let prev = hasPrevious ? inputs[0] : nil
        return [storage.append(prev, inputs[hasPrevious ? 1 : 0], axis: axis, out: outputs[0])]
    }
}

/// `concatenated([previous, x], axis: axis)` (or `x` when there is no previous), written in
/// place into `storage` when `previous` is the storage's latest result: the KV cache's append.
/// The result is a strided view of the storage (positions beyond it are not yet written).
public func appending(_ x: Tensor, to previous: Tensor?, axis: Int, storage: AppendStorage) -> Tensor {
    let op = "append"
    guard let ax = normalizeAxis(axis, x.ndim, op) else { return .errorPlaceholder(x.dtype) }
    var shape = x.shape
    if let previous {
        var shapes: String { "x \(fmt(x.shape)), previous \(fmt(previous.shape))" }  // built only for an error message
        guard check(previous.ndim == x.ndim, op, "ranks differ: \(shapes)"),
              check((0 ..< x.ndim).allSatisfy { $0 == ax || previous.shape[$0] == x.shape[$0] }, op,
                    "shapes differ outside axis \(axis): \(shapes)"),
              check(previous.dtype == x.dtype, op, "dtypes differ: \(previous.dtype) and \(x.dtype)")
        else { return .errorPlaceholder(x.dtype) }
        shape[ax] += previous.shape[ax]
    }
    return Tensor(AppendPrimitive(storage: storage, axis: ax, hasPrevious: previous != nil),
                  previous.map { [$0, x] } ?? [x], shape: shape, dtype: x.dtype)
}
