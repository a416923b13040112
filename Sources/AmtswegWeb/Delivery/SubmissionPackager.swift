import AmtswegCore
import AmtswegStorage
import Foundation

/// Puts together what a destination receives for an application: the Fachdaten as JSON (valid against the assistant
/// version's published JSON Schema), the Antragsbestätigung as PDF ("form") and every upload ("attachment").
struct SubmissionPackager: Sendable {
    let applications: ApplicationRepository
    let accounts: AccountRepository
    let assistantVersions: [String: [String: AssistantDefinition]]
    let tenantsById: [UUID: Tenant]
    let offerings: [String: [TenantService]]
    /// The receipt for the authority is in German, whatever language the citizen used.
    let translator: Translator

    /// Why an application cannot be packaged.
    struct Missing: Error, CustomStringConvertible { let description: String }

    /// The package of the application `applicationId` of `tenantId`; `schemaBase` is this portal's public URL.
    func package(tenantId: UUID, applicationId: String, schemaBase: String) async throws -> SubmissionPackage {
        guard let application = try await applications.find(tenantId: tenantId, id: applicationId) else { throw Missing(description: "application gone") }
        guard let assistant = assistantVersions[application.assistantId]?[application.assistantVersion] else {
            throw Missing(description: "assistant \(application.assistantId) \(application.assistantVersion) not installed")
        }
        guard let tenant = tenantsById[tenantId] else { throw Missing(description: "authority not loaded") }
        let fields = StructuredData.fields(of: application.answers, definition: assistant)
        let data = try JSONEncoder.sortedKeys.encode(StructuredData.nested(fields))
        let attachments = try await applications.attachments(tenantId: tenantId, id: applicationId)
        let office = offerings[application.leikaKey]?.first { $0.tenantId == tenantId }?.office ?? tenant.office
        let receipt = ReceiptDocument(application: application, assistant: assistant, tenant: tenant, office: office,
                                      attachments: attachments, translator: translator).pdf()
        var parts = [SubmissionPackage.Part(key: "form", purpose: "form", filename: "Antragsbestaetigung-\(application.caseNumber).pdf",
                                            contentType: "application/pdf", description: "Antragsbestätigung mit allen Angaben", data: receipt)]
        for info in attachments {
            guard let (_, bytes) = try await applications.attachment(tenantId: tenantId, applicationId: applicationId, attachmentId: info.id) else { continue }
            parts.append(.init(key: info.id, purpose: "attachment", filename: info.filename, contentType: info.contentType,
                               description: "\(info.group)/\(info.field)", data: bytes))
        }
        if let xml = try? GewerbeanzeigeMessage.xml(for: application, tenant: tenant, office: office) {
            parts.append(.init(key: "xgewerbeanzeige", purpose: "attachment", filename: "XGewerbeanzeige-\(application.caseNumber).xml",
                               contentType: "application/xml", description: "XGewerbeanzeige 2.2 abh.gewerbemeldung.0500", data: Data(xml.utf8)))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/Berlin")
        formatter.dateFormat = "yyyy-MM-dd"
        return SubmissionPackage(
            serviceName: assistant.title.text(.de), leikaKey: application.leikaKey, ars: tenant.ars, caseNumber: application.caseNumber,
            applicationDate: formatter.string(from: application.submittedAt), data: data,
            schemaURI: "\(schemaBase)/api/schemas/\(assistant.id)/\(assistant.version).json", parts: parts,
            replyEmail: try await replyAddress(application, assistant: assistant))
    }

    /// Where the authority may answer by e-mail: the account's address, else the applicant's e-mail answer.
    private func replyAddress(_ application: ApplicationRecord, assistant: AssistantDefinition) async throws -> String? {
        if let accountId = application.accountId, let account = try await accounts.account(id: accountId) { return account.email }
        for page in assistant.pages {
            for field in page.fields where field.kind == .email {
                if let value = application.answers.pages[page.id]?[field.id], value.contains("@") { return value }
            }
        }
        return nil
    }
}
