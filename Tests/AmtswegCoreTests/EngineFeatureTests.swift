import AmtswegCore
import Foundation
import Testing

/// Field conditions, computed values and their cycles, repeated pages, and the decimal, time and DIN 91379 checks.
@Suite("Assistant engine features")
struct EngineFeatureTests {
    static let text = LocalizedText(["de": "Text", "en": "Text"])

    static func definition(pages: [PageDefinition], computed: [ComputedValue]? = nil, fee: FeeRule? = nil) -> AssistantDefinition {
        let info = ServiceInformation(description: text, eligibility: text, requirements: [], processingTime: text, legalBasis: text)
        return AssistantDefinition(id: "t", version: "1.0.0", leikaKey: "99000000000000", title: text, information: info,
                                   pages: pages, fee: fee, computed: computed)
    }

    static let copiesPage = PageDefinition(id: "copies", title: text, fields: [
        FieldDefinition(id: "copies", kind: .integer, label: text, required: true, minValue: 1, maxValue: 10),
        FieldDefinition(id: "express", kind: .boolean, label: text, required: true),
        FieldDefinition(id: "reason", kind: .text, label: text, required: true, showWhen: "express == true"),
    ])

    @Test("a computed fee reads the answers and the authority's prices")
    func computedFee() throws {
        let definition = Self.definition(
            pages: [Self.copiesPage],
            computed: [ComputedValue(id: "base", label: Self.text, expression: "tariff.first + (copies.copies - 1) * tariff.further", unit: "cents"),
                       ComputedValue(id: "fee", label: Self.text, expression: "computed.base + 500", unit: "cents")],
            fee: FeeRule(computed: "fee"))
        try definition.check(source: "test")
        let answers = Answers(pages: ["copies": ["copies": "3", "express": "false"]])
        let fee = AssistantFlow(definition: definition).fee(for: answers, schedule: FeeSchedule(firstCopyCents: 1200, furtherCopyCents: 600))
        #expect(fee == 1200 + 2 * 600 + 500)
    }

