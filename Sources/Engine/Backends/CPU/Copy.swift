import CKernels
import Foundation

/// Copies a strided array into a new row-contiguous one, converting to `dtype`.
func copyContiguous(_ src: ArrayData, to dtype: DType) -> ArrayData {
    let out = ArrayData(allocating: src.shape, dtype: dtype)
    if src.count == 0 { return out }
    let dst = out.writePointer
    let layout = StridedLayout(shape: src.shape, strides: [src.strides])
    let base = src.pointer
    // Fast paths: the common half <-> float conversions on contiguous runs.
    if layout.innerStride(0) == 1 {
        switch (src.dtype, dtype) {
        case (.float16, .float32), (.bfloat16, .float32), (.float32, .float16), (.float32, .bfloat16):
            let (sd, dd) = (src.dtype, dtype)
            layout.forEachRun { o, n, offs in
                let s = base + offs[0] * sd.size, d = dst + o * dd.size
                switch (sd, dd) {
                case (.float16, _): zoo_f16_to_f32(s.assumingMemoryBound(to: UInt16.self), d.assumingMemoryBound(to: Float.self), n)
                case (.bfloat16, _): zoo_bf16_to_f32(s.assumingMemoryBound(to: UInt16.self), d.assumingMemoryBound(to: Float.self), n)
                case (_, .float16): zoo_f32_to_f16(s.assumingMemoryBound(to: Float.self), d.assumingMemoryBound(to: UInt16.self), n)
                default: zoo_f32_to_bf16(s.assumingMemoryBound(to: Float.self), d.assumingMemoryBound(to: UInt16.self), n)
                }
            }
            return out
        default: break
        }
    }
    if src.dtype == dtype {
        let es = dtype.size
        let inner = layout.innerStride(0)
        layout.forEachRun { o, n, offs in
            let s = base + offs[0] * es, d = dst + o * es
            if inner == 1 { d.copyMemory(from: s, byteCount: n * es); return }
            switch es {
            case 1: stridedCopy(s, inner, d, n, UInt8.self)
            case 2: stridedCopy(s, inner, d, n, UInt16.self)
            case 4: stridedCopy(s, inner, d, n, UInt32.self)
            default: stridedCopy(s, inner, d, n, UInt64.self)
            }
        }
        return out
    }
    src.dtype.dispatch(ConvertVisitor(layout: layout, base: base, dst: dst, dstType: dtype))
    return out
}

@inline(__always)
private func stridedCopy<E>(_ s: UnsafeMutableRawPointer, _ stride: Int, _ d: UnsafeMutableRawPointer, _ n: Int, _: E.Type) {
    let sp = s.assumingMemoryBound(to: E.self), dp = d.assumingMemoryBound(to: E.self)
    for i in 0..<n { dp[i] = sp[i * stride] }
}

private struct ConvertVisitor: DTypeVisitor {
    let layout: StridedLayout
    let base: UnsafeMutableRawPointer
    let dst: UnsafeMutableRawPointer
    let dstType: DType
    func visit<S: CPUScalar>(_ s: S.Type) {
        dstType.dispatch(Inner<S>(layout: layout, base: base, dst: dst))
    }
    struct Inner<S: CPUScalar>: DTypeVisitor {
        let layout: StridedLayout
        let base: UnsafeMutableRawPointer
        let dst: UnsafeMutableRawPointer
        func visit<D: CPUScalar>(_ d: D.Type) {
            let sp = base.assumingMemoryBound(to: S.self), dp = dst.assumingMemoryBound(to: D.self)
            let inner = layout.innerStride(0)
            layout.forEachRun { o, n, offs in
                let s = sp + offs[0], d = dp + o
                for i in 0..<n { d[i] = convertScalar(s[i * inner], to: D.self) }
            }
        }
    }
}

/// The same data, row-contiguous (no copy when it already is and starts at its buffer's data).
func contiguousData(_ a: ArrayData) -> ArrayData {
    a.isRowContiguous && !a.strides.contains(0) || a.count <= 1 && a.isRowContiguous ? a : copyContiguous(a, to: a.dtype)
}

/// `astype`: converts the dtype; also used to make a contiguous copy (same dtype).
struct AsTypePrimitive: Primitive {
    let dtype: DType
    var name: String { "astype" }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        [copyContiguous(inputs[0], to: dtype)]
    }
    func isEquivalent(to other: any Primitive) -> Bool { (other as? AsTypePrimitive)?.dtype == dtype }
}

/// A contiguous copy (same dtype).
struct ContiguousPrimitive: Primitive {
    var name: String { "contiguous" }
    func evalCPU(_ inputs: [ArrayData], outputs: [OutputSpec]) throws -> [ArrayData] {
        [contiguousData(inputs[0])]
    }
    func isEquivalent(to other: any Primitive) -> Bool { other is ContiguousPrimitive }
}

extension Tensor {
    /// The values converted to `dtype` (no-op when already of that type).
    public func asType(_ dtype: DType) -> Tensor {
        if dtype == self.dtype { return self }
        return Tensor(AsTypePrimitive(dtype: dtype), [self], shape: shape, dtype: dtype, stream: stream)
    }
    /// A row-contiguous copy when the tensor is a strided view.
    public func contiguous() -> Tensor {
        Tensor(ContiguousPrimitive(), [self], shape: shape, dtype: dtype, stream: stream)
    }
}
public func asType(_ x: Tensor, _ dtype: DType) -> Tensor { x.asType(dtype) }
public func contiguous(_ x: Tensor) -> Tensor { x.contiguous() }
