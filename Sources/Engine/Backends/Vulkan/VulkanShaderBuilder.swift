/// How one dtype is stored in and read from a storage buffer.
struct GLSLElementType: Hashable {
    let storage: String
    /// The type kernels compute in: float (float32, float16, bfloat16), int or uint.
    let compute: String
    /// Macro bodies over `v`: storage value -> compute value, compute value -> storage value.
    let load: String
    let store: String
    let needs16BitStorage: Bool
    let needs8BitStorage: Bool

    /// The storage of `dtype`, or nil where no kernel handles it (64-bit, complex, small ints).
    /// bool is one byte holding 0 or 1 (any non-zero byte reads as true).
    static func of(_ dtype: DType) -> GLSLElementType? {
        switch dtype {
        case .float32: GLSLElementType(storage: "float", compute: "float", load: "(v)", store: "(v)",
                                       needs16BitStorage: false, needs8BitStorage: false)
        case .float16: GLSLElementType(storage: "float16_t", compute: "float", load: "float(v)", store: "float16_t(v)",
                                       needs16BitStorage: true, needs8BitStorage: false)
        case .bfloat16: GLSLElementType(storage: "uint16_t", compute: "float", load: "uintBitsToFloat(uint(v) << 16)",
                                        store: "uint16_t(zbf16(v))", needs16BitStorage: true, needs8BitStorage: false)
        case .int32: GLSLElementType(storage: "int", compute: "int", load: "(v)", store: "(v)",
                                     needs16BitStorage: false, needs8BitStorage: false)
        case .uint32: GLSLElementType(storage: "uint", compute: "uint", load: "(v)", store: "(v)",
                                      needs16BitStorage: false, needs8BitStorage: false)
        case .bool: GLSLElementType(storage: "uint8_t", compute: "uint", load: "(uint(v) != 0u ? 1u : 0u)", store: "uint8_t(v)",
                                    needs16BitStorage: false, needs8BitStorage: true)
        default: nil
        }
    }
}

/// Assembles a shader: version, extensions, helpers, operand macros, variant defines, body.
struct VulkanShaderBuilder {
    var name: String
    var body: String
    var operands: [(prefix: String, type: GLSLElementType)] = []
    var defines: [String: String] = [:]
    var computeType = "float"

    init(name: String, body: String) {
        self.name = name
        self.body = body
    }

    mutating func operand(_ prefix: String, _ type: GLSLElementType, output: Bool = false) {
        operands.append((prefix, type))
        defines["\(prefix)_T"] = type.storage
        defines["LOAD_\(prefix)(v)"] = type.load
        if output { defines["STORE_\(prefix)(v)"] = type.store }
    }

    var bindings: Int { operands.count }

    var variant: ShaderVariant {
        var d = defines
        d["C_T"] = computeType
        return ShaderVariant(name: name, defines: d, bindings: bindings)
    }

    func source() -> String {
        var s = "#version 450\n"
        if operands.contains(where: { $0.type.needs16BitStorage }) {
            s += "#extension GL_EXT_shader_16bit_storage : require\n"
        }
        if operands.contains(where: { $0.type.needs8BitStorage }) {
            s += "#extension GL_EXT_shader_8bit_storage : require\n"
        }
        s += "#define C_T \(computeType)\n"
        // Helpers are plain functions: unused ones are dropped by the optimizer.
        s += VulkanMathLibrary.source + "\n"
        if operands.contains(where: { $0.type.storage == "uint16_t" }) {
            s += """
            // float32 -> bfloat16 bits: round to nearest even, NaN kept quiet. Computed in
            // 32 bits: 16-bit values outside storage would need the Int16 capability.
            uint zbf16(float x) {
                uint u = floatBitsToUint(x);
                if (zisnan(x)) return (u >> 16) | 0x40u;
                return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
            }

            """
        }
        for key in defines.keys.sorted() { s += "#define \(key) \(defines[key]!)\n" }
        s += body
        return s
    }
}

