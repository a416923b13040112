import AmtswegCore
import AmtswegStorage
import Foundation
import HTTPTypes
import Hummingbird

/// FIT-Connect callbacks to the sender: a signed note that events are waiting, so the worker reads the event logs
/// now instead of at the next poll. A callback that is malformed or not signed with the configured secret is refused
/// with problem details, logged, and changes nothing.
struct FITConnectCallbackRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>) {
        router.post("/api/fitconnect/callback") { request, context in try await callback(request, context) }
    }

    func callback(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var request = request
        guard let secret = portal.fitConnectCallbackSecret else { throw APIFailure.notFound }
        let body = Data(buffer: try await request.collectBody(upTo: 64 * 1024))
        do {
            try CallbackSignature.verify(body: body, timestampHeader: request.headers[HTTPField.Name("callback-timestamp")!],
                                         signatureHeader: request.headers[HTTPField.Name("callback-authentication")!], secret: secret)
        } catch {
            context.logger.warning("FIT-Connect callback refused", metadata: ["reason": "\(error)"])
            throw APIFailure.unauthorized
        }
        struct Callback: Decodable { let type: String }
        guard (request.headers[.contentType] ?? "").lowercased().hasPrefix("application/json"),
              let callback = try? JSONDecoder().decode(Callback.self, from: body), callback.type.hasPrefix("https://schema.fitko.de/fit-connect/")
        else {
            context.logger.warning("FIT-Connect callback refused", metadata: ["reason": "malformed body"])
            throw APIFailure.badRequest("body", "must be a FIT-Connect callback (JSON with a schema.fitko.de type)")
        }
        let expedited = try await portal.deliveries.expediteAwaiting(kind: .fitconnect)
        portal.deliveryWorker.nudge()
        context.logger.info("FIT-Connect callback accepted", metadata: ["type": "\(callback.type)", "waiting": "\(expedited)"])
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
    }
}
