import Foundation
import Testing
@testable import AmtswegCore

@Suite("Carrying draft answers to a newer assistant version")
struct VersionMigrationTests {
    func definition(version: String, copiesMax: Int = 10, extraRequired: Bool = false, dropOption: Bool = false) throws -> AssistantDefinition {
        var json = try String(contentsOf: Fixtures.root.appendingPathComponent("Sources/AmtswegWeb/Resources/assistants/geburtsurkunde.json"), encoding: .utf8)
        json = json.replacingOccurrences(of: #""version": "1.0.0""#, with: #""version": "\#(version)""#)
        if extraRequired {
            json = json.replacingOccurrences(
                of: #""label": {"de": "Geburtsname (optional)", "en": "Birth name (optional)"}"#,
                with: #""label": {"de": "Geburtsname", "en": "Birth name"}"#)
                .replacingOccurrences(of: #""id": "F60000000230", "fimId": "F60000000230", "fimVersion": "2.0.0", "kind": "text", "required": false"#,
                                      with: #""id": "F60000000230", "fimId": "F60000000230", "fimVersion": "2.0.0", "kind": "text", "required": true"#)
        }
        if dropOption {
            json = json.replacingOccurrences(of: #"{"value": "mehrsprachig""#, with: #"{"value": "international""#)
        }
        return try AssistantDefinition.load(json: Data(json.utf8), source: "v\(version)")
    }

    let answers = Answers(pages: [
        "relation": ["relation": "self"],
        "person": ["F60000000228": "Erika", "F60000000227": "Mustermann"],
        "document": ["document_kind": "mehrsprachig"],
        "copies": ["copies": "2"],
    ])

    @Test("unchanged pages keep every answer")
    func unchanged() throws {
        let result = VersionMigration.migrate(answers, from: try definition(version: "1.0.0"), to: try definition(version: "1.1.0"))
        #expect(result.answers == answers && result.pagesToReview.isEmpty)
    }

    @Test("a newly required field and a removed option send the citizen back to those pages")
    func changed() throws {
        let result = VersionMigration.migrate(answers, from: try definition(version: "1.0.0"),
                                              to: try definition(version: "2.0.0", extraRequired: true, dropOption: true))
        #expect(result.pagesToReview == ["person", "document"])
        #expect(result.answers.pages["person"] == nil && result.answers.pages["document"] == nil)
        #expect(result.answers.pages["copies"] == ["copies": "2"] && result.answers.pages["relation"] == ["relation": "self"])
    }
}
