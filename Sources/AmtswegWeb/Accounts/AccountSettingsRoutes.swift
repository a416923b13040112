import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// The account settings: change of e-mail address (re-authenticated, confirmed by mail), logging out on all
/// devices, and deleting the account with a clear statement of what the authorities keep.
struct AccountSettingsRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>, locale: AppLocale) {
        let prefix = "/\(locale.rawValue)/konto"
        router.get("\(prefix)/einstellungen") { request, _ in try await settingsPage(request, locale: locale) }
        router.post("\(prefix)/ueberall-abmelden") { request, context in try await logoutEverywhere(request, context, locale: locale) }
        router.get("\(prefix)/email-aendern") { request, _ in try await emailPage(request, locale: locale) }
        router.post("\(prefix)/email-aendern") { request, context in try await changeEmail(request, context, locale: locale) }
        router.get("\(prefix)/email-bestaetigen") { request, _ in try await confirmEmailPage(request, locale: locale) }
        router.post("\(prefix)/email-bestaetigen") { request, context in try await confirmEmail(request, context, locale: locale) }
        router.get("\(prefix)/loeschen") { request, _ in try await deletePage(request, locale: locale) }
        router.post("\(prefix)/loeschen") { request, context in try await deleteAccount(request, context, locale: locale) }
    }

    func settingsPage(_ request: Request, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let t = portal.translator(locale)
        let l = locale.rawValue
        var model: [String: Any] = [
            "email": account.email, "since": t.date(account.createdAt),
            "links": [
                ["href": "/\(l)/konto/passwort-aendern", "label": t("account.changePasswordTitle"), "id": "change-password-link"],
                ["href": "/\(l)/konto/email-aendern", "label": t("account.changeEmailTitle"), "id": "change-email-link"],
                ["href": "/\(l)/konto/identitaet", "label": t("identity.settingsLink"), "id": "identity-link"],
                ["href": "/\(l)/konto/daten", "label": t("account.dataLink"), "id": "data-link"],
                ["href": "/\(l)/konto/loeschen", "label": t("account.deleteTitle"), "id": "delete-link"],
            ],
            "logoutAllAction": "/\(l)/konto/ueberall-abmelden", "postfachHref": "/\(l)/konto",
            "twoFactorStatus": t(try await portal.secondFactors.isEnrolled(.citizen(account.id)) ? "twoFactor.settingsOn" : "twoFactor.settingsOff"),
            "twoFactorHref": "/\(l)/konto/zwei-faktor",
        ]
        if request.uri.queryParameters["geaendert"] == "passwort" { model["success"] = t("account.passwordChanged") }
        return portal.page("account-settings", locale: locale, path: "/konto/einstellungen", title: t("account.settingsTitle"),
                           model: model, csrf: session.csrfToken)
    }

    func logoutEverywhere(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        _ = try await portal.verifiedForm(request, session: session)
        try await portal.accounts.endSessions(accountId: account.id, except: nil)
        context.logger.info("logged out on all devices", metadata: ["account": "\(account.id)"])
        return Portal.redirect("/\(locale.rawValue)/konto/abgemeldet", headers: portal.clearCookieHeader())
    }

    func emailPage(_ request: Request, locale: AppLocale, email: String = "", emailError: String? = nil, passwordError: String? = nil) async throws -> Response {
        guard let (_, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let t = portal.translator(locale)
        return try await portal.accountForm(
            request, locale: locale, path: "/konto/email-aendern", title: t("account.changeEmailTitle"),
            intro: [t("account.changeEmailIntro", ["email": account.email])],
            fields: [
                AccountField(id: "email", label: t("account.newEmail"), type: "email", autocomplete: "email", value: email, error: emailError),
                AccountField(id: "current_password", label: t("account.currentPassword"), type: "password", autocomplete: "current-password",
                             error: passwordError),
            ],
            submitLabel: t("account.changeEmailButton"), submitId: "change-email",
            links: [AccountLink(href: "/\(locale.rawValue)/konto/einstellungen", label: t("account.backToSettings"), id: "back-link")])
    }

    func changeEmail(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let rawEmail = String((form.values["email"] ?? "").prefix(300))
        let key = "reauth:\(account.id)"
        guard portal.throttle.allows(key) else { return try await emailPage(request, locale: locale, email: rawEmail, passwordError: t("account.tooMany")) }
        guard let email = Portal.normalisedEmail(rawEmail), email != account.email else {
            return try await emailPage(request, locale: locale, email: rawEmail, emailError: t(Portal.normalisedEmail(rawEmail) == nil ? "account.emailInvalid" : "account.emailUnchanged"))
        }
        if let problem = await portal.currentPasswordProblem(account, typed: form.values["current_password"]) {
            return try await emailPage(request, locale: locale, email: rawEmail, passwordError: t(problem))
        }
        // Counts as an attempt too: limits how many confirmation mails one account can send out.
        portal.throttle.recordFailure(key)
        try await portal.accounts.requestEmailChange(accountId: account.id, newEmail: email)
        portal.nudgeMail()
        return try await portal.accountNotice(
            request, locale: locale, path: "/konto/email-aendern", title: t("account.checkMailTitle"),
            paragraphs: [t("account.changeEmailSent"), t("account.checkMailNoMail")],
            links: [AccountLink(href: "/\(locale.rawValue)/konto/einstellungen", label: t("account.backToSettings"), id: "back-link")])
    }

    func confirmEmailPage(_ request: Request, locale: AppLocale) async throws -> Response {
        let t = portal.translator(locale)
        let token = String(request.uri.queryParameters["token"] ?? "")
        guard SecureToken.looksLikeToken(token), try await portal.accounts.tokenAccount(token, purpose: .emailChange) != nil else {
            return try await AccountRoutes(portal: portal).invalidLink(request, locale: locale, path: "/konto/email-bestaetigen")
        }
        return try await portal.accountNotice(
            request, locale: locale, path: "/konto/email-bestaetigen", title: t("account.confirmNewEmailTitle"),
            paragraphs: [t("account.confirmNewEmailText")],
            button: (action: "/konto/email-bestaetigen", label: t("account.confirmButton"), id: "confirm", hidden: ["token": token]))
    }

    func confirmEmail(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (_, session) = try await portal.session(of: request) else { throw HTTPError(.forbidden) }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let token = form.values["token"] ?? ""
        guard SecureToken.looksLikeToken(token), let account = try await portal.accounts.confirmEmailChange(token: token) else {
            return try await AccountRoutes(portal: portal).invalidLink(request, locale: locale, path: "/konto/email-bestaetigen")
        }
        portal.nudgeMail()
        context.logger.info("e-mail address changed", metadata: ["account": "\(account.id)"])
        return try await portal.accountNotice(
            request, locale: locale, path: "/konto/email-bestaetigen", title: t("account.emailChangedTitle"),
            paragraphs: [t("account.emailChangedText", ["email": account.email])],
            links: [AccountLink(href: "/\(locale.rawValue)/konto", label: t("account.toPostfach"), id: "postfach-link")])
    }

    /// What the authorities keep after an account is deleted, and why.
    static func keptItems(_ t: Translator) -> [String] {
        [t("account.keepApplications"), t("account.keepAudit"), t("account.keepMail")]
    }

    func deletePage(_ request: Request, locale: AppLocale, passwordError: String? = nil) async throws -> Response {
        guard try await portal.citizen(of: request) != nil else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let t = portal.translator(locale)
        return try await portal.accountForm(
            request, locale: locale, path: "/konto/loeschen", title: t("account.deleteTitle"),
            intro: [t("account.deleteIntro"), t("account.deleteKeepIntro")],
            fields: [AccountField(id: "current_password", label: t("account.currentPassword"), type: "password",
                                  autocomplete: "current-password", error: passwordError)],
            submitLabel: t("account.deleteButton"), submitId: "delete-account",
            links: [AccountLink(href: "/\(locale.rawValue)/konto/einstellungen", label: t("account.backToSettings"), id: "back-link")],
            keepList: Self.keptItems(t), danger: true)
    }

    func deleteAccount(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        if let problem = await portal.currentPasswordProblem(account, typed: form.values["current_password"]) {
            return try await deletePage(request, locale: locale, passwordError: t(problem))
        }
        try await portal.accounts.delete(accountId: account.id)
        portal.nudgeMail()
        context.logger.info("account deleted", metadata: ["account": "\(account.id)"])
        return try await portal.accountNotice(
            request, locale: locale, path: "/konto/loeschen", title: t("account.deletedTitle"), paragraphs: [t("account.deletedText")],
            links: [AccountLink(href: "/\(locale.rawValue)/", label: t("account.toHome"), id: "home-link")], headers: portal.clearCookieHeader())
    }
}
