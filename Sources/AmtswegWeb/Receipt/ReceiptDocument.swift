import AmtswegCore
import AmtswegStorage
import Foundation

/// The Antragsbestätigung: what was applied for, where, when, under which Vorgangsnummer, at what fee, with all answers;
/// PDF/A-3b, tagged, with the structured data attached inside as `daten.json`.
struct ReceiptDocument {
    let application: ApplicationRecord
    let assistant: AssistantDefinition
    let tenant: Tenant
    let office: String
    let attachments: [AttachmentInfo]
    let translator: Translator

    /// DejaVu Sans regular and bold (Resources/fonts, Bitstream Vera licence), read once.
    static let fonts: PDFADocument.Fonts = {
        do {
            return PDFADocument.Fonts(regular: try TrueTypeFont(data: try BundledResources.data("fonts/DejaVuSans.ttf")),
                                      bold: try TrueTypeFont(data: try BundledResources.data("fonts/DejaVuSans-Bold.ttf")))
        } catch {
            // The fonts ship with the program; without them no receipt could be made at all.
            fatalError("receipt fonts missing from the resources: \(error)")
        }
    }()

    /// The receipt as PDF/A bytes.
    func pdf(created: Date = Date()) -> Data {
        document().data(fonts: Self.fonts, created: created)
    }

    /// The receipt's blocks and attachment, before layout.
    func document() -> PDFADocument {
        let t = translator
        var pdf = PDFADocument(title: "\(t("receipt.title")) \(application.caseNumber)", language: t.locale.tag)
        pdf.add(.h1, t("receipt.title"), size: 18, bold: true)
        pdf.add(.h2, assistant.title.text(t.locale), size: 13, bold: true, gapBefore: 6)
        pdf.add(.paragraph, "\(t("receipt.authority")): \(tenant.name), \(office)", gapBefore: 10)
        pdf.add(.paragraph, "\(t("receipt.caseNumber")): \(application.caseNumber)")
        pdf.add(.paragraph, "\(t("receipt.submittedAt")): \(t.dateTime(application.submittedAt))")
        pdf.add(.paragraph, "\(t("receipt.fee")): \(t.euros(cents: application.feeCents))")
        pdf.add(.paragraph, "\(t("receipt.leikaKey")): \(application.leikaKey)")
        pdf.add(.h2, t("receipt.answers"), size: 13, bold: true, gapBefore: 14)
        for line in AnswerPresenter(definition: assistant, translator: t).lines(application.answers, attachments: attachments) {
            pdf.add(.paragraph, line.label, bold: true, gapBefore: 4)
            pdf.add(.paragraph, line.value)
        }
        pdf.add(.paragraph, t("receipt.footer"), size: 9, gapBefore: 18)
        pdf.attachment = .init(filename: "daten.json", mimeType: "application/json", description: t("receipt.attachmentDescription"),
                               data: structuredData())
        return pdf
    }

    /// The application as the specialist-system API describes it: service, case number, dates, fee, Fachdaten.
    func structuredData() -> Data {
        let fields = StructuredData.fields(of: application.answers, definition: assistant)
        let document: [String: Any] = [
            "caseNumber": application.caseNumber, "authority": ["name": tenant.name, "ars": tenant.ars],
            "service": ["leikaKey": application.leikaKey, "assistant": assistant.id, "version": assistant.version],
            "submittedAt": application.submittedAt.formatted(.iso8601), "feeCents": application.feeCents,
            "schema": "/api/schemas/\(assistant.id)/\(assistant.version).json",
            "data": (try? JSONSerialization.jsonObject(with: JSONEncoder.sortedKeys.encode(StructuredData.nested(fields)))) ?? [:],
        ]
        return (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data("{}".utf8)
    }
}
