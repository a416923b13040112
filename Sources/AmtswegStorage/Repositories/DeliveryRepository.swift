import AmtswegCore
import Foundation
import SQLKit

/// Where one delivery stands.
public enum DeliveryState: String, Sendable, CaseIterable, Codable {
    /// Waiting for the worker (first try or a retry).
    case pending
    /// Handed over (webhook answered, or pull only): waiting for the destination to acknowledge.
    case sent
    /// The destination acknowledged receipt.
    case delivered
    /// The destination refused it (with problems); an operator may send it again.
    case rejected
    /// Given up after the last attempt or a permanent error (dead letter); an operator may send it again.
    case dead
}

/// One (application, destination) delivery job.
public struct DeliveryRecord: Sendable, Equatable {
    public let id: String
    public let tenantId: UUID
    public let applicationId: String
    public let caseNumber: String
    public let routeId: String
    public let kind: DeliveryKind
    /// Sent along with every attempt, so the destination can drop repeats.
    public let idempotencyKey: String
    public let state: DeliveryState
    public let attempts: Int
    public let lastError: String?
    /// The destination's reasons for a rejection.
    public let problems: [String]
    public let updatedAt: Date
    public let deliveredAt: Date?
    /// The lease this worker holds, to be handed back with the outcome (claimed jobs only).
    public let lease: Int64?
    /// What a multi-step destination has done so far (JSON; FIT-Connect: submission id, attachment ids, tags).
    public let remoteState: String?
}

/// How often and how long deliveries are retried.
public struct DeliveryPolicy: Sendable {
    /// First retry delay; it doubles with every attempt.
    public var baseDelayMillis: Int64 = 30_000
    /// Longest delay between two attempts.
    public var maxDelayMillis: Int64 = 6 * 3_600_000
    /// Attempts before a delivery becomes a dead letter (about three days with the defaults).
    public var maxAttempts = 16
    /// How long a claimed delivery is reserved for one worker before another may take it over.
    public var leaseMillis: Int64 = 60_000

    /// The defaults.
    public init() {}

    /// Delay before attempt `attempt + 1`, times a random factor in 0.5…1.5 so that retries after an outage spread out.
    public func backoffMillis(attempt: Int, jitter: Double = Double.random(in: 0.5...1.5)) -> Int64 {
        let base = Double(baseDelayMillis) * pow(2, Double(min(max(0, attempt - 1), 30)))
        return Int64(min(base, Double(maxDelayMillis)) * jitter)
    }
}

/// The delivery outbox: jobs are written in the submission's transaction and worked off with retries.
public struct DeliveryRepository: Sendable {
    let database: any Database
    public let policy: DeliveryPolicy
    /// The route id of the implicit back-office route.
    public static let backofficeRoute = "backoffice"

    /// Creates a repository.
    public init(database: any Database, policy: DeliveryPolicy = DeliveryPolicy()) {
        self.database = database
        self.policy = policy
    }

    /// Creates the application's delivery jobs inside the submission's transaction; returns whether all are done
    /// already (back office only).
    static func createJobs(_ sql: any SQLDatabase, tenant: String, applicationId: String, leikaKey: String, now: Int64) async throws -> Bool {
        var routes = try await DeliveryRouteRepository.resolve(sql, tenant: tenant, leikaKey: leikaKey)
        if routes.isEmpty { routes = [(backofficeRoute, .backoffice, false)] }
        for route in routes {
            // The back office holds the application the moment this transaction commits; pull-only APIs wait for the ack.
            let state: DeliveryState
            switch route.kind {
            case .backoffice: state = .delivered
            case .api: state = route.hasTarget ? .pending : .sent
            case .fitconnect: state = .pending
            }
            try await sql.raw("""
                INSERT INTO deliveries (id, tenant_id, application_id, route_id, kind, idempotency_key, state, attempts, next_attempt_at,
                    claimed_until, last_error, problems, created_at, updated_at, delivered_at)
                VALUES (\(bind: UUID().uuidString.lowercased()), \(bind: tenant), \(bind: applicationId), \(bind: route.id),
                    \(bind: route.kind.rawValue), \(bind: UUID().uuidString.lowercased()), \(bind: state.rawValue), \(bind: 0), \(bind: now),
                    NULL, NULL, NULL, \(bind: now), \(bind: now), \(bind: state == .delivered ? now : nil as Int64?))
                """).run()
        }
        return routes.allSatisfy { $0.kind == .backoffice }
    }

