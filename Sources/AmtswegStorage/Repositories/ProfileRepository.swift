import AmtswegCore
import Foundation
import SQLKit

/// Profile data a citizen agreed to store for prefilling (names, birth, address, contact), and when they agreed.
public struct CitizenProfile: Sendable, Equatable {
    /// Values by profile item (`givenNames`, `familyName`, …); empty items are left out.
    public let values: [String: String]
    /// When the citizen gave consent (last saved with consent).
    public let consentAt: Date
}

/// Profiles, sealed at rest; stored only with consent, deleted when consent is withdrawn.
public struct ProfileRepository: Sendable {
    let database: any Database
    let protector: DataProtector
    static let keyDomain = UUID(uuidString: "00000000-0000-0000-0000-000000000f11")!

    /// Creates a repository; profiles are sealed with `protector`.
    public init(database: any Database, protector: DataProtector) {
        self.database = database
        self.protector = protector
    }

    /// The account's profile, if it gave consent.
    public func profile(accountId: String) async throws -> CitizenProfile? {
        let protector = protector
        return try await database.read { sql in
            guard let row = try await sql.raw("SELECT * FROM citizen_profiles WHERE account_id = \(bind: accountId)").all().first else { return nil }
            let plain = try protector.open(try row.decode(column: "data", as: Data.self), wrappedKey: try row.decode(column: "wrapped_key", as: Data.self),
                                           tenant: Self.keyDomain)
            return CitizenProfile(values: try JSONDecoder().decode([String: String].self, from: plain),
                                  consentAt: Clock.date(millis: try row.decode(column: "consent_at", as: Int64.self)))
        }
    }

    /// Stores the profile (with consent given now); empty values are dropped.
    public func save(accountId: String, values: [String: String], now: Int64 = Clock.millis()) async throws {
        let kept = values.filter { !$0.value.isEmpty }
        let sealed = try protector.seal(try JSONEncoder().encode(kept), tenant: Self.keyDomain)
        try await database.write { sql in
            try await sql.raw("DELETE FROM citizen_profiles WHERE account_id = \(bind: accountId)").run()
            try await sql.raw("""
                INSERT INTO citizen_profiles (account_id, data, wrapped_key, consent_at, updated_at)
                VALUES (\(bind: accountId), \(bind: sealed.ciphertext), \(bind: sealed.wrappedKey), \(bind: now), \(bind: now))
                """).run()
        }
    }

    /// Deletes the profile (consent withdrawn).
    public func delete(accountId: String) async throws {
        try await database.write { sql in try await sql.raw("DELETE FROM citizen_profiles WHERE account_id = \(bind: accountId)").run() }
    }
}
