import AmtswegCore
import AmtswegStorage
import Foundation

/// A case as one ZIP for the e-Akte: `Antragsbestaetigung.pdf`, `vorgang.json` (application, Fachdaten, history,
/// messages, internal notes, deliveries), `unterlagen/` (the citizen's uploads) and `nachrichten/` (message files).
struct CaseExport {
    let portal: Portal

    /// The ZIP bytes.
    func archive(application: ApplicationRecord, assistant: AssistantDefinition, tenant: Tenant) async throws -> Data {
        var zip = ZipWriter()
        let tenantId = tenant.id
        let t = portal.translator(.de)
        let attachments = try await portal.applications.attachments(tenantId: tenantId, id: application.id)
        zip.add("Antragsbestaetigung.pdf", ReceiptDocument(
            application: application, assistant: assistant, tenant: tenant,
            office: portal.office(leikaKey: application.leikaKey, tenantId: tenantId), attachments: attachments, translator: t).pdf())
        if let xml = try? GewerbeanzeigeMessage.xml(for: application, tenant: tenant, office: portal.office(leikaKey: application.leikaKey, tenantId: tenantId)) {
            zip.add("XGewerbeanzeige-\(application.caseNumber).xml", Data(xml.utf8))
        }
        var uploads: [[String: Any]] = []
        for info in attachments {
            guard let (_, data) = try await portal.applications.attachment(tenantId: tenantId, applicationId: application.id, attachmentId: info.id)
            else { continue }
            let path = zip.add("unterlagen/\(DataSelfServiceRoutes.safeName(info.filename))", data)
            uploads.append(["path": path, "field": "\(info.group)/\(info.field)", "contentType": info.contentType, "sha512": info.sha512])
        }
        var messages: [[String: Any]] = []
        for message in try await portal.messages.thread(tenantId: tenantId, applicationId: application.id) {
            var paths: [String] = []
            for info in message.attachments {
                guard let (_, data) = try await portal.messages.file(tenantId: tenantId, applicationId: application.id, attachmentId: info.id)
                else { continue }
                paths.append(zip.add("nachrichten/\(DataSelfServiceRoutes.safeName(info.filename))", data))
            }
            messages.append(DataSelfServiceRoutes.compact([
                "kind": message.kind.rawValue, "from": message.kind == .reply ? "citizen" : "authority", "subject": message.subject,
                "text": message.body, "createdAt": DataSelfServiceRoutes.iso(message.createdAt), "dueDate": message.dueDate,
                "answeredAt": message.answeredAt.map(DataSelfServiceRoutes.iso), "files": paths,
            ]))
        }
        let history = try await portal.applications.history(tenantId: tenantId, id: application.id).map { event in
            DataSelfServiceRoutes.compact([
                "action": event.action, "actor": event.actorKind, "actorId": event.actorId, "from": event.from?.rawValue,
                "to": event.to?.rawValue, "reason": event.reason, "at": DataSelfServiceRoutes.iso(event.at),
            ])
        }
        let notes = try await portal.caseNotes.notes(tenantId: tenantId, applicationId: application.id).map { note in
            ["authorId": note.authorId, "text": note.text, "createdAt": DataSelfServiceRoutes.iso(note.createdAt)]
        }
        let deliveries = try await portal.deliveries.deliveries(tenantId: tenantId, applicationId: application.id).map { delivery in
            DataSelfServiceRoutes.compact([
                "kind": delivery.kind.rawValue, "state": delivery.state.rawValue, "attempts": delivery.attempts,
                "deliveredAt": delivery.deliveredAt.map(DataSelfServiceRoutes.iso), "problems": delivery.problems,
            ])
        }
        let fields = StructuredData.fields(of: application.answers, definition: assistant)
        let data = try JSONSerialization.jsonObject(with: try JSONEncoder.sortedKeys.encode(StructuredData.nested(fields)))
        let document: [String: Any] = DataSelfServiceRoutes.compact([
            "caseNumber": application.caseNumber, "id": application.id, "authority": ["name": tenant.name, "ars": tenant.ars],
            "service": ["leikaKey": application.leikaKey, "title": assistant.title.text(.de), "assistant": assistant.id,
                        "version": assistant.version],
            "status": application.status.rawValue, "submittedAt": DataSelfServiceRoutes.iso(application.submittedAt),
            "feeCents": application.feeCents, "locale": application.locale,
            "schema": "/api/schemas/\(assistant.id)/\(assistant.version).json", "data": data, "uploads": uploads,
            "messages": messages, "history": history, "internalNotes": notes, "deliveries": deliveries,
        ])
        zip.add("vorgang.json", try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys]))
        return zip.archive()
    }
}