    /// Claims up to `limit` due deliveries for the policy's lease, so no other worker or instance takes them meanwhile.
    public func claimDue(limit: Int = 20, now: Int64 = Clock.millis()) async throws -> [DeliveryRecord] {
        try await claim(state: .pending, kind: nil, limit: limit, now: now)
    }

    /// Claims handed-over deliveries of `kind` whose next check is due (FIT-Connect: read the case's event log).
    public func claimAwaiting(kind: DeliveryKind, limit: Int = 20, now: Int64 = Clock.millis()) async throws -> [DeliveryRecord] {
        try await claim(state: .sent, kind: kind, limit: limit, now: now)
    }

    private func claim(state: DeliveryState, kind: DeliveryKind?, limit: Int, now: Int64) async throws -> [DeliveryRecord] {
        let lease = now + policy.leaseMillis
        let kindCondition: SQLQueryString = kind.map { "AND kind = \(bind: $0.rawValue)" } ?? ""
        let ids = try await database.write { sql in
            // The outer condition is repeated so PostgreSQL re-checks it on rows another instance claimed meanwhile.
            try await sql.raw("""
                UPDATE deliveries SET claimed_until = \(bind: lease)
                WHERE id IN (SELECT id FROM deliveries WHERE state = \(bind: state.rawValue) \(kindCondition)
                                 AND next_attempt_at <= \(bind: now) AND (claimed_until IS NULL OR claimed_until < \(bind: now))
                             ORDER BY next_attempt_at LIMIT \(unsafeRaw: String(max(1, min(limit, 200)))))
                  AND state = \(bind: state.rawValue) AND (claimed_until IS NULL OR claimed_until < \(bind: now))
                RETURNING id
                """).all().map { try $0.decode(column: "id", as: String.self) }
        }
        if ids.isEmpty { return [] }
        return try await database.read { sql in
            try await Self.select(sql, "d.id IN (\(binds: ids))", order: "d.next_attempt_at").map(Self.record)
        }
    }

    /// Stores a claimed job's progress at its destination, while the lease holds; false when the lease was lost.
    @discardableResult
    public func saveProgress(_ delivery: DeliveryRecord, remoteState: String, now: Int64 = Clock.millis()) async throws -> Bool {
        try await database.write { sql in
            let rows = try await sql.raw("""
                UPDATE deliveries SET remote_state = \(bind: remoteState), updated_at = \(bind: now)
                WHERE id = \(bind: delivery.id) AND claimed_until = \(bind: delivery.lease) RETURNING id
                """).all()
            return !rows.isEmpty
        }
    }

    /// Makes every handed-over job of `kind` due for its next check now (a destination said there is news); returns how many.
    public func expediteAwaiting(kind: DeliveryKind, now: Int64 = Clock.millis()) async throws -> Int {
        try await database.write { sql in
            try await sql.raw("""
                UPDATE deliveries SET next_attempt_at = \(bind: now)
                WHERE state = 'sent' AND kind = \(bind: kind.rawValue) AND next_attempt_at > \(bind: now) RETURNING id
                """).all().count
        }
    }

    /// Releases a claimed, handed-over job until its next check at `nextCheckAt`.
    public func releaseAwaiting(_ delivery: DeliveryRecord, nextCheckAt: Int64, remoteState: String? = nil, now: Int64 = Clock.millis()) async throws {
        try await database.write { sql in
            try await sql.raw("""
                UPDATE deliveries SET claimed_until = NULL, next_attempt_at = \(bind: nextCheckAt),
                    remote_state = COALESCE(\(bind: remoteState), remote_state), updated_at = \(bind: now)
                WHERE id = \(bind: delivery.id) AND state = 'sent' AND claimed_until = \(bind: delivery.lease)
                """).run()
        }
    }

