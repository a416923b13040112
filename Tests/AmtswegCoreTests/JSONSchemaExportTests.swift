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
