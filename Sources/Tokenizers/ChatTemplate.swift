import Foundation

/// A chat template: the Jinja subset chat templates use, rendered like transformers'
/// `apply_chat_template` (jinja2 with `trim_blocks`, `lstrip_blocks`, loop controls, and its
/// `tojson` and `raise_exception`).
public struct ChatTemplate: Sendable {
    public let source: String
    let nodes: [TemplateNode]

    /// Parses the template; syntax errors throw `TokenizerError.template` naming the line.
    public init(_ source: String) throws {
        self.source = source
        let tokens = try TemplateLexer(source).tokenize()
        var parser = TemplateParser(tokens: tokens)
        nodes = try parser.parseAll()
    }

    /// Renders with `messages`, `add_generation_prompt`, `bos_token` and `eos_token`.
    public func render(messages: [[String: String]], addGenerationPrompt: Bool, bosToken: String?, eosToken: String?) throws -> String {
        var context = JSONObject()
        context["messages"] = .array(messages.map { m in
            // Keep role and content first, as a Python dict literal would.
            var o = JSONObject()
            for key in ["role", "content"] where m[key] != nil { o[key] = .string(m[key]!) }
            for key in m.keys.sorted() where o[key] == nil { o[key] = .string(m[key]!) }
            return .object(o)
        })
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        if let bosToken { context["bos_token"] = .string(bosToken) }
        if let eosToken { context["eos_token"] = .string(eosToken) }
        return try render(context)
    }

    /// Renders with arbitrary JSON variables (`messages`, `tools`, `documents`, …).
    public func render(_ context: JSONObject) throws -> String {
        let interpreter = TemplateInterpreter()
        var globals: [String: TValue] = [:]
        for (k, v) in context.pairs { globals[k] = TValue(json: v) }
        return try interpreter.run(nodes, globals: globals)
    }
}

// MARK: - Values

final class TNamespace: @unchecked Sendable {
    var values: [String: TValue] = [:]
    var order: [String] = []
    func set(_ k: String, _ v: TValue) { if values[k] == nil { order.append(k) }; values[k] = v }
}

struct TMacro: @unchecked Sendable {
    let name: String
    let parameters: [(String, TemplateExpr?)]
    let body: [TemplateNode]
}

indirect enum TValue: @unchecked Sendable {
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([TValue])
    case dict([String], [String: TValue])
    case namespace(TNamespace)
    case macro(TMacro)
    case builtin(String)
    case boundMethod(TValue, String)

    init(json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .list(a.map { TValue(json: $0) })
        case .object(let o):
            var d: [String: TValue] = [:]
            for (k, v) in o.pairs { d[k] = TValue(json: v) }
            self = .dict(o.keys, d)
        }
    }

    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let l): return !l.isEmpty
        case .dict(let k, _): return !k.isEmpty
        default: return true
        }
    }

    var isUndefined: Bool { if case .undefined = self { return true }; return false }

    var typeName: String {
        switch self {
        case .undefined: return "undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .list: return "list"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .macro: return "Macro"
        case .builtin, .boundMethod: return "function"
        }
    }

    /// Python `str()`.
    var text: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return repr
        }
    }

    /// Python `repr()`.
    var repr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return pythonFloat(d)
        case .string(let s): return pythonStringRepr(s)
        case .list(let l): return "[" + l.map { $0.repr }.joined(separator: ", ") + "]"
        case .dict(let keys, let d): return "{" + keys.map { pythonStringRepr($0) + ": " + d[$0]!.repr }.joined(separator: ", ") + "}"
        case .namespace: return "<Namespace>"
        case .macro(let m): return "<Macro '\(m.name)'>"
        case .builtin(let n), .boundMethod(_, let n): return "<function \(n)>"
        }
    }
}

func pythonFloat(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d > 0 ? "inf" : "-inf" }
    if d == d.rounded(), abs(d) < 1e16 { return String(format: "%.1f", d) }
    var s = "\(d)"
    // Swift prints 1e-05 like Python; "5e-324" etc. agree too.
    if s.hasSuffix(".0") { s.removeLast(2) }
    return s
}

