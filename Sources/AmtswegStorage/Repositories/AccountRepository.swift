import AmtswegCore
import Foundation
import SQLKit

/// A citizen's Servicekonto.
public struct CitizenAccount: Sendable, Equatable {
    public let id: String
    /// Login name and contact address, stored lowercased.
    public let email: String
    public let passwordHash: String
    /// Language of the mails.
    public let locale: String
    /// When the citizen proved the address; nil until then.
    public let emailVerifiedAt: Date?
    public let createdAt: Date
}

/// What a single-use account token is for.
public enum AccountTokenPurpose: String, Sendable {
    case verifyEmail = "verify_email"
    case passwordReset = "password_reset"
    case emailChange = "email_change"

    /// How long a token stays valid.
    public var lifetimeMillis: Int64 {
        switch self {
        case .verifyEmail, .emailChange: 24 * 3_600_000
        case .passwordReset: 3_600_000
        }
    }
}

/// Citizen accounts, their single-use tokens and the mails those cause; each change and its mail commit together.
///
/// Tokens are stored as SHA-256 hashes; issuing a new token of a purpose voids the older ones.
public struct AccountRepository: Sendable {
    let database: any Database
    let protector: DataProtector

    /// Creates a repository; mail values are sealed with `protector`.
    public init(database: any Database, protector: DataProtector) {
        self.database = database
        self.protector = protector
    }

    /// Registers `email`. If the address is new, creates an unverified account and queues a verification mail;
    /// if it already has an account, queues a note to that address instead. Returns whether an account was created;
    /// callers must answer both cases the same way so registration does not reveal which addresses exist.
    @discardableResult
    public func register(email: String, passwordHash: String, locale: String, now: Int64 = Clock.millis()) async throws -> Bool {
        let protector = protector
        return try await database.write { sql in
            if try await sql.raw("SELECT id FROM citizen_accounts WHERE email = \(bind: email)").all().first != nil {
                try await MailOutbox.enqueue(sql, MailRequest(recipient: email, template: .alreadyRegistered, locale: locale), protector: protector, now: now)
                return false
            }
            let id = UUID().uuidString.lowercased()
            try await sql.raw("""
                INSERT INTO citizen_accounts (id, email, password_hash, locale, email_verified_at, created_at, updated_at)
                VALUES (\(bind: id), \(bind: email), \(bind: passwordHash), \(bind: locale), NULL, \(bind: now), \(bind: now))
                """).run()
            let token = try await Self.issueToken(sql, accountId: id, purpose: .verifyEmail, now: now)
            try await MailOutbox.enqueue(sql, MailRequest(recipient: email, template: .verifyEmail, locale: locale, values: ["token": token]),
                                         protector: protector, now: now)
            return true
        }
    }

