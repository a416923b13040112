import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import AmtswegWeb

@Suite("XGewerbeanzeige over the API, in FIT-Connect packages and in the export")
struct GewerbeanzeigeAPITests {
    /// A submitted Gewerbeanmeldung of the demo authority with `answers`.
    static func submitGewerbeanmeldung(_ portal: Portal, reason: String = "new") async throws -> ApplicationRecord {
        let tenant = try #require(try await portal.tenants.find(ars: DemoData.ars))
        let assistant = try #require(portal.assistants["gewerbeanmeldung"])
        let session = "gewerbe-\(UUID().uuidString)"
        let draft = try await portal.drafts.create(tenantId: tenant.id, sessionHash: session, leikaKey: assistant.leikaKey, assistant: assistant, locale: "de")
        var pages: [String: [String: String]] = [
            "owner_type": ["owner_type": "natural"], "person": ["F60000000228": "Erika", "F60000000227": "Mustermann", "gender": "w"],
            "birth": ["G60000083": "1990-03-12", "F00000000067": "Meißen", "F60000000235": "Deutschland"],
            "nationality": ["F60000000236": "000", "residence_title_needed": "false"],
            "home": ["F60000000243": "Hauptstr.", "F60000000244": "1", "F60000000246": "01662", "F60000000247": "Meißen"],
            "site": ["F60000000243": "Markt", "F60000000244": "5", "F60000000246": "01662", "F60000000247": "Meißen"],
            "establishment": ["establishment": "main"], "activity": ["activity": "Café", "business_type": "other"],
            "start": ["start_date": "2026-12-01", "secondary": "false", "employees_full": "1", "employees_part": "0"],
            "reason": ["reason": reason], "permits": ["permit": "none", "craft": "none"], "contact": ["F60000000242": "erika@example.org"],
        ]
        if reason != "new" { pages["previous_owner"] = ["previous_name": "Vorgänger"] }
        let receipt = try await portal.applications.submit(draftId: draft.id, sessionHash: session, answers: Answers(pages: pages), feeCents: 2600)
        return try #require(try await portal.applications.find(tenantId: tenant.id, id: receipt.applicationId))
    }

    @Test("GET …/xgewerbeanzeige gives the XML for a Gewerbeanmeldung, 404 for other services, 422 when codes are not public")
    func api() async throws {
        try await WebHarness.run { client, portal in
            let tenant = try #require(try await portal.tenants.find(ars: DemoData.ars))
            let key = try await portal.staff.createAPIKey(tenantId: tenant.id, label: "gewerbe").key
            let application = try await Self.submitGewerbeanmeldung(portal)
            let auth: HTTPFields = [.authorization: "Bearer \(key)"]
            let xml = try await client.execute(uri: "/api/v1/applications/\(application.id)/xgewerbeanzeige", method: .get, headers: auth, body: nil)
            #expect(xml.status == .ok && xml.headers[.contentType]?.hasPrefix("application/xml") == true)
            let text = String(buffer: xml.body)
            #expect(text.contains("<xga:abh.gewerbemeldung.0500") && text.contains("<xga:gemeindeMeldungNr>\(application.caseNumber)</xga:gemeindeMeldungNr>"))
            #expect(text.contains("<xga:gewerbebetriebID>\(application.id)</xga:gewerbebetriebID>"))
            let (other, _) = try await CaseWorkerAndAPITests.submitOne(client)
            #expect(try await client.execute(uri: "/api/v1/applications/\(other)/xgewerbeanzeige", method: .get, headers: auth, body: nil).status == .notFound)
            let takeover = try await Self.submitGewerbeanmeldung(portal, reason: "takeover")
            let refused = try await client.execute(uri: "/api/v1/applications/\(takeover.id)/xgewerbeanzeige", method: .get, headers: auth, body: nil)
            #expect(refused.status == .unprocessableContent && String(buffer: refused.body).contains("Anmeldung reason takeover"))

            // The same message travels in FIT-Connect packages and in the export for the e-Akte.
            let packager = SubmissionPackager(applications: portal.applications, accounts: portal.accounts, assistantVersions: portal.assistantVersions,
                                              tenantsById: portal.tenantsById, offerings: portal.offerings, translator: portal.translator(.de))
            let package = try await packager.package(tenantId: tenant.id, applicationId: application.id, schemaBase: "http://127.0.0.1")
            let part = try #require(package.parts.first { $0.key == "xgewerbeanzeige" })
            #expect(part.contentType == "application/xml" && String(decoding: part.data, as: UTF8.self).contains("<xga:anmeldung>"))
            let metadata = SubmissionMetadata(package: package, ids: Dictionary(uniqueKeysWithValues: package.parts.map { ($0.key, UUID().uuidString) }))
            #expect(metadata.contentStructure.attachments.contains { $0.mimeType == "application/xml" && $0.purpose == "attachment" })
            var staff = Browser(client)
            try await staff.staffLogin()
            let zip = try await staff.get("/de/verwaltung/vorgang/\(application.id)/export.zip")
            #expect(String(decoding: Data(buffer: zip.body), as: UTF8.self).contains("XGewerbeanzeige-\(application.caseNumber).xml"))
        }
    }
}
