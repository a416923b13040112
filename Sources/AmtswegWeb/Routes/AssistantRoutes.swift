import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// The guided application: one page per topic, check answers, submit, confirmation and receipt.
struct AssistantRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>, locale: AppLocale) {
        let prefix = "/\(locale.rawValue)/antrag/:draft"
        router.get("\(prefix)/pruefen") { request, context in try await checkPage(request, context, locale: locale) }
        router.post("\(prefix)/absenden") { request, context in try await submit(request, context, locale: locale) }
        router.get("\(prefix)/:page") { request, context in try await showPage(request, context, locale: locale) }
        router.post("\(prefix)/:page") { request, context in try await savePage(request, context, locale: locale) }
        router.get("/\(locale.rawValue)/fortsetzen/:token") { request, context in try await resume(request, context, locale: locale) }
        router.get("/\(locale.rawValue)/vorgang/:application/bestaetigung") { request, context in
            try await confirmation(request, context, locale: locale)
        }
        router.get("/\(locale.rawValue)/vorgang/:application/bestaetigung.pdf") { request, context in
            try await receipt(request, context, locale: locale)
        }
    }

    /// The draft named in the URL, its assistant and the session owning it; 404 for anyone else.
    private func load(_ request: Request, _ context: AppRequestContext) async throws -> (DraftRecord, AssistantDefinition, SessionRecord) {
        guard let draftId = context.parameters.get("draft"), let (_, session) = try await portal.session(of: request),
              let draft = try await portal.drafts.find(id: draftId, sessionHash: session.idHash),
              let assistant = portal.assistants[draft.assistantId]
        else { throw HTTPError(.notFound) }
        if draft.assistantVersion != assistant.version {
            // A newer version was published since the citizen started: carry answers over by field id and
            // send the citizen to the first page that needs a new look, with a notice.
            let old = portal.assistantVersions[draft.assistantId]?[draft.assistantVersion] ?? assistant
            let result = VersionMigration.migrate(draft.answers, from: old, to: assistant)
            try await portal.drafts.migrate(draft: draft, toVersion: assistant.version, answers: result.answers)
            let locale = ErrorMiddleware.locale(of: request)
            let target = result.pagesToReview.first ?? AssistantFlow(definition: assistant).firstUnansweredPage(result.answers)?.id
            throw RedirectSignal(location: target.map { "/\(locale.rawValue)/antrag/\(draft.id)/\($0)?geaendert=1" }
                ?? "/\(locale.rawValue)/antrag/\(draft.id)/pruefen")
        }
        return (draft, assistant, session)
    }

    func showPage(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        let (draft, assistant, session) = try await load(request, context)
        guard let pageId = context.parameters.get("page"), let page = assistant.page(pageId) else { throw HTTPError(.notFound) }
        let flow = AssistantFlow(definition: assistant)
        guard flow.isVisible(page.id, answers: draft.answers) else {
            return Portal.redirect(nextLocation(draft: draft, flow: flow, locale: locale))
        }
        let attachments = page.hasFileField ? try await portal.drafts.attachments(draftId: draft.id, tenantId: draft.tenantId) : []
        var values = draft.answers.pages[page.id] ?? [:]
        var prefillNotice: String?
        // Once-only: a page not answered yet shows the signed-in citizen's stored details (only the fields about
        // the applicant); nothing is saved until the citizen continues, and everything can be changed.
        if values.isEmpty, let accountId = session.accountId, let profile = try await portal.profiles.profile(accountId: accountId) {
            let prefilled = portal.prefill.values(assistant: assistant.id, page: page.id, profile: profile)
            if !prefilled.isEmpty {
                values = prefilled
                let t = portal.translator(locale)
                let labels = page.fields.filter { prefilled[$0.id] != nil }.map { $0.label.text(locale) }
                prefillNotice = t("profile.notice", ["fields": labels.joined(separator: ", ")])
            }
        }
        return render(page: page, draft: draft, assistant: assistant, session: session, locale: locale,
                      values: values, rawInput: nil, errors: [], attachments: attachments,
                      returnToCheck: request.uri.queryParameters["return"] == "check",
                      changedNotice: request.uri.queryParameters["geaendert"] == "1", safe: try await safeDocuments(session, page: page),
                      prefillNotice: prefillNotice)
    }

    func savePage(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        let (draft, assistant, session) = try await load(request, context)
        guard let pageId = context.parameters.get("page"), let page = assistant.page(pageId) else { throw HTTPError(.notFound) }
        let form = try await addingSafeChoices(try await portal.verifiedForm(request, session: session), session: session)
        let flow = AssistantFlow(definition: assistant)
        guard flow.isVisible(page.id, answers: draft.answers) else {
            return Portal.redirect(nextLocation(draft: draft, flow: flow, locale: locale))
        }
        let returnToCheck = form.values["_return"] == "check"
        let existing = draft.answers.pages[page.id] ?? [:]
        if let rule = page.repeat, let action = form.values["_action"], action == "add" || action.hasPrefix("remove-") {
            // "Add another" and "remove" redraw the page with what was typed; nothing is saved until "continue".
            var input = form.values
            if action == "add" {
                input[RepeatedEntries.inputCountKey] = String(min(RepeatedEntries.count(input: input, rule: rule) + 1, rule.max))
            } else if let entry = Int(action.dropFirst("remove-".count)) {
                input = RepeatedEntries.removing(entry: entry, from: input, page: page)
            }
            let attachments = page.hasFileField ? try await portal.drafts.attachments(draftId: draft.id, tenantId: draft.tenantId) : []
            return render(page: page, draft: draft, assistant: assistant, session: session, locale: locale, values: existing,
                          rawInput: input, errors: [], attachments: attachments, returnToCheck: returnToCheck,
                          safe: try await safeDocuments(session, page: page))
        }
        var validation = PageValidator().validate(page: page, input: form.values, uploads: form.files, existing: existing,
                                                  definition: assistant, answers: draft.answers)
        if validation.isValid, let scanner = portal.scanner, !validation.files.isEmpty {
            validation = await scanUploads(validation, scanner: scanner, context: context)
        }
        guard validation.isValid else {
            let attachments = page.hasFileField ? try await portal.drafts.attachments(draftId: draft.id, tenantId: draft.tenantId) : []
            return render(page: page, draft: draft, assistant: assistant, session: session, locale: locale, values: existing,
                          rawInput: validation.rawInput, errors: validation.errors, attachments: attachments,
                          returnToCheck: returnToCheck, status: .unprocessableContent, safe: try await safeDocuments(session, page: page))
        }
        var answers = draft.answers
        answers.set(page: page.id, values: validation.values)
        // Answers to pages and questions that the new answer hides are dropped, so they are never submitted.
        answers = flow.pruned(answers)
        try await portal.drafts.savePage(draft: draft, pageId: page.id, values: validation.values, files: validation.files, answers: answers)
        if form.values["_action"] == "save" {
            return try await savedForLater(request, draft: draft, page: page, locale: locale)
        }
        let next: String
        if returnToCheck, flow.isComplete(answers) {
            next = "/\(locale.rawValue)/antrag/\(draft.id)/pruefen"
        } else if let following = flow.page(after: page.id, answers: answers) {
            next = "/\(locale.rawValue)/antrag/\(draft.id)/\(following.id)\(returnToCheck ? "?return=check" : "")"
        } else {
            next = "/\(locale.rawValue)/antrag/\(draft.id)/pruefen"
        }
        return Portal.redirect(next)
    }

    /// The validation with an error for every upload clamd finds malware in, or cannot check (nothing unscanned is stored).
    private func scanUploads(_ validation: PageValidation, scanner: ClamdScanner, context: AppRequestContext) async -> PageValidation {
        var errors: [FieldError] = []
        for (key, (upload, _)) in validation.files.sorted(by: { $0.key < $1.key }) {
            switch await scanner.refusal(for: upload.data, logger: context.logger, about: ["field": "\(key)"]) {
            case .infected: errors.append(FieldError(field: key, problem: .fileInfected))
            case .unscannable: errors.append(FieldError(field: key, problem: .fileScanFailed))
            case nil: break
            }
        }
        guard !errors.isEmpty else { return validation }
        return PageValidation(values: validation.values, files: validation.files, errors: errors, rawInput: validation.rawInput)
    }

    /// Issues the resume link and shows it once.
    private func savedForLater(_ request: Request, draft: DraftRecord, page: PageDefinition, locale: AppLocale) async throws -> Response {
        let t = portal.translator(locale)
        let days = portal.tenantsById[draft.tenantId]?.draftRetentionDays ?? 30
        let expires = Date().addingTimeInterval(Double(days) * 86_400)
        let token = try await portal.drafts.issueResumeToken(draft: draft, expiresAt: Clock.millis(expires))
        let host = request.head.authority ?? "127.0.0.1"
        let link = "\(portal.secureCookies ? "https" : "http")://\(host)/\(locale.rawValue)/fortsetzen/\(token)"
        return portal.page(
            "saved", locale: locale, path: "/antrag/\(draft.id)/\(page.id)", title: t("saved.title"),
            model: ["resumeLink": link, "savedText": t("saved.text", ["date": t.date(expires)]),
                    "continueHref": "/\(locale.rawValue)/antrag/\(draft.id)/\(page.id)"],
            tenant: portal.tenantsById[draft.tenantId])
    }

    /// File questions offer the signed-in citizen's Dokumentensafe documents of an accepted type.
    /// A choice made before a refused post (`chosen`, the typed input) stays selected.
    static func offeringSafe(_ fields: [[String: Any]], safe: [SafeDocument], translator t: Translator, chosen: [String: String] = [:]) -> [[String: Any]] {
        guard !safe.isEmpty else { return fields }
        return fields.map { item in
            guard item["kind_file"] as? Bool == true, let accept = item["accept"] as? String, let key = item["id"] as? String else { return item }
            let accepted = Set(accept.split(separator: ",").map(String.init))
            let options = safe.filter { accepted.contains($0.contentType) }.map { document -> [String: Any] in
                ["value": document.id, "label": "\(document.filename) (\(ThreadPresenter.size(document.size, t)), \(t.date(document.createdAt)))",
                 "selected": chosen["\(key)__safe"] == document.id]
            }
            guard !options.isEmpty else { return item }
            var changed = item
            changed["hasSafe"] = true
            changed["safeDocuments"] = options
            return changed
        }
    }

    /// The signed-in citizen's Dokumentensafe, when the page asks for files.
    private func safeDocuments(_ session: SessionRecord, page: PageDefinition) async throws -> [SafeDocument] {
        guard page.hasFileField, let accountId = session.accountId else { return [] }
        return try await portal.documentSafe.list(accountId: accountId)
    }

    /// A document chosen from the Dokumentensafe counts as the upload of its file question (and is checked like one).
    private func addingSafeChoices(_ form: FormData, session: SessionRecord) async throws -> FormData {
        guard let accountId = session.accountId else { return form }
        var result = form
        for (key, value) in form.values where key.hasSuffix("__safe") && !value.isEmpty {
            let field = String(key.dropLast("__safe".count))
            if let upload = form.files[field], !upload.data.isEmpty { continue }
            guard let (document, data) = try await portal.documentSafe.open(accountId: accountId, id: value) else { continue }
            result.files[field] = UploadedFile(filename: document.filename, data: data)
        }
        return result
    }

    /// Opens a saved draft from its resume link in this browser.
    func resume(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        let t = portal.translator(locale)
        guard let token = context.parameters.get("token"), token.count == 43 else {
            return portal.page("error", locale: locale, path: "/", title: t("resume.invalidTitle"),
                               model: ["message": t("resume.invalidMessage")], status: .notFound)
        }
        let (session, cookie) = try await portal.ensureSession(of: request)
        guard let draft = try await portal.drafts.resume(token: token, sessionHash: session.idHash),
              let assistant = portal.assistants[draft.assistantId] else {
            return portal.page("error", locale: locale, path: "/", title: t("resume.invalidTitle"),
                               model: ["message": t("resume.invalidMessage")], status: .notFound, headers: cookie)
        }
        return Portal.redirect(nextLocation(draft: draft, flow: AssistantFlow(definition: assistant), locale: locale), headers: cookie)
    }

    private func nextLocation(draft: DraftRecord, flow: AssistantFlow, locale: AppLocale) -> String {
        if let missing = flow.firstUnansweredPage(draft.answers) { return "/\(locale.rawValue)/antrag/\(draft.id)/\(missing.id)" }
        return "/\(locale.rawValue)/antrag/\(draft.id)/pruefen"
    }

    private func render(
        page: PageDefinition, draft: DraftRecord, assistant: AssistantDefinition, session: SessionRecord, locale: AppLocale,
        values: [String: String], rawInput: [String: String]?, errors: [FieldError], attachments: [AttachmentInfo],
        returnToCheck: Bool, status: HTTPResponse.Status = .ok, changedNotice: Bool = false, safe: [SafeDocument] = [],
        prefillNotice: String? = nil
    ) -> Response {
        let t = portal.translator(locale)
        let flow = AssistantFlow(definition: assistant)
        let viewModel = QuestionViewModel(page: page, translator: t, flow: flow, answers: draft.answers)
        let visible = flow.visiblePages(for: draft.answers)
        let position = (visible.firstIndex { $0.id == page.id } ?? 0) + 1
        let back: String
        if returnToCheck {
            back = "/\(locale.rawValue)/antrag/\(draft.id)/pruefen"
        } else if let previous = flow.page(before: page.id, answers: draft.answers) {
            back = "/\(locale.rawValue)/antrag/\(draft.id)/\(previous.id)"
        } else {
            back = "/\(locale.rawValue)/leistungen/\(draft.leikaKey)"
        }
        let errorList = errors.map { ["href": "#\($0.anchor)", "message": viewModel.message(for: $0)] }
        return portal.page(
            "question", locale: locale, path: "/antrag/\(draft.id)/\(page.id)\(returnToCheck ? "?return=check" : "")",
            title: page.title.text(locale),
            model: [
                "serviceTitle": assistant.title.text(locale), "intro": page.intro?.text(locale) ?? "",
                "fields": Self.offeringSafe(viewModel.fields(values: values, rawInput: rawInput, errors: errors, attachments: attachments),
                                            safe: safe, translator: t, chosen: rawInput ?? [:]),
                "errors": errorList, "hasErrors": !errors.isEmpty, "multipart": page.hasFileField,
                "action": "/\(locale.rawValue)/antrag/\(draft.id)/\(page.id)", "backHref": back,
                "returnToCheck": returnToCheck, "singleRadio": viewModel.isSingleQuestion && page.fields[0].kind == .radio,
                "repeat": page.repeat != nil, "entryCount": String(viewModel.entryCount(values: values, rawInput: rawInput)),
                "canAdd": page.repeat.map { viewModel.entryCount(values: values, rawInput: rawInput) < $0.max } ?? false,
                "addLabel": page.repeat.map { t("question.addEntry", ["item": $0.itemLabel.text(locale)]) } ?? "",
                "progress": t("question.progress", ["current": String(position), "total": String(visible.count)]),
                "changedNotice": changedNotice, "prefillNotice": prefillNotice.map { [$0] } ?? [],
            ],
            status: status, csrf: session.csrfToken, tenant: portal.tenantsById[draft.tenantId], hasErrors: !errors.isEmpty)
    }

    func checkPage(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        let (draft, assistant, session) = try await load(request, context)
        let flow = AssistantFlow(definition: assistant)
        if let missing = flow.firstUnansweredPage(draft.answers) {
            return Portal.redirect("/\(locale.rawValue)/antrag/\(draft.id)/\(missing.id)")
        }
        let t = portal.translator(locale)
        let attachments = try await portal.drafts.attachments(draftId: draft.id, tenantId: draft.tenantId)
        let lines = AnswerPresenter(definition: assistant, translator: t).lines(draft.answers, attachments: attachments)
        let rows = lines.map { line -> [String: Any] in
            ["label": line.label, "value": line.value, "href": "/\(locale.rawValue)/antrag/\(draft.id)/\(line.pageId)?return=check"]
        }
        guard let offering = portal.offerings[draft.leikaKey]?.first(where: { $0.tenantId == draft.tenantId }) else { throw HTTPError(.notFound) }
        let fee = flow.fee(for: draft.answers, schedule: offering.fee)
        let last = flow.visiblePages(for: draft.answers).last!
        let computed = flow.computedValues(for: draft.answers, schedule: offering.fee)
        let computedRows = (assistant.computed ?? []).filter { $0.id != assistant.fee?.computed }.compactMap { value -> [String: Any]? in
            guard let number = computed[value.id] else { return nil }
            return ["label": value.label.text(locale), "value": value.unit == "cents" ? t.euros(cents: number) : String(number)]
        }
        return portal.page(
            "check", locale: locale, path: "/antrag/\(draft.id)/pruefen", title: t("check.title"),
            model: [
                "serviceTitle": assistant.title.text(locale), "rows": rows, "fee": t.euros(cents: fee), "computedRows": computedRows, "hasComputed": !computedRows.isEmpty,
                "submitAction": "/\(locale.rawValue)/antrag/\(draft.id)/absenden",
                "backHref": "/\(locale.rawValue)/antrag/\(draft.id)/\(last.id)",
                "authority": portal.tenantsById[draft.tenantId]?.name ?? "",
            ],
            csrf: session.csrfToken, tenant: portal.tenantsById[draft.tenantId])
    }

    func submit(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        let (draft, assistant, session) = try await load(request, context)
        _ = try await portal.verifiedForm(request, session: session)
        let flow = AssistantFlow(definition: assistant)
        if let missing = flow.firstUnansweredPage(draft.answers) {
            return Portal.redirect("/\(locale.rawValue)/antrag/\(draft.id)/\(missing.id)")
        }
        guard let offering = portal.offerings[draft.leikaKey]?.first(where: { $0.tenantId == draft.tenantId }) else { throw HTTPError(.notFound) }
        // Checked again here: the session may have lost its level (identity unlinked) since the draft was started.
        if let redirect = portal.trustRedirect(for: offering, session: session, locale: locale, returnTo: "/\(locale.rawValue)/antrag/\(draft.id)/pruefen") {
            return redirect
        }
        let answers = flow.pruned(draft.answers)
        let fee = flow.fee(for: answers, schedule: offering.fee)
        let previous = session.data
        let receipt = try await portal.applications.submit(draftId: draft.id, sessionHash: session.idHash, answers: answers, feeCents: fee) { receipt in
            // The access code is shown once on the confirmation page; the session keeps it until then.
            var data = previous
            data.receipts[receipt.applicationId] = receipt.accessCode
            if data.receipts.count > 20 { data.receipts.removeValue(forKey: data.receipts.keys.sorted().first!) }
            return data
        }
        context.logger.info("application submitted", metadata: ["application": "\(receipt.applicationId)", "service": "\(draft.leikaKey)"])
        portal.deliveryWorker.nudge()
        return Portal.redirect("/\(locale.rawValue)/vorgang/\(receipt.applicationId)/bestaetigung")
    }

    func confirmation(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let id = context.parameters.get("application"), let (_, session) = try await portal.session(of: request),
              let accessCode = session.data.receipts[id], let application = try await portal.applications.findForCitizen(id: id),
              let assistant = portal.assistant(application.assistantId, version: application.assistantVersion)
        else { throw HTTPError(.notFound) }
        let t = portal.translator(locale)
        let tenant = portal.tenantsById[application.tenantId]
        let office = portal.office(leikaKey: application.leikaKey, tenantId: application.tenantId)
        return portal.page(
            "confirmation", locale: locale, path: "/vorgang/\(id)/bestaetigung", title: t("confirmation.title"),
            model: [
                "serviceTitle": assistant.title.text(locale), "caseNumber": application.caseNumber, "accessCode": accessCode,
                "fee": t.euros(cents: application.feeCents), "receiptHref": "/\(locale.rawValue)/vorgang/\(id)/bestaetigung.pdf",
                "authority": tenant?.name ?? "", "office": office, "statusHref": "/\(locale.rawValue)/status",
                "nextText": t("confirmation.nextText", ["office": office]),
            ],
            tenant: tenant)
    }

    func receipt(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let id = context.parameters.get("application"), let (_, session) = try await portal.session(of: request),
              let application = try await portal.applications.findForCitizen(id: id),
              session.data.receipts[id] != nil || session.data.statusGrants.contains(id)
                || (session.accountId != nil && application.accountId == session.accountId),
              let assistant = portal.assistant(application.assistantId, version: application.assistantVersion), let tenant = portal.tenantsById[application.tenantId]
        else { throw HTTPError(.notFound) }
        let attachments = try await portal.applications.attachments(tenantId: tenant.id, id: id)
        let pdf = ReceiptDocument(application: application, assistant: assistant, tenant: tenant,
                                  office: portal.office(leikaKey: application.leikaKey, tenantId: tenant.id), attachments: attachments,
                                  translator: portal.translator(locale)).pdf()
        return Response(
            status: .ok,
            headers: [.contentType: "application/pdf",
                      .contentDisposition: "attachment; filename=\"Antragsbestaetigung-\(application.caseNumber).pdf\""],
            body: .init(byteBuffer: ByteBuffer(data: pdf)))
    }
}
