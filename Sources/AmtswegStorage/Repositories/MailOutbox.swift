import AmtswegCore
import Foundation
import SQLKit

/// Which mail to write; the text is rendered in the recipient's language when the mail is sent.
public enum MailTemplate: String, Sendable, CaseIterable {
    /// "Confirm your e-mail address" with a link (token).
    case verifyEmail = "verify_email"
    /// Someone tried to register an address that already has an account.
    case alreadyRegistered = "already_registered"
    /// "Set a new password" with a link (token).
    case passwordReset = "password_reset"
    /// The password was changed.
    case passwordChanged = "password_changed"
    /// "Confirm your new e-mail address" with a link (token), sent to the new address.
    case confirmNewEmail = "confirm_new_email"
    /// Sent to the old address when the address was changed.
    case emailChanged = "email_changed"
    /// The account was deleted.
    case accountDeleted = "account_deleted"
    /// "You have a new message in your Postfach" — never more than that.
    case postfachNotice = "postfach_notice"
}

/// A mail waiting in the outbox.
public struct QueuedMail: Sendable, Equatable {
    public let id: String
    public let recipient: String
    public let template: MailTemplate
    public let locale: String
    /// Values the text needs (e.g. `token`), sealed at rest.
    public let values: [String: String]
    /// Earlier failed attempts.
    public let attempts: Int
}

/// A mail to enqueue.
public struct MailRequest: Sendable, Equatable {
    public let recipient: String
    public let template: MailTemplate
    public let locale: String
    public let values: [String: String]

    /// Creates a request.
    public init(recipient: String, template: MailTemplate, locale: String, values: [String: String] = [:]) {
        self.recipient = recipient
        self.template = template
        self.locale = locale
        self.values = values
    }
}

/// The transactional outbox for e-mail: mails are written in the same transaction as the change that causes
/// them, and a worker sends them later with retries, so none is lost when the SMTP server is down.
///
/// Values (links with tokens) are sealed at rest; once a mail is sent its recipient and values are erased.
public struct MailOutbox: Sendable {
    let database: any Database
    let protector: DataProtector
    /// Attempts before a mail is given up as failed (with the backoff below, about two days).
    public static let maxAttempts = 12
    /// Outbox values are sealed with this key domain, not an authority's.
    static let keyDomain = UUID(uuidString: "00000000-0000-0000-0000-00000000a11e")!

    /// Creates an outbox over `database`; values are sealed with `protector`.
    public init(database: any Database, protector: DataProtector) {
        self.database = database
        self.protector = protector
    }

    /// Adds a mail inside the caller's transaction.
    static func enqueue(_ sql: any SQLDatabase, _ request: MailRequest, protector: DataProtector, now: Int64) async throws {
        let sealed = try protector.seal(try JSONEncoder().encode(request.values), tenant: keyDomain)
        try await sql.raw("""
            INSERT INTO mail_outbox (id, recipient, template, locale, payload, wrapped_key, attempts, next_attempt_at,
                claimed_until, sent_at, failed_at, last_error, created_at)
            VALUES (\(bind: UUID().uuidString.lowercased()), \(bind: request.recipient), \(bind: request.template.rawValue),
                \(bind: request.locale), \(bind: sealed.ciphertext), \(bind: sealed.wrappedKey), \(bind: 0), \(bind: now),
                NULL, NULL, NULL, NULL, \(bind: now))
            """).run()
    }

    /// Adds a mail in its own transaction.
    public func enqueue(_ request: MailRequest) async throws {
        let protector = protector
        try await database.write { sql in try await Self.enqueue(sql, request, protector: protector, now: Clock.millis()) }
    }

    /// Claims up to `limit` due mails for `leaseMillis`, so another worker (or instance) does not send them too.
    public func claimDue(limit: Int = 20, now: Int64 = Clock.millis(), leaseMillis: Int64 = 120_000) async throws -> [QueuedMail] {
        let protector = protector
        let rows = try await database.write { sql in
            // The outer condition is repeated so PostgreSQL re-checks it on rows another instance claimed meanwhile.
            try await sql.raw("""
                UPDATE mail_outbox SET claimed_until = \(bind: now + leaseMillis)
                WHERE id IN (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL
                                 AND next_attempt_at <= \(bind: now) AND (claimed_until IS NULL OR claimed_until < \(bind: now))
                             ORDER BY next_attempt_at LIMIT \(unsafeRaw: String(max(1, min(limit, 200)))))
                  AND (claimed_until IS NULL OR claimed_until < \(bind: now))
                RETURNING id, recipient, template, locale, payload, wrapped_key, attempts
                """).all()
        }
        return try rows.compactMap { row in
            guard let template = MailTemplate(rawValue: try row.decode(column: "template", as: String.self)) else { return nil }
            let plain = try protector.open(try row.decode(column: "payload", as: Data.self),
                                           wrappedKey: try row.decode(column: "wrapped_key", as: Data.self), tenant: Self.keyDomain)
            return QueuedMail(
                id: try row.decode(column: "id", as: String.self), recipient: try row.decode(column: "recipient", as: String.self),
                template: template, locale: try row.decode(column: "locale", as: String.self),
                values: try JSONDecoder().decode([String: String].self, from: plain),
                attempts: try row.decode(column: "attempts", as: Int.self))
        }
    }

    /// Records a successful send and erases the recipient and values.
    public func markSent(id: String, now: Int64 = Clock.millis()) async throws {
        try await database.write { sql in
            try await sql.raw("""
                UPDATE mail_outbox SET sent_at = \(bind: now), claimed_until = NULL, recipient = '', payload = \(bind: Data()),
                    wrapped_key = \(bind: Data()), last_error = NULL
                WHERE id = \(bind: id)
                """).run()
        }
    }

    /// Records a failed attempt: retried after an exponential backoff with jitter, or given up when `permanent`
    /// or after `maxAttempts`. `error` must not contain personal data (it is shown to operators).
    public func markFailed(id: String, attempts: Int, error: String, permanent: Bool, now: Int64 = Clock.millis()) async throws {
        let tries = attempts + 1
        let giveUp = permanent || tries >= Self.maxAttempts
        let next = now + Self.backoffMillis(attempt: tries)
        let message = String(error.prefix(200))
        try await database.write { sql in
            try await sql.raw("""
                UPDATE mail_outbox SET attempts = \(bind: tries), claimed_until = NULL, last_error = \(bind: message),
                    next_attempt_at = \(bind: next), failed_at = \(bind: giveUp ? now : nil as Int64?)
                WHERE id = \(bind: id)
                """).run()
        }
    }

    /// Delay before attempt `attempt + 1`: 30 s doubling up to 8 h, times a random factor in 0.5…1.5.
    public static func backoffMillis(attempt: Int, jitter: Double = Double.random(in: 0.5...1.5)) -> Int64 {
        let base = 30_000.0 * pow(2, Double(max(0, attempt - 1)))
        return Int64(min(base, 8 * 3_600_000.0) * jitter)
    }

    /// Counts of mails by state, for operators and metrics.
    public func counts() async throws -> (pending: Int, sent: Int, failed: Int) {
        try await database.read { sql in
            let row = try await sql.raw("""
                SELECT SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END) AS pending,
                       SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END) AS sent,
                       SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END) AS failed
                FROM mail_outbox
                """).all().first
            return (try row?.decode(column: "pending", as: Int?.self) ?? 0, try row?.decode(column: "sent", as: Int?.self) ?? 0,
                    try row?.decode(column: "failed", as: Int?.self) ?? 0)
        }
    }
}