    /// Records that a claimed delivery was handed over; only while the worker's lease still holds. `nextCheckAt` is when
    /// to look for the destination's acknowledgement (destinations that report it in an event log).
    public func markSent(_ delivery: DeliveryRecord, remoteState: String? = nil, nextCheckAt: Int64? = nil, now: Int64 = Clock.millis()) async throws {
        try await database.write { sql in
            try await sql.raw("""
                UPDATE deliveries SET state = 'sent', attempts = attempts + 1, claimed_until = NULL, last_error = NULL,
                    updated_at = \(bind: now), next_attempt_at = \(bind: nextCheckAt ?? now),
                    remote_state = COALESCE(\(bind: remoteState), remote_state)
                WHERE id = \(bind: delivery.id) AND state = 'pending' AND claimed_until = \(bind: delivery.lease)
                """).run()
        }
    }

    /// Records a failed attempt: retried after the policy's backoff, or a dead letter when `permanent` or after the last
    /// attempt. `error` must not contain personal data (operators see it).
    public func markFailed(_ delivery: DeliveryRecord, error: String, permanent: Bool, now: Int64 = Clock.millis()) async throws {
        let tries = delivery.attempts + 1
        let dead = permanent || tries >= policy.maxAttempts
        let next = now + policy.backoffMillis(attempt: tries)
        let message = String(error.prefix(300))
        try await database.write { sql in
            try await sql.raw("""
                UPDATE deliveries SET attempts = \(bind: tries), claimed_until = NULL, last_error = \(bind: message),
                    next_attempt_at = \(bind: next), state = \(bind: dead ? DeliveryState.dead.rawValue : DeliveryState.pending.rawValue),
                    updated_at = \(bind: now)
                WHERE id = \(bind: delivery.id) AND state = 'pending' AND claimed_until = \(bind: delivery.lease)
                """).run()
            if dead {
                try await ApplicationRepository.audit(sql, tenant: delivery.tenantId.uuidString, application: delivery.applicationId,
                                                      actor: Actor(kind: "system", id: nil), action: "delivery_failed",
                                                      from: nil, to: nil, reason: message, at: now)
            }
        }
    }

    /// Puts a dead or rejected delivery back into the queue (after the destination was fixed); audited.
    public func resend(tenantId: UUID, deliveryId: String, actor: Actor, now: Int64 = Clock.millis()) async throws -> DeliveryRecord {
        try await database.write { sql in
            let tenant = tenantId.uuidString
            guard let row = try await Self.select(sql, "d.id = \(bind: deliveryId) AND d.tenant_id = \(bind: tenant)").first else {
                throw StorageError.notFound
            }
            let current = try Self.record(row)
            guard current.state == .dead || current.state == .rejected else { throw StorageError.conflict }
            try await sql.raw("""
                UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = \(bind: now), claimed_until = NULL,
                    problems = NULL, updated_at = \(bind: now)
                WHERE id = \(bind: deliveryId) AND tenant_id = \(bind: tenant) AND state = \(bind: current.state.rawValue)
                """).run()
            try await ApplicationRepository.audit(sql, tenant: tenant, application: current.applicationId, actor: actor,
                                                  action: "delivery_resent", from: nil, to: nil, reason: nil, at: now)
            return try Self.record(try await Self.select(sql, "d.id = \(bind: deliveryId)").first!)
        }
    }

    /// The delivery jobs of one application.
    public func deliveries(tenantId: UUID, applicationId: String) async throws -> [DeliveryRecord] {
        try await database.read { sql in
            try await Self.select(sql, "d.tenant_id = \(bind: tenantId.uuidString) AND d.application_id = \(bind: applicationId)").map(Self.record)
        }
    }

    /// The authority's dead and rejected deliveries, most recent first.
    public func problems(tenantId: UUID, limit: Int = 100) async throws -> [DeliveryRecord] {
        try await database.read { sql in
            try await Self.select(sql, "d.tenant_id = \(bind: tenantId.uuidString) AND d.state IN ('dead', 'rejected')",
                                  order: "d.updated_at DESC LIMIT \(max(1, min(limit, 500)))").map(Self.record)
        }
    }

    /// How many of the authority's deliveries are dead or rejected.
    public func problemCount(tenantId: UUID) async throws -> Int {
        try await database.read { sql in
            try await sql.raw("""
                SELECT COUNT(*) AS n FROM deliveries WHERE tenant_id = \(bind: tenantId.uuidString) AND state IN ('dead', 'rejected')
                """).all().first?.decode(column: "n", as: Int.self) ?? 0
        }
    }

