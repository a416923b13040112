import Foundation
import SQLKit

/// One schema change, written once in portable SQL; `{BLOB}` and `{BIGINT}` are filled in per flavour.
struct Migration: Sendable {
    let version: Int
    let name: String
    let statements: [String]
}

/// Applies the SQL migrations in order and records them in `schema_migrations`.
public enum Migrator {
    static let migrations: [Migration] = [
        Migration(version: 1, name: "foundation", statements: [
            """
            CREATE TABLE tenants (
                id TEXT PRIMARY KEY, ars TEXT NOT NULL UNIQUE, name TEXT NOT NULL, office TEXT NOT NULL,
                contact_email TEXT NOT NULL, created_at {BIGINT} NOT NULL)
            """,
            """
            CREATE TABLE tenant_services (
                tenant_id TEXT NOT NULL REFERENCES tenants(id), leika_key TEXT NOT NULL, assistant_id TEXT NOT NULL,
                fee_first_cents {BIGINT} NOT NULL, fee_further_cents {BIGINT} NOT NULL, PRIMARY KEY (tenant_id, leika_key))
            """,
            "CREATE INDEX tenant_services_leika ON tenant_services (leika_key)",
            """
            CREATE TABLE sessions (
                id_hash TEXT PRIMARY KEY, tenant_id TEXT NULL REFERENCES tenants(id), user_id TEXT NULL,
                csrf_token TEXT NOT NULL, data TEXT NOT NULL, created_at {BIGINT} NOT NULL, last_seen_at {BIGINT} NOT NULL)
            """,
            "CREATE INDEX sessions_last_seen ON sessions (last_seen_at)",
            """
            CREATE TABLE drafts (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), session_hash TEXT NOT NULL,
                leika_key TEXT NOT NULL, assistant_id TEXT NOT NULL, assistant_version TEXT NOT NULL,
                answers TEXT NOT NULL, locale TEXT NOT NULL, created_at {BIGINT} NOT NULL, updated_at {BIGINT} NOT NULL)
            """,
            "CREATE INDEX drafts_session ON drafts (session_hash)",
            """
            CREATE TABLE applications (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), case_number TEXT NOT NULL,
                access_code_hash TEXT NOT NULL, leika_key TEXT NOT NULL, assistant_id TEXT NOT NULL,
                assistant_version TEXT NOT NULL, status TEXT NOT NULL, answers TEXT NOT NULL, fee_cents {BIGINT} NOT NULL,
                locale TEXT NOT NULL, submitted_at {BIGINT} NOT NULL, updated_at {BIGINT} NOT NULL,
                acknowledged_at {BIGINT} NULL, UNIQUE (tenant_id, case_number))
            """,
            "CREATE INDEX applications_inbox ON applications (tenant_id, status, submitted_at)",
            "CREATE INDEX applications_case_number ON applications (case_number)",
            """
            CREATE TABLE attachments (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), draft_id TEXT NULL,
                application_id TEXT NULL, page_id TEXT NOT NULL, field_id TEXT NOT NULL, filename TEXT NOT NULL,
                content_type TEXT NOT NULL, size {BIGINT} NOT NULL, sha512 TEXT NOT NULL, data {BLOB} NOT NULL,
                created_at {BIGINT} NOT NULL)
            """,
            "CREATE INDEX attachments_draft ON attachments (draft_id)",
            "CREATE INDEX attachments_application ON attachments (tenant_id, application_id)",
            """
            CREATE TABLE audit_events (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), application_id TEXT NOT NULL,
                actor_kind TEXT NOT NULL, actor_id TEXT NULL, action TEXT NOT NULL, from_status TEXT NULL,
                to_status TEXT NULL, reason TEXT NULL, at {BIGINT} NOT NULL)
            """,
            "CREATE INDEX audit_events_application ON audit_events (tenant_id, application_id, at)",
            """
            CREATE TABLE staff_users (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), username TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL, role TEXT NOT NULL, display_name TEXT NOT NULL, created_at {BIGINT} NOT NULL)
            """,
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), key_hash TEXT NOT NULL UNIQUE,
                label TEXT NOT NULL, created_at {BIGINT} NOT NULL, revoked_at {BIGINT} NULL)
            """,
        ]),
        Migration(version: 2, name: "office per offering", statements: [
            "ALTER TABLE tenant_services ADD COLUMN office TEXT NULL",
        ]),
        Migration(version: 3, name: "save and resume", statements: [
            "ALTER TABLE drafts ADD COLUMN resume_token_hash TEXT NULL",
            "ALTER TABLE drafts ADD COLUMN resume_expires_at {BIGINT} NULL",
            "CREATE UNIQUE INDEX drafts_resume_token ON drafts (resume_token_hash)",
            "ALTER TABLE tenants ADD COLUMN draft_retention_days {BIGINT} NULL",
        ]),
        Migration(version: 4, name: "uploads encrypted at rest", statements: [
            "ALTER TABLE attachments ADD COLUMN wrapped_key {BLOB} NULL",
        ]),
        Migration(version: 5, name: "citizen accounts and mail outbox", statements: [
            """
            CREATE TABLE citizen_accounts (
                id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, locale TEXT NOT NULL,
                email_verified_at {BIGINT} NULL, created_at {BIGINT} NOT NULL, updated_at {BIGINT} NOT NULL)
            """,
            """
            CREATE TABLE account_tokens (
                token_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL, purpose TEXT NOT NULL, new_email TEXT NULL,
                expires_at {BIGINT} NOT NULL, used_at {BIGINT} NULL, created_at {BIGINT} NOT NULL)
            """,
            "CREATE INDEX account_tokens_account ON account_tokens (account_id, purpose)",
            "ALTER TABLE sessions ADD COLUMN account_id TEXT NULL",
            "CREATE INDEX sessions_account ON sessions (account_id)",
            "ALTER TABLE applications ADD COLUMN account_id TEXT NULL",
            "CREATE INDEX applications_account ON applications (account_id, submitted_at)",
            """
            CREATE TABLE mail_outbox (
                id TEXT PRIMARY KEY, recipient TEXT NOT NULL, template TEXT NOT NULL, locale TEXT NOT NULL,
                payload {BLOB} NOT NULL, wrapped_key {BLOB} NOT NULL, attempts {BIGINT} NOT NULL,
                next_attempt_at {BIGINT} NOT NULL, claimed_until {BIGINT} NULL, sent_at {BIGINT} NULL,
                failed_at {BIGINT} NULL, last_error TEXT NULL, created_at {BIGINT} NOT NULL)
            """,
            "CREATE INDEX mail_outbox_due ON mail_outbox (sent_at, failed_at, next_attempt_at)",
        ]),
        Migration(version: 6, name: "second factor", statements: [
            """
            CREATE TABLE second_factors (
                owner TEXT PRIMARY KEY, secret {BLOB} NOT NULL, wrapped_key {BLOB} NOT NULL, confirmed_at {BIGINT} NULL,
                last_step {BIGINT} NOT NULL, created_at {BIGINT} NOT NULL)
            """,
            """
            CREATE TABLE recovery_codes (
                owner TEXT NOT NULL, code_hash TEXT NOT NULL, used_at {BIGINT} NULL, PRIMARY KEY (owner, code_hash))
            """,
        ]),
        Migration(version: 7, name: "postfach messages", statements: [
            """
            CREATE TABLE messages (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), application_id TEXT NOT NULL,
                kind TEXT NOT NULL, content {BLOB} NOT NULL, wrapped_key {BLOB} NOT NULL, author_kind TEXT NOT NULL,
                author_id TEXT NULL, reply_to TEXT NULL, due_date TEXT NULL, answered_at {BIGINT} NULL, read_at {BIGINT} NULL,
                created_at {BIGINT} NOT NULL)
            """,
            "CREATE INDEX messages_application ON messages (tenant_id, application_id, created_at)",
            "ALTER TABLE attachments ADD COLUMN message_id TEXT NULL",
            "CREATE INDEX attachments_message ON attachments (message_id)",
        ]),
        Migration(version: 8, name: "document safe and profile", statements: [
            """
            CREATE TABLE safe_documents (
                id TEXT PRIMARY KEY, account_id TEXT NOT NULL, filename TEXT NOT NULL, content_type TEXT NOT NULL,
                size {BIGINT} NOT NULL, sha512 TEXT NOT NULL, data {BLOB} NOT NULL, wrapped_key {BLOB} NOT NULL, created_at {BIGINT} NOT NULL)
            """,
            "CREATE INDEX safe_documents_account ON safe_documents (account_id, created_at)",
            """
            CREATE TABLE citizen_profiles (
                account_id TEXT PRIMARY KEY, data {BLOB} NOT NULL, wrapped_key {BLOB} NOT NULL, consent_at {BIGINT} NOT NULL,
                updated_at {BIGINT} NOT NULL)
            """,
        ]),
        Migration(version: 9, name: "trust levels and linked identities", statements: [
            "ALTER TABLE tenant_services ADD COLUMN trust_level TEXT NULL",
            """
            CREATE TABLE external_identities (
                issuer TEXT NOT NULL, subject TEXT NOT NULL, account_id TEXT NOT NULL UNIQUE, level TEXT NOT NULL,
                linked_at {BIGINT} NOT NULL, last_used_at {BIGINT} NOT NULL, PRIMARY KEY (issuer, subject))
            """,
        ]),
        Migration(version: 10, name: "delivery routes and outbox", statements: [
            """
            CREATE TABLE delivery_routes (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), leika_key TEXT NOT NULL, kind TEXT NOT NULL,
                target TEXT NULL, secret {BLOB} NULL, wrapped_key {BLOB} NULL, created_at {BIGINT} NOT NULL,
                UNIQUE (tenant_id, leika_key, kind))
            """,
            """
            CREATE TABLE deliveries (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, application_id TEXT NOT NULL, route_id TEXT NOT NULL,
                kind TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, state TEXT NOT NULL, attempts INTEGER NOT NULL,
                next_attempt_at {BIGINT} NOT NULL, claimed_until {BIGINT} NULL, last_error TEXT NULL, problems TEXT NULL,
                created_at {BIGINT} NOT NULL, updated_at {BIGINT} NOT NULL, delivered_at {BIGINT} NULL,
                UNIQUE (application_id, route_id))
            """,
            "CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at)",
            "CREATE INDEX deliveries_tenant_state ON deliveries (tenant_id, state, updated_at)",
        ]),
        Migration(version: 11, name: "delivery progress at the destination", statements: [
            // What a multi-step destination (FIT-Connect) has already done for a job, so a retry continues it.
            "ALTER TABLE deliveries ADD COLUMN remote_state TEXT NULL",
        ]),
        Migration(version: 12, name: "API key encryption keys", statements: [
            // The Fachverfahren's public key (JWK): pulled applications can be end-to-end encrypted to it.
            "ALTER TABLE api_keys ADD COLUMN encryption_jwk TEXT NULL",
        ]),
        Migration(version: 13, name: "back office: assignment, notes, inbox indexes", statements: [
            "ALTER TABLE applications ADD COLUMN assignee_id TEXT NULL",
            // Keyset paging (submitted_at, id) per filter, so page 2,000 of 100,000 costs what page 1 costs.
            "CREATE INDEX applications_inbox_all ON applications (tenant_id, submitted_at, id)",
            "CREATE INDEX applications_inbox_status ON applications (tenant_id, status, submitted_at, id)",
            "CREATE INDEX applications_inbox_service ON applications (tenant_id, leika_key, submitted_at, id)",
            "CREATE INDEX applications_inbox_assignee ON applications (tenant_id, assignee_id, submitted_at, id)",
            """
            CREATE TABLE case_notes (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), application_id TEXT NOT NULL,
                author_id TEXT NOT NULL, content {BLOB} NOT NULL, wrapped_key {BLOB} NOT NULL, created_at {BIGINT} NOT NULL)
            """,
            "CREATE INDEX case_notes_application ON case_notes (tenant_id, application_id, created_at)",
        ]),
    ]

    /// The highest migration version this build knows.
    public static var latestVersion: Int { migrations.map(\.version).max() ?? 0 }

    /// Applies every migration not yet recorded, each in its own transaction; returns the versions applied.
    @discardableResult
    public static func migrate(_ database: any Database) async throws -> [Int] {
        let flavor = database.flavor
        try await database.write { sql in
            if flavor == .postgres {
                // Several instances (or test processes) may start at once; the advisory lock serialises them.
                try await sql.raw("SELECT pg_advisory_xact_lock(4711)").run()
            }
            try await sql.raw("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version \(unsafeRaw: flavor == .postgres ? "BIGINT" : "INTEGER") PRIMARY KEY,
                    name TEXT NOT NULL, applied_at \(unsafeRaw: flavor == .postgres ? "BIGINT" : "INTEGER") NOT NULL)
                """).run()
        }
        var applied: [Int] = []
        for migration in migrations {
            let done: Bool = try await database.write { sql in
                if flavor == .postgres { try await sql.raw("SELECT pg_advisory_xact_lock(4711)").run() }
                let existing = try await sql.raw("SELECT version FROM schema_migrations WHERE version = \(bind: migration.version)").all()
                if !existing.isEmpty { return false }
                for statement in migration.statements {
                    try await sql.raw(SQLQueryString(render(statement, flavor: flavor))).run()
                }
                try await sql.raw("""
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: Clock.millis()))
                    """).run()
                return true
            }
            if done { applied.append(migration.version) }
        }
        return applied
    }

    /// The highest applied version, or nil when the schema table is missing.
    public static func currentVersion(_ database: any Database) async throws -> Int? {
        try await database.read { sql in
            let rows = try await sql.raw("SELECT MAX(version) AS v FROM schema_migrations").all()
            return try rows.first?.decode(column: "v", as: Int?.self)
        }
    }

    static func render(_ statement: String, flavor: SQLFlavor) -> String {
        statement
            .replacingOccurrences(of: "{BLOB}", with: flavor == .postgres ? "BYTEA" : "BLOB")
            .replacingOccurrences(of: "{BIGINT}", with: flavor == .postgres ? "BIGINT" : "INTEGER")
    }
}

/// Wall-clock time as stored: milliseconds since 1970.
public enum Clock {
    /// Now, in milliseconds since 1970.
    public static func millis(_ date: Date = Date()) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    /// A stored millisecond timestamp as a date.
    public static func date(millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}
