import AmtswegCore
import Foundation
import SQLKit

/// What a Postfach message is.
public enum MessageKind: String, Sendable, Codable, CaseIterable {
    /// From the authority: information, a notice, a Bescheid.
    case message
    /// From the authority: a Nachforderung, the citizen must answer (a task in the Postfach).
    case request
    /// From the citizen: the answer to a request.
    case reply
}

/// A message of an application's Postfach thread.
public struct MessageRecord: Sendable, Equatable {
    public let id: String
    public let tenantId: UUID
    public let applicationId: String
    public let kind: MessageKind
    public let subject: String
    public let body: String
    /// "staff", "api" or "citizen".
    public let authorKind: String
    public let authorId: String?
    /// The request a reply answers.
    public let replyTo: String?
    /// Until when a request should be answered (ISO date).
    public let dueDate: String?
    /// When a request was answered.
    public let answeredAt: Date?
    /// When the citizen first opened it.
    public let readAt: Date?
    public let createdAt: Date
    /// Its files.
    public var attachments: [AttachmentInfo]
}

/// A file to attach to a message.
public struct MessageFile: Sendable {
    public let file: UploadedFile
    /// Sniffed media type.
    public let contentType: String

    /// Creates a file to attach.
    public init(file: UploadedFile, contentType: String) {
        self.file = file
        self.contentType = contentType
    }
}

/// Why a message cannot be stored.
public enum MessageError: Error, Equatable, Sendable {
    /// No such application (for this authority or account).
    case applicationNotFound
    /// No open request with that id on the application.
    case noOpenRequest
}

/// The Postfach thread of each application: messages and Nachforderungen from the authority, the citizen's replies.
/// Subject and text are sealed at rest with the authority's key, files like uploads; every message is audited,
/// and the account holder is told by mail (without content) when the authority writes.
public struct MessageRepository: Sendable {
    let database: any Database
    let protector: DataProtector

    /// Creates a repository; content is sealed with `protector`.
    public init(database: any Database, protector: DataProtector) {
        self.database = database
        self.protector = protector
    }

    /// The authority writes to the citizen: a message or a request (with an optional due date), with files.
    public func send(tenantId: UUID, applicationId: String, kind: MessageKind, subject: String, body: String, dueDate: String? = nil,
                     files: [MessageFile] = [], author: Actor, now: Int64 = Clock.millis()) async throws -> MessageRecord {
        precondition(kind != .reply, "replies come from citizens")
        let prepared = try seal(tenantId: tenantId, subject: subject, body: body, files: files)
        let protector = protector
        let id = UUID().uuidString.lowercased()
        try await database.write { sql in
            guard let row = try await sql.raw("""
                SELECT account_id FROM applications WHERE id = \(bind: applicationId) AND tenant_id = \(bind: tenantId.uuidString)
                """).all().first else { throw MessageError.applicationNotFound }
            try await Self.insert(sql, id: id, tenantId: tenantId, applicationId: applicationId, kind: kind, prepared: prepared, author: author,
                                  replyTo: nil, dueDate: kind == .request ? dueDate : nil, now: now)
            try await ApplicationRepository.audit(sql, tenant: tenantId.uuidString, application: applicationId, actor: author,
                                                  action: kind == .request ? "request_sent" : "message_sent", from: nil, to: nil, reason: nil, at: now)
            try await ApplicationRepository.notifyAccountHolder(sql, accountId: try row.decode(column: "account_id", as: String?.self),
                                                                protector: protector, now: now)
        }
        return try await message(tenantId: tenantId, applicationId: applicationId, id: id)!
    }

    /// The citizen answers an open request of an application of their account, with text and files; the request
    /// counts as answered.
    public func reply(accountId: String, applicationId: String, requestId: String, body: String, files: [MessageFile] = [],
                      now: Int64 = Clock.millis()) async throws -> MessageRecord {
        let tenant = try await database.read { sql in
            try await sql.raw("SELECT tenant_id FROM applications WHERE id = \(bind: applicationId) AND account_id = \(bind: accountId)").all().first?
                .decode(column: "tenant_id", as: String.self)
        }
        guard let tenant, let tenantId = UUID(uuidString: tenant) else { throw MessageError.applicationNotFound }
        let subject = try await message(tenantId: tenantId, applicationId: applicationId, id: requestId)?.subject ?? ""
        let prepared = try seal(tenantId: tenantId, subject: subject, body: body, files: files)
        let id = UUID().uuidString.lowercased()
        try await database.write { sql in
            let answered = try await sql.raw("""
                UPDATE messages SET answered_at = \(bind: now)
                WHERE id = \(bind: requestId) AND application_id = \(bind: applicationId) AND tenant_id = \(bind: tenant)
                  AND kind = 'request' AND answered_at IS NULL
                RETURNING id
                """).all()
            guard !answered.isEmpty else { throw MessageError.noOpenRequest }
            try await Self.insert(sql, id: id, tenantId: tenantId, applicationId: applicationId, kind: .reply, prepared: prepared,
                                  author: Actor(kind: "citizen", id: nil), replyTo: requestId, dueDate: nil, now: now)
            try await ApplicationRepository.audit(sql, tenant: tenant, application: applicationId, actor: .citizen, action: "citizen_replied",
                                                  from: nil, to: nil, reason: nil, at: now)
        }
        return try await message(tenantId: tenantId, applicationId: applicationId, id: id)!
    }

