import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// The signed-in citizen's Postfach: every application of the account with its status, one application's timeline,
/// and claiming an application filed without an account by Vorgangsnummer and access code.
struct PostfachRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>, locale: AppLocale) {
        let prefix = "/\(locale.rawValue)/konto"
        router.get(RouterPath(prefix)) { request, _ in try await postfach(request, locale: locale) }
        router.post("\(prefix)/antraege") { request, context in try await claim(request, context, locale: locale) }
        router.get("\(prefix)/antraege/:application") { request, context in try await application(request, context, locale: locale) }
        router.post("\(prefix)/antraege/:application/antwort") { request, context in try await reply(request, context, locale: locale) }
        router.get("\(prefix)/antraege/:application/datei/:file") { request, context in try await file(request, context) }
    }

    func postfach(_ request: Request, locale: AppLocale, claimError: String? = nil, values: [String: String] = [:]) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let t = portal.translator(locale)
        let l = locale.rawValue
        let applications = try await portal.applications.list(accountId: account.id)
        let summary = try await portal.messages.summary(accountId: account.id)
        var tasks: [[String: String]] = []
        let items = applications.map { application -> [String: Any] in
            let service = portal.assistant(application.assistantId, version: application.assistantVersion)?.title.text(locale) ?? application.leikaKey
            let href = "/\(l)/konto/antraege/\(application.id)"
            let messages = summary[application.id]
            for open in messages?.openRequests ?? [] {
                var task = ["service": service, "caseNumber": application.caseNumber, "href": "\(href)#message-\(open.id)"]
                if let due = open.dueDate.flatMap(ThreadPresenter.day) { task["due"] = t.date(due) }
                tasks.append(task)
            }
            var item: [String: Any] = [
                "caseNumber": application.caseNumber, "href": href, "service": service,
                "authority": portal.tenantsById[application.tenantId]?.name ?? "",
                "status": t("statusName.\(application.status.rawValue)"), "submittedAt": t.date(application.submittedAt)]
            if let unread = messages?.unread, unread > 0 { item["unread"] = t.plural("messages.unread", count: unread) }
            return item
        }
        var errors: [[String: String]] = []
        if let claimError { errors.append(["href": "#case_number", "message": claimError]) }
        let model: [String: Any] = [
            "email": account.email, "items": items, "hasItems": !items.isEmpty, "tasks": tasks, "hasTasks": !tasks.isEmpty,
            "claimAction": "/\(l)/konto/antraege", "caseNumber": values["case_number"] ?? "",
            "settingsHref": "/\(l)/konto/einstellungen", "documentsHref": "/\(l)/konto/dokumente", "profileHref": "/\(l)/konto/profil", "logoutAction": "/\(l)/konto/abmelden", "searchHref": "/\(l)/",
            "errors": errors, "hasErrors": !errors.isEmpty, "claimError": claimError ?? "",
        ]
        return portal.page("account-home", locale: locale, path: "/konto", title: t("account.postfachTitle"), model: model,
                           status: errors.isEmpty ? .ok : .unprocessableContent, csrf: session.csrfToken, hasErrors: !errors.isEmpty)
    }

    func claim(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        // The same limit as the status check: both accept Vorgangsnummer and access code.
        let keys = ["status:\(context.remoteIP)", "claim:\(account.id)"]
        guard keys.allSatisfy({ portal.throttle.allows($0) }) else {
            return try await postfach(request, locale: locale, claimError: t("status.tooMany"), values: form.values)
        }
        guard let caseNumber = CaseNumber.normalise(form.values["case_number"] ?? "", length: 10),
              let code = CaseNumber.normalise(form.values["access_code"] ?? "", length: 8),
              let application = try await portal.applications.claim(caseNumber: caseNumber, accessCode: code, accountId: account.id)
        else {
            keys.forEach { portal.throttle.recordFailure($0) }
            return try await postfach(request, locale: locale, claimError: t("account.claimFailed"), values: form.values)
        }
        context.logger.info("application claimed into an account", metadata: ["application": "\(application.id)", "account": "\(account.id)"])
        return Portal.redirect("/\(locale.rawValue)/konto/antraege/\(application.id)")
    }

    func application(_ request: Request, _ context: AppRequestContext, locale: AppLocale,
                     reply: ReplyProblem? = nil) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        // Another account's application, or none: the same 404.
        guard let id = context.parameters.get("application"), let application = try await portal.applications.find(accountId: account.id, id: id)
        else { throw HTTPError(.notFound) }
        try await portal.messages.markRead(tenantId: application.tenantId, applicationId: id)
        let notice = request.uri.queryParameters["beantwortet"] == "1" ? portal.translator(locale)("messages.replied") : nil
        return try await StatusRoutes(portal: portal).render(application, locale: locale, path: "/konto/antraege/\(id)", postfach: true,
                                                             csrf: session.csrfToken, reply: reply, notice: notice)
    }

    /// The citizen answers a Nachforderung with text and optionally a file; it reaches the case (back office, API).
    func reply(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        guard let id = context.parameters.get("application"), try await portal.applications.find(accountId: account.id, id: id) != nil
        else { throw HTTPError(.notFound) }
        let t = portal.translator(locale)
        let requestId = String((form.values["request"] ?? "").prefix(64))
        let body = (form.values["body"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if body.isEmpty || body.count > BackofficeRoutes.maxBody {
            let error = t(body.isEmpty ? "messages.replyMissing" : "messages.bodyTooLong", ["max": String(BackofficeRoutes.maxBody)])
            return try await application(request, context, locale: locale, reply: ReplyProblem(requestId: requestId, body: body, field: .body, error: error))
        }
        let file: MessageFile?
        switch await MessageUpload.check(form.files["file"], label: t("messages.replyFile"), scanner: portal.scanner, translator: t, logger: context.logger) {
        case .success(let checked): file = checked
        case .failure(let problem):
            return try await application(request, context, locale: locale,
                                         reply: ReplyProblem(requestId: requestId, body: body, field: .file, error: problem.message))
        }
        do {
            _ = try await portal.messages.reply(accountId: account.id, applicationId: id, requestId: requestId, body: body, files: file.map { [$0] } ?? [])
        } catch MessageError.noOpenRequest {
            return try await application(request, context, locale: locale,
                                         reply: ReplyProblem(requestId: requestId, body: body, field: .body, error: t("messages.alreadyAnswered")))
        }
        context.logger.info("citizen answered a request", metadata: ["application": "\(id)"])
        return Portal.redirect("/\(locale.rawValue)/konto/antraege/\(id)?beantwortet=1#thread")
    }

    func file(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let (_, account) = try await portal.citizen(of: request), let id = context.parameters.get("application"),
              let fileId = context.parameters.get("file"), let application = try await portal.applications.find(accountId: account.id, id: id),
              let (info, data) = try await portal.messages.file(tenantId: application.tenantId, applicationId: id, attachmentId: fileId)
        else { throw HTTPError(.notFound) }
        return Portal.download(info, data)
    }
}
