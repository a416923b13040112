import AmtswegCore
import Foundation
import SQLKit
import Testing
@testable import AmtswegStorage

@Suite("Back-office inbox, assignment and notes on SQLite and PostgreSQL")
struct InboxStorageTests {
    let base = StorageTests()

    /// Inserts `count` applications of `tenant` directly (one second apart), half of them in progress.
    static func insertApplications(_ database: any Database, tenant: Tenant, count: Int, leikaKey: String = "99027002012000",
                                   start: Int64 = Clock.millis() - 200_000) async throws -> [String] {
        let ids = (0..<count).map { _ in UUID().uuidString.lowercased() }
        try await database.write { sql in
            for (index, id) in ids.enumerated() {
                try await sql.raw("""
                    INSERT INTO applications (id, tenant_id, case_number, access_code_hash, leika_key, assistant_id, assistant_version,
                        status, answers, fee_cents, locale, submitted_at, updated_at, acknowledged_at, account_id, assignee_id)
                    VALUES (\(bind: id), \(bind: tenant.id.uuidString), \(bind: "C-\(index)"), 'x', \(bind: leikaKey), 'geburtsurkunde', '1.0.0',
                        \(bind: index % 2 == 0 ? "received" : "in_progress"), '{"pages":{}}', 0, 'de', \(bind: start + Int64(index) * 1000),
                        \(bind: start), NULL, NULL, NULL)
                    """).run()
            }
        }
        return ids
    }

    @Test("keyset paging walks every case once, newest first, under each filter", arguments: Backend.allCases)
    func paging(backend: Backend) async throws {
        try await backend.with { (database: any Database) async throws in
            let tenant = try await base.makeTenant(database)
            let start = Clock.millis() - 200_000
            let ids = try await Self.insertApplications(database, tenant: tenant, count: 120, start: start)
            let applications = ApplicationRepository(database: database, protector: StorageTests.protector)
            var seen: [String] = []
            var cursor: InboxCursor?
            repeat {
                let page = try await applications.inbox(tenantId: tenant.id, filter: InboxFilter(), after: cursor, limit: 50)
                seen += page.items.map(\.id)
                cursor = page.next
            } while cursor != nil
            #expect(seen == Array(ids.reversed()), "every case once, newest first")
            let received = try await applications.inbox(tenantId: tenant.id, filter: InboxFilter(status: .received), limit: 200)
            #expect(received.items.count == 60 && received.items.allSatisfy { $0.status == .received } && received.next == nil)
            let other = try await applications.inbox(tenantId: tenant.id, filter: InboxFilter(leikaKey: "99115003012000"), limit: 200)
            #expect(other.items.isEmpty)
            let from = Clock.date(millis: start + 110_000)
            let recent = try await applications.inbox(tenantId: tenant.id, filter: InboxFilter(from: from), limit: 200)
            #expect(recent.items.count == 10 && recent.items.allSatisfy { $0.submittedAt >= from })
            let older = try await applications.inbox(tenantId: tenant.id, filter: InboxFilter(until: from), limit: 200)
            #expect(older.items.count == 110)
            #expect(InboxCursor(text: "123_not-a-uuid") == nil && InboxCursor(text: cursor?.text ?? "1_\(ids[0])") != nil)
        }
    }

    @Test("assignment only to the authority's own staff, filterable, audited; notes sealed and audited without their text", arguments: Backend.allCases)
    func assignmentAndNotes(backend: Backend) async throws {
        try await backend.with { (database: any Database) async throws in
            let tenant = try await base.makeTenant(database), foreign = try await base.makeTenant(database)
            let ids = try await Self.insertApplications(database, tenant: tenant, count: 3)
            let staff = StaffRepository(database: database)
            try await staff.upsertUser(tenantId: tenant.id, username: "a-\(tenant.ars)@amt.example", passwordHash: "x", role: StaffUser.caseWorker, displayName: "A")
            try await staff.upsertUser(tenantId: foreign.id, username: "b-\(foreign.ars)@amt.example", passwordHash: "x", role: StaffUser.caseWorker, displayName: "B")
            let mine = try #require(try await staff.user(username: "a-\(tenant.ars)@amt.example"))
            let theirs = try #require(try await staff.user(username: "b-\(foreign.ars)@amt.example"))
            let applications = ApplicationRepository(database: database, protector: StorageTests.protector)
            let actor = Actor(kind: "staff", id: mine.id)
            try await applications.assign(tenantId: tenant.id, id: ids[0], to: mine.id, actor: actor)
            await #expect(throws: StorageError.notFound) { try await applications.assign(tenantId: tenant.id, id: ids[1], to: theirs.id, actor: actor) }
            await #expect(throws: StorageError.notFound) { try await applications.assign(tenantId: foreign.id, id: ids[1], to: theirs.id, actor: actor) }
            #expect(try await applications.inbox(tenantId: tenant.id, filter: InboxFilter(assignee: .user(mine.id))).items.map(\.id) == [ids[0]])
            #expect(try await applications.inbox(tenantId: tenant.id, filter: InboxFilter(assignee: .nobody)).items.count == 2)
            try await applications.assign(tenantId: tenant.id, id: ids[0], to: nil, actor: actor)
            #expect(try await applications.assignee(tenantId: tenant.id, id: ids[0]) == nil)

            let notes = CaseNoteRepository(database: database, protector: StorageTests.protector)
            _ = try await notes.add(tenantId: tenant.id, applicationId: ids[0], authorId: mine.id, text: "Rückruf Frau Mustermann vereinbart")
            #expect(try await notes.notes(tenantId: tenant.id, applicationId: ids[0]).map(\.text) == ["Rückruf Frau Mustermann vereinbart"])
            #expect(try await notes.notes(tenantId: foreign.id, applicationId: ids[0]).isEmpty)
            await #expect(throws: StorageError.notFound) { try await notes.add(tenantId: foreign.id, applicationId: ids[0], authorId: theirs.id, text: "x") }
            let raw = try await database.read { sql in try await sql.raw("SELECT content FROM case_notes").all() }
                .map { try $0.decode(column: "content", as: Data.self) }
            #expect(raw.allSatisfy { !String(decoding: $0, as: UTF8.self).contains("Mustermann") }, "notes are sealed at rest")
            let history = try await applications.history(tenantId: tenant.id, id: ids[0])
            #expect(history.map(\.action) == ["assigned", "unassigned", "note_added"])
            #expect(history.allSatisfy { $0.reason?.contains("Mustermann") != true })
        }
    }

    @Test("each inbox filter is answered from an index (SQLite query plan)")
    func queryPlans() async throws {
        try await Backend.sqlite.with { (database: any Database) async throws in
            let tenant = try await base.makeTenant(database)
            _ = try await Self.insertApplications(database, tenant: tenant, count: 5)
            for (column, value) in [("status", "'received'"), ("leika_key", "'99027002012000'"), ("assignee_id", "'u'"), (nil, nil)] as [(String?, String?)] {
                let condition = column.map { " AND \($0) = \(value!)" } ?? ""
                let plan = try await database.read { sql in
                    try await sql.raw(SQLQueryString("""
                        EXPLAIN QUERY PLAN SELECT id FROM applications WHERE tenant_id = 'x'\(unsafeRaw: condition)
                        ORDER BY submitted_at DESC, id DESC LIMIT 51
                        """)).all().map { try $0.decode(column: "detail", as: String.self) }.joined(separator: " | ")
                }
                #expect(plan.contains("INDEX applications_inbox_") && !plan.contains("TEMP B-TREE"), "\(column ?? "none"): \(plan)")
            }
        }
    }
}
