import AmtswegCore
import Foundation
import SQLKit

/// Per-session state kept on the server; the cookie holds only a random token whose hash is the key.
public struct SessionData: Codable, Sendable, Equatable {
    /// Access codes of applications submitted in this session, shown once on the confirmation page.
    public var receipts: [String: String] = [:]
    /// Applications whose status this session may see after entering Vorgangsnummer and access code.
    public var statusGrants: [String] = []
    /// The trust level this session proved through an identity provider (nil: password only, i.e. basis).
    public var trustLevel: TrustLevel?
    /// An OpenID Connect authorization request on its way: state, nonce, PKCE verifier and what it is for.
    public var oidcRequest: OIDCRequestState?
    /// A login whose password was right and which waits for the second factor.
    public var pendingLogin: PendingLogin?
    /// An account whose password was just given correctly but whose address is not confirmed yet, so the
    /// confirmation mail can be sent again without asking for the password twice.
    public var unverifiedAccountId: String?

    /// Empty session data.
    public init() {}
}

/// What a session remembers of an authorization request it sent to the identity provider.
public struct OIDCRequestState: Codable, Sendable, Equatable {
    public let state: String
    public let nonce: String
    public let codeVerifier: String
    /// "link", "stepup" or "login".
    public let purpose: String
    /// Where to go afterwards (a local path).
    public let returnTo: String
    /// The level asked for.
    public let level: TrustLevel
    public let locale: String
    /// When it was sent (ms); it expires after ten minutes.
    public let at: Int64

    /// Creates the state of a new request.
    public init(state: String, nonce: String, codeVerifier: String, purpose: String, returnTo: String, level: TrustLevel, locale: String,
                at: Int64 = Clock.millis()) {
        self.state = state
        self.nonce = nonce
        self.codeVerifier = codeVerifier
        self.purpose = purpose
        self.returnTo = returnTo
        self.level = level
        self.locale = locale
        self.at = at
    }
}

/// A login between password and second factor: who, and since when (it expires after five minutes).
public struct PendingLogin: Codable, Sendable, Equatable {
    /// "staff" or "citizen".
    public let kind: String
    /// The staff user or account id.
    public let id: String
    /// The case worker's authority.
    public let tenantId: UUID?
    /// When the password was checked (ms).
    public let at: Int64
    /// Where the login was meant to lead (a local path).
    public let returnTo: String?

    /// Creates a pending login.
    public init(kind: String, id: String, tenantId: UUID? = nil, at: Int64 = Clock.millis(), returnTo: String? = nil) {
        self.kind = kind
        self.id = id
        self.tenantId = tenantId
        self.at = at
        self.returnTo = returnTo
    }

    /// Whether it is still usable at `now`.
    public func isLive(now: Int64 = Clock.millis()) -> Bool { now - at < 5 * 60_000 && now >= at }
}

/// A stored session.
public struct SessionRecord: Sendable, Equatable {
    /// SHA-256 of the cookie token.
    public let idHash: String
    /// The authority of a signed-in case worker; nil for citizens (their session is not bound to one authority).
    public let tenantId: UUID?
    /// The signed-in case worker.
    public let userId: String?
    /// The signed-in citizen's account.
    public let accountId: String?
    /// Synchronizer token every form post must carry.
    public let csrfToken: String
    /// Further state.
    public var data: SessionData
    /// Creation time (ms), for the absolute timeout.
    public let createdAt: Int64
    /// Last use (ms), for the idle timeout.
    public let lastSeenAt: Int64
}

extension SessionRecord {
    /// `record` with other data (for rotating a session whose data changes at the same time).
    public init(copying record: SessionRecord, data: SessionData) {
        self.init(idHash: record.idHash, tenantId: record.tenantId, userId: record.userId, accountId: record.accountId,
                  csrfToken: record.csrfToken, data: data, createdAt: record.createdAt, lastSeenAt: record.lastSeenAt)
    }
}

/// Sessions in the database, so any instance can serve any request.
public struct SessionRepository: Sendable {
    let database: any Database
    /// A session unused this long ends.
    public let idleTimeoutMillis: Int64
    /// A session ends this long after it started, used or not.
    public let absoluteTimeoutMillis: Int64

    /// Creates a repository with the given timeouts (defaults: 30 min idle, 12 h absolute).
    public init(database: any Database, idleTimeoutMillis: Int64 = 30 * 60_000, absoluteTimeoutMillis: Int64 = 12 * 3_600_000) {
        self.database = database
        self.idleTimeoutMillis = idleTimeoutMillis
        self.absoluteTimeoutMillis = absoluteTimeoutMillis
    }

