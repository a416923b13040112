import AmtswegCore
import Foundation
import SQLKit

/// A document in a citizen's Dokumentensafe.
public struct SafeDocument: Sendable, Equatable {
    public let id: String
    public let filename: String
    public let contentType: String
    public let size: Int
    public let sha512: String
    public let createdAt: Date
}

/// Why a document cannot be stored.
public enum DocumentSafeError: Error, Equatable, Sendable {
    /// The safe holds the most documents allowed.
    case full(limit: Int)
}

/// The citizen's Dokumentensafe: personal documents, each encrypted with its own data key (wrapped under a key
/// domain of the safe), to attach to applications instead of uploading them again.
public struct DocumentSafeRepository: Sendable {
    let database: any Database
    let protector: DataProtector
    /// Most documents per account.
    public static let limit = 50
    /// Documents are sealed under this key domain, not an authority's.
    static let keyDomain = UUID(uuidString: "00000000-0000-0000-0000-0000000005af")!

    /// Creates a repository; documents are sealed with `protector`.
    public init(database: any Database, protector: DataProtector) {
        self.database = database
        self.protector = protector
    }

    /// The account's documents, newest first.
    public func list(accountId: String) async throws -> [SafeDocument] {
        try await database.read { sql in
            try await sql.raw("""
                SELECT id, filename, content_type, size, sha512, created_at FROM safe_documents WHERE account_id = \(bind: accountId)
                ORDER BY created_at DESC, id
                """).all().map(Self.document)
        }
    }

    /// Stores a checked file; throws `.full` past the limit.
    @discardableResult
    public func add(accountId: String, filename: String, contentType: String, data: Data, now: Int64 = Clock.millis()) async throws -> SafeDocument {
        let sealed = try protector.seal(data, tenant: Self.keyDomain)
        let document = SafeDocument(id: UUID().uuidString.lowercased(), filename: filename, contentType: contentType, size: data.count,
                                    sha512: SecureToken.sha512Hex(data), createdAt: Clock.date(millis: now))
        try await database.write { sql in
            let count = try await sql.raw("SELECT COUNT(*) AS n FROM safe_documents WHERE account_id = \(bind: accountId)").all().first?
                .decode(column: "n", as: Int.self) ?? 0
            guard count < Self.limit else { throw DocumentSafeError.full(limit: Self.limit) }
            try await sql.raw("""
                INSERT INTO safe_documents (id, account_id, filename, content_type, size, sha512, data, wrapped_key, created_at)
                VALUES (\(bind: document.id), \(bind: accountId), \(bind: filename), \(bind: contentType), \(bind: data.count),
                        \(bind: document.sha512), \(bind: sealed.ciphertext), \(bind: sealed.wrappedKey), \(bind: now))
                """).run()
        }
        return document
    }

    /// A document of the account with its bytes; nil for another account's id.
    public func open(accountId: String, id: String) async throws -> (SafeDocument, Data)? {
        let protector = protector
        return try await database.read { sql in
            guard let row = try await sql.raw("SELECT * FROM safe_documents WHERE id = \(bind: id) AND account_id = \(bind: accountId)").all().first
            else { return nil }
            let data = try protector.open(try row.decode(column: "data", as: Data.self), wrappedKey: try row.decode(column: "wrapped_key", as: Data.self),
                                          tenant: Self.keyDomain)
            return (try Self.document(row), data)
        }
    }

    /// Deletes a document of the account; false when there is none with that id.
    @discardableResult
    public func delete(accountId: String, id: String) async throws -> Bool {
        try await database.write { sql in
            try await !sql.raw("DELETE FROM safe_documents WHERE id = \(bind: id) AND account_id = \(bind: accountId) RETURNING id").all().isEmpty
        }
    }

    static func document(_ row: any SQLRow) throws -> SafeDocument {
        SafeDocument(
            id: try row.decode(column: "id", as: String.self), filename: try row.decode(column: "filename", as: String.self),
            contentType: try row.decode(column: "content_type", as: String.self), size: try row.decode(column: "size", as: Int.self),
            sha512: try row.decode(column: "sha512", as: String.self), createdAt: Clock.date(millis: try row.decode(column: "created_at", as: Int64.self)))
    }
}
