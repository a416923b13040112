import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// The citizen's status check with Vorgangsnummer and access code.
struct StatusRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>, locale: AppLocale) {
        router.get("/\(locale.rawValue)/status") { request, _ in try await lookupPage(request, locale: locale) }
        router.post("/\(locale.rawValue)/status") { request, context in try await lookup(request, context, locale: locale) }
        router.get("/\(locale.rawValue)/status/:application") { request, context in try await statusPage(request, context, locale: locale) }
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
              let application = try await portal.applications.findForCitizen(id: id),
              let assistant = portal.assistant(application.assistantId, version: application.assistantVersion)
        else { throw HTTPError(.notFound) }
        let t = portal.translator(locale)
        let history = try await portal.applications.history(tenantId: application.tenantId, id: id)
        let timeline = history.compactMap { event -> [String: String]? in
            guard let to = event.to else { return nil }
            var entry = ["status": t("statusName.\(to.rawValue)"), "date": t.dateTime(event.at)]
            if let reason = event.reason { entry["reason"] = reason }
            return entry
        }
        var appointment = ""
        if let slot = history.last(where: { $0.action == "appointment_confirmed" })?.reason {
            appointment = t("status.appointmentText", ["slot": AnswerPresenter.dateTime(slot, translator: t)])
        }
        return portal.page(
            "status", locale: locale, path: "/status/\(id)", title: t("status.title"),
            model: ["serviceTitle": assistant.title.text(locale), "caseNumber": application.caseNumber, "appointment": appointment,
                    "status": t("statusName.\(application.status.rawValue)"), "timeline": timeline,
                    "receiptHref": "/\(locale.rawValue)/vorgang/\(id)/bestaetigung.pdf"],
            tenant: portal.tenantsById[application.tenantId])
    }
}