func pythonStringRepr(_ s: String) -> String {
    let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
    var out = String(quote)
    for c in s.unicodeScalars {
        switch c {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if Character(c) == quote { out += "\\" + String(quote) } else if c.value < 0x20 || c.value == 0x7F {
                out += String(format: "\\x%02x", c.value)
            } else { out.unicodeScalars.append(c) }
        }
    }
    out.append(quote)
    return out
}

/// `json.dumps(value, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sortKeys)`.
func pythonJSON(_ v: TValue, indent: Int?, level: Int = 0, separators: (String, String)? = nil, sortKeys: Bool = false) throws -> String {
    let newline = indent.map { "\n" + String(repeating: " ", count: $0 * (level + 1)) }
    let closing = indent.map { "\n" + String(repeating: " ", count: $0 * level) } ?? ""
    let itemSeparator = separators?.0 ?? (indent == nil ? ", " : ",")
    let keySeparator = separators?.1 ?? ": "
    func inner(_ x: TValue) throws -> String {
        try pythonJSON(x, indent: indent, level: level + 1, separators: separators, sortKeys: sortKeys)
    }
    switch v {
    case .undefined, .none: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .int(let i): return String(i)
    case .double(let d):
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        return pythonFloat(d)
    case .string(let s): return jsonString(s)
    case .list(let l):
        if l.isEmpty { return "[]" }
        let items = try l.map { (newline ?? "") + (try inner($0)) }
        return "[" + items.joined(separator: itemSeparator) + closing + "]"
    case .dict(let keys, let d):
        if keys.isEmpty { return "{}" }
        let ordered = sortKeys ? keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) { $0.value < $1.value } } : keys
        let items = try ordered.map { (newline ?? "") + jsonString($0) + keySeparator + (try inner(d[$0]!)) }
        return "{" + items.joined(separator: itemSeparator) + closing + "}"
    case .namespace(let ns):
        return try pythonJSON(.dict(ns.order, ns.values), indent: indent, level: level, separators: separators, sortKeys: sortKeys)
    default: throw TokenizerError.template("Object of type \(v.typeName) is not JSON serializable")
    }
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        default:
            if c.value < 0x20 { out += String(format: "\\u%04x", c.value) } else { out.unicodeScalars.append(c) }
        }
    }
    return out + "\""
}

// MARK: - Lexer

enum TemplateToken: Equatable {
    case text(String)
    case output([LexToken], line: Int)
    case statement([LexToken], line: Int)
}

enum LexToken: Equatable {
    case name(String)
    case string(String)
    case int(Int)
    case double(Double)
    case op(String)
}

struct TemplateLexer {
    let bytes: [UInt8]
    init(_ source: String) { bytes = Array(source.utf8) }

    func line(at pos: Int) -> Int { 1 + bytes[0..<min(pos, bytes.count)].filter { $0 == 0x0A }.count }

