import Foundation
import Testing
@testable import AmtswegCore

@Suite("Rule expressions")
struct ExpressionTests {
    let definition: AssistantDefinition
    init() throws { definition = try Fixtures.birthCertificate() }

    func checker(_ page: String) -> ExpressionChecker { ExpressionChecker(definition: definition, page: definition.page(page)!) }

    @Test("parses precedence: not binds tighter than and, and tighter than or")
    func precedence() throws {
        let expression = try ExpressionParser.parse("not filled(a) and b == 1 or c")
        #expect(expression == .binary("or",
            .binary("and", .unary("not", .call("filled", [.reference(page: nil, field: "a")])), .binary("==", .reference(page: nil, field: "b"), .integer(1))),
            .reference(page: nil, field: "c")))
    }

    @Test("type errors and unknown fields are refused with a message naming them", arguments: [
        ("copies + 1", "a rule must be yes/no"), ("copies == \"zwei\"", "cannot compare integer with text"),
        ("filled(nope)", "unknown field 'nope'"), ("copies and true", "'and' needs yes/no values"), ("frob(copies)", "unknown function frob/1"),
        ("copies <=", "unexpected end of expression"), ("copies # 2", "unexpected character '#'"),
    ])
    func refused(source: String, message: String) {
        #expect {
            _ = try checker("copies").checkRule(source)
        } throws: { error in
            (error as? ExpressionError)?.message.contains(message) == true
        }
    }

    @Test("evaluates on this page's values and earlier answers; missing values never satisfy comparisons")
    func evaluation() throws {
        let copies = checker("copies")
        let answers = Answers(pages: ["relation": ["relation": "sibling"], "birth": ["G60000083": "1990-03-12"]])
        func eval(_ source: String, _ values: [String: String]) throws -> ExpressionValue {
            copies.evaluate(try copies.checkRule(source), values: values, answers: answers, today: "2026-11-21")
        }
        #expect(try eval("copies <= 5", ["copies": "3"]) == .boolean(true))
        #expect(try eval("copies * 6 + 6 == 24", ["copies": "3"]) == .boolean(true))
        #expect(try eval("copies <= 5", [:]) == .missing)
        #expect(try eval("relation.relation == \"sibling\" and filled(copies)", ["copies": "1"]) == .boolean(true))
        #expect(try eval("birth.G60000083 < today()", [:]) == .boolean(true))
        #expect(try eval("not filled(copies) or copies > 0", [:]) == .boolean(true))
    }

    @Test("a page rule is checked at load and enforced by the validator with its own message")
    func pageRule() throws {
        let address = definition.page("address")!
        let ruled = PageDefinition(id: address.id, fimId: address.fimId, title: address.title, intro: address.intro, fields: address.fields,
                                   showIf: address.showIf, rules: [PageRule(id: "R1", check: "F60000000246 != \"00000\"",
                                                                            message: LocalizedText(["de": "Keine echte PLZ"]), field: "F60000000246")])
        var pages = definition.pages
        pages[pages.firstIndex { $0.id == "address" }!] = ruled
        let changed = AssistantDefinition(id: definition.id, version: "9", leikaKey: definition.leikaKey, title: definition.title,
                                          information: definition.information, pages: pages, fee: definition.fee)
        try changed.check(source: "test")
        let input = ["F60000000243": "Weg", "F60000000244": "1", "F60000000246": "00000", "F60000000247": "Ort"]
        let result = PageValidator().validate(page: ruled, input: input, definition: changed)
        #expect(result.errors.map(\.problem) == [.ruleViolated] && result.errors.first?.parameters["rule"] == "R1")
        var broken = pages
        broken[pages.firstIndex { $0.id == "address" }!] = PageDefinition(id: "address", title: address.title, fields: address.fields, showIf: address.showIf,
                                                                          rules: [PageRule(id: "R2", check: "F60000000246 + 1", message: LocalizedText(["de": "x"]), field: "F60000000246")])
        let invalid = AssistantDefinition(id: "x", version: "1", leikaKey: definition.leikaKey, title: definition.title, information: definition.information, pages: broken)
        #expect(throws: DefinitionError.self) { try invalid.check(source: "broken.json") }
    }
}
