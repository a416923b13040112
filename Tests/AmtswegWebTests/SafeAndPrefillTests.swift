import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import AmtswegWeb

@Suite("Dokumentensafe and prefill from the profile")
struct SafeAndPrefillTests {
    @Test("every prefill entry names a page and field of the current assistant version, and only dates take the birth date")
    func prefillMapMatchesAssistants() throws {
        let map = try JSONDecoder().decode(PrefillMap.self, from: BundledResources.data("data/prefill.json"))
        let assistants = try Portal.loadAssistants()
        #expect(Set(map.assistants.keys) == Set(assistants.keys))
        for (assistantId, pages) in map.assistants {
            let definition = try #require(assistants[assistantId])
            for (pageId, fields) in pages {
                let page = try #require(definition.page(pageId), "\(assistantId): no page \(pageId)")
                #expect(page.repeat == nil, "\(assistantId)/\(pageId) repeats")
                for (fieldId, item) in fields {
                    let field = try #require(page.fields.first { $0.id == fieldId }, "\(assistantId)/\(pageId): no field \(fieldId)")
                    #expect(map.profileItems.contains(item))
                    #expect((field.kind == .date) == (item == "birthDate"), "\(assistantId)/\(pageId)/\(fieldId)")
                }
            }
        }
    }

    @Test("documents go into the safe checked like uploads, only their owner sees them, and one can be chosen in an application")
    func safe() async throws {
        try await WebHarness.run { client, portal in
            var anna = try await AccountSecurityTests.signedIn(client, portal, email: "anna@example.org")
            #expect(try await anna.get("/de/konto/dokumente").text.contains("id=\"no-documents\""))
            let wrong = try await anna.postMultipart("/de/konto/dokumente", fields: [:], file: ("file", "notiz.txt", Data("Hallo".utf8)))
            #expect(wrong.status == .unprocessableContent && wrong.text.contains("PDF-, PNG- oder JPEG-Datei"))
            let none = try await anna.postMultipart("/de/konto/dokumente", fields: [:], file: ("file", "", Data()))
            #expect(none.status == .unprocessableContent && none.text.contains("Wählen Sie eine Datei aus."))
            let pdf = Data("%PDF-1.4\n% Geburtsurkunde der Schwester\n%%EOF\n".utf8)
            #expect(try await anna.postMultipart("/de/konto/dokumente", fields: [:], file: ("file", "Nachweis-Erbschein.pdf", pdf)).location
                    == "/de/konto/dokumente?gespeichert=1")
            let list = try await anna.get("/de/konto/dokumente?gespeichert=1")
            #expect(list.text.contains("Nachweis-Erbschein.pdf") && list.text.contains("id=\"success\""))
            let href = try #require(Browser.firstMatch(#"href="(/de/konto/dokumente/[0-9a-f-]{36})""#, in: list.text))
            #expect(Data(buffer: try await anna.get(href).body) == pdf)
            // Stored sealed: the bytes are not in the table.
            let raw = try await portal.database.read { sql in try await sql.raw("SELECT data FROM safe_documents").all().first!.decode(column: "data", as: Data.self) }
            #expect(raw.range(of: Data("Schwester".utf8)) == nil)
            var bert = try await AccountSecurityTests.signedIn(client, portal, email: "bert@example.org")
            #expect(try await bert.get(href).status == .notFound)
            try await bert.get("/de/konto/dokumente")
            #expect(try await bert.post("\(href)/loeschen", [:]).status == .notFound)

            // In an application: the file question offers the safe; choosing it replaces the upload.
            try await anna.get("/de/leistungen/99027002012000")
            let start = try await anna.post("/de/leistungen/99027002012000/start", [:])
            let draftPath = String(start.location.dropLast("/relation".count))
            try await anna.post(start.location, ["relation": "sibling"])
            let interest = try await anna.get("\(draftPath)/interest")
            let documentId = String(href.split(separator: "/").last!)
            #expect(interest.text.contains("name=\"interest_proof__safe\"") && interest.text.contains("value=\"\(documentId)\""))
            let chosen = try await anna.postMultipart("\(draftPath)/interest",
                                                      fields: ["interest_reason": "Erbscheinsverfahren", "interest_proof__safe": documentId],
                                                      file: ("interest_proof", "", Data()))
            #expect(chosen.location == "\(draftPath)/applicant")
            let attachments = try await portal.drafts.attachments(draftId: String(draftPath.split(separator: "/").last!),
                                                                  tenantId: try #require(portal.tenantsById.values.first).id)
            #expect(attachments.map(\.filename) == ["Nachweis-Erbschein.pdf"])
            // Someone else's document id is not an upload.
            try await bert.get("/de/leistungen/99027002012000")
            let other = try await bert.post("/de/leistungen/99027002012000/start", [:])
            let otherPath = String(other.location.dropLast("/relation".count))
            try await bert.post(other.location, ["relation": "sibling"])
            try await bert.get("\(otherPath)/interest")
            let stolen = try await bert.postMultipart("\(otherPath)/interest", fields: ["interest_reason": "x", "interest_proof__safe": documentId],
                                                      file: ("interest_proof", "", Data()))
            #expect(stolen.status == .unprocessableContent)

            try await anna.get("/de/konto/dokumente")
            #expect(try await anna.post("\(href)/loeschen", [:]).location == "/de/konto/dokumente?geloescht=1")
            #expect(try await anna.get(href).status == .notFound)
        }
    }

