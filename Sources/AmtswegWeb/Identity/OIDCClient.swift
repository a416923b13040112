import AmtswegCore
import AsyncHTTPClient
import Crypto
import Foundation
import JWTKit
import NIOCore
import NIOHTTP1

/// The relying-party side of OpenID Connect: authorization code flow with PKCE (S256), state and nonce; the ID token's
/// RS256 signature is checked against the provider's published keys, and issuer, audience, expiry and nonce are checked.
public actor OIDCClient {
    /// What a verified ID token says about the citizen.
    public struct Identity: Sendable, Equatable {
        public let issuer: String
        public let subject: String
        /// From `acr`; basis when the provider names no known level.
        public let level: TrustLevel
    }

    struct Discovery: Decodable {
        let issuer: String
        let authorization_endpoint: String
        let token_endpoint: String
        let jwks_uri: String
    }

    /// The ID token claims that are checked or used.
    struct IDToken: JWTPayload {
        let iss: IssuerClaim
        let sub: SubjectClaim
        let aud: AudienceClaim
        let exp: ExpirationClaim
        let iat: IssuedAtClaim
        let nonce: String?
        let acr: String?
        let azp: String?

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
        }
    }

    public let settings: OIDCSettings
    private let http: HTTPClient
    private var discovery: Discovery?
    private var keys: (collection: JWTKeyCollection, fetched: Date)?

    /// Creates a client; `http` defaults to the shared client.
    public init(settings: OIDCSettings, http: HTTPClient = .shared) {
        self.settings = settings
        self.http = http
    }

    /// A random PKCE verifier (43 characters) and its S256 challenge (RFC 7636).
    public static func pkce() -> (verifier: String, challenge: String) {
        let verifier = SecureToken.generate()
        return (verifier, Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncoded)
    }

    /// Where to send the browser: the provider's authorization endpoint with every parameter.
    public func authorizationURL(state: String, nonce: String, challenge: String, level: TrustLevel?) async throws -> String {
        let endpoint = try await discover().authorization_endpoint
        var components = URLComponents(string: endpoint)
        var items = components?.queryItems ?? []
        items += [
            URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "client_id", value: settings.clientId),
            URLQueryItem(name: "redirect_uri", value: settings.redirectURI), URLQueryItem(name: "scope", value: "openid"),
            URLQueryItem(name: "state", value: state), URLQueryItem(name: "nonce", value: nonce),
            URLQueryItem(name: "code_challenge", value: challenge), URLQueryItem(name: "code_challenge_method", value: "S256"),
        ]
        if let level { items.append(URLQueryItem(name: "acr_values", value: level.acr)) }
        components?.queryItems = items
        guard let url = components?.url?.absoluteString else { throw OIDCError.provider("bad authorization endpoint") }
        return url
    }

    /// Exchanges the code (with the PKCE verifier) and returns the verified identity.
    public func identity(code: String, verifier: String, nonce: String) async throws -> Identity {
        let token = try await exchange(code: code, verifier: verifier)
        return try await verify(idToken: token, nonce: nonce)
    }

    func exchange(code: String, verifier: String) async throws -> String {
        let endpoint = try await discover().token_endpoint
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let credentials = "\(Self.formEncode(settings.clientId)):\(Self.formEncode(settings.clientSecret))"
        request.headers.add(name: "Authorization", value: "Basic \(Data(credentials.utf8).base64EncodedString())")
        let form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", settings.redirectURI), ("code_verifier", verifier)]
        request.body = .bytes(ByteBuffer(string: form.map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&")))
        let body = try await fetch(request, what: "token")
        struct TokenResponse: Decodable { let id_token: String? }
        guard let token = try? JSONDecoder().decode(TokenResponse.self, from: body).id_token else { throw OIDCError.provider("no id_token") }
        return token
    }

    func verify(idToken: String, nonce: String) async throws -> Identity {
        // Only RS256: the algorithm comes from our expectation, never from the token ("none" and HMAC are refused).
        let parts = idToken.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Data(base64URLEncoded: String(parts[0])),
              let header = try? JSONDecoder().decode([String: String].self, from: headerData), header["alg"] == "RS256"
        else { throw OIDCError.invalidToken("not an RS256 JWS") }
        let claims: IDToken
        do {
            claims = try await keyCollection(refresh: false).verify(idToken, as: IDToken.self)
        } catch {
            // The provider may have rotated its keys: fetch them once more.
            do { claims = try await keyCollection(refresh: true).verify(idToken, as: IDToken.self) } catch { throw OIDCError.invalidToken("signature or expiry") }
        }
        guard claims.iss.value == settings.issuer else { throw OIDCError.invalidToken("issuer") }
        guard claims.aud.value.contains(settings.clientId) else { throw OIDCError.invalidToken("audience") }
        if claims.aud.value.count > 1, claims.azp != settings.clientId { throw OIDCError.invalidToken("authorized party") }
        guard claims.iat.value < Date().addingTimeInterval(300) else { throw OIDCError.invalidToken("issued in the future") }
        guard let sent = claims.nonce, SecureToken.constantTimeEquals(sent, nonce) else { throw OIDCError.invalidToken("nonce") }
        return Identity(issuer: claims.iss.value, subject: claims.sub.value, level: claims.acr.flatMap(TrustLevel.init(acr:)) ?? .basis)
    }

    private func discover() async throws -> Discovery {
        if let discovery { return discovery }
        let body = try await fetch(HTTPClientRequest(url: "\(settings.issuer)/.well-known/openid-configuration"), what: "discovery")
        guard let found = try? JSONDecoder().decode(Discovery.self, from: body) else { throw OIDCError.provider("discovery document unreadable") }
        guard found.issuer == settings.issuer else { throw OIDCError.provider("discovery issuer differs from the configured issuer") }
        for endpoint in [found.authorization_endpoint, found.token_endpoint, found.jwks_uri] where !OIDCSettings.isAcceptableURL(endpoint) {
            throw OIDCError.provider("endpoint without https")
        }
        discovery = found
        return found
    }

    private func keyCollection(refresh: Bool) async throws -> JWTKeyCollection {
        if !refresh, let keys, Date().timeIntervalSince(keys.fetched) < 600 { return keys.collection }
        let body = try await fetch(HTTPClientRequest(url: try await discover().jwks_uri), what: "jwks")
        let collection = JWTKeyCollection()
        do { try await collection.add(jwksJSON: String(decoding: body, as: UTF8.self)) } catch { throw OIDCError.provider("jwks unreadable") }
        keys = (collection, Date())
        return collection
    }

    private func fetch(_ request: HTTPClientRequest, what: String) async throws -> Data {
        do {
            let response = try await http.execute(request, timeout: .seconds(15))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else { throw OIDCError.provider("\(what) answered \(response.status.code)") }
            return Data(buffer: body)
        } catch let error as OIDCError {
            throw error
        } catch {
            throw OIDCError.provider("\(what) unreachable")
        }
    }

    static func formEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}
