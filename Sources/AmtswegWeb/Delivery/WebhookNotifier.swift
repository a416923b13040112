import AmtswegCore
import AmtswegStorage
import AsyncHTTPClient
import Foundation
import NIOCore

/// Tells a Fachverfahren that applications wait for it: a POST in the FIT-Connect callback format, signed with
/// HMAC-SHA512, carrying the delivery's idempotency key so repeats can be dropped.
struct WebhookNotifier: Sendable {
    let http: HTTPClient
    /// The callback type FIT-Connect uses for new submissions.
    static let callbackType = "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions"

    /// What came back.
    enum Outcome: Equatable {
        case accepted
        /// Worth another try later (network, 5xx, 408, 425, 429).
        case retry(String)
        /// The receiver refuses it (other 4xx): an operator has to fix the route.
        case refused(String)
    }

    /// The callback body for one delivery.
    static func body(for delivery: DeliveryRecord) throws -> Data {
        struct Submission: Encodable { let destinationId: String; let submissionId: String; let caseId: String }
        struct Callback: Encodable { let type: String; let submissionIds: [String]; let submissions: [Submission] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(Callback(
            type: callbackType, submissionIds: [delivery.applicationId],
            submissions: [Submission(destinationId: delivery.routeId, submissionId: delivery.applicationId, caseId: delivery.caseNumber)]))
    }

    /// Sends the callback for `delivery` to `url`, signed with `secret`.
    func notify(_ delivery: DeliveryRecord, url: String, secret: String, now: Date = Date()) async -> Outcome {
        do {
            let body = try Self.body(for: delivery)
            let timestamp = Int64(now.timeIntervalSince1970)
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "callback-timestamp", value: String(timestamp))
            request.headers.add(name: "callback-authentication", value: CallbackSignature.sign(body: body, timestamp: timestamp, secret: secret))
            request.headers.add(name: "Idempotency-Key", value: delivery.idempotencyKey)
            request.headers.add(name: "User-Agent", value: "Amtsweg-Delivery/1")
            request.body = .bytes(ByteBuffer(data: body))
            let response = try await http.execute(request, timeout: .seconds(15))
            // The answer's body is not needed; reading at most a little keeps the connection reusable.
            _ = try? await response.body.collect(upTo: 16 * 1024)
            let code = Int(response.status.code)
            switch code {
            case 200..<300: return .accepted
            case 408, 425, 429, 500...: return .retry("HTTP \(code)")
            default: return .refused("HTTP \(code)")
            }
        } catch {
            // HTTPClientError names the cause (connect timeout, refused, TLS); other errors only by type.
            return .retry((error as? HTTPClientError).map { "\($0)" } ?? String(describing: type(of: error)))
        }
    }
}