/// GLSL expressions of the elementwise and reduction ops, by compute type.
enum VulkanOpExpressions {
    /// `OP(x)` for a unary op on compute type `c` (`isBool`: bool stored as 0 / 1), and
    /// whether it yields bool. Semantics follow the CPU kernels (`unaryFloat`, `unaryInt`).
    static func unary(_ op: UnaryOp, compute c: String, isBool: Bool = false) -> (expr: String, bool: Bool)? {
        switch op {
        case .isNaN: return c == "float" ? ("uint(zisnan(x))", true) : ("0u", true)
        case .isInf: return c == "float" ? ("uint(zisinf(x))", true) : ("0u", true)
        case .isFinite: return c == "float" ? ("uint(zisfinite(x))", true) : ("1u", true)
        case .logicalNot:
            return (c == "float" ? "uint(!ztruthy(x))" : c == "int" ? "uint(x == 0)" : "uint(x == 0u)", true)
        default: break
        }
        if isBool {
            switch op {
            case .abs, .square, .floor, .ceil, .round, .sign, .negative: return ("(x)", false)
            default: return nil
            }
        }
        if c == "int" || c == "uint" {
            let u = c == "uint"
            switch op {
            case .abs: return (u ? "(x)" : "abs(x)", false)
            case .negative: return (u ? "(0u - x)" : "(-x)", false)
            case .sign: return (u ? "uint(x > 0u)" : "sign(x)", false)
            case .square: return ("(x * x)", false)
            case .floor, .ceil, .round: return ("(x)", false)
            default: return nil
            }
        }
        guard c == "float" else { return nil }
        let f: String
        switch op {
        case .abs: f = "zabs"
        case .negative: return ("(-x)", false)
        case .sign: f = "zsign"
        case .exp: f = "zexp"
        case .expm1: f = "zexpm1"
        case .log: f = "zlog"
        case .log1p: f = "zlog1p"
        case .log2: f = "zlog2"
        case .log10: f = "zlog10"
        case .sqrt: f = "zsqrt"
        case .rsqrt: return ("zdiv(1.0, zsqrt(x))", false)
        case .square: return ("(x * x)", false)
        case .reciprocal: return ("zdiv(1.0, x)", false)
        case .sin: f = "zsin"
        case .cos: f = "zcos"
        case .tan: f = "ztan"
        case .asin: f = "zasin"
        case .acos: f = "zacos"
        case .atan: f = "zatan"
        case .sinh: f = "zsinh"
        case .cosh: f = "zcosh"
        case .tanh: f = "ztanh"
        case .asinh: f = "zasinh"
        case .acosh: f = "zacosh"
        case .atanh: f = "zatanh"
        case .sigmoid: f = "zsigmoid"
        case .erf: f = "zerf"
        case .erfInverse: f = "zerfinv"
        case .floor: f = "floor"
        case .ceil: f = "ceil"
        case .round: f = "roundEven"
        default: return nil
        }
        return ("\(f)(x)", false)
    }

