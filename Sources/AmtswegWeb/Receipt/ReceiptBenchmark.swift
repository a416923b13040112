import AmtswegCore
import AmtswegStorage
import Foundation

/// In-process timing of the Antragsbestätigung (PDF/A-3b): a typical two-page receipt, against a baseline measured in
/// the same run (encoding the same application's structured data as JSON).
public enum ReceiptBenchmark {
    /// A Markdown table of the medians over `repetitions` runs.
    public static func run(repetitions: Int) throws -> String {
        let assistants = try Portal.loadAssistants()
        let catalog = try MessageCatalog(locale: .de, json: BundledResources.data("i18n/de.json"))
        let translator = Translator(catalog: catalog, fallback: nil)
        let tenant = try Tenant(id: UUID(), ars: "146270140140", name: "Stadt Musterstadt", office: "Bürgerbüro", contactEmail: "a@b.de")
        // The first assistant (by id) whose complete sample answers fill exactly two pages.
        var chosen: (ReceiptDocument, Int)?
        for assistant in assistants.values.sorted(by: { $0.id < $1.id }) {
            let document = receipt(assistant, tenant: tenant, translator: translator)
            let pages = document.document().layout(ReceiptDocument.fonts).count
            if pages == 2 { chosen = (document, pages); break }
        }
        guard let (document, pages) = chosen else { return "no assistant gives a two-page receipt" }
        _ = document.pdf()  // fonts loaded, caches warm
        let baseline = median(repetitions) { _ = document.structuredData() }
        let receipt = median(repetitions) { _ = document.pdf() }
        let size = document.pdf().count
        func ms(_ seconds: Double) -> String { String(format: "%.2f ms", seconds * 1000) }
        return """
            | measurement | median | × baseline | target |
            |---|---:|---:|---|
            | baseline: structured data of \(document.assistant.id) as JSON | \(ms(baseline)) | 1.00× | |
            | PDF/A-3b receipt of \(document.assistant.id), \(pages) pages, \(size / 1024) KB | \(ms(receipt)) | \(String(format: "%.1f×", receipt / baseline)) | ≤ 50 ms: \(receipt <= 0.05 ? "PASS" : "FAIL") |
            """
    }

    /// The receipt of a complete application of `assistant` made of its sample answers.
    static func receipt(_ assistant: AssistantDefinition, tenant: Tenant, translator: Translator) -> ReceiptDocument {
        let answers = SampleInput.completeAnswers(for: assistant)
        let application = ApplicationRecord(
            id: UUID().uuidString.lowercased(), tenantId: tenant.id, caseNumber: "7K4M-9XQ2-RB", leikaKey: assistant.leikaKey,
            assistantId: assistant.id, assistantVersion: assistant.version, status: .received, answers: answers, feeCents: 1200, locale: "de",
            submittedAt: Date(), updatedAt: Date(), acknowledgedAt: nil, accountId: nil)
        return ReceiptDocument(application: application, assistant: assistant, tenant: tenant, office: tenant.office, attachments: [],
                               translator: translator)
    }

    static func median(_ repetitions: Int, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let times = (0..<max(1, repetitions)).map { _ in
            let elapsed = clock.measure(body)
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }.sorted()
        return times[times.count / 2]
    }
}
