import AmtswegCore
import AmtswegStorage
import Foundation

/// The Antragsbestätigung: what was applied for, where, when, under which Vorgangsnummer, at what fee, with all answers.
struct ReceiptDocument {
    let application: ApplicationRecord
    let assistant: AssistantDefinition
    let tenant: Tenant
    let office: String
    let attachments: [AttachmentInfo]
    let translator: Translator

    /// The receipt as PDF bytes.
    func pdf() -> Data {
        let t = translator
        var pdf = SimplePDF(title: "\(t("receipt.title")) \(application.caseNumber)", language: t.locale.tag)
        pdf.paragraph(t("receipt.title"), size: 18, bold: true)
        pdf.paragraph(assistant.title.text(t.locale), size: 13, bold: true, gapBefore: 6)
        pdf.paragraph("\(t("receipt.authority")): \(tenant.name), \(office)", gapBefore: 10)
        pdf.paragraph("\(t("receipt.caseNumber")): \(application.caseNumber)")
        pdf.paragraph("\(t("receipt.submittedAt")): \(t.dateTime(application.submittedAt))")
        pdf.paragraph("\(t("receipt.fee")): \(t.euros(cents: application.feeCents))")
        pdf.paragraph("\(t("receipt.leikaKey")): \(application.leikaKey)")
        pdf.paragraph(t("receipt.answers"), size: 13, bold: true, gapBefore: 14)
        for line in AnswerPresenter(definition: assistant, translator: t).lines(application.answers, attachments: attachments) {
            pdf.paragraph(line.label, bold: true, gapBefore: 4)
            pdf.paragraph(line.value)
        }
        pdf.paragraph(t("receipt.footer"), size: 9, gapBefore: 18)
        return pdf.data()
    }
}