    /// How many deliveries are in which state, per authority and kind (for the metrics endpoint).
    public func counts() async throws -> [(tenantId: UUID, kind: DeliveryKind, state: DeliveryState, count: Int)] {
        try await database.read { sql in
            try await sql.raw("SELECT tenant_id, kind, state, COUNT(*) AS n FROM deliveries GROUP BY tenant_id, kind, state").all().compactMap { row in
                guard let tenant = UUID(uuidString: try row.decode(column: "tenant_id", as: String.self)),
                      let kind = DeliveryKind(rawValue: try row.decode(column: "kind", as: String.self)),
                      let state = DeliveryState(rawValue: try row.decode(column: "state", as: String.self)) else { return nil }
                return (tenant, kind, state, try row.decode(column: "n", as: Int.self))
            }
        }
    }

    /// Applies a destination's acknowledgement to the application's `kind` deliveries inside the caller's transaction;
    /// returns whether anything changed. Repeating the same answer changes nothing.
    static func acknowledge(
        _ sql: any SQLDatabase, tenant: String, applicationId: String, kind: DeliveryKind, accepted: Bool, problems: [String], now: Int64
    ) async throws -> Bool {
        let target: DeliveryState = accepted ? .delivered : .rejected
        let open = try await sql.raw("""
            SELECT id FROM deliveries WHERE tenant_id = \(bind: tenant) AND application_id = \(bind: applicationId)
                AND kind = \(bind: kind.rawValue) AND state IN ('pending', 'sent')
            """).all()
        if open.isEmpty { return false }
        let encodedProblems = problems.isEmpty ? nil : String(decoding: try JSONEncoder().encode(problems), as: UTF8.self)
        try await sql.raw("""
            UPDATE deliveries SET state = \(bind: target.rawValue), claimed_until = NULL, updated_at = \(bind: now),
                delivered_at = \(bind: accepted ? now : nil as Int64?), problems = \(bind: encodedProblems)
            WHERE tenant_id = \(bind: tenant) AND application_id = \(bind: applicationId) AND kind = \(bind: kind.rawValue)
                AND state IN ('pending', 'sent')
            """).run()
        return true
    }

    /// Whether every delivery of the application has been acknowledged (inside the caller's transaction).
    static func allDelivered(_ sql: any SQLDatabase, applicationId: String) async throws -> Bool {
        try await sql.raw("""
            SELECT COUNT(*) AS n FROM deliveries WHERE application_id = \(bind: applicationId) AND state <> 'delivered'
            """).all().first?.decode(column: "n", as: Int.self) == 0
    }

    private static func select(_ sql: any SQLDatabase, _ condition: SQLQueryString, order: String = "d.created_at, d.kind") async throws -> [any SQLRow] {
        let query = SQLQueryString("SELECT d.*, a.case_number FROM deliveries d JOIN applications a ON a.id = d.application_id WHERE ")
            + condition + SQLQueryString(" ORDER BY \(unsafeRaw: order)")
        return try await sql.raw(query).all()
    }

    static func record(_ row: any SQLRow) throws -> DeliveryRecord {
        guard let kind = DeliveryKind(rawValue: try row.decode(column: "kind", as: String.self)),
              let state = DeliveryState(rawValue: try row.decode(column: "state", as: String.self)),
              let tenantId = UUID(uuidString: try row.decode(column: "tenant_id", as: String.self))
        else { throw StorageError.corruptRow("deliveries") }
        let problems = try row.decode(column: "problems", as: String?.self)
            .flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
        return DeliveryRecord(
            id: try row.decode(column: "id", as: String.self), tenantId: tenantId,
            applicationId: try row.decode(column: "application_id", as: String.self),
            caseNumber: try row.decode(column: "case_number", as: String.self),
            routeId: try row.decode(column: "route_id", as: String.self), kind: kind,
            idempotencyKey: try row.decode(column: "idempotency_key", as: String.self), state: state,
            attempts: try row.decode(column: "attempts", as: Int.self), lastError: try row.decode(column: "last_error", as: String?.self),
            problems: problems, updatedAt: Clock.date(millis: try row.decode(column: "updated_at", as: Int64.self)),
            deliveredAt: try row.decode(column: "delivered_at", as: Int64?.self).map(Clock.date(millis:)),
            lease: try row.decode(column: "claimed_until", as: Int64?.self),
            remoteState: try row.decode(column: "remote_state", as: String?.self))
    }
}