    /// `OP(x, y)` for a binary op on compute type `c`, and whether it yields bool.
    /// Semantics follow the CPU kernels (`binaryFloat`, `binaryInt`; bool as 0 / 1 bytes).
    static func binary(_ op: BinaryOp, compute c: String, isBool: Bool = false) -> (expr: String, bool: Bool)? {
        if c == "float" {
            let ordered = "!zisnan(x) && !zisnan(y) && "
            switch op {
            case .add: return ("(x + y)", false)
            case .subtract: return ("(x - y)", false)
            case .multiply: return ("(x * y)", false)
            case .divide: return ("zdiv(x, y)", false)
            case .floorDivide: return ("floor(zdiv(x, y))", false)
            case .remainder: return ("zremainder(x, y)", false)
            case .power: return ("zpow(x, y)", false)
            case .maximum: return ("zmaximum(x, y)", false)
            case .minimum: return ("zminimum(x, y)", false)
            case .atan2: return ("zatan2(x, y)", false)
            case .equal: return ("uint(\(ordered)x == y)", true)
            case .notEqual: return ("uint(zisnan(x) || zisnan(y) || x != y)", true)
            case .less: return ("uint(\(ordered)x < y)", true)
            case .lessEqual: return ("uint(\(ordered)x <= y)", true)
            case .greater: return ("uint(\(ordered)x > y)", true)
            case .greaterEqual: return ("uint(\(ordered)x >= y)", true)
            case .logicalAnd: return ("uint(ztruthy(x) && ztruthy(y))", true)
            case .logicalOr: return ("uint(ztruthy(x) || ztruthy(y))", true)
            }
        }
        let zero = c == "int" ? "0" : "0u"
        switch op {
        case .equal: return ("uint(x == y)", true)
        case .notEqual: return ("uint(x != y)", true)
        case .less: return ("uint(x < y)", true)
        case .lessEqual: return ("uint(x <= y)", true)
        case .greater: return ("uint(x > y)", true)
        case .greaterEqual: return ("uint(x >= y)", true)
        case .logicalAnd: return ("uint(x != \(zero) && y != \(zero))", true)
        case .logicalOr: return ("uint(x != \(zero) || y != \(zero))", true)
        default: break
        }
        if isBool {
            // The CPU computes on 0 / 1 bytes and stores `result != 0`.
            switch op {
            case .add, .maximum: return ("(x | y)", false)
            case .subtract: return ("(x ^ y)", false)
            case .multiply, .minimum, .divide, .floorDivide: return ("(x & y)", false)
            case .remainder: return ("0u", false)
            case .power: return ("(y == 0u ? 1u : x)", false)
            default: return nil
            }
        }
        let u = c == "uint"
        switch op {
        case .add: return ("(x + y)", false)
        case .subtract: return ("(x - y)", false)
        case .multiply: return ("(x * y)", false)
        case .maximum: return ("max(x, y)", false)
        case .minimum: return ("min(x, y)", false)
        case .divide, .floorDivide: return (u ? "(y == 0u ? 0u : x / y)" : "zidiv(x, y)", false)
        case .remainder: return (u ? "(y == 0u ? 0u : x % y)" : "zimod(x, y)", false)
        case .power: return (u ? "zupow(x, y)" : "zipow(x, y)", false)
        default: return nil
        }
    }

    /// Accumulator macros for a reduction of compute type `c`; nil where unsupported.
    static func reduction(_ op: ReduceOp, compute c: String, inputIsBool: Bool) -> [String: String]? {
        var d: [String: String] = ["FINISH(a)": "(a)", "VALUE(x)": "(x)"]
        switch op {
        case .all, .any:
            d["ACC_T"] = "uint"
            d["INIT"] = op == .all ? "1u" : "0u"
            d["COMBINE(a, v)"] = op == .all ? "((a) & (v))" : "((a) | (v))"
            d["VALUE(x)"] = c == "float" ? "uint(ztruthy(x))" : c == "int" ? "uint((x) != 0)" : "uint((x) != 0u)"
            return d
        case .sum, .prod:
            if inputIsBool { return nil }
            d["ACC_T"] = c
            let zero = c == "float" ? "0.0" : c == "int" ? "0" : "0u"
            let one = c == "float" ? "1.0" : c == "int" ? "1" : "1u"
            d["INIT"] = op == .sum ? zero : one
            d["COMBINE(a, v)"] = op == .sum ? "((a) + (v))" : "((a) * (v))"
            return d
        case .max, .min:
            d["ACC_T"] = c
            let isMax = op == .max
            switch c {
            case "float":
                d["INIT"] = isMax ? "(-Z_INF)" : "Z_INF"
                d["COMBINE(a, v)"] = isMax ? "zmaximum(a, v)" : "zminimum(a, v)"
            case "int":
                d["INIT"] = isMax ? "(-2147483647 - 1)" : "2147483647"
                d["COMBINE(a, v)"] = isMax ? "max(a, v)" : "min(a, v)"
            default:
                d["INIT"] = isMax ? "0u" : (inputIsBool ? "1u" : "0xffffffffu")
                d["COMBINE(a, v)"] = isMax ? "max(a, v)" : "min(a, v)"
            }
            return d
        }
    }
}
