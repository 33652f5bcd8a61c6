import Foundation

/// Errors from loading and running models; each names the model, file or tensor at fault.
public enum ZooError: Error, LocalizedError, Equatable, Sendable {
    case unknownModel(String, suggestions: [String])
    case invalidCard(String, reason: String)
    case fileNotFound(String)
    case checksumMismatch(file: String, expected: String, actual: String)
    case download(String, reason: String)
    case missingTensor(String, in: String)
    case tensorShape(String, expected: [Int], actual: [Int])
    case unsupportedArchitecture(String)
    case invalidConfiguration(String)
    case promptTooLong(tokens: Int, context: Int)
    case invalidArgument(String)

    public var errorDescription: String? {
        switch self {
        case let .unknownModel(name, suggestions):
            "unknown model '\(name)'" + (suggestions.isEmpty ? " (zoo list shows the known names)" : "; did you mean \(suggestions.map { "'\($0)'" }.joined(separator: " or "))?")
        case let .invalidCard(name, reason): "model card \(name): \(reason)"
        case let .fileNotFound(path): "file not found: \(path)"
        case let .checksumMismatch(file, expected, actual): "\(file): sha256 \(actual) does not match the card's \(expected); the file was not used"
        case let .download(what, reason): "cannot fetch \(what): \(reason)"
        case let .missingTensor(name, file): "\(file): missing tensor '\(name)'"
        case let .tensorShape(name, expected, actual): "tensor '\(name)' has shape \(actual), expected \(expected)"
        case let .unsupportedArchitecture(arch): "unsupported architecture '\(arch)' (Zoo runs llama, mistral, qwen2, smollm and gpt2 decoders and bert encoders)"
        case let .invalidConfiguration(why): "invalid model configuration: \(why)"
        case let .promptTooLong(tokens, context): "the prompt has \(tokens) tokens but the model's context is \(context)"
        case let .invalidArgument(why): why
        }
    }
}

/// Edit distance for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var prev = Array(0 ... b.count), cur = prev
    for i in 1 ... a.count {
        cur[0] = i
        if !b.isEmpty {
            for j in 1 ... b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}
