import AmtswegCore
import AmtswegStorage
import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import AmtswegWeb

/// A Fachverfahren's webhook endpoint: e2e/webhook_receiver.py, which checks signatures with Python's hmac module.
final class WebhookReceiverProcess {
    struct Record: Decodable {
        struct Payload: Decodable {
            struct Submission: Decodable { let destinationId: String; let submissionId: String; let caseId: String }
            let type: String
            let submissions: [Submission]
        }
        let valid: Bool
        let answer: Int
        let idempotencyKey: String?
        let payload: Payload?
    }

    let process: Process
    let stdin: Pipe
    let port: Int
    var url: String { "http://127.0.0.1:\(port)/hook" }

    init(secret: String, arguments: [String] = []) throws {
        (process, stdin, port) = try PythonTestServer.launch("webhook_receiver.py", arguments: ["--secret", secret] + arguments)
    }

    /// The callbacks the receiver on `port` got so far, in order.
    static func records(port: Int) async throws -> [Record] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/received"), timeout: .seconds(10))
        return try JSONDecoder().decode([Record].self, from: Data(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

@Suite("Delivery to specialist systems: webhooks, acknowledgements, dead letters, metrics")
struct DeliveryTests {
    static let secret = "fachverfahren-geheimnis-0123456789abcdef"
    static let metricsToken = "metrics-token-for-tests"

    /// Submits the demo birth certificate; returns the application id, case number and the citizen's browser.
    static func submit(_ client: any TestClientProtocol) async throws -> (String, String, Browser) {
        var browser = Browser(client)
        let draftPath = try await CitizenFlowTests.fillAssistant(&browser)
        let submit = try await browser.post("\(draftPath)/absenden", [:])
        let id = String(submit.location.split(separator: "/")[2])
        let confirmation = try await browser.get(submit.location)
        return (id, try #require(Browser.firstMatch(#"id="case-number"[^>]*>([^<]+)<"#, in: confirmation.text)), browser)
    }

    static func fastRetries() -> DeliveryPolicy {
        var policy = DeliveryPolicy()
        policy.baseDelayMillis = 1
        return policy
    }

    @Test("a webhook gets a signed FIT-Connect callback, retried after a 503 with the same key; delivered only once accepted")
    func signedWebhook() async throws {
        let receiver = try WebhookReceiverProcess(secret: Self.secret, arguments: ["--fail-next", "1"])
        let url = receiver.url, port = receiver.port
        defer { withExtendedLifetime(receiver) {} }
        try await WebHarness.run(deliveryPolicy: Self.fastRetries()) { client, portal in
            let tenant = try #require(try await portal.tenants.find(ars: DemoData.ars))
            try await portal.routes.set(tenantId: tenant.id, leikaKey: "*", kind: .api, webhook: url, secret: Self.secret)
            let (id, caseNumber, citizen) = try await Self.submit(client)
            var browser = citizen
            #expect(try await browser.get("/de/status/\(id)").text.contains("Wird an die Behörde übermittelt"))

            #expect(await portal.deliveryWorker.deliverDue() == 0, "the first callback is answered 503")
            let failed = try #require(try await portal.deliveries.deliveries(tenantId: tenant.id, applicationId: id).first { $0.kind == .api })
            #expect(failed.state == .pending && failed.attempts == 1 && failed.lastError == "HTTP 503")
            try await Task.sleep(for: .milliseconds(20))
            #expect(await portal.deliveryWorker.deliverDue() == 1)
            let records = try await WebhookReceiverProcess.records(port: port)
            #expect(records.count == 2 && records.allSatisfy(\.valid), "Python's HMAC-SHA512 check must accept every callback")
            #expect(Set(records.map(\.idempotencyKey)).count == 1 && records[0].idempotencyKey == failed.idempotencyKey)
            let payload = try #require(records.last?.payload)
            #expect(payload.type == WebhookNotifier.callbackType)
            #expect(payload.submissions.map(\.submissionId) == [id] && payload.submissions.map(\.caseId) == [caseNumber])
            #expect(try await browser.get("/de/status/\(id)").text.contains("Wird an die Behörde übermittelt"), "handed over is not yet delivered")

            let key = try await portal.staff.createAPIKey(tenantId: tenant.id, label: "test").key
            let ack = try await client.execute(uri: "/api/v1/applications/\(id)/acknowledge", method: .post,
                                               headers: [.authorization: "Bearer \(key)", .contentType: "application/json"],
                                               body: ByteBuffer(string: #"{"result":"accept"}"#))
            #expect(ack.status == .ok)
            #expect(try await browser.get("/de/status/\(id)").text.contains("An die Behörde übermittelt am"))
            #expect(await portal.deliveryWorker.deliverDue() == 0)
            #expect(try await WebhookReceiverProcess.records(port: port).count == 2, "nothing is sent twice")
        }
    }

    @Test("a refusing receiver makes a dead letter: counted in /metrics, shown in the back office, sent again from there")
    func deadLetterInBackOffice() async throws {
        let receiver = try WebhookReceiverProcess(secret: Self.secret, arguments: ["--status", "401"])
        let url = receiver.url
        defer { withExtendedLifetime(receiver) {} }
        try await WebHarness.run(deliveryPolicy: Self.fastRetries(), metricsToken: Self.metricsToken) { client, portal in
            let tenant = try #require(try await portal.tenants.find(ars: DemoData.ars))
            try await portal.routes.set(tenantId: tenant.id, leikaKey: "*", kind: .api, webhook: url, secret: Self.secret)
            let (id, caseNumber, _) = try await Self.submit(client)
            #expect(await portal.deliveryWorker.deliverDue() == 0)
            let dead = try #require(try await portal.deliveries.problems(tenantId: tenant.id).first)
            #expect(dead.applicationId == id && dead.state == .dead && dead.attempts == 1 && dead.lastError == "HTTP 401")

            let metrics = try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(Self.metricsToken)"], body: nil)
            #expect(metrics.status == .ok)
            let text = String(buffer: metrics.body)
            #expect(text.contains(#"amtsweg_deliveries{tenant="\#(DemoData.ars)",kind="api",state="dead"} 1"#))
            #expect(text.contains("amtsweg_delivery_dead_letters 1"))
            #expect(text.contains(#"amtsweg_delivery_attempts_total{kind="api",outcome="dead"} 1"#))
            #expect(!text.contains(caseNumber) && !text.contains(id), "metrics carry no case data")
            let anonymous = try await client.execute(uri: "/metrics", method: .get, headers: [:], body: nil)
            #expect(anonymous.status == .unauthorized)

            var staff = Browser(client)
            try await staff.staffLogin()
            let inbox = try await staff.get("/de/verwaltung")
            #expect(inbox.text.contains("Zustellprobleme (1)"))
            let problems = try await staff.get("/de/verwaltung/zustellungen")
            #expect(problems.status == .ok && problems.text.contains(caseNumber) && problems.text.contains("HTTP 401"))
            #expect(problems.text.contains("Fehlgeschlagen, Versand eingestellt"))
            let forged = try await staff.post("/de/verwaltung/vorgang/\(id)/zustellung/\(dead.id)", [:], csrf: "wrong")
            #expect(forged.status == .forbidden)
            #expect(try await portal.deliveries.problems(tenantId: tenant.id).count == 1, "a forged form changes nothing")
            let resend = try await staff.post("/de/verwaltung/vorgang/\(id)/zustellung/\(dead.id)", [:])
            #expect(resend.location == "/de/verwaltung/vorgang/\(id)?ok=zustellung")
            let caseView = try await staff.get(resend.location)
            #expect(caseView.text.contains("Die Zustellung wird erneut versucht.") && caseView.text.contains("id=\"deliveries\""))
            #expect(try await portal.deliveries.problems(tenantId: tenant.id).isEmpty)
            let again = try await staff.post("/de/verwaltung/vorgang/\(id)/zustellung/\(dead.id)", [:])
            #expect(again.status == .unprocessableContent && again.text.contains("kann nicht erneut gesendet werden"))
            #expect(try await staff.post("/de/verwaltung/vorgang/\(id)/zustellung/\(UUID().uuidString.lowercased())", [:]).status == .notFound)
            let history = try await portal.applications.history(tenantId: tenant.id, id: id).map(\.action)
            #expect(history.contains("delivery_failed") && history.contains("delivery_resent"))
        }
    }

    @Test("acknowledgements: reject needs problems, wrong bodies are problem details and change nothing; /metrics is closed to others")
    func acknowledgementInput() async throws {
        try await WebHarness.run { client, portal in
            let tenant = try #require(try await portal.tenants.find(ars: DemoData.ars))
            let key = try await portal.staff.createAPIKey(tenantId: tenant.id, label: "test").key
            let (id, _, _) = try await Self.submit(client)
            let json: HTTPFields = [.authorization: "Bearer \(key)", .contentType: "application/json"]
            let cases: [(HTTPFields, String, HTTPResponse.Status)] = [
                ([.authorization: "Bearer \(key)", .contentType: "text/plain"], #"{"result":"accept"}"#, .unsupportedMediaType),
                (json, "{not json", .badRequest),
                (json, #"{"result":"maybe"}"#, .unprocessableContent),
                (json, #"{"result":"reject"}"#, .unprocessableContent),
                (json, #"{"result":"reject","problems":[{"title":""}]}"#, .unprocessableContent),
                (json, #"{"result":"reject","problems":[{"title":"\#(String(repeating: "x", count: 201))"}]}"#, .unprocessableContent),
            ]
            for (headers, body, status) in cases {
                let response = try await client.execute(uri: "/api/v1/applications/\(id)/acknowledge", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(response.status == status, "\(body)")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            #expect(try await portal.deliveries.deliveries(tenantId: tenant.id, applicationId: id).first { $0.kind == .api }?.state == .sent)
            let reject = try await client.execute(
                uri: "/api/v1/applications/\(id)/acknowledge", method: .post, headers: json,
                body: ByteBuffer(string: #"{"result":"reject","problems":[{"title":"Schema","detail":"data.copies fehlt"}]}"#))
            #expect(reject.status == .ok && String(buffer: reject.body).contains(#""acknowledgedAt":null"#))
            let problem = try #require(try await portal.deliveries.problems(tenantId: tenant.id).first)
            #expect(problem.state == .rejected && problem.problems == ["Schema: data.copies fehlt"])
            // Without a token, only loopback clients may read the metrics; the test client has no loopback address.
            #expect(try await client.execute(uri: "/metrics", method: .get, headers: [:], body: nil).status == .forbidden)
        }
    }
}
