import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// Which login a second-factor step belongs to.
enum LoginArea: String {
    case staff, citizen

    /// Where the code is asked, under the locale.
    var codePath: String { self == .staff ? "/verwaltung/anmelden/code" : "/konto/anmelden/code" }
    /// The password login.
    var loginPath: String { self == .staff ? "/verwaltung/anmelden" : "/konto/anmelden" }
    /// Where a completed login lands.
    var homePath: String { self == .staff ? "/verwaltung" : "/konto" }

    /// The factor owner of a pending login.
    func owner(_ id: String) -> FactorOwner { self == .staff ? .staff(id) : .citizen(id) }
}

/// The step after the password: a TOTP code (or a recovery code), enrolment with recovery codes, and the session
/// rotation that completes the login. Shared by the back office (where it is required) and the Servicekonto (optional).
struct SecondFactorFlow {
    let portal: Portal

    /// After a correct password: remembers the pending login and sends the browser to the code or the setup page.
    func begin(session: SessionRecord, area: LoginArea, id: String, tenantId: UUID? = nil, setupPath: String?, locale: AppLocale,
               returnTo: String? = nil) async throws -> Response {
        var data = session.data
        data.pendingLogin = PendingLogin(kind: area.rawValue, id: id, tenantId: tenantId, returnTo: returnTo)
        data.unverifiedAccountId = nil
        // A new session id already here, and again when the login completes.
        let rotated = try await portal.sessions.rotate(SessionRecord(copying: session, data: data), accountId: nil)
        let enrolled = try await portal.secondFactors.isEnrolled(area.owner(id))
        let target = enrolled ? area.codePath : (setupPath ?? area.codePath)
        return Portal.redirect("/\(locale.rawValue)\(target)", headers: portal.cookieHeader(token: rotated.token))
    }

    /// The session and its live pending login of `area`, or nil.
    func pending(_ request: Request, area: LoginArea) async throws -> (SessionRecord, PendingLogin)? {
        guard let (_, session) = try await portal.session(of: request), let login = session.data.pendingLogin,
              login.kind == area.rawValue, login.isLive() else { return nil }
        return (session, login)
    }

    func codePage(_ request: Request, locale: AppLocale, area: LoginArea, error: String? = nil) async throws -> Response {
        guard try await pending(request, area: area) != nil else { return Portal.redirect("/\(locale.rawValue)\(area.loginPath)") }
        let t = portal.translator(locale)
        return try await portal.accountForm(
            request, locale: locale, path: area.codePath, title: t("twoFactor.codeTitle"), intro: [t("twoFactor.codeIntro")],
            fields: [AccountField(id: "code", label: t("twoFactor.codeLabel"), autocomplete: "one-time-code", hint: t("twoFactor.codeOrRecovery"),
                                  error: error, inputmode: nil)],
            submitLabel: t("twoFactor.verifyButton"), submitId: "verify-code",
            links: [AccountLink(href: "/\(locale.rawValue)\(area.loginPath)", label: t("twoFactor.startOver"), id: "start-over")])
    }

    func verify(_ request: Request, _ context: AppRequestContext, locale: AppLocale, area: LoginArea) async throws -> Response {
        guard let (session, login) = try await pending(request, area: area) else { return Portal.redirect("/\(locale.rawValue)\(area.loginPath)") }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let key = "2fa:\(area.rawValue):\(login.id)"
        guard portal.throttle.allows(key) else { return try await codePage(request, locale: locale, area: area, error: t("account.tooMany")) }
        let code = String((form.values["code"] ?? "").prefix(40))
        guard try await portal.secondFactors.verify(area.owner(login.id), code: code) else {
            portal.throttle.recordFailure(key)
            context.logger.notice("second factor failed", metadata: ["area": "\(area.rawValue)"])
            return try await codePage(request, locale: locale, area: area, error: t("twoFactor.codeWrong"))
        }
        portal.throttle.reset(key)
        let token = try await complete(session: session, login: login, area: area)
        context.logger.info("login completed with second factor", metadata: ["area": "\(area.rawValue)", "id": "\(login.id)"])
        return Portal.redirect(IdentityRoutes.localPath(login.returnTo) ?? "/\(locale.rawValue)\(area.homePath)", headers: portal.cookieHeader(token: token))
    }

    /// Signs the pending login in on a new session id; returns its cookie token.
    func complete(session: SessionRecord, login: PendingLogin, area: LoginArea) async throws -> String {
        var data = session.data
        data.pendingLogin = nil
        let copy = SessionRecord(copying: session, data: data)
        let rotated = area == .staff
            ? try await portal.sessions.rotate(copy, tenantId: login.tenantId, userId: login.id, accountId: nil)
            : try await portal.sessions.rotate(copy, accountId: login.id)
        return rotated.token
    }

    /// The enrolment page: the key as a link and as text, and the field for the first code.
    func setupPage(_ request: Request, locale: AppLocale, path: String, owner: FactorOwner, accountName: String, intro: String,
                   error: String? = nil) async throws -> Response {
        guard let secret = try await portal.secondFactors.pendingSecret(owner) else { throw HTTPError(.notFound) }
        let (session, cookie) = try await portal.ensureSession(of: request)
        let t = portal.translator(locale)
        let base32 = Base32.encode(secret)
        let grouped = stride(from: 0, to: base32.count, by: 4).map { offset -> String in
            let start = base32.index(base32.startIndex, offsetBy: offset)
            return String(base32[start..<base32.index(start, offsetBy: min(4, base32.count - offset))])
        }.joined(separator: " ")
        var model: [String: Any] = [
            "intro": intro, "uri": TOTP(secret: secret).provisioningURI(issuer: t("twoFactor.issuer"), account: accountName),
            "secretGrouped": grouped, "secretSpelled": base32.map(String.init).joined(separator: " "),
            "action": "/\(locale.rawValue)\(path)",
        ]
        if let error {
            model["errors"] = [["href": "#code", "message": error]]
            model["hasErrors"] = true
            model["errorMessage"] = error
        }
        return portal.page("totp-setup", locale: locale, path: path, title: t("twoFactor.setupTitle"), model: model,
                           status: error == nil ? .ok : .unprocessableContent, csrf: session.csrfToken, headers: cookie, hasErrors: error != nil)
    }

    /// The recovery codes, shown once.
    func recoveryCodesPage(locale: AppLocale, path: String, codes: [String], nextHref: String, nextLabel: String, headers: HTTPFields = [:]) -> Response {
        let t = portal.translator(locale)
        return portal.page("recovery-codes", locale: locale, path: path, title: t("twoFactor.codesTitle"),
                           model: ["intro": t("twoFactor.codesIntro"), "codes": codes, "nextHref": nextHref, "nextLabel": nextLabel],
                           headers: headers)
    }
}
