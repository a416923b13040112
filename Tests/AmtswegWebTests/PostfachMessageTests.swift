import AmtswegCore
import AmtswegStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import AmtswegWeb

@Suite("Postfach messages over HTTP: back office, citizen reply, specialist-system API")
struct PostfachMessageTests {
    static let pdf = Data("%PDF-1.4\n% Bescheid\n%%EOF\n".utf8)

    @Test("the case worker asks with a file, the citizen sees a task, answers with a file, and the answer reaches back office and API")
    func requestAndReply() async throws {
        try await WebHarness.run { client, portal in
            var anna = try await AccountSecurityTests.signedIn(client, portal, email: "anna@example.org")
            let draftPath = try await CitizenFlowTests.fillAssistant(&anna)
            let submit = try await anna.post("\(draftPath)/absenden", [:])
            let id = String(submit.location.split(separator: "/").dropLast().last!)
            _ = try await portal.outbox.claimDue(limit: 200, leaseMillis: 3_600_000)

            var staff = Browser(client)
            try await staff.staffLogin()
            try await staff.get("/de/verwaltung/vorgang/\(id)")
            // Bad input: no subject; a text file pretending to be a PDF.
            let noSubject = try await staff.postMultipart("/de/verwaltung/vorgang/\(id)/nachricht", fields: ["kind": "request", "subject": " ", "body": "x"],
                                                          file: ("file", "", Data()))
            #expect(noSubject.status == .unprocessableContent && noSubject.text.contains("Geben Sie einen Betreff ein."))
            let fake = try await staff.postMultipart("/de/verwaltung/vorgang/\(id)/nachricht",
                                                     fields: ["kind": "message", "subject": "Bescheid", "body": "Anbei."],
                                                     file: ("file", "bescheid.pdf", Data("nur Text".utf8)))
            #expect(fake.status == .unprocessableContent && fake.text.contains("PDF-, PNG- oder JPEG-Datei"), "\(fake.text.components(separatedBy: "id=\"message-error\"").dropFirst().first?.prefix(300) ?? "")")
            let sent = try await staff.postMultipart("/de/verwaltung/vorgang/\(id)/nachricht",
                                                     fields: ["kind": "request", "subject": "Vollmacht fehlt", "body": "Bitte reichen Sie die Vollmacht nach.",
                                                              "due": "2026-12-15"],
                                                     file: ("file", "Hinweise.pdf", Self.pdf))
            #expect(sent.status == .seeOther)
            let mails = try await portal.outbox.claimDue(limit: 200, leaseMillis: 3_600_000)
            #expect(mails.map(\.template) == [.postfachNotice] && mails.first?.recipient == "anna@example.org" && mails.first?.values.isEmpty == true)

            let postfach = try await anna.get("/de/konto")
            #expect(postfach.text.contains("id=\"tasks\"") && postfach.text.contains("1 neue Nachricht") && postfach.text.contains("15. Dezember 2026"))
            let view = try await anna.get("/de/konto/antraege/\(id)")
            #expect(view.text.contains("Vollmacht fehlt") && view.text.contains("Bitte reichen Sie die Vollmacht nach."))
            let fileHref = try #require(Browser.firstMatch(#"href="(/de/konto/antraege/[^"]+/datei/[^"]+)""#, in: view.text))
            let download = try await anna.get(fileHref)
            #expect(download.status == .ok && download.headers[.contentType] == "application/pdf" && Data(buffer: download.body) == Self.pdf)
            #expect(!(try await anna.get("/de/konto").text.contains("badge unread")), "opening the application marks messages read")
            let requestId = try #require(Browser.firstMatch(#"name="request" value="([^"]+)""#, in: view.text))

            // Another citizen can neither read the file nor answer.
            var bert = try await AccountSecurityTests.signedIn(client, portal, email: "bert@example.org")
            #expect(try await bert.get(fileHref).status == .notFound)
            try await bert.get("/de/konto")
            let foreign = try await bert.postMultipart("/de/konto/antraege/\(id)/antwort", fields: ["request": requestId, "body": "Ich bin nicht Anna"],
                                                       file: ("file", "", Data()))
            #expect(foreign.status == .notFound, "\(foreign.status) \(foreign.location)")

            let empty = try await anna.postMultipart("/de/konto/antraege/\(id)/antwort", fields: ["request": requestId, "body": "  "], file: ("file", "", Data()))
            #expect(empty.status == .unprocessableContent && empty.text.contains("Geben Sie Ihre Antwort ein."))
            let reply = try await anna.postMultipart("/de/konto/antraege/\(id)/antwort", fields: ["request": requestId, "body": "Anbei die Vollmacht."],
                                                     file: ("file", "vollmacht.pdf", Self.pdf))
            #expect(reply.status == .seeOther)
            let after = try await anna.get("/de/konto/antraege/\(id)?beantwortet=1")
            #expect(after.text.contains("id=\"success\"") && after.text.contains("Anbei die Vollmacht.") && !after.text.contains("name=\"request\""))
            let twice = try await anna.postMultipart("/de/konto/antraege/\(id)/antwort", fields: ["request": requestId, "body": "Noch einmal."],
                                                     file: ("file", "", Data()))
            #expect(twice.status == .unprocessableContent && twice.text.contains("schon beantwortet"))

            let caseView = try await staff.get("/de/verwaltung/vorgang/\(id)")
            #expect(caseView.text.contains("Anbei die Vollmacht.") && caseView.text.contains("vollmacht.pdf") && caseView.text.contains("Antwort der antragstellenden Person"))

            let tenant = try #require(try await portal.tenants.find(ars: DemoData.ars))
            let key = try await portal.staff.createAPIKey(tenantId: tenant.id, label: "test").key
            let thread = try await client.execute(uri: "/api/v1/applications/\(id)/messages", method: .get, headers: [.authorization: "Bearer \(key)"], body: nil)
            let items = try #require((try JSONSerialization.jsonObject(with: Data(buffer: thread.body)) as? [String: Any])?["items"] as? [[String: Any]])
            #expect(items.map { $0["kind"] as? String } == ["request", "reply"])
            #expect(items[1]["replyTo"] as? String == requestId && items[1]["author"] as? String == "citizen" && items[0]["answeredAt"] is String)
            let replyFiles = try #require(items[1]["attachments"] as? [[String: Any]])
            let href = try #require(replyFiles.first?["href"] as? String)
            let fetched = try await client.execute(uri: href, method: .get, headers: [.authorization: "Bearer \(key)"], body: nil)
            #expect(Data(buffer: fetched.body) == Self.pdf)
        }
    }

