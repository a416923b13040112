import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import AmtswegWeb

@Suite("Back office: filters, assignment, notes, export, team and roles")
struct BackofficeToolsTests {
    @Test("inbox filters by assignee, status, service and date; invalid dates are explained; assignment and notes are audited")
    func filtersAssignmentNotes() async throws {
        try await WebHarness.run { client, portal in
            let (id, caseNumber) = try await CaseWorkerAndAPITests.submitOne(client)
            var staff = Browser(client)
            try await staff.staffLogin()
            let inbox = try await staff.get("/de/verwaltung")
            #expect(inbox.text.contains(caseNumber) && inbox.text.contains("id=\"team-link\""))
            #expect(try await staff.get("/de/verwaltung?zustaendig=ich").text.contains("Keine Anträge gefunden."))
            let admin = try #require(try await portal.staff.user(username: DemoData.username))
            let assigned = try await staff.post("/de/verwaltung/vorgang/\(id)/zuweisung", ["assignee": admin.id])
            #expect(assigned.location == "/de/verwaltung/vorgang/\(id)?ok=zuweisung")
            #expect(try await staff.get(assigned.location).text.contains("Die Zuständigkeit wurde geändert."))
            #expect(try await staff.get("/de/verwaltung?zustaendig=ich").text.contains(caseNumber))
            #expect(!(try await staff.get("/de/verwaltung?zustaendig=niemand").text.contains(caseNumber)))
            #expect(try await staff.get("/de/verwaltung?status=received&leistung=99027002012000").text.contains(caseNumber))
            #expect(!(try await staff.get("/de/verwaltung?leistung=99115003012000").text.contains(caseNumber)))
            let today = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "Europe/Berlin")!, formatOptions: [.withFullDate])
            #expect(try await staff.get("/de/verwaltung?von=\(today)&bis=\(today)").text.contains(caseNumber))
            #expect(!(try await staff.get("/de/verwaltung?bis=2020-01-01").text.contains(caseNumber)))
            let invalid = try await staff.get("/de/verwaltung?von=2026-02-30")
            #expect(invalid.status == .unprocessableContent && invalid.text.contains("Geben Sie ein gültiges Datum ein") && invalid.text.contains("href=\"#from-filter\""))
            let stranger = try await staff.post("/de/verwaltung/vorgang/\(id)/zuweisung", ["assignee": UUID().uuidString.lowercased()])
            #expect(stranger.status == .unprocessableContent && stranger.text.contains("Wählen Sie eine Person Ihrer Behörde aus."))

            let empty = try await staff.post("/de/verwaltung/vorgang/\(id)/notiz", ["note": "  "])
            #expect(empty.status == .unprocessableContent && empty.text.contains("Geben Sie einen Text für die Notiz ein.") && empty.text.contains("href=\"#note\""))
            let tooLong = try await staff.post("/de/verwaltung/vorgang/\(id)/notiz", ["note": String(repeating: "x", count: 5001)])
            #expect(tooLong.status == .unprocessableContent && tooLong.text.contains("höchstens 5000 Zeichen"))
            let saved = try await staff.post("/de/verwaltung/vorgang/\(id)/notiz", ["note": "Geburtsregister 1990 angefragt <b>"])
            #expect(saved.location == "/de/verwaltung/vorgang/\(id)?ok=notiz")
            let view = try await staff.get(saved.location)
            #expect(view.text.contains("Geburtsregister 1990 angefragt &lt;b&gt;") && view.text.contains("Die Notiz wurde gespeichert."))
            #expect(try await staff.post("/de/verwaltung/vorgang/\(id)/notiz", ["note": "x"], csrf: "forged").status == .forbidden)
            let actions = try await portal.applications.history(tenantId: admin.tenantId, id: id).map(\.action)
            #expect(actions.contains("assigned") && actions.filter { $0 == "note_added" }.count == 1)

