import AmtswegCore
import Foundation
import SQLKit

/// An identity at an external provider (e.g. BundID) linked to a citizen account.
public struct ExternalIdentity: Sendable, Equatable {
    public let accountId: String
    public let issuer: String
    public let subject: String
    /// The highest level the provider reported for it.
    public let level: TrustLevel
    public let linkedAt: Date
}

/// Why an identity cannot be linked.
public enum IdentityError: Error, Equatable, Sendable {
    /// The identity belongs to another account.
    case linkedToAnotherAccount
    /// The account is linked to another identity at that provider.
    case accountLinkedToAnotherIdentity
}

/// Links between citizen accounts and external identities: one identity per account, one account per identity.
public struct IdentityRepository: Sendable {
    let database: any Database

    /// Creates a repository over `database`.
    public init(database: any Database) { self.database = database }

    /// Links, or records a new level for an existing link; throws when either side is linked elsewhere.
    public func link(accountId: String, issuer: String, subject: String, level: TrustLevel, now: Int64 = Clock.millis()) async throws {
        try await database.write { sql in
            if let row = try await sql.raw("""
                SELECT account_id, level FROM external_identities WHERE issuer = \(bind: issuer) AND subject = \(bind: subject)
                """).all().first {
                guard try row.decode(column: "account_id", as: String.self) == accountId else { throw IdentityError.linkedToAnotherAccount }
                let known = TrustLevel(rawValue: try row.decode(column: "level", as: String.self)) ?? .basis
                try await sql.raw("""
                    UPDATE external_identities SET level = \(bind: max(known, level).rawValue), last_used_at = \(bind: now)
                    WHERE issuer = \(bind: issuer) AND subject = \(bind: subject)
                    """).run()
                return
            }
            if try await !sql.raw("SELECT 1 AS x FROM external_identities WHERE account_id = \(bind: accountId)").all().isEmpty {
                throw IdentityError.accountLinkedToAnotherIdentity
            }
            try await sql.raw("""
                INSERT INTO external_identities (issuer, subject, account_id, level, linked_at, last_used_at)
                VALUES (\(bind: issuer), \(bind: subject), \(bind: accountId), \(bind: level.rawValue), \(bind: now), \(bind: now))
                """).run()
        }
    }

    /// The identity linked to the account.
    public func identity(accountId: String) async throws -> ExternalIdentity? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM external_identities WHERE account_id = \(bind: accountId)").all().first.map(Self.identity)
        }
    }

    /// The account linked to an identity.
    public func accountId(issuer: String, subject: String) async throws -> String? {
        try await database.read { sql in
            try await sql.raw("""
                SELECT account_id FROM external_identities WHERE issuer = \(bind: issuer) AND subject = \(bind: subject)
                """).all().first?.decode(column: "account_id", as: String.self)
        }
    }

    /// Removes the account's link.
    public func unlink(accountId: String) async throws {
        try await database.write { sql in try await sql.raw("DELETE FROM external_identities WHERE account_id = \(bind: accountId)").run() }
    }

    static func identity(_ row: any SQLRow) throws -> ExternalIdentity {
        ExternalIdentity(
            accountId: try row.decode(column: "account_id", as: String.self), issuer: try row.decode(column: "issuer", as: String.self),
            subject: try row.decode(column: "subject", as: String.self),
            level: TrustLevel(rawValue: try row.decode(column: "level", as: String.self)) ?? .basis,
            linkedAt: Clock.date(millis: try row.decode(column: "linked_at", as: Int64.self)))
    }
}
