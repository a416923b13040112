import Foundation

/// The external identity provider (e.g. BundID) this portal links accounts to, over OpenID Connect.
public struct OIDCSettings: Sendable, Equatable {
    /// Issuer URL; the discovery document is read from `{issuer}/.well-known/openid-configuration`.
    public let issuer: String
    public let clientId: String
    public let clientSecret: String
    /// Name shown to citizens, e.g. "BundID".
    public let displayName: String
    /// Where the provider sends the browser back: `{public URL}/oidc/callback`.
    public let redirectURI: String

    /// Creates settings; the issuer must use https, except on loopback (tests, local development).
    public init(issuer: String, clientId: String, clientSecret: String, displayName: String, redirectURI: String) throws(OIDCError) {
        let trimmed = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        guard Self.isAcceptableURL(trimmed), !clientId.isEmpty else { throw .configuration("AMTSWEG_OIDC_ISSUER must be an https URL (http only on loopback)") }
        self.issuer = trimmed
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.displayName = displayName
        self.redirectURI = redirectURI
    }

    /// https anywhere, http only to a loopback host.
    static func isAcceptableURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host else { return false }
        if scheme == "https" { return true }
        return scheme == "http" && (host == "localhost" || host.hasPrefix("127.") || host == "::1")
    }
}

/// Why an OpenID Connect step failed. The description never contains tokens or personal data.
public enum OIDCError: Error, Equatable, CustomStringConvertible {
    case configuration(String)
    /// The provider could not be reached or answered with something unusable.
    case provider(String)
    /// The ID token failed a check (signature, issuer, audience, expiry, nonce).
    case invalidToken(String)

    public var description: String {
        switch self {
        case .configuration(let text): "OIDC configuration: \(text)"
        case .provider(let text): "OIDC provider: \(text)"
        case .invalidToken(let text): "OIDC ID token rejected: \(text)"
        }
    }
}