    func tokenize() throws -> [TemplateToken] {
        var out: [TemplateToken] = []
        var pos = 0
        var lineStarting = true
        var pendingText: [UInt8] = []
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }
        while pos < bytes.count {
            // Find the next tag opening.
            var open = pos
            var kind: UInt8 = 0
            while open + 1 < bytes.count {
                if bytes[open] == UInt8(ascii: "{") {
                    let k = bytes[open + 1]
                    if k == UInt8(ascii: "{") || k == UInt8(ascii: "%") || k == UInt8(ascii: "#") { kind = k; break }
                }
                open += 1
            }
            if kind == 0 { pendingText.append(contentsOf: bytes[pos...]); break }
            var text = Array(bytes[pos..<open])
            var inner = open + 2
            let stripLeft = inner < bytes.count && bytes[inner] == UInt8(ascii: "-")
            let keepLeft = inner < bytes.count && bytes[inner] == UInt8(ascii: "+")
            if stripLeft || keepLeft { inner += 1 }
            if stripLeft {
                while let last = text.last, isSpace(last) { text.removeLast() }
            } else if !keepLeft && kind != UInt8(ascii: "{") {
                // lstrip_blocks: drop spaces and tabs between a line start and a block or comment tag.
                let lineStart = (text.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
                if (lineStart > 0 || lineStarting) && text[lineStart...].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    text.removeSubrange(lineStart...)
                }
            }
            pendingText.append(contentsOf: text)
            if kind == UInt8(ascii: "#") {
                guard let close = find([UInt8(ascii: "#"), UInt8(ascii: "}")], from: inner) else {
                    throw TokenizerError.template("line \(line(at: open)): unclosed comment")
                }
                let stripRight = close > inner && bytes[close - 1] == UInt8(ascii: "-")
                pos = close + 2
                (pos, lineStarting) = afterTag(pos, stripRight: stripRight, trim: true)
                continue
            }
            if !pendingText.isEmpty { out.append(.text(String(decoding: pendingText, as: UTF8.self))); pendingText = [] }
            let closer: [UInt8] = kind == UInt8(ascii: "{") ? [UInt8(ascii: "}"), UInt8(ascii: "}")] : [UInt8(ascii: "%"), UInt8(ascii: "}")]
            let lineNumber = line(at: open)
            let (lexed, close) = try lexExpression(from: inner, until: closer, line: lineNumber)
            let stripRight = close > inner && bytes[close - 1] == UInt8(ascii: "-")
            let keepRight = close > inner && bytes[close - 1] == UInt8(ascii: "+")
            pos = close + 2
            if kind == UInt8(ascii: "{") {
                out.append(.output(lexed, line: lineNumber))
                (pos, lineStarting) = afterTag(pos, stripRight: stripRight, trim: false)
            } else {
                // {% raw %} … {% endraw %}: text verbatim.
                if lexed == [.name("raw")] {
                    guard let end = findRawEnd(from: pos) else { throw TokenizerError.template("line \(lineNumber): unclosed raw block") }
                    pendingText.append(contentsOf: bytes[pos..<end.textEnd])
                    pos = end.after
                    (pos, lineStarting) = afterTag(pos, stripRight: end.stripRight, trim: true)
                    continue
                }
                out.append(.statement(lexed, line: lineNumber))
                (pos, lineStarting) = afterTag(pos, stripRight: stripRight, trim: !keepRight)
            }
        }
        // keep_trailing_newline=False: one final newline of the template goes.
        if pendingText.last == 0x0A {
            pendingText.removeLast()
            if pendingText.last == 0x0D { pendingText.removeLast() }
        }
        if !pendingText.isEmpty { out.append(.text(String(decoding: pendingText, as: UTF8.self))) }
        return out
    }

    /// Whitespace handling after a tag; returns the new position and whether a line starts there.
    func afterTag(_ start: Int, stripRight: Bool, trim: Bool) -> (Int, Bool) {
        var pos = start
        if stripRight {
            var last: UInt8 = 0
            while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C].contains(bytes[pos]) { last = bytes[pos]; pos += 1 }
            return (pos, last == 0x0A)
        }
        if trim {
            if pos < bytes.count, bytes[pos] == 0x0A { return (pos + 1, true) }
            if pos + 1 < bytes.count, bytes[pos] == 0x0D, bytes[pos + 1] == 0x0A { return (pos + 2, true) }
        }
        return (pos, false)
    }

    func find(_ needle: [UInt8], from: Int) -> Int? {
        var i = from
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0] && Array(bytes[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

    func findRawEnd(from: Int) -> (textEnd: Int, after: Int, stripRight: Bool)? {
        var i = from
        while let open = find([UInt8(ascii: "{"), UInt8(ascii: "%")], from: i) {
            var j = open + 2
            var stripLeft = false
            if j < bytes.count, bytes[j] == UInt8(ascii: "-") { stripLeft = true; j += 1 }
            while j < bytes.count, bytes[j] == 0x20 { j += 1 }
            if j + 6 <= bytes.count, Array(bytes[j..<(j + 6)]) == Array("endraw".utf8), let close = find([UInt8(ascii: "%"), UInt8(ascii: "}")], from: j) {
                var textEnd = open
                if stripLeft { while textEnd > from, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[textEnd - 1]) { textEnd -= 1 } }
                return (textEnd, close + 2, bytes[close - 1] == UInt8(ascii: "-"))
            }
            i = open + 2
        }
        return nil
    }

    func lexExpression(from start: Int, until closer: [UInt8], line: Int) throws -> ([LexToken], Int) {
        var tokens: [LexToken] = []
        var i = start
        func fail(_ m: String) -> TokenizerError { .template("line \(line): \(m)") }
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1; continue }
            // Closing delimiter, optionally preceded by - or +.
            if (c == UInt8(ascii: "-") || c == UInt8(ascii: "+")), i + 2 < bytes.count, bytes[i + 1] == closer[0], bytes[i + 2] == closer[1] {
                return (tokens, i + 1)
            }
            if c == closer[0], i + 1 < bytes.count, bytes[i + 1] == closer[1] { return (tokens, i) }
            if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                var j = i + 1
                var s: [UInt8] = []
                while j < bytes.count, bytes[j] != c {
                    if bytes[j] == UInt8(ascii: "\\"), j + 1 < bytes.count {
                        let e = bytes[j + 1]
                        j += 2
                        switch e {
                        case UInt8(ascii: "n"): s.append(0x0A)
                        case UInt8(ascii: "t"): s.append(0x09)
                        case UInt8(ascii: "r"): s.append(0x0D)
                        case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): s.append(e)
                        case UInt8(ascii: "u"):
                            guard j + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[j..<(j + 4)], as: UTF8.self), radix: 16),
                                  let scalar = Unicode.Scalar(v) else { throw fail("bad \\u escape") }
                            s.append(contentsOf: Array(String(Character(scalar)).utf8)); j += 4
                        default: s.append(UInt8(ascii: "\\")); s.append(e)
                        }
                    } else { s.append(bytes[j]); j += 1 }
                }
                guard j < bytes.count else { throw fail("unterminated string") }
                tokens.append(.string(String(decoding: s, as: UTF8.self)))
                i = j + 1
                continue
            }
            if c >= 0x30 && c <= 0x39 {
                var j = i
                var isFloat = false
                while j < bytes.count, (bytes[j] >= 0x30 && bytes[j] <= 0x39) || bytes[j] == UInt8(ascii: "_") ||
                        (bytes[j] == UInt8(ascii: ".") && !isFloat && j + 1 < bytes.count && bytes[j + 1] >= 0x30 && bytes[j + 1] <= 0x39) {
                    if bytes[j] == UInt8(ascii: ".") { isFloat = true }
                    j += 1
                }
                // Exponent: 1e-7, 2.5E+3.
                if j < bytes.count, bytes[j] | 0x20 == UInt8(ascii: "e") {
                    var k = j + 1
                    if k < bytes.count, bytes[k] == UInt8(ascii: "+") || bytes[k] == UInt8(ascii: "-") { k += 1 }
                    if k < bytes.count, bytes[k] >= 0x30, bytes[k] <= 0x39 {
                        while k < bytes.count, (bytes[k] >= 0x30 && bytes[k] <= 0x39) || bytes[k] == UInt8(ascii: "_") { k += 1 }
                        isFloat = true
                        j = k
                    }
                }
                let text = String(decoding: bytes[i..<j], as: UTF8.self).replacingOccurrences(of: "_", with: "")
                if isFloat { tokens.append(.double(Double(text) ?? 0)) } else {
                    guard let v = Int(text) else { throw fail("number too large") }
                    tokens.append(.int(v))
                }
                i = j
                continue
            }
            if c == UInt8(ascii: "_") || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "z")) {
                var j = i
                while j < bytes.count, bytes[j] == UInt8(ascii: "_") || (bytes[j] | 0x20 >= UInt8(ascii: "a") && bytes[j] | 0x20 <= UInt8(ascii: "z")) || (bytes[j] >= 0x30 && bytes[j] <= 0x39) { j += 1 }
                tokens.append(.name(String(decoding: bytes[i..<j], as: UTF8.self)))
                i = j
                continue
            }
            let two = i + 1 < bytes.count ? String(decoding: bytes[i...(i + 1)], as: UTF8.self) : ""
            if ["==", "!=", "<=", ">=", "//", "**"].contains(two) { tokens.append(.op(two)); i += 2; continue }
            let one = String(UnicodeScalar(c))
            if "+-*/%~<>=()[]{}.,:|".contains(one) { tokens.append(.op(one)); i += 1; continue }
            throw fail("unexpected character '\(one)'")
        }
        throw fail("unclosed tag")
    }
}

