import AmtswegCore
import Foundation
import SQLKit

/// Tenants (authorities) and the services each offers.
public struct TenantRepository: Sendable {
    let database: any Database

    /// Creates a repository over `database`.
    public init(database: any Database) { self.database = database }

    /// Stores a new tenant, or updates name, office and contact of the tenant with the same ARS.
    @discardableResult
    public func upsert(_ tenant: Tenant) async throws -> Tenant {
        try await database.write { sql in
            let existing = try await sql.raw("SELECT id FROM tenants WHERE ars = \(bind: tenant.ars)").all()
            if let row = existing.first {
                let id = try row.decode(column: "id", as: String.self)
                try await sql.raw("""
                    UPDATE tenants SET name = \(bind: tenant.name), office = \(bind: tenant.office),
                    contact_email = \(bind: tenant.contactEmail), draft_retention_days = \(bind: tenant.draftRetentionDays) WHERE id = \(bind: id)
                    """).run()
                return try Tenant(id: UUID(uuidString: id)!, ars: tenant.ars, name: tenant.name, office: tenant.office,
                                  contactEmail: tenant.contactEmail, draftRetentionDays: tenant.draftRetentionDays)
            }
            try await sql.raw("""
                INSERT INTO tenants (id, ars, name, office, contact_email, created_at, draft_retention_days)
                VALUES (\(bind: tenant.id.uuidString), \(bind: tenant.ars), \(bind: tenant.name), \(bind: tenant.office),
                        \(bind: tenant.contactEmail), \(bind: Clock.millis()), \(bind: tenant.draftRetentionDays))
                """).run()
            return tenant
        }
    }

    /// The tenant with `id`.
    public func find(id: UUID) async throws -> Tenant? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM tenants WHERE id = \(bind: id.uuidString)").all().first.map(Self.tenant)
        }
    }

    /// The tenant with `ars`.
    public func find(ars: String) async throws -> Tenant? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM tenants WHERE ars = \(bind: ars)").all().first.map(Self.tenant)
        }
    }

    /// Every tenant, by name.
    public func all() async throws -> [Tenant] {
        try await database.read { sql in try await sql.raw("SELECT * FROM tenants ORDER BY name").all().map(Self.tenant) }
    }

    /// Offers a service at a tenant, or changes its assistant, fee, office and trust level.
    public func offer(_ service: TenantService) async throws {
        try await database.write { sql in
            try await sql.raw("DELETE FROM tenant_services WHERE tenant_id = \(bind: service.tenantId.uuidString) AND leika_key = \(bind: service.leikaKey)").run()
            try await sql.raw("""
                INSERT INTO tenant_services (tenant_id, leika_key, assistant_id, fee_first_cents, fee_further_cents, office, trust_level)
                VALUES (\(bind: service.tenantId.uuidString), \(bind: service.leikaKey), \(bind: service.assistantId),
                        \(bind: service.fee.firstCopyCents), \(bind: service.fee.furtherCopyCents), \(bind: service.office),
                        \(bind: service.trustLevel?.rawValue))
                """).run()
        }
    }

    /// Every offering of every tenant; the portal caches this (cross-tenant by purpose: it is the public service directory).
    public func allOfferings() async throws -> [TenantService] {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM tenant_services ORDER BY leika_key").all().map { row in
                TenantService(
                    tenantId: UUID(uuidString: try row.decode(column: "tenant_id", as: String.self))!,
                    leikaKey: try row.decode(column: "leika_key", as: String.self),
                    assistantId: try row.decode(column: "assistant_id", as: String.self),
                    fee: FeeSchedule(
                        firstCopyCents: try row.decode(column: "fee_first_cents", as: Int.self),
                        furtherCopyCents: try row.decode(column: "fee_further_cents", as: Int.self)),
                    office: try row.decode(column: "office", as: String?.self),
                    trustLevel: try row.decode(column: "trust_level", as: String?.self).flatMap(TrustLevel.init(rawValue:)))
            }
        }
    }

    static func tenant(_ row: any SQLRow) throws -> Tenant {
        guard let id = UUID(uuidString: try row.decode(column: "id", as: String.self)) else { throw StorageError.corruptRow("tenants.id") }
        return try Tenant(
            id: id, ars: try row.decode(column: "ars", as: String.self), name: try row.decode(column: "name", as: String.self),
            office: try row.decode(column: "office", as: String.self), contactEmail: try row.decode(column: "contact_email", as: String.self),
            draftRetentionDays: try row.decode(column: "draft_retention_days", as: Int?.self) ?? 30)
    }
}
