import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Sends one mail per connection over SMTP (RFC 5321): EHLO, STARTTLS when configured, AUTH PLAIN when a login is
/// configured, MAIL FROM, RCPT TO, DATA, QUIT. The whole conversation has a time limit.
public struct SMTPClient: MailTransport {
    public let configuration: SMTPConfiguration
    /// Name sent in EHLO.
    public let heloName: String
    /// Time limit for connecting and the whole conversation.
    public let timeout: TimeAmount

    /// Creates a client.
    public init(configuration: SMTPConfiguration, heloName: String = "amtsweg.localhost", timeout: TimeAmount = .seconds(60)) {
        self.configuration = configuration
        self.heloName = heloName
        self.timeout = timeout
    }

    public func send(_ message: MailMessage) async throws {
        for address in [message.from, message.to] where address.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" }) {
            throw SMTPError.rejected(code: 0, step: "address check")
        }
        let tls = try makeTLSContext()
        let (stream, continuation) = AsyncThrowingStream<SMTPReply, any Error>.makeStream()
        let implicitTLS = configuration.security == .implicitTLS
        let host = configuration.host
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if implicitTLS, let tls {
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: Self.sniName(host)))
                        }
                        try channel.pipeline.syncOperations.addHandler(SMTPReplyDecoder(continuation: continuation))
                    }
                }
                .connect(host: configuration.host, port: configuration.port).get()
        } catch {
            throw SMTPError.unavailable("cannot connect")
        }
        // Closing the channel at the deadline ends the reply stream, which ends the conversation with an error.
        let deadline = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        var conversation = Conversation(channel: channel, replies: stream.makeAsyncIterator())
        try await conversation.expect(220, step: "greeting")
        var extensions = try await conversation.command("EHLO \(heloName)", expect: 250, step: "EHLO").lines.dropFirst().map { $0.uppercased() }
        if configuration.security == .startTLS {
            guard extensions.contains(where: { $0.hasPrefix("STARTTLS") }), let tls else { throw SMTPError.rejected(code: 0, step: "STARTTLS not offered") }
            try await conversation.command("STARTTLS", expect: 220, step: "STARTTLS")
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: Self.sniName(host)), position: .first)
            }.get()
            extensions = try await conversation.command("EHLO \(heloName)", expect: 250, step: "EHLO after STARTTLS").lines.dropFirst().map { $0.uppercased() }
        }
        if let username = configuration.username {
            guard extensions.contains(where: { $0.hasPrefix("AUTH") && $0.contains("PLAIN") }) else { throw SMTPError.rejected(code: 0, step: "AUTH PLAIN not offered") }
            let credentials = Data(("\0" + username + "\0" + (configuration.password ?? "")).utf8).base64EncodedString()
            try await conversation.command("AUTH PLAIN \(credentials)", expect: 235, step: "AUTH")
        }
        let utf8 = !(message.from + message.to).allSatisfy(\.isASCII)
        let smtpUTF8 = utf8 && extensions.contains("SMTPUTF8") ? " SMTPUTF8" : ""
        try await conversation.command("MAIL FROM:<\(message.from)>\(smtpUTF8)", expect: 250, step: "MAIL FROM")
        try await conversation.command("RCPT TO:<\(message.to)>", expect: 250, step: "RCPT TO", alsoAccept: 251)
        try await conversation.command("DATA", expect: 354, step: "DATA")
        try await conversation.command(Self.dotStuffed(message.rendered()) + "\r\n.", expect: 250, step: "message")
        // The mail is accepted; a failing QUIT changes nothing.
        _ = try? await conversation.command("QUIT", expect: 221, step: "QUIT")
    }

    private func makeTLSContext() throws -> NIOSSLContext? {
        guard configuration.security != .plain else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = configuration.caFile { tls.trustRoots = .file(caFile) }
        do { return try NIOSSLContext(configuration: tls) } catch { throw SMTPError.unavailable("TLS setup") }
    }

    /// Server name for SNI and certificate checks; IP addresses are not sent as SNI.
    static func sniName(_ host: String) -> String? {
        host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? nil : host
    }

    /// A message body with every line starting with "." doubled (RFC 5321 §4.5.2).
    static func dotStuffed(_ text: String) -> String {
        text.components(separatedBy: "\r\n").map { $0.hasPrefix(".") ? "." + $0 : $0 }.joined(separator: "\r\n")
    }

    /// Commands out, replies in.
    private struct Conversation {
        let channel: any Channel
        var replies: AsyncThrowingStream<SMTPReply, any Error>.AsyncIterator

        @discardableResult
        mutating func command(_ line: String, expect code: Int, step: String, alsoAccept other: Int? = nil) async throws -> SMTPReply {
            do {
                try await channel.writeAndFlush(ByteBuffer(string: line + "\r\n")).get()
            } catch {
                throw SMTPError.unavailable("connection lost at \(step)")
            }
            return try await expect(code, step: step, alsoAccept: other)
        }

        @discardableResult
        mutating func expect(_ code: Int, step: String, alsoAccept other: Int? = nil) async throws -> SMTPReply {
            let next: SMTPReply?
            do { next = try await replies.next() } catch let error as SMTPError { throw error } catch { throw SMTPError.unavailable("connection error at \(step)") }
            guard let reply = next else { throw SMTPError.unavailable("connection closed at \(step)") }
            if reply.code == code || reply.code == other { return reply }
            if (400..<500).contains(reply.code) { throw SMTPError.deferred(code: reply.code, step: step) }
            if (500..<600).contains(reply.code) { throw SMTPError.rejected(code: reply.code, step: step) }
            throw SMTPError.protocolViolation("unexpected \(reply.code) at \(step)")
        }
    }
}
