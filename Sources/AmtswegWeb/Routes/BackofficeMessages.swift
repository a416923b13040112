import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// What the case worker typed into the message form, and what is wrong with it.
struct MessageFormState {
    var kind: MessageKind = .message
    var subject = ""
    var body = ""
    var due = ""
    /// The field (`message-subject`, `message-body`, `message-due`, `message-file`) and the localized problem.
    var error: (field: String, message: String)?
}

/// The case worker writes into the citizen's Postfach: a message or a Nachforderung (with a due date), optionally with
/// a file (e.g. the Bescheid); and downloads files of the thread.
extension BackofficeRoutes {
    /// Longest subject and text accepted.
    static let maxSubject = 200, maxBody = 10_000

    func sendMessage(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, user) = try await staffSession(request) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        guard let id = context.parameters.get("application"), try await portal.applications.find(tenantId: user.tenantId, id: id) != nil
        else { throw HTTPError(.notFound) }
        let t = portal.translator(locale)
        var state = MessageFormState(
            kind: form.values["kind"] == MessageKind.request.rawValue ? .request : .message,
            subject: (form.values["subject"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
            body: (form.values["body"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
            due: (form.values["due"] ?? "").trimmingCharacters(in: .whitespaces))
        if state.subject.isEmpty || state.subject.count > Self.maxSubject {
            state.error = ("message-subject", t(state.subject.isEmpty ? "messages.subjectMissing" : "messages.subjectTooLong", ["max": String(Self.maxSubject)]))
        } else if state.body.isEmpty || state.body.count > Self.maxBody {
            state.error = ("message-body", t(state.body.isEmpty ? "messages.bodyMissing" : "messages.bodyTooLong", ["max": String(Self.maxBody)]))
        } else if state.kind == .request, !state.due.isEmpty, ThreadPresenter.day(state.due) == nil {
            state.error = ("message-due", t("messages.dueInvalid"))
        } else if state.kind == .request, let due = ThreadPresenter.day(state.due), due < Date() {
            state.error = ("message-due", t("messages.duePast"))
        }
        if state.error != nil { return try await caseView(request, context, locale: locale, message: state) }
        let file: MessageFile?
        switch await MessageUpload.check(form.files["file"], label: t("messages.file"), scanner: portal.scanner, translator: t, logger: context.logger) {
        case .success(let checked): file = checked
        case .failure(let problem):
            state.error = ("message-file", problem.message)
            return try await caseView(request, context, locale: locale, message: state)
        }
        _ = try await portal.messages.send(
            tenantId: user.tenantId, applicationId: id, kind: state.kind, subject: state.subject, body: state.body,
            dueDate: state.due.isEmpty ? nil : state.due, files: file.map { [$0] } ?? [], author: Actor(kind: "staff", id: user.id))
        portal.nudgeMail()
        context.logger.info("message sent to the citizen", metadata: ["application": "\(id)", "kind": "\(state.kind.rawValue)"])
        return Portal.redirect("/\(locale.rawValue)/verwaltung/vorgang/\(id)#thread")
    }

    func messageFile(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (_, user) = try await staffSession(request) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        guard let id = context.parameters.get("application"), let fileId = context.parameters.get("file"),
              let (info, data) = try await portal.messages.file(tenantId: user.tenantId, applicationId: id, attachmentId: fileId)
        else { throw HTTPError(.notFound) }
        try await portal.applications.recordAccess(tenantId: user.tenantId, id: id, actor: Actor(kind: "staff", id: user.id))
        return Portal.download(info, data)
    }
}

extension Portal {
    /// A file download: its sniffed type, as an attachment with an ASCII-safe name.
    static func download(_ info: AttachmentInfo, _ data: Data) -> Response {
        let safeName = String(info.filename.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0.value >= 32 ? Character($0) : "_" }.prefix(100))
        return Response(status: .ok,
                        headers: [.contentType: info.contentType, .contentDisposition: "attachment; filename=\"\(safeName)\""],
                        body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}
