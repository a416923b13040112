import Foundation
import X509

/// How Amtsweg reaches FIT-Connect: OAuth client, Submission API, Routing API and the trust anchors of the
/// Verwaltungs-PKI that destination keys must chain to.
public struct FITConnectSettings: Sendable {
    /// The OAuth token endpoint (client credentials).
    public let tokenURL: String
    /// The Submission API's base, without `/v1` (its SET keys are at `/.well-known/jwks.json`).
    public let submissionURL: String
    /// The Routing API's base, without `/v1`.
    public let routingURL: String
    /// Where the keys that sign routing results (`destinationSignature`) are published.
    public let routingKeysURL: String
    public let clientId: String
    public let clientSecret: String
    /// Root certificates destination keys must chain to.
    public let trustRoots: [Certificate]
    /// Public base URL of this portal, for the Fachdaten's schema URI.
    public let publicBaseURL: String
    /// How often the event log of a handed-over submission is read until it is accepted or rejected.
    public var pollIntervalMillis: Int64 = 60_000
    /// The secret FIT-Connect signs callbacks to `/api/fitconnect/callback` with (set in the Self-Service-Portal).
    public var callbackSecret: String?

    /// Why the settings were refused.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Checks and keeps the settings: https URLs (http only on loopback), client credentials, at least one root.
    public init(tokenURL: String, submissionURL: String, routingURL: String, routingKeysURL: String? = nil, clientId: String,
                clientSecret: String, trustRootsPEM: String, publicBaseURL: String) throws {
        for (name, url) in [("token URL", tokenURL), ("Submission API URL", submissionURL), ("Routing API URL", routingURL)]
        where !Self.acceptable(url) {
            throw Invalid(description: "FIT-Connect \(name) must be https (http only on loopback): \(url)")
        }
        if let routingKeysURL, !Self.acceptable(routingKeysURL) { throw Invalid(description: "FIT-Connect routing keys URL must be https") }
        guard !clientId.isEmpty, !clientSecret.isEmpty else { throw Invalid(description: "FIT-Connect client id and secret are required") }
        let roots: [Certificate]
        do {
            let marker = "-----END CERTIFICATE-----"
            roots = try trustRootsPEM.components(separatedBy: marker).dropLast()
                .map { try Certificate(pemEncoded: $0.trimmingCharacters(in: .whitespacesAndNewlines) + "\n" + marker) }
        } catch {
            throw Invalid(description: "FIT-Connect trust roots are not PEM certificates")
        }
        guard !roots.isEmpty else { throw Invalid(description: "FIT-Connect needs at least one trust root certificate") }
        let trim = { (url: String) in url.hasSuffix("/") ? String(url.dropLast()) : url }
        self.tokenURL = tokenURL
        self.submissionURL = trim(submissionURL)
        self.routingURL = trim(routingURL)
        self.routingKeysURL = routingKeysURL ?? trim(routingURL) + "/.well-known/jwks.json"
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.trustRoots = roots
        self.publicBaseURL = trim(publicBaseURL)
    }

    static func acceptable(_ text: String) -> Bool {
        guard let url = URL(string: text), let host = url.host, url.user == nil else { return false }
        return url.scheme == "https" || (url.scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(host))
    }
}
