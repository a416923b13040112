import AmtswegCore
import Foundation
import SQLKit

/// Whose second factor: a case worker or a citizen.
public enum FactorOwner: Sendable, Hashable {
    case staff(String)
    case citizen(String)

    /// The stored key, e.g. `staff:ID`.
    var key: String {
        switch self {
        case let .staff(id): "staff:\(id)"
        case let .citizen(id): "citizen:\(id)"
        }
    }
}

/// TOTP secrets (sealed at rest) and recovery codes (hashed); a code is accepted once (RFC 6238 §5.2).
public struct SecondFactorRepository: Sendable {
    let database: any Database
    let protector: DataProtector
    /// Secrets are sealed under this key domain, not an authority's.
    static let keyDomain = UUID(uuidString: "00000000-0000-0000-0000-0000000000f2")!

    /// Creates a repository; secrets are sealed with `protector`.
    public init(database: any Database, protector: DataProtector) {
        self.database = database
        self.protector = protector
    }

    /// Whether `owner` has a confirmed second factor.
    public func isEnrolled(_ owner: FactorOwner) async throws -> Bool {
        try await database.read { sql in
            try await !sql.raw("SELECT 1 AS x FROM second_factors WHERE owner = \(bind: owner.key) AND confirmed_at IS NOT NULL").all().isEmpty
        }
    }

    /// The secret of an enrolment that is not confirmed yet; starts one with a new secret if there is none.
    /// A confirmed factor is never replaced here.
    public func pendingSecret(_ owner: FactorOwner, now: Int64 = Clock.millis()) async throws -> Data? {
        let protector = protector
        return try await database.write { sql in
            if let row = try await sql.raw("SELECT * FROM second_factors WHERE owner = \(bind: owner.key)").all().first {
                guard try row.decode(column: "confirmed_at", as: Int64?.self) == nil else { return nil }
                return try protector.open(try row.decode(column: "secret", as: Data.self), wrappedKey: try row.decode(column: "wrapped_key", as: Data.self),
                                          tenant: Self.keyDomain)
            }
            let secret = TOTP.generateSecret()
            let sealed = try protector.seal(secret, tenant: Self.keyDomain)
            try await sql.raw("""
                INSERT INTO second_factors (owner, secret, wrapped_key, confirmed_at, last_step, created_at)
                VALUES (\(bind: owner.key), \(bind: sealed.ciphertext), \(bind: sealed.wrappedKey), NULL, \(bind: Int64(0)), \(bind: now))
                """).run()
            return secret
        }
    }

    /// Confirms a pending enrolment when `code` matches its secret; stores the recovery codes' hashes and returns
    /// true. The matching step counts as used.
    public func confirm(_ owner: FactorOwner, code: String, recoveryCodes: [String], at date: Date = Date()) async throws -> Bool {
        let protector = protector
        return try await database.write { sql in
            guard let row = try await sql.raw("SELECT * FROM second_factors WHERE owner = \(bind: owner.key) AND confirmed_at IS NULL").all().first
            else { return false }
            let secret = try protector.open(try row.decode(column: "secret", as: Data.self), wrappedKey: try row.decode(column: "wrapped_key", as: Data.self),
                                            tenant: Self.keyDomain)
            guard let step = TOTP(secret: secret).matchingStep(code, at: date) else { return false }
            try await sql.raw("""
                UPDATE second_factors SET confirmed_at = \(bind: Clock.millis(date)), last_step = \(bind: step) WHERE owner = \(bind: owner.key)
                """).run()
            try await Self.replaceRecoveryCodes(sql, owner: owner, codes: recoveryCodes)
            return true
        }
    }

    /// Enrols `owner` with a known secret, already confirmed (the demo case worker; operators' imports).
    public func enrol(_ owner: FactorOwner, secret: Data, recoveryCodes: [String] = [], now: Int64 = Clock.millis()) async throws {
        let sealed = try protector.seal(secret, tenant: Self.keyDomain)
        try await database.write { sql in
            try await sql.raw("DELETE FROM second_factors WHERE owner = \(bind: owner.key)").run()
            try await sql.raw("""
                INSERT INTO second_factors (owner, secret, wrapped_key, confirmed_at, last_step, created_at)
                VALUES (\(bind: owner.key), \(bind: sealed.ciphertext), \(bind: sealed.wrappedKey), \(bind: now), \(bind: Int64(0)), \(bind: now))
                """).run()
            try await Self.replaceRecoveryCodes(sql, owner: owner, codes: recoveryCodes)
        }
    }

    /// Whether `code` is a valid, unused TOTP code or an unused recovery code of `owner`; uses it up if so.
    public func verify(_ owner: FactorOwner, code: String, at date: Date = Date()) async throws -> Bool {
        let protector = protector
        return try await database.write { sql in
            guard let row = try await sql.raw("SELECT * FROM second_factors WHERE owner = \(bind: owner.key) AND confirmed_at IS NOT NULL").all().first
            else { return false }
            let secret = try protector.open(try row.decode(column: "secret", as: Data.self), wrappedKey: try row.decode(column: "wrapped_key", as: Data.self),
                                            tenant: Self.keyDomain)
            if let step = TOTP(secret: secret).matchingStep(code, at: date) {
                // Only a later step than the last accepted one: a code seen once (shoulder, proxy) cannot be replayed.
                let updated = try await sql.raw("""
                    UPDATE second_factors SET last_step = \(bind: step) WHERE owner = \(bind: owner.key) AND last_step < \(bind: step)
                    RETURNING owner
                    """).all()
                return !updated.isEmpty
            }
            let used = try await sql.raw("""
                UPDATE recovery_codes SET used_at = \(bind: Clock.millis(date))
                WHERE owner = \(bind: owner.key) AND code_hash = \(bind: RecoveryCodes.hash(code)) AND used_at IS NULL
                RETURNING owner
                """).all()
            return !used.isEmpty
        }
    }

    /// Unused recovery codes left.
    public func remainingRecoveryCodes(_ owner: FactorOwner) async throws -> Int {
        try await database.read { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM recovery_codes WHERE owner = \(bind: owner.key) AND used_at IS NULL").all().first?
                .decode(column: "n", as: Int.self) ?? 0
        }
    }

    /// Replaces the recovery codes of an enrolled owner.
    public func renewRecoveryCodes(_ owner: FactorOwner, codes: [String]) async throws {
        try await database.write { sql in try await Self.replaceRecoveryCodes(sql, owner: owner, codes: codes) }
    }

    /// Removes the second factor and its recovery codes.
    public func remove(_ owner: FactorOwner) async throws {
        try await database.write { sql in
            try await sql.raw("DELETE FROM second_factors WHERE owner = \(bind: owner.key)").run()
            try await sql.raw("DELETE FROM recovery_codes WHERE owner = \(bind: owner.key)").run()
        }
    }

    static func replaceRecoveryCodes(_ sql: any SQLDatabase, owner: FactorOwner, codes: [String]) async throws {
        try await sql.raw("DELETE FROM recovery_codes WHERE owner = \(bind: owner.key)").run()
        for code in Set(codes.map(RecoveryCodes.hash)) {
            try await sql.raw("INSERT INTO recovery_codes (owner, code_hash, used_at) VALUES (\(bind: owner.key), \(bind: code), NULL)").run()
        }
    }
}
