import AmtswegCore
import Foundation
import SQLKit

/// What the back-office inbox shows of an application (no answers: the list never loads personal data).
public struct InboxItem: Sendable, Equatable {
    public let id: String
    public let caseNumber: String
    public let leikaKey: String
    public let assistantId: String
    public let status: ApplicationStatus
    public let submittedAt: Date
    public let assigneeId: String?
}

/// The inbox's filters; nil means "any".
public struct InboxFilter: Sendable, Equatable {
    /// Who a case is assigned to.
    public enum Assignee: Sendable, Equatable {
        case user(String)
        case nobody
    }

    public var status: ApplicationStatus?
    public var leikaKey: String?
    public var assignee: Assignee?
    /// Submitted on or after this instant.
    public var from: Date?
    /// Submitted before this instant.
    public var until: Date?

    /// No filter.
    public init(status: ApplicationStatus? = nil, leikaKey: String? = nil, assignee: Assignee? = nil, from: Date? = nil, until: Date? = nil) {
        self.status = status
        self.leikaKey = leikaKey
        self.assignee = assignee
        self.from = from
        self.until = until
    }
}

/// A position in the inbox: the last item of the previous page (newest first).
public struct InboxCursor: Sendable, Equatable {
    public let submittedAt: Int64
    public let id: String

    /// The cursor as URL text (`millis_id`); nil for text that is not one.
    public init?(text: String) {
        let parts = text.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, let millis = Int64(parts[0]), UUID(uuidString: String(parts[1])) != nil else { return nil }
        submittedAt = millis
        id = String(parts[1]).lowercased()
    }

    init(submittedAt: Int64, id: String) {
        self.submittedAt = submittedAt
        self.id = id
    }

    /// The cursor as URL text.
    public var text: String { "\(submittedAt)_\(id)" }
}

extension ApplicationRepository {
    /// One page of the authority's inbox, newest first, after `cursor`; the next cursor when there are more.
    /// Keyset paging on indexes per filter keeps every page as fast as the first, also at 100,000 cases.
    public func inbox(tenantId: UUID, filter: InboxFilter, after cursor: InboxCursor? = nil, limit: Int = 50) async throws
        -> (items: [InboxItem], next: InboxCursor?) {
        let size = max(1, min(limit, 200))
        let rows = try await database.read { sql in
            var query = SQLQueryString("""
                SELECT id, case_number, leika_key, assistant_id, status, submitted_at, assignee_id FROM applications
                WHERE tenant_id = \(bind: tenantId.uuidString)
                """)
            if let status = filter.status { query = query + " AND status = \(bind: status.rawValue)" }
            if let leikaKey = filter.leikaKey { query = query + " AND leika_key = \(bind: leikaKey)" }
            switch filter.assignee {
            case .user(let id): query = query + " AND assignee_id = \(bind: id)"
            case .nobody: query = query + " AND assignee_id IS NULL"
            case nil: break
            }
            if let from = filter.from { query = query + " AND submitted_at >= \(bind: Clock.millis(from))" }
            if let until = filter.until { query = query + " AND submitted_at < \(bind: Clock.millis(until))" }
            if let cursor {
                // A row-value comparison, which both databases answer with an index range (an OR would scan from the top).
                query = query + " AND (submitted_at, id) < (\(bind: cursor.submittedAt), \(bind: cursor.id))"
            }
            query = query + " ORDER BY submitted_at DESC, id DESC LIMIT \(unsafeRaw: String(size + 1))"
            return try await sql.raw(query).all()
        }
        let items = try rows.prefix(size).map { row -> InboxItem in
            guard let status = ApplicationStatus(rawValue: try row.decode(column: "status", as: String.self)) else {
                throw StorageError.corruptRow("applications.status")
            }
            return InboxItem(
                id: try row.decode(column: "id", as: String.self), caseNumber: try row.decode(column: "case_number", as: String.self),
                leikaKey: try row.decode(column: "leika_key", as: String.self), assistantId: try row.decode(column: "assistant_id", as: String.self),
                status: status, submittedAt: Clock.date(millis: try row.decode(column: "submitted_at", as: Int64.self)),
                assigneeId: try row.decode(column: "assignee_id", as: String?.self))
        }
        let next = rows.count > size ? items.last.map { InboxCursor(submittedAt: Clock.millis($0.submittedAt), id: $0.id) } : nil
        return (Array(items), next)
    }

    /// Assigns the case to a case worker of the same authority (or to nobody); audited with the new assignee.
    public func assign(tenantId: UUID, id: String, to assigneeId: String?, actor: Actor) async throws {
        try await database.write { sql in
            let tenant = tenantId.uuidString
            guard try await !sql.raw("SELECT 1 AS x FROM applications WHERE id = \(bind: id) AND tenant_id = \(bind: tenant)").all().isEmpty else {
                throw StorageError.notFound
            }
            if let assigneeId {
                guard try await !sql.raw("SELECT 1 AS x FROM staff_users WHERE id = \(bind: assigneeId) AND tenant_id = \(bind: tenant)").all().isEmpty
                else { throw StorageError.notFound }
            }
            try await sql.raw("UPDATE applications SET assignee_id = \(bind: assigneeId) WHERE id = \(bind: id) AND tenant_id = \(bind: tenant)").run()
            try await Self.audit(sql, tenant: tenant, application: id, actor: actor, action: assigneeId == nil ? "unassigned" : "assigned",
                                 from: nil, to: nil, reason: assigneeId, at: Clock.millis())
        }
    }

    /// Who the case is assigned to.
    public func assignee(tenantId: UUID, id: String) async throws -> String? {
        try await database.read { sql in
            try await sql.raw("SELECT assignee_id FROM applications WHERE id = \(bind: id) AND tenant_id = \(bind: tenantId.uuidString)").all()
                .first?.decode(column: "assignee_id", as: String?.self)
        }
    }

    /// Records that the case was exported (for the e-Akte).
    public func recordExport(tenantId: UUID, id: String, actor: Actor) async throws {
        try await database.write { sql in
            try await Self.audit(sql, tenant: tenantId.uuidString, application: id, actor: actor, action: "exported", from: nil, to: nil,
                                 reason: nil, at: Clock.millis())
        }
    }
}