    /// Starts a session; returns the cookie token (only its hash is stored) and the record.
    public func create(tenantId: UUID? = nil, userId: String? = nil, accountId: String? = nil, data: SessionData = SessionData()) async throws -> (token: String, session: SessionRecord) {
        let token = SecureToken.generate()
        let now = Clock.millis()
        let record = SessionRecord(
            idHash: SecureToken.hash(token), tenantId: tenantId, userId: userId, accountId: accountId, csrfToken: SecureToken.generate(),
            data: data, createdAt: now, lastSeenAt: now)
        let encoded = try Self.encode(record.data)
        try await database.write { sql in
            try await sql.raw("""
                INSERT INTO sessions (id_hash, tenant_id, user_id, account_id, csrf_token, data, created_at, last_seen_at)
                VALUES (\(bind: record.idHash), \(bind: tenantId?.uuidString), \(bind: userId), \(bind: accountId), \(bind: record.csrfToken),
                        \(bind: encoded), \(bind: now), \(bind: now))
                """).run()
        }
        return (token, record)
    }

    /// Replaces `old` with a new session (new token, new CSRF token) signed in as a case worker (`tenantId`, `userId`)
    /// or to a citizen `accountId`, or signed out with nils;
    /// its data and drafts move along. Rotating at login defeats session fixation.
    public func rotate(_ old: SessionRecord, tenantId: UUID? = nil, userId: String? = nil, accountId: String?) async throws -> (token: String, session: SessionRecord) {
        let token = SecureToken.generate()
        let now = Clock.millis()
        let record = SessionRecord(
            idHash: SecureToken.hash(token), tenantId: tenantId, userId: userId, accountId: accountId, csrfToken: SecureToken.generate(),
            data: old.data, createdAt: now, lastSeenAt: now)
        let encoded = try Self.encode(record.data)
        try await database.write { sql in
            try await sql.raw("""
                INSERT INTO sessions (id_hash, tenant_id, user_id, account_id, csrf_token, data, created_at, last_seen_at)
                VALUES (\(bind: record.idHash), \(bind: tenantId?.uuidString), \(bind: userId), \(bind: accountId), \(bind: record.csrfToken), \(bind: encoded),
                        \(bind: now), \(bind: now))
                """).run()
            try await sql.raw("UPDATE drafts SET session_hash = \(bind: record.idHash) WHERE session_hash = \(bind: old.idHash)").run()
            try await sql.raw("DELETE FROM sessions WHERE id_hash = \(bind: old.idHash)").run()
        }
        return (token, record)
    }

    /// The live session for a cookie token; expired sessions are deleted and give nil. Refreshes the idle clock.
    public func find(token: String, now: Int64 = Clock.millis()) async throws -> SessionRecord? {
        let hash = SecureToken.hash(token)
        let found = try await database.read { sql in
            try await sql.raw("SELECT * FROM sessions WHERE id_hash = \(bind: hash)").all().first.map(Self.record)
        }
        guard let session = found else { return nil }
        if now - session.lastSeenAt > idleTimeoutMillis || now - session.createdAt > absoluteTimeoutMillis {
            try await delete(idHash: hash)
            return nil
        }
        // Touch at most once a minute so reading pages does not turn into a write per request.
        if now - session.lastSeenAt > 60_000 {
            try await database.write { sql in
                try await sql.raw("UPDATE sessions SET last_seen_at = \(bind: now) WHERE id_hash = \(bind: hash)").run()
            }
        }
        return session
    }

    /// Replaces the session's data.
    public func update(idHash: String, data: SessionData) async throws {
        let encoded = try Self.encode(data)
        try await database.write { sql in
            try await sql.raw("UPDATE sessions SET data = \(bind: encoded) WHERE id_hash = \(bind: idHash)").run()
        }
    }

    /// Ends a session.
    public func delete(idHash: String) async throws {
        try await database.write { sql in try await sql.raw("DELETE FROM sessions WHERE id_hash = \(bind: idHash)").run() }
    }

    /// Deletes sessions past either timeout; returns how many.
    @discardableResult
    public func purgeExpired(now: Int64 = Clock.millis()) async throws -> Int {
        let idle = now - idleTimeoutMillis, absolute = now - absoluteTimeoutMillis
        return try await database.write { sql in
            let rows = try await sql.raw("SELECT id_hash FROM sessions WHERE last_seen_at < \(bind: idle) OR created_at < \(bind: absolute)").all()
            try await sql.raw("DELETE FROM sessions WHERE last_seen_at < \(bind: idle) OR created_at < \(bind: absolute)").run()
            return rows.count
        }
    }

    static func encode(_ data: SessionData) throws -> String {
        String(decoding: try JSONEncoder().encode(data), as: UTF8.self)
    }

    static func record(_ row: any SQLRow) throws -> SessionRecord {
        let data = try JSONDecoder().decode(SessionData.self, from: Data(try row.decode(column: "data", as: String.self).utf8))
        return SessionRecord(
            idHash: try row.decode(column: "id_hash", as: String.self),
            tenantId: try row.decode(column: "tenant_id", as: String?.self).flatMap(UUID.init(uuidString:)),
            userId: try row.decode(column: "user_id", as: String?.self),
            accountId: try row.decode(column: "account_id", as: String?.self),
            csrfToken: try row.decode(column: "csrf_token", as: String.self), data: data,
            createdAt: try row.decode(column: "created_at", as: Int64.self),
            lastSeenAt: try row.decode(column: "last_seen_at", as: Int64.self))
    }
}
