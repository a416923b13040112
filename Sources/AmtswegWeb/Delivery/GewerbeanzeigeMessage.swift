import AmtswegCore
import AmtswegStandards
import AmtswegStorage
import Crypto
import Foundation

/// The XGewerbeanzeige 2.2 message of a Gewerbeanmeldung, for every channel that carries one (API, FIT-Connect, export).
enum GewerbeanzeigeMessage {
    /// The message of `application`; nil for other services; `.unavailable` when the answers need codes that are not public.
    static func xml(for application: ApplicationRecord, tenant: Tenant, office: String) throws(XGewerbeanzeige.Unavailable) -> String? {
        guard application.assistantId == XGewerbeanzeige.assistantId else { return nil }
        // The application id names the business (gewerbebetriebID); the Satz id is derived from it, so every copy of the
        // message describes the same Satz.
        let businessId = UUID(uuidString: application.id) ?? UUID()
        let digest = Array(SHA256.hash(data: Data("satz:\(application.id)".utf8)))
        let satzId = UUID(uuid: (digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], (digest[6] & 0x0F) | 0x50, digest[7],
                                 (digest[8] & 0x3F) | 0x80, digest[9], digest[10], digest[11], digest[12], digest[13], digest[14], digest[15]))
        return try XGewerbeanzeige.anmeldung(
            answers: application.answers.pages, caseNumber: application.caseNumber, submittedAt: application.submittedAt,
            authority: .init(name: tenant.name, ars: tenant.ars, office: office, email: tenant.contactEmail),
            businessId: businessId, satzId: satzId)
    }
}