// MARK: - Syntax tree

indirect enum TemplateExpr {
    case literal(TValue)
    case name(String)
    case list([TemplateExpr])
    case dict([(TemplateExpr, TemplateExpr)])
    case attribute(TemplateExpr, String)
    case item(TemplateExpr, TemplateExpr)
    case slice(TemplateExpr, TemplateExpr?, TemplateExpr?, TemplateExpr?)
    case call(TemplateExpr, [TemplateExpr], [(String, TemplateExpr)])
    case filter(TemplateExpr, String, [TemplateExpr], [(String, TemplateExpr)])
    case test(TemplateExpr, String, [TemplateExpr], negated: Bool)
    case unary(String, TemplateExpr)
    case binary(String, TemplateExpr, TemplateExpr)
    case conditional(TemplateExpr, TemplateExpr, TemplateExpr?)
}

indirect enum TemplateNode {
    case text(String)
    case output(TemplateExpr, line: Int)
    case ifBlock([(TemplateExpr, [TemplateNode])], [TemplateNode])
    case forBlock(targets: [String], iterable: TemplateExpr, filter: TemplateExpr?, body: [TemplateNode], otherwise: [TemplateNode], line: Int)
    case set(target: TemplateExpr, names: [String], value: TemplateExpr, line: Int)
    case setBlock(name: String, body: [TemplateNode])
    case macro(TMacro)
    case breakLoop, continueLoop
    case call(TemplateExpr, line: Int)
}

