import Foundation

/// A JSON value that keeps object keys in file order (chat templates print tools with `tojson`,
/// and the order of keys must be the author's).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var int: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 9e15: return Int(d)
        default: return nil
        }
    }
    public var double: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var object: JSONObject? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }
    public subscript(key: String) -> JSONValue? { object?[key] }

    /// Parses JSON text; errors name the byte offset.
    public static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw.bindMemory(to: UInt8.self))
            parser.skipSpace()
            let value = try parser.parseValue(depth: 0)
            parser.skipSpace()
            if parser.pos != parser.bytes.count { throw parser.error("trailing characters") }
            return value
        }
    }
    public static func parse(_ text: String) throws -> JSONValue { try parse(Data(text.utf8)) }
}

/// Object with keys in insertion order and hashed lookup.
public struct JSONObject: Sendable, Equatable {
    public private(set) var keys: [String] = []
    public private(set) var values: [JSONValue] = []
    private var index = ExactMap<Int>()
    public init() {}
    public init(_ pairs: [(String, JSONValue)]) { for (k, v) in pairs { self[k] = v } }

    /// From parsed pairs. Large objects (vocabularies) are iterated, not looked up, so their
    /// index is not built; lookups there scan from the end (the last duplicate wins).
    init(keys: [String], values: [JSONValue]) {
        if keys.count <= 64 {
            for (k, v) in zip(keys, values) { self[k] = v }
        } else {
            self.keys = keys
            self.values = values
            indexed = false
        }
    }
    private var indexed = true
    public subscript(key: String) -> JSONValue? {
        get {
            if !indexed {
                let k = ExactString(key)
                for i in keys.indices.reversed() where ExactString(keys[i]) == k { return values[i] }
                return nil
            }
            return index[key].map { values[$0] }
        }
        set {
            if !indexed {
                // Switch to indexed storage before mutating.
                let (k, v) = (keys, values)
                keys = []; values = []; index = ExactMap<Int>(); indexed = true
                for (a, b) in zip(k, v) { self[a] = b }
            }
            if let i = index[key] {
                if let v = newValue { values[i] = v } else {
                    keys.remove(at: i); values.remove(at: i)
                    index = ExactMap<Int>()
                    for (i, k) in keys.enumerated() { index[k] = i }
                }
            } else if let v = newValue {
                index[key] = keys.count; keys.append(key); values.append(v)
            }
        }
    }
    public var count: Int { keys.count }
    public var pairs: [(String, JSONValue)] { Array(zip(keys, values)) }
    public static func == (a: JSONObject, b: JSONObject) -> Bool { a.keys == b.keys && a.values == b.values }
}

public struct JSONError: LocalizedError, Sendable {
    public let offset: Int
    public let message: String
    public var errorDescription: String? { "invalid JSON at byte \(offset): \(message)" }
}

struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var pos = 0

    func error(_ message: String) -> JSONError { JSONError(offset: pos, message: message) }

    mutating func skipSpace() {
        while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x0A || bytes[pos] == 0x0D || bytes[pos] == 0x09 { pos += 1 }
    }

    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard depth < 512 else { throw error("nesting too deep") }
        guard pos < bytes.count else { throw error("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"):
            pos += 1
            var keys: [String] = []
            var values: [JSONValue] = []
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(JSONObject()) }
            while true {
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw error("expected a key") }
                let key = try parseString()
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':'") }
                pos += 1
                skipSpace()
                keys.append(key)
                values.append(try parseValue(depth: depth + 1))
                skipSpace()
                guard pos < bytes.count else { throw error("unexpected end of input in object") }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(JSONObject(keys: keys, values: values)) }
                throw error("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            pos += 1
            var array: [JSONValue] = []
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(array) }
            while true {
                skipSpace()
                array.append(try parseValue(depth: depth + 1))
                skipSpace()
                guard pos < bytes.count else { throw error("unexpected end of input in array") }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(array) }
                throw error("expected ',' or ']'")
            }
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "N"): try literal("NaN"); return .double(.nan)
        default: return try parseNumber()
        }
    }

    mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count else { throw error("unexpected end of input") }
        for i in 0..<w.count where bytes[pos + i] != w[i] { throw error("invalid literal") }
        pos += w.count
    }

    mutating func parseNumber() throws -> JSONValue {
        let start = pos
        // Fast path: a plain integer that fits.
        var p = pos
        var negative = false
        if p < bytes.count, bytes[p] == UInt8(ascii: "-") { negative = true; p += 1 }
        var value = 0
        var digits = 0
        while p < bytes.count, bytes[p] >= 0x30, bytes[p] <= 0x39, digits < 18 {
            value = value * 10 + Int(bytes[p] - 0x30); p += 1; digits += 1
        }
        if digits > 0, p == bytes.count || !(bytes[p] == UInt8(ascii: ".") || bytes[p] == UInt8(ascii: "e") || bytes[p] == UInt8(ascii: "E") || (bytes[p] >= 0x30 && bytes[p] <= 0x39)) {
            pos = p
            return .int(negative ? -value : value)
        }
        // Other numbers follow serde_json's default (not round-trip) conversion, which the
        // reference tokenizers read their files with: Unigram scores then match to the bit.
        pos = start
        guard let value = serdeDouble() else { throw JSONError(offset: start, message: "invalid number") }
        // Integers past Int's range stay doubles; others that fit are integers.
        return .double(value)
    }

    static let powersOf10: [Double] = (0...308).map { Double("1e\($0)")! }

    /// serde_json's `parse_integer`/`parse_decimal`/`parse_exponent`/`f64_from_parts`.
    mutating func serdeDouble() -> Double? {
        var negative = false
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") { negative = true; pos += 1 }
        if pos + 8 <= bytes.count, bytes[pos] == UInt8(ascii: "I") {
            guard (try? literal("Infinity")) != nil else { return nil }
            return negative ? -.infinity : .infinity
        }
        func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        func overflows(_ a: UInt64, _ d: UInt64) -> Bool { a >= UInt64.max / 10 && (a > UInt64.max / 10 || d > UInt64.max % 10) }
        guard isDigit(pos) else { return nil }
        var significand: UInt64 = 0
        var exponent = 0
        var dropped = false
        // Integer part; digits past u64 range are dropped and counted in the exponent.
        while isDigit(pos) {
            let d = UInt64(bytes[pos] - 0x30)
            if dropped || overflows(significand, d) { dropped = true; exponent += 1 } else { significand = significand * 10 + d }
            pos += 1
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard isDigit(pos) else { return nil }
            while isDigit(pos) {
                let d = UInt64(bytes[pos] - 0x30)
                if !dropped && !overflows(significand, d) { significand = significand * 10 + d; exponent -= 1 } else { dropped = true }
                pos += 1
            }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            var expNegative = false
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") {
                expNegative = bytes[pos] == UInt8(ascii: "-"); pos += 1
            }
            guard isDigit(pos) else { return nil }
            var e = 0
            while isDigit(pos) { e = min(e * 10 + Int(bytes[pos] - 0x30), 100_000); pos += 1 }
            exponent += expNegative ? -e : e
        }
        var f = Double(significand)
        while true {
            let a = abs(exponent)
            if a <= 308 {
                if exponent >= 0 { f *= JSONParser.powersOf10[a] } else { f /= JSONParser.powersOf10[a] }
                break
            }
            if f == 0 { break }
            if exponent >= 0 { return .infinity }
            f /= 1e308
            exponent += 308
        }
        return negative ? -f : f
    }

    mutating func parseString() throws -> String {
        pos += 1
        let start = pos
        // Fast path: no escapes.
        while pos < bytes.count, bytes[pos] != UInt8(ascii: "\""), bytes[pos] != UInt8(ascii: "\\") { pos += 1 }
        guard pos < bytes.count else { throw error("unterminated string") }
        if bytes[pos] == UInt8(ascii: "\"") {
            let s = try validated(UnsafeBufferPointer(rebasing: bytes[start..<pos]), at: start)
            pos += 1
            return s
        }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<pos]))
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                pos += 1
                return try out.withUnsafeBufferPointer { try validated($0, at: start) }
            }
            if c == UInt8(ascii: "\\") {
                pos += 1
                guard pos < bytes.count else { break }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "\""): out.append(e)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if code >= 0xD800 && code < 0xDC00 {
                        if pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") {
                            pos += 2
                            let low = try hex4()
                            if low >= 0xDC00 && low < 0xE000 {
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            } else { code = 0xFFFD; out.append(contentsOf: utf8(0xFFFD)); code = low }
                        } else { code = 0xFFFD }
                    } else if code >= 0xDC00 && code < 0xE000 { code = 0xFFFD }
                    out.append(contentsOf: utf8(code))
                default: throw error("invalid escape")
                }
            } else {
                out.append(c); pos += 1
            }
        }
        throw error("unterminated string")
    }

    func validated(_ buffer: UnsafeBufferPointer<UInt8>, at start: Int) throws -> String {
        guard let s = String(validating: buffer, as: UTF8.self) else {
            throw JSONError(offset: start, message: "invalid UTF-8 in string")
        }
        return s
    }

    mutating func hex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw error("invalid \\u escape")
            }
            v = v * 16 + d
            pos += 1
        }
        return v
    }

    func utf8(_ code: UInt32) -> [UInt8] {
        Array(String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8)
    }
}
