import AmtswegCore
import AmtswegStorage
import Foundation
import Logging
import Testing
@testable import AmtswegWeb

@Suite("Mail: message format, SMTP client against a real server, outbox worker")
struct MailTests {
    static let message = MailMessage(from: "noreply@musterstadt.example", fromName: "Stadt Musterstadt – Bürgerbüro", to: "anna@example.org",
                                     subject: "Bestätigen Sie Ihre E-Mail-Adresse",
                                     text: "Guten Tag,\n\n.eine Zeile mit Punkt am Anfang\nStraße, Größe, 100 €\n" + String(repeating: "lang ", count: 40))

    /// Decodes quoted-printable (for checking our encoder with an independent, simple reading).
    static func decodeQuotedPrintable(_ text: String) -> String {
        var bytes: [UInt8] = []
        let joined = text.replacingOccurrences(of: "=\r\n", with: "")
        var iterator = Array(joined.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "="), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("the message has RFC 5322 headers, an encoded subject and a quoted-printable body of short lines")
    func format() {
        let rendered = Self.message.rendered(date: Date(timeIntervalSince1970: 1_795_000_000))
        let parts = rendered.components(separatedBy: "\r\n\r\n")
        let headers = parts[0], body = parts.dropFirst().joined(separator: "\r\n\r\n")
        #expect(headers.contains("Subject: =?UTF-8?B?"))
        #expect(headers.contains("From: =?UTF-8?B?") && headers.contains("<noreply@musterstadt.example>"))
        #expect(headers.contains("Date: Wed, 18 Nov 2026"))
        #expect(headers.contains("Content-Transfer-Encoding: quoted-printable") && headers.contains("Auto-Submitted: auto-generated"))
        #expect(body.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        #expect(body.utf8.allSatisfy { $0 < 128 })
        #expect(Self.decodeQuotedPrintable(body) == Self.message.text.replacingOccurrences(of: "\n", with: "\r\n"))
        // A trailing space is encoded so mail servers cannot strip it.
        #expect(MailMessage.quotedPrintable("a ") == "a=20")
        #expect(SMTPClient.dotStuffed("a\r\n.b\r\n..c") == "a\r\n..b\r\n...c")
    }

    @Test("SMTP URLs: schemes, ports, STARTTLS, and no password over plain text to a remote server")
    func configuration() throws {
        #expect(try SMTPConfiguration(url: "smtp://127.0.0.1:2525") == SMTPConfiguration(host: "127.0.0.1", port: 2525, security: .plain))
        #expect(try SMTPConfiguration(url: "smtps://mail.example.org").port == 465)
        let starttls = try SMTPConfiguration(url: "smtp://user%40amt:p%C3%A4ss@mail.example.org?tls=starttls")
        #expect(starttls.security == .startTLS && starttls.port == 587 && starttls.username == "user@amt" && starttls.password == "päss")
        #expect(throws: SMTPConfigurationError.self) { try SMTPConfiguration(url: "smtp://u:p@mail.example.org:25") }
        #expect(throws: SMTPConfigurationError.self) { try SMTPConfiguration(url: "http://mail.example.org") }
        #expect(throws: SMTPConfigurationError.self) { try SMTPConfiguration(url: "smtp://mail.example.org?tls=maybe") }
    }

    @Test("the client delivers a mail to a real SMTP server (aiosmtpd) with envelope, headers and body intact")
    func plainDelivery() async throws {
        guard let sink = try SMTPSinkProcess.start() else { return }
        defer { sink.stop() }
        try await SMTPClient(configuration: SMTPConfiguration(host: "127.0.0.1", port: sink.port, security: .plain)).send(Self.message)
        let received = try sink.received()
        #expect(received.count == 1)
        let mail = try #require(received.first)
        #expect(mail.mail_from == "noreply@musterstadt.example" && mail.rcpt_tos == ["anna@example.org"])
        #expect(mail.data.contains("Message-ID: <\(Self.message.id)@musterstadt.example>"))
        #expect(Self.decodeQuotedPrintable(mail.data).contains("\r\n.eine Zeile mit Punkt am Anfang\r\nStraße, Größe, 100 €"))
    }

    @Test("a 451 reply is a temporary failure, a refused connection is unavailable")
    func failures() async throws {
        guard let sink = try SMTPSinkProcess.start(failNext: 1) else { return }
        defer { sink.stop() }
        let client = SMTPClient(configuration: SMTPConfiguration(host: "127.0.0.1", port: sink.port, security: .plain))
        await #expect(throws: SMTPError.deferred(code: 451, step: "message")) { try await client.send(Self.message) }
        try await client.send(Self.message)
        #expect(try sink.received().count == 1)
        let closed = SMTPClient(configuration: SMTPConfiguration(host: "127.0.0.1", port: 1, security: .plain), timeout: .seconds(5))
        await #expect(throws: SMTPError.unavailable("cannot connect")) { try await closed.send(Self.message) }
    }

    @Test("STARTTLS with a certificate checked against a configured CA, then AUTH PLAIN")
    func startTLS() async throws {
        let certificate = try makeTestCertificate()
        guard let sink = try SMTPSinkProcess.start(tls: certificate, requireAuth: true) else { return }
        defer { sink.stop() }
        let secure = SMTPConfiguration(host: "127.0.0.1", port: sink.port, security: .startTLS, username: "amtsweg", password: "geheim 123",
                                       caFile: certificate.cert)
        try await SMTPClient(configuration: secure).send(Self.message)
        let mail = try #require(try sink.received().first)
        #expect(mail.tls && mail.authenticated)
        // Without trusting the test CA the handshake fails: nothing is sent in the clear instead.
        let untrusted = SMTPConfiguration(host: "127.0.0.1", port: sink.port, security: .startTLS, username: "amtsweg", password: "geheim 123")
        await #expect(throws: SMTPError.self) { try await SMTPClient(configuration: untrusted, timeout: .seconds(10)).send(Self.message) }
        #expect(try sink.received().count == 1)
    }

    @Test("the worker sends queued mails in the recipient's language, retries after a temporary failure and marks them sent")
    func worker() async throws {
        guard let sink = try SMTPSinkProcess.start(failNext: 1) else { return }
        defer { sink.stop() }
        let (portal, database) = try await WebHarness.portal()
        defer { Task { await database.shutdown() } }
        let composer = MailComposer(translators: portal.translators, baseURL: "https://amtsweg.example/", from: "noreply@musterstadt.example", fromName: "Amtsweg")
        let worker = MailWorker(outbox: portal.outbox, composer: composer,
                                transport: SMTPClient(configuration: SMTPConfiguration(host: "127.0.0.1", port: sink.port, security: .plain)),
                                logger: Logger(label: "test"))
        try await portal.accounts.register(email: "bert@example.org", passwordHash: "h", locale: "en")
        #expect(await worker.deliverDue() == 0)
        #expect(try await portal.outbox.counts().pending == 1)
        // Due again only after the backoff: pretend the time has come by clearing the schedule.
        try await database.write { sql in try await sql.raw("UPDATE mail_outbox SET next_attempt_at = 0").run() }
        #expect(await worker.deliverDue() == 1)
        let counts = try await portal.outbox.counts()
        #expect(counts.pending == 0 && counts.sent == 1 && counts.failed == 0)
        let mail = try #require(try sink.received().first)
        #expect(mail.rcpt_tos == ["bert@example.org"])
        let text = Self.decodeQuotedPrintable(mail.data)
        #expect(text.contains("Subject: Confirm your email address"))
        #expect(text.contains("https://amtsweg.example/en/konto/bestaetigen?token="))
    }
}
