import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// The Dokumentensafe: upload, list, download and delete personal documents (checked like any upload).
struct DocumentSafeRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>, locale: AppLocale) {
        let prefix = "/\(locale.rawValue)/konto/dokumente"
        router.get(RouterPath(prefix)) { request, _ in
            let query = request.uri.queryParameters
            let notice = query["gespeichert"] == "1" ? "documents.saved" : query["geloescht"] == "1" ? "documents.deleted" : nil
            return try await page(request, locale: locale, notice: notice.map { portal.translator(locale)($0) })
        }
        router.post(RouterPath(prefix)) { request, context in try await upload(request, context, locale: locale) }
        router.get("\(prefix)/:document") { request, context in try await download(request, context) }
        router.post("\(prefix)/:document/loeschen") { request, context in try await delete(request, context, locale: locale) }
    }

    func page(_ request: Request, locale: AppLocale, error: String? = nil, notice: String? = nil) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let t = portal.translator(locale)
        let l = locale.rawValue
        let documents = try await portal.documentSafe.list(accountId: account.id)
        var model: [String: Any] = [
            "documents": documents.map { document in
                ["name": document.filename, "href": "/\(l)/konto/dokumente/\(document.id)", "size": ThreadPresenter.size(document.size, t),
                 "type": t("documents.type.\(document.contentType == "application/pdf" ? "pdf" : "image")"), "date": t.date(document.createdAt),
                 "deleteAction": "/\(l)/konto/dokumente/\(document.id)/loeschen", "id": document.id]
            },
            "hasDocuments": !documents.isEmpty, "uploadAction": "/\(l)/konto/dokumente",
            "limitText": t("documents.limit", ["count": String(documents.count), "limit": String(DocumentSafeRepository.limit)]),
            "backHref": "/\(l)/konto",
        ]
        if let notice { model["success"] = notice }
        if let error {
            model["uploadError"] = error
            model["errors"] = [["href": "#document-file", "message": error]]
            model["hasErrors"] = true
        }
        return portal.page("account-documents", locale: locale, path: "/konto/dokumente", title: t("documents.title"), model: model,
                           status: error == nil ? .ok : .unprocessableContent, csrf: session.csrfToken, hasErrors: error != nil)
    }

    func upload(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        switch await MessageUpload.check(form.files["file"], label: t("documents.file"), scanner: portal.scanner, translator: t, logger: context.logger) {
        case .success(nil):
            return try await page(request, locale: locale, error: t("documents.chooseFile"))
        case .failure(let problem):
            return try await page(request, locale: locale, error: problem.message)
        case .success(let checked?):
            do {
                try await portal.documentSafe.add(accountId: account.id, filename: String(checked.file.filename.prefix(200)),
                                                  contentType: checked.contentType, data: checked.file.data)
            } catch DocumentSafeError.full(let limit) {
                return try await page(request, locale: locale, error: t("documents.full", ["limit": String(limit)]))
            }
            return Portal.redirect("/\(locale.rawValue)/konto/dokumente?gespeichert=1")
        }
    }

    func download(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let (_, account) = try await portal.citizen(of: request), let id = context.parameters.get("document"),
              let (document, data) = try await portal.documentSafe.open(accountId: account.id, id: id)
        else { throw HTTPError(.notFound) }
        return Portal.download(AttachmentInfo(id: document.id, group: "", field: "", filename: document.filename, contentType: document.contentType,
                                              size: document.size, sha512: document.sha512), data)
    }

    func delete(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, account) = try await portal.citizen(of: request) else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden") }
        _ = try await portal.verifiedForm(request, session: session)
        guard let id = context.parameters.get("document"), try await portal.documentSafe.delete(accountId: account.id, id: id)
        else { throw HTTPError(.notFound) }
        return Portal.redirect("/\(locale.rawValue)/konto/dokumente?geloescht=1")
    }
}
