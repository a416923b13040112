import Foundation
import Testing
@testable import AmtswegCore

@Suite("Server-side validation of assistant pages")
struct PageValidatorTests {
    let definition: AssistantDefinition
    let validator = PageValidator(today: DateComponents(year: 2026, month: 11, day: 21))

    init() throws { definition = try Fixtures.birthCertificate() }

    func problems(_ page: String, _ input: [String: String]) -> [FieldProblem] {
        validator.validate(page: definition.page(page)!, input: input).errors.map(\.problem)
    }

    @Test("a date that does not exist is refused")
    func impossibleDate() {
        let errors = validator.validate(page: definition.page("birth")!, input: [
            "G60000083-day": "31", "G60000083-month": "2", "G60000083-year": "1990", "F00000000067": "Meißen",
        ]).errors
        #expect(errors.map(\.problem) == [.dateInvalid])
        #expect(errors.first?.anchor == "G60000083-day")
        #expect(problems("birth", ["G60000083-day": "29", "G60000083-month": "2", "G60000083-year": "2023", "F00000000067": "X"]) == [.dateInvalid])
        #expect(problems("birth", ["G60000083-day": "29", "G60000083-month": "2", "G60000083-year": "2024", "F00000000067": "X"]).isEmpty)
    }

    @Test("a birth date in the future is refused, today is accepted")
    func futureDate() {
        #expect(problems("birth", ["G60000083-day": "22", "G60000083-month": "11", "G60000083-year": "2026", "F00000000067": "X"]) == [.dateInFuture])
        #expect(problems("birth", ["G60000083-day": "21", "G60000083-month": "11", "G60000083-year": "2026", "F00000000067": "X"]).isEmpty)
    }

    @Test("an incomplete date names the missing part")
    func incompleteDate() {
        let errors = validator.validate(page: definition.page("birth")!, input: ["G60000083-day": "1", "G60000083-year": "1990", "F00000000067": "X"]).errors
        #expect(errors.map(\.problem) == [.dateIncomplete])
        #expect(errors.first?.anchor == "G60000083-month")
    }

    @Test("an empty name is refused, whitespace does not count")
    func emptyName() {
        #expect(problems("person", ["F60000000228": "   ", "F60000000227": "Mustermann"]) == [.required])
        #expect(problems("person", ["F60000000228": "Erika", "F60000000227": "Mustermann"]).isEmpty)
    }

    @Test("copies must be 1 to 10", arguments: [("0", FieldProblem.outOfRange), ("100", .outOfRange), ("zwei", .notAnInteger), ("-1", .notAnInteger), ("", .required)])
    func copies(value: String, problem: FieldProblem) {
        #expect(problems("copies", ["copies": value]) == [problem])
    }

    @Test("a malformed e-mail is refused", arguments: ["erika", "erika@", "@example.org", "erika@example", "erika @example.org", "erika@exa mple.org"])
    func email(value: String) {
        #expect(problems("contact", ["F60000000242": value]) == [.emailInvalid])
    }

    @Test("a PLZ must be five digits", arguments: ["1662", "016620", "01a62", "０１６６２"])
    func postalCode(value: String) {
        #expect(problems("address", ["F60000000243": "Hauptstraße", "F60000000244": "1", "F60000000246": value, "F60000000247": "Meißen"]) == [.postalCodeInvalid])
    }

    @Test("a radio answer must be one of the options")
    func radio() {
        #expect(problems("relation", ["relation": "cousin"]) == [.notAnOption])
        #expect(problems("relation", [:]) == [.required])
    }

    @Test("too long text is refused and control characters too")
    func textLimits() {
        #expect(problems("birth", ["G60000083-day": "1", "G60000083-month": "1", "G60000083-year": "1990", "F00000000067": String(repeating: "x", count: 121)]) == [.tooLong])
        #expect(problems("person", ["F60000000228": "Eri\u{0}ka", "F60000000227": "M"]) == [.invalidCharacters])
    }

    @Test("uploads are checked by content, size and presence")
    func uploads() {
        let page = definition.page("interest")!
        let reason = ["interest_reason": "Erbscheinsverfahren beim Amtsgericht"]
        let pdf = Data("%PDF-1.4\n%%EOF".utf8)
        #expect(validator.validate(page: page, input: reason, uploads: ["interest_proof": UploadedFile(filename: "a.pdf", data: pdf)]).isValid)
        let renamed = UploadedFile(filename: "a.pdf", data: Data("MZ not a pdf".utf8))
        #expect(validator.validate(page: page, input: reason, uploads: ["interest_proof": renamed]).errors.map(\.problem) == [.fileType])
        let huge = UploadedFile(filename: "a.pdf", data: pdf + Data(count: 5 * 1024 * 1024))
        #expect(validator.validate(page: page, input: reason, uploads: ["interest_proof": huge]).errors.map(\.problem) == [.fileTooLarge])
        #expect(validator.validate(page: page, input: reason).errors.map(\.problem) == [.fileMissing])
        #expect(validator.validate(page: page, input: reason, existing: ["interest_proof": "earlier-id"]).values["interest_proof"] == "earlier-id")
    }

    @Test("valid answers are normalised")
    func normalisation() {
        let result = validator.validate(page: definition.page("birth")!, input: [
            "G60000083-day": "3", "G60000083-month": "07", "G60000083-year": "1990", "F00000000067": "  Bad   Schandau ",
        ])
        #expect(result.values == ["G60000083": "1990-07-03", "F00000000067": "Bad Schandau"])
    }
}
