import AmtswegCore
import Foundation
import SQLKit
import Testing
@testable import AmtswegStorage

@Suite("Storage on SQLite and PostgreSQL")
struct StorageTests {
    static let protector = try! DataProtector(base64: DataProtector.newMasterKeyBase64())
    static let answers = Answers(pages: ["relation": ["relation": "self"], "copies": ["copies": "2"]])

    func makeTenant(_ database: any Database) async throws -> Tenant {
        let ars = String(Int.random(in: 100_000_000_000...999_999_999_999))
        let tenant = try await TenantRepository(database: database).upsert(
            try Tenant(id: UUID(), ars: ars, name: "Test \(ars)", office: "Standesamt", contactEmail: "a@b.de"))
        try await TenantRepository(database: database).offer(
            TenantService(tenantId: tenant.id, leikaKey: "99027002012000", assistantId: "geburtsurkunde", fee: FeeSchedule(firstCopyCents: 1200, furtherCopyCents: 600)))
        return tenant
    }

    /// A demo tenant with one submitted birth-certificate application.
    func submittedApplication(_ database: any Database) async throws -> (Tenant, ApplicationRepository, SubmissionReceipt) {
        let tenant = try await makeTenant(database)
        let applications = ApplicationRepository(database: database, protector: Self.protector)
        let draft = try await DraftRepository(database: database, protector: Self.protector).create(
            tenantId: tenant.id, sessionHash: "s", leikaKey: "99027002012000", assistant: try assistant(), locale: "de")
        return (tenant, applications, try await applications.submit(draftId: draft.id, sessionHash: "s", answers: Self.answers, feeCents: 1200))
    }

    func assistant() throws -> AssistantDefinition {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/AmtswegWeb/Resources/assistants/geburtsurkunde.json")
        return try AssistantDefinition.load(json: Data(contentsOf: url), source: "geburtsurkunde.json")
    }

    @Test("migrations are recorded and idempotent", arguments: Backend.allCases)
    func migrations(backend: Backend) async throws {
        try await backend.with { (database: any Database) async throws in
            #expect(try await Migrator.migrate(database).isEmpty)
            #expect(try await Migrator.currentVersion(database) == Migrator.latestVersion)
        }
    }

