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
    }

    func postfach(_ request: Request, locale: AppLocale, claimError: String? = nil, values: [String: String] = [:]) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let t = portal.translator(locale)
        let l = locale.rawValue
        let applications = try await portal.applications.list(accountId: account.id)
        let items = applications.map { application -> [String: String] in
            ["caseNumber": application.caseNumber, "href": "/\(l)/konto/antraege/\(application.id)",
             "service": portal.assistant(application.assistantId, version: application.assistantVersion)?.title.text(locale) ?? application.leikaKey,
             "authority": portal.tenantsById[application.tenantId]?.name ?? "",
             "status": t("statusName.\(application.status.rawValue)"), "submittedAt": t.date(application.submittedAt)]
        }
        var errors: [[String: String]] = []
        if let claimError { errors.append(["href": "#case_number", "message": claimError]) }
        let model: [String: Any] = [
            "email": account.email, "items": items, "hasItems": !items.isEmpty,
            "claimAction": "/\(l)/konto/antraege", "caseNumber": values["case_number"] ?? "",
            "settingsHref": "/\(l)/konto/einstellungen", "logoutAction": "/\(l)/konto/abmelden", "searchHref": "/\(l)/",
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

    func application(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (_, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        // Another account's application, or none: the same 404.
        guard let id = context.parameters.get("application"), let application = try await portal.applications.find(accountId: account.id, id: id)
        else { throw HTTPError(.notFound) }
        return try await StatusRoutes(portal: portal).render(application, locale: locale, path: "/konto/antraege/\(id)",
                                                             backHref: "/\(locale.rawValue)/konto")
    }
}