    /// The whole thread of an application, oldest first, with file metadata.
    public func thread(tenantId: UUID, applicationId: String) async throws -> [MessageRecord] {
        let rows = try await database.read { sql in
            try await sql.raw("""
                SELECT * FROM messages WHERE tenant_id = \(bind: tenantId.uuidString) AND application_id = \(bind: applicationId)
                ORDER BY created_at, id
                """).all()
        }
        let files = try await attachments(tenantId: tenantId, applicationId: applicationId)
        return try rows.map { row in
            var record = try open(row, tenantId: tenantId)
            record.attachments = files[record.id] ?? []
            return record
        }
    }

    /// One message of an application.
    public func message(tenantId: UUID, applicationId: String, id: String) async throws -> MessageRecord? {
        guard let row = try await database.read({ sql in
            try await sql.raw("""
                SELECT * FROM messages WHERE tenant_id = \(bind: tenantId.uuidString) AND application_id = \(bind: applicationId) AND id = \(bind: id)
                """).all().first
        }) else { return nil }
        var record = try open(row, tenantId: tenantId)
        record.attachments = try await attachments(tenantId: tenantId, applicationId: applicationId, messageId: id)[id] ?? []
        return record
    }

    /// Marks the authority's messages of an application as read by the citizen.
    public func markRead(tenantId: UUID, applicationId: String, now: Int64 = Clock.millis()) async throws {
        try await database.write { sql in
            try await sql.raw("""
                UPDATE messages SET read_at = \(bind: now)
                WHERE tenant_id = \(bind: tenantId.uuidString) AND application_id = \(bind: applicationId) AND kind <> 'reply' AND read_at IS NULL
                """).run()
        }
    }

    /// Per application of the account: unread messages and open requests, for the Postfach list.
    public func summary(accountId: String) async throws -> [String: (unread: Int, openRequests: [(id: String, dueDate: String?)])] {
        let rows = try await database.read { sql in
            try await sql.raw("""
                SELECT m.application_id, m.id, m.kind, m.due_date, m.answered_at, m.read_at FROM messages m
                JOIN applications a ON a.id = m.application_id AND a.tenant_id = m.tenant_id
                WHERE a.account_id = \(bind: accountId) AND m.kind <> 'reply' ORDER BY m.created_at
                """).all()
        }
        var result: [String: (unread: Int, openRequests: [(id: String, dueDate: String?)])] = [:]
        for row in rows {
            let application = try row.decode(column: "application_id", as: String.self)
            var entry = result[application] ?? (0, [])
            if try row.decode(column: "read_at", as: Int64?.self) == nil { entry.unread += 1 }
            if try row.decode(column: "kind", as: String.self) == MessageKind.request.rawValue,
               try row.decode(column: "answered_at", as: Int64?.self) == nil {
                entry.openRequests.append((try row.decode(column: "id", as: String.self), try row.decode(column: "due_date", as: String?.self)))
            }
            result[application] = entry
        }
        return result
    }

