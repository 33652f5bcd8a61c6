import Foundation

/// Turns ids into text one at a time. Each piece ends on a whole character (text still waiting
/// for more bytes of a UTF-8 sequence is held back), and the pieces, concatenated, equal
/// `decode(allIds)`.
///
/// It decodes a short window of recent ids and emits what the newest id added, so the cost per
/// id does not grow with the length of the stream.
public struct StreamingDetokenizer: Sendable {
    public let tokenizer: any Tokenizer
    public let skipSpecialTokens: Bool
    private var ids: [Int] = []
    private var prefixOffset = 0
    private var readOffset = 0
    private var emitted = ""
    private var allIds: [Int] = []

    public init(tokenizer: any Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one id; returns the text it completes (possibly empty).
    public mutating func append(_ id: Int) -> String {
        allIds.append(id)
        ids.append(id)
        let prefixText = tokenizer.decode(Array(ids[prefixOffset..<readOffset]), skipSpecialTokens: skipSpecialTokens)
        let newText = tokenizer.decode(Array(ids[prefixOffset...]), skipSpecialTokens: skipSpecialTokens)
        // Wait while the text ends in an incomplete character or the window's text is not an
        // extension of what was already emitted from it.
        guard newText.unicodeScalars.count > prefixText.unicodeScalars.count, newText.unicodeScalars.last != "\u{FFFD}",
              newText.unicodeScalars.starts(with: prefixText.unicodeScalars) else { return "" }
        let piece = String(String.UnicodeScalarView(newText.unicodeScalars.dropFirst(prefixText.unicodeScalars.count)))
        prefixOffset = readOffset
        readOffset = ids.count
        // Keep the window small: drop ids before the prefix.
        if prefixOffset > 64 {
            ids.removeFirst(prefixOffset)
            readOffset -= prefixOffset
            prefixOffset = 0
        }
        emitted += piece
        return piece
    }

    /// Flushes whatever is left so that all pieces together equal `decode(allIds)`.
    public mutating func finish() -> String {
        let full = tokenizer.decode(allIds, skipSpecialTokens: skipSpecialTokens)
        let rest: String
        if full.unicodeScalars.starts(with: emitted.unicodeScalars) {
            rest = String(String.UnicodeScalarView(full.unicodeScalars.dropFirst(emitted.unicodeScalars.count)))
        } else {
            // A decoder rule that rewrites earlier text (rare): nothing can be taken back.
            rest = ""
        }
        emitted += rest
        ids.removeAll(); allIds.removeAll(); prefixOffset = 0; readOffset = 0; emitted = ""
        return rest
    }

    /// Text emitted so far.
    public var text: String { emitted }
}
