import AmtswegCore
import AmtswegStorage
import Foundation
import HTTPTypes
import Hummingbird

/// Reading, creating and checking browser sessions and their CSRF tokens.
extension Portal {
    /// Name of the session cookie (`__Host-` prefixed when served over https).
    var sessionCookieName: String { secureCookies ? "__Host-amtsweg_session" : "amtsweg_session" }

    /// The live session of the request, if its cookie names one.
    func session(of request: Request) async throws -> (token: String, record: SessionRecord)? {
        guard let token = request.cookies[sessionCookieName]?.value, token.count == 43 else { return nil }
        guard let record = try await sessions.find(token: token) else { return nil }
        return (token, record)
    }

    /// The request's session, or a new one with the cookie to set.
    func ensureSession(of request: Request) async throws -> (record: SessionRecord, setCookie: HTTPFields) {
        if let existing = try await session(of: request) { return (existing.record, [:]) }
        let created = try await sessions.create()
        return (created.session, cookieHeader(token: created.token))
    }

    /// A `Set-Cookie` header for a session token: HttpOnly, SameSite=Lax, Secure behind https.
    func cookieHeader(token: String) -> HTTPFields {
        var attributes = "\(sessionCookieName)=\(token); Path=/; HttpOnly; SameSite=Lax"
        if secureCookies { attributes += "; Secure" }
        return [.setCookie: attributes]
    }

    /// A `Set-Cookie` header that removes the session cookie.
    func clearCookieHeader() -> HTTPFields {
        [.setCookie: "\(sessionCookieName)=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0\(secureCookies ? "; Secure" : "")"]
    }

    /// Reads a form post and checks its CSRF token against `session`; the one way routes read form bodies.
    func verifiedForm(_ request: Request, session: SessionRecord) async throws -> FormData {
        var request = request
        let form = try await FormData.read(&request)
        try checkCSRF(request, form: form, session: session)
        return form
    }

    /// Rejects a state-changing request whose CSRF token or origin does not match the session (403).
    func checkCSRF(_ request: Request, form: FormData, session: SessionRecord) throws {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site == "cross-site" {
            throw HTTPError(.forbidden)
        }
        if let origin = request.headers[HTTPField.Name("Origin")!], origin != "null", let host = request.head.authority {
            let originHost = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
            if originHost != host { throw HTTPError(.forbidden) }
        }
        guard let sent = form.values["_csrf"], SecureToken.constantTimeEquals(sent, session.csrfToken) else {
            throw HTTPError(.forbidden)
        }
    }
}
