import Foundation

/// Errors raised by op argument checks and evaluation.
public enum EngineError: Error, LocalizedError, Equatable, Sendable {
    /// An op was called with arguments it cannot accept (message names op and shapes).
    case invalidArgument(op: String, message: String)
    /// Evaluation failed (for example a memory limit was reached).
    case evaluationFailed(op: String, message: String)

    public var errorDescription: String? {
        switch self {
        case .invalidArgument(let op, let m): return "\(op): \(m)"
        case .evaluationFailed(let op, let m): return "\(op): evaluation failed: \(m)"
        }
    }
    public var op: String {
        switch self { case .invalidArgument(let op, _), .evaluationFailed(let op, _): return op }
    }
}

final class ErrorScope: @unchecked Sendable {
    private let lock = NSLock()
    private var first: EngineError?
    func record(_ e: EngineError) { lock.lock(); if first == nil { first = e }; lock.unlock() }
    var error: EngineError? { lock.lock(); defer { lock.unlock() }; return first }
}

enum ErrorHandling {
    @TaskLocal static var scope: ErrorScope?
}

/// Runs `body`; an op argument error raised inside it is thrown as `EngineError`
/// (the first one, after `body` returns) instead of stopping the program.
public func withError<R>(_ body: () throws -> R) throws -> R {
    let scope = ErrorScope()
    let r = try ErrorHandling.$scope.withValue(scope, operation: body)
    if let e = scope.error { throw e }
    return r
}

public func withError<R>(_ body: () async throws -> R) async throws -> R {
    let scope = ErrorScope()
    let r = try await ErrorHandling.$scope.withValue(scope, operation: body)
    if let e = scope.error { throw e }
    return r
}

/// Reports an op argument error: recorded in the enclosing `withError`, or fatal outside one.
func reportError(_ e: EngineError) {
    if let scope = ErrorHandling.scope {
        scope.record(e)
    } else {
        fatalError(e.errorDescription ?? "\(e)")
    }
}

/// Checks an op argument. Returns false (after reporting) when `condition` fails.
@inline(__always)
func check(_ condition: Bool, _ op: String, _ message: @autoclosure () -> String) -> Bool {
    if condition { return true }
    reportError(.invalidArgument(op: op, message: message()))
    return false
}

/// Formats a shape the way error messages show it.
func fmt(_ shape: [Int]) -> String { "(" + shape.map(String.init).joined(separator: ",") + (shape.count == 1 ? ",)" : ")") }
