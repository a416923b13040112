import AmtswegCore
import Foundation
import SQLKit

/// An internal note on a case: for the authority only, never shown to the citizen.
public struct CaseNote: Sendable, Equatable {
    public let id: String
    public let authorId: String
    public let text: String
    public let createdAt: Date
}

/// Internal notes of the back office, sealed at rest (they may hold personal data), each write audited.
public struct CaseNoteRepository: Sendable {
    let database: any Database
    let protector: DataProtector
    /// Longest note accepted.
    public static let maxLength = 5000

    /// Creates a repository; notes are sealed with `protector`.
    public init(database: any Database, protector: DataProtector) {
        self.database = database
        self.protector = protector
    }

    /// Adds a note to a case of `tenantId` and audits it (without its text).
    public func add(tenantId: UUID, applicationId: String, authorId: String, text: String) async throws -> CaseNote {
        let sealed = try protector.seal(Data(text.utf8), tenant: tenantId)
        let note = CaseNote(id: UUID().uuidString.lowercased(), authorId: authorId, text: text, createdAt: Clock.date(millis: Clock.millis()))
        try await database.write { sql in
            let tenant = tenantId.uuidString
            guard try await !sql.raw("SELECT 1 AS x FROM applications WHERE id = \(bind: applicationId) AND tenant_id = \(bind: tenant)").all().isEmpty
            else { throw StorageError.notFound }
            let at = Clock.millis(note.createdAt)
            try await sql.raw("""
                INSERT INTO case_notes (id, tenant_id, application_id, author_id, content, wrapped_key, created_at)
                VALUES (\(bind: note.id), \(bind: tenant), \(bind: applicationId), \(bind: authorId), \(bind: sealed.ciphertext),
                    \(bind: sealed.wrappedKey), \(bind: at))
                """).run()
            try await ApplicationRepository.audit(sql, tenant: tenant, application: applicationId, actor: Actor(kind: "staff", id: authorId),
                                                  action: "note_added", from: nil, to: nil, reason: nil, at: at)
        }
        return note
    }

    /// The notes of a case, oldest first.
    public func notes(tenantId: UUID, applicationId: String) async throws -> [CaseNote] {
        let protector = protector
        return try await database.read { sql in
            try await sql.raw("""
                SELECT * FROM case_notes WHERE tenant_id = \(bind: tenantId.uuidString) AND application_id = \(bind: applicationId)
                ORDER BY created_at, id
                """).all().map { row in
                let plain = try protector.open(try row.decode(column: "content", as: Data.self),
                                               wrappedKey: try row.decode(column: "wrapped_key", as: Data.self), tenant: tenantId)
                return CaseNote(id: try row.decode(column: "id", as: String.self), authorId: try row.decode(column: "author_id", as: String.self),
                                text: String(decoding: plain, as: UTF8.self),
                                createdAt: Clock.date(millis: try row.decode(column: "created_at", as: Int64.self)))
            }
        }
    }
}
