import AmtswegCore
import Foundation
import SQLKit

/// An application being filled in; bound to the browser session that started it.
public struct DraftRecord: Sendable, Equatable {
    /// Random id (part of the page URLs).
    public let id: String
    /// The authority it goes to.
    public let tenantId: UUID
    /// The session that owns it.
    public let sessionHash: String
    /// LeiKa key of the service.
    public let leikaKey: String
    /// Assistant id.
    public let assistantId: String
    /// The assistant version the draft was started with.
    public let assistantVersion: String
    /// Answers so far.
    public let answers: Answers
    /// Locale the citizen used.
    public let locale: String
}

/// Metadata of a stored upload.
public struct AttachmentInfo: Sendable, Equatable, Codable {
    /// Random id.
    public let id: String
    /// Page id.
    public let group: String
    /// Field id.
    public let field: String
    /// Original name, for display only.
    public let filename: String
    /// Media type sniffed from the content.
    public let contentType: String
    /// Size in bytes.
    public let size: Int
    /// SHA-512 of the content, lower-case hex.
    public let sha512: String

    /// Creates file metadata.
    public init(id: String, group: String, field: String, filename: String, contentType: String, size: Int, sha512: String) {
        self.id = id
        self.group = group
        self.field = field
        self.filename = filename
        self.contentType = contentType
        self.size = size
        self.sha512 = sha512
    }
}

/// Drafts and their uploads.
public struct DraftRepository: Sendable {
    let database: any Database
    /// Encrypts uploads before they are stored.
    let protector: DataProtector

    /// Creates a repository over `database`; uploads are sealed with `protector`.
    public init(database: any Database, protector: DataProtector) {
        self.database = database
        self.protector = protector
    }

    /// Starts a draft for `session`.
    public func create(tenantId: UUID, sessionHash: String, leikaKey: String, assistant: AssistantDefinition, locale: String) async throws -> DraftRecord {
        let record = DraftRecord(
            id: UUID().uuidString.lowercased(), tenantId: tenantId, sessionHash: sessionHash, leikaKey: leikaKey,
            assistantId: assistant.id, assistantVersion: assistant.version, answers: Answers(), locale: locale)
        let now = Clock.millis()
        let answers = try Self.encode(record.answers)
        try await database.write { sql in
            try await sql.raw("""
                INSERT INTO drafts (id, tenant_id, session_hash, leika_key, assistant_id, assistant_version, answers, locale, created_at, updated_at)
                VALUES (\(bind: record.id), \(bind: tenantId.uuidString), \(bind: sessionHash), \(bind: leikaKey),
                        \(bind: assistant.id), \(bind: assistant.version), \(bind: answers), \(bind: locale), \(bind: now), \(bind: now))
                """).run()
        }
        return record
    }

