import AmtswegCore
import Foundation
import SQLKit

/// A submitted application (Vorgang).
public struct ApplicationRecord: Sendable, Equatable {
    public let id: String
    public let tenantId: UUID
    /// Vorgangsnummer, unique per authority.
    public let caseNumber: String
    public let leikaKey: String
    public let assistantId: String
    public let assistantVersion: String
    public let status: ApplicationStatus
    public let answers: Answers
    public let feeCents: Int
    public let locale: String
    public let submittedAt: Date
    public let updatedAt: Date
    /// When a specialist system confirmed receipt.
    public let acknowledgedAt: Date?
    /// The citizen account the application belongs to, if any.
    public let accountId: String?

    /// An application record (as stored, or made up for benchmarks and previews).
    public init(id: String, tenantId: UUID, caseNumber: String, leikaKey: String, assistantId: String, assistantVersion: String,
                status: ApplicationStatus, answers: Answers, feeCents: Int, locale: String, submittedAt: Date, updatedAt: Date,
                acknowledgedAt: Date?, accountId: String?) {
        self.id = id
        self.tenantId = tenantId
        self.caseNumber = caseNumber
        self.leikaKey = leikaKey
        self.assistantId = assistantId
        self.assistantVersion = assistantVersion
        self.status = status
        self.answers = answers
        self.feeCents = feeCents
        self.locale = locale
        self.submittedAt = submittedAt
        self.updatedAt = updatedAt
        self.acknowledgedAt = acknowledgedAt
        self.accountId = accountId
    }
}

/// An entry of the append-only audit log.
public struct AuditEvent: Sendable, Equatable {
    /// "citizen", "staff", "api" or "system".
    public let actorKind: String
    /// The staff user or API key id, never a citizen's personal data.
    public let actorId: String?
    /// "submitted", "status_changed", "viewed", "acknowledged".
    public let action: String
    public let from: ApplicationStatus?
    public let to: ApplicationStatus?
    public let reason: String?
    public let at: Date
}

/// Who acts on an application, for the audit log.
public struct Actor: Sendable, Equatable {
    public let kind: String
    public let id: String?

    /// Creates an actor.
    public init(kind: String, id: String?) {
        self.kind = kind
        self.id = id
    }

    /// The citizen who submitted.
    public static let citizen = Actor(kind: "citizen", id: nil)
}

/// What the citizen gets back from a submission.
public struct SubmissionReceipt: Sendable, Equatable {
    public let applicationId: String
    public let caseNumber: String
    /// Shown once; only its hash is stored.
    public let accessCode: String
    public let feeCents: Int
}

/// Applications and their audit trail, always scoped by tenant.
public struct ApplicationRepository: Sendable {
    let database: any Database
    /// Opens uploads sealed at rest.
    let protector: DataProtector

    /// Creates a repository over `database`; uploads are opened with `protector`.
    public init(database: any Database, protector: DataProtector) {
        self.database = database
        self.protector = protector
    }

