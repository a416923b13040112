import Foundation

/// Where outgoing mail goes: an SMTP server, how the connection is secured and the login, from one URL.
///
/// `smtp://HOST:PORT` (plain, for a relay on loopback), `smtp://HOST:587?tls=starttls` (STARTTLS, required),
/// `smtps://HOST:465` (implicit TLS, RFC 8314); optional `USER:PASSWORD@` logs in with AUTH PLAIN, which is only
/// allowed over TLS or to a loopback address.
public struct SMTPConfiguration: Sendable, Equatable {
    /// How the connection is secured.
    public enum Security: String, Sendable { case plain, startTLS, implicitTLS }

    public let host: String
    public let port: Int
    public let security: Security
    public let username: String?
    public let password: String?
    /// PEM file of extra trusted CA certificates (e.g. an internal relay's CA); the system roots are used otherwise.
    public let caFile: String?

    /// Creates a configuration.
    public init(host: String, port: Int, security: Security, username: String? = nil, password: String? = nil, caFile: String? = nil) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.caFile = caFile
    }

    /// Parses an `smtp://` or `smtps://` URL; the message names what is wrong, never the password.
    public init(url text: String) throws(SMTPConfigurationError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty
        else { throw SMTPConfigurationError(message: "AMTSWEG_SMTP_URL must look like smtp://host:port or smtps://host:port") }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let security: Security
        switch (scheme, query["tls"]?.lowercased()) {
        case ("smtps", _): security = .implicitTLS
        case ("smtp", "starttls"): security = .startTLS
        case ("smtp", nil), ("smtp", "none"): security = .plain
        default: throw SMTPConfigurationError(message: "AMTSWEG_SMTP_URL: unknown scheme or tls= value (smtp, smtps; tls=starttls)")
        }
        let port = components.port ?? (security == .implicitTLS ? 465 : security == .startTLS ? 587 : 25)
        let username = components.percentEncodedUser.flatMap { $0.removingPercentEncoding }
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        if username != nil, security == .plain, !Self.isLoopback(host) {
            throw SMTPConfigurationError(message: "AMTSWEG_SMTP_URL: a password may only be sent over TLS (use smtps:// or tls=starttls)")
        }
        self.init(host: host, port: port, security: security, username: username, password: password, caFile: query["ca"])
    }

    static func isLoopback(_ host: String) -> Bool { host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]" }
}

/// Why an SMTP URL cannot be used.
public struct SMTPConfigurationError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
