import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// Linking an account to the external identity provider, signing in with it, and stepping up to the trust level a
/// service needs. Every round trip carries state, nonce and a PKCE verifier kept in the session; the session id
/// changes when the identity (and its level) is accepted.
struct IdentityRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>, locale: AppLocale) {
        let prefix = "/\(locale.rawValue)/konto"
        router.get("\(prefix)/identitaet") { request, _ in try await page(request, locale: locale) }
        router.post("\(prefix)/identitaet/verknuepfen") { request, context in try await startLink(request, context, locale: locale) }
        router.post("\(prefix)/identitaet/loesen") { request, context in try await unlink(request, context, locale: locale) }
        router.get("\(prefix)/vertrauensniveau") { request, _ in try await stepUpPage(request, locale: locale) }
        router.post("\(prefix)/vertrauensniveau") { request, context in try await startStepUp(request, context, locale: locale) }
        router.post("\(prefix)/anmelden/extern") { request, context in try await startLogin(request, context, locale: locale) }
    }

    /// The callback is one address for every language (the provider knows only one); the language travels in the session.
    static func registerCallback(on router: Router<AppRequestContext>, portal: Portal) {
        router.get("/oidc/callback") { request, context in try await IdentityRoutes(portal: portal).callback(request, context) }
    }

    /// A local path to return to, or nil for anything that could leave the site.
    static func localPath(_ text: String?) -> String? {
        // No whitespace or control characters at all: browsers drop tabs and newlines, so "/\t/evil.example" would
        // become "//evil.example".
        guard let text, text.hasPrefix("/"), !text.hasPrefix("//"), !text.contains("\\"), text.count < 300,
              text.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value != 127 }) else { return nil }
        return text
    }

    func page(_ request: Request, locale: AppLocale, notice: String? = nil) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let t = portal.translator(locale)
        let l = locale.rawValue
        guard let oidc = portal.oidc else {
            return try await portal.accountNotice(request, locale: locale, path: "/konto/identitaet", title: t("identity.title"),
                                                  paragraphs: [t("identity.notConfigured")])
        }
        let provider = oidc.settings.displayName
        let current = session.data.trustLevel ?? .basis
        var paragraphs = [t("identity.intro", ["provider": provider]), t("identity.sessionLevel", ["level": t("identity.level.\(current.rawValue)")])]
        if let notice { paragraphs.insert(notice, at: 0) }
        if let linked = try await portal.identities.identity(accountId: account.id) {
            paragraphs.append(t("identity.linked", ["provider": provider, "level": t("identity.level.\(linked.level.rawValue)"),
                                                    "date": t.date(linked.linkedAt)]))
            return try await portal.accountNotice(
                request, locale: locale, path: "/konto/identitaet", title: t("identity.title"), paragraphs: paragraphs,
                button: (action: "/konto/identitaet/loesen", label: t("identity.unlinkButton", ["provider": provider]), id: "unlink", hidden: [:]),
                links: [AccountLink(href: "/\(l)/konto/einstellungen", label: t("account.backToSettings"), id: "back-link")])
        }
        paragraphs.append(t("identity.notLinked", ["provider": provider]))
        return try await portal.accountNotice(
            request, locale: locale, path: "/konto/identitaet", title: t("identity.title"), paragraphs: paragraphs,
            button: (action: "/konto/identitaet/verknuepfen", label: t("identity.linkButton", ["provider": provider]), id: "link", hidden: [:]),
            links: [AccountLink(href: "/\(l)/konto/einstellungen", label: t("account.backToSettings"), id: "back-link")])
    }

    func startLink(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, _) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        _ = try await portal.verifiedForm(request, session: session)
        return try await redirectToProvider(session: session, purpose: "link", level: nil, returnTo: "/\(locale.rawValue)/konto/identitaet",
                                            locale: locale, context: context)
    }

    func unlink(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        _ = try await portal.verifiedForm(request, session: session)
        try await portal.identities.unlink(accountId: account.id)
        // The proven level came from that identity: it goes with it.
        var data = session.data
        data.trustLevel = nil
        try await portal.sessions.update(idHash: session.idHash, data: data)
        context.logger.info("identity unlinked", metadata: ["account": "\(account.id)"])
        return Portal.redirect("/\(locale.rawValue)/konto/identitaet")
    }

    func stepUpPage(_ request: Request, locale: AppLocale) async throws -> Response {
        let t = portal.translator(locale)
        let level = request.uri.queryParameters["stufe"].flatMap { TrustLevel(rawValue: String($0)) } ?? .substanziell
        let returnTo = Self.localPath(request.uri.queryParameters["weiter"].map(String.init)) ?? "/\(locale.rawValue)/konto"
        guard try await portal.citizen(of: request) != nil else {
            return Portal.redirect("/\(locale.rawValue)/konto/anmelden?weiter=\(Self.query("/\(locale.rawValue)/konto/vertrauensniveau?stufe=\(level.rawValue)&weiter=\(Self.query(returnTo))"))")
        }
        guard let oidc = portal.oidc else {
            return try await portal.accountNotice(request, locale: locale, path: "/konto/vertrauensniveau", title: t("identity.stepUpTitle"),
                                                  paragraphs: [t("identity.notConfigured")], status: .serviceUnavailable)
        }
        return try await portal.accountNotice(
            request, locale: locale, path: "/konto/vertrauensniveau", title: t("identity.stepUpTitle"),
            paragraphs: [t("identity.stepUpText", ["level": t("identity.level.\(level.rawValue)"), "provider": oidc.settings.displayName]),
                         t("identity.levelExplained.\(level.rawValue)")],
            button: (action: "/konto/vertrauensniveau", label: t("identity.stepUpButton", ["provider": oidc.settings.displayName]), id: "step-up",
                     hidden: ["stufe": level.rawValue, "weiter": returnTo]),
            links: [AccountLink(href: returnTo, label: t("identity.notNow"), id: "back-link")])
    }

    func startStepUp(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, _) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        let level = TrustLevel(rawValue: form.values["stufe"] ?? "") ?? .substanziell
        let returnTo = Self.localPath(form.values["weiter"]) ?? "/\(locale.rawValue)/konto"
        return try await redirectToProvider(session: session, purpose: "stepup", level: level, returnTo: returnTo, locale: locale, context: context)
    }

    func startLogin(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (_, session) = try await portal.session(of: request) else { throw HTTPError(.forbidden) }
        _ = try await portal.verifiedForm(request, session: session)
        return try await redirectToProvider(session: session, purpose: "login", level: nil, returnTo: "/\(locale.rawValue)/konto",
                                            locale: locale, context: context)
    }

    /// Stores state, nonce and PKCE verifier in the session and sends the browser to the provider.
    private func redirectToProvider(session: SessionRecord, purpose: String, level: TrustLevel?, returnTo: String, locale: AppLocale,
                                    context: AppRequestContext) async throws -> Response {
        guard let oidc = portal.oidc else { throw HTTPError(.notFound) }
        let (verifier, challenge) = OIDCClient.pkce()
        let request = OIDCRequestState(state: SecureToken.generate(), nonce: SecureToken.generate(), codeVerifier: verifier, purpose: purpose,
                                       returnTo: returnTo, level: level ?? .basis, locale: locale.rawValue)
        let url: String
        do {
            url = try await oidc.authorizationURL(state: request.state, nonce: request.nonce, challenge: challenge, level: level)
        } catch {
            context.logger.error("identity provider unavailable", metadata: ["reason": "\(error)"])
            return try await failure(locale: locale, key: "identity.unavailable", status: .badGateway)
        }
        var data = session.data
        data.oidcRequest = request
        try await portal.sessions.update(idHash: session.idHash, data: data)
        return Portal.redirect(url)
    }

    func callback(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let (_, session) = try await portal.session(of: request), let pending = session.data.oidcRequest else {
            return try await failure(locale: ErrorMiddleware.locale(of: request), key: "identity.expired", status: .badRequest)
        }
        let locale = AppLocale(rawValue: pending.locale) ?? .fallback
        // The request is used once, whatever happens next.
        var data = session.data
        data.oidcRequest = nil
        try await portal.sessions.update(idHash: session.idHash, data: data)
        let query = request.uri.queryParameters
        guard let state = query["state"].map(String.init), SecureToken.constantTimeEquals(state, pending.state),
              Clock.millis() - pending.at < 10 * 60_000 else {
            context.logger.notice("identity callback with a wrong or old state")
            return try await failure(locale: locale, key: "identity.expired", status: .badRequest)
        }
        if query["error"] != nil { return try await failure(locale: locale, key: "identity.cancelled", status: .ok, returnTo: pending.returnTo) }
        guard let oidc = portal.oidc, let code = query["code"].map(String.init), !code.isEmpty, code.count < 2048 else {
            return try await failure(locale: locale, key: "identity.expired", status: .badRequest)
        }
        let identity: OIDCClient.Identity
        do {
            identity = try await oidc.identity(code: code, verifier: pending.codeVerifier, nonce: pending.nonce)
        } catch {
            context.logger.warning("identity not accepted", metadata: ["reason": "\(error)"])
            return try await failure(locale: locale, key: "identity.rejected", status: .badRequest)
        }
        let refreshed = SessionRecord(copying: session, data: data)
        switch pending.purpose {
        case "login": return try await login(identity, session: refreshed, locale: locale, context: context)
        default: return try await linkOrStepUp(identity, pending: pending, session: refreshed, locale: locale, context: context)
        }
    }

    private func linkOrStepUp(_ identity: OIDCClient.Identity, pending: OIDCRequestState, session: SessionRecord, locale: AppLocale,
                              context: AppRequestContext) async throws -> Response {
        guard let accountId = session.accountId else { return try await failure(locale: locale, key: "identity.expired", status: .badRequest) }
        do {
            try await portal.identities.link(accountId: accountId, issuer: identity.issuer, subject: identity.subject, level: identity.level)
        } catch IdentityError.linkedToAnotherAccount {
            return try await failure(locale: locale, key: "identity.linkedElsewhere", status: .conflict)
        } catch IdentityError.accountLinkedToAnotherIdentity {
            return try await failure(locale: locale, key: "identity.otherIdentity", status: .conflict)
        }
        if pending.purpose == "stepup", identity.level < pending.level {
            context.logger.notice("step-up gave a lower level than needed", metadata: ["needed": "\(pending.level.rawValue)", "got": "\(identity.level.rawValue)"])
            return try await failure(locale: locale, key: "identity.levelTooLow", status: .forbidden, returnTo: pending.returnTo)
        }
        var data = session.data
        data.trustLevel = max(data.trustLevel ?? .basis, identity.level)
        // A step-up is a login event: new session id.
        let rotated = try await portal.sessions.rotate(SessionRecord(copying: session, data: data), accountId: accountId)
        context.logger.info("identity accepted", metadata: ["account": "\(accountId)", "level": "\(identity.level.rawValue)", "purpose": "\(pending.purpose)"])
        return Portal.redirect(Self.localPath(pending.returnTo) ?? "/\(locale.rawValue)/konto", headers: portal.cookieHeader(token: rotated.token))
    }

    private func login(_ identity: OIDCClient.Identity, session: SessionRecord, locale: AppLocale, context: AppRequestContext) async throws -> Response {
        guard let accountId = try await portal.identities.accountId(issuer: identity.issuer, subject: identity.subject) else {
            return try await failure(locale: locale, key: "identity.noAccount", status: .notFound)
        }
        try await portal.identities.link(accountId: accountId, issuer: identity.issuer, subject: identity.subject, level: identity.level)
        // A provider login at basis level is a password: the account's own second factor still applies.
        if identity.level == .basis, try await portal.secondFactors.isEnrolled(.citizen(accountId)) {
            return try await SecondFactorFlow(portal: portal).begin(session: session, area: .citizen, id: accountId, setupPath: nil, locale: locale)
        }
        var data = session.data
        data.trustLevel = identity.level
        data.unverifiedAccountId = nil
        let rotated = try await portal.sessions.rotate(SessionRecord(copying: session, data: data), accountId: accountId)
        context.logger.info("login with identity provider", metadata: ["account": "\(accountId)", "level": "\(identity.level.rawValue)"])
        return Portal.redirect("/\(locale.rawValue)/konto", headers: portal.cookieHeader(token: rotated.token))
    }

    private func failure(locale: AppLocale, key: String, status: HTTPResponse.Status, returnTo: String? = nil) async throws -> Response {
        let t = portal.translator(locale)
        var links = [AccountLink(href: "/\(locale.rawValue)/konto", label: t("account.toPostfach"), id: "postfach-link")]
        if let back = Self.localPath(returnTo) { links.insert(AccountLink(href: back, label: t("identity.back"), id: "back-link"), at: 0) }
        return portal.page("account-notice", locale: locale, path: "/konto/identitaet", title: t("\(key)Title"),
                           model: ["paragraphs": [t(key, ["provider": portal.oidc?.settings.displayName ?? ""])],
                                   "links": links.map { ["href": $0.href, "label": $0.label, "id": $0.id] }],
                           status: status)
    }

    static func query(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~/"))) ?? text
    }
}
