import Foundation
import Testing
@testable import AmtswegCore

@Suite("JSON Schema export of Fachdaten")
struct JSONSchemaExportTests {
    func schema() throws -> [String: JSONValue] {
        guard case .object(let root) = JSONSchemaExport.schema(for: try Fixtures.birthCertificate()) else { throw CancellationError() }
        return root
    }

    @Test("the schema is draft 2020-12, closed, and names every page with FIM ids")
    func shape() throws {
        let root = try schema()
        #expect(root["$schema"] == .string("https://json-schema.org/draft/2020-12/schema"))
        #expect(root["$id"] == .string("urn:amtsweg:assistant:geburtsurkunde:1.0.0"))
        #expect(root["additionalProperties"] == .bool(false))
        guard case .object(let pages) = root["properties"], case .object(let person) = pages["person"],
              case .object(let fields) = person["properties"], case .object(let given) = fields["F60000000228"] else {
            Issue.record("person page missing")
            return
        }
        #expect(pages.count == 10)
        #expect(given["x-fim-id"] == .string("F60000000228") && given["maxLength"] == .integer(120))
        #expect(person["required"] == .array([.string("F60000000228"), .string("F60000000227")]))
    }

    @Test("conditional pages are required only when their condition holds")
    func conditions() throws {
        let root = try schema()
        guard case .array(let required) = root["required"], case .array(let conditions) = root["allOf"] else {
            Issue.record("required/allOf missing")
            return
        }
        #expect(!required.contains(.string("interest")) && !required.contains(.string("address")) && required.contains(.string("contact")))
        #expect(conditions.count == 3)
        let encoded = String(decoding: try JSONEncoder().encode(conditions[0]), as: UTF8.self)
        #expect(encoded.contains(#""enum":["sibling","other"]"#) && encoded.contains(#""then":{"required":["interest"]}"#))
    }
}

@Suite("JSON Schema conditions are typed")
struct JSONSchemaConditionTypingTests {
    @Test("a condition on a boolean field compares with JSON true, nested conditions are kept")
    func booleanCondition() throws {
        let yesNo = FieldDefinition(id: "q", kind: .boolean, label: LocalizedText(["de": "Q"]), required: true)
        let kind = FieldDefinition(id: "k", kind: .radio, label: LocalizedText(["de": "K"]), required: true,
                                   options: [FieldOption(value: "a", label: LocalizedText(["de": "A"]))])
        let definition = AssistantDefinition(
            id: "t", version: "1", leikaKey: "99000000000000", title: LocalizedText(["de": "T"]),
            information: ServiceInformation(description: LocalizedText(["de": "d"]), eligibility: LocalizedText(["de": "e"]), requirements: [],
                                            processingTime: LocalizedText(["de": "p"]), legalBasis: LocalizedText(["de": "l"])),
            pages: [
                PageDefinition(id: "p1", title: LocalizedText(["de": "1"]), fields: [yesNo]),
                PageDefinition(id: "p2", title: LocalizedText(["de": "2"]), fields: [kind], showIf: Condition(page: "p1", field: "q", isOneOf: ["true"])),
                PageDefinition(id: "p3", title: LocalizedText(["de": "3"]), fields: [],
                               showIf: Condition(page: "p2", field: "k", isOneOf: ["a"], allOf: [Condition(page: "p1", field: "q", isOneOf: ["true"])])),
            ])
        try definition.check(source: "t")
        let text = String(decoding: try JSONEncoder().encode(JSONSchemaExport.schema(for: definition)), as: UTF8.self)
        #expect(text.contains(#""enum":[true]"#) && !text.contains(#""enum":["true"]"#))
        #expect(text.contains(#""if":{"allOf":["#))
    }
}