struct TemplateParser {
    let tokens: [TemplateToken]
    var index = 0
    var depth = 0

    init(tokens: [TemplateToken]) { self.tokens = tokens }

    mutating func parseAll() throws -> [TemplateNode] {
        let (nodes, end) = try parseBlock(until: [])
        if let end { throw TokenizerError.template("unexpected '\(end.0)' at line \(end.1)") }
        return nodes
    }

    /// Parses nodes until a statement whose keyword is in `until`; returns that statement's tokens.
    mutating func parseBlock(until: Set<String>) throws -> ([TemplateNode], (String, Int, [LexToken])?) {
        depth += 1
        defer { depth -= 1 }
        guard depth < 200 else { throw TokenizerError.template("blocks nested too deeply") }
        var nodes: [TemplateNode] = []
        while index < tokens.count {
            let token = tokens[index]
            index += 1
            switch token {
            case .text(let t): nodes.append(.text(t))
            case .output(let lexed, let line):
                var p = ExpressionParser(tokens: lexed, line: line)
                let e = try p.parseExpression()
                try p.expectEnd()
                nodes.append(.output(e, line: line))
            case .statement(let lexed, let line):
                guard case .name(let keyword)? = lexed.first else { throw TokenizerError.template("line \(line): empty or invalid statement") }
                if until.contains(keyword) { return (nodes, (keyword, line, lexed)) }
                nodes.append(try parseStatement(keyword, Array(lexed.dropFirst()), line: line))
            }
        }
        if !until.isEmpty {
            throw TokenizerError.template("unexpected end of template: missing \(until.sorted().map { "{% \($0) %}" }.joined(separator: " or "))")
        }
        return (nodes, nil)
    }

