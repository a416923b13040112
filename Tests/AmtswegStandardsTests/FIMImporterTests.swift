import AmtswegCore
import Foundation
import Testing
@testable import AmtswegStandards

/// The real FIM files in ../shared/data/fim.
enum FIMFiles {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: root.deletingLastPathComponent().appendingPathComponent("shared/data/fim/\(name)"))
    }
    static let codeLists: Set<String> = ["urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staatsangehoerigkeit"]
    static func importSchema(_ name: String) throws -> FIMImport {
        try FIMImporter(availableCodeLists: codeLists).importMessage(try data(name), source: name, assistantId: "test", leikaKey: "99000000000000")
    }
}

@Suite("XDatenfelder 3 import")
struct FIMImporterTests {
    @Test("both real Stammdatenschemata import into checked assistants with FIM ids kept", arguments: ["S00000000362.xdf3.xml", "S00000000377.xdf3.xml"])
    func realSchemas(file: String) throws {
        let result = try FIMFiles.importSchema(file)
        let definition = result.definition
        #expect(definition.pages.count >= 4)
        let fields = definition.pages.flatMap(\.fields)
        #expect(fields.allSatisfy { $0.fimId?.hasPrefix("F") == true })
        #expect(fields.contains { $0.fimId == "F60000000227" && $0.kind == .text })
        #expect(fields.contains { $0.fimId == "F60000000246" && $0.pattern != nil })
        #expect(fields.contains { $0.kind == .boolean })
        #expect(fields.contains { $0.kind == .file })
        for page in definition.pages {
            #expect(Set(page.fields.map(\.id)).count == page.fields.count, "field keys unique on \(page.id)")
        }
        #expect(result.report.fields == fields.count)
    }

    @Test("activation rules become page conditions; other free-text rules are listed, not dropped")
    func rules() throws {
        let result = try FIMFiles.importSchema("S00000000362.xdf3.xml")
        let mapped = Set(result.report.mappedRules.map(\.id)), unmapped = Set(result.report.unmappedRules.map(\.id))
        #expect(mapped.isSuperset(of: ["R00000002519", "R60000000020", "R60000000021", "R60000000056", "R60000000057", "R60000000050"]))
        #expect(unmapped.isSuperset(of: ["R60000000019", "R60000000023", "R60000000024"]))
        // "At least one of Telefon, Telefax, E-Mail" became a page rule that the validator enforces.
        let contactPage = try #require(result.definition.pages.first { $0.rules?.contains { $0.id.hasPrefix("R60000000050") } == true })
        let rule = try #require(contactPage.rules?.first { $0.id.hasPrefix("R60000000050") })
        #expect(rule.check.contains("filled(") && rule.check.contains(" or "))
        let representative = try #require(result.definition.pages.first { $0.fimId == "G60000000220" })
        #expect(representative.showIf?.isOneOf == ["true"] && representative.showIf?.field == "F00000003327")
        let natural = try #require(result.definition.pages.first { $0.fimId == "G60000000224" })
        #expect(Set(natural.showIf?.isOneOf ?? []) == ["002", "004"])
        #expect(natural.showIf?.allOf?.first?.isOneOf == ["true"], "nested page also needs the parent page's condition")
        #expect(result.report.text.contains("R60000000019"))
    }

    @Test("repeated fields, optional groups and missing code lists are laid out and reported")
    func degradations() throws {
        let result = try FIMFiles.importSchema("S00000000377.xdf3.xml")
        let fields = result.definition.pages.flatMap(\.fields)
        let lines = fields.filter { $0.fimId == "F60000000262" }
        #expect(lines.count >= 5 && lines.prefix(2).allSatisfy(\.required))
        #expect(fields.contains { $0.fimId == "F60000000236" && $0.kind == .select && $0.codeList != nil })
        #expect(fields.contains { $0.fimId == "F60000000261" && $0.kind == .text }, "the Staat list is not installed")
        #expect(result.report.warnings.contains { $0.contains("staat") })
        #expect(fields.contains { !($0.optionalGroups ?? []).isEmpty && $0.required })
    }

