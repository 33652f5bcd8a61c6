import Foundation
import XCTest
@testable import Tokenizers

/// Templates render byte-identical to transformers' apply_chat_template (fixtures/tokenizers/chat).
final class ChatTemplateTests: XCTestCase {
    func testRenderedLikeTransformers() throws {
        let chat = Paths.fixtures.appendingPathComponent("chat")
        let cases = try JSONValue.parse(Data(contentsOf: chat.appendingPathComponent("cases.json"))).array ?? []
        let rendered = try JSONValue.parse(Data(contentsOf: chat.appendingPathComponent("rendered.json"))).array ?? []
        XCTAssertGreaterThan(rendered.count, 0)
        var templates: [String: ChatTemplate] = [:]
        var matched = 0, mismatched = 0, errorsAgreed = 0
        var families = Set<String>()
        for entry in rendered {
            let name = entry["template"]!.string!, caseName = entry["case"]!.string!
            families.insert(name)
            if templates[name] == nil {
                let source = try String(contentsOf: chat.appendingPathComponent("\(name).jinja"), encoding: .utf8)
                templates[name] = try ChatTemplate(source)
            }
            let testCase = cases.first { $0["name"]?.string == caseName }!
            var context = JSONObject()
            context["messages"] = testCase["messages"]!
            context["tools"] = testCase["tools"] ?? .null
            context["documents"] = .null
            context["add_generation_prompt"] = entry["add_generation_prompt"]!
            context["bos_token"] = entry["bos_token"]!
            context["eos_token"] = entry["eos_token"]!
            let label = "\(name)/\(caseName)/gen=\(entry["add_generation_prompt"]!.bool!)"
            do {
                let out = try templates[name]!.render(context)
                if let want = entry["output"]?.string, out.utf8.elementsEqual(want.utf8) { matched += 1 } else {
                    mismatched += 1
                    print("[chat] \(label) differs:\n--- want\n\(entry["output"]?.string ?? "(error: \(entry["error"]?.string ?? ""))")\n--- got\n\(out)\n---")
                }
            } catch {
                if let want = entry["error"]?.string {
                    errorsAgreed += 1
                    XCTAssertTrue(error.localizedDescription.contains(want), "\(label): '\(error.localizedDescription)' should carry '\(want)'")
                } else {
                    mismatched += 1
                    print("[chat] \(label) failed: \(error.localizedDescription)")
                }
            }
        }
        print("[chat] \(families.count) templates, \(rendered.count) renders: \(matched) identical, \(errorsAgreed) raise_exception errors agreed, \(mismatched) mismatches")
        XCTAssertEqual(mismatched, 0)
        for family in ["smollm2", "chatml", "llama3", "mistral", "gemma", "qwen-tools"] { XCTAssertTrue(families.contains(family), family) }
    }

    func testSmolLM2TemplateFromGGUF() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Paths.smolGGUF.path), "run `make models`")
        let tok = try Tokenizers.load(from: Paths.smolGGUF)
        let rendered = try JSONValue.parse(Data(contentsOf: Paths.fixtures.appendingPathComponent("chat/rendered.json"))).array ?? []
        let want = rendered.first { $0["template"]?.string == "smollm2" && $0["case"]?.string == "single-user" && $0["add_generation_prompt"]?.bool == true }
        let out = try tok.applyChatTemplate(messages: [["role": "user", "content": "Hello!"]], addGenerationPrompt: true)
        XCTAssertEqual(out, want?["output"]?.string)
    }

    func testSyntaxErrorsThrow() {
        for bad in ["{% if x %}unclosed", "{{ 1 + }}", "{% for %}{% endfor %}", "{% endif %}", "{{ 'abc }}", "{% frobnicate %}",
                    "{# never closed", "{{ x | }}", "{% set = 3 %}", "{% macro m( %}{% endmacro %}"] {
            XCTAssertThrowsError(try ChatTemplate(bad), bad) { error in
                guard case TokenizerError.template = error else { return XCTFail("\(bad): wrong error \(error)") }
            }
        }
    }

    func testRuntimeErrorsThrow() throws {
        for bad in ["{{ raise_exception('boom') }}", "{{ undefined_thing.attr }}", "{{ 1 // 0 }}", "{{ x | nofilter }}",
                    "{% for a, b in [1, 2] %}{% endfor %}"] {
            let t = try ChatTemplate(bad)
            XCTAssertThrowsError(try t.render(JSONObject([("x", .int(1))])), bad)
        }
    }
}

extension ChatTemplateTests {
    /// Hostile templates: an error or a bounded result, never a crash or a runaway allocation.
    func testHostileTemplatesAreBounded() throws {
        let deepParens = "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}"
        let deepIfs = String(repeating: "{% if true %}", count: 1000) + String(repeating: "{% endif %}", count: 1000)
        let longChain = "{{ " + Array(repeating: "1", count: 5000).joined(separator: " + ") + " }}"
        for bad in [deepParens, deepIfs, longChain] {
            XCTAssertThrowsError(try ChatTemplate(bad))
        }
        for bad in ["{{ range(10 ** 12) | length }}", "{{ 'x' * 10 ** 10 }}", "{{ [1, 2] * 10 ** 9 }}"] {
            XCTAssertThrowsError(try ChatTemplate(bad).render(JSONObject()), bad)
        }
        let minInt = "(-9223372036854775807 - 1)"
        for expr in ["\(minInt) // -1", "\(minInt) % -1", "-\(minInt)", "2 ** 100000", "[1, 2][\(minInt)]", "'abc'[\(minInt):]",
                     "[1, 2, 3][::\(minInt)]", "(1.0e308 * 10) | int", "\(minInt) | abs"] {
            _ = try? ChatTemplate("{{ \(expr) }}").render(JSONObject())
        }
    }
}
