import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Files from a Hugging Face repository over HTTPS: `$HF_ENDPOINT` (default
/// https://huggingface.co), `$HF_TOKEN` as a bearer token, the card's pinned revision.
/// Downloads resume from a `.partial` file with a Range request and are verified before the
/// rename, so the cache never holds half a file under its real name.
enum HuggingFace {
    static var endpoint: String {
        let e = ProcessInfo.processInfo.environment["HF_ENDPOINT"] ?? "https://huggingface.co"
        return e.hasSuffix("/") ? String(e.dropLast()) : e
    }

    static func fetch(_ card: ModelCard, _ source: ModelCard.Source, into dir: URL, log: (String) -> Void) throws {
        guard let repo = source.repository else { throw ZooError.invalidCard(card.name, reason: "a huggingface source needs repository") }
        let revision = source.revision ?? "main"
        for f in card.files {
            let target = dir.appendingPathComponent(f.name)
            if FileManager.default.fileExists(atPath: target.path) { continue }
            guard let url = URL(string: "\(endpoint)/\(repo)/resolve/\(revision)/\(f.name)") else {
                throw ZooError.download(f.name, reason: "bad URL for \(repo)")
            }
            log("downloading \(url.absoluteString)")
            try download(url, to: target, size: f.size, sha256: f.sha256)
        }
    }

    /// Downloads `url` into `target` through `target.partial`, resuming what is there.
    static func download(_ url: URL, to target: URL, size: Int, sha256 expected: String, attempts: Int = 3) throws {
        let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial")
        var lastError: Error = ZooError.download(url.absoluteString, reason: "no attempt made")
        for _ in 0 ..< attempts {
            let have = (try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? 0
            if have > size { try? FileManager.default.removeItem(at: partial) }
            do {
                if have < size { try fetchRange(url, from: min(have, size), into: partial) }
                let digest = try ModelRegistry.sha256(of: partial)
                guard digest == expected else {
                    try? FileManager.default.removeItem(at: partial)
                    throw ZooError.checksumMismatch(file: target.lastPathComponent, expected: expected, actual: digest)
                }
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.moveItem(at: partial, to: target)
                return
            } catch let e as ZooError {
                if case .checksumMismatch = e { throw e }
                lastError = e
            } catch { lastError = error }
        }
        throw lastError
    }

    /// GET with `Range: bytes=<offset>-`, streaming the body onto the end of `file` as it
    /// arrives, so a dropped connection leaves every received byte for the next attempt.
    static func fetchRange(_ url: URL, from offset: Int, into file: URL) throws {
        var request = URLRequest(url: url)
        if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
        if let token = ProcessInfo.processInfo.environment["HF_TOKEN"], !token.isEmpty {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        if !FileManager.default.fileExists(atPath: file.path) { FileManager.default.createFile(atPath: file.path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: file.path) else { throw ZooError.fileNotFound(file.path) }
        defer { try? handle.close() }
        let sink = StreamingSink(handle: handle, offset: offset)
        let session = URLSession(configuration: .ephemeral, delegate: sink, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        session.dataTask(with: request).resume()
        sink.done.wait()
        try? handle.synchronize()
        if let status = sink.status, !(200 ..< 300).contains(status) {
            throw ZooError.download(url.absoluteString, reason: "HTTP \(status)")
        }
        if let e = sink.error { throw ZooError.download(url.absoluteString, reason: e.localizedDescription) }
    }
}

/// Receives a response body into a file: appended after a 206 for our range, from the start
/// after a 200 (a server that ignores ranges), not at all for an error status.
final class StreamingSink: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let handle: FileHandle
    let offset: Int
    var status: Int?
    var error: Error?
    var accept = false
    let done = DispatchSemaphore(value: 0)

    init(handle: FileHandle, offset: Int) {
        self.handle = handle
        self.offset = offset
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        status = (response as? HTTPURLResponse)?.statusCode
        switch status {
        case 206 where offset > 0:
            handle.seekToEndOfFile()
            accept = true
        case 200:
            handle.truncateFile(atOffset: 0)
            accept = true
        default:
            accept = false
        }
        completionHandler(accept ? .allow : .cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        if accept { handle.write(data) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if accept { self.error = error }
        done.signal()
    }
}
