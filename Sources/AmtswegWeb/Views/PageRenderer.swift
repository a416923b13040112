import AmtswegCore
import Foundation
import Hummingbird

/// Renders Mustache templates inside the common layout and wraps them in responses.
extension Portal {
    /// A full HTML page: `model` plus layout data (language, messages, language switch, CSRF token).
    func page(
        _ template: String, locale: AppLocale, path: String, title: String, model: [String: Any] = [:],
        status: HTTPResponse.Status = .ok, csrf: String? = nil, tenant: Tenant? = nil, headers: HTTPFields = [:],
        hasErrors: Bool = false
    ) -> Response {
        let html = renderPage(template, locale: locale, path: path, title: title, model: model, csrf: csrf, tenant: tenant, hasErrors: hasErrors)
        return Self.html(html, status: status, headers: headers)
    }

    /// The HTML text of a page (see `page`).
    func renderPage(
        _ template: String, locale: AppLocale, path: String, title: String, model: [String: Any], csrf: String?,
        tenant: Tenant?, hasErrors: Bool = false
    ) -> String {
        let t = translator(locale)
        // swift-mustache renders a section for any String, the empty one included: drop empty top-level strings so
        // `{{#intro}}…{{/intro}}` means "only when there is an intro".
        var data = model.filter { !(($0.value as? String)?.isEmpty ?? false) }
        data["t"] = messageTrees[locale]!.value
        data["lang"] = locale.tag
        data["pageTitle"] = hasErrors ? "\(t("common.errorPrefix")) \(title) – \(t("common.siteName"))" : "\(title) – \(t("common.siteName"))"
        data["title"] = title
        data["csrf"] = csrf ?? ""
        data["homeHref"] = "/\(locale.rawValue)/"
        data["statusHref"] = "/\(locale.rawValue)/status"
        data["accountHref"] = "/\(locale.rawValue)/konto"
        data["languages"] = AppLocale.allCases.filter { $0 != locale }.map { other -> [String: Any] in
            ["href": "/\(other.rawValue)\(path)", "hreflang": other.tag, "label": translator(other)("common.languageName")]
        }
        if let tenant { data["tenantName"] = tenant.name }
        return views.render(data, withTemplate: template) ?? ""
    }

    /// An HTML response.
    static func html(_ html: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A 303 redirect, the answer to every successful form post.
    static func redirect(_ location: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.location] = location
        return Response(status: .seeOther, headers: fields)
    }
}
