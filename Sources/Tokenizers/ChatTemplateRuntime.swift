import Foundation

/// Evaluates a parsed chat template with Python/Jinja value semantics.
final class TemplateInterpreter {
    private var scopes: [[String: TValue]] = []
    private var depth = 0

    enum Flow { case normal, breakLoop, continueLoop }

    func fail(_ m: String) -> TokenizerError { .template(m) }

    func run(_ nodes: [TemplateNode], globals: [String: TValue]) throws -> String {
        scopes = [globals]
        var out = ""
        _ = try execute(nodes, into: &out)
        return out
    }

    // MARK: statements

    func execute(_ nodes: [TemplateNode], into out: inout String) throws -> Flow {
        for node in nodes {
            switch node {
            case .text(let t): out += t
            case .output(let e, _): out += try evaluate(e).text
            case .ifBlock(let branches, let otherwise):
                var taken = false
                for (cond, body) in branches where try evaluate(cond).isTruthy {
                    taken = true
                    let flow = try execute(body, into: &out)
                    if flow != .normal { return flow }
                    break
                }
                if !taken {
                    let flow = try execute(otherwise, into: &out)
                    if flow != .normal { return flow }
                }
            case .forBlock(let targets, let iterable, let filter, let body, let otherwise, _):
                var items = try iterate(try evaluate(iterable))
                if let filter {
                    items = try items.filter { item in
                        scopes.append(try bind(targets, item))
                        defer { scopes.removeLast() }
                        return try evaluate(filter).isTruthy
                    }
                }
                if items.isEmpty {
                    let flow = try execute(otherwise, into: &out)
                    if flow != .normal { return flow }
                    continue
                }
                let n = items.count
                for (i, item) in items.enumerated() {
                    var frame = try bind(targets, item)
                    let loop: [String: TValue] = [
                        "index": .int(i + 1), "index0": .int(i), "revindex": .int(n - i), "revindex0": .int(n - i - 1),
                        "first": .bool(i == 0), "last": .bool(i == n - 1), "length": .int(n),
                        "previtem": i > 0 ? items[i - 1] : .undefined("previtem"),
                        "nextitem": i + 1 < n ? items[i + 1] : .undefined("nextitem"),
                    ]
                    frame["loop"] = .dict(Array(loop.keys).sorted(), loop)
                    scopes.append(frame)
                    let flow = try execute(body, into: &out)
                    scopes.removeLast()
                    if flow == .breakLoop { break }
                }
            case .set(let target, let names, let value, _):
                let v = try evaluate(value)
                if case .attribute(.name(let nsName), let attr) = target {
                    guard case .namespace(let ns) = lookup(nsName) else {
                        throw fail("cannot assign attribute on non-namespace object '\(nsName)'")
                    }
                    ns.set(attr, v)
                } else if names.count == 1 {
                    scopes[scopes.count - 1][names[0]] = v
                } else {
                    let parts = try iterate(v)
                    guard parts.count == names.count else { throw fail("cannot unpack \(parts.count) values into \(names.count) names") }
                    for (n, p) in zip(names, parts) { scopes[scopes.count - 1][n] = p }
                }
            case .setBlock(let name, let body):
                var captured = ""
                _ = try execute(body, into: &captured)
                scopes[scopes.count - 1][name] = .string(captured)
            case .macro(let m):
                scopes[scopes.count - 1][m.name] = .macro(m)
            case .breakLoop: return .breakLoop
            case .continueLoop: return .continueLoop
            case .call(let e, _): _ = try evaluate(e)
            }
        }
        return .normal
    }

    func bind(_ targets: [String], _ item: TValue) throws -> [String: TValue] {
        if targets.count == 1 { return [targets[0]: item] }
        let parts = try iterate(item)
        guard parts.count == targets.count else { throw fail("cannot unpack \(parts.count) values into \(targets.count) loop variables") }
        return Dictionary(uniqueKeysWithValues: zip(targets, parts))
    }

    func iterate(_ v: TValue) throws -> [TValue] {
        switch v {
        case .list(let l): return l
        case .dict(let keys, _): return keys.map { .string($0) }
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        case .namespace(let ns): return ns.order.map { .string($0) }
        default: throw fail("'\(v.typeName)' object is not iterable")
        }
    }

