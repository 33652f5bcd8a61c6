import Crypto
import Foundation
@testable import Zoo
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 file server on 127.0.0.1 for the Hugging Face source: honours
/// `Range: bytes=N-`, records requests, and can cut the body short to simulate a dropped
/// connection. (This machine has no internet; the real endpoint is `$HF_ENDPOINT`.)
final class LocalHTTPServer: @unchecked Sendable {
    let files: [String: Data]
    let port: UInt16
    private let fd: Int32
    private let lock = NSLock()
    private var _requests: [(path: String, range: String?, auth: String?)] = []
    /// Bytes of the body to send before closing the connection (nil: send everything).
    var cutAfter: Int?

    var requests: [(path: String, range: String?, auth: String?)] { lock.lock(); defer { lock.unlock() }; return _requests }

    init(files: [String: Data]) throws {
        self.files = files
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else { throw ZooError.download("server", reason: "bind/listen failed") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = UInt16(bigEndian: addr.sin_port)
        let me = self
        Thread.detachNewThread { me.serve() }
    }

    deinit { close(fd) }

    private func serve() {
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 { return }
            handle(c)
            close(c)
        }
    }

    private func handle(_ c: Int32) {
        var buf = [UInt8](repeating: 0, count: 8192)
        var req = Data()
        while !req.contains(Data("\r\n\r\n".utf8)) {
            let n = read(c, &buf, buf.count)
            if n <= 0 { return }
            req.append(contentsOf: buf[0 ..< n])
        }
        let lines = String(decoding: req, as: UTF8.self).components(separatedBy: "\r\n")
        let path = lines[0].split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        func header(_ name: String) -> String? {
            lines.first { $0.lowercased().hasPrefix(name.lowercased() + ":") }.map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
        }
        let range = header("Range"), auth = header("Authorization")
        lock.lock(); _requests.append((path, range, auth)); let cut = cutAfter; lock.unlock()
        guard let body = files[path] else {
            send(c, Data("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
            return
        }
        var start = 0
        if let r = range, r.hasPrefix("bytes="), let s = Int(r.dropFirst(6).split(separator: "-").first ?? "") { start = min(s, body.count) }
        let part = body.subdata(in: start ..< body.count)
        let status = start > 0 ? "206 Partial Content" : "200 OK"
        var head = "HTTP/1.1 \(status)\r\nContent-Length: \(part.count)\r\nConnection: close\r\n"
        if start > 0 { head += "Content-Range: bytes \(start)-\(body.count - 1)/\(body.count)\r\n" }
        send(c, Data((head + "\r\n").utf8))
        send(c, cut.map { part.prefix($0) } ?? part)
    }

    private func send(_ c: Int32, _ d: Data) {
        d.withUnsafeBytes { p in
            var off = 0
            while off < p.count {
                let n = write(c, p.baseAddress! + off, p.count - off)
                if n <= 0 { return }
                off += n
            }
        }
    }
}

final class DownloadTests: XCTestCase {
    func sha(_ d: Data) -> String { SHA256.hash(data: d).map { String(format: "%02x", $0) }.joined() }

    func testResumesAnInterruptedDownloadAndVerifiesIt() throws {
        let body = Data((0 ..< 300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let server = try LocalHTTPServer(files: ["/org/model/resolve/abc123/w.bin": body])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-dl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        setenv("HF_ENDPOINT", "http://127.0.0.1:\(server.port)", 1)
        setenv("HF_TOKEN", "secret-token", 1)
        defer { unsetenv("HF_ENDPOINT"); unsetenv("HF_TOKEN") }
        var card = try ModelRegistry.card(named: "smollm2-135m-instruct")
        card.sources = [.init(type: "huggingface", package: nil, version: nil, path: nil, repository: "org/model", revision: "abc123")]
        card.files = [.init(name: "w.bin", size: body.count, sha256: sha(body))]
        // The first attempt's connection drops after 100 kB: a partial file, nothing under the real name.
        server.cutAfter = 100_000
        let target = dir.appendingPathComponent("w.bin")
        XCTAssertThrowsError(try HuggingFace.download(URL(string: "http://127.0.0.1:\(server.port)/org/model/resolve/abc123/w.bin")!,
                                                      to: target, size: body.count, sha256: sha(body), attempts: 1))
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.path))
        let partial = dir.appendingPathComponent(".w.bin.partial")
        XCTAssertEqual((try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? 0, 100_000)
        // The next fetch asks for the rest only, verifies, and renames.
        server.cutAfter = nil
        try HuggingFace.fetch(card, card.sources[0], into: dir, log: { _ in })
        XCTAssertEqual(try Data(contentsOf: target), body)
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial.path))
        let last = server.requests.last!
        XCTAssertEqual(last.path, "/org/model/resolve/abc123/w.bin", "revision pinned in the URL")
        XCTAssertEqual(last.range, "bytes=100000-")
        XCTAssertEqual(last.auth, "Bearer secret-token")
    }

    func testCorruptDownloadIsRejectedAndRemoved() throws {
        let body = Data(repeating: 7, count: 5000)
        let server = try LocalHTTPServer(files: ["/r/m/resolve/main/x.bin": body])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-dl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("x.bin")
        XCTAssertThrowsError(try HuggingFace.download(URL(string: "http://127.0.0.1:\(server.port)/r/m/resolve/main/x.bin")!,
                                                      to: target, size: body.count, sha256: String(repeating: "a", count: 64))) { e in
            guard case .checksumMismatch = e as? ZooError else { return XCTFail("\(e)") }
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertEqual(left, [], "neither the file nor a partial is kept")
        XCTAssertThrowsError(try HuggingFace.download(URL(string: "http://127.0.0.1:\(server.port)/missing")!,
                                                      to: target, size: 1, sha256: String(repeating: "a", count: 64), attempts: 1)) { e in
            XCTAssertTrue(e.localizedDescription.contains("404"), e.localizedDescription)
        }
    }
}
