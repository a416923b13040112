import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// A citizen's optional second factor: set it up (recovery codes shown once), or switch it off with the password;
/// switching it on again gives a new key and new recovery codes.
struct TwoFactorSettingsRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>, locale: AppLocale) {
        let prefix = "/\(locale.rawValue)/konto/zwei-faktor"
        router.get(RouterPath(prefix)) { request, _ in try await page(request, locale: locale) }
        router.post(RouterPath(prefix)) { request, context in try await confirm(request, context, locale: locale) }
        router.post("\(prefix)/deaktivieren") { request, context in try await disable(request, context, locale: locale) }
    }

    func page(_ request: Request, locale: AppLocale, error: String? = nil, passwordError: String? = nil) async throws -> Response {
        guard let (_, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let t = portal.translator(locale)
        let owner = FactorOwner.citizen(account.id)
        guard try await portal.secondFactors.isEnrolled(owner) else {
            return try await SecondFactorFlow(portal: portal).setupPage(
                request, locale: locale, path: "/konto/zwei-faktor", owner: owner, accountName: account.email,
                intro: t("twoFactor.setupIntroCitizen"), error: error)
        }
        let remaining = try await portal.secondFactors.remainingRecoveryCodes(owner)
        return try await portal.accountForm(
            request, locale: locale, path: "/konto/zwei-faktor", title: t("twoFactor.manageTitle"),
            intro: [t("twoFactor.enabledText"), t("twoFactor.remaining", ["count": String(remaining)]), t("twoFactor.disableIntro")],
            fields: [AccountField(id: "current_password", label: t("account.currentPassword"), type: "password",
                                  autocomplete: "current-password", error: passwordError)],
            submitLabel: t("twoFactor.disableButton"), submitId: "disable-2fa",
            links: [AccountLink(href: "/\(locale.rawValue)/konto/einstellungen", label: t("account.backToSettings"), id: "back-link")],
            actionPath: "/konto/zwei-faktor/deaktivieren")
    }

    func confirm(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let codes = RecoveryCodes.generate()
        guard try await portal.secondFactors.confirm(.citizen(account.id), code: form.values["code"] ?? "", recoveryCodes: codes) else {
            return try await page(request, locale: locale, error: t("twoFactor.codeWrong"))
        }
        // Stepping up is a login event: new session id.
        let rotated = try await portal.sessions.rotate(session, accountId: account.id)
        context.logger.info("second factor set up", metadata: ["account": "\(account.id)"])
        return SecondFactorFlow(portal: portal).recoveryCodesPage(
            locale: locale, path: "/konto/zwei-faktor", codes: codes, nextHref: "/\(locale.rawValue)/konto/einstellungen",
            nextLabel: t("account.backToSettings"), headers: portal.cookieHeader(token: rotated.token))
    }

    func disable(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        // Any refusal reads "wrong password" here, as before.
        guard await portal.currentPasswordProblem(account, typed: form.values["current_password"]) == nil else {
            return try await page(request, locale: locale, passwordError: portal.translator(locale)("account.currentPasswordWrong"))
        }
        try await portal.secondFactors.remove(.citizen(account.id))
        context.logger.info("second factor removed", metadata: ["account": "\(account.id)"])
        return Portal.redirect("/\(locale.rawValue)/konto/einstellungen")
    }
}
