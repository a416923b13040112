import Foundation

/// Something that delivers a rendered mail: the SMTP client, or a folder of .eml files for the local demo.
public protocol MailTransport: Sendable {
    /// Delivers `message`; throws `SMTPError` (or another error, treated as temporary).
    func send(_ message: MailMessage) async throws
}

/// Writes each mail as an `.eml` file into a folder instead of sending it (the local demo, no mail server needed).
public struct MailDirectoryTransport: MailTransport {
    public let directory: URL

    /// Creates the transport; the folder is created on first use.
    public init(directory: URL) { self.directory = directory }

    public func send(_ message: MailMessage) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let name = "\(Int(Date().timeIntervalSince1970 * 1000))-\(message.id).eml"
        try Data(message.rendered().utf8).write(to: directory.appendingPathComponent(name), options: .atomic)
    }
}
