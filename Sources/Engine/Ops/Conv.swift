import Foundation

// Convolutions, channels-last as in MLX: input [N, spatial..., C_in], weight
// [C_out, kernel..., C_in / groups], output [N, spatial'..., C_out].

/// General N-d convolution (1 to 3 spatial dims) with per-dim stride, padding and dilation.
public func convGeneral(_ input: Tensor, _ weight: Tensor, stride: [Int], padding: [Int], dilation: [Int],
                        groups: Int = 1, transposed: Bool = false, outputPadding: [Int]? = nil) -> Tensor {
    let nd = input.ndim - 2
    let op = transposed ? "conv_transpose\(max(nd, 1))d" : "conv\(max(nd, 1))d"
    let shapes = "input \(fmt(input.shape)), weight \(fmt(weight.shape))"
    let outPad = outputPadding ?? [Int](repeating: 0, count: max(nd, 0))
    guard check(nd >= 1 && nd <= 3 && weight.ndim == input.ndim, op,
                "input and weight must both be [N, spatial..., C] with 1 to 3 spatial dims: \(shapes)"),
          check(stride.count == nd && padding.count == nd && dilation.count == nd && outPad.count == nd, op,
                "stride, padding and dilation need \(nd) entries each"),
          check(stride.allSatisfy { $0 >= 1 } && dilation.allSatisfy { $0 >= 1 } && padding.allSatisfy { $0 >= 0 }
                && outPad.allSatisfy { $0 >= 0 }, op,
                "stride \(stride) and dilation \(dilation) must be >= 1, padding \(padding) >= 0"),
          check(groups >= 1 && input.dim(-1) % groups == 0 && weight.dim(0) % groups == 0, op,
                "groups \(groups) must divide the input channels and the output channels: \(shapes)"),
          check(weight.dim(-1) * groups == input.dim(-1), op,
                "weight's last axis \(weight.dim(-1)) times groups \(groups) must equal the input channels \(input.dim(-1)): \(shapes)")
    else { return .errorPlaceholder(input.dtype) }
    var dt = promoteTypes(input.dtype, weight.dtype)
    guard check(dt.isFloatingPoint || dt.isInteger, op, "unsupported dtype \(dt)") else { return .errorPlaceholder(dt) }
    if !dt.isFloatingPoint { dt = .float32 }
    var outSp: [Int] = []
    for d in 0..<nd {
        let i = input.dim(d + 1), k = weight.dim(d + 1)
        let span = dilation[d] * (k - 1) + 1
        let o = transposed ? (i - 1) * stride[d] - 2 * padding[d] + span + outPad[d]
                           : (i + 2 * padding[d] - span) / stride[d] + 1
        guard check(transposed ? o >= 0 : i + 2 * padding[d] >= span, op,
                    "the dilated kernel (\(span)) is larger than the padded input (\(i + 2 * padding[d])) on spatial axis \(d): \(shapes)")
        else { return .errorPlaceholder(dt) }
        outSp.append(max(o, 0))
    }
    let shape = [input.dim(0)] + outSp + [weight.dim(0)]
    let r = Tensor(ConvPrimitive(stride: stride, padding: padding, dilation: dilation, groups: groups, transposed: transposed),
                   [input.asType(.float32), weight.asType(.float32)], shape: shape, dtype: .float32)
    return r.asType(dt)
}

public func conv1d(_ input: Tensor, _ weight: Tensor, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                   groups: Int = 1) -> Tensor {
    convGeneral(input, weight, stride: [stride], padding: [padding], dilation: [dilation], groups: groups)
}

public func conv2d(_ input: Tensor, _ weight: Tensor, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                   dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
    convGeneral(input, weight, stride: [stride.0, stride.1], padding: [padding.0, padding.1],
                dilation: [dilation.0, dilation.1], groups: groups)
}

public func conv3d(_ input: Tensor, _ weight: Tensor, stride: (Int, Int, Int) = (1, 1, 1), padding: (Int, Int, Int) = (0, 0, 0),
                   dilation: (Int, Int, Int) = (1, 1, 1), groups: Int = 1) -> Tensor {
    convGeneral(input, weight, stride: [stride.0, stride.1, stride.2], padding: [padding.0, padding.1, padding.2],
                dilation: [dilation.0, dilation.1, dilation.2], groups: groups)
}

public func convTransposed1d(_ input: Tensor, _ weight: Tensor, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                             outputPadding: Int = 0, groups: Int = 1) -> Tensor {
    convGeneral(input, weight, stride: [stride], padding: [padding], dilation: [dilation], groups: groups,
                transposed: true, outputPadding: [outputPadding])
}

public func convTransposed2d(_ input: Tensor, _ weight: Tensor, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                             dilation: (Int, Int) = (1, 1), outputPadding: (Int, Int) = (0, 0), groups: Int = 1) -> Tensor {
    convGeneral(input, weight, stride: [stride.0, stride.1], padding: [padding.0, padding.1],
                dilation: [dilation.0, dilation.1], groups: groups, transposed: true,
                outputPadding: [outputPadding.0, outputPadding.1])
}

public func convTransposed3d(_ input: Tensor, _ weight: Tensor, stride: (Int, Int, Int) = (1, 1, 1),
                             padding: (Int, Int, Int) = (0, 0, 0), dilation: (Int, Int, Int) = (1, 1, 1),
                             outputPadding: (Int, Int, Int) = (0, 0, 0), groups: Int = 1) -> Tensor {
    convGeneral(input, weight, stride: [stride.0, stride.1, stride.2], padding: [padding.0, padding.1, padding.2],
                dilation: [dilation.0, dilation.1, dilation.2], groups: groups, transposed: true,
                outputPadding: [outputPadding.0, outputPadding.1, outputPadding.2])
}
