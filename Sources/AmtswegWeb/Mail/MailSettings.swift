/// How the portal sends mail: the transport (none: mails wait in the outbox), the portal's public address for
/// links, and the sender.
public struct MailSettings: Sendable {
    public var transport: (any MailTransport)?
    /// Public address of the portal, e.g. `https://amtsweg.example` (AMTSWEG_PUBLIC_URL).
    public var baseURL: String
    public var from: String
    public var fromName: String

    /// Creates settings; defaults suit a local run without mail.
    public init(transport: (any MailTransport)? = nil, baseURL: String = "http://127.0.0.1:8080",
                from: String = "noreply@amtsweg.localhost", fromName: String = "Amtsweg") {
        self.transport = transport
        self.baseURL = baseURL
        self.from = from
        self.fromName = fromName
    }
}