    /// Turns a complete draft into an application in one durable transaction: insert, move uploads, audit, delete draft,
    /// and, if `sessionData` gives one, the submitting session's new data (so the receipt costs no second commit).
    public func submit(
        draftId: String, sessionHash: String, answers: Answers, feeCents: Int,
        sessionData: (@Sendable (SubmissionReceipt) -> SessionData)? = nil
    ) async throws -> SubmissionReceipt {
        try await database.write { sql in
            guard let row = try await sql.raw("""
                SELECT * FROM drafts WHERE id = \(bind: draftId) AND session_hash = \(bind: sessionHash)
                """).all().first else { throw StorageError.notFound }
            let draft = try DraftRepository.record(row)
            let tenant = draft.tenantId.uuidString
            var caseNumber = CaseNumber.generate()
            while try await !sql.raw("SELECT 1 AS x FROM applications WHERE tenant_id = \(bind: tenant) AND case_number = \(bind: caseNumber)").all().isEmpty {
                caseNumber = CaseNumber.generate()
            }
            let id = UUID().uuidString.lowercased()
            let accessCode = CaseNumber.generateAccessCode()
            let now = Clock.millis()
            let encoded = try DraftRepository.encode(answers)
            // A signed-in citizen's application goes straight into their Postfach.
            let accountId = try await sql.raw("SELECT account_id FROM sessions WHERE id_hash = \(bind: sessionHash)").all().first?
                .decode(column: "account_id", as: String?.self)
            try await sql.raw("""
                INSERT INTO applications (id, tenant_id, case_number, access_code_hash, leika_key, assistant_id, assistant_version,
                    status, answers, fee_cents, locale, submitted_at, updated_at, acknowledged_at, account_id)
                VALUES (\(bind: id), \(bind: tenant), \(bind: caseNumber), \(bind: Self.accessHash(id: id, code: accessCode)),
                    \(bind: draft.leikaKey), \(bind: draft.assistantId), \(bind: draft.assistantVersion),
                    \(bind: ApplicationStatus.received.rawValue), \(bind: encoded), \(bind: feeCents), \(bind: draft.locale),
                    \(bind: now), \(bind: now), NULL, \(bind: accountId))
                """).run()
            let kept = Set(answers.pages.values.flatMap(\.values))
            let uploads = try await sql.raw("SELECT id FROM attachments WHERE draft_id = \(bind: draftId)").all()
            for upload in uploads {
                let uploadId = try upload.decode(column: "id", as: String.self)
                if kept.contains(uploadId) {
                    try await sql.raw("UPDATE attachments SET application_id = \(bind: id), draft_id = NULL WHERE id = \(bind: uploadId)").run()
                } else {
                    try await sql.raw("DELETE FROM attachments WHERE id = \(bind: uploadId)").run()
                }
            }
            try await Self.audit(sql, tenant: tenant, application: id, actor: .citizen, action: "submitted", from: nil, to: .received, reason: nil, at: now)
            // The delivery jobs commit with the application: none can be lost, none exists for an application that does not.
            if try await DeliveryRepository.createJobs(sql, tenant: tenant, applicationId: id, leikaKey: draft.leikaKey, now: now) {
                try await sql.raw("UPDATE applications SET acknowledged_at = \(bind: now) WHERE id = \(bind: id)").run()
            }
            try await sql.raw("DELETE FROM drafts WHERE id = \(bind: draftId)").run()
            let receipt = SubmissionReceipt(applicationId: id, caseNumber: caseNumber, accessCode: accessCode, feeCents: feeCents)
            if let sessionData {
                let encoded = try SessionRepository.encode(sessionData(receipt))
                try await sql.raw("UPDATE sessions SET data = \(bind: encoded) WHERE id_hash = \(bind: sessionHash)").run()
            }
            return receipt
        }
    }

