import AmtswegStorage
import Foundation
import Logging
import ServiceLifecycle

/// Sends what the outbox holds: claims due mails, composes and sends each, records the outcome. Runs until shutdown;
/// wakes every `interval` or at once when `nudge()` is called after a mail was queued.
public struct MailWorker: Service {
    let outbox: MailOutbox
    let composer: MailComposer
    let transport: any MailTransport
    let logger: Logger
    let loop: WakeableLoop

    /// Creates a worker.
    public init(outbox: MailOutbox, composer: MailComposer, transport: any MailTransport, logger: Logger, interval: Duration = .seconds(5)) {
        self.outbox = outbox
        self.composer = composer
        self.transport = transport
        self.logger = logger
        loop = WakeableLoop(interval: interval)
    }

    /// Asks the worker to look at the outbox now.
    public func nudge() { loop.nudge() }

    public func run() async throws {
        try await loop.run { await deliverDue() }
    }

    /// One pass: sends every due mail; returns how many were sent.
    @discardableResult
    public func deliverDue() async -> Int {
        var sent = 0
        do {
            while true {
                let batch = try await outbox.claimDue()
                if batch.isEmpty { break }
                for mail in batch {
                    if await deliver(mail) { sent += 1 }
                }
            }
        } catch {
            logger.error("mail outbox unavailable", metadata: ["error": "\(String(reflecting: type(of: error)))"])
        }
        return sent
    }

    private func deliver(_ mail: QueuedMail) async -> Bool {
        do {
            try await transport.send(composer.compose(mail))
            try await outbox.markSent(id: mail.id)
            logger.info("mail sent", metadata: ["mail": "\(mail.id)", "template": "\(mail.template.rawValue)"])
            return true
        } catch {
            let smtp = error as? SMTPError
            let reason = smtp?.description ?? String(reflecting: type(of: error))
            // Recipient addresses are personal data: the log names the mail id and template only.
            logger.warning("mail not sent", metadata: ["mail": "\(mail.id)", "template": "\(mail.template.rawValue)",
                                                       "attempt": "\(mail.attempts + 1)", "reason": "\(reason)"])
            try? await outbox.markFailed(id: mail.id, attempts: mail.attempts, error: reason, permanent: smtp?.isPermanent ?? false)
            return false
        }
    }
}