    @Test("the API posts a Bescheid into the Postfach and refuses bad messages with problem details")
    func apiMessages() async throws {
        try await WebHarness.run { client, portal in
            let (id, _) = try await CaseWorkerAndAPITests.submitOne(client)
            let tenant = try #require(try await portal.tenants.find(ars: DemoData.ars))
            let key = try await portal.staff.createAPIKey(tenantId: tenant.id, label: "test").key
            let headers: HTTPFields = [.authorization: "Bearer \(key)", .contentType: "application/json"]
            func post(_ body: String) async throws -> TestResponse {
                try await client.execute(uri: "/api/v1/applications/\(id)/messages", method: .post, headers: headers, body: ByteBuffer(string: body))
            }
            let bescheid = Self.pdf.base64EncodedString()
            let created = try await post(#"{"kind":"message","subject":"Bescheid","body":"Ihr Antrag ist bewilligt.","attachments":[{"filename":"Bescheid.pdf","contentBase64":"\#(bescheid)"}]}"#)
            #expect(created.status == .created)
            let message = try #require(try JSONSerialization.jsonObject(with: Data(buffer: created.body)) as? [String: Any])
            #expect(message["kind"] as? String == "message" && message["author"] as? String == "api" && message["dueDate"] is NSNull)
            #expect((message["attachments"] as? [[String: Any]])?.first?["filename"] as? String == "Bescheid.pdf")
            for (body, field) in [
                (#"{"kind":"reply","subject":"x","body":"y"}"#, "kind"),
                (#"{"kind":"message","subject":"","body":"y"}"#, "subject"),
                (#"{"kind":"message","subject":"x","body":"y","dueDate":"2026-12-15"}"#, "dueDate"),
                (#"{"kind":"request","subject":"x","body":"y","dueDate":"2026-02-30"}"#, "dueDate"),
                (#"{"kind":"message","subject":"x","body":"y","attachments":[{"filename":"a.exe","contentBase64":"TVqQAAMAAAAEAAAA"}]}"#, "attachments[0]"),
                (#"{"kind":"message","subject":"x","body":"y","attachments":[{"filename":"a.pdf","contentBase64":"***"}]}"#, "attachments[0].contentBase64"),
            ] {
                let refused = try await post(body)
                #expect(refused.status == .unprocessableContent && String(buffer: refused.body).contains("\"field\":\"\(field)\""), "\(body)")
            }
            #expect(try await post("{oops").status == .badRequest)
            let other = try await client.execute(uri: "/api/v1/applications/00000000-0000-0000-0000-000000000000/messages", method: .post,
                                                 headers: headers, body: ByteBuffer(string: #"{"kind":"message","subject":"x","body":"y"}"#))
            #expect(other.status == .notFound)
            // Without an account there is nobody to mail; the status page shows the thread to whoever has the grant.
            #expect(try await portal.outbox.counts().pending == 0)
        }
    }
}
