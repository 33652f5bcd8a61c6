import Foundation

public struct ChatTemplate: Sendable {
    public let source: String
    public init(_ source: String) throws { self.source = source }
    public func render(messages: [[String: String]], addGenerationPrompt: Bool, bosToken: String?, eosToken: String?) throws -> String {
        throw TokenizerError.unsupported("chat templates")
    }
}