    mutating func parseStatement(_ keyword: String, _ rest: [LexToken], line: Int) throws -> TemplateNode {
        switch keyword {
        case "if":
            var branches: [(TemplateExpr, [TemplateNode])] = []
            var condTokens = rest
            var condLine = line
            while true {
                var p = ExpressionParser(tokens: condTokens, line: condLine)
                let cond = try p.parseExpression()
                try p.expectEnd()
                let (body, end) = try parseBlock(until: ["elif", "else", "endif"])
                branches.append((cond, body))
                guard let (kw, l, toks) = end else { throw TokenizerError.template("line \(line): unclosed if") }
                if kw == "elif" { condTokens = Array(toks.dropFirst()); condLine = l; continue }
                if kw == "else" {
                    let (elseBody, end2) = try parseBlock(until: ["endif"])
                    guard end2 != nil else { throw TokenizerError.template("line \(line): unclosed if") }
                    return .ifBlock(branches, elseBody)
                }
                return .ifBlock(branches, [])
            }
        case "for":
            var targets: [String] = []
            var i = 0
            while i < rest.count, case .name(let n) = rest[i], n != "in" {
                targets.append(n); i += 1
                if i < rest.count, rest[i] == .op(",") { i += 1 }
            }
            guard !targets.isEmpty, i < rest.count, rest[i] == .name("in") else { throw TokenizerError.template("line \(line): expected 'for x in …'") }
            var p = ExpressionParser(tokens: Array(rest[(i + 1)...]), line: line)
            let iterable = try p.parseOr(allowConditional: false)
            var filter: TemplateExpr?
            if p.peek == .name("if") { p.advance(); filter = try p.parseOr(allowConditional: false) }
            if p.peek == .name("recursive") { throw TokenizerError.template("line \(line): recursive loops are not supported") }
            try p.expectEnd()
            let (body, end) = try parseBlock(until: ["else", "endfor"])
            guard let (kw, _, _) = end else { throw TokenizerError.template("line \(line): unclosed for") }
            var otherwise: [TemplateNode] = []
            if kw == "else" {
                let (b, end2) = try parseBlock(until: ["endfor"])
                guard end2 != nil else { throw TokenizerError.template("line \(line): unclosed for") }
                otherwise = b
            }
            return .forBlock(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise, line: line)
        case "set":
            guard let eq = rest.firstIndex(of: .op("=")) else {
                // Block form: {% set name %}…{% endset %}
                guard rest.count == 1, case .name(let n) = rest[0] else { throw TokenizerError.template("line \(line): expected 'set x = …'") }
                let (body, end) = try parseBlock(until: ["endset"])
                guard end != nil else { throw TokenizerError.template("line \(line): unclosed set block") }
                return .setBlock(name: n, body: body)
            }
            let lhs = Array(rest[..<eq])
            var names: [String] = []
            var target: TemplateExpr = .name("")
            if lhs.count == 3, case .name(let ns) = lhs[0], lhs[1] == .op("."), case .name(let attr) = lhs[2] {
                target = .attribute(.name(ns), attr)
            } else {
                for t in lhs where t != .op(",") {
                    guard case .name(let n) = t else { throw TokenizerError.template("line \(line): invalid assignment target") }
                    names.append(n)
                }
                guard !names.isEmpty else { throw TokenizerError.template("line \(line): invalid assignment target") }
            }
            var p = ExpressionParser(tokens: Array(rest[(eq + 1)...]), line: line)
            let value = try p.parseTupleOrExpression()
            try p.expectEnd()
            return .set(target: target, names: names, value: value, line: line)
        case "macro":
            guard case .name(let name)? = rest.first, rest.count >= 3, rest[1] == .op("(") else {
                throw TokenizerError.template("line \(line): expected 'macro name(…)'")
            }
            var p = ExpressionParser(tokens: Array(rest[2...]), line: line)
            var params: [(String, TemplateExpr?)] = []
            while p.peek != .op(")") {
                guard case .name(let pn)? = p.peek else { throw TokenizerError.template("line \(line): bad macro parameter") }
                p.advance()
                var def: TemplateExpr?
                if p.peek == .op("=") { p.advance(); def = try p.parseExpression() }
                params.append((pn, def))
                if p.peek == .op(",") { p.advance() } else { break }
            }
            try p.expect(.op(")"))
            try p.expectEnd()
            let (body, end) = try parseBlock(until: ["endmacro"])
            guard end != nil else { throw TokenizerError.template("line \(line): unclosed macro") }
            return .macro(TMacro(name: name, parameters: params, body: body))
        case "break": return .breakLoop
        case "continue": return .continueLoop
        case "do":
            var p = ExpressionParser(tokens: rest, line: line)
            let e = try p.parseExpression()
            try p.expectEnd()
            return .call(e, line: line)
        case "generation", "endgeneration":
            return .text("")
        default:
            throw TokenizerError.template("line \(line): unknown statement '\(keyword)'")
        }
    }
}

struct ExpressionParser {
    let tokens: [LexToken]
    let line: Int
    var pos = 0
    var depth = 0
    var links = 0

    init(tokens: [LexToken], line: Int) { self.tokens = tokens; self.line = line }

    /// Operator chains build left-nested trees; bound them so evaluation stays shallow.
    mutating func link() throws {
        links += 1
        guard links < 1000 else { throw fail("expression too long") }
    }

