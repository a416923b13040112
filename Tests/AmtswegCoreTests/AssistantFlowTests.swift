import Foundation
import Testing
@testable import AmtswegCore

@Suite("Assistant definition and navigation")
struct AssistantFlowTests {
    @Test("the applicant themself skips the legitimate-interest and applicant pages")
    func selfSkips() throws {
        let flow = AssistantFlow(definition: try Fixtures.birthCertificate())
        let answers = Answers(pages: ["relation": ["relation": "self"], "delivery": ["delivery_method": "collection"]])
        let pages = flow.visiblePages(for: answers).map(\.id)
        #expect(pages == ["relation", "person", "birth", "document", "copies", "delivery", "contact"])
    }

    @Test("siblings must state a legitimate interest; post needs an address")
    func siblingShowsInterest() throws {
        let flow = AssistantFlow(definition: try Fixtures.birthCertificate())
        let answers = Answers(pages: ["relation": ["relation": "sibling"], "delivery": ["delivery_method": "post"]])
        let pages = flow.visiblePages(for: answers).map(\.id)
        #expect(pages.contains("interest") && pages.contains("applicant") && pages.contains("address"))
        #expect(flow.page(after: "relation", answers: answers)?.id == "interest")
        #expect(flow.page(before: "interest", answers: answers)?.id == "relation")
        #expect(flow.firstUnansweredPage(answers)?.id == "interest")
        #expect(!flow.isComplete(answers))
    }

    @Test("hidden answers are dropped")
    func keepOnly() {
        var answers = Answers(pages: ["a": ["x": "1"], "b": ["y": "2"]])
        answers.keepOnly(pages: ["a"])
        #expect(answers.pages.keys.sorted() == ["a"])
    }

    @Test("a condition on an unknown field is rejected with file and page named")
    func badCondition() throws {
        var json = try String(contentsOf: Fixtures.root.appendingPathComponent("Sources/AmtswegWeb/Resources/assistants/geburtsurkunde.json"), encoding: .utf8)
        json = json.replacingOccurrences(of: #""field": "delivery_method", "isOneOf""#, with: #""field": "delivery_mode", "isOneOf""#)
        #expect {
            try AssistantDefinition.load(json: Data(json.utf8), source: "broken.json")
        } throws: { error in
            (error as? DefinitionError)?.description.contains("broken.json: condition of page address refers to delivery.delivery_mode") == true
        }
    }

    @Test("a bad LeiKa key is rejected")
    func badLeika() throws {
        var json = try String(contentsOf: Fixtures.root.appendingPathComponent("Sources/AmtswegWeb/Resources/assistants/geburtsurkunde.json"), encoding: .utf8)
        json = json.replacingOccurrences(of: "99027002012000", with: "12345")
        #expect(throws: DefinitionError.self) { try AssistantDefinition.load(json: Data(json.utf8), source: "x.json") }
    }

    @Test("structured data is keyed by page and FIM id, with typed values")
    func structured() throws {
        let definition = try Fixtures.birthCertificate()
        let answers = Answers(pages: ["person": ["F60000000228": "Erika", "F60000000227": "Mustermann"], "copies": ["copies": "2"]])
        let fields = StructuredData.fields(of: answers, definition: definition)
        #expect(fields.first { $0.id == "F60000000228" }?.fimId == "F60000000228")
        #expect(fields.first { $0.id == "copies" }?.value == .integer(2))
        #expect(StructuredData.nested(fields)["person"] == .object(["F60000000228": .string("Erika"), "F60000000227": .string("Mustermann")]))
    }
}
