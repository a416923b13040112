import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// The Postfach over the API: a specialist system reads the thread (with the citizen's replies) and posts messages,
/// Nachforderungen and documents such as the Bescheid into the citizen's Postfach.
extension APIRoutes {
    /// The JSON shape of a message (see openapi.yaml).
    struct MessageDTO: Encodable {
        struct File: Encodable {
            let id: String
            let filename: String
            let contentType: String
            let size: Int
            let sha512: String
            let href: String
        }
        let id: String
        let kind: String
        let subject: String
        let body: String
        let author: String
        let replyTo: String?
        let dueDate: String?
        let answeredAt: Date?
        let readAt: Date?
        let createdAt: Date
        let attachments: [File]

        enum CodingKeys: String, CodingKey { case id, kind, subject, body, author, replyTo, dueDate, answeredAt, readAt, createdAt, attachments }

        // By hand so that absent values are explicit nulls, as the API document promises.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(kind, forKey: .kind)
            try container.encode(subject, forKey: .subject)
            try container.encode(body, forKey: .body)
            try container.encode(author, forKey: .author)
            try container.encode(replyTo, forKey: .replyTo)
            try container.encode(dueDate, forKey: .dueDate)
            try container.encode(answeredAt, forKey: .answeredAt)
            try container.encode(readAt, forKey: .readAt)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(attachments, forKey: .attachments)
        }

        init(_ message: MessageRecord) {
            id = message.id
            kind = message.kind.rawValue
            subject = message.subject
            body = message.body
            author = message.authorKind
            replyTo = message.replyTo
            dueDate = message.dueDate
            answeredAt = message.answeredAt
            readAt = message.readAt
            createdAt = message.createdAt
            attachments = message.attachments.map { file in
                File(id: file.id, filename: file.filename, contentType: file.contentType, size: file.size, sha512: file.sha512,
                     href: "/api/v1/applications/\(message.applicationId)/attachments/\(file.id)")
            }
        }
    }

    /// The body of `POST …/messages`.
    struct NewMessage: Decodable {
        struct File: Decodable {
            let filename: String
            let contentBase64: String
        }
        let kind: String
        let subject: String
        let body: String
        let dueDate: String?
        let attachments: [File]?
    }

    func messages(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (tenant, keyId, _) = try await authenticate(request)
        let application = try await find(tenant, context)
        try await portal.applications.recordAccess(tenantId: tenant, id: application.id, actor: Actor(kind: "api", id: keyId))
        let thread = try await portal.messages.thread(tenantId: tenant, applicationId: application.id)
        return try json(["items": thread.map(MessageDTO.init)])
    }

    func postMessage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var request = request
        let (tenant, keyId, _) = try await authenticate(request)
        let application = try await find(tenant, context)
        guard (request.headers[.contentType] ?? "").lowercased().hasPrefix("application/json") else { throw APIFailure.unsupportedMediaType }
        // Five files of 5 MB in base64, plus text.
        let raw = try await request.collectBody(upTo: 36 * 1024 * 1024)
        let message: NewMessage
        do {
            message = try JSONDecoder().decode(NewMessage.self, from: Data(buffer: raw))
        } catch {
            throw APIFailure.badRequest("body", "must be a JSON object with kind, subject, body and optional dueDate and attachments")
        }
        guard let kind = MessageKind(rawValue: message.kind), kind != .reply else { throw APIFailure.invalid("kind", "must be message or request") }
        let subject = message.subject.trimmingCharacters(in: .whitespacesAndNewlines)
        let body = message.body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...BackofficeRoutes.maxSubject).contains(subject.count) else { throw APIFailure.invalid("subject", "must have 1 to \(BackofficeRoutes.maxSubject) characters") }
        guard (1...BackofficeRoutes.maxBody).contains(body.count) else { throw APIFailure.invalid("body", "must have 1 to \(BackofficeRoutes.maxBody) characters") }
        if let due = message.dueDate {
            guard kind == .request else { throw APIFailure.invalid("dueDate", "is only allowed for kind request") }
            guard ThreadPresenter.day(due) != nil else { throw APIFailure.invalid("dueDate", "must be a date YYYY-MM-DD") }
        }
        let uploads = message.attachments ?? []
        guard uploads.count <= 5 else { throw APIFailure.invalid("attachments", "at most 5 files") }
        var files: [MessageFile] = []
        let t = portal.translator(.en)
        for (index, upload) in uploads.enumerated() {
            let field = "attachments[\(index)]"
            guard (1...200).contains(upload.filename.count), !upload.filename.contains(where: { $0.isNewline }) else {
                throw APIFailure.invalid("\(field).filename", "must have 1 to 200 characters on one line")
            }
            guard let data = Data(base64Encoded: upload.contentBase64), !data.isEmpty else {
                throw APIFailure.invalid("\(field).contentBase64", "must be non-empty base64")
            }
            switch await MessageUpload.check(UploadedFile(filename: upload.filename, data: data), label: upload.filename, scanner: portal.scanner,
                                             translator: t, logger: context.logger) {
            case .success(let checked?): files.append(checked)
            case .success(nil): throw APIFailure.invalid("\(field).contentBase64", "must be non-empty base64")
            case .failure(let problem): throw APIFailure.invalid(field, problem.message)
            }
        }
        let stored = try await portal.messages.send(tenantId: tenant, applicationId: application.id, kind: kind, subject: subject, body: body,
                                                    dueDate: message.dueDate, files: files, author: Actor(kind: "api", id: keyId))
        portal.nudgeMail()
        var response = try json(MessageDTO(stored))
        response.status = .created
        return response
    }
}
