import AmtswegCore
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A failed FIT-Connect call: worth retrying later, or not until someone fixes something.
enum FITConnectError: Error, Equatable, CustomStringConvertible {
    /// Network trouble, 5xx, 408 or 429.
    case transient(String)
    /// A refusal (4xx), an untrusted key or an answer that does not fit the API.
    case permanent(String)

    var description: String {
        switch self {
        case .transient(let text), .permanent(let text): return text
        }
    }
}

/// The sender side of FIT-Connect's Submission and Routing APIs over HTTP, with an OAuth token (client credentials)
/// kept until shortly before it expires, and routing results cached for an hour.
actor FITConnectClient {
    let settings: FITConnectSettings
    let http: HTTPClient
    private var token: (value: String, expires: Date)?
    private var routes: [String: (destinationId: String, expires: Date)] = [:]

    /// Creates a client.
    init(settings: FITConnectSettings, http: HTTPClient = .shared) {
        self.settings = settings
        self.http = http
    }

    /// A destination as the Submission API describes it.
    struct Destination: Decodable {
        struct Service: Decodable { let identifier: String; let regions: [String]? }
        let destinationId: String
        let status: String
        let encryptionKid: String
        let services: [Service]?
    }

    /// What `POST /v1/submissions` answers.
    struct CreatedSubmission: Decodable {
        let submissionId: String
        let caseId: String
    }

    // MARK: - Routing

    /// The destination for a LeiKa key and ARS, from the Routing API; the routing result's signature must verify.
    func destinationId(leikaKey: String, ars: String, verifier: SignatureKeys) async throws -> String {
        let cacheKey = "\(leikaKey)|\(ars)"
        if let cached = routes[cacheKey], cached.expires > Date() { return cached.destinationId }
        struct Routes: Decodable {
            struct Route: Decodable { let destinationId: String; let destinationSignature: String? }
            let routes: [Route]
        }
        let body = try await call(.GET, "\(settings.routingURL)/v1/routes?leikaKey=\(leikaKey)&ars=\(ars)")
        guard let found = try? JSONDecoder().decode(Routes.self, from: body) else { throw FITConnectError.permanent("routing answer unreadable") }
        guard let route = found.routes.first else { throw FITConnectError.permanent("no FIT-Connect route for \(leikaKey) in \(ars)") }
        guard let signature = route.destinationSignature else { throw FITConnectError.permanent("routing result without destinationSignature") }
        try await verifier.verifyRouting(signature, destinationId: route.destinationId, leikaKey: leikaKey, ars: ars)
        routes[cacheKey] = (route.destinationId, Date().addingTimeInterval(3600))
        return route.destinationId
    }

    // MARK: - Submission API

    /// `GET /v1/destinations/{id}`.
    func destination(_ id: String) async throws -> Destination {
        let body = try await call(.GET, "\(settings.submissionURL)/v1/destinations/\(id)")
        guard let destination = try? JSONDecoder().decode(Destination.self, from: body) else {
            throw FITConnectError.permanent("destination answer unreadable")
        }
        return destination
    }

    /// `GET /v1/destinations/{id}/keys/{kid}`.
    func key(destination: String, kid: String) async throws -> PublicJWK {
        let body = try await call(.GET, "\(settings.submissionURL)/v1/destinations/\(destination)/keys/\(kid)")
        guard let key = try? JSONDecoder().decode(PublicJWK.self, from: body) else { throw FITConnectError.permanent("key answer unreadable") }
        return key
    }

    /// The keys published at `url` (a JWKS).
    func keySet(_ url: String) async throws -> [PublicJWK] {
        struct Set: Decodable { let keys: [PublicJWK] }
        let body = try await call(.GET, url, authenticated: false)
        guard let set = try? JSONDecoder().decode(Set.self, from: body) else { throw FITConnectError.permanent("key set unreadable") }
        return set.keys
    }

    /// `POST /v1/submissions`: announces the submission and its attachment ids.
    func createSubmission(destinationId: String, attachmentIds: [String], serviceName: String, leikaKey: String) async throws -> CreatedSubmission {
        struct Request: Encodable {
            struct ServiceType: Encodable { let name: String; let identifier: String }
            let destinationId: String
            let announcedAttachments: [String]
            let serviceType: ServiceType
        }
        let request = Request(destinationId: destinationId, announcedAttachments: attachmentIds,
                              serviceType: .init(name: serviceName, identifier: "urn:de:fim:leika:leistung:\(leikaKey)"))
        let body = try await call(.POST, "\(settings.submissionURL)/v1/submissions", body: try JSONEncoder.sortedKeys.encode(request),
                                  contentType: "application/json")
        guard let created = try? JSONDecoder().decode(CreatedSubmission.self, from: body) else {
            throw FITConnectError.permanent("submission answer unreadable")
        }
        return created
    }

    /// `PUT /v1/submissions/{id}/attachments/{attachmentId}` with one encrypted attachment.
    func upload(submissionId: String, attachmentId: String, jwe: String) async throws {
        _ = try await call(.PUT, "\(settings.submissionURL)/v1/submissions/\(submissionId)/attachments/\(attachmentId)",
                           body: Data(jwe.utf8), contentType: "application/jose")
    }

    /// `PUT /v1/submissions/{id}`: sends metadata and Fachdaten; the submission is then complete.
    func submit(submissionId: String, metadata: String, data: String) async throws {
        struct Request: Encodable { let encryptedMetadata: String; let encryptedData: String }
        _ = try await call(.PUT, "\(settings.submissionURL)/v1/submissions/\(submissionId)",
                           body: try JSONEncoder.sortedKeys.encode(Request(encryptedMetadata: metadata, encryptedData: data)),
                           contentType: "application/json")
    }

    /// `GET /v1/cases/{caseId}/events`: the case's SETs from `offset` on.
    func events(caseId: String, offset: Int) async throws -> [String] {
        struct Log: Decodable { let eventLog: [String] }
        let body = try await call(.GET, "\(settings.submissionURL)/v1/cases/\(caseId)/events?offset=\(offset)&limit=100")
        guard let log = try? JSONDecoder().decode(Log.self, from: body) else { throw FITConnectError.permanent("event log unreadable") }
        return log.eventLog
    }

    // MARK: - HTTP

    private func accessToken(renew: Bool = false) async throws -> String {
        if !renew, let token, token.expires > Date() { return token.value }
        struct Answer: Decodable { let access_token: String; let expires_in: Int? }
        let form = [("grant_type", "client_credentials"), ("client_id", settings.clientId), ("client_secret", settings.clientSecret)]
            .map { "\($0.0)=\(OIDCClient.formEncode($0.1))" }.joined(separator: "&")
        let body = try await call(.POST, settings.tokenURL, body: Data(form.utf8), contentType: "application/x-www-form-urlencoded", authenticated: false)
        guard let answer = try? JSONDecoder().decode(Answer.self, from: body), !answer.access_token.isEmpty else {
            throw FITConnectError.permanent("token answer unreadable")
        }
        // Renewed a minute early, so a token never runs out between check and use.
        token = (answer.access_token, Date().addingTimeInterval(TimeInterval(max(60, answer.expires_in ?? 300) - 60)))
        return answer.access_token
    }

    private func call(_ method: HTTPMethod, _ url: String, body: Data? = nil, contentType: String? = nil,
                      authenticated: Bool = true, renewed: Bool = false) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json, application/problem+json")
        request.headers.add(name: "User-Agent", value: "Amtsweg/1 (FIT-Connect sender)")
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if authenticated { request.headers.add(name: "Authorization", value: "Bearer \(try await accessToken(renew: renewed))") }
        if let body { request.body = .bytes(ByteBuffer(data: body)) }
        let response: HTTPClientResponse
        let data: Data
        do {
            response = try await http.execute(request, timeout: .seconds(60))
            data = Data(buffer: try await response.body.collect(upTo: 4 << 20))
        } catch {
            throw FITConnectError.transient((error as? HTTPClientError).map { "\($0)" } ?? "connection failed")
        }
        let code = Int(response.status.code)
        switch code {
        case 200..<300: return data
        case 401 where authenticated && !renewed:
            // The token may have been revoked early: one fresh token, one more try.
            return try await call(method, url, body: body, contentType: contentType, authenticated: true, renewed: true)
        case 408, 429, 500...: throw FITConnectError.transient("\(method.rawValue) \(Self.path(url)): HTTP \(code)")
        default: throw FITConnectError.permanent("\(method.rawValue) \(Self.path(url)): HTTP \(code)")
        }
    }

    /// The URL's path without ids' context beyond the path, for messages operators see (no query, no host).
    static func path(_ url: String) -> String { URL(string: url)?.path ?? url }
}