    @Test("a repeated group becomes an \"add another\" page with the FIM cardinality, validated entry by entry")
    func repeatedGroup() throws {
        // The synthetic message with its top-level group made repeatable 0:3 (no real file here has a repeated group).
        let original = String(decoding: try FIMFiles.data("xdf3-synthetic-simple.xml"), as: UTF8.self)
        let range = try #require(original.range(of: "<xdf:anzahl>0:1</xdf:anzahl>"))
        let repeated = original.replacingCharacters(in: range, with: "<xdf:anzahl>0:3</xdf:anzahl>")
        let result = try FIMImporter(availableCodeLists: FIMFiles.codeLists).importMessage(
            Data(repeated.utf8), source: "repeated.xml", assistantId: "test", leikaKey: "99000000000000")
        let page = try #require(result.definition.pages.first { $0.repeat != nil })
        #expect(page.repeat?.min == 0 && page.repeat?.max == 3)
        #expect(result.report.warnings.contains { $0.contains("weitere hinzufügen") && $0.contains("0:3") })
        try result.definition.check(source: "repeated.xml")
        // Two entries of sample answers are accepted and stored per entry.
        var (input, _) = SampleInput.input(for: page)
        input[RepeatedEntries.inputCountKey] = "2"
        for (key, value) in input where key.contains("[1]") { input[key.replacingOccurrences(of: "[1]", with: "[2]")] = value }
        let validation = PageValidator().validate(page: page, input: input, definition: result.definition)
        #expect(validation.isValid, "\(validation.errors)")
        #expect(validation.values[RepeatedEntries.countKey] == "2")
        #expect(validation.values.keys.contains { $0.hasSuffix("[2]") })
    }

    @Test("a locked FIM field with content becomes a fixed, shown answer; one without content is left out and reported")
    func lockedField() throws {
        let original = String(decoding: try FIMFiles.data("xdf3-synthetic-simple.xml"), as: UTF8.self)
        let locked = original.replacingOccurrences(of: "<code>input</code>", with: "<code>locked</code>")
            .replacingOccurrences(of: "<xdf:inhalt/>", with: "<xdf:inhalt>Musterweg</xdf:inhalt>")
        let result = try FIMImporter(availableCodeLists: FIMFiles.codeLists).importMessage(
            Data(locked.utf8), source: "locked.xml", assistantId: "test", leikaKey: "99000000000000")
        let fields = result.definition.pages.flatMap(\.fields).filter { $0.display == "locked" }
        #expect(!fields.isEmpty && fields.allSatisfy { $0.value == "Musterweg" })
        let empty = original.replacingOccurrences(of: "<code>input</code>", with: "<code>hidden</code>")
        let report = try FIMImporter(availableCodeLists: FIMFiles.codeLists).importMessage(
            Data(empty.utf8), source: "hidden.xml", assistantId: "test", leikaKey: "99000000000000").report
        #expect(report.warnings.contains { $0.contains("hidden ohne Inhalt") })
    }

