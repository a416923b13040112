import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// One input of an account form; passwords are never written back into the page.
struct AccountField {
    let id: String
    let label: String
    var type = "text"
    var autocomplete = "off"
    var value = ""
    var hint: String?
    var error: String?
    /// Keyboard hint for phones, e.g. "numeric".
    var inputmode: String?

    /// The template's view of the field.
    var model: [String: Any] {
        var described: [String] = []
        if hint != nil { described.append("\(id)-hint") }
        if error != nil { described.append("\(id)-error") }
        var model: [String: Any] = ["id": id, "label": label, "type": type, "autocomplete": autocomplete,
                                    "value": type == "password" ? "" : value, "wide": type != "password"]
        if let hint { model["hint"] = hint }
        if let error { model["error"] = error }
        if let inputmode { model["inputmode"] = inputmode }
        if !described.isEmpty { model["describedBy"] = described.joined(separator: " ") }
        return model
    }
}

/// A link under an account page.
struct AccountLink {
    let href: String
    let label: String
    let id: String
}

/// Rendering of the Servicekonto's form and notice pages, and reading the signed-in citizen.
extension Portal {
    /// The signed-in citizen's session and account, or nil.
    func citizen(of request: Request) async throws -> (session: SessionRecord, account: CitizenAccount)? {
        guard let (_, session) = try await session(of: request), let accountId = session.accountId,
              let account = try await accounts.account(id: accountId) else { return nil }
        return (session, account)
    }

    /// Lowercased, trimmed e-mail address if it is plausible and not longer than 254 characters.
    static func normalisedEmail(_ raw: String?) -> String? {
        let text = (raw ?? "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard !text.isEmpty, text.count <= 254, PageValidator.isPlausibleEmail(text) else { return nil }
        return text
    }

    /// Checks the current password a signed-in citizen typed to confirm a sensitive change (throttled per account):
    /// nil when it is right, else the message key (`account.tooMany`, `account.currentPasswordWrong`).
    func currentPasswordProblem(_ account: CitizenAccount, typed: String?) async -> String? {
        let key = "reauth:\(account.id)"
        guard throttle.allows(key) else { return "account.tooMany" }
        guard await passwords.verify(String((typed ?? "").prefix(PasswordPolicy.maximumLength)), against: account.passwordHash) else {
            throttle.recordFailure(key)
            return "account.currentPasswordWrong"
        }
        return nil
    }

    /// Wakes the mail worker after something was queued.
    func nudgeMail() { mailWorker?.nudge() }

    /// A page with one form; with any field error it answers 422 with an error summary.
    func accountForm(
        _ request: Request, locale: AppLocale, path: String, title: String, intro: [String] = [], fields: [AccountField],
        submitLabel: String, submitId: String, hidden: [String: String] = [:], links: [AccountLink] = [], keepList: [String] = [],
        danger: Bool = false, formError: String? = nil,
        extraForm: (action: String, heading: String, text: String, label: String, id: String)? = nil, actionPath: String? = nil
    ) async throws -> Response {
        let (session, cookie) = try await ensureSession(of: request)
        var errors = fields.compactMap { field in field.error.map { ["href": "#\(field.id)", "message": $0] } }
        if let formError { errors.insert(["href": "#\(fields.first?.id ?? "main")", "message": formError], at: 0) }
        var model: [String: Any] = [
            "intro": intro, "fields": fields.map(\.model), "action": "/\(locale.rawValue)\(actionPath ?? path)", "submitLabel": submitLabel,
            "submitId": submitId, "hidden": hidden.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] },
            "links": links.map { ["href": $0.href, "label": $0.label, "id": $0.id] }, "keepList": keepList, "hasKeepList": !keepList.isEmpty, "danger": danger,
            "errors": errors, "hasErrors": !errors.isEmpty,
        ]
        if let extraForm {
            model["extraForm"] = ["action": extraForm.action, "heading": extraForm.heading, "text": extraForm.text,
                                  "label": extraForm.label, "buttonId": extraForm.id]
        }
        // A path with a query (a token) must not be switched by the language links; they lead to the page without it.
        let languagePath = path.split(separator: "?").first.map(String.init) ?? path
        return page("account-form", locale: locale, path: languagePath, title: title, model: model,
                    status: errors.isEmpty ? .ok : .unprocessableContent, csrf: session.csrfToken, headers: cookie, hasErrors: !errors.isEmpty)
    }

    /// A page with a message, optionally one button (a form post) and links.
    func accountNotice(
        _ request: Request, locale: AppLocale, path: String, title: String, paragraphs: [String],
        button: (action: String, label: String, id: String, hidden: [String: String])? = nil, links: [AccountLink] = [],
        status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) async throws -> Response {
        var csrf = ""
        var fields = headers
        if button != nil {
            let (session, cookie) = try await ensureSession(of: request)
            csrf = session.csrfToken
            for field in cookie { fields.append(field) }
        }
        var model: [String: Any] = ["paragraphs": paragraphs, "links": links.map { ["href": $0.href, "label": $0.label, "id": $0.id] }]
        if let button {
            model["button"] = ["action": "/\(locale.rawValue)\(button.action)", "label": button.label, "buttonId": button.id,
                               "hidden": button.hidden.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] }]
        }
        return page("account-notice", locale: locale, path: path, title: title, model: model, status: status, csrf: csrf, headers: fields)
    }
}