    /// The account with this address.
    public func account(email: String) async throws -> CitizenAccount? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM citizen_accounts WHERE email = \(bind: email)").all().first.map(Self.account)
        }
    }

    /// The account `id`.
    public func account(id: String) async throws -> CitizenAccount? {
        try await database.read { sql in
            try await Self.load(sql, id: id)
        }
    }

    /// Queues a new verification mail for an unverified account (older links stop working).
    public func resendVerification(accountId: String, now: Int64 = Clock.millis()) async throws {
        let protector = protector
        try await database.write { sql in
            guard let account = try await Self.load(sql, id: accountId) else { return }
            guard account.emailVerifiedAt == nil else { return }
            let token = try await Self.issueToken(sql, accountId: accountId, purpose: .verifyEmail, now: now)
            try await MailOutbox.enqueue(sql, MailRequest(recipient: account.email, template: .verifyEmail, locale: account.locale,
                                                          values: ["token": token]), protector: protector, now: now)
        }
    }

    /// Uses a verification token: marks the address verified and returns the account, or nil for an unknown,
    /// used or expired token.
    public func confirmEmail(token: String, now: Int64 = Clock.millis()) async throws -> CitizenAccount? {
        try await database.write { sql in
            guard let (accountId, _) = try await Self.consumeToken(sql, token: token, purpose: .verifyEmail, now: now) else { return nil }
            try await sql.raw("""
                UPDATE citizen_accounts SET email_verified_at = \(bind: now), updated_at = \(bind: now)
                WHERE id = \(bind: accountId) AND email_verified_at IS NULL
                """).run()
            return try await Self.load(sql, id: accountId)
        }
    }

    /// Queues a reset link if `email` has an account; does nothing otherwise (the caller answers the same either way).
    public func requestPasswordReset(email: String, now: Int64 = Clock.millis()) async throws {
        let protector = protector
        try await database.write { sql in
            guard let row = try await sql.raw("SELECT * FROM citizen_accounts WHERE email = \(bind: email)").all().first else { return }
            let account = try Self.account(row)
            let token = try await Self.issueToken(sql, accountId: account.id, purpose: .passwordReset, now: now)
            try await MailOutbox.enqueue(sql, MailRequest(recipient: account.email, template: .passwordReset, locale: account.locale,
                                                          values: ["token": token]), protector: protector, now: now)
        }
    }

    /// The account a live token of `purpose` belongs to (for showing the form that uses it), without using it.
    public func tokenAccount(_ token: String, purpose: AccountTokenPurpose, now: Int64 = Clock.millis()) async throws -> CitizenAccount? {
        let hash = SecureToken.hash(token)
        return try await database.read { sql in
            try await sql.raw("""
                SELECT a.* FROM account_tokens t JOIN citizen_accounts a ON a.id = t.account_id
                WHERE t.token_hash = \(bind: hash) AND t.purpose = \(bind: purpose.rawValue) AND t.used_at IS NULL
                  AND t.expires_at > \(bind: now)
                """).all().first.map(Self.account)
        }
    }

    /// Uses a reset token: sets the new password, ends every session of the account (the old password may be
    /// known to someone else), marks the address verified (the mail arrived) and queues a notice.
    public func resetPassword(token: String, passwordHash: String, now: Int64 = Clock.millis()) async throws -> CitizenAccount? {
        let protector = protector
        return try await database.write { sql in
            guard let (accountId, _) = try await Self.consumeToken(sql, token: token, purpose: .passwordReset, now: now) else { return nil }
            try await sql.raw("""
                UPDATE citizen_accounts SET password_hash = \(bind: passwordHash), updated_at = \(bind: now),
                    email_verified_at = COALESCE(email_verified_at, \(bind: now))
                WHERE id = \(bind: accountId)
                """).run()
            try await sql.raw("DELETE FROM sessions WHERE account_id = \(bind: accountId)").run()
            guard let account = try await Self.load(sql, id: accountId) else { return nil }
            try await MailOutbox.enqueue(sql, MailRequest(recipient: account.email, template: .passwordChanged, locale: account.locale),
                                         protector: protector, now: now)
            return account
        }
    }

    /// Sets a new password for a signed-in citizen, ends their other sessions and queues a notice.
    public func changePassword(accountId: String, passwordHash: String, keepingSession idHash: String, now: Int64 = Clock.millis()) async throws {
        let protector = protector
        try await database.write { sql in
            guard let account = try await Self.load(sql, id: accountId) else { throw StorageError.notFound }
            try await sql.raw("UPDATE citizen_accounts SET password_hash = \(bind: passwordHash), updated_at = \(bind: now) WHERE id = \(bind: accountId)").run()
            try await sql.raw("DELETE FROM sessions WHERE account_id = \(bind: accountId) AND id_hash <> \(bind: idHash)").run()
            try await MailOutbox.enqueue(sql, MailRequest(recipient: account.email, template: .passwordChanged, locale: account.locale),
                                         protector: protector, now: now)
        }
    }

    /// Starts a change of address: a confirmation link goes to `newEmail`. If that address already has an account,
    /// its owner gets the "already registered" note instead, and the caller answers the same way.
    public func requestEmailChange(accountId: String, newEmail: String, now: Int64 = Clock.millis()) async throws {
        let protector = protector
        try await database.write { sql in
            guard let account = try await Self.load(sql, id: accountId) else { throw StorageError.notFound }
            if try await sql.raw("SELECT id FROM citizen_accounts WHERE email = \(bind: newEmail)").all().first != nil {
                try await MailOutbox.enqueue(sql, MailRequest(recipient: newEmail, template: .alreadyRegistered, locale: account.locale),
                                             protector: protector, now: now)
                return
            }
            let token = try await Self.issueToken(sql, accountId: accountId, purpose: .emailChange, newEmail: newEmail, now: now)
            try await MailOutbox.enqueue(sql, MailRequest(recipient: newEmail, template: .confirmNewEmail, locale: account.locale,
                                                          values: ["token": token]), protector: protector, now: now)
        }
    }

    /// Uses an address-change token: the new address becomes the login, the old one gets a notice.
    /// Nil for an unknown, used or expired token, or when the address was taken meanwhile.
    public func confirmEmailChange(token: String, now: Int64 = Clock.millis()) async throws -> CitizenAccount? {
        let protector = protector
        return try await database.write { sql in
            guard let (accountId, newEmail) = try await Self.consumeToken(sql, token: token, purpose: .emailChange, now: now),
                  let newEmail,
                  let old = try await Self.load(sql, id: accountId)
            else { return nil }
            if try await sql.raw("SELECT id FROM citizen_accounts WHERE email = \(bind: newEmail)").all().first != nil { return nil }
            try await sql.raw("""
                UPDATE citizen_accounts SET email = \(bind: newEmail), email_verified_at = \(bind: now), updated_at = \(bind: now)
                WHERE id = \(bind: accountId)
                """).run()
            try await MailOutbox.enqueue(sql, MailRequest(recipient: old.email, template: .emailChanged, locale: old.locale),
                                         protector: protector, now: now)
            return try await Self.load(sql, id: accountId)
        }
    }

    /// Ends every session of the account except `idHash` (nil: all of them).
    public func endSessions(accountId: String, except idHash: String?) async throws {
        try await database.write { sql in
            if let idHash {
                try await sql.raw("DELETE FROM sessions WHERE account_id = \(bind: accountId) AND id_hash <> \(bind: idHash)").run()
            } else {
                try await sql.raw("DELETE FROM sessions WHERE account_id = \(bind: accountId)").run()
            }
        }
    }

    /// Deletes the account: its sessions, tokens, second factor, document safe, profile, linked
    /// identity and the account itself. Applications stay with the authority
    /// (their retention is the authority's legal duty) but are no longer linked to an account; a notice is queued.
    public func delete(accountId: String, now: Int64 = Clock.millis()) async throws {
        let protector = protector
        try await database.write { sql in
            guard let account = try await Self.load(sql, id: accountId) else { throw StorageError.notFound }
            try await sql.raw("UPDATE applications SET account_id = NULL WHERE account_id = \(bind: accountId)").run()
            try await sql.raw("DELETE FROM sessions WHERE account_id = \(bind: accountId)").run()
            try await sql.raw("DELETE FROM account_tokens WHERE account_id = \(bind: accountId)").run()
            try await sql.raw("DELETE FROM citizen_accounts WHERE id = \(bind: accountId)").run()
            try await sql.raw("DELETE FROM safe_documents WHERE account_id = \(bind: accountId)").run()
            try await sql.raw("DELETE FROM external_identities WHERE account_id = \(bind: accountId)").run()
            try await sql.raw("DELETE FROM citizen_profiles WHERE account_id = \(bind: accountId)").run()
            try await sql.raw("DELETE FROM second_factors WHERE owner = \(bind: FactorOwner.citizen(accountId).key)").run()
            try await sql.raw("DELETE FROM recovery_codes WHERE owner = \(bind: FactorOwner.citizen(accountId).key)").run()
            try await MailOutbox.enqueue(sql, MailRequest(recipient: account.email, template: .accountDeleted, locale: account.locale),
                                         protector: protector, now: now)
        }
    }

    /// Data minimisation: deletes used or expired tokens, accounts never confirmed within `unconfirmedDays`, and the
    /// traces of mails sent or given up more than `mailDays` ago. Returns how many rows went.
    @discardableResult
    public func purgeStale(now: Int64 = Clock.millis(), unconfirmedDays: Int64 = 7, mailDays: Int64 = 30) async throws -> Int {
        let day: Int64 = 86_400_000
        return try await database.write { sql in
            let tokens = try await sql.raw("""
                DELETE FROM account_tokens WHERE used_at IS NOT NULL OR expires_at < \(bind: now) RETURNING token_hash
                """).all().count
            let accounts = try await sql.raw("""
                DELETE FROM citizen_accounts WHERE email_verified_at IS NULL AND created_at < \(bind: now - unconfirmedDays * day) RETURNING id
                """).all().count
            let mails = try await sql.raw("""
                DELETE FROM mail_outbox WHERE (sent_at IS NOT NULL AND sent_at < \(bind: now - mailDays * day))
                   OR (failed_at IS NOT NULL AND failed_at < \(bind: now - mailDays * day)) RETURNING id
                """).all().count
            return tokens + accounts + mails
        }
    }

    /// Issues a token inside the caller's transaction; earlier unused tokens of the same purpose stop working.
    static func issueToken(_ sql: any SQLDatabase, accountId: String, purpose: AccountTokenPurpose, newEmail: String? = nil, now: Int64) async throws -> String {
        try await sql.raw("""
            UPDATE account_tokens SET used_at = \(bind: now)
            WHERE account_id = \(bind: accountId) AND purpose = \(bind: purpose.rawValue) AND used_at IS NULL
            """).run()
        let token = SecureToken.generate()
        try await sql.raw("""
            INSERT INTO account_tokens (token_hash, account_id, purpose, new_email, expires_at, used_at, created_at)
            VALUES (\(bind: SecureToken.hash(token)), \(bind: accountId), \(bind: purpose.rawValue), \(bind: newEmail),
                    \(bind: now + purpose.lifetimeMillis), NULL, \(bind: now))
            """).run()
        return token
    }

    /// Marks a live token used and returns its account and new address; nil when unknown, used, expired or for another purpose.
    static func consumeToken(_ sql: any SQLDatabase, token: String, purpose: AccountTokenPurpose, now: Int64) async throws -> (String, String?)? {
        let rows = try await sql.raw("""
            UPDATE account_tokens SET used_at = \(bind: now)
            WHERE token_hash = \(bind: SecureToken.hash(token)) AND purpose = \(bind: purpose.rawValue)
              AND used_at IS NULL AND expires_at > \(bind: now)
            RETURNING account_id, new_email
            """).all()
        guard let row = rows.first else { return nil }
        return (try row.decode(column: "account_id", as: String.self), try row.decode(column: "new_email", as: String?.self))
    }

    /// The account `id`, read inside the caller's transaction.
    static func load(_ sql: any SQLDatabase, id: String) async throws -> CitizenAccount? {
        try await sql.raw("SELECT * FROM citizen_accounts WHERE id = \(bind: id)").all().first.map(Self.account)
    }

    static func account(_ row: any SQLRow) throws -> CitizenAccount {
        CitizenAccount(
            id: try row.decode(column: "id", as: String.self), email: try row.decode(column: "email", as: String.self),
            passwordHash: try row.decode(column: "password_hash", as: String.self), locale: try row.decode(column: "locale", as: String.self),
            emailVerifiedAt: try row.decode(column: "email_verified_at", as: Int64?.self).map { Clock.date(millis: $0) },
            createdAt: Clock.date(millis: try row.decode(column: "created_at", as: Int64.self)))
    }
}
