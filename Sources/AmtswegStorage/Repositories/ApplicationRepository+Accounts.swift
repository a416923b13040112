import AmtswegCore
import Foundation
import SQLKit

/// What the citizen's Postfach shows of an application's history: the steps, never who looked at it.
public struct StatusStep: Sendable, Equatable {
    /// "submitted", "status_changed" or "appointment_confirmed".
    public let action: String
    public let to: ApplicationStatus?
    /// The reason the authority gave, or the confirmed appointment.
    public let detail: String?
    public let at: Date
}

/// Applications as seen from a citizen account: the Postfach list, one application, and claiming one filed without an account.
extension ApplicationRepository {
    /// The account's applications, newest first.
    public func list(accountId: String, limit: Int = 100) async throws -> [ApplicationRecord] {
        try await database.read { sql in
            try await sql.raw("""
                SELECT * FROM applications WHERE account_id = \(bind: accountId)
                ORDER BY submitted_at DESC, id LIMIT \(unsafeRaw: String(max(1, min(limit, 500))))
                """).all().map(Self.record)
        }
    }

    /// The application `id` if it belongs to `accountId`; nil otherwise, so another citizen's id looks like no id at all.
    public func find(accountId: String, id: String) async throws -> ApplicationRecord? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM applications WHERE id = \(bind: id) AND account_id = \(bind: accountId)").all().first.map(Self.record)
        }
    }

    /// Links an application filed without an account to `accountId`, given its Vorgangsnummer and access code.
    /// Returns nil when the code does not match or the application already belongs to an account (the same answer
    /// for both, so claiming does not reveal which applications exist).
    public func claim(caseNumber: String, accessCode: String, accountId: String) async throws -> ApplicationRecord? {
        guard let found = try await find(caseNumber: caseNumber, accessCode: accessCode) else { return nil }
        if found.accountId == accountId { return found }
        return try await database.write { sql in
            let rows = try await sql.raw("""
                UPDATE applications SET account_id = \(bind: accountId)
                WHERE id = \(bind: found.id) AND tenant_id = \(bind: found.tenantId.uuidString) AND account_id IS NULL
                RETURNING *
                """).all()
            return try rows.first.map(Self.record)
        }
    }

    /// The steps the citizen sees, oldest first: submission, status changes with their reasons, confirmed appointments.
    public func statusSteps(of application: ApplicationRecord) async throws -> [StatusStep] {
        try await history(tenantId: application.tenantId, id: application.id).compactMap { event in
            switch event.action {
            case "submitted", "status_changed": StatusStep(action: event.action, to: event.to, detail: event.reason, at: event.at)
            case "appointment_confirmed": StatusStep(action: event.action, to: nil, detail: event.reason, at: event.at)
            default: nil
            }
        }
    }

    /// Queues "new message in your Postfach" for the application's account, if it has a verified address.
    static func notifyAccountHolder(_ sql: any SQLDatabase, accountId: String?, protector: DataProtector, now: Int64) async throws {
        guard let accountId,
              let row = try await sql.raw("""
                  SELECT email, locale FROM citizen_accounts WHERE id = \(bind: accountId) AND email_verified_at IS NOT NULL
                  """).all().first
        else { return }
        try await MailOutbox.enqueue(sql, MailRequest(
            recipient: try row.decode(column: "email", as: String.self), template: .postfachNotice,
            locale: try row.decode(column: "locale", as: String.self)), protector: protector, now: now)
    }
}

/// One access by an authority to a citizen's application, as the citizen sees it (Art. 15 DSGVO).
public struct AccessEntry: Sendable, Equatable {
    public let applicationId: String
    public let caseNumber: String
    public let tenantId: UUID
    /// "staff" or "api".
    public let actorKind: String
    /// The case worker's role ("case_worker", "authority_admin"); nil for specialist systems.
    public let role: String?
    /// What was done ("viewed", "status_changed", "message_sent", …).
    public let action: String
    public let at: Date
}

extension ApplicationRepository {
    /// Accesses by case workers and specialist systems to the account's applications, newest first (at most `limit`).
    public func accessLog(accountId: String, limit: Int = 500) async throws -> [AccessEntry] {
        try await database.read { sql in
            try await sql.raw("""
                SELECT e.application_id, e.actor_kind, e.action, e.at, a.case_number, a.tenant_id, s.role FROM audit_events e
                JOIN applications a ON a.id = e.application_id AND a.tenant_id = e.tenant_id
                LEFT JOIN staff_users s ON e.actor_kind = 'staff' AND s.id = e.actor_id AND s.tenant_id = e.tenant_id
                WHERE a.account_id = \(bind: accountId) AND e.actor_kind IN ('staff', 'api')
                ORDER BY e.at DESC, e.id LIMIT \(unsafeRaw: String(max(1, min(limit, 5000))))
                """).all().map { row in
                AccessEntry(
                    applicationId: try row.decode(column: "application_id", as: String.self),
                    caseNumber: try row.decode(column: "case_number", as: String.self),
                    tenantId: UUID(uuidString: try row.decode(column: "tenant_id", as: String.self))!,
                    actorKind: try row.decode(column: "actor_kind", as: String.self), role: try row.decode(column: "role", as: String?.self),
                    action: try row.decode(column: "action", as: String.self), at: Clock.date(millis: try row.decode(column: "at", as: Int64.self)))
            }
        }
    }
}
