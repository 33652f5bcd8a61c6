import Foundation

/// Everything that can be wrong with a tensor file or a conversion request. Each case names the
/// file and, for malformed content, the byte offset where the problem was found.
public enum FormatError: Error, LocalizedError, Equatable, Sendable {
    /// The file could not be opened, read, mapped or written.
    case io(path: String, reason: String)
    /// The file ends before a section it announces.
    case truncated(path: String, offset: Int, section: String, needed: Int, available: Int)
    /// The magic bytes are not those of the format.
    case badMagic(path: String, expected: String, found: String)
    /// A structurally invalid file: the reason names the section and the offending value.
    case malformed(path: String, offset: Int, reason: String)
    /// A valid file that uses something Zoo does not read (a version, a dtype, a quant type).
    case unsupported(path: String, offset: Int, what: String)
    /// A tensor that was asked for is not in the file (or a shard of it).
    case missingTensor(name: String, path: String)
    /// An argument to a reader, writer or converter is invalid.
    case invalidArgument(String)

    public var errorDescription: String? {
        switch self {
        case let .io(path, reason): "\(path): \(reason)"
        case let .truncated(path, offset, section, needed, available):
            "\(path): truncated at offset \(offset) in \(section): needs \(needed) bytes, \(available) left"
        case let .badMagic(path, expected, found): "\(path): not a \(expected) file (magic \(found))"
        case let .malformed(path, offset, reason): "\(path): malformed at offset \(offset): \(reason)"
        case let .unsupported(path, offset, what): "\(path): unsupported at offset \(offset): \(what)"
        case let .missingTensor(name, path): "\(path): no tensor named '\(name)'"
        case let .invalidArgument(message): message
        }
    }
}
