import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// The citizen's profile for prefilling: stored only with explicit consent, deleted when consent is withdrawn.
struct ProfileRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>, locale: AppLocale) {
        let prefix = "/\(locale.rawValue)/konto/profil"
        router.get(RouterPath(prefix)) { request, _ in try await page(request, locale: locale) }
        router.post(RouterPath(prefix)) { request, context in try await save(request, context, locale: locale) }
        router.post("\(prefix)/loeschen") { request, context in try await delete(request, context, locale: locale) }
    }

    func page(_ request: Request, locale: AppLocale, input: [String: String]? = nil, errors: [String: String] = [:],
              consentError: Bool = false, notice: String? = nil) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let t = portal.translator(locale)
        let stored = try await portal.profiles.profile(accountId: account.id)
        let items = portal.prefill.profileItems
        let fields = items.map { item -> [String: Any] in
            let value = input?[item] ?? stored.flatMap { $0.values[item] }.map { ProfileForm.display(item, $0, locale: locale) } ?? ""
            var field: [String: Any] = ["id": item, "label": t("profile.item.\(item)"), "value": value,
                                        "type": item == "email" ? "email" : item == "phone" ? "tel" : "text",
                                        "autocomplete": Self.autocomplete[item] ?? "off"]
            if item == "birthDate" { field["hint"] = t("profile.dateHint") }
            if let error = errors[item] { field["error"] = error }
            return field
        }
        var summary = items.compactMap { item in errors[item].map { ["href": "#\(item)", "message": $0] } }
        if consentError { summary.append(["href": "#consent", "message": t("profile.consentMissing")]) }
        var model: [String: Any] = [
            "fields": fields, "action": "/\(locale.rawValue)/konto/profil", "deleteAction": "/\(locale.rawValue)/konto/profil/loeschen",
            "hasProfile": stored != nil, "consentChecked": input?["consent"] == "yes", "consentError": consentError ? t("profile.consentMissing") : "",
            "errors": summary, "hasErrors": !summary.isEmpty, "backHref": "/\(locale.rawValue)/konto",
        ]
        if let stored { model["consentSince"] = t("profile.consentSince", ["date": t.dateTime(stored.consentAt)]) }
        if let notice { model["success"] = notice }
        return portal.page("account-profile", locale: locale, path: "/konto/profil", title: t("profile.title"), model: model,
                           status: summary.isEmpty ? .ok : .unprocessableContent, csrf: session.csrfToken, hasErrors: !summary.isEmpty)
    }

    static let autocomplete = [
        "givenNames": "given-name", "familyName": "family-name", "birthDate": "bday", "street": "address-line1",
        "postalCode": "postal-code", "city": "address-level2", "email": "email", "phone": "tel",
    ]

    func save(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let (values, errors) = ProfileForm.validate(form.values, items: portal.prefill.profileItems, translator: t)
        let consent = form.values["consent"] == "yes"
        guard errors.isEmpty, consent else {
            return try await page(request, locale: locale, input: form.values, errors: errors, consentError: !consent)
        }
        try await portal.profiles.save(accountId: account.id, values: values)
        context.logger.info("profile saved with consent", metadata: ["account": "\(account.id)"])
        return try await page(request, locale: locale, notice: t("profile.saved"))
    }

    func delete(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        _ = try await portal.verifiedForm(request, session: session)
        try await portal.profiles.delete(accountId: account.id)
        context.logger.info("profile deleted, consent withdrawn", metadata: ["account": "\(account.id)"])
        return try await page(request, locale: locale, notice: portal.translator(locale)("profile.deleted"))
    }
}
