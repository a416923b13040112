import AmtswegCore
import AmtswegStorage
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Adds the security headers every response carries (BSI APP.3.1.A21, ASVS V3.4).
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    /// Whether the site is served over https, so HSTS applies.
    let https: Bool
    /// The Content-Security-Policy, built once.
    let contentSecurityPolicy: String

    /// Creates the middleware; `formTargets` are further origins forms may lead to: browsers apply `form-action` to
    /// the redirect after a post, and the step-up and sign-in buttons post here and are redirected to the identity provider.
    init(https: Bool, formTargets: [String] = []) {
        self.https = https
        contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action "
            + (["'self'"] + formTargets).joined(separator: " ") + "; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        response.headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        response.headers[HTTPField.Name("Permissions-Policy")!] = "camera=(), microphone=(), geolocation=()"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if https { response.headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains" }
        return response
    }
}

/// Turns thrown errors into localized HTML pages or problem-details JSON, and logs without personal data.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let portal: Portal

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = render(error, request: request, context: context)
        }
        let elapsed = ContinuousClock.now - started
        // The route template, not the path: paths carry ids and search words that do not belong in logs.
        context.logger.info("request", metadata: [
            "method": "\(request.method.rawValue)", "route": "\(context.endpointPath ?? "unmatched")",
            "status": "\(response.status.code)",
            "ms": "\(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)",
        ])
        return response
    }

    private func render(_ error: any Error, request: Request, context: Context) -> Response {
        let status: HTTPResponse.Status
        if let http = error as? HTTPError {
            status = http.status
        } else if let storage = error as? StorageError, storage == .notFound {
            // E.g. a draft submitted twice at the same moment: the second finds nothing left to submit.
            status = .notFound
        } else if let responseError = error as? any HTTPResponseError {
            status = responseError.status
        } else {
            status = .internalServerError
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
        }
        if let redirect = error as? RedirectSignal {
            return Portal.redirect(redirect.location)
        }
        if let failure = error as? APIFailure, let response = try? failure.response(from: request, context: context) {
            return response
        }
        if request.uri.path.hasPrefix("/api/") {
            return Problem(status: status, detail: Problem.defaultDetail(status)).response()
        }
        let locale = Self.locale(of: request)
        let t = portal.translator(locale)
        let key: String
        switch status.code {
        case 404: key = "notFound"
        case 413: key = "tooLarge"
        case 403: key = "forbidden"
        case 400, 415: key = "badRequest"
        case 429: key = "tooMany"
        default: key = "serverError"
        }
        let path = Self.pathWithoutLocale(request.uri.path)
        return portal.page(
            "error", locale: locale, path: request.method == .get ? path : "/", title: t("errors.\(key).title"),
            model: ["message": t("errors.\(key).message")], status: status)
    }

    /// The locale named by the first path segment, else German.
    static func locale(of request: Request) -> AppLocale {
        let first = request.uri.path.split(separator: "/").first.map(String.init) ?? ""
        return AppLocale(rawValue: first) ?? AppLocale.negotiate(acceptLanguage: request.headers[.acceptLanguage])
    }

    /// The path after the `/de` or `/en` prefix.
    static func pathWithoutLocale(_ path: String) -> String {
        for locale in AppLocale.allCases where path == "/\(locale.rawValue)" || path.hasPrefix("/\(locale.rawValue)/") {
            let rest = String(path.dropFirst(locale.rawValue.count + 1))
            return rest.isEmpty ? "/" : rest
        }
        return path.isEmpty ? "/" : path
    }
}

/// An RFC 9457 problem-details answer.
struct Problem: Encodable {
    /// One invalid member of the request.
    struct FieldProblem: Encodable {
        let field: String
        let message: String
    }

    var type = "about:blank"
    let title: String
    let status: Int
    let detail: String
    var errors: [FieldProblem]? = nil

    init(status: HTTPResponse.Status, detail: String, errors: [FieldProblem]? = nil) {
        self.title = status.reasonPhrase
        self.status = status.code
        self.detail = detail
        self.errors = errors
    }

    static func defaultDetail(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 401: return "A valid API key is required as Bearer token."
        case 404: return "No such resource for this authority."
        case 413: return "The request body is larger than allowed."
        case 415: return "The content type is not supported here."
        case 400: return "The request could not be read."
        default: return status.code >= 500 ? "The server could not complete the request." : status.reasonPhrase
        }
    }

    func response() -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = (try? encoder.encode(self)) ?? Data()
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if status == 401 { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(data: body)))
    }
}

/// Thrown by a route helper that must send the browser elsewhere (e.g. after carrying a draft to a new version).
struct RedirectSignal: Error {
    /// Where to go (303).
    let location: String
}
