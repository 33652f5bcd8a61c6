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

    /// GET with `Range: bytes=<offset>-`, appending the body to `file`.
    static func fetchRange(_ url: URL, from offset: Int, into file: URL) throws {
        var request = URLRequest(url: url)
        if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
        if let token = ProcessInfo.processInfo.environment["HF_TOKEN"], !token.isEmpty {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        let done = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var location: URL?; var response: URLResponse?; var error: Error? }
        let box = Box()
        let task = URLSession.shared.downloadTask(with: request) { loc, resp, err in
            if let loc {
                // Move out of URLSession's temporary file before the handler returns.
                let keep = file.deletingLastPathComponent().appendingPathComponent(".\(UUID().uuidString).body")
                try? FileManager.default.moveItem(at: loc, to: keep)
                box.location = keep
            }
            box.response = resp
            box.error = err
            done.signal()
        }
        task.resume()
        done.wait()
        if let e = box.error { throw ZooError.download(url.absoluteString, reason: e.localizedDescription) }
        guard let http = box.response as? HTTPURLResponse, let body = box.location else {
            throw ZooError.download(url.absoluteString, reason: "no response")
        }
        defer { try? FileManager.default.removeItem(at: body) }
        switch http.statusCode {
        case 206 where offset > 0:
            guard let h = FileHandle(forWritingAtPath: file.path) else { throw ZooError.fileNotFound(file.path) }
            defer { try? h.close() }
            h.seekToEndOfFile()
            h.write(try Data(contentsOf: body))
        case 200:
            // The server ignored the range: start over with the full body.
            try? FileManager.default.removeItem(at: file)
            try FileManager.default.moveItem(at: body, to: file)
        default:
            throw ZooError.download(url.absoluteString, reason: "HTTP \(http.statusCode)")
        }
    }
}