            // The citizen never sees internal notes.
            var citizen = Browser(client)
            #expect(!(try await citizen.get("/de/status/\(id)").text.contains("Geburtsregister 1990")))
        }
    }

    @Test("the export ZIP holds the receipt, vorgang.json with data, history and notes, and the uploads; it is audited")
    func export() async throws {
        try await WebHarness.run { client, portal in
            let (id, caseNumber) = try await CaseWorkerAndAPITests.submitOne(client)
            var staff = Browser(client)
            try await staff.staffLogin()
            try await staff.get("/de/verwaltung/vorgang/\(id)")
            #expect(try await staff.post("/de/verwaltung/vorgang/\(id)/notiz", ["note": "Für die E-Akte"]).status == .seeOther)
            let zip = try await staff.get("/de/verwaltung/vorgang/\(id)/export.zip")
            #expect(zip.status == .ok && zip.headers[.contentType] == "application/zip")
            #expect(zip.headers[.contentDisposition]?.contains("Vorgang-\(caseNumber).zip") == true)
            let bytes = Data(buffer: zip.body)
            #expect(bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]))
            let text = String(decoding: bytes, as: UTF8.self)
            let missing = ["Antragsbestaetigung.pdf", "vorgang.json", "unterlagen/", "Für die E-Akte", "\"F60000000228\"", "\"history\""]
                .filter { !text.contains($0) }
            #expect(missing.isEmpty, "missing from the export: \(missing)")
            let tenant = try #require(try await portal.tenants.find(ars: DemoData.ars))
            #expect(try await portal.applications.history(tenantId: tenant.id, id: id).contains { $0.action == "exported" })
            var other = Browser(client)
            #expect(try await other.get("/de/verwaltung/vorgang/\(id)/export.zip").location == "/de/verwaltung/anmelden")
        }
    }

    @Test("the admin adds a case worker with a one-time password; the case worker must set up TOTP and cannot administer")
    func teamAndRoles() async throws {
        try await WebHarness.run { client, portal in
            var admin = Browser(client)
            try await admin.staffLogin()
            #expect(try await admin.get("/de/verwaltung/team").text.contains(DemoData.username))
            let invalid = try await admin.post("/de/verwaltung/team", ["name": "Kim Beispiel", "username": "kein-name", "role": "case_worker"])
            #expect(invalid.status == .unprocessableContent && invalid.text.contains("gültige E-Mail-Adresse"))
            let taken = try await admin.post("/de/verwaltung/team", ["name": "X", "username": DemoData.username, "role": "case_worker"])
            #expect(taken.status == .unprocessableContent && taken.text.contains("gibt es schon"))
            let added = try await admin.post("/de/verwaltung/team", ["name": "Kim Beispiel", "username": "kim@musterstadt.example", "role": "case_worker"])
            let password = try #require(Browser.firstMatch(#"es wird nur jetzt angezeigt: ([A-Za-z0-9_-]{20})"#, in: added.text))
            #expect(added.text.contains("Kim Beispiel") && added.text.contains("noch nicht eingerichtet"))

            var worker = Browser(client)
            try await worker.get("/de/verwaltung/anmelden")
            let login = try await worker.post("/de/verwaltung/anmelden", ["username": "kim@musterstadt.example", "password": password])
            #expect(login.location == "/de/verwaltung/anmelden/einrichten", "a new case worker sets up the second factor first")
            let setup = try await worker.get(login.location)
            let secret = try #require(Browser.firstMatch(#"id="totp-secret"[^>]*>([A-Z2-7 ]+)<"#, in: setup.text)).replacingOccurrences(of: " ", with: "")
            let code = TOTP(secret: Base32.decode(secret)!).code(step: TOTP.step(at: Date()))
            #expect(try await worker.post(login.location, ["code": code]).status == .ok)
            let inbox = try await worker.get("/de/verwaltung")
            #expect(inbox.status == .ok && !inbox.text.contains("team-link") && !inbox.text.contains("delivery-problems-link"))
            #expect(try await worker.get("/de/verwaltung/team").status == .forbidden)
            #expect(try await worker.get("/de/verwaltung/zustellungen").status == .forbidden)
            #expect(try await worker.post("/de/verwaltung/team", ["name": "Y", "username": "y@musterstadt.example"]).status == .forbidden)
            let created = try #require(try await portal.staff.user(username: "kim@musterstadt.example"))
            #expect(created.role == StaffUser.caseWorker && created.passwordHash.hasPrefix("$2"))
        }
    }
}
