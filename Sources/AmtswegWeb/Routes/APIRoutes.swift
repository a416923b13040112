import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// The specialist-system API: pull applications, acknowledge, post status; authenticated by per-authority API key.
struct APIRoutes {
    let portal: Portal

    /// The JSON shape of an application (see openapi.yaml).
    struct ApplicationDTO: Encodable {
        struct TenantRef: Encodable { let ars: String; let name: String }
        struct ServiceRef: Encodable { let leikaKey: String; let assistantId: String; let assistantVersion: String }
        struct Fee: Encodable { let amountCents: Int; let currency = "EUR" }
        struct HistoryEntry: Encodable {
            let at: Date
            let from: String?
            let to: String
            let actor: String
            let reason: String?

            private enum CodingKeys: String, CodingKey { case at, from, to, actor, reason }

            // By hand so that absent values are explicit nulls, as the API document promises.
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(at, forKey: .at)
                try container.encode(from, forKey: .from)
                try container.encode(to, forKey: .to)
                try container.encode(actor, forKey: .actor)
                try container.encode(reason, forKey: .reason)
            }
        }
        let id: String
        let caseNumber: String
        let tenant: TenantRef
        let service: ServiceRef
        let status: String
        let submittedAt: Date
        let acknowledgedAt: Date?
        let locale: String
        let fee: Fee
        let data: [String: JSONValue]
        let fields: [StructuredField]
        let attachments: [AttachmentInfo]
        let history: [HistoryEntry]

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(caseNumber, forKey: .caseNumber)
            try container.encode(tenant, forKey: .tenant)
            try container.encode(service, forKey: .service)
            try container.encode(status, forKey: .status)
            try container.encode(submittedAt, forKey: .submittedAt)
            try container.encode(acknowledgedAt, forKey: .acknowledgedAt)
            try container.encode(locale, forKey: .locale)
            try container.encode(fee, forKey: .fee)
            try container.encode(data, forKey: .data)
            try container.encode(fields, forKey: .fields)
            try container.encode(attachments, forKey: .attachments)
            try container.encode(history, forKey: .history)
        }

        enum CodingKeys: String, CodingKey {
            case id, caseNumber, tenant, service, status, submittedAt, acknowledgedAt, locale, fee, data, fields, attachments, history
        }
    }

    struct StatusRequest: Decodable {
        let status: String
        let reason: String?
    }

    func register(on router: Router<AppRequestContext>) {
        router.get("/api/v1/applications") { request, _ in try await list(request) }
        router.get("/api/v1/applications/:id") { request, context in try await get(request, context) }
        router.post("/api/v1/applications/:id/acknowledge") { request, context in try await acknowledge(request, context) }
        router.post("/api/v1/applications/:id/status") { request, context in try await status(request, context) }
        router.get("/api/v1/applications/:id/attachments/:attachment") { request, context in try await attachment(request, context) }
        router.get("/api/v1/applications/:id/messages") { request, context in try await messages(request, context) }
        router.post("/api/v1/applications/:id/messages") { request, context in try await postMessage(request, context) }
        router.get("/api/v1/applications/:id/xgewerbeanzeige") { request, context in try await gewerbeanzeige(request, context) }
        router.get("/api/schemas/:assistant/:file") { _, context in try schema(context) }
    }

    /// The public JSON Schema of an assistant version's Fachdaten (`/api/schemas/{assistant}/{version}.json`).
    func schema(_ context: AppRequestContext) throws -> Response {
        guard let assistantId = context.parameters.get("assistant"), let file = context.parameters.get("file"), file.hasSuffix(".json"),
              let definition = portal.assistantVersions[assistantId]?[String(file.dropLast(5))]
        else { throw APIFailure.notFound }
        var response = try json(JSONSchemaExport.schema(for: definition))
        response.headers[.contentType] = "application/schema+json"
        response.headers[.cacheControl] = "public, max-age=3600"
        return response
    }

    /// The tenant, key id and registered encryption key (JWK) of the Bearer key, or a thrown 401.
    func authenticate(_ request: Request) async throws -> (UUID, String, String?) {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { throw APIFailure.unauthorized }
        let key = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        guard key.hasPrefix("aw_"), key.count < 100, let resolved = try await portal.staff.resolveAPIKey(key) else { throw APIFailure.unauthorized }
        return (resolved.tenantId, resolved.keyId, resolved.encryptionJWK)
    }

    func list(_ request: Request) async throws -> Response {
        let (tenant, _, jwk) = try await authenticate(request)
        let query = request.uri.queryParameters
        var status: ApplicationStatus?
        if let raw = query["status"] {
            guard let parsed = ApplicationStatus(rawValue: String(raw)) else { throw APIFailure.badRequest("status", "must be one of received, in_progress, completed, rejected") }
            status = parsed
        }
        var acknowledged: Bool?
        if let raw = query["acknowledged"] {
            guard raw == "true" || raw == "false" else { throw APIFailure.badRequest("acknowledged", "must be true or false") }
            acknowledged = raw == "true"
        }
        var limit = 50
        if let raw = query["limit"] {
            guard let parsed = Int(String(raw)), (1...200).contains(parsed) else { throw APIFailure.badRequest("limit", "must be an integer from 1 to 200") }
            limit = parsed
        }
        let rows = try await portal.applications.list(tenantId: tenant, status: status, acknowledged: acknowledged, limit: limit)
        var items: [ApplicationDTO] = []
        for row in rows { items.append(try await dto(row)) }
        return try APIEncryption.respond(try encoded(["items": items]), contentType: "application/json", to: request, jwk: jwk)
    }

    func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (tenant, keyId, jwk) = try await authenticate(request)
        let application = try await find(tenant, context)
        try await portal.applications.recordAccess(tenantId: tenant, id: application.id, actor: Actor(kind: "api", id: keyId))
        return try APIEncryption.respond(try encoded(try await dto(application)), contentType: "application/json", to: request, jwk: jwk)
    }

    /// The optional body of an acknowledgement: accept (the default) or reject with problems, as in FIT-Connect.
    struct AcknowledgeRequest: Decodable {
        struct ProblemEntry: Decodable { let title: String; let detail: String? }
        let result: String
        let problems: [ProblemEntry]?
    }

    func acknowledge(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var request = request
        let (tenant, keyId, _) = try await authenticate(request)
        let application = try await find(tenant, context)
        let body = try await request.collectBody(upTo: 64 * 1024)
        var accepted = true
        var problems: [String] = []
        if body.readableBytes > 0 {
            guard (request.headers[.contentType] ?? "").lowercased().hasPrefix("application/json") else { throw APIFailure.unsupportedMediaType }
            let answer: AcknowledgeRequest
            do { answer = try JSONDecoder().decode(AcknowledgeRequest.self, from: Data(buffer: body)) } catch {
                throw APIFailure.badRequest("body", "must be a JSON object with result (accept or reject) and, for reject, problems")
            }
            switch answer.result {
            case "accept": accepted = true
            case "reject": accepted = false
            default: throw APIFailure.invalid("result", "must be accept or reject")
            }
            let entries = answer.problems ?? []
            if !accepted && entries.isEmpty { throw APIFailure.invalid("problems", "must name at least one problem when rejecting") }
            guard entries.count <= 20 else { throw APIFailure.invalid("problems", "must have at most 20 entries") }
            for entry in entries {
                let title = entry.title.trimmingCharacters(in: .whitespacesAndNewlines)
                guard (1...200).contains(title.count), (entry.detail ?? "").count <= 2000 else {
                    throw APIFailure.invalid("problems", "each needs a title of 1 to 200 characters and a detail of at most 2000")
                }
                let detail = entry.detail?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                problems.append(detail.isEmpty ? title : "\(title): \(detail)")
            }
        }
        let updated = try await portal.applications.acknowledge(
            tenantId: tenant, id: application.id, actor: Actor(kind: "api", id: keyId), accepted: accepted, problems: problems)
        context.logger.info(accepted ? "delivery acknowledged" : "delivery rejected by the specialist system",
                            metadata: ["application": "\(application.id)"])
        return try json(try await dto(updated))
    }

    func status(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var request = request
        let (tenant, keyId, _) = try await authenticate(request)
        let application = try await find(tenant, context)
        guard (request.headers[.contentType] ?? "").lowercased().hasPrefix("application/json") else { throw APIFailure.unsupportedMediaType }
        let body = try await request.collectBody(upTo: 64 * 1024)
        let change: StatusRequest
        do {
            change = try JSONDecoder().decode(StatusRequest.self, from: Data(buffer: body))
        } catch {
            throw APIFailure.badRequest("body", "must be a JSON object with status and optional reason")
        }
        guard let target = ApplicationStatus(rawValue: change.status), target != .received else {
            throw APIFailure.invalid("status", "must be one of in_progress, completed, rejected")
        }
        do {
            let updated = try await portal.applications.transition(
                tenantId: tenant, id: application.id, to: target, reason: change.reason, actor: Actor(kind: "api", id: keyId))
            return try json(try await dto(updated))
        } catch TransitionError.reasonRequired {
            throw APIFailure.invalid("reason", "is required when rejecting")
        } catch TransitionError.reasonTooLong {
            throw APIFailure.invalid("reason", "must be at most 2000 characters")
        } catch let TransitionError.notAllowed(from, to) {
            throw APIFailure.conflict("A transition from \(from.rawValue) to \(to.rawValue) is not allowed.")
        }
    }

    /// The XGewerbeanzeige 2.2 message of a Gewerbeanmeldung.
    func gewerbeanzeige(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (tenant, keyId, jwk) = try await authenticate(request)
        let application = try await find(tenant, context)
        guard let record = portal.tenantsById[tenant] else { throw APIFailure.notFound }
        let xml: String?
        do {
            xml = try GewerbeanzeigeMessage.xml(for: application, tenant: record, office: portal.office(leikaKey: application.leikaKey, tenantId: tenant))
        } catch {
            throw APIFailure.invalid("application", "cannot be expressed as XGewerbeanzeige 2.2: \(error)")
        }
        guard let xml else { throw APIFailure.notFound }
        try await portal.applications.recordAccess(tenantId: tenant, id: application.id, actor: Actor(kind: "api", id: keyId))
        return try APIEncryption.respond(Data(xml.utf8), contentType: "application/xml; charset=utf-8", to: request, jwk: jwk)
    }

    func attachment(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (tenant, keyId, jwk) = try await authenticate(request)
        let application = try await find(tenant, context)
        guard let attachmentId = context.parameters.get("attachment"),
              let (info, data) = try await portal.applications.attachment(tenantId: tenant, applicationId: application.id, attachmentId: attachmentId)
        else { throw APIFailure.notFound }
        try await portal.applications.recordAccess(tenantId: tenant, id: application.id, actor: Actor(kind: "api", id: keyId))
        return try APIEncryption.respond(data, contentType: info.contentType, extraHeaders: [.contentDisposition: "attachment"], to: request, jwk: jwk)
    }

    func find(_ tenant: UUID, _ context: AppRequestContext) async throws -> ApplicationRecord {
        guard let id = context.parameters.get("id"), let application = try await portal.applications.find(tenantId: tenant, id: id) else {
            throw APIFailure.notFound
        }
        return application
    }

    private func dto(_ application: ApplicationRecord) async throws -> ApplicationDTO {
        let tenant = portal.tenantsById[application.tenantId]
        let fields = portal.assistant(application.assistantId, version: application.assistantVersion).map { StructuredData.fields(of: application.answers, definition: $0) } ?? []
        let history = try await portal.applications.history(tenantId: application.tenantId, id: application.id).compactMap { event -> ApplicationDTO.HistoryEntry? in
            guard let to = event.to else { return nil }
            return .init(at: event.at, from: event.from?.rawValue, to: to.rawValue, actor: event.actorKind, reason: event.reason)
        }
        return ApplicationDTO(
            id: application.id, caseNumber: application.caseNumber, tenant: .init(ars: tenant?.ars ?? "", name: tenant?.name ?? ""),
            service: .init(leikaKey: application.leikaKey, assistantId: application.assistantId, assistantVersion: application.assistantVersion),
            status: application.status.rawValue, submittedAt: application.submittedAt, acknowledgedAt: application.acknowledgedAt,
            locale: application.locale, fee: .init(amountCents: application.feeCents), data: StructuredData.nested(fields), fields: fields,
            attachments: try await portal.applications.attachments(tenantId: application.tenantId, id: application.id), history: history)
    }

    func json(_ value: some Encodable) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: try encoded(value))))
    }

    /// The API's JSON: ISO dates, sorted keys.
    func encoded(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }
}

/// API failures, each answered as problem details.
enum APIFailure: Error, HTTPResponseError {
    case unauthorized
    case notFound
    case unsupportedMediaType
    /// The query or body cannot be read (400).
    case badRequest(String, String)
    /// The request is readable but its content is not acceptable (422).
    case invalid(String, String)
    case conflict(String)
    /// An encrypted answer was asked for, but the key has no encryption key registered (406).
    case notAcceptable(String)

    var status: HTTPResponse.Status {
        switch self {
        case .notAcceptable: return .notAcceptable
        case .unauthorized: return .unauthorized
        case .notFound: return .notFound
        case .unsupportedMediaType: return .unsupportedMediaType
        case .badRequest: return .badRequest
        case .invalid: return .unprocessableContent
        case .conflict: return .conflict
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        switch self {
        case .invalid(let field, let message), .badRequest(let field, let message):
            return Problem(status: status, detail: "\(field) \(message)", errors: [.init(field: field, message: message)]).response()
        case .conflict(let detail), .notAcceptable(let detail):
            return Problem(status: status, detail: detail).response()
        default:
            return Problem(status: status, detail: Problem.defaultDetail(status)).response()
        }
    }
}