    func lookup(_ name: String) -> TValue {
        for frame in scopes.reversed() { if let v = frame[name] { return v } }
        switch name {
        case "raise_exception", "namespace", "range", "dict", "strftime_now", "len": return .builtin(name)
        default: return .undefined(name)
        }
    }

    // MARK: expressions

    func evaluate(_ e: TemplateExpr) throws -> TValue {
        switch e {
        case .literal(let v): return v
        case .name(let n): return lookup(n)
        case .list(let items): return .list(try items.map { try evaluate($0) })
        case .dict(let pairs):
            var keys: [String] = [], d: [String: TValue] = [:]
            for (k, v) in pairs {
                let key = try evaluate(k).text
                if d[key] == nil { keys.append(key) }
                d[key] = try evaluate(v)
            }
            return .dict(keys, d)
        case .attribute(let base, let name): return try attribute(try evaluate(base), name)
        case .item(let base, let index): return try item(try evaluate(base), try evaluate(index))
        case .slice(let base, let a, let b, let c):
            return try slice(try evaluate(base), try a.map { try evaluate($0) }, try b.map { try evaluate($0) }, try c.map { try evaluate($0) })
        case .call(let callee, let args, let kwargs):
            let f = try evaluate(callee)
            let a = try args.map { try evaluate($0) }
            var kw: [(String, TValue)] = []
            for (k, v) in kwargs { kw.append((k, try evaluate(v))) }
            return try call(f, a, kw)
        case .filter(let base, let name, let args, let kwargs):
            let v = try evaluate(base)
            let a = try args.map { try evaluate($0) }
            var kw: [String: TValue] = [:]
            for (k, x) in kwargs { kw[k] = try evaluate(x) }
            return try applyFilter(name, v, a, kw)
        case .test(let base, let name, let args, let negated):
            let r = try applyTest(name, try evaluate(base), try args.map { try evaluate($0) })
            return .bool(negated ? !r : r)
        case .unary(let op, let x):
            let v = try evaluate(x)
            switch op {
            case "not": return .bool(!v.isTruthy)
            case "-":
                switch v {
                case .int(let i): return .int(0 &- i)
                case .double(let d): return .double(-d)
                default: throw fail("bad operand type for unary -: '\(v.typeName)'")
                }
            default: return v
            }
        case .binary(let op, let l, let r):
            if op == "and" { let a = try evaluate(l); return a.isTruthy ? try evaluate(r) : a }
            if op == "or" { let a = try evaluate(l); return a.isTruthy ? a : try evaluate(r) }
            return try binary(op, try evaluate(l), try evaluate(r))
        case .conditional(let cond, let yes, let no):
            if try evaluate(cond).isTruthy { return try evaluate(yes) }
            return try no.map { try evaluate($0) } ?? .undefined("conditional")
        }
    }

    static let dictMethods: Set<String> = ["items", "keys", "values", "get"]
    static let stringMethods: Set<String> = ["strip", "lstrip", "rstrip", "split", "startswith", "endswith", "lower", "upper",
                                             "title", "capitalize", "replace", "find", "count", "join", "isdigit", "isalpha",
                                             "isspace", "splitlines", "format"]

    func attribute(_ base: TValue, _ name: String) throws -> TValue {
        switch base {
        case .undefined(let n): throw fail("'\(n)' is undefined")
        case .dict(_, let d):
            if Self.dictMethods.contains(name) { return .boundMethod(base, name) }
            return d[name] ?? .undefined("\(name)")
        case .namespace(let ns): return ns.values[name] ?? .undefined(name)
        case .string:
            return Self.stringMethods.contains(name) ? .boundMethod(base, name) : .undefined(name)
        case .list:
            return name == "index" || name == "count" ? .boundMethod(base, name) : .undefined(name)
        default: return .undefined(name)
        }
    }

