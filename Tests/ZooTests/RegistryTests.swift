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