    /// A file of a message of the application, opened.
    public func file(tenantId: UUID, applicationId: String, attachmentId: String) async throws -> (AttachmentInfo, Data)? {
        let protector = protector
        return try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT * FROM attachments WHERE tenant_id = \(bind: tenantId.uuidString) AND application_id = \(bind: applicationId)
                AND id = \(bind: attachmentId) AND message_id IS NOT NULL
                """).all().first, let wrapped = try row.decode(column: "wrapped_key", as: Data?.self) else { return nil }
            return (try AttachmentRows.info(row), try protector.open(try row.decode(column: "data", as: Data.self), wrappedKey: wrapped, tenant: tenantId))
        }
    }

    /// Sealed content and files, ready to insert.
    struct Prepared {
        let content: Data
        let wrappedKey: Data
        let files: [(id: String, file: MessageFile, sealed: Data, wrappedKey: Data)]
    }

    private func seal(tenantId: UUID, subject: String, body: String, files: [MessageFile]) throws -> Prepared {
        let content = try protector.seal(try JSONEncoder().encode(["subject": subject, "body": body]), tenant: tenantId)
        let sealedFiles = try files.map { file in
            let sealed = try protector.seal(file.file.data, tenant: tenantId)
            return (id: UUID().uuidString.lowercased(), file: file, sealed: sealed.ciphertext, wrappedKey: sealed.wrappedKey)
        }
        return Prepared(content: content.ciphertext, wrappedKey: content.wrappedKey, files: sealedFiles)
    }

    private static func insert(_ sql: any SQLDatabase, id: String, tenantId: UUID, applicationId: String, kind: MessageKind, prepared: Prepared,
                               author: Actor, replyTo: String?, dueDate: String?, now: Int64) async throws {
        try await sql.raw("""
            INSERT INTO messages (id, tenant_id, application_id, kind, content, wrapped_key, author_kind, author_id, reply_to, due_date,
                answered_at, read_at, created_at)
            VALUES (\(bind: id), \(bind: tenantId.uuidString), \(bind: applicationId), \(bind: kind.rawValue), \(bind: prepared.content),
                \(bind: prepared.wrappedKey), \(bind: author.kind), \(bind: author.id), \(bind: replyTo), \(bind: dueDate), NULL, NULL, \(bind: now))
            """).run()
        for file in prepared.files {
            try await sql.raw("""
                INSERT INTO attachments (id, tenant_id, draft_id, application_id, page_id, field_id, filename, content_type, size, sha512, data,
                    wrapped_key, created_at, message_id)
                VALUES (\(bind: file.id), \(bind: tenantId.uuidString), NULL, \(bind: applicationId), '_message', \(bind: kind.rawValue),
                    \(bind: file.file.file.filename), \(bind: file.file.contentType), \(bind: file.file.file.data.count),
                    \(bind: SecureToken.sha512Hex(file.file.file.data)), \(bind: file.sealed), \(bind: file.wrappedKey), \(bind: now), \(bind: id))
                """).run()
        }
    }

    /// File metadata by message id: of the whole thread, or of one message.
    private func attachments(tenantId: UUID, applicationId: String, messageId: String? = nil) async throws -> [String: [AttachmentInfo]] {
        let rows = try await database.read { sql in
            var query = SQLQueryString("""
                SELECT id, page_id, field_id, filename, content_type, size, sha512, message_id FROM attachments
                WHERE tenant_id = \(bind: tenantId.uuidString) AND application_id = \(bind: applicationId) AND message_id IS NOT NULL
                """)
            if let messageId { query.appendInterpolation(unsafeRaw: " AND message_id = "); query.appendInterpolation(bind: messageId) }
            query.appendInterpolation(unsafeRaw: " ORDER BY created_at, id")
            return try await sql.raw(query).all()
        }
        var result: [String: [AttachmentInfo]] = [:]
        for row in rows { result[try row.decode(column: "message_id", as: String.self), default: []].append(try AttachmentRows.info(row)) }
        return result
    }

    private func open(_ row: any SQLRow, tenantId: UUID) throws -> MessageRecord {
        let plain = try protector.open(try row.decode(column: "content", as: Data.self), wrappedKey: try row.decode(column: "wrapped_key", as: Data.self),
                                       tenant: tenantId)
        let content = try JSONDecoder().decode([String: String].self, from: plain)
        guard let kind = MessageKind(rawValue: try row.decode(column: "kind", as: String.self)) else { throw StorageError.corruptRow("messages.kind") }
        return MessageRecord(
            id: try row.decode(column: "id", as: String.self), tenantId: tenantId,
            applicationId: try row.decode(column: "application_id", as: String.self), kind: kind,
            subject: content["subject"] ?? "", body: content["body"] ?? "",
            authorKind: try row.decode(column: "author_kind", as: String.self), authorId: try row.decode(column: "author_id", as: String?.self),
            replyTo: try row.decode(column: "reply_to", as: String?.self), dueDate: try row.decode(column: "due_date", as: String?.self),
            answeredAt: try row.decode(column: "answered_at", as: Int64?.self).map(Clock.date(millis:)),
            readAt: try row.decode(column: "read_at", as: Int64?.self).map(Clock.date(millis:)),
            createdAt: Clock.date(millis: try row.decode(column: "created_at", as: Int64.self)), attachments: [])
    }
}
