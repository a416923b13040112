import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// Registration with e-mail confirmation, login and logout of citizens.
///
/// Nothing here tells a visitor whether an address has an account: registration and login answer the same way
/// for known and unknown addresses (the mail that arrives differs), and an unknown login costs the same bcrypt time.
struct AccountRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>, locale: AppLocale) {
        let prefix = "/\(locale.rawValue)/konto"
        router.get("\(prefix)/registrieren") { request, _ in try await registrationPage(request, locale: locale) }
        router.post("\(prefix)/registrieren") { request, context in try await registerAccount(request, context, locale: locale) }
        router.get("\(prefix)/registriert") { request, _ in try await registeredPage(request, locale: locale) }
        router.get("\(prefix)/bestaetigen") { request, _ in try await confirmPage(request, locale: locale) }
        router.post("\(prefix)/bestaetigen") { request, context in try await confirm(request, context, locale: locale) }
        router.get("\(prefix)/anmelden") { request, _ in try await loginPage(request, locale: locale) }
        router.post("\(prefix)/anmelden") { request, context in try await login(request, context, locale: locale) }
        router.post("\(prefix)/abmelden") { request, _ in try await logout(request, locale: locale) }
        router.get("\(prefix)/abgemeldet") { request, _ in try await loggedOutPage(request, locale: locale) }
        let flow = SecondFactorFlow(portal: portal)
        router.get("\(prefix)/anmelden/code") { request, _ in try await flow.codePage(request, locale: locale, area: .citizen) }
        router.post("\(prefix)/anmelden/code") { request, context in try await flow.verify(request, context, locale: locale, area: .citizen) }
        router.post("\(prefix)/bestaetigung-senden") { request, context in try await resendConfirmation(request, context, locale: locale) }
    }

    func registrationPage(_ request: Request, locale: AppLocale, email: String = "", emailError: String? = nil,
                          passwordError: String? = nil, formError: String? = nil) async throws -> Response {
        let t = portal.translator(locale)
        return try await portal.accountForm(
            request, locale: locale, path: "/konto/registrieren", title: t("account.registerTitle"),
            intro: [t("account.registerIntro")],
            fields: [
                AccountField(id: "email", label: t("account.email"), type: "email", autocomplete: "email", value: email,
                             hint: t("account.emailHint"), error: emailError),
                AccountField(id: "password", label: t("account.newPassword"), type: "password", autocomplete: "new-password",
                             hint: t("account.passwordHint"), error: passwordError),
            ],
            submitLabel: t("account.registerButton"), submitId: "register",
            links: [AccountLink(href: "/\(locale.rawValue)/konto/anmelden", label: t("account.haveAccount"), id: "login-link")],
            formError: formError)
    }

    func registerAccount(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (_, session) = try await portal.session(of: request) else { throw HTTPError(.forbidden) }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let rawEmail = String((form.values["email"] ?? "").prefix(300))
        let password = String((form.values["password"] ?? "").prefix(PasswordPolicy.maximumLength + 1))
        let throttleKey = "register-ip:\(context.remoteIP)"
        guard portal.throttle.allows(throttleKey) else {
            return try await registrationPage(request, locale: locale, email: rawEmail, formError: t("account.tooMany"))
        }
        let email = Portal.normalisedEmail(rawEmail)
        let passwordProblem = portal.passwords.problem(password, email: email ?? rawEmail)
        if email == nil || passwordProblem != nil {
            return try await registrationPage(
                request, locale: locale, email: rawEmail, emailError: email == nil ? t("account.emailInvalid") : nil,
                passwordError: passwordProblem.map { t($0, ["min": String(PasswordPolicy.minimumLength), "max": String(PasswordPolicy.maximumLength)]) })
        }
        // Every registration counts, so nobody can flood an inbox with confirmation mails from one address.
        portal.throttle.recordFailure(throttleKey)
        let hash = await portal.passwords.hash(password)
        let created = try await portal.accounts.register(email: email!, passwordHash: hash, locale: locale.rawValue)
        portal.nudgeMail()
        context.logger.info("registration", metadata: ["newAccount": "\(created)"])
        return Portal.redirect("/\(locale.rawValue)/konto/registriert")
    }

    func registeredPage(_ request: Request, locale: AppLocale) async throws -> Response {
        let t = portal.translator(locale)
        return try await portal.accountNotice(
            request, locale: locale, path: "/konto/registriert", title: t("account.checkMailTitle"),
            paragraphs: [t("account.checkMailText"), t("account.checkMailNoMail")],
            links: [AccountLink(href: "/\(locale.rawValue)/konto/anmelden", label: t("account.toLogin"), id: "login-link")])
    }

    func confirmPage(_ request: Request, locale: AppLocale) async throws -> Response {
        let t = portal.translator(locale)
        let token = String(request.uri.queryParameters["token"] ?? "")
        // Only a button confirms: mail scanners that open links must not use the token up.
        guard SecureToken.looksLikeToken(token), try await portal.accounts.tokenAccount(token, purpose: .verifyEmail) != nil else {
            return try await invalidLink(request, locale: locale, path: "/konto/bestaetigen")
        }
        return try await portal.accountNotice(
            request, locale: locale, path: "/konto/bestaetigen", title: t("account.confirmTitle"), paragraphs: [t("account.confirmText")],
            button: (action: "/konto/bestaetigen", label: t("account.confirmButton"), id: "confirm", hidden: ["token": token]))
    }

    func confirm(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (_, session) = try await portal.session(of: request) else { throw HTTPError(.forbidden) }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let token = form.values["token"] ?? ""
        guard SecureToken.looksLikeToken(token), try await portal.accounts.confirmEmail(token: token) != nil else {
            return try await invalidLink(request, locale: locale, path: "/konto/bestaetigen")
        }
        context.logger.info("e-mail address confirmed")
        return try await portal.accountNotice(
            request, locale: locale, path: "/konto/bestaetigen", title: t("account.confirmedTitle"), paragraphs: [t("account.confirmedText")],
            links: [AccountLink(href: "/\(locale.rawValue)/konto/anmelden", label: t("account.toLogin"), id: "login-link")])
    }

    /// The answer to an unknown, used or expired link.
    func invalidLink(_ request: Request, locale: AppLocale, path: String) async throws -> Response {
        let t = portal.translator(locale)
        return try await portal.accountNotice(
            request, locale: locale, path: path, title: t("account.linkInvalidTitle"), paragraphs: [t("account.linkInvalidText")],
            links: [AccountLink(href: "/\(locale.rawValue)/konto/anmelden", label: t("account.toLogin"), id: "login-link"),
                    AccountLink(href: "/\(locale.rawValue)/konto/passwort-vergessen", label: t("account.forgotLink"), id: "forgot-link")],
            status: .notFound)
    }

    func loginPage(_ request: Request, locale: AppLocale, email: String = "", formError: String? = nil, returnTo: String? = nil) async throws -> Response {
        let next = returnTo ?? IdentityRoutes.localPath(request.uri.queryParameters["weiter"].map(String.init))
        if try await portal.citizen(of: request) != nil { return Portal.redirect(next ?? "/\(locale.rawValue)/konto") }
        let t = portal.translator(locale)
        var intro = [t("account.loginIntro")]
        if next != nil { intro.insert(t("account.loginNeeded"), at: 0) }
        let provider = portal.oidc.map { oidc in
            (action: "/\(locale.rawValue)/konto/anmelden/extern", heading: t("identity.loginHeading", ["provider": oidc.settings.displayName]),
             text: t("identity.loginText", ["provider": oidc.settings.displayName]),
             label: t("identity.loginWith", ["provider": oidc.settings.displayName]), id: "provider-login")
        }
        return try await portal.accountForm(
            request, locale: locale, path: "/konto/anmelden", title: t("account.loginTitle"), intro: intro,
            fields: [
                AccountField(id: "email", label: t("account.email"), type: "email", autocomplete: "username", value: email),
                AccountField(id: "password", label: t("account.password"), type: "password", autocomplete: "current-password"),
            ],
            submitLabel: t("account.loginButton"), submitId: "login", hidden: next.map { ["weiter": $0] } ?? [:],
            links: [AccountLink(href: "/\(locale.rawValue)/konto/passwort-vergessen", label: t("account.forgotLink"), id: "forgot-link"),
                    AccountLink(href: "/\(locale.rawValue)/konto/registrieren", label: t("account.noAccount"), id: "register-link")],
            formError: formError, extraForm: provider)
    }

    func login(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (_, session) = try await portal.session(of: request) else { throw HTTPError(.forbidden) }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let rawEmail = String((form.values["email"] ?? "").prefix(300))
        let email = Portal.normalisedEmail(rawEmail) ?? rawEmail.lowercased()
        let password = String((form.values["password"] ?? "").prefix(PasswordPolicy.maximumLength))
        let keys = ["citizen-login-ip:\(context.remoteIP)", "citizen-login:\(email)"]
        guard keys.allSatisfy({ portal.throttle.allows($0) }) else {
            context.logger.notice("citizen login throttled")
            return try await loginPage(request, locale: locale, email: rawEmail, formError: t("account.tooMany"),
                                       returnTo: IdentityRoutes.localPath(form.values["weiter"]))
        }
        let account = try await portal.accounts.account(email: email)
        let valid = await portal.passwords.verify(password, against: account?.passwordHash)
        guard let account, valid, !password.isEmpty else {
            keys.forEach { portal.throttle.recordFailure($0) }
            context.logger.notice("citizen login failed")
            return try await loginPage(request, locale: locale, email: rawEmail, formError: t("account.loginFailed"),
                                       returnTo: IdentityRoutes.localPath(form.values["weiter"]))
        }
        // Only the address's counter: the IP's failures stay, or one own account would reset guessing at others.
        portal.throttle.reset(keys[1])
        guard account.emailVerifiedAt != nil else {
            var data = session.data
            data.unverifiedAccountId = account.id
            try await portal.sessions.update(idHash: session.idHash, data: data)
            return try await portal.accountNotice(
                request, locale: locale, path: "/konto/anmelden", title: t("account.unverifiedTitle"), paragraphs: [t("account.unverifiedText")],
                button: (action: "/konto/bestaetigung-senden", label: t("account.resendButton"), id: "resend", hidden: [:]),
                status: .forbidden)
        }
        if try await portal.secondFactors.isEnrolled(.citizen(account.id)) {
            return try await SecondFactorFlow(portal: portal).begin(session: session, area: .citizen, id: account.id, setupPath: nil, locale: locale,
                                                                    returnTo: IdentityRoutes.localPath(form.values["weiter"]))
        }
        var data = session.data
        data.unverifiedAccountId = nil
        let rotated = try await portal.sessions.rotate(SessionRecord(copying: session, data: data), accountId: account.id)
        context.logger.info("citizen login succeeded", metadata: ["account": "\(account.id)"])
        return Portal.redirect(IdentityRoutes.localPath(form.values["weiter"]) ?? "/\(locale.rawValue)/konto",
                               headers: portal.cookieHeader(token: rotated.token))
    }

    func resendConfirmation(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (_, session) = try await portal.session(of: request) else { throw HTTPError(.forbidden) }
        _ = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        if let accountId = session.data.unverifiedAccountId {
            let key = "resend:\(accountId)"
            if portal.throttle.allows(key) {
                portal.throttle.recordFailure(key)
                try await portal.accounts.resendVerification(accountId: accountId)
                portal.nudgeMail()
            }
        }
        return try await portal.accountNotice(
            request, locale: locale, path: "/konto/registriert", title: t("account.checkMailTitle"),
            paragraphs: [t("account.checkMailText"), t("account.checkMailNoMail")])
    }

    func logout(_ request: Request, locale: AppLocale) async throws -> Response {
        if let (_, session) = try await portal.session(of: request) {
            _ = try await portal.verifiedForm(request, session: session)
            try await portal.sessions.delete(idHash: session.idHash)
        }
        return Portal.redirect("/\(locale.rawValue)/konto/abgemeldet", headers: portal.clearCookieHeader())
    }

    func loggedOutPage(_ request: Request, locale: AppLocale) async throws -> Response {
        let t = portal.translator(locale)
        return try await portal.accountNotice(
            request, locale: locale, path: "/konto/abgemeldet", title: t("account.loggedOutTitle"), paragraphs: [t("account.loggedOutText")],
            links: [AccountLink(href: "/\(locale.rawValue)/konto/anmelden", label: t("account.loginAgain"), id: "login-link")])
    }
}