    var peek: LexToken? { pos < tokens.count ? tokens[pos] : nil }
    mutating func advance() { pos += 1 }
    func fail(_ m: String) -> TokenizerError { .template("line \(line): \(m)") }
    mutating func expect(_ t: LexToken) throws {
        guard peek == t else { throw fail("expected \(describe(t)), found \(peek.map(describe) ?? "end of tag")") }
        advance()
    }
    func expectEnd() throws {
        if let t = peek { throw fail("unexpected \(describe(t))") }
    }
    func describe(_ t: LexToken) -> String {
        switch t {
        case .name(let n): return "'\(n)'"
        case .string(let s): return "string '\(s)'"
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .op(let o): return "'\(o)'"
        }
    }

    mutating func parseTupleOrExpression() throws -> TemplateExpr {
        let first = try parseExpression()
        guard peek == .op(",") else { return first }
        var items = [first]
        while peek == .op(",") {
            advance()
            if peek == nil { break }
            items.append(try parseExpression())
        }
        return .list(items)
    }

    mutating func parseExpression() throws -> TemplateExpr {
        depth += 1
        defer { depth -= 1 }
        guard depth < 200 else { throw fail("expression nested too deeply") }
        return try parseOr(allowConditional: true)
    }

    mutating func parseOr(allowConditional: Bool) throws -> TemplateExpr {
        var left = try parseAnd()
        while peek == .name("or") { advance(); try link(); left = .binary("or", left, try parseAnd()) }
        if allowConditional, peek == .name("if") {
            advance()
            let cond = try parseOr(allowConditional: false)
            var otherwise: TemplateExpr?
            if peek == .name("else") { advance(); otherwise = try parseOr(allowConditional: true) }
            return .conditional(cond, left, otherwise)
        }
        return left
    }

    mutating func parseAnd() throws -> TemplateExpr {
        var left = try parseNot()
        while peek == .name("and") { advance(); try link(); left = .binary("and", left, try parseNot()) }
        return left
    }

