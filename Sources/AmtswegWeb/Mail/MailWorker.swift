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
    let wakeups: AsyncStream<Void>
    let wakeupContinuation: AsyncStream<Void>.Continuation
    /// Longest sleep between two passes.
    let interval: Duration

    /// Creates a worker.
    public init(outbox: MailOutbox, composer: MailComposer, transport: any MailTransport, logger: Logger, interval: Duration = .seconds(5)) {
        self.outbox = outbox
        self.composer = composer
        self.transport = transport
        self.logger = logger
        self.interval = interval
        (wakeups, wakeupContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks the worker to look at the outbox now.
    public func nudge() { wakeupContinuation.yield() }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                // A tick every interval joins the nudges in the same stream, so one loop serves both.
                group.addTask {
                    while (try? await Task.sleep(for: interval)) != nil { wakeupContinuation.yield() }
                }
                await deliverDue()
                // Ends when the task is cancelled at shutdown.
                for await _ in wakeups { await deliverDue() }
                group.cancelAll()
            }
        }
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