    @Test("a citizen can complete every imported page with valid answers")
    func completable() throws {
        for file in ["S00000000362.xdf3.xml", "S00000000377.xdf3.xml"] {
            let nationalities = [FieldOption(value: "000", label: LocalizedText(["de": "deutsch"]))]
            let definition = try FIMFiles.importSchema(file).definition.resolvingCodeLists(
                ["urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staatsangehoerigkeit": nationalities], source: file)
            let flow = AssistantFlow(definition: definition)
            var answers = Answers()
            var visited = 0
            while let page = flow.firstUnansweredPage(answers), visited < 100 {
                visited += 1
                var (input, uploads) = AutoFill.input(for: page)
                var result = PageValidator().validate(page: page, input: input, uploads: uploads, definition: definition, answers: answers)
                // A citizen told "enter at least one of …" fills the linked field.
                for error in result.errors where error.problem == .ruleViolated {
                    if let field = page.field(error.field) { input[field.id] = AutoFill.sample(field) }
                }
                if result.errors.contains(where: { $0.problem == .ruleViolated }) {
                    result = PageValidator().validate(page: page, input: input, uploads: uploads, definition: definition, answers: answers)
                }
                #expect(result.isValid, "\(file) page \(page.id): \(result.errors.map { "\($0.field) \($0.problem)" })")
                var values = result.values
                for (field, _) in result.files { values[field] = UUID().uuidString }
                answers.set(page: page.id, values: values)
            }
            #expect(flow.isComplete(answers))
            let schema = JSONSchemaExport.schema(for: definition)
            #expect(schema != .object([:]))
        }
    }

    @Test("XDatenfelder 2 and other XML are refused with a clear message")
    func refusals() throws {
        let importer = FIMImporter(availableCodeLists: [])
        let xdf2 = #"<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_2"/>"#
        #expect(throws: FIMImportError.unsupportedVersion("urn:xoev-de:fim:standard:xdatenfelder_2")) {
            try importer.importMessage(Data(xdf2.utf8), source: "x", assistantId: "a", leikaKey: "99000000000000")
        }
        #expect(throws: FIMImportError.notXDatenfelder("html")) {
            try importer.importMessage(Data("<html/>".utf8), source: "x", assistantId: "a", leikaKey: "99000000000000")
        }
        #expect(throws: FIMImportError.notXML) {
            try importer.importMessage(Data("<a><b></a>".utf8), source: "x", assistantId: "a", leikaKey: "99000000000000")
        }
        #expect(FIMImportError.unsupportedVersion("urn:xoev-de:fim:standard:xdatenfelder_2").description.contains("3.0.0"))
    }

    @Test("the synthetic Datenfeldgruppe messages import or are refused with a reason, never crash", arguments: ["xdf3-synthetic-input.xml", "xdf3-synthetic-simple.xml"])
    func synthetic(file: String) throws {
        do {
            let result = try FIMFiles.importSchema(file)
            #expect(!result.definition.pages.isEmpty)
        } catch let error as FIMImportError {
            #expect(!error.description.isEmpty)
        }
    }

    @Test("damaged messages never crash the importer")
    func damaged() throws {
        let original = try FIMFiles.data("S00000000362.xdf3.xml")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<40 {
            var bytes = [UInt8](original)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator)))
            case 1:
                let start = Int.random(in: 0..<bytes.count - 200, using: &generator)
                bytes.removeSubrange(start..<(start + Int.random(in: 1..<200, using: &generator)))
            default:
                let text = String(decoding: bytes, as: UTF8.self)
                    .replacingOccurrences(of: ["<xdf3:anzahl>1:1<", "<xdf3:anzahl>x:y<", "<code>input<", "<code>weird<"].randomElement()!,
                                          with: ["<xdf3:anzahl>9:1<", "<xdf3:anzahl>0:*<", "<code>hidden<", "<code>obj<"].randomElement()!)
                bytes = Array(text.utf8)
            }
            do {
                _ = try FIMImporter(availableCodeLists: []).importMessage(Data(bytes), source: "damaged", assistantId: "a", leikaKey: "99000000000000")
            } catch is FIMImportError {
            } catch is DefinitionError {
            }
        }
    }

    @Test("importing the larger real file takes under a second")
    func speed() throws {
        let data = try FIMFiles.data("S00000000377.xdf3.xml")
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            _ = try FIMImporter(availableCodeLists: FIMFiles.codeLists).importMessage(data, source: "377", assistantId: "a", leikaKey: "99000000000000")
        }
        #expect(elapsed < .seconds(1))
    }
}

/// The product's sample input, under the name the tests use.
typealias AutoFill = SampleInput
