import CSentencePiece
import Foundation

/// A SentencePiece `.model` (Unigram or BPE) run by libsentencepiece through a C shim.
public final class SentencePieceTokenizer: Tokenizer, @unchecked Sendable {
    // The processor is immutable after loading; libsentencepiece's const methods are thread-safe.
    private let processor: OpaquePointer
    public let pieceCount: Int
    public let bosTokenId: Int?
    public let eosTokenId: Int?
    let chatTemplate: ChatTemplate?
    let addBos: Bool
    let addEos: Bool
    let bosToken: String?
    let eosToken: String?

    /// `configFolder` may hold a tokenizer_config.json (chat template, add_bos_token, add_eos_token).
    public init(modelFile: URL, configFolder: URL? = nil) throws {
        let data = try readFile(modelFile)
        var error = [CChar](repeating: 0, count: 512)
        let loaded = data.withUnsafeBytes { raw in
            csp_load_bytes(raw.baseAddress, raw.count, &error, error.count)
        }
        guard let loaded else {
            let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw TokenizerError.malformed(modelFile.path, reason: message.isEmpty ? "not a SentencePiece model" : message)
        }
        processor = loaded
        pieceCount = Int(csp_piece_size(loaded))
        let b = Int(csp_bos_id(loaded)), e = Int(csp_eos_id(loaded))
        bosTokenId = b >= 0 && b < pieceCount ? b : nil
        eosTokenId = e >= 0 && e < pieceCount ? e : nil
        var config: JSONValue?
        if let folder = configFolder {
            let url = folder.appendingPathComponent("tokenizer_config.json")
            if FileManager.default.fileExists(atPath: url.path) {
                do { config = try JSONValue.parse(try readFile(url)) } catch let e as JSONError {
                    csp_free(loaded)
                    throw TokenizerError.malformed(url.path, reason: e.localizedDescription)
                }
            }
        }
        addBos = config?["add_bos_token"]?.bool ?? false
        addEos = config?["add_eos_token"]?.bool ?? false
        do { chatTemplate = try config?["chat_template"]?.string.map { try ChatTemplate($0) } } catch {
            csp_free(loaded); throw error
        }
        bosToken = nil
        eosToken = nil
    }

    deinit { csp_free(processor) }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var ids: UnsafeMutablePointer<Int32>?
        var count = 0
        var utf8 = Array(text.utf8)
        utf8.append(0)
        let status = utf8.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                csp_encode(processor, $0, buf.count - 1, &ids, &count)
            }
        }
        var out: [Int] = []
        if status == 0, let ids {
            out = (0..<count).map { Int(ids[$0]) }
        }
        csp_free_ids(ids)
        if addSpecialTokens {
            if addBos, let b = bosTokenId { out.insert(b, at: 0) }
            if addEos, let e = eosTokenId { out.append(e) }
        }
        return out
    }

    /// Out-of-range ids are skipped (the library would reject the whole call).
    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        let valid = ids.filter { $0 >= 0 && $0 < pieceCount && !(skipSpecialTokens && csp_is_control(processor, Int32($0)) != 0) }
        let ids32 = valid.map { Int32($0) }
        var length = 0
        let text = ids32.withUnsafeBufferPointer { csp_decode(processor, $0.baseAddress, $0.count, &length) }
        guard let text else { return "" }
        defer { csp_free_string(text) }
        return String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
    }

    public func applyChatTemplate(messages: [[String: String]], addGenerationPrompt: Bool) throws -> String {
        guard let chatTemplate else { throw TokenizerError.noChatTemplate }
        return try chatTemplate.render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                       bosToken: bosTokenId.flatMap { token(for: $0) }, eosToken: eosTokenId.flatMap { token(for: $0) })
    }

    public func token(for id: Int) -> String? {
        var length = 0
        guard let p = csp_id_to_piece(processor, Int32(truncatingIfNeeded: id), &length), id >= 0 && id < pieceCount else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: length), as: UTF8.self)
    }

    public func id(for token: String) -> Int? {
        let bytes = Array(token.utf8)
        let id = Int(bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { csp_piece_to_id(processor, $0.baseAddress, $0.count) }
        })
        // PieceToId answers the unknown id for unknown pieces.
        if id == Int(csp_unk_id(processor)) && self.token(for: id) != token { return nil }
        return id >= 0 && id < pieceCount ? id : nil
    }

    public var vocabularySize: Int { pieceCount }
}