    func item(_ base: TValue, _ index: TValue) throws -> TValue {
        switch base {
        case .undefined(let n): throw fail("'\(n)' is undefined")
        case .dict(_, let d):
            if case .string(let k) = index { return d[k] ?? .undefined(k) }
            return d[index.text] ?? .undefined(index.text)
        case .namespace(let ns): return ns.values[index.text] ?? .undefined(index.text)
        case .list(let l):
            guard case .int(var i) = index else {
                if case .string(let s) = index { return try attribute(base, s) }
                return .undefined("item")
            }
            if i < 0 { i = i &+ l.count }
            return i >= 0 && i < l.count ? l[i] : .undefined("index \(i)")
        case .string(let s):
            guard case .int(var i) = index else { return .undefined("item") }
            let scalars = Array(s.unicodeScalars)
            if i < 0 { i = i &+ scalars.count }
            return i >= 0 && i < scalars.count ? .string(String(scalars[i])) : .undefined("index \(i)")
        default: return .undefined("item")
        }
    }

    func slice(_ base: TValue, _ a: TValue?, _ b: TValue?, _ c: TValue?) throws -> TValue {
        func intOrNil(_ v: TValue?) throws -> Int? {
            guard let v else { return nil }
            switch v {
            case .int(let i): return max(-(1 << 40), min(1 << 40, i))
            case .none, .undefined: return nil
            default: throw fail("slice indices must be integers")
            }
        }
        let step = try intOrNil(c) ?? 1
        guard step != 0 else { throw fail("slice step cannot be zero") }
        func indices(_ n: Int) throws -> [Int] {
            var start = try intOrNil(a), stop = try intOrNil(b)
            if step > 0 {
                var s = start ?? 0, e = stop ?? n
                if s < 0 { s = max(0, s + n) }; if e < 0 { e = max(0, e + n) }
                s = min(s, n); e = min(e, n)
                return s < e ? Array(stride(from: s, to: e, by: step)) : []
            } else {
                if var s0 = start { if s0 < 0 { s0 += n }; start = min(s0, n - 1) } else { start = n - 1 }
                if var e0 = stop { if e0 < 0 { e0 += n }; stop = max(e0, -1) } else { stop = -1 }
                guard let s = start, let e = stop, s > e else { return [] }
                return Array(stride(from: s, to: e, by: step)).filter { $0 >= 0 }
            }
        }
        switch base {
        case .list(let l): return .list(try indices(l.count).map { l[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            return .string(try indices(scalars.count).map { scalars[$0] }.string)
        case .undefined(let n): throw fail("'\(n)' is undefined")
        default: throw fail("'\(base.typeName)' object is not subscriptable")
        }
    }

    func call(_ f: TValue, _ args: [TValue], _ kwargs: [(String, TValue)]) throws -> TValue {
        switch f {
        case .builtin(let name):
            switch name {
            case "raise_exception": throw fail(args.first?.text ?? "raise_exception called")
            case "namespace":
                let ns = TNamespace()
                if case .dict(let keys, let d)? = args.first { for k in keys { ns.set(k, d[k]!) } }
                for (k, v) in kwargs { ns.set(k, v) }
                return .namespace(ns)
            case "dict":
                var keys: [String] = [], d: [String: TValue] = [:]
                for (k, v) in kwargs { if d[k] == nil { keys.append(k) }; d[k] = v }
                return .dict(keys, d)
            case "range":
                let ints = try args.map { v -> Int in guard case .int(let i) = v else { throw fail("range() needs integers") }; return i }
                var (start, stop, step) = (0, 0, 1)
                switch ints.count {
                case 1: stop = ints[0]
                case 2: (start, stop) = (ints[0], ints[1])
                case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
                default: throw fail("range() takes 1 to 3 arguments")
                }
                guard step != 0 else { throw fail("range() step must not be zero") }
                let span = step > 0 ? Double(stop) - Double(start) : Double(start) - Double(stop)
                guard span / Double(step.magnitude) <= 1_000_000 else { throw fail("range() too large") }
                return .list(stride(from: start, to: stop, by: step).map { .int($0) })
            case "strftime_now":
                let formatter = DateFormatter()
                formatter.locale = Locale(identifier: "en_US_POSIX")
                formatter.dateFormat = strftimeToICU(args.first?.text ?? "%Y-%m-%d")
                return .string(formatter.string(from: Date()))
            case "len":
                return try applyFilter("length", args.first ?? .none, [], [:])
            default: throw fail("'\(name)' is not callable")
            }
        case .macro(let m):
            guard depth < 100 else { throw fail("macro recursion too deep") }
            var frame: [String: TValue] = [:]
            for (i, (pname, def)) in m.parameters.enumerated() {
                if i < args.count { frame[pname] = args[i] } else if let kv = kwargs.first(where: { $0.0 == pname }) {
                    frame[pname] = kv.1
                } else if let def { frame[pname] = try evaluate(def) } else { frame[pname] = .undefined(pname) }
            }
            let saved = scopes
            scopes = [scopes[0], frame]
            depth += 1
            defer { scopes = saved; depth -= 1 }
            var out = ""
            _ = try execute(m.body, into: &out)
            return .string(out)
        case .boundMethod(let base, let name):
            return try method(base, name, args, kwargs)
        case .undefined(let n): throw fail("'\(n)' is undefined")
        default: throw fail("'\(f.typeName)' object is not callable")
        }
    }

    func method(_ base: TValue, _ name: String, _ args: [TValue], _ kwargs: [(String, TValue)]) throws -> TValue {
        switch base {
        case .dict(let keys, let d):
            switch name {
            case "items": return .list(keys.map { .list([.string($0), d[$0]!]) })
            case "keys": return .list(keys.map { .string($0) })
            case "values": return .list(keys.map { d[$0]! })
            case "get": return d[args.first?.text ?? ""] ?? (args.count > 1 ? args[1] : .none)
            default: break
            }
        case .list(let l):
            if name == "count", let x = args.first { return .int(l.filter { equal($0, x) }.count) }
            if name == "index", let x = args.first {
                guard let i = l.firstIndex(where: { equal($0, x) }) else { throw fail("value is not in list") }
                return .int(i)
            }
        case .string(let s):
            func arg(_ i: Int) -> String? { i < args.count ? (args[i].isUndefined || { if case .none = args[i] { return true }; return false }() ? nil : args[i].text) : nil }
            switch name {
            case "strip": return .string(pyStrip(s, arg(0), left: true, right: true))
            case "lstrip": return .string(pyStrip(s, arg(0), left: true, right: false))
            case "rstrip": return .string(pyStrip(s, arg(0), left: false, right: true))
            case "lower": return .string(s.lowercased())
            case "upper": return .string(s.uppercased())
            case "title": return .string(pyTitle(s))
            case "capitalize": return .string(pyCapitalize(s))
            case "startswith", "endswith":
                var candidates: [String] = []
                if case .list(let l)? = args.first { candidates = l.map { $0.text } } else if let a = arg(0) { candidates = [a] }
                return .bool(candidates.contains { name == "startswith" ? s.utf8.starts(with: $0.utf8) : s.utf8.reversed().starts(with: $0.utf8.reversed()) })
            case "split":
                var maxSplit = -1
                if args.count > 1, case .int(let m) = args[1] { maxSplit = m }
                if let m = kwargs.first(where: { $0.0 == "maxsplit" }), case .int(let v) = m.1 { maxSplit = v }
                let sep = arg(0) ?? kwargs.first(where: { $0.0 == "sep" }).map { $0.1.text }
                return .list(pySplit(s, sep, maxSplit).map { .string($0) })
            case "splitlines":
                return .list(s.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).map { .string(String($0)) }.dropLast(s.hasSuffix("\n") ? 1 : 0))
            case "replace":
                guard let old = arg(0), let new = arg(1) else { throw fail("replace() needs two arguments") }
                var count = -1
                if args.count > 2, case .int(let c) = args[2] { count = c }
                return .string(pyReplace(s, old, new, count))
            case "find":
                guard let sub = arg(0) else { return .int(-1) }
                let scalars = Array(s.unicodeScalars), target = Array(sub.unicodeScalars)
                if target.isEmpty { return .int(0) }
                if scalars.count >= target.count {
                    for i in 0...(scalars.count - target.count) where Array(scalars[i..<(i + target.count)]) == target { return .int(i) }
                }
                return .int(-1)
            case "count":
                guard let sub = arg(0), !sub.isEmpty else { return .int(s.unicodeScalars.count + 1) }
                return .int(pySplit(s, sub, -1).count - 1)
            case "join":
                return .string(try iterate(args.first ?? .list([])).map { $0.text }.joined(separator: s))
            case "isdigit": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil })
            case "isalpha": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
            case "isspace": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { isPythonSpace($0) })
            default: break
            }
        default: break
        }
        throw fail("'\(base.typeName)' object has no method '\(name)'")
    }

    // MARK: operators

    func equal(_ a: TValue, _ b: TValue) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case (.undefined, .undefined): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.dict(let kx, let dx), .dict(let ky, let dy)):
            return Set(kx) == Set(ky) && kx.allSatisfy { equal(dx[$0]!, dy[$0]!) }
        default:
            if let x = number(a), let y = number(b) { return x == y }
            return false
        }
    }

    func number(_ v: TValue) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    func binary(_ op: String, _ a: TValue, _ b: TValue) throws -> TValue {
        switch op {
        case "==": return .bool(equal(a, b))
        case "!=": return .bool(!equal(a, b))
        case "~": return .string(a.text + b.text)
        case "in", "not in":
            let r: Bool
            switch b {
            case .string(let s): r = s.utf8.count >= a.text.utf8.count && (a.text.isEmpty || pySplit(s, a.text, 1).count > 1)
            case .list(let l): r = l.contains { equal($0, a) }
            case .dict(_, let d): r = d[a.text] != nil
            case .namespace(let ns): r = ns.values[a.text] != nil
            case .undefined(let n): throw fail("'\(n)' is undefined")
            default: throw fail("argument of type '\(b.typeName)' is not iterable")
            }
            return .bool(op == "in" ? r : !r)
        case "<", ">", "<=", ">=":
            let c: Int
            if case .string(let x) = a, case .string(let y) = b {
                c = x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars, by: { $0.value < $1.value }) ? -1 : (equal(a, b) ? 0 : 1)
            } else if let x = number(a), let y = number(b) {
                c = x < y ? -1 : (x == y ? 0 : 1)
            } else { throw fail("'\(op)' not supported between '\(a.typeName)' and '\(b.typeName)'") }
            switch op {
            case "<": return .bool(c < 0)
            case ">": return .bool(c > 0)
            case "<=": return .bool(c <= 0)
            default: return .bool(c >= 0)
            }
        default: break
        }
        if case .undefined(let n) = a { throw fail("'\(n)' is undefined") }
        if case .undefined(let n) = b { throw fail("'\(n)' is undefined") }
        switch (op, a, b) {
        case ("+", .string(let x), .string(let y)): return .string(x + y)
        case ("+", .list(let x), .list(let y)): return .list(x + y)
        case ("*", .string(let x), .int(let n)), ("*", .int(let n), .string(let x)):
            guard n <= 0 || x.utf8.count <= 50_000_000 / max(n, 1) else { throw fail("string repetition too large") }
            return .string(n > 0 ? String(repeating: x, count: n) : "")
        case ("*", .list(let x), .int(let n)):
            guard n <= 0 || x.count <= 1_000_000 / max(n, 1) else { throw fail("list repetition too large") }
            return .list(n > 0 ? Array([[TValue]](repeating: x, count: n).joined()) : [])
        default: break
        }
        let isInt: Bool = {
            switch (a, b) {
            case (.int, .int), (.int, .bool), (.bool, .int), (.bool, .bool): return true
            default: return false
            }
        }()
        guard let x = number(a), let y = number(b) else {
            throw fail("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
        }
        func exactInt(_ v: TValue) -> Int { if case .int(let i) = v { return i }; if case .bool(let b) = v { return b ? 1 : 0 }; return 0 }
        if isInt {
            let i = exactInt(a), j = exactInt(b)
            switch op {
            case "+": let (r, o) = i.addingReportingOverflow(j); return o ? .double(x + y) : .int(r)
            case "-": let (r, o) = i.subtractingReportingOverflow(j); return o ? .double(x - y) : .int(r)
            case "*": let (r, o) = i.multipliedReportingOverflow(by: j); return o ? .double(x * y) : .int(r)
            case "/": guard j != 0 else { throw fail("division by zero") }; return .double(x / y)
            case "//", "%":
                guard j != 0 else { throw fail("integer division or modulo by zero") }
                if j == -1 { return op == "//" ? .int(0 &- i) : .int(0) }
                let q = i / j, r = i % j
                let floor = (r != 0 && (r < 0) != (j < 0)) ? q - 1 : q
                return op == "//" ? .int(floor) : .int(i - floor * j)
            case "**":
                let p = pow(x, y)
                if j >= 0, p.isFinite, abs(p) < 9.2e18 { return .int(Int(p)) }
                return .double(p)
            default: break
            }
        }
        switch op {
        case "+": return .double(x + y)
        case "-": return .double(x - y)
        case "*": return .double(x * y)
        case "/": guard y != 0 else { throw fail("float division by zero") }; return .double(x / y)
        case "//": guard y != 0 else { throw fail("float floor division by zero") }; return .double((x / y).rounded(.down))
        case "%": guard y != 0 else { throw fail("float modulo") }; return .double(x - y * (x / y).rounded(.down))
        case "**": return .double(pow(x, y))
        default: throw fail("unknown operator \(op)")
        }
    }

    // MARK: tests and filters

    func applyTest(_ name: String, _ v: TValue, _ args: [TValue]) throws -> Bool {
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": if case .none = v { return true }; return false
        case "string": if case .string = v { return true }; return false
        case "number": switch v { case .int, .double: return true; default: return false }
        case "integer": if case .int = v { return true }; return false
        case "float": if case .double = v { return true }; return false
        case "boolean": if case .bool = v { return true }; return false
        case "true": if case .bool(true) = v { return true }; return false
        case "false": if case .bool(false) = v { return true }; return false
        case "mapping": switch v { case .dict, .namespace: return true; default: return false }
        case "iterable": switch v { case .list, .dict, .string, .namespace: return true; default: return false }
        case "sequence": switch v { case .list, .dict, .string: return true; default: return false }
        case "callable": switch v { case .macro, .builtin, .boundMethod: return true; default: return false }
        case "odd", "even":
            guard case .int(let i) = v else { throw fail("test '\(name)' needs an integer") }
            return (i % 2 != 0) == (name == "odd")
        case "divisibleby":
            guard case .int(let i) = v, case .int(let j)? = args.first, j != 0 else { throw fail("divisibleby needs integers") }
            return i % j == 0
        case "eq", "equalto", "==": return equal(v, args.first ?? .none)
        case "ne", "!=": return !equal(v, args.first ?? .none)
        case "lt", "<", "gt", ">", "le", "<=", "ge", ">=":
            let op = ["lt": "<", "gt": ">", "le": "<=", "ge": ">="][name] ?? name
            return try binary(op, v, args.first ?? .none).isTruthy
        case "in": return try binary("in", v, args.first ?? .list([])).isTruthy
        case "lower": return v.text == v.text.lowercased()
        case "upper": return v.text == v.text.uppercased()
        default: throw fail("no test named '\(name)'")
        }
    }

    func applyFilter(_ name: String, _ v: TValue, _ args: [TValue], _ kw: [String: TValue]) throws -> TValue {
        func argument(_ i: Int, _ key: String) -> TValue? { i < args.count ? args[i] : kw[key] }
        switch name {
        case "trim": return .string(pyStrip(v.text, argument(0, "chars")?.text, left: true, right: true))
        case "upper": return .string(v.text.uppercased())
        case "lower": return .string(v.text.lowercased())
        case "title": return .string(jinjaTitle(v.text))
        case "capitalize": return .string(pyCapitalize(v.text))
        case "string": return .string(v.text)
        case "safe": return v
        case "length", "count":
            switch v {
            case .string(let s): return .int(s.unicodeScalars.count)
            case .list(let l): return .int(l.count)
            case .dict(let k, _): return .int(k.count)
            case .undefined: return .int(0)
            case .namespace(let ns): return .int(ns.order.count)
            default: throw fail("object of type '\(v.typeName)' has no len()")
            }
        case "tojson":
            var indent: Int?
            if case .int(let i)? = argument(0, "indent") { indent = max(0, min(i, 64)) }
            var separators: (String, String)?
            if case .list(let l)? = kw["separators"], l.count == 2 { separators = (l[0].text, l[1].text) }
            return .string(try pythonJSON(v, indent: indent, separators: separators, sortKeys: kw["sort_keys"]?.isTruthy ?? false))
        case "join":
            let sep = argument(0, "d")?.text ?? ""
            var items = try iterate(v)
            if let attr = argument(1, "attribute")?.text { items = try items.map { try attribute($0, attr) } }
            return .string(items.map { $0.text }.joined(separator: sep))
        case "list": return .list(try iterate(v))
        case "first": return try iterate(v).first ?? .undefined("first")
        case "last": return try iterate(v).last ?? .undefined("last")
        case "reverse":
            if case .string(let s) = v { return .string(String(s.unicodeScalars.reversed().map(Character.init))) }
            return .list(try iterate(v).reversed())
        case "default", "d":
            let fallback = argument(0, "default_value") ?? .string("")
            let boolean = argument(1, "boolean")?.isTruthy ?? false
            return v.isUndefined || (boolean && !v.isTruthy) ? fallback : v
        case "replace":
            guard let old = argument(0, "old")?.text, let new = argument(1, "new")?.text else { throw fail("replace needs two arguments") }
            var count = -1
            if case .int(let c)? = argument(2, "count") { count = c }
            return .string(pyReplace(v.text, old, new, count))
        case "int":
            switch v {
            case .int: return v
            case .double(let d): return .int(d.isFinite && abs(d) < 9.2e18 ? Int(d) : 0)
            case .bool(let b): return .int(b ? 1 : 0)
            case .string(let s):
                if let i = Int(s.trimmingCharacters(in: .whitespaces)) { return .int(i) }
                let d = Double(s.trimmingCharacters(in: .whitespaces)) ?? 0
                return .int(d.isFinite && abs(d) < 9.2e18 ? Int(d) : 0)
            default: return argument(0, "default") ?? .int(0)
            }
        case "float":
            switch v {
            case .int(let i): return .double(Double(i))
            case .double: return v
            case .string(let s): return .double(Double(s.trimmingCharacters(in: .whitespaces)) ?? 0)
            default: return .double(0)
            }
        case "abs":
            switch v {
            case .int(let i): return .int(i == .min ? i : abs(i))
            case .double(let d): return .double(abs(d))
            default: throw fail("bad operand for abs()")
            }
        case "items":
            guard case .dict(let keys, let d) = v else { throw fail("items filter needs a mapping") }
            return .list(keys.map { .list([.string($0), d[$0]!]) })
        case "map":
            let items = try iterate(v)
            if let attr = kw["attribute"]?.text {
                return .list(try items.map { item in
                    let r = try attribute(item, attr)
                    if r.isUndefined, let d = kw["default"] { return d }
                    return r
                })
            }
            guard let filterName = args.first?.text else { throw fail("map needs a filter name or attribute=") }
            return .list(try items.map { try applyFilter(filterName, $0, Array(args.dropFirst()), [:]) })
        case "select", "reject":
            let items = try iterate(v)
            return .list(try items.filter { item in
                let r = args.isEmpty ? item.isTruthy : try applyTest(args[0].text, item, Array(args.dropFirst()))
                return name == "select" ? r : !r
            })
        case "selectattr", "rejectattr":
            guard let attr = args.first?.text else { throw fail("\(name) needs an attribute name") }
            let items = try iterate(v)
            return .list(try items.filter { item in
                let value = try attribute(item, attr)
                let r = args.count < 2 ? value.isTruthy : try applyTest(args[1].text, value, Array(args.dropFirst(2)))
                return name == "selectattr" ? r : !r
            })
        case "indent":
            var width = "    "
            if let w = argument(0, "width") { if case .int(let n) = w { width = String(repeating: " ", count: n) } else { width = w.text } }
            let first = argument(1, "first")?.isTruthy ?? false
            let blank = argument(2, "blank")?.isTruthy ?? false
            var lines = v.text.components(separatedBy: "\n")
            for i in lines.indices where (i > 0 || first) && (blank || !lines[i].trimmingCharacters(in: .whitespaces).isEmpty) {
                lines[i] = width + lines[i]
            }
            return .string(lines.joined(separator: "\n"))
        case "sum":
            var total: TValue = .int(0)
            for item in try iterate(v) { total = try binary("+", total, item) }
            return total
        case "unique":
            var out: [TValue] = []
            for item in try iterate(v) where !out.contains(where: { equal($0, item) }) { out.append(item) }
            return .list(out)
        default:
            throw fail("no filter named '\(name)'")
        }
    }
}