    mutating func parseNot() throws -> TemplateExpr {
        if peek == .name("not") {
            advance()
            depth += 1
            defer { depth -= 1 }
            guard depth < 200 else { throw fail("expression nested too deeply") }
            return .unary("not", try parseNot())
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> TemplateExpr {
        var left = try parseMath1()
        while true {
            if case .op(let o)? = peek, ["==", "!=", "<", ">", "<=", ">="].contains(o) {
                advance(); try link(); left = .binary(o, left, try parseMath1())
            } else if peek == .name("in") {
                advance(); try link(); left = .binary("in", left, try parseMath1())
            } else if peek == .name("not"), pos + 1 < tokens.count, tokens[pos + 1] == .name("in") {
                advance(); advance(); try link(); left = .binary("not in", left, try parseMath1())
            } else { return left }
        }
    }

    mutating func parseMath1() throws -> TemplateExpr {
        var left = try parseConcat()
        while case .op(let o)? = peek, o == "+" || o == "-" { advance(); try link(); left = .binary(o, left, try parseConcat()) }
        return left
    }

    mutating func parseConcat() throws -> TemplateExpr {
        var left = try parseMath2()
        while peek == .op("~") { advance(); try link(); left = .binary("~", left, try parseMath2()) }
        return left
    }

    mutating func parseMath2() throws -> TemplateExpr {
        var left = try parsePow()
        while case .op(let o)? = peek, ["*", "/", "//", "%"].contains(o) { advance(); try link(); left = .binary(o, left, try parsePow()) }
        return left
    }

    mutating func parsePow() throws -> TemplateExpr {
        var left = try parseUnary()
        while peek == .op("**") { advance(); try link(); left = .binary("**", left, try parseUnary()) }
        return left
    }

    mutating func parseUnary() throws -> TemplateExpr {
        if case .op(let o)? = peek, o == "-" || o == "+" {
            advance()
            depth += 1
            defer { depth -= 1 }
            guard depth < 200 else { throw fail("expression nested too deeply") }
            return .unary(o, try parseUnary())
        }
        var e = try parsePrimary()
        e = try parsePostfix(e)
        return try parseFilters(e)
    }

    mutating func parseFilters(_ base: TemplateExpr) throws -> TemplateExpr {
        var e = base
        while true {
            if peek == .op("|") || peek == .name("is") { try link() }
            if peek == .op("|") {
                advance()
                guard case .name(let name)? = peek else { throw fail("expected a filter name") }
                advance()
                var args: [TemplateExpr] = [], kwargs: [(String, TemplateExpr)] = []
                if peek == .op("(") { (args, kwargs) = try parseArguments() }
                e = .filter(e, name, args, kwargs)
            } else if peek == .name("is") {
                advance()
                var negated = false
                if peek == .name("not") { advance(); negated = true }
                guard case .name(let name)? = peek else { throw fail("expected a test name") }
                advance()
                var args: [TemplateExpr] = []
                if peek == .op("(") {
                    args = try parseArguments().0
                } else if let t = peek, isArgumentStart(t) {
                    args = [try parsePostfix(try parsePrimary())]
                }
                e = .test(e, name, args, negated: negated)
            } else { return e }
        }
    }

    func isArgumentStart(_ t: LexToken) -> Bool {
        switch t {
        case .string, .int, .double: return true
        case .name(let n): return !["and", "or", "not", "in", "is", "if", "else"].contains(n)
        case .op: return false
        }
    }

    mutating func parseArguments() throws -> ([TemplateExpr], [(String, TemplateExpr)]) {
        try expect(.op("("))
        var args: [TemplateExpr] = [], kwargs: [(String, TemplateExpr)] = []
        while peek != .op(")") {
            if case .name(let n)? = peek, pos + 1 < tokens.count, tokens[pos + 1] == .op("=") {
                advance(); advance()
                kwargs.append((n, try parseExpression()))
            } else {
                args.append(try parseExpression())
            }
            if peek == .op(",") { advance() } else { break }
        }
        try expect(.op(")"))
        return (args, kwargs)
    }

    mutating func parsePostfix(_ base: TemplateExpr) throws -> TemplateExpr {
        var e = base
        while true {
            if peek == .op(".") || peek == .op("[") || peek == .op("(") { try link() }
            if peek == .op(".") {
                advance()
                switch peek {
                case .name(let n)?: advance(); e = .attribute(e, n)
                case .int(let i)?: advance(); e = .item(e, .literal(.int(i)))
                default: throw fail("expected an attribute name")
                }
            } else if peek == .op("[") {
                advance()
                var parts: [TemplateExpr?] = [nil]
                var isSlice = false
                while peek != .op("]") {
                    if peek == .op(":") { advance(); isSlice = true; parts.append(nil); continue }
                    guard peek != nil else { throw fail("unclosed '['") }
                    parts[parts.count - 1] = try parseExpression()
                }
                try expect(.op("]"))
                if isSlice {
                    guard parts.count <= 3 else { throw fail("invalid slice") }
                    e = .slice(e, parts[0], parts.count > 1 ? parts[1] : nil, parts.count > 2 ? parts[2] : nil)
                } else {
                    guard let index = parts[0] else { throw fail("empty subscript") }
                    e = .item(e, index)
                }
            } else if peek == .op("(") {
                let (args, kwargs) = try parseArguments()
                e = .call(e, args, kwargs)
            } else { return e }
        }
    }

    mutating func parsePrimary() throws -> TemplateExpr {
        guard let t = peek else { throw fail("unexpected end of expression") }
        advance()
        switch t {
        case .string(var s):
            // Adjacent string literals concatenate.
            while case .string(let more)? = peek { s += more; advance() }
            return .literal(.string(s))
        case .int(let i): return .literal(.int(i))
        case .double(let d): return .literal(.double(d))
        case .name(let n):
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n)
            }
        case .op("("):
            if peek == .op(")") { advance(); return .list([]) }
            let e = try parseTupleOrExpression()
            try expect(.op(")"))
            return e
        case .op("["):
            var items: [TemplateExpr] = []
            while peek != .op("]") {
                items.append(try parseExpression())
                if peek == .op(",") { advance() } else { break }
            }
            try expect(.op("]"))
            return .list(items)
        case .op("{"):
            var pairs: [(TemplateExpr, TemplateExpr)] = []
            while peek != .op("}") {
                let k = try parseExpression()
                try expect(.op(":"))
                pairs.append((k, try parseExpression()))
                if peek == .op(",") { advance() } else { break }
            }
            try expect(.op("}"))
            return .dict(pairs)
        default:
            throw fail("unexpected \(describe(t))")
        }
    }
}

// The syntax tree is immutable after parsing.
extension TemplateNode: @unchecked Sendable {}
extension TemplateExpr: @unchecked Sendable {}