    @Test("a document clamd flags is refused for the Dokumentensafe (the check shared with replies and messages), and nothing is stored")
    func scanned() async throws {
        guard let clamd = try ClamdProcess.start() else { return }
        defer { clamd.stop() }
        let flagged = try Data(contentsOf: ClamdProcess.testPDF)
        try await WebHarness.run(scanner: ClamdScanner(endpoint: .unix(clamd.socketPath))) { client, portal in
            var anna = try await AccountSecurityTests.signedIn(client, portal, email: "anna@example.org")
            try await anna.get("/de/konto/dokumente")
            let refused = try await anna.postMultipart("/de/konto/dokumente", fields: [:], file: ("file", "clam.pdf", flagged))
            #expect(refused.status == .unprocessableContent && refused.text.contains("Schadsoftware"))
            let clean = try await anna.postMultipart("/de/konto/dokumente", fields: [:], file: ("file", "n.pdf", Data("%PDF-1.4\n%%EOF\n".utf8)))
            #expect(clean.status == .seeOther)
            let account = try #require(try await portal.accounts.account(email: "anna@example.org"))
            #expect(try await portal.documentSafe.list(accountId: account.id).map(\.filename) == ["n.pdf"])
        }
    }

    @Test("the profile is stored only with consent, prefills the applicant's fields with a notice, and is gone after withdrawal")
    func prefill() async throws {
        try await WebHarness.run { client, portal in
            var anna = try await AccountSecurityTests.signedIn(client, portal, email: "anna@example.org")
            try await anna.get("/de/konto/profil")
            let values = ["givenNames": "Anna Maria", "familyName": "Šimková", "birthDate": "31.12.1990", "street": "Hauptstraße",
                          "houseNumber": "5a", "postalCode": "01662", "city": "Meißen", "email": "anna.kontakt@example.org"]
            let noConsent = try await anna.post("/de/konto/profil", values)
            #expect(noConsent.status == .unprocessableContent && noConsent.text.contains("Bestätigen Sie die Einwilligung"))
            let account = try #require(try await portal.accounts.account(email: "anna@example.org"))
            #expect(try await portal.profiles.profile(accountId: account.id) == nil)
            var bad = values
            bad["postalCode"] = "1066"
            bad["consent"] = "yes"
            #expect(try await anna.post("/de/konto/profil", bad).text.contains("Die Postleitzahl hat 5 Ziffern."))
            var good = values
            good["consent"] = "yes"
            let saved = try await anna.post("/de/konto/profil", good)
            #expect(saved.status == .ok && saved.text.contains("id=\"consent-since\""))
            #expect(try await portal.profiles.profile(accountId: account.id)?.values["birthDate"] == "1990-12-31")

            try await anna.get("/de/leistungen/99027002012000")
            let start = try await anna.post("/de/leistungen/99027002012000/start", [:])
            let draftPath = String(start.location.dropLast("/relation".count))
            try await anna.post(start.location, ["relation": "sibling"])
            try await anna.get("\(draftPath)/interest")
            try await anna.postMultipart("\(draftPath)/interest", fields: ["interest_reason": "Erbscheinsverfahren"],
                                         file: ("interest_proof", "n.pdf", Data("%PDF-1.4\n".utf8)))
            let applicant = try await anna.get("\(draftPath)/applicant")
            #expect(applicant.text.contains("id=\"prefill-notice\"") && applicant.text.contains("value=\"Anna Maria\"") && applicant.text.contains("value=\"Šimková\""))
            // The person whose certificate is asked for may be someone else: not prefilled.
            try await anna.post("\(draftPath)/applicant", ["F60000000228": "Anna Maria", "F60000000227": "Šimková"])
            let person = try await anna.get("\(draftPath)/person")
            #expect(!person.text.contains("prefill-notice") && !person.text.contains("value=\"Anna Maria\""))
            // A changed answer stays changed: prefill only fills pages not answered yet.
            try await anna.post("\(draftPath)/applicant", ["F60000000228": "Anna", "F60000000227": "Šimková"])
            let again = try await anna.get("\(draftPath)/applicant")
            #expect(again.text.contains("value=\"Anna\"") && !again.text.contains("prefill-notice"))

            try await anna.get("/de/konto/profil")
            #expect(try await anna.post("/de/konto/profil/loeschen", [:]).text.contains("Ihre Angaben sind gelöscht"))
            #expect(try await portal.profiles.profile(accountId: account.id) == nil)
        }
    }
}
