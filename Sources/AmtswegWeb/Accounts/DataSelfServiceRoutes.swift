import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// Data self-service (DSGVO): everything about me as a ZIP (Art. 15 and 20) and who at the authorities accessed
/// my applications, by role and time (from the audit log).
struct DataSelfServiceRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>, locale: AppLocale) {
        let prefix = "/\(locale.rawValue)/konto"
        router.get("\(prefix)/daten") { request, _ in try await page(request, locale: locale) }
        router.get("\(prefix)/daten/export.zip") { request, context in try await export(request, context, locale: locale) }
        router.get("\(prefix)/zugriffe") { request, _ in try await accessLog(request, locale: locale) }
    }

    func page(_ request: Request, locale: AppLocale) async throws -> Response {
        guard try await portal.citizen(of: request) != nil else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let t = portal.translator(locale)
        let l = locale.rawValue
        return try await portal.accountNotice(
            request, locale: locale, path: "/konto/daten", title: t("dataSelfService.title"),
            paragraphs: [t("dataSelfService.exportText"), t("dataSelfService.exportContents"), t("dataSelfService.accessText")],
            links: [AccountLink(href: "/\(l)/konto/daten/export.zip", label: t("dataSelfService.exportLink"), id: "export-link"),
                    AccountLink(href: "/\(l)/konto/zugriffe", label: t("dataSelfService.accessLink"), id: "access-link"),
                    AccountLink(href: "/\(l)/konto/loeschen", label: t("account.deleteTitle"), id: "delete-link"),
                    AccountLink(href: "/\(l)/konto/einstellungen", label: t("account.backToSettings"), id: "back-link")])
    }

    func accessLog(_ request: Request, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let t = portal.translator(locale)
        let entries = try await portal.applications.accessLog(accountId: account.id)
        let rows = entries.map { entry -> [String: String] in
            ["date": t.dateTime(entry.at), "caseNumber": entry.caseNumber, "who": Self.who(entry, portal: portal, t: t),
             "what": t("audit.\(entry.action)"), "href": "/\(locale.rawValue)/konto/antraege/\(entry.applicationId)"]
        }
        return portal.page("account-access", locale: locale, path: "/konto/zugriffe", title: t("dataSelfService.accessTitle"),
                           model: ["rows": rows, "hasRows": !rows.isEmpty, "backHref": "/\(locale.rawValue)/konto/daten"], csrf: session.csrfToken)
    }

    /// "Sachbearbeitung, Stadt Musterstadt" or "Fachverfahren, Stadt Musterstadt": a role, never a person's name.
    static func who(_ entry: AccessEntry, portal: Portal, t: Translator) -> String {
        let role = entry.actorKind == "api" ? t("actor.api") : t("dataSelfService.role.\(entry.role ?? "case_worker")")
        return "\(role), \(portal.tenantsById[entry.tenantId]?.name ?? "")"
    }

    func export(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (_, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let t = portal.translator(locale)
        var zip = ZipWriter()
        var applications: [[String: Any]] = []
        for application in try await portal.applications.list(accountId: account.id, limit: 500) {
            let folder = "antraege/\(application.caseNumber)"
            let assistant = portal.assistant(application.assistantId, version: application.assistantVersion)
            var files: [String] = []
            for info in try await portal.applications.attachments(tenantId: application.tenantId, id: application.id) {
                guard let (_, data) = try await portal.applications.attachment(tenantId: application.tenantId, applicationId: application.id,
                                                                              attachmentId: info.id) else { continue }
                files.append(zip.add("\(folder)/unterlagen/\(Self.safeName(info.filename))", data))
            }
            var messages: [[String: Any]] = []
            for message in try await portal.messages.thread(tenantId: application.tenantId, applicationId: application.id) {
                var paths: [String] = []
                for info in message.attachments {
                    guard let (_, data) = try await portal.messages.file(tenantId: application.tenantId, applicationId: application.id,
                                                                         attachmentId: info.id) else { continue }
                    paths.append(zip.add("\(folder)/nachrichten/\(Self.safeName(info.filename))", data))
                }
                messages.append(Self.compact([
                    "kind": message.kind.rawValue, "from": message.kind == .reply ? "citizen" : "authority", "subject": message.subject,
                    "text": message.body, "createdAt": Self.iso(message.createdAt), "dueDate": message.dueDate,
                    "answeredAt": message.answeredAt.map(Self.iso), "files": paths,
                ]))
            }
            let fields = assistant.map { StructuredData.fields(of: application.answers, definition: $0) } ?? []
            let steps = try await portal.applications.statusSteps(of: application).map { step in
                Self.compact(["action": step.action, "status": step.to?.rawValue, "detail": step.detail, "at": Self.iso(step.at)])
            }
            applications.append(Self.compact([
                "caseNumber": application.caseNumber, "service": assistant?.title.text(locale) ?? application.leikaKey,
                "leikaKey": application.leikaKey, "authority": portal.tenantsById[application.tenantId]?.name ?? "",
                "status": application.status.rawValue, "submittedAt": Self.iso(application.submittedAt), "feeCents": application.feeCents,
                "answers": try Self.jsonObject(StructuredData.nested(fields)), "files": files, "history": steps, "messages": messages,
            ]))
        }
        var safe: [[String: Any]] = []
        for document in try await portal.documentSafe.list(accountId: account.id) {
            guard let (_, data) = try await portal.documentSafe.open(accountId: account.id, id: document.id) else { continue }
            let path = zip.add("dokumentensafe/\(Self.safeName(document.filename))", data)
            safe.append(["file": path, "storedAt": Self.iso(document.createdAt), "sha512": document.sha512])
        }
        let profile = try await portal.profiles.profile(accountId: account.id)
        let accesses = try await portal.applications.accessLog(accountId: account.id, limit: 5000).map { entry in
            ["at": Self.iso(entry.at), "caseNumber": entry.caseNumber, "who": Self.who(entry, portal: portal, t: t), "action": entry.action]
        }
        let document: [String: Any] = [
            "exportedAt": Self.iso(Date()),
            "account": Self.compact([
                "email": account.email, "createdAt": Self.iso(account.createdAt), "emailVerifiedAt": account.emailVerifiedAt.map(Self.iso),
                "language": account.locale, "twoFactorEnabled": try await portal.secondFactors.isEnrolled(.citizen(account.id)),
            ]),
            "applications": applications, "accessLog": accesses, "documentSafe": safe,
            "profile": profile.map { ["values": $0.values, "consentAt": Self.iso($0.consentAt)] as [String: Any] } ?? NSNull(),
            "notIncluded": t("dataSelfService.notIncluded"),
        ]
        zip.add("daten.json", try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys]))
        zip.add("LIESMICH.txt", Data(t("dataSelfService.readme").utf8))
        context.logger.info("data export", metadata: ["account": "\(account.id)", "applications": "\(applications.count)"])
        return Response(status: .ok,
                        headers: [.contentType: "application/zip", .contentDisposition: "attachment; filename=\"amtsweg-meine-daten.zip\""],
                        body: .init(byteBuffer: ByteBuffer(data: zip.archive())))
    }

    /// A file name safe inside the archive: no folders, no control characters, at most 100 characters.
    static func safeName(_ name: String) -> String {
        let cleaned = String(name.unicodeScalars.map { $0 == "/" || $0 == "\\" || $0.value < 32 ? "_" : Character($0) }.prefix(100))
        return cleaned.isEmpty || cleaned.hasPrefix(".") ? "datei\(cleaned)" : cleaned
    }

    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }

    /// The dictionary without nil values.
    static func compact(_ values: [String: Any?]) -> [String: Any] { values.compactMapValues { $0 } }

    /// An Encodable value as JSONSerialization objects.
    static func jsonObject(_ value: some Encodable) throws -> Any {
        try JSONSerialization.jsonObject(with: try JSONEncoder().encode(value))
    }
}
