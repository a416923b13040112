import Testing
@testable import AmtswegCore

@Suite("Fees")
struct FeeTests {
    let schedule = FeeSchedule(firstCopyCents: 1200, furtherCopyCents: 600)

    @Test("12 € for the first copy, 6 € for each further one", arguments: [(1, 1200), (2, 1800), (3, 2400), (10, 6600)])
    func amount(copies: Int, cents: Int) {
        #expect(schedule.amount(copies: copies) == cents)
    }

    @Test("the flow computes the fee from the copies answer")
    func fromAnswers() throws {
        let flow = AssistantFlow(definition: try Fixtures.birthCertificate())
        #expect(flow.fee(for: Answers(pages: ["copies": ["copies": "3"]]), schedule: schedule) == 2400)
        #expect(flow.fee(for: Answers(), schedule: schedule) == 1200)
    }

    @Test("amounts are formatted per locale")
    func formatting() {
        let de = Translator(catalog: MessageCatalog(locale: .de, messages: [:]))
        let en = Translator(catalog: MessageCatalog(locale: .en, messages: [:]))
        #expect(de.euros(cents: 1800).replacingOccurrences(of: "\u{a0}", with: " ") == "18,00 €")
        #expect(en.euros(cents: 1800) == "€18.00")
    }
}
