import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// Working a case in the back office: who is responsible, internal notes, and the export for the e-Akte.
extension BackofficeRoutes {
    /// The case view's assignment form, notes and export link.
    func addCaseTools(to model: inout [String: Any], applicationId id: String, user: StaffUser, locale: AppLocale,
                      note: (text: String, error: String)?) async throws {
        let t = portal.translator(locale)
        let l = locale.rawValue
        let colleagues = try await portal.staff.users(tenantId: user.tenantId)
        let current = try await portal.applications.assignee(tenantId: user.tenantId, id: id)
        model["assignAction"] = "/\(l)/verwaltung/vorgang/\(id)/zuweisung"
        model["assigneeOptions"] = [["value": "", "label": t("staff.assignNobody"), "selected": current == nil]]
            + colleagues.map { ["value": $0.id, "label": $0.displayName, "selected": $0.id == current] }
        let names = Dictionary(uniqueKeysWithValues: colleagues.map { ($0.id, $0.displayName) })
        let notes = try await portal.caseNotes.notes(tenantId: user.tenantId, applicationId: id)
        model["notes"] = notes.map { ["author": names[$0.authorId] ?? "–", "date": t.dateTime($0.createdAt), "text": $0.text] }
        model["hasNotes"] = !notes.isEmpty
        model["noteAction"] = "/\(l)/verwaltung/vorgang/\(id)/notiz"
        model["exportHref"] = "/\(l)/verwaltung/vorgang/\(id)/export.zip"
        if let note {
            model["noteText"] = note.text
            model["noteError"] = note.error
            model["errors"] = [["href": "#note", "message": note.error]]
            model["hasErrors"] = true
        }
    }

    func assign(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, user) = try await staffSession(request) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        guard let id = context.parameters.get("application") else { throw HTTPError(.notFound) }
        let chosen = (form.values["assignee"] ?? "").trimmingCharacters(in: .whitespaces)
        do {
            try await portal.applications.assign(tenantId: user.tenantId, id: id, to: chosen.isEmpty ? nil : chosen,
                                                 actor: Actor(kind: "staff", id: user.id))
        } catch StorageError.notFound {
            // Either the case is not this authority's (404) or the person is not: then say so at the field.
            guard try await portal.applications.find(tenantId: user.tenantId, id: id) != nil else { throw HTTPError(.notFound) }
            return try await caseView(request, context, locale: locale, error: portal.translator(locale)("staff.assignUnknown"))
        }
        return Portal.redirect("/\(locale.rawValue)/verwaltung/vorgang/\(id)?ok=zuweisung")
    }

    func addNote(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, user) = try await staffSession(request) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        guard let id = context.parameters.get("application"), try await portal.applications.find(tenantId: user.tenantId, id: id) != nil else {
            throw HTTPError(.notFound)
        }
        let t = portal.translator(locale)
        let text = (form.values["note"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return try await caseView(request, context, locale: locale, note: (text, t("staff.noteMissing"))) }
        if text.count > CaseNoteRepository.maxLength { return try await caseView(request, context, locale: locale, note: (text, t("staff.noteTooLong"))) }
        _ = try await portal.caseNotes.add(tenantId: user.tenantId, applicationId: id, authorId: user.id, text: text)
        return Portal.redirect("/\(locale.rawValue)/verwaltung/vorgang/\(id)?ok=notiz")
    }

    /// The case as a ZIP for the e-Akte: the receipt PDF, `vorgang.json` (the API's representation with history,
    /// messages and notes), every upload and every message file; the export itself is audited.
    func exportCase(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (_, user) = try await staffSession(request) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        guard let id = context.parameters.get("application"), let application = try await portal.applications.find(tenantId: user.tenantId, id: id),
              let assistant = portal.assistant(application.assistantId, version: application.assistantVersion),
              let tenant = portal.tenantsById[user.tenantId]
        else { throw HTTPError(.notFound) }
        let archive = try await CaseExport(portal: portal).archive(application: application, assistant: assistant, tenant: tenant)
        try await portal.applications.recordExport(tenantId: user.tenantId, id: id, actor: Actor(kind: "staff", id: user.id))
        context.logger.info("case exported", metadata: ["application": "\(id)", "user": "\(user.id)"])
        return Response(status: .ok, headers: [.contentType: "application/zip", .cacheControl: "no-store",
                                               .contentDisposition: "attachment; filename=\"Vorgang-\(application.caseNumber).zip\""],
                        body: .init(byteBuffer: ByteBuffer(data: archive)))
    }
}
