import AmtswegCore
import Foundation
import Testing

/// The shared case table (e2e/expression-cases.json), on the server side; e2e/test_rules_browser.py runs it in the browser.
@Suite("Rule case table shared with the browser")
struct ExpressionCaseTableTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("e2e/expression-cases.json")

    @Test("every case gives the expected value on the server")
    func serverAgrees() throws {
        let table = try JSONDecoder().decode(RuleCaseTable.self, from: Data(contentsOf: Self.file))
        #expect(table.cases.count >= 40)
        for (entry, result) in zip(table.cases, try table.evaluate()) {
            #expect(result.server == entry.expected, "\(entry.expression) on \(entry.values)")
        }
    }

    @Test("browser trees keep references to the page and write today() in as a value")
    func trees() throws {
        let table = try JSONDecoder().decode(RuleCaseTable.self, from: Data(contentsOf: Self.file))
        let results = try table.evaluate()
        let index = try #require(table.cases.firstIndex { $0.expression == "d > today()" })
        #expect(results[index].tree == .object([
            "t": .string("binary"), "op": .string(">"),
            "a": .object(["t": .string("ref"), "id": .string("d"), "kind": .string("date")]),
            "b": .object(["t": .string("date"), "v": .string("2026-11-21")]),
        ]))
    }
}
