import AmtswegCore
import AmtswegStorage
import Foundation
import HummingbirdBcrypt

/// The demo authority "Stadt Musterstadt" (with the real ARS of Meißen, Saxony), its services and a case worker
/// with a known password and TOTP key.
public enum DemoData {
    /// ARS of Meißen, Stadt (Destatis Gemeindeverzeichnis): Land 14, Kreis 627, Verband 0140, Gemeinde 140.
    public static let ars = "146270140140"
    /// Case-worker login of the demo Standesamt.
    public static let username = "standesamt@musterstadt.example"
    /// Its password (demo only; printed in the README).
    public static let password = "Musterstadt-Demo-2026"
    /// Its TOTP key (demo only; printed by `amtsweg demo` and in the README, so anyone can add it to an app).
    public static let totpSecretBase32 = "IFWXI43XMVTSARDFNVXSAMRQGI3CAIJB"

    /// Creates or refreshes the demo tenant, its service offering and its case worker; returns the tenant.
    @discardableResult
    public static func load(into database: any Database, protector: DataProtector, bcryptCost: UInt8 = 10) async throws -> Tenant {
        let tenants = TenantRepository(database: database)
        let tenant = try await tenants.upsert(try Tenant(
            id: UUID(), ars: ars, name: "Stadt Musterstadt", office: "Standesamt", contactEmail: "standesamt@musterstadt.example"))
        for offering in try demoOfferings() {
            try await tenants.offer(TenantService(
                tenantId: tenant.id, leikaKey: offering.leikaKey, assistantId: offering.assistantId,
                fee: FeeSchedule(firstCopyCents: offering.firstCopyCents, furtherCopyCents: offering.furtherCopyCents), office: offering.office,
                trustLevel: offering.trustLevel))
        }
        let routes = DeliveryRouteRepository(database: database, protector: protector)
        // The demo's applications reach the back office and wait for a Fachverfahren on the API; routes an operator set stay.
        if try await routes.routes(tenantId: tenant.id).isEmpty {
            try await routes.set(tenantId: tenant.id, leikaKey: "*", kind: .backoffice)
            try await routes.set(tenantId: tenant.id, leikaKey: "*", kind: .api)
        }
        let hash = Bcrypt.hash(password, cost: bcryptCost)
        let staff = StaffRepository(database: database)
        try await staff.upsertUser(
            tenantId: tenant.id, username: username, passwordHash: hash, role: StaffUser.authorityAdmin, displayName: "Standesamt Musterstadt")
        if let user = try await staff.user(username: username) {
            let factors = SecondFactorRepository(database: database, protector: protector)
            // Enrolled once; loading again keeps the record of used codes.
            if try await !factors.isEnrolled(.staff(user.id)) {
                try await factors.enrol(.staff(user.id), secret: Base32.decode(totpSecretBase32)!)
            }
        }
        return tenant
    }

    /// One service of the demo authority, with its demo prices.
    struct Offering: Decodable {
        let leikaKey: String
        let assistantId: String
        let office: String
        let firstCopyCents: Int
        let furtherCopyCents: Int
        let trustLevel: TrustLevel?
    }

    /// The services the demo authority offers (Resources/data/demo-offerings.json); demo prices, each authority sets its own.
    static func demoOfferings() throws -> [Offering] {
        struct File: Decodable { let offerings: [Offering] }
        return try JSONDecoder().decode(File.self, from: BundledResources.data("data/demo-offerings.json")).offerings
    }

    /// Complete answers of the demo assistant, as the benchmark and tests submit them.
    public static let completeAnswers = Answers(pages: [
        "relation": ["relation": "self"],
        "person": ["F60000000228": "Erika", "F60000000227": "Mustermann"],
        "birth": ["G60000083": "1990-03-12", "F00000000067": "Meißen"],
        "document": ["document_kind": "geburtsurkunde"],
        "copies": ["copies": "2"],
        "delivery": ["delivery_method": "post"],
        "address": ["F60000000243": "Hauptstraße", "F60000000244": "1", "F60000000246": "01662", "F60000000247": "Meißen"],
        "contact": ["F60000000242": "erika@example.org"],
    ])
}