    /// The draft `id` if it belongs to `sessionHash`.
    public func find(id: String, sessionHash: String) async throws -> DraftRecord? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM drafts WHERE id = \(bind: id) AND session_hash = \(bind: sessionHash)").all().first.map(Self.record)
        }
    }

    /// Saves one page: its answers plus new uploads (replacing earlier uploads of the same field), atomically.
    public func savePage(
        draft: DraftRecord, pageId: String, values: [String: String], files: [String: (UploadedFile, String)], answers: Answers
    ) async throws {
        var updated = answers
        var pageValues = values
        var inserts: [(id: String, field: String, upload: UploadedFile, type: String, sealed: Data, wrappedKey: Data)] = []
        for (field, (upload, type)) in files.sorted(by: { $0.key < $1.key }) {
            let id = UUID().uuidString.lowercased()
            pageValues[field] = id
            let (sealed, wrappedKey) = try protector.seal(upload.data, tenant: draft.tenantId)
            inserts.append((id, field, upload, type, sealed, wrappedKey))
        }
        updated.set(page: pageId, values: pageValues)
        let encoded = try Self.encode(updated)
        let now = Clock.millis()
        let tenant = draft.tenantId.uuidString
        let pending = inserts
        try await database.write { sql in
            for insert in pending {
                try await sql.raw("DELETE FROM attachments WHERE draft_id = \(bind: draft.id) AND page_id = \(bind: pageId) AND field_id = \(bind: insert.field)").run()
                try await sql.raw("""
                    INSERT INTO attachments (id, tenant_id, draft_id, application_id, page_id, field_id, filename, content_type, size, sha512, data, wrapped_key, created_at)
                    VALUES (\(bind: insert.id), \(bind: tenant), \(bind: draft.id), NULL, \(bind: pageId), \(bind: insert.field),
                            \(bind: insert.upload.filename), \(bind: insert.type), \(bind: insert.upload.data.count),
                            \(bind: SecureToken.sha512Hex(insert.upload.data)), \(bind: insert.sealed), \(bind: insert.wrappedKey), \(bind: now))
                    """).run()
            }
            try await sql.raw("""
                UPDATE drafts SET answers = \(bind: encoded), updated_at = \(bind: now)
                WHERE id = \(bind: draft.id) AND session_hash = \(bind: draft.sessionHash)
                """).run()
        }
    }

    /// Moves a draft to a newer assistant version with the answers carried over.
    public func migrate(draft: DraftRecord, toVersion version: String, answers: Answers) async throws {
        let encoded = try Self.encode(answers)
        try await database.write { sql in
            try await sql.raw("""
                UPDATE drafts SET assistant_version = \(bind: version), answers = \(bind: encoded), updated_at = \(bind: Clock.millis())
                WHERE id = \(bind: draft.id) AND session_hash = \(bind: draft.sessionHash)
                """).run()
        }
    }

    /// Issues a secret resume link token for the draft, valid until `expiresAt` (ms); only its hash is stored.
    public func issueResumeToken(draft: DraftRecord, expiresAt: Int64) async throws -> String {
        let token = SecureToken.generate()
        let hash = SecureToken.hash(token)
        try await database.write { sql in
            try await sql.raw("""
                UPDATE drafts SET resume_token_hash = \(bind: hash), resume_expires_at = \(bind: expiresAt), updated_at = \(bind: Clock.millis())
                WHERE id = \(bind: draft.id) AND session_hash = \(bind: draft.sessionHash)
                """).run()
        }
        return token
    }

    /// The draft behind a resume token, now bound to `sessionHash`; nil when unknown or expired.
    public func resume(token: String, sessionHash: String, now: Int64 = Clock.millis()) async throws -> DraftRecord? {
        let hash = SecureToken.hash(token)
        return try await database.write { sql in
            guard let row = try await sql.raw("""
                SELECT * FROM drafts WHERE resume_token_hash = \(bind: hash) AND resume_expires_at >= \(bind: now)
                """).all().first else { return nil }
            let draft = try Self.record(row)
            try await sql.raw("UPDATE drafts SET session_hash = \(bind: sessionHash) WHERE id = \(bind: draft.id)").run()
            return try Self.record(try await sql.raw("SELECT * FROM drafts WHERE id = \(bind: draft.id)").all().first!)
        }
    }

    /// Upload metadata of a draft.
    public func attachments(draftId: String, tenantId: UUID) async throws -> [AttachmentInfo] {
        try await database.read { sql in
            try await sql.raw("""
                SELECT id, page_id, field_id, filename, content_type, size, sha512 FROM attachments
                WHERE draft_id = \(bind: draftId) AND tenant_id = \(bind: tenantId.uuidString) ORDER BY created_at
                """).all().map(AttachmentRows.info)
        }
    }

    static func encode(_ answers: Answers) throws -> String {
        String(decoding: try JSONEncoder().encode(answers), as: UTF8.self)
    }

    static func record(_ row: any SQLRow) throws -> DraftRecord {
        DraftRecord(
            id: try row.decode(column: "id", as: String.self),
            tenantId: UUID(uuidString: try row.decode(column: "tenant_id", as: String.self))!,
            sessionHash: try row.decode(column: "session_hash", as: String.self),
            leikaKey: try row.decode(column: "leika_key", as: String.self),
            assistantId: try row.decode(column: "assistant_id", as: String.self),
            assistantVersion: try row.decode(column: "assistant_version", as: String.self),
            answers: try JSONDecoder().decode(Answers.self, from: Data(try row.decode(column: "answers", as: String.self).utf8)),
            locale: try row.decode(column: "locale", as: String.self))
    }
}

/// Row mapping shared by draft and application attachment queries.
enum AttachmentRows {
    static func info(_ row: any SQLRow) throws -> AttachmentInfo {
        AttachmentInfo(
            id: try row.decode(column: "id", as: String.self), group: try row.decode(column: "page_id", as: String.self),
            field: try row.decode(column: "field_id", as: String.self), filename: try row.decode(column: "filename", as: String.self),
            contentType: try row.decode(column: "content_type", as: String.self), size: try row.decode(column: "size", as: Int.self),
            sha512: try row.decode(column: "sha512", as: String.self))
    }
}

extension DraftRepository {
    /// Deletes drafts (and their uploads) whose browser session has ended and that were untouched since `cutoff`.
    ///
    /// Cross-tenant by purpose: housekeeping for every authority at once. Nobody can reach such a
    /// draft any more, so keeping it would only keep personal data without a purpose.
    /// Drafts saved for later are kept until their resume link expires, then deleted too.
    @discardableResult
    public func purgeOrphaned(untouchedSince cutoff: Int64, now: Int64 = Clock.millis()) async throws -> Int {
        try await database.write { sql in
            let orphaned = try await sql.raw("""
                SELECT id FROM drafts WHERE (updated_at < \(bind: cutoff) AND resume_expires_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM sessions WHERE sessions.id_hash = drafts.session_hash))
                OR resume_expires_at < \(bind: now)
                """).all().map { try $0.decode(column: "id", as: String.self) }
            for id in orphaned {
                try await sql.raw("DELETE FROM attachments WHERE draft_id = \(bind: id)").run()
                try await sql.raw("DELETE FROM drafts WHERE id = \(bind: id)").run()
            }
            return orphaned.count
        }
    }
}
