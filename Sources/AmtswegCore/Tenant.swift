import Foundation

/// An authority on the platform (Behörde/Mandant), identified by its 12-digit ARS.
public struct Tenant: Codable, Sendable, Equatable {
    /// Random id used on every row the tenant owns.
    public let id: UUID
    /// Amtlicher Regionalschlüssel (12 digits).
    public let ars: String
    /// Display name, e.g. "Stadt Musterstadt".
    public let name: String
    /// Short name of the office that handles the services, e.g. "Standesamt".
    public let office: String
    /// Contact e-mail of the office.
    public let contactEmail: String
    /// How long a saved draft's resume link stays valid.
    public let draftRetentionDays: Int

    /// Creates a tenant; `ars` must be 12 digits, retention 1...365 days (default 30).
    public init(id: UUID, ars: String, name: String, office: String, contactEmail: String, draftRetentionDays: Int = 30) throws(TenantError) {
        guard ars.count == 12, ars.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw .invalidARS(ars) }
        guard (1...365).contains(draftRetentionDays) else { throw .invalidRetention(draftRetentionDays) }
        self.id = id
        self.ars = ars
        self.name = name
        self.office = office
        self.contactEmail = contactEmail
        self.draftRetentionDays = draftRetentionDays
    }
}

/// Why a tenant cannot be created.
public enum TenantError: Error, Equatable {
    case invalidARS(String)
    case invalidRetention(Int)
}

/// A service an authority offers: which assistant, at what fee.
public struct TenantService: Codable, Sendable, Equatable {
    /// The offering authority.
    public let tenantId: UUID
    /// LeiKa key.
    public let leikaKey: String
    /// Assistant that runs it.
    public let assistantId: String
    /// The authority's fee.
    public let fee: FeeSchedule
    /// The office that handles it (e.g. "Ausländerbehörde"); nil: the tenant's default office.
    public let office: String?
    /// The trust level the authority needs for it; nil: no account needed.
    public let trustLevel: TrustLevel?

    /// Creates an offering.
    public init(tenantId: UUID, leikaKey: String, assistantId: String, fee: FeeSchedule, office: String? = nil, trustLevel: TrustLevel? = nil) {
        self.tenantId = tenantId
        self.leikaKey = leikaKey
        self.assistantId = assistantId
        self.fee = fee
        self.office = office
        self.trustLevel = trustLevel
    }
}
