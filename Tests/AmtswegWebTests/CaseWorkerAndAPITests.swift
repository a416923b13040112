import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import AmtswegWeb

@Suite("Case worker and specialist-system API over HTTP")
struct CaseWorkerAndAPITests {
    /// Submits one application as a citizen; returns its id and Vorgangsnummer.
    static func submitOne(_ client: any TestClientProtocol) async throws -> (id: String, caseNumber: String) {
        var browser = Browser(client)
        let draftPath = try await CitizenFlowTests.fillAssistant(&browser)
        let submit = try await browser.post("\(draftPath)/absenden", [:])
        let id = String(submit.location.split(separator: "/")[2])
        let confirmation = try await browser.get(submit.location)
        return (id, try #require(Browser.firstMatch(#"id="case-number"[^>]*>([^<]+)<"#, in: confirmation.text)))
    }

    @Test("a case worker logs in, sees the inbox, opens the case and moves it through its states")
    func caseWorker() async throws {
        try await WebHarness.run { client, _ in
            let (id, caseNumber) = try await Self.submitOne(client)
            var staff = Browser(client)
            #expect(try await staff.get("/de/verwaltung").location == "/de/verwaltung/anmelden")
            try await staff.get("/de/verwaltung/anmelden")
            let before = staff.cookie
            let wrong = try await staff.post("/de/verwaltung/anmelden", ["username": DemoData.username, "password": "falsch"])
            #expect(wrong.status == .unprocessableContent && wrong.text.contains("Benutzername oder Passwort ist falsch"))
            let unknown = try await staff.post("/de/verwaltung/anmelden", ["username": "nobody@example.org", "password": "falsch"])
            #expect(unknown.text.contains("Benutzername oder Passwort ist falsch"))
            let login = try await staff.post("/de/verwaltung/anmelden", ["username": DemoData.username, "password": DemoData.password])
            #expect(login.location == "/de/verwaltung/anmelden/code")
            // Password alone is not enough for the back office.
            #expect(try await staff.get("/de/verwaltung").location == "/de/verwaltung/anmelden")
            try await staff.get("/de/verwaltung/anmelden/code")
            let code = try await staff.post("/de/verwaltung/anmelden/code", ["code": Browser.demoTOTP()])
            #expect(code.location == "/de/verwaltung")
            #expect(staff.cookie != nil && staff.cookie != before, "session id must change at login")
            let inbox = try await staff.get("/de/verwaltung")
            #expect(inbox.text.contains(caseNumber) && inbox.text.contains(#"class="case-link""#))
            let caseView = try await staff.get("/de/verwaltung/vorgang/\(id)")
            #expect(caseView.text.contains("Meißen") && caseView.text.contains("nachweis.pdf") && caseView.text.contains("Gabler"))
            let missingReason = try await staff.post("/de/verwaltung/vorgang/\(id)/status", ["status": "rejected", "reason": ""])
            #expect(missingReason.status == .unprocessableContent && missingReason.text.contains("Begründung"))
            let skip = try await staff.post("/de/verwaltung/vorgang/\(id)/status", ["status": "completed"])
            #expect(skip.status == .unprocessableContent && skip.text.contains("nicht möglich"))
            #expect(try await staff.post("/de/verwaltung/vorgang/\(id)/status", ["status": "in_progress"]).status == .seeOther)
            #expect(try await staff.post("/de/verwaltung/vorgang/\(id)/status", ["status": "completed", "reason": "Urkunde versandt"]).status == .seeOther)
            let done = try await staff.get("/de/verwaltung/vorgang/\(id)")
            #expect(done.text.contains("Abgeschlossen") && done.text.contains("Urkunde versandt") && done.text.contains("Vorgang angesehen"))
            // An old session token is worthless after logout.
            let cookie = staff.cookie
            #expect(try await staff.post("/de/verwaltung/abmelden", [:]).location == "/de/verwaltung/anmelden")
            staff.cookie = cookie
            #expect(try await staff.get("/de/verwaltung").location == "/de/verwaltung/anmelden")
            // A citizen session gives no back-office access.
            var citizen = Browser(client)
            try await citizen.get("/de/status")
            #expect(try await citizen.get("/de/verwaltung/vorgang/\(id)").location == "/de/verwaltung/anmelden")
        }
    }

    @Test("a specialist system pulls, acknowledges and answers over the API; errors are problem details")
    func api() async throws {
        try await WebHarness.run { client, portal in
            let tenant = try #require(try await portal.tenants.find(ars: DemoData.ars))
            let key = try await portal.staff.createAPIKey(tenantId: tenant.id, label: "test").key
            let (id, caseNumber) = try await Self.submitOne(client)
            let auth: HTTPFields = [.authorization: "Bearer \(key)"]
            let unauthorized = try await client.execute(uri: "/api/v1/applications", method: .get, headers: [.authorization: "Bearer aw_nope"], body: nil)
            #expect(unauthorized.status == .unauthorized && unauthorized.headers[.contentType] == "application/problem+json")

            let list = try await client.execute(uri: "/api/v1/applications?status=received&acknowledged=false", method: .get, headers: auth, body: nil)
            let listed = try JSONSerialization.jsonObject(with: Data(buffer: list.body)) as! [String: Any]
            let items = listed["items"] as! [[String: Any]]
            #expect(items.count == 1 && items[0]["caseNumber"] as? String == caseNumber)
            let data = items[0]["data"] as! [String: [String: Any]]
            #expect(data["person"]?["F60000000228"] as? String == "Erika" && data["copies"]?["copies"] as? Int == 2)
            #expect(data["birth"]?["G60000083"] as? String == "1990-03-12")
            let fields = items[0]["fields"] as! [[String: Any]]
            #expect(fields.contains { $0["fimId"] as? String == "F60000000246" && $0["value"] as? String == "01662" })
            #expect(fields.contains { $0["id"] as? String == "copies" && $0["fimId"] is NSNull }, "absent FIM ids are explicit nulls")
            let attachments = items[0]["attachments"] as! [[String: Any]]
            #expect(attachments.count == 1 && (attachments[0]["sha512"] as? String)?.count == 128)
            let file = try await client.execute(uri: "/api/v1/applications/\(id)/attachments/\(attachments[0]["id"] as! String)", method: .get, headers: auth, body: nil)
            #expect(String(buffer: file.body).hasPrefix("%PDF"))

            let ack = try await client.execute(uri: "/api/v1/applications/\(id)/acknowledge", method: .post, headers: auth, body: nil)
            #expect(ack.status == .ok && String(buffer: ack.body).contains("acknowledgedAt\":\"20"))
            let after = try await client.execute(uri: "/api/v1/applications?acknowledged=false", method: .get, headers: auth, body: nil)
            #expect(String(buffer: after.body) == #"{"items":[]}"#)

            var json = auth
            json[.contentType] = "application/json"
            let bad = try await client.execute(uri: "/api/v1/applications/\(id)/status", method: .post, headers: json, body: ByteBuffer(string: #"{"status":"completed"}"#))
            #expect(bad.status == .conflict && bad.headers[.contentType] == "application/problem+json")
            let noReason = try await client.execute(uri: "/api/v1/applications/\(id)/status", method: .post, headers: json, body: ByteBuffer(string: #"{"status":"rejected"}"#))
            #expect(noReason.status == .unprocessableContent && String(buffer: noReason.body).contains("\"field\":\"reason\""))
            let garbage = try await client.execute(uri: "/api/v1/applications/\(id)/status", method: .post, headers: json, body: ByteBuffer(string: "{not json"))
            #expect(garbage.status == .badRequest && garbage.headers[.contentType] == "application/problem+json")
            let badQuery = try await client.execute(uri: "/api/v1/applications?status=archived", method: .get, headers: auth, body: nil)
            #expect(badQuery.status == .badRequest && String(buffer: badQuery.body).contains("\"field\":\"status\""))
            let wrongType = try await client.execute(uri: "/api/v1/applications/\(id)/status", method: .post, headers: auth, body: ByteBuffer(string: "status=x"))
            #expect(wrongType.status == .unsupportedMediaType)
            let tooBig = try await client.execute(uri: "/api/v1/applications/\(id)/status", method: .post, headers: json, body: ByteBuffer(string: String(repeating: " ", count: 70_000)))
            #expect(tooBig.status == .contentTooLarge && tooBig.headers[.contentType] == "application/problem+json")
            let ok = try await client.execute(uri: "/api/v1/applications/\(id)/status", method: .post, headers: json, body: ByteBuffer(string: #"{"status":"in_progress"}"#))
            #expect(ok.status == .ok && String(buffer: ok.body).contains(#""status":"in_progress""#))
            #expect(try await client.execute(uri: "/api/v1/applications/\(UUID())", method: .get, headers: auth, body: nil).status == .notFound)

            // Another authority's key sees nothing of this one.
            let other = try await portal.tenants.upsert(try Tenant(id: UUID(), ars: "146270010010", name: "Andere", office: "Standesamt", contactEmail: "x@y.de"))
            let otherKey = try await portal.staff.createAPIKey(tenantId: other.id, label: "other").key
            let foreign = try await client.execute(uri: "/api/v1/applications/\(id)", method: .get, headers: [.authorization: "Bearer \(otherKey)"], body: nil)
            #expect(foreign.status == .notFound)

            let spec = try await client.execute(uri: "/api/openapi.yaml", method: .get, headers: [:], body: nil)
            #expect(String(buffer: spec.body).hasPrefix("openapi: 3.1"))
        }
    }
}

@Suite("JSON log lines")
struct JSONLogTests {
    @Test("log lines are valid JSON with escaped values and an ISO timestamp")
    func escaping() throws {
        var line = ""
        JSONLogHandler.appendQuoted("a\"b\\c\nd\u{1}e\u{2028}", to: &line)
        let decoded = try JSONSerialization.jsonObject(with: Data("[\(line)]".utf8)) as? [String]
        #expect(decoded == ["a\"b\\c\nd\u{1}e\u{2028}"])
        let stamp = JSONLogHandler.timestamp()
        #expect(stamp.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil)
    }
}