// MARK: - Python string helpers

func isPythonSpace(_ c: Unicode.Scalar) -> Bool {
    c.properties.isWhitespace || (0x1C...0x1F).contains(c.value)
}

func pyStrip(_ s: String, _ chars: String?, left: Bool, right: Bool) -> String {
    let scalars = Array(s.unicodeScalars)
    let set = chars.map { Set($0.unicodeScalars) }
    func strip(_ c: Unicode.Scalar) -> Bool { set?.contains(c) ?? isPythonSpace(c) }
    var lo = 0, hi = scalars.count
    if left { while lo < hi, strip(scalars[lo]) { lo += 1 } }
    if right { while hi > lo, strip(scalars[hi - 1]) { hi -= 1 } }
    return scalars[lo..<hi].string
}

func pySplit(_ s: String, _ sep: String?, _ maxSplit: Int) -> [String] {
    let scalars = Array(s.unicodeScalars)
    var out: [String] = []
    guard let sep else {
        var i = 0
        var splits = 0
        while i < scalars.count {
            while i < scalars.count, isPythonSpace(scalars[i]) { i += 1 }
            if i >= scalars.count { break }
            if maxSplit >= 0 && splits == maxSplit {
                var end = scalars.count
                while end > i, isPythonSpace(scalars[end - 1]) { end -= 1 }
                out.append(scalars[i..<end].string); return out
            }
            var j = i
            while j < scalars.count, !isPythonSpace(scalars[j]) { j += 1 }
            out.append(scalars[i..<j].string); splits += 1
            i = j
        }
        return out
    }
    let p = Array(sep.unicodeScalars)
    guard !p.isEmpty else { return [s] }
    var start = 0, i = 0
    while i + p.count <= scalars.count {
        if (maxSplit < 0 || out.count < maxSplit) && Array(scalars[i..<(i + p.count)]) == p {
            out.append(scalars[start..<i].string); i += p.count; start = i
        } else { i += 1 }
    }
    out.append(scalars[start...].string)
    return out
}

