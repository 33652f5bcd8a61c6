import Engine

/// GGML tensor types as numbered in GGUF files. Block types pack `blockSize` values into
/// `typeSize` bytes; plain types have a block of one value.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30
    case tq1_0 = 34, tq2_0 = 35

    public var description: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"
        case .q8_1: "Q8_1"
        case .q2_K: "Q2_K"
        case .q3_K: "Q3_K"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        case .q8_K: "Q8_K"
        case .iq2_xxs: "IQ2_XXS"
        case .iq2_xs: "IQ2_XS"
        case .iq3_xxs: "IQ3_XXS"
        case .iq1_s: "IQ1_S"
        case .iq4_nl: "IQ4_NL"
        case .iq3_s: "IQ3_S"
        case .iq2_s: "IQ2_S"
        case .iq4_xs: "IQ4_XS"
        case .i8: "I8"
        case .i16: "I16"
        case .i32: "I32"
        case .i64: "I64"
        case .f64: "F64"
        case .iq1_m: "IQ1_M"
        case .bf16: "BF16"
        case .tq1_0: "TQ1_0"
        case .tq2_0: "TQ2_0"
        }
    }

    /// Parses names like `q4_0`, `Q6_K`, `f16`.
    public init?(name: String) {
        guard let t = GGMLType.allCases.first(where: { $0.description.lowercased() == name.lowercased() }) else { return nil }
        self = t
    }

    /// (values per block, bytes per block)
    public var blockLayout: (blockSize: Int, typeSize: Int) {
        switch self {
        case .f32: (1, 4)
        case .f16, .bf16: (1, 2)
        case .f64, .i64: (1, 8)
        case .i8: (1, 1)
        case .i16: (1, 2)
        case .i32: (1, 4)
        case .q4_0: (32, 2 + 16)
        case .q4_1: (32, 2 + 2 + 16)
        case .q5_0: (32, 2 + 4 + 16)
        case .q5_1: (32, 2 + 2 + 4 + 16)
        case .q8_0: (32, 2 + 32)
        case .q8_1: (32, 4 + 32)
        case .q2_K: (256, 256 / 16 + 256 / 4 + 2 + 2)
        case .q3_K: (256, 256 / 8 + 256 / 4 + 12 + 2)
        case .q4_K: (256, 2 + 2 + 12 + 256 / 2)
        case .q5_K: (256, 2 + 2 + 12 + 256 / 8 + 256 / 2)
        case .q6_K: (256, 256 / 2 + 256 / 4 + 256 / 16 + 2)
        case .q8_K: (256, 4 + 256 + 16 * 2)
        case .iq2_xxs: (256, 2 + 256 / 4)
        case .iq2_xs: (256, 2 + 256 / 4 + 256 / 32)
        case .iq3_xxs: (256, 2 + 256 / 4 + 256 / 8)
        case .iq1_s: (256, 2 + 256 / 8 + 256 / 16)
        case .iq4_nl: (32, 2 + 16)
        case .iq3_s: (256, 2 + 256 / 4 + 256 / 8 + 256 / 32 + 4)
        case .iq2_s: (256, 2 + 256 / 4 + 256 / 16)
        case .iq4_xs: (256, 2 + 2 + 256 / 64 + 256 / 2)
        case .iq1_m: (256, 256 / 8 + 256 / 16 + 256 / 32)
        case .tq1_0: (256, 2 + 4 * 13)
        case .tq2_0: (256, 2 + 64)
        }
    }

    public var isQuantized: Bool { blockLayout.blockSize > 1 }

    /// The Engine dtype a plain (non-block) type maps to.
    public var plainDType: DType? {
        switch self {
        case .f32: .float32
        case .f16: .float16
        case .bf16: .bfloat16
        case .f64: .float64
        case .i8: .int8
        case .i16: .int16
        case .i32: .int32
        case .i64: .int64
        default: nil
        }
    }

    public init?(plain dtype: DType) {
        switch dtype {
        case .float32: self = .f32
        case .float16: self = .f16
        case .bfloat16: self = .bf16
        case .float64: self = .f64
        case .int8: self = .i8
        case .int16: self = .i16
        case .int32: self = .i32
        case .int64: self = .i64
        default: return nil
        }
    }

    /// Whether Zoo can turn blocks of this type into floats.
    public var canDequantize: Bool {
        switch self {
        case .f32, .f16, .bf16, .f64, .i8, .i16, .i32, .i64, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1,
             .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: true
        default: false
        }
    }

    /// Whether Zoo has an encoder for this type.
    public var canQuantize: Bool {
        switch self {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q6_K: true
        default: false
        }
    }

    /// Bytes for `count` values (nil when `count` is not a whole number of blocks).
    public func byteCount(elements count: Int) -> Int? {
        let (b, t) = blockLayout
        guard count % b == 0 else { return nil }
        let (r, o) = (count / b).multipliedReportingOverflow(by: t)
        return o ? nil : r
    }
}
