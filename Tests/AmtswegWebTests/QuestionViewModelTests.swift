import AmtswegCore
import Foundation
import Testing
@testable import AmtswegWeb

/// What the question template receives for hidden and locked fields, conditional questions and "add another" entries.
@Suite("Question page data")
struct QuestionViewModelTests {
    static let text = LocalizedText(["de": "Frage", "en": "Question"])

    static func model(_ page: PageDefinition) throws -> QuestionViewModel {
        let info = ServiceInformation(description: text, eligibility: text, requirements: [], processingTime: text, legalBasis: text)
        let definition = AssistantDefinition(id: "t", version: "1.0.0", leikaKey: "99000000000000", title: text, information: info, pages: [page])
        try definition.check(source: "test")
        let catalog = try MessageCatalog(locale: .de, json: BundledResources.data("i18n/de.json"))
        return QuestionViewModel(page: page, translator: Translator(catalog: catalog), flow: AssistantFlow(definition: definition, today: "2026-11-21"),
                                 answers: Answers())
    }

    @Test("a hidden field is not shown, a locked one shows its option label read-only and offers no input")
    func fixedFields() throws {
        let page = PageDefinition(id: "p", title: Self.text, fields: [
            FieldDefinition(id: "channel", kind: .text, label: Self.text, required: true, display: "hidden", value: "online"),
            FieldDefinition(id: "office", kind: .radio, label: Self.text, required: true,
                            options: [FieldOption(value: "a", label: LocalizedText(["de": "Amt A"])), FieldOption(value: "b", label: LocalizedText(["de": "Amt B"]))],
                            display: "locked", value: "b"),
        ])
        let items = try Self.model(page).fields(values: [:], rawInput: nil, errors: [], attachments: [])
        #expect(items.count == 1)
        #expect(items.first?["id"] as? String == "office" && items.first?["locked"] as? Bool == true)
        #expect(items.first?["lockedValue"] as? String == "Amt B")
        #expect(items.first?["kind_radio"] == nil && items.first?["options"] == nil)
    }

    @Test("a condition on this page becomes a browser tree; one on nothing but known values is decided on the server")
    func conditions() throws {
        let page = PageDefinition(id: "p", title: Self.text, fields: [
            FieldDefinition(id: "kind", kind: .radio, label: Self.text, required: true,
                            options: [FieldOption(value: "x", label: Self.text), FieldOption(value: "y", label: Self.text)]),
            FieldDefinition(id: "detail", kind: .text, label: Self.text, required: true, showWhen: "kind == 'y'"),
            FieldDefinition(id: "never", kind: .text, label: Self.text, required: false, showWhen: "today() < today()"),
        ])
        let items = try Self.model(page).fields(values: [:], rawInput: nil, errors: [], attachments: [])
        #expect(items.map { $0["id"] as? String } == ["kind", "detail"])
        let tree = try #require(items[1]["when"] as? String)
        #expect(tree.contains(#""t":"ref""#) && tree.contains(#""id":"kind""#))
    }

    @Test("an add-another page lists its entries with numbered names, headings and remove buttons above the minimum")
    func entries() throws {
        let page = PageDefinition(id: "slots", title: Self.text, fields: [FieldDefinition(id: "time", kind: .time, label: Self.text, required: true)],
                                  repeat: RepeatRule(min: 1, max: 3, itemLabel: LocalizedText(["de": "Termin"])))
        let model = try Self.model(page)
        let items = model.fields(values: ["#entries": "2", "time[1]": "09:00", "time[2]": "10:00"], rawInput: nil, errors: [], attachments: [])
        #expect(items.map { $0["id"] as? String } == ["time[1]", "time[2]"])
        #expect(items.map { $0["value"] as? String } == ["09:00", "10:00"])
        #expect(items.map { $0["entryHeading"] as? String } == ["Termin 1", "Termin 2"])
        #expect(items.compactMap { $0["removeEntry"] as? String } == ["1", "2"])
        #expect(model.entryCount(values: [:], rawInput: ["_entries": "9"]) == 3)
    }
}
