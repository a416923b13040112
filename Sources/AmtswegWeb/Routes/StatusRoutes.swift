import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// A reply the citizen sent that was refused: which request, what was typed, where the problem is and what it is.
struct ReplyProblem {
    enum Field { case body, file }
    let requestId: String
    let body: String
    let field: Field
    let error: String
}

/// The citizen's status check with Vorgangsnummer and access code.
struct StatusRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>, locale: AppLocale) {
        router.get("/\(locale.rawValue)/status") { request, _ in try await lookupPage(request, locale: locale) }
        router.post("/\(locale.rawValue)/status") { request, context in try await lookup(request, context, locale: locale) }
        router.get("/\(locale.rawValue)/status/:application") { request, context in try await statusPage(request, context, locale: locale) }
        router.get("/\(locale.rawValue)/status/:application/datei/:file") { request, context in try await messageFile(request, context) }
    }

    func lookupPage(_ request: Request, locale: AppLocale, errors: [[String: String]] = [], values: [String: String] = [:]) async throws -> Response {
        let (session, cookie) = try await portal.ensureSession(of: request)
        let t = portal.translator(locale)
        return portal.page(
            "status-lookup", locale: locale, path: "/status", title: t("status.lookupTitle"),
            model: ["errors": errors, "hasErrors": !errors.isEmpty, "caseNumber": values["case_number"] ?? "",
                    "action": "/\(locale.rawValue)/status", "errorMessage": errors.first?["message"] ?? ""],
            status: errors.isEmpty ? .ok : .unprocessableContent, csrf: session.csrfToken, headers: cookie, hasErrors: !errors.isEmpty)
    }

    func lookup(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (_, session) = try await portal.session(of: request) else { throw HTTPError(.forbidden) }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let throttleKey = "status:\(context.remoteIP)"
        guard portal.throttle.allows(throttleKey) else {
            return try await lookupPage(request, locale: locale, errors: [["href": "#case_number", "message": t("status.tooMany")]], values: form.values)
        }
        guard let caseNumber = CaseNumber.normalise(form.values["case_number"] ?? "", length: 10),
              let code = CaseNumber.normalise(form.values["access_code"] ?? "", length: 8),
              let application = try await portal.applications.find(caseNumber: caseNumber, accessCode: code)
        else {
            portal.throttle.recordFailure(throttleKey)
            // One message for every failure, so nobody learns which Vorgangsnummern exist.
            return try await lookupPage(request, locale: locale, errors: [["href": "#case_number", "message": t("status.notFound")]], values: form.values)
        }
        var data = session.data
        if !data.statusGrants.contains(application.id) { data.statusGrants.append(application.id) }
        if data.statusGrants.count > 20 { data.statusGrants.removeFirst() }
        try await portal.sessions.update(idHash: session.idHash, data: data)
        return Portal.redirect("/\(locale.rawValue)/status/\(application.id)")
    }

    func statusPage(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let id = context.parameters.get("application"), let (_, session) = try await portal.session(of: request),
              session.data.statusGrants.contains(id) || session.data.receipts[id] != nil,
              let application = try await portal.applications.findForCitizen(id: id)
        else { throw HTTPError(.notFound) }
        return try await render(application, locale: locale, path: "/status/\(id)")
    }

    /// The status page of `application`: current status, timeline, confirmed appointment, Postfach thread, receipt.
    /// In the Postfach (`postfach`) it links back and offers a reply form under each open request; `reply` re-shows
    /// a refused reply with its error.
    func render(_ application: ApplicationRecord, locale: AppLocale, path: String, postfach: Bool = false, csrf: String? = nil,
                reply: ReplyProblem? = nil, notice: String? = nil) async throws -> Response {
        guard let assistant = portal.assistant(application.assistantId, version: application.assistantVersion) else { throw HTTPError(.notFound) }
        let t = portal.translator(locale)
        let l = locale.rawValue
        let steps = try await portal.applications.statusSteps(of: application)
        let timeline = steps.compactMap { step -> [String: String]? in
            guard let to = step.to else { return nil }
            var entry = ["status": t("statusName.\(to.rawValue)"), "date": t.dateTime(step.at)]
            if let reason = step.detail { entry["reason"] = reason }
            return entry
        }
        var appointment = ""
        if let slot = steps.last(where: { $0.action == "appointment_confirmed" })?.detail {
            appointment = t("status.appointmentText", ["slot": AnswerPresenter.dateTime(slot, translator: t)])
        }
        let thread = try await portal.messages.thread(tenantId: application.tenantId, applicationId: application.id)
        let filePrefix = postfach ? "/\(l)/konto/antraege/\(application.id)/datei" : "/\(l)/status/\(application.id)/datei"
        var items = ThreadPresenter(translator: t, forCitizen: true) { _, file in "\(filePrefix)/\(file.id)" }.items(thread)
        // The summary links to the field in error; a request that is no longer open has no form, so to its message.
        var errorAnchor = "#message-\(reply?.requestId ?? "")"
        if let reply {
            items = items.map { item in
                guard item["id"] as? String == reply.requestId, item["open"] as? Bool == true else { return item }
                var changed = item
                changed[reply.field == .file ? "replyFileError" : "replyError"] = reply.error
                changed["replyBody"] = reply.body
                errorAnchor = reply.field == .file ? "#reply-file-\(reply.requestId)" : "#reply-body-\(reply.requestId)"
                return changed
            }
        }
        var model: [String: Any] = [
            "serviceTitle": assistant.title.text(locale), "caseNumber": application.caseNumber, "appointment": appointment,
            "status": t("statusName.\(application.status.rawValue)"), "timeline": timeline,
            // "Transmitted" only once every destination has acknowledged receipt.
            "delivery": application.acknowledgedAt.map { t("status.deliveryDone", ["date": t.dateTime($0)]) } ?? t("status.deliveryPending"),
            "receiptHref": "/\(l)/vorgang/\(application.id)/bestaetigung.pdf",
            "thread": items, "hasThread": !thread.isEmpty,
            "hasOpenRequest": thread.contains { $0.kind == .request && $0.answeredAt == nil },
        ]
        if postfach {
            model["backHref"] = "/\(l)/konto"
            model["replyAction"] = "/\(l)/konto/antraege/\(application.id)/antwort"
        }
        if let notice { model["success"] = notice }
        if let reply { model["errors"] = [["href": errorAnchor, "message": reply.error]]; model["hasErrors"] = true }
        return portal.page("status", locale: locale, path: path, title: t("status.title"), model: model,
                           status: reply == nil ? .ok : .unprocessableContent, csrf: csrf,
                           tenant: portal.tenantsById[application.tenantId], hasErrors: reply != nil)
    }

    /// A file of the thread, for a browser with a grant for the application.
    func messageFile(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let id = context.parameters.get("application"), let fileId = context.parameters.get("file"),
              let (_, session) = try await portal.session(of: request),
              session.data.statusGrants.contains(id) || session.data.receipts[id] != nil,
              let application = try await portal.applications.findForCitizen(id: id),
              let (info, data) = try await portal.messages.file(tenantId: application.tenantId, applicationId: id, attachmentId: fileId)
        else { throw HTTPError(.notFound) }
        return Portal.download(info, data)
    }
}