    @Test("submitting a draft creates the application, moves uploads, audits and deletes the draft", arguments: Backend.allCases)
    func submit(backend: Backend) async throws {
        try await backend.with { (database: any Database) async throws in
            let tenant = try await makeTenant(database)
            let drafts = DraftRepository(database: database, protector: Self.protector), applications = ApplicationRepository(database: database, protector: Self.protector)
            let draft = try await drafts.create(tenantId: tenant.id, sessionHash: "s1", leikaKey: "99027002012000", assistant: try assistant(), locale: "de")
            let pdf = Data("%PDF-1.4 test".utf8)
            try await drafts.savePage(draft: draft, pageId: "interest", values: ["interest_reason": "Erbschein"],
                                      files: ["interest_proof": (UploadedFile(filename: "n.pdf", data: pdf), "application/pdf")], answers: Self.answers)
            let saved = try #require(try await drafts.find(id: draft.id, sessionHash: "s1"))
            #expect(try await drafts.find(id: draft.id, sessionHash: "other-session") == nil)
            let receipt = try await applications.submit(draftId: draft.id, sessionHash: "s1", answers: saved.answers, feeCents: 1800)
            #expect(try await drafts.find(id: draft.id, sessionHash: "s1") == nil)
            let stored = try #require(try await applications.find(tenantId: tenant.id, id: receipt.applicationId))
            #expect(stored.status == .received && stored.feeCents == 1800 && stored.caseNumber == receipt.caseNumber)
            let attachments = try await applications.attachments(tenantId: tenant.id, id: receipt.applicationId)
            #expect(attachments.map(\.filename) == ["n.pdf"])
            #expect(attachments.first?.sha512 == SecureToken.sha512Hex(pdf))
            let (_, bytes) = try #require(try await applications.attachment(tenantId: tenant.id, applicationId: receipt.applicationId, attachmentId: attachments[0].id))
            #expect(bytes == pdf)
            // At rest the upload is ciphertext; another master key cannot open it.
            let atRest = try await database.read { sql in
                try await sql.raw("SELECT data FROM attachments WHERE id = \(bind: attachments[0].id)").all().first!.decode(column: "data", as: Data.self)
            }
            #expect(atRest != pdf && atRest.range(of: Data("%PDF".utf8)) == nil)
            let stranger = ApplicationRepository(database: database, protector: try DataProtector(base64: DataProtector.newMasterKeyBase64()))
            await #expect(throws: (any Error).self) {
                _ = try await stranger.attachment(tenantId: tenant.id, applicationId: receipt.applicationId, attachmentId: attachments[0].id)
            }
            let history = try await applications.history(tenantId: tenant.id, id: receipt.applicationId)
            #expect(history.map(\.action) == ["submitted"] && history.first?.to == .received)
            #expect(try await applications.find(caseNumber: receipt.caseNumber, accessCode: receipt.accessCode)?.id == receipt.applicationId)
            #expect(try await applications.find(caseNumber: receipt.caseNumber, accessCode: "AAAA-AAAA") == nil)
            // A second submit of the same draft finds nothing: no duplicate application.
            await #expect(throws: StorageError.notFound) {
                try await applications.submit(draftId: draft.id, sessionHash: "s1", answers: saved.answers, feeCents: 1800)
            }
        }
    }

    @Test("another authority cannot see or change the application", arguments: Backend.allCases)
    func tenantIsolation(backend: Backend) async throws {
        try await backend.with { (database: any Database) async throws in
            let owner = try await makeTenant(database), other = try await makeTenant(database)
            let applications = ApplicationRepository(database: database, protector: Self.protector)
            let draft = try await DraftRepository(database: database, protector: Self.protector).create(
                tenantId: owner.id, sessionHash: "s", leikaKey: "99027002012000", assistant: try assistant(), locale: "de")
            let receipt = try await applications.submit(draftId: draft.id, sessionHash: "s", answers: Self.answers, feeCents: 1200)
            #expect(try await applications.find(tenantId: other.id, id: receipt.applicationId) == nil)
            #expect(try await applications.list(tenantId: other.id).isEmpty)
            #expect(try await applications.list(tenantId: owner.id).map(\.id) == [receipt.applicationId])
            await #expect(throws: StorageError.notFound) {
                try await applications.transition(tenantId: other.id, id: receipt.applicationId, to: .inProgress, reason: nil, actor: Actor(kind: "staff", id: "x"))
            }
        }
    }

    @Test("status changes follow the state machine and are audited with who, from, to and reason", arguments: Backend.allCases)
    func transitions(backend: Backend) async throws {
        try await backend.with { (database: any Database) async throws in
            let (tenant, applications, receipt) = try await submittedApplication(database)
            let worker = Actor(kind: "staff", id: "worker-1")
            await #expect(throws: TransitionError.notAllowed(from: .received, to: .completed)) {
                try await applications.transition(tenantId: tenant.id, id: receipt.applicationId, to: .completed, reason: nil, actor: worker)
            }
            _ = try await applications.transition(tenantId: tenant.id, id: receipt.applicationId, to: .inProgress, reason: nil, actor: worker)
            let done = try await applications.transition(tenantId: tenant.id, id: receipt.applicationId, to: .rejected, reason: "Kein Eintrag im Register", actor: worker)
            #expect(done.status == .rejected)
            let history = try await applications.history(tenantId: tenant.id, id: receipt.applicationId)
            #expect(history.map(\.to) == [.received, .inProgress, .rejected])
            #expect(history.last?.reason == "Kein Eintrag im Register" && history.last?.actorId == "worker-1" && history.last?.from == .inProgress)
            let acknowledged = try await applications.acknowledge(tenantId: tenant.id, id: receipt.applicationId, actor: Actor(kind: "api", id: "k"))
            let again = try await applications.acknowledge(tenantId: tenant.id, id: receipt.applicationId, actor: Actor(kind: "api", id: "k"))
            #expect(acknowledged.acknowledgedAt != nil && again.acknowledgedAt == acknowledged.acknowledgedAt)
            #expect(try await applications.list(tenantId: tenant.id, acknowledged: false).isEmpty)
        }
    }

    @Test("confirming an appointment is audited with the slot, moves a received application on, and is refused once final", arguments: Backend.allCases)
    func appointments(backend: Backend) async throws {
        try await backend.with { (database: any Database) async throws in
            let (tenant, applications, receipt) = try await submittedApplication(database)
            let worker = Actor(kind: "staff", id: "worker-1")
            let confirmed = try await applications.confirmAppointment(tenantId: tenant.id, id: receipt.applicationId, slot: "2027-02-01T10:00", actor: worker)
            #expect(confirmed.status == .inProgress)
            let history = try await applications.history(tenantId: tenant.id, id: receipt.applicationId)
            // Both events carry the same instant; their order between themselves is not defined.
            #expect(history.map(\.action).sorted() == ["appointment_confirmed", "status_changed", "submitted"])
            let event = try #require(history.first { $0.action == "appointment_confirmed" })
            #expect(event.reason == "2027-02-01T10:00" && event.actorId == "worker-1")
            await #expect(throws: StorageError.self) {
                try await applications.confirmAppointment(tenantId: UUID(), id: receipt.applicationId, slot: "2027-02-01T10:00", actor: worker)
            }
            _ = try await applications.transition(tenantId: tenant.id, id: receipt.applicationId, to: .completed, reason: nil, actor: worker)
            await #expect(throws: TransitionError.self) {
                try await applications.confirmAppointment(tenantId: tenant.id, id: receipt.applicationId, slot: "2027-02-02T10:00", actor: worker)
            }
        }
    }

    @Test("Vorgangsnummern are unique per authority over many submissions", arguments: Backend.allCases)
    func caseNumbersUnique(backend: Backend) async throws {
        try await backend.with { (database: any Database) async throws in
            let tenant = try await makeTenant(database)
            let drafts = DraftRepository(database: database, protector: Self.protector), applications = ApplicationRepository(database: database, protector: Self.protector)
            let definition = try assistant()
            let numbers = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let draft = try await drafts.create(tenantId: tenant.id, sessionHash: "s\(index)", leikaKey: "99027002012000", assistant: definition, locale: "de")
                        return try await applications.submit(draftId: draft.id, sessionHash: "s\(index)", answers: Self.answers, feeCents: 1200).caseNumber
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(numbers).count == 200)
            #expect(try await applications.list(tenantId: tenant.id, limit: 200).count == 200)
        }
    }

    @Test("a failing write leaves nothing behind, and later writes still commit", arguments: Backend.allCases)
    func rollback(backend: Backend) async throws {
        struct Boom: Error {}
        try await backend.with { (database: any Database) async throws in
            let tenant = try await makeTenant(database)
            let marker = UUID().uuidString
            await #expect(throws: Boom.self) {
                try await database.write { sql in
                    try await sql.raw("INSERT INTO api_keys (id, tenant_id, key_hash, label, created_at) VALUES (\(bind: marker), \(bind: tenant.id.uuidString), \(bind: marker), 'x', 0)").run()
                    throw Boom()
                }
            }
            let rows = try await database.read { sql in try await sql.raw("SELECT id FROM api_keys WHERE id = \(bind: marker)").all() }
            #expect(rows.isEmpty)
            let key = try await StaffRepository(database: database).createAPIKey(tenantId: tenant.id, label: "after")
            #expect(try await StaffRepository(database: database).resolveAPIKey(key.key)?.tenantId == tenant.id)
            #expect(try await StaffRepository(database: database).resolveAPIKey("aw_wrong") == nil)
        }
    }

    @Test("sessions expire after idle and absolute timeouts", arguments: Backend.allCases)
    func sessions(backend: Backend) async throws {
        try await backend.with { (database: any Database) async throws in
            let sessions = SessionRepository(database: database, idleTimeoutMillis: 60_000, absoluteTimeoutMillis: 600_000)
            let (token, record) = try await sessions.create()
            #expect(try await sessions.find(token: token)?.idHash == record.idHash)
            #expect(record.idHash == SecureToken.hash(token) && record.idHash != token)
            #expect(try await sessions.find(token: token, now: record.createdAt + 30_000)?.idHash == record.idHash)
            #expect(try await sessions.find(token: token, now: record.createdAt + 700_000) == nil)
            #expect(try await sessions.find(token: token) == nil)
            var data = SessionData()
            data.receipts["a"] = "code"
            let (other, created) = try await sessions.create()
            try await sessions.update(idHash: created.idHash, data: data)
            #expect(try await sessions.find(token: other)?.data.receipts["a"] == "code")
        }
    }

    @Test("housekeeping deletes drafts whose session has ended, with their uploads, and keeps live ones", arguments: Backend.allCases)
    func purgeOrphanedDrafts(backend: Backend) async throws {
        try await backend.with { (database: any Database) async throws in
            let tenant = try await makeTenant(database)
            let sessions = SessionRepository(database: database), drafts = DraftRepository(database: database, protector: Self.protector)
            let (_, live) = try await sessions.create(), (_, gone) = try await sessions.create()
            let kept = try await drafts.create(tenantId: tenant.id, sessionHash: live.idHash, leikaKey: "99027002012000", assistant: try assistant(), locale: "de")
            let orphan = try await drafts.create(tenantId: tenant.id, sessionHash: gone.idHash, leikaKey: "99027002012000", assistant: try assistant(), locale: "de")
            try await drafts.savePage(draft: orphan, pageId: "interest", values: [:],
                                      files: ["interest_proof": (UploadedFile(filename: "x.pdf", data: Data("%PDF-1.4".utf8)), "application/pdf")], answers: Answers())
            try await sessions.delete(idHash: gone.idHash)
            // Age both drafts far into the past, so the purge cannot touch drafts of tests running in parallel.
            try await database.write { sql in
                try await sql.raw("UPDATE drafts SET updated_at = 1000 WHERE id IN (\(bind: orphan.id), \(bind: kept.id))").run()
            }
            #expect(try await drafts.purgeOrphaned(untouchedSince: 2000) >= 1)
            #expect(try await drafts.find(id: orphan.id, sessionHash: gone.idHash) == nil)
            #expect(try await drafts.find(id: kept.id, sessionHash: live.idHash) != nil)
            #expect(try await drafts.attachments(draftId: orphan.id, tenantId: tenant.id).isEmpty)
        }
    }
}