    /// The application `id` of `tenantId`.
    public func find(tenantId: UUID, id: String) async throws -> ApplicationRecord? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM applications WHERE id = \(bind: id) AND tenant_id = \(bind: tenantId.uuidString)").all().first.map(Self.record)
        }
    }

    /// The application a citizen may see: found by id with the session's grant, without knowing the tenant.
    public func findForCitizen(id: String) async throws -> ApplicationRecord? {
        // Cross-tenant by purpose: the citizen's grant (receipt or Vorgangsnummer + code) was checked by the caller.
        try await database.read { sql in
            try await sql.raw("SELECT * FROM applications WHERE id = \(bind: id)").all().first.map(Self.record)
        }
    }

    /// The application with this Vorgangsnummer and access code, in whichever authority it was filed.
    public func find(caseNumber: String, accessCode: String) async throws -> ApplicationRecord? {
        let rows = try await database.read { sql in
            // Cross-tenant by purpose: the citizen does not know the authority's id; the access code is the proof.
            try await sql.raw("SELECT * FROM applications WHERE case_number = \(bind: caseNumber)").all()
        }
        for row in rows {
            let id = try row.decode(column: "id", as: String.self)
            let stored = try row.decode(column: "access_code_hash", as: String.self)
            if SecureToken.constantTimeEquals(stored, Self.accessHash(id: id, code: accessCode)) { return try Self.record(row) }
        }
        return nil
    }

    /// A page of the tenant's applications, newest first, optionally filtered.
    public func list(tenantId: UUID, status: ApplicationStatus? = nil, acknowledged: Bool? = nil, limit: Int = 50, offset: Int = 0) async throws -> [ApplicationRecord] {
        try await database.read { sql in
            var query = SQLQueryString("SELECT * FROM applications WHERE tenant_id = \(bind: tenantId.uuidString)")
            if let status { query.appendInterpolation(unsafeRaw: " AND status = "); query.appendInterpolation(bind: status.rawValue) }
            if let acknowledged { query.appendInterpolation(unsafeRaw: acknowledged ? " AND acknowledged_at IS NOT NULL" : " AND acknowledged_at IS NULL") }
            query.appendInterpolation(unsafeRaw: " ORDER BY submitted_at DESC, id LIMIT \(max(1, min(limit, 200))) OFFSET \(max(0, offset))")
            return try await sql.raw(query).all().map(Self.record)
        }
    }

    /// Moves an application to `target`, if the state machine allows it, and audits who did it.
    public func transition(tenantId: UUID, id: String, to target: ApplicationStatus, reason: String?, actor: Actor) async throws -> ApplicationRecord {
        try await database.write { sql in
            let tenant = tenantId.uuidString
            guard let row = try await sql.raw("SELECT * FROM applications WHERE id = \(bind: id) AND tenant_id = \(bind: tenant)").all().first else {
                throw StorageError.notFound
            }
            let current = try Self.record(row)
            let change = try current.status.transition(to: target, reason: reason)
            let now = Clock.millis()
            try await sql.raw("""
                UPDATE applications SET status = \(bind: change.to.rawValue), updated_at = \(bind: now)
                WHERE id = \(bind: id) AND tenant_id = \(bind: tenant) AND status = \(bind: change.from.rawValue)
                """).run()
            try await Self.audit(sql, tenant: tenant, application: id, actor: actor, action: "status_changed", from: change.from, to: change.to, reason: change.reason, at: now)
            guard let updated = try await sql.raw("SELECT * FROM applications WHERE id = \(bind: id)").all().first else { throw StorageError.notFound }
            try await Self.notifyAccountHolder(sql, accountId: current.accountId, protector: protector, now: now)
            return try Self.record(updated)
        }
    }

    /// Confirms one of the citizen's preferred appointments (`slot`, e.g. `2026-12-01T10:00`); a received application
    /// moves to in progress. Both are audited; the citizen sees the confirmed appointment in the status check.
    public func confirmAppointment(tenantId: UUID, id: String, slot: String, actor: Actor) async throws -> ApplicationRecord {
        try await database.write { sql in
            let tenant = tenantId.uuidString
            guard let row = try await sql.raw("SELECT * FROM applications WHERE id = \(bind: id) AND tenant_id = \(bind: tenant)").all().first else {
                throw StorageError.notFound
            }
            let current = try Self.record(row)
            guard !current.status.isFinal else { throw TransitionError.notAllowed(from: current.status, to: current.status) }
            let now = Clock.millis()
            try await Self.audit(sql, tenant: tenant, application: id, actor: actor, action: "appointment_confirmed", from: nil, to: nil, reason: slot, at: now)
            if current.status == .received {
                let change = try current.status.transition(to: .inProgress, reason: nil)
                try await sql.raw("""
                    UPDATE applications SET status = \(bind: change.to.rawValue), updated_at = \(bind: now)
                    WHERE id = \(bind: id) AND tenant_id = \(bind: tenant) AND status = \(bind: change.from.rawValue)
                    """).run()
                try await Self.audit(sql, tenant: tenant, application: id, actor: actor, action: "status_changed", from: change.from, to: change.to, reason: nil, at: now)
            }
            try await Self.notifyAccountHolder(sql, accountId: current.accountId, protector: protector, now: now)
            return try Self.record(try await sql.raw("SELECT * FROM applications WHERE id = \(bind: id)").all().first!)
        }
    }

    /// Applies a specialist system's answer to the application's API deliveries: accepted (received) or rejected with
    /// `problems`. Once every destination has accepted, the application counts as delivered (`acknowledgedAt`).
    /// Repeated answers change nothing.
    public func acknowledge(tenantId: UUID, id: String, actor: Actor, accepted: Bool = true, problems: [String] = [],
                            kind: DeliveryKind = .api) async throws -> ApplicationRecord {
        try await database.write { sql in
            let tenant = tenantId.uuidString
            guard let row = try await sql.raw("SELECT * FROM applications WHERE id = \(bind: id) AND tenant_id = \(bind: tenant)").all().first else {
                throw StorageError.notFound
            }
            let current = try Self.record(row)
            let now = Clock.millis()
            let changed = try await DeliveryRepository.acknowledge(
                sql, tenant: tenant, applicationId: id, kind: kind, accepted: accepted, problems: problems, now: now)
            if !changed {
                let hasDeliveries = try await !sql.raw("SELECT 1 AS x FROM deliveries WHERE application_id = \(bind: id)").all().isEmpty
                // Applications from before delivery routes existed have no jobs: the first acceptance counts, as it did then.
                guard !hasDeliveries, accepted, current.acknowledgedAt == nil else { return current }
            } else {
                try await Self.audit(sql, tenant: tenant, application: id, actor: actor, action: accepted ? "delivered" : "delivery_rejected",
                                     from: nil, to: nil, reason: problems.isEmpty ? nil : String(problems.joined(separator: "; ").prefix(2000)), at: now)
            }
            if accepted, current.acknowledgedAt == nil, try await DeliveryRepository.allDelivered(sql, applicationId: id) {
                try await sql.raw("UPDATE applications SET acknowledged_at = \(bind: now) WHERE id = \(bind: id) AND tenant_id = \(bind: tenant)").run()
                try await Self.audit(sql, tenant: tenant, application: id, actor: actor, action: "acknowledged", from: nil, to: nil, reason: nil, at: now)
            }
            return try Self.record(try await sql.raw("SELECT * FROM applications WHERE id = \(bind: id)").all().first!)
        }
    }

    /// Records a read access by a case worker or specialist system.
    public func recordAccess(tenantId: UUID, id: String, actor: Actor) async throws {
        try await database.write { sql in
            try await Self.audit(sql, tenant: tenantId.uuidString, application: id, actor: actor, action: "viewed", from: nil, to: nil, reason: nil, at: Clock.millis())
        }
    }

    /// The audit trail of an application, oldest first.
    public func history(tenantId: UUID, id: String) async throws -> [AuditEvent] {
        try await database.read { sql in
            try await sql.raw("""
                SELECT * FROM audit_events WHERE tenant_id = \(bind: tenantId.uuidString) AND application_id = \(bind: id) ORDER BY at, id
                """).all().map { row in
                AuditEvent(
                    actorKind: try row.decode(column: "actor_kind", as: String.self), actorId: try row.decode(column: "actor_id", as: String?.self),
                    action: try row.decode(column: "action", as: String.self),
                    from: try row.decode(column: "from_status", as: String?.self).flatMap(ApplicationStatus.init(rawValue:)),
                    to: try row.decode(column: "to_status", as: String?.self).flatMap(ApplicationStatus.init(rawValue:)),
                    reason: try row.decode(column: "reason", as: String?.self),
                    at: Clock.date(millis: try row.decode(column: "at", as: Int64.self)))
            }
        }
    }

    /// Upload metadata of an application's answers (not those of Postfach messages).
    public func attachments(tenantId: UUID, id: String) async throws -> [AttachmentInfo] {
        try await database.read { sql in
            try await sql.raw("""
                SELECT id, page_id, field_id, filename, content_type, size, sha512 FROM attachments
                WHERE tenant_id = \(bind: tenantId.uuidString) AND application_id = \(bind: id) AND message_id IS NULL
                ORDER BY page_id, field_id
                """).all().map(AttachmentRows.info)
        }
    }

    /// One upload's metadata and bytes.
    public func attachment(tenantId: UUID, applicationId: String, attachmentId: String) async throws -> (AttachmentInfo, Data)? {
        try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT * FROM attachments WHERE tenant_id = \(bind: tenantId.uuidString) AND application_id = \(bind: applicationId)
                AND id = \(bind: attachmentId)
                """).all().first else { return nil }
            let stored = try row.decode(column: "data", as: Data.self)
            guard let wrapped = try row.decode(column: "wrapped_key", as: Data?.self) else { return (try AttachmentRows.info(row), stored) }
            return (try AttachmentRows.info(row), try protector.open(stored, wrappedKey: wrapped, tenant: tenantId))
        }
    }

    static func accessHash(id: String, code: String) -> String { SecureToken.hash("\(id):\(code)") }

    static func audit(
        _ sql: any SQLDatabase, tenant: String, application: String, actor: Actor, action: String,
        from: ApplicationStatus?, to: ApplicationStatus?, reason: String?, at: Int64
    ) async throws {
        try await sql.raw("""
            INSERT INTO audit_events (id, tenant_id, application_id, actor_kind, actor_id, action, from_status, to_status, reason, at)
            VALUES (\(bind: UUID().uuidString.lowercased()), \(bind: tenant), \(bind: application), \(bind: actor.kind), \(bind: actor.id),
                    \(bind: action), \(bind: from?.rawValue), \(bind: to?.rawValue), \(bind: reason), \(bind: at))
            """).run()
    }

    static func record(_ row: any SQLRow) throws -> ApplicationRecord {
        guard let status = ApplicationStatus(rawValue: try row.decode(column: "status", as: String.self)) else {
            throw StorageError.corruptRow("applications.status")
        }
        return ApplicationRecord(
            id: try row.decode(column: "id", as: String.self),
            tenantId: UUID(uuidString: try row.decode(column: "tenant_id", as: String.self))!,
            caseNumber: try row.decode(column: "case_number", as: String.self),
            leikaKey: try row.decode(column: "leika_key", as: String.self),
            assistantId: try row.decode(column: "assistant_id", as: String.self),
            assistantVersion: try row.decode(column: "assistant_version", as: String.self),
            status: status,
            answers: try JSONDecoder().decode(Answers.self, from: Data(try row.decode(column: "answers", as: String.self).utf8)),
            feeCents: try row.decode(column: "fee_cents", as: Int.self),
            locale: try row.decode(column: "locale", as: String.self),
            submittedAt: Clock.date(millis: try row.decode(column: "submitted_at", as: Int64.self)),
            updatedAt: Clock.date(millis: try row.decode(column: "updated_at", as: Int64.self)),
            acknowledgedAt: try row.decode(column: "acknowledged_at", as: Int64?.self).map(Clock.date(millis:)),
            accountId: try row.decode(column: "account_id", as: String?.self))
    }
}
