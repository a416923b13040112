import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird
import HummingbirdBcrypt

/// The authority's back office: login, inbox, case view and status changes; everything scoped to the user's tenant.
struct BackofficeRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>, locale: AppLocale) {
        let prefix = "/\(locale.rawValue)/verwaltung"
        router.get("\(prefix)/anmelden") { request, _ in try await loginPage(request, locale: locale) }
        router.post("\(prefix)/anmelden") { request, context in try await login(request, context, locale: locale) }
        router.post("\(prefix)/abmelden") { request, _ in try await logout(request, locale: locale) }
        let flow = SecondFactorFlow(portal: portal)
        router.get("\(prefix)/anmelden/code") { request, _ in try await flow.codePage(request, locale: locale, area: .staff) }
        router.post("\(prefix)/anmelden/code") { request, context in try await flow.verify(request, context, locale: locale, area: .staff) }
        router.get("\(prefix)/anmelden/einrichten") { request, _ in try await setupPage(request, locale: locale) }
        router.post("\(prefix)/anmelden/einrichten") { request, context in try await setup(request, context, locale: locale) }
        router.get(RouterPath(prefix)) { request, _ in try await inbox(request, locale: locale) }
        router.get("\(prefix)/vorgang/:application") { request, context in try await caseView(request, context, locale: locale) }
        router.post("\(prefix)/vorgang/:application/status") { request, context in try await changeStatus(request, context, locale: locale) }
        router.post("\(prefix)/vorgang/:application/nachricht") { request, context in try await sendMessage(request, context, locale: locale) }
        router.get("\(prefix)/vorgang/:application/datei/:file") { request, context in try await messageFile(request, context, locale: locale) }
        router.post("\(prefix)/vorgang/:application/termin") { request, context in try await confirmAppointment(request, context, locale: locale) }
        router.post("\(prefix)/vorgang/:application/zustellung/:delivery") { request, context in try await resendDelivery(request, context, locale: locale) }
        router.get("\(prefix)/zustellungen") { request, _ in try await deliveryProblems(request, locale: locale) }
        router.post("\(prefix)/vorgang/:application/zuweisung") { request, context in try await assign(request, context, locale: locale) }
        router.post("\(prefix)/vorgang/:application/notiz") { request, context in try await addNote(request, context, locale: locale) }
        router.get("\(prefix)/vorgang/:application/export.zip") { request, context in try await exportCase(request, context, locale: locale) }
        router.get("\(prefix)/team") { request, _ in try await team(request, locale: locale) }
        router.post("\(prefix)/team") { request, context in try await addColleague(request, context, locale: locale) }
    }

    /// The signed-in case worker and their session, or nil.
    func staffSession(_ request: Request) async throws -> (SessionRecord, StaffUser)? {
        guard let (_, session) = try await portal.session(of: request), let tenantId = session.tenantId, let userId = session.userId,
              let user = try await portal.staff.user(id: userId, tenantId: tenantId) else { return nil }
        return (session, user)
    }

    func loginPage(_ request: Request, locale: AppLocale, error: String? = nil, username: String = "") async throws -> Response {
        let (session, cookie) = try await portal.ensureSession(of: request)
        let t = portal.translator(locale)
        var model: [String: Any] = ["action": "/\(locale.rawValue)/verwaltung/anmelden", "username": username]
        if let error { model["errors"] = [["href": "#username", "message": error]]; model["hasErrors"] = true; model["errorMessage"] = error }
        return portal.page("staff-login", locale: locale, path: "/verwaltung/anmelden", title: t("staff.loginTitle"), model: model,
                           status: error == nil ? .ok : .unprocessableContent, csrf: session.csrfToken, headers: cookie, hasErrors: error != nil)
    }

    func login(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (_, session) = try await portal.session(of: request) else { throw HTTPError(.forbidden) }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let username = String((form.values["username"] ?? "").trimmingCharacters(in: .whitespaces).lowercased().prefix(254))
        let password = String((form.values["password"] ?? "").prefix(256))
        let keys = ["login-ip:\(context.remoteIP)", "login-user:\(username)"]
        guard keys.allSatisfy({ portal.throttle.allows($0) }) else {
            context.logger.notice("login throttled")
            return try await loginPage(request, locale: locale, error: t("staff.tooMany"), username: username)
        }
        let user = try await portal.staff.user(username: username)
        // Verify against a dummy hash when the user is unknown, so timing does not reveal which usernames exist.
        let hash = user?.passwordHash ?? "$2b$12$C6UzMDM.H6dfI/f/IKcEeO5P8HTB6XB9bxpvHFkpmg5cA4Dkm/2s."
        let valid = await Task.detached { Bcrypt.verify(password, hash: hash) }.value
        guard let user, valid, !password.isEmpty else {
            keys.forEach { portal.throttle.recordFailure($0) }
            context.logger.notice("login failed")
            return try await loginPage(request, locale: locale, error: t("staff.loginFailed"), username: username)
        }
        // Only the user's counter: the IP's failures stay, or one own login would reset guessing at others.
        portal.throttle.reset(keys[1])
        context.logger.info("password accepted, second factor next", metadata: ["user": "\(user.id)", "tenant": "\(user.tenantId)"])
        // Case workers always need the second factor; without one they set it up now.
        return try await SecondFactorFlow(portal: portal).begin(
            session: session, area: .staff, id: user.id, tenantId: user.tenantId, setupPath: "/verwaltung/anmelden/einrichten", locale: locale)
    }

    /// The pending case worker who has no second factor yet.
    private func pendingWithoutFactor(_ request: Request) async throws -> (SessionRecord, PendingLogin, StaffUser)? {
        guard let (session, login) = try await SecondFactorFlow(portal: portal).pending(request, area: .staff), let tenantId = login.tenantId,
              let user = try await portal.staff.user(id: login.id, tenantId: tenantId),
              try await !portal.secondFactors.isEnrolled(.staff(user.id)) else { return nil }
        return (session, login, user)
    }

    func setupPage(_ request: Request, locale: AppLocale, error: String? = nil) async throws -> Response {
        guard let (_, _, user) = try await pendingWithoutFactor(request) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        let t = portal.translator(locale)
        return try await SecondFactorFlow(portal: portal).setupPage(
            request, locale: locale, path: "/verwaltung/anmelden/einrichten", owner: .staff(user.id), accountName: user.username,
            intro: t("twoFactor.setupIntroStaff"), error: error)
    }

    func setup(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, login, user) = try await pendingWithoutFactor(request) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let codes = RecoveryCodes.generate()
        guard try await portal.secondFactors.confirm(.staff(user.id), code: form.values["code"] ?? "", recoveryCodes: codes) else {
            return try await setupPage(request, locale: locale, error: t("twoFactor.codeWrong"))
        }
        let flow = SecondFactorFlow(portal: portal)
        let token = try await flow.complete(session: session, login: login, area: .staff)
        context.logger.info("second factor set up, login completed", metadata: ["user": "\(user.id)"])
        return flow.recoveryCodesPage(locale: locale, path: "/verwaltung/anmelden/einrichten", codes: codes,
                                      nextHref: "/\(locale.rawValue)/verwaltung", nextLabel: t("twoFactor.toInbox"),
                                      headers: portal.cookieHeader(token: token))
    }

    func logout(_ request: Request, locale: AppLocale) async throws -> Response {
        guard let (_, session) = try await portal.session(of: request) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        _ = try await portal.verifiedForm(request, session: session)
        try await portal.sessions.delete(idHash: session.idHash)
        return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden", headers: portal.clearCookieHeader())
    }

    func caseView(_ request: Request, _ context: AppRequestContext, locale: AppLocale, error: String? = nil,
                  message: MessageFormState? = nil, note: (text: String, error: String)? = nil) async throws -> Response {
        guard let (session, user) = try await staffSession(request) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        guard let id = context.parameters.get("application"), let application = try await portal.applications.find(tenantId: user.tenantId, id: id),
              let assistant = portal.assistant(application.assistantId, version: application.assistantVersion)
        else { throw HTTPError(.notFound) }
        try await portal.applications.recordAccess(tenantId: user.tenantId, id: id, actor: Actor(kind: "staff", id: user.id))
        let t = portal.translator(locale)
        let attachments = try await portal.applications.attachments(tenantId: user.tenantId, id: id)
        let lines = AnswerPresenter(definition: assistant, translator: t).lines(application.answers, attachments: attachments)
        let events = try await portal.applications.history(tenantId: user.tenantId, id: id)
        let history = events.map { event -> [String: String] in
            var entry = ["date": t.dateTime(event.at), "action": t("audit.\(event.action)"), "actor": t("actor.\(event.actorKind)")]
            if let to = event.to { entry["status"] = t("statusName.\(to.rawValue)") }
            if let reason = event.reason {
                entry["reason"] = event.action == "appointment_confirmed" ? AnswerPresenter.dateTime(reason, translator: t) : reason
            }
            return entry
        }
        var model: [String: Any] = [
            "caseNumber": application.caseNumber, "serviceTitle": assistant.title.text(locale),
            "status": t("statusName.\(application.status.rawValue)"), "submittedAt": t.dateTime(application.submittedAt),
            "fee": t.euros(cents: application.feeCents), "rows": lines.map { ["label": $0.label, "value": $0.value] },
            "history": history, "canTransition": !application.status.isFinal,
            "targets": application.status.allowedNext.map { ["value": $0.rawValue, "label": t("statusName.\($0.rawValue)")] },
            "action": "/\(locale.rawValue)/verwaltung/vorgang/\(id)/status", "inboxHref": "/\(locale.rawValue)/verwaltung",
            "attachments": attachments.map { ["filename": $0.filename, "size": "\($0.size)"] },
            "user": user.displayName, "logoutAction": "/\(locale.rawValue)/verwaltung/abmelden",
            "deliveries": deliveryRows(try await portal.deliveries.deliveries(tenantId: user.tenantId, applicationId: id), locale: locale,
                                       translator: t, canResend: user.isAdmin),
        ]
        switch request.uri.queryParameters["ok"] {
        case "zustellung": model["success"] = t("delivery.resent")
        case "zuweisung": model["success"] = t("staff.assigned")
        case "notiz": model["success"] = t("staff.noteAdded")
        default: break
        }
        try await addCaseTools(to: &model, applicationId: id, user: user, locale: locale, note: note)
        if let request = assistant.appointment {
            let slots = request.slots(in: application.answers, definition: assistant)
            model["appointment"] = true
            model["appointmentAction"] = "/\(locale.rawValue)/verwaltung/vorgang/\(id)/termin"
            model["canConfirmAppointment"] = !application.status.isFinal && !slots.isEmpty
            model["slots"] = slots.enumerated().map { index, slot in
                ["value": String(index + 1), "inputId": "slot-\(index + 1)",
                 "label": t("staff.slot", ["number": String(index + 1), "slot": AnswerPresenter.dateTime(slot, translator: t)])]
            }
            if let confirmed = events.last(where: { $0.action == "appointment_confirmed" })?.reason {
                model["confirmedAppointment"] = AnswerPresenter.dateTime(confirmed, translator: t)
            }
        }
        let thread = try await portal.messages.thread(tenantId: user.tenantId, applicationId: id)
        model["thread"] = ThreadPresenter(translator: t, forCitizen: false) { _, file in
            "/\(locale.rawValue)/verwaltung/vorgang/\(id)/datei/\(file.id)"
        }.items(thread)
        model["hasThread"] = !thread.isEmpty
        model["messageAction"] = "/\(locale.rawValue)/verwaltung/vorgang/\(id)/nachricht"
        let form = message ?? MessageFormState()
        model["messageSubject"] = form.subject
        model["messageBody"] = form.body
        model["messageDue"] = form.due
        model["kindRequest"] = form.kind == .request
        if let problem = form.error {
            // Shown at its field: message-subject → errorSubject, message-body → errorBody, …
            let key = "error" + problem.field.dropFirst("message-".count).capitalized
            model[key] = problem.message
            model["errors"] = [["href": "#\(problem.field)", "message": problem.message]]; model["hasErrors"] = true
        }
        if let error {
            let anchor = error == t("staff.chooseAppointment") ? "#slot-1" : "#status"
            model["errors"] = [["href": anchor, "message": error]]; model["hasErrors"] = true; model["errorMessage"] = error
        }
        return portal.page("staff-case", locale: locale, path: "/verwaltung/vorgang/\(id)", title: "\(t("staff.caseTitle")) \(application.caseNumber)",
                           model: model, status: error == nil && message?.error == nil && note == nil ? .ok : .unprocessableContent,
                           csrf: session.csrfToken, tenant: portal.tenantsById[user.tenantId],
                           hasErrors: error != nil || message?.error != nil || note != nil)
    }

    func changeStatus(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, user) = try await staffSession(request) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        guard let id = context.parameters.get("application") else { throw HTTPError(.notFound) }
        let t = portal.translator(locale)
        guard let target = ApplicationStatus(rawValue: form.values["status"] ?? "") else {
            return try await caseView(request, context, locale: locale, error: t("staff.chooseStatus"))
        }
        do {
            _ = try await portal.applications.transition(
                tenantId: user.tenantId, id: id, to: target, reason: form.values["reason"], actor: Actor(kind: "staff", id: user.id))
        } catch let error as TransitionError {
            let message: String
            switch error {
            case .reasonRequired: message = t("staff.reasonRequired")
            case .reasonTooLong: message = t("staff.reasonTooLong")
            default: message = t("staff.transitionNotAllowed")
            }
            return try await caseView(request, context, locale: locale, error: message)
        } catch StorageError.notFound {
            throw HTTPError(.notFound)
        }
        return Portal.redirect("/\(locale.rawValue)/verwaltung/vorgang/\(id)")
    }

    /// Confirms the preferred appointment the case worker chose (by its number; the slot itself comes from the answers).
    func confirmAppointment(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, user) = try await staffSession(request) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        guard let id = context.parameters.get("application"), let application = try await portal.applications.find(tenantId: user.tenantId, id: id),
              let assistant = portal.assistant(application.assistantId, version: application.assistantVersion),
              let appointment = assistant.appointment
        else { throw HTTPError(.notFound) }
        let t = portal.translator(locale)
        let slots = appointment.slots(in: application.answers, definition: assistant)
        guard let number = Int(form.values["slot"] ?? ""), slots.indices.contains(number - 1) else {
            return try await caseView(request, context, locale: locale, error: t("staff.chooseAppointment"))
        }
        do {
            _ = try await portal.applications.confirmAppointment(tenantId: user.tenantId, id: id, slot: slots[number - 1],
                                                                 actor: Actor(kind: "staff", id: user.id))
        } catch is TransitionError {
            return try await caseView(request, context, locale: locale, error: t("staff.transitionNotAllowed"))
        }
        return Portal.redirect("/\(locale.rawValue)/verwaltung/vorgang/\(id)")
    }
}