    @Test("computed values that use each other in a circle are refused, naming the cycle")
    func cycle() {
        let definition = Self.definition(pages: [Self.copiesPage], computed: [
            ComputedValue(id: "a", label: Self.text, expression: "computed.b + 1"),
            ComputedValue(id: "b", label: Self.text, expression: "computed.c * 2"),
            ComputedValue(id: "c", label: Self.text, expression: "computed.a - copies.copies"),
        ])
        #expect(throws: DefinitionError(source: "f.json", message: "computed values form a cycle: a → b → c → a")) {
            try definition.check(source: "f.json")
        }
    }

    @Test("expressions with unknown fields, wrong types or later fields are refused with file and rule named")
    func refusedExpressions() {
        let later = PageDefinition(id: "p", title: Self.text, fields: [
            FieldDefinition(id: "a", kind: .text, label: Self.text, required: false, showWhen: "b == 'x'"),
            FieldDefinition(id: "b", kind: .text, label: Self.text, required: false),
        ])
        #expect(throws: DefinitionError(source: "f.json", message: "showWhen of field p.a: field 'b' is asked after this one and cannot be used here")) {
            try Self.definition(pages: [later]).check(source: "f.json")
        }
        let wrongType = PageDefinition(id: "p", title: Self.text, fields: [Self.copiesPage.fields[0]], showWhen: "copies.copies == 'x'")
        #expect(throws: DefinitionError(source: "f.json", message: "showWhen of page p: cannot compare integer with text")) {
            try Self.definition(pages: [Self.copiesPage, wrongType]).check(source: "f.json")
        }
        let unknown = Self.definition(pages: [Self.copiesPage], computed: [ComputedValue(id: "fee", label: Self.text, expression: "copies.nope * 2", unit: "cents")])
        #expect(throws: DefinitionError(source: "f.json", message: "computed value fee: unknown field 'copies.nope'")) {
            try unknown.check(source: "f.json")
        }
        let priceInRule = PageDefinition(id: "p", title: Self.text, fields: [], showWhen: "tariff.first > 0")
        #expect(throws: (any Error).self) { try Self.definition(pages: [priceInRule]).check(source: "f.json") }
    }

    @Test("a field whose condition does not hold is neither required nor stored, and is pruned when the answer changes")
    func fieldCondition() throws {
        let definition = Self.definition(pages: [Self.copiesPage])
        try definition.check(source: "test")
        let validator = PageValidator(today: DateComponents(year: 2026, month: 11, day: 21))
        let hidden = validator.validate(page: Self.copiesPage, input: ["copies": "1", "express": "false", "reason": "stale"], definition: definition)
        #expect(hidden.isValid)
        #expect(hidden.values["reason"] == nil)
        let shown = validator.validate(page: Self.copiesPage, input: ["copies": "1", "express": "true"], definition: definition)
        #expect(shown.errors.map(\.field) == ["reason"])
        let pruned = AssistantFlow(definition: definition).pruned(Answers(pages: ["copies": ["copies": "1", "express": "false", "reason": "old"]]))
        #expect(pruned.value(page: "copies", field: "reason") == nil)
    }

    @Test("a repeated page validates each entry, names the entry in errors and stores field[n] with the count")
    func repeatedEntries() throws {
        let page = PageDefinition(id: "slots", title: Self.text, fields: [
            FieldDefinition(id: "date", kind: .date, label: Self.text, required: true),
            FieldDefinition(id: "time", kind: .time, label: Self.text, required: true),
        ], rules: [PageRule(id: "future", check: "date > today()", message: Self.text, field: "date")],
           repeat: RepeatRule(min: 1, max: 3, itemLabel: Self.text))
        let definition = Self.definition(pages: [page])
        try definition.check(source: "test")
        let validator = PageValidator(today: DateComponents(year: 2026, month: 11, day: 21))
        let input = ["_entries": "2", "date[1]-day": "1", "date[1]-month": "12", "date[1]-year": "2026", "time[1]": "9.30",
                     "date[2]-day": "1", "date[2]-month": "1", "date[2]-year": "2020", "time[2]": "25:00"]
        let result = validator.validate(page: page, input: input, definition: definition)
        #expect(result.errors.map(\.field) == ["time[2]"])
        #expect(result.errors.first?.anchor == "time[2]")
        #expect(result.errors.first?.parameters["entry"] == "2")
        var fixed = input
        fixed["time[2]"] = "14:00"
        let ruled = validator.validate(page: page, input: fixed, definition: definition)
        #expect(ruled.errors.map(\.problem) == [.ruleViolated])
        #expect(ruled.errors.first?.parameters["entry"] == "2")
        fixed["date[2]-year"] = "2027"
        let valid = validator.validate(page: page, input: fixed, definition: definition)
        #expect(valid.values == ["#entries": "2", "date[1]": "2026-12-01", "time[1]": "09:30", "date[2]": "2027-01-01", "time[2]": "14:00"])
        let data = StructuredData.nested(StructuredData.fields(of: Answers(pages: ["slots": valid.values]), definition: definition))
        #expect(data["slots"] == .array([.object(["date": .string("2026-12-01"), "time": .string("09:30")]),
                                         .object(["date": .string("2027-01-01"), "time": .string("14:00")])]))
        let removed = RepeatedEntries.removing(entry: 1, from: fixed, page: page)
        #expect(removed["_entries"] == "1")
        #expect(removed["time[1]"] == "14:00")
        #expect(removed["time[2]"] == nil)
    }

    @Test("decimal and currency answers accept comma or point, keep their decimals and respect the range")
    func decimals() throws {
        let page = PageDefinition(id: "p", title: Self.text, fields: [
            FieldDefinition(id: "length", kind: .decimal, label: Self.text, required: true, minValue: 1, maxValue: 20, fractionDigits: 1),
            FieldDefinition(id: "amount", kind: .currency, label: Self.text, required: true),
        ])
        let validator = PageValidator(today: DateComponents(year: 2026, month: 11, day: 21))
        let good = validator.validate(page: page, input: ["length": "3,5", "amount": "12"])
        #expect(good.values == ["length": "3.5", "amount": "12.00"])
        for (length, amount) in [("3,55", "1"), ("0,5", "1"), ("20,1", "1"), ("3", "1,234"), ("3", "1.000,00"), ("abc", "1")] {
            #expect(!validator.validate(page: page, input: ["length": length, "amount": amount]).isValid, "\(length) \(amount)")
        }
        #expect(StructuredData.typed("12.50", kind: .currency) == .number(Decimal(string: "12.50")!))
    }

    @Test("times and datetimes are normalised; impossible ones refused")
    func times() {
        #expect(PageValidator.normalisedTime("9:05") == "09:05")
        #expect(PageValidator.normalisedTime("14.30") == "14:30")
        for bad in ["24:00", "12:60", "1230", "12:5", "", "ab:cd"] { #expect(PageValidator.normalisedTime(bad) == nil, "\(bad)") }
        let page = PageDefinition(id: "p", title: Self.text, fields: [FieldDefinition(id: "at", kind: .datetime, label: Self.text, required: true)])
        let validator = PageValidator(today: DateComponents(year: 2026, month: 11, day: 21))
        #expect(validator.validate(page: page, input: ["at-day": "2", "at-month": "3", "at-year": "2027", "at-time": "8:15"]).values["at"] == "2027-03-02T08:15")
        #expect(validator.validate(page: page, input: ["at-day": "2", "at-month": "3", "at-year": "2027"]).errors.first?.problem == .datetimeIncomplete)
    }

    @Test("hidden and locked fields submit their fixed value whatever the form sends, and need one")
    func fixedFields() throws {
        let page = PageDefinition(id: "p", title: Self.text, fields: [
            FieldDefinition(id: "channel", kind: .text, label: Self.text, required: true, display: "hidden", value: "online"),
            FieldDefinition(id: "office", kind: .radio, label: Self.text, required: true,
                            options: [FieldOption(value: "a", label: Self.text), FieldOption(value: "b", label: Self.text)], display: "locked", value: "b"),
        ])
        let definition = Self.definition(pages: [page])
        try definition.check(source: "test")
        let result = PageValidator(today: DateComponents(year: 2026, month: 11, day: 21)).validate(
            page: page, input: ["channel": "forged", "office": "a"], definition: definition)
        #expect(result.isValid && result.values == ["channel": "online", "office": "b"])
        let schema = JSONSchemaExport.schema(for: definition)
        guard case .object(let root) = schema, case .object(let properties)? = root["properties"], case .object(let p)? = properties["p"],
              case .object(let fields)? = p["properties"], case .object(let channel)? = fields["channel"] else {
            Issue.record("schema shape"); return
        }
        #expect(channel["const"] == .string("online"))
        let broken = Self.definition(pages: [PageDefinition(id: "p", title: Self.text, fields: [
            FieldDefinition(id: "x", kind: .text, label: Self.text, required: true, display: "hidden")])])
        #expect(throws: DefinitionError.self) { try broken.check(source: "test") }
    }

    @Test("a text_latin field refuses characters outside DIN SPEC 91379 and names the first one")
    func latin() {
        let page = PageDefinition(id: "p", title: Self.text, fields: [
            FieldDefinition(id: "name", kind: .text, label: Self.text, required: true, characters: "din91379")])
        let validator = PageValidator(today: DateComponents(year: 2026, month: 11, day: 21))
        #expect(validator.validate(page: page, input: ["name": "Łucja Nguyễn-Müller"]).isValid)
        let refused = validator.validate(page: page, input: ["name": "Иван"])
        #expect(refused.errors.first?.problem == .latinCharacters)
        #expect(refused.errors.first?.parameters["character"] == "И")
    }
}
