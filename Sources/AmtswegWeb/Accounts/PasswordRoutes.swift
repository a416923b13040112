import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// "Forgot password" by mail (a single-use link valid one hour) and changing the password while signed in.
struct PasswordRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>, locale: AppLocale) {
        let prefix = "/\(locale.rawValue)/konto"
        router.get("\(prefix)/passwort-vergessen") { request, _ in try await forgotPage(request, locale: locale) }
        router.post("\(prefix)/passwort-vergessen") { request, context in try await requestReset(request, context, locale: locale) }
        router.get("\(prefix)/passwort-neu") { request, _ in try await resetPage(request, locale: locale) }
        router.post("\(prefix)/passwort-neu") { request, context in try await reset(request, context, locale: locale) }
        router.get("\(prefix)/passwort-aendern") { request, _ in try await changePage(request, locale: locale) }
        router.post("\(prefix)/passwort-aendern") { request, context in try await change(request, context, locale: locale) }
    }

    func forgotPage(_ request: Request, locale: AppLocale, email: String = "", emailError: String? = nil, formError: String? = nil) async throws -> Response {
        let t = portal.translator(locale)
        return try await portal.accountForm(
            request, locale: locale, path: "/konto/passwort-vergessen", title: t("account.forgotTitle"), intro: [t("account.forgotIntro")],
            fields: [AccountField(id: "email", label: t("account.email"), type: "email", autocomplete: "username", value: email, error: emailError)],
            submitLabel: t("account.forgotButton"), submitId: "send-link", formError: formError)
    }

    func requestReset(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (_, session) = try await portal.session(of: request) else { throw HTTPError(.forbidden) }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let rawEmail = String((form.values["email"] ?? "").prefix(300))
        guard let email = Portal.normalisedEmail(rawEmail) else {
            return try await forgotPage(request, locale: locale, email: rawEmail, emailError: t("account.emailInvalid"))
        }
        let keys = ["reset-ip:\(context.remoteIP)", "reset:\(email)"]
        guard keys.allSatisfy({ portal.throttle.allows($0) }) else {
            return try await forgotPage(request, locale: locale, email: rawEmail, formError: t("account.tooMany"))
        }
        keys.forEach { portal.throttle.recordFailure($0) }
        try await portal.accounts.requestPasswordReset(email: email)
        portal.nudgeMail()
        // The same answer whether or not the address has an account.
        return try await portal.accountNotice(
            request, locale: locale, path: "/konto/passwort-vergessen", title: t("account.checkMailTitle"),
            paragraphs: [t("account.forgotSent"), t("account.checkMailNoMail")])
    }

    func resetPage(_ request: Request, locale: AppLocale, token: String? = nil, passwordError: String? = nil) async throws -> Response {
        let t = portal.translator(locale)
        let token = token ?? String(request.uri.queryParameters["token"] ?? "")
        guard SecureToken.looksLikeToken(token), try await portal.accounts.tokenAccount(token, purpose: .passwordReset) != nil else {
            return try await AccountRoutes(portal: portal).invalidLink(request, locale: locale, path: "/konto/passwort-neu")
        }
        return try await portal.accountForm(
            request, locale: locale, path: "/konto/passwort-neu", title: t("account.resetTitle"), intro: [t("account.resetIntro")],
            fields: [AccountField(id: "password", label: t("account.newPassword"), type: "password", autocomplete: "new-password",
                                  hint: t("account.passwordHint"), error: passwordError)],
            submitLabel: t("account.resetButton"), submitId: "set-password", hidden: ["token": token])
    }

    func reset(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (_, session) = try await portal.session(of: request) else { throw HTTPError(.forbidden) }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let token = form.values["token"] ?? ""
        let password = String((form.values["password"] ?? "").prefix(PasswordPolicy.maximumLength + 1))
        guard SecureToken.looksLikeToken(token), let account = try await portal.accounts.tokenAccount(token, purpose: .passwordReset) else {
            return try await AccountRoutes(portal: portal).invalidLink(request, locale: locale, path: "/konto/passwort-neu")
        }
        if let problem = portal.passwords.problem(password, email: account.email) {
            return try await resetPage(request, locale: locale, token: token, passwordError: Self.message(problem, t))
        }
        let hash = await portal.passwords.hash(password)
        guard try await portal.accounts.resetPassword(token: token, passwordHash: hash) != nil else {
            return try await AccountRoutes(portal: portal).invalidLink(request, locale: locale, path: "/konto/passwort-neu")
        }
        portal.nudgeMail()
        context.logger.info("password reset", metadata: ["account": "\(account.id)"])
        // Every session of the account ended, this one included if it was signed in.
        return try await portal.accountNotice(
            request, locale: locale, path: "/konto/passwort-neu", title: t("account.resetDoneTitle"), paragraphs: [t("account.resetDoneText")],
            links: [AccountLink(href: "/\(locale.rawValue)/konto/anmelden", label: t("account.toLogin"), id: "login-link")])
    }

    func changePage(_ request: Request, locale: AppLocale, currentError: String? = nil, newError: String? = nil) async throws -> Response {
        guard try await portal.citizen(of: request) != nil else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let t = portal.translator(locale)
        return try await portal.accountForm(
            request, locale: locale, path: "/konto/passwort-aendern", title: t("account.changePasswordTitle"),
            intro: [t("account.changePasswordIntro")],
            fields: [
                AccountField(id: "current_password", label: t("account.currentPassword"), type: "password", autocomplete: "current-password",
                             error: currentError),
                AccountField(id: "password", label: t("account.newPassword"), type: "password", autocomplete: "new-password",
                             hint: t("account.passwordHint"), error: newError),
            ],
            submitLabel: t("account.changePasswordButton"), submitId: "change-password",
            links: [AccountLink(href: "/\(locale.rawValue)/konto/einstellungen", label: t("account.backToSettings"), id: "back-link")])
    }

    func change(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let password = String((form.values["password"] ?? "").prefix(PasswordPolicy.maximumLength + 1))
        if let problem = await portal.currentPasswordProblem(account, typed: form.values["current_password"]) {
            return try await changePage(request, locale: locale, currentError: t(problem))
        }
        if let problem = portal.passwords.problem(password, email: account.email) {
            return try await changePage(request, locale: locale, newError: Self.message(problem, t))
        }
        let hash = await portal.passwords.hash(password)
        try await portal.accounts.changePassword(accountId: account.id, passwordHash: hash, keepingSession: session.idHash)
        portal.nudgeMail()
        // A new session id after a credential change, as at login.
        let rotated = try await portal.sessions.rotate(session, accountId: account.id)
        context.logger.info("password changed", metadata: ["account": "\(account.id)"])
        return Portal.redirect("/\(locale.rawValue)/konto/einstellungen?geaendert=passwort", headers: portal.cookieHeader(token: rotated.token))
    }

    /// The localized text for a password problem key.
    static func message(_ key: String, _ t: Translator) -> String {
        t(key, ["min": String(PasswordPolicy.minimumLength), "max": String(PasswordPolicy.maximumLength)])
    }
}
