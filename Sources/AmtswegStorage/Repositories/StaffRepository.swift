import AmtswegCore
import Foundation
import SQLKit

/// A back-office user of one authority.
public struct StaffUser: Sendable, Equatable {
    public let id: String
    public let tenantId: UUID
    public let username: String
    public let passwordHash: String
    /// "case_worker" or "authority_admin".
    public let role: String
    public let displayName: String

    /// Role of case workers: work on the authority's cases.
    public static let caseWorker = "case_worker"
    /// Role of authority administrators: also colleagues' accounts and delivery problems.
    public static let authorityAdmin = "authority_admin"

    /// Whether the user administers the authority.
    public var isAdmin: Bool { role == Self.authorityAdmin }
}

/// Back-office users and specialist-system API keys, both scoped by tenant.
public struct StaffRepository: Sendable {
    let database: any Database

    /// Creates a repository over `database`.
    public init(database: any Database) { self.database = database }

    /// Creates a user, or replaces the password, role and name of an existing one with that username in that tenant.
    public func upsertUser(tenantId: UUID, username: String, passwordHash: String, role: String, displayName: String) async throws {
        let name = username.lowercased()
        try await database.write { sql in
            let existing = try await sql.raw("SELECT tenant_id FROM staff_users WHERE username = \(bind: name)").all().first
            if let existing {
                guard try existing.decode(column: "tenant_id", as: String.self) == tenantId.uuidString else { throw StorageError.conflict }
                try await sql.raw("""
                    UPDATE staff_users SET password_hash = \(bind: passwordHash), role = \(bind: role), display_name = \(bind: displayName)
                    WHERE username = \(bind: name)
                    """).run()
                return
            }
            try await sql.raw("""
                INSERT INTO staff_users (id, tenant_id, username, password_hash, role, display_name, created_at)
                VALUES (\(bind: UUID().uuidString.lowercased()), \(bind: tenantId.uuidString), \(bind: name), \(bind: passwordHash),
                        \(bind: role), \(bind: displayName), \(bind: Clock.millis()))
                """).run()
        }
    }

    /// The user with this login name.
    public func user(username: String) async throws -> StaffUser? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM staff_users WHERE username = \(bind: username.lowercased())").all().first.map(Self.user)
        }
    }

    /// Every back-office user of `tenantId`, by display name.
    public func users(tenantId: UUID) async throws -> [StaffUser] {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM staff_users WHERE tenant_id = \(bind: tenantId.uuidString) ORDER BY display_name, id").all().map(Self.user)
        }
    }

    /// The user `id` of `tenantId`.
    public func user(id: String, tenantId: UUID) async throws -> StaffUser? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM staff_users WHERE id = \(bind: id) AND tenant_id = \(bind: tenantId.uuidString)").all().first.map(Self.user)
        }
    }

    /// Issues a new API key for a tenant; the plaintext is returned once, only its hash is stored.
    public func createAPIKey(tenantId: UUID, label: String, encryptionJWK: String? = nil) async throws -> (id: String, key: String) {
        let key = "aw_" + SecureToken.generate()
        let id = UUID().uuidString.lowercased()
        try await database.write { sql in
            try await sql.raw("""
                INSERT INTO api_keys (id, tenant_id, key_hash, label, created_at, revoked_at, encryption_jwk)
                VALUES (\(bind: id), \(bind: tenantId.uuidString), \(bind: SecureToken.hash(key)), \(bind: label), \(bind: Clock.millis()), NULL,
                    \(bind: encryptionJWK))
                """).run()
        }
        return (id, key)
    }

    /// The tenant, key id and (if registered) public encryption key (JWK) an unrevoked API key belongs to.
    public func resolveAPIKey(_ key: String) async throws -> (tenantId: UUID, keyId: String, encryptionJWK: String?)? {
        let hash = SecureToken.hash(key)
        return try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT id, tenant_id, encryption_jwk FROM api_keys WHERE key_hash = \(bind: hash) AND revoked_at IS NULL
                """).all().first,
                  let tenant = UUID(uuidString: try row.decode(column: "tenant_id", as: String.self))
            else { return nil }
            return (tenant, try row.decode(column: "id", as: String.self), try row.decode(column: "encryption_jwk", as: String?.self))
        }
    }

    static func user(_ row: any SQLRow) throws -> StaffUser {
        StaffUser(
            id: try row.decode(column: "id", as: String.self),
            tenantId: UUID(uuidString: try row.decode(column: "tenant_id", as: String.self))!,
            username: try row.decode(column: "username", as: String.self),
            passwordHash: try row.decode(column: "password_hash", as: String.self),
            role: try row.decode(column: "role", as: String.self),
            displayName: try row.decode(column: "display_name", as: String.self))
    }
}