func pyReplace(_ s: String, _ old: String, _ new: String, _ count: Int) -> String {
    if old.isEmpty { return s }
    let parts = pySplit(s, old, count)
    return parts.joined(separator: new)
}

func pyTitle(_ s: String) -> String {
    var out = ""
    var previousCased = false
    for c in s.unicodeScalars {
        let cased = c.properties.isCased
        if cased {
            out += previousCased ? String(c).lowercased() : String(c).uppercased()
        } else { out.unicodeScalars.append(c) }
        previousCased = cased
    }
    return out
}

/// Jinja's `title` filter: words start after `-`, whitespace, `(`, `{`, `[` or `<`.
func jinjaTitle(_ s: String) -> String {
    var out = ""
    var atWordStart = true
    for c in s.unicodeScalars {
        if c == "-" || isPythonSpace(c) || c == "(" || c == "{" || c == "[" || c == "<" {
            out.unicodeScalars.append(c); atWordStart = true
        } else {
            out += atWordStart ? String(c).uppercased() : String(c).lowercased()
            atWordStart = false
        }
    }
    return out
}

func pyCapitalize(_ s: String) -> String {
    guard let first = s.unicodeScalars.first else { return s }
    return String(first).uppercased() + String(s.unicodeScalars.dropFirst()).lowercased()
}

func strftimeToICU(_ f: String) -> String {
    var out = ""
    var i = f.startIndex
    while i < f.endIndex {
        if f[i] == "%", f.index(after: i) < f.endIndex {
            let c = f[f.index(after: i)]
            let map: [Character: String] = ["Y": "yyyy", "m": "MM", "d": "dd", "H": "HH", "M": "mm", "S": "ss", "B": "MMMM",
                                            "b": "MMM", "A": "EEEE", "a": "EEE", "y": "yy", "p": "a", "I": "hh", "%": "%"]
            out += map[c] ?? String(c)
            i = f.index(i, offsetBy: 2)
        } else {
            let ch = f[i]
            out += ch.isLetter ? "'\(ch)'" : String(ch)
            i = f.index(after: i)
        }
    }
    return out
}
