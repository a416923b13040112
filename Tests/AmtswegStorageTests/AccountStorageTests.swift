import AmtswegCore
import Foundation
import SQLKit
import Testing
@testable import AmtswegStorage

/// Mails queued for `recipient`, oldest first, opened: (template, values).
func queuedMails(_ database: any Database, to recipient: String, protector: DataProtector) async throws -> [(MailTemplate, [String: String])] {
    let rows = try await database.read { sql in
        try await sql.raw("SELECT template, payload, wrapped_key FROM mail_outbox WHERE recipient = \(bind: recipient) ORDER BY created_at, id").all()
    }
    return try rows.map { row in
        let plain = try protector.open(try row.decode(column: "payload", as: Data.self), wrappedKey: try row.decode(column: "wrapped_key", as: Data.self),
                                       tenant: MailOutbox.keyDomain)
        return (MailTemplate(rawValue: try row.decode(column: "template", as: String.self))!, try JSONDecoder().decode([String: String].self, from: plain))
    }
}

// Serialized: the housekeeping test deletes old mail traces of the whole database, which includes the back-dated mails
// of the outbox test when both run at once on the shared PostgreSQL database.
@Suite("Citizen accounts and the mail outbox on SQLite and PostgreSQL", .serialized)
struct AccountStorageTests {
    static let protector = StorageTests.protector

    func uniqueEmail(_ name: String = "anna") -> String { "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.org" }

    @Test("registration creates an unverified account and a confirmation mail; a second registration only sends a note", arguments: Backend.allCases)
    func registration(backend: Backend) async throws {
        try await backend.with { database in
            let accounts = AccountRepository(database: database, protector: Self.protector)
            let email = uniqueEmail()
            #expect(try await accounts.register(email: email, passwordHash: "h1", locale: "de"))
            #expect(try await !accounts.register(email: email, passwordHash: "h2", locale: "en"))
            let account = try #require(try await accounts.account(email: email))
            #expect(account.passwordHash == "h1" && account.emailVerifiedAt == nil && account.locale == "de")
            let mails = try await queuedMails(database, to: email, protector: Self.protector)
            #expect(mails.map(\.0) == [.verifyEmail, .alreadyRegistered])
            let token = try #require(mails[0].1["token"])
            #expect(SecureToken.looksLikeToken(token))
            // Only the hash of the token is stored.
            let stored = try await database.read { sql in try await sql.raw("SELECT token_hash FROM account_tokens WHERE account_id = \(bind: account.id)").all() }
            #expect(try stored.map { try $0.decode(column: "token_hash", as: String.self) } == [SecureToken.hash(token)])
        }
    }

    @Test("a confirmation token works once, not after expiry, and a new one voids the old", arguments: Backend.allCases)
    func confirmation(backend: Backend) async throws {
        try await backend.with { database in
            let accounts = AccountRepository(database: database, protector: Self.protector)
            let email = uniqueEmail()
            try await accounts.register(email: email, passwordHash: "h", locale: "de")
            let first = try #require(try await queuedMails(database, to: email, protector: Self.protector).last?.1["token"])
            let account = try #require(try await accounts.account(email: email))
            try await accounts.resendVerification(accountId: account.id)
            let second = try #require(try await queuedMails(database, to: email, protector: Self.protector).last?.1["token"])
            #expect(first != second)
            #expect(try await accounts.confirmEmail(token: first) == nil)
            let expiredAt = Clock.millis() + AccountTokenPurpose.verifyEmail.lifetimeMillis + 1
            #expect(try await accounts.confirmEmail(token: second, now: expiredAt) == nil)
            #expect(try await accounts.tokenAccount(second, purpose: .verifyEmail)?.id == account.id)
            #expect(try await accounts.tokenAccount(second, purpose: .passwordReset) == nil)
            let confirmed = try #require(try await accounts.confirmEmail(token: second))
            #expect(confirmed.emailVerifiedAt != nil)
            #expect(try await accounts.confirmEmail(token: second) == nil)
            // Confirmed accounts get no second confirmation mail.
            let before = try await queuedMails(database, to: email, protector: Self.protector).count
            try await accounts.resendVerification(accountId: account.id)
            #expect(try await queuedMails(database, to: email, protector: Self.protector).count == before)
        }
    }

    @Test("a password reset needs a live token, sets the hash, ends every session and is single-use", arguments: Backend.allCases)
    func passwordReset(backend: Backend) async throws {
        try await backend.with { database in
            let accounts = AccountRepository(database: database, protector: Self.protector)
            let sessions = SessionRepository(database: database)
            let email = uniqueEmail()
            try await accounts.register(email: email, passwordHash: "old", locale: "de")
            let account = try #require(try await accounts.account(email: email))
            let signedIn = try await sessions.create(accountId: account.id)
            try await accounts.requestPasswordReset(email: uniqueEmail("nobody"))
            try await accounts.requestPasswordReset(email: email)
            let mail = try #require(try await queuedMails(database, to: email, protector: Self.protector).last)
            #expect(mail.0 == .passwordReset)
            let token = try #require(mail.1["token"])
            let anHourLater = Clock.millis() + AccountTokenPurpose.passwordReset.lifetimeMillis + 1
            #expect(try await accounts.resetPassword(token: token, passwordHash: "new", now: anHourLater) == nil)
            let reset = try #require(try await accounts.resetPassword(token: token, passwordHash: "new"))
            #expect(reset.passwordHash == "new" && reset.emailVerifiedAt != nil)
            #expect(try await sessions.find(token: signedIn.token) == nil)
            #expect(try await accounts.resetPassword(token: token, passwordHash: "other") == nil)
            #expect(try await accounts.account(id: account.id)?.passwordHash == "new")
            #expect(try await queuedMails(database, to: email, protector: Self.protector).last?.0 == .passwordChanged)
        }
    }

    @Test("changing the password ends the other sessions only", arguments: Backend.allCases)
    func passwordChange(backend: Backend) async throws {
        try await backend.with { database in
            let accounts = AccountRepository(database: database, protector: Self.protector)
            let sessions = SessionRepository(database: database)
            let email = uniqueEmail()
            try await accounts.register(email: email, passwordHash: "old", locale: "de")
            let account = try #require(try await accounts.account(email: email))
            let here = try await sessions.create(accountId: account.id), there = try await sessions.create(accountId: account.id)
            try await accounts.changePassword(accountId: account.id, passwordHash: "new", keepingSession: here.session.idHash)
            #expect(try await sessions.find(token: here.token) != nil)
            #expect(try await sessions.find(token: there.token) == nil)
            try await accounts.endSessions(accountId: account.id, except: nil)
            #expect(try await sessions.find(token: here.token) == nil)
        }
    }

    @Test("login rotates the session: new id, data and drafts carried over, old id dead", arguments: Backend.allCases)
    func rotation(backend: Backend) async throws {
        try await backend.with { database in
            let sessions = SessionRepository(database: database)
            var data = SessionData()
            data.statusGrants = ["a"]
            let anonymous = try await sessions.create(data: data)
            let tenant = try await StorageTests().makeTenant(database)
            let drafts = DraftRepository(database: database, protector: Self.protector)
            let draft = try await drafts.create(tenantId: tenant.id, sessionHash: anonymous.session.idHash, leikaKey: "99027002012000",
                                                assistant: try StorageTests().assistant(), locale: "de")
            let rotated = try await sessions.rotate(anonymous.session, accountId: "acc-1")
            #expect(rotated.token != anonymous.token && rotated.session.csrfToken != anonymous.session.csrfToken)
            #expect(try await sessions.find(token: anonymous.token) == nil)
            let found = try #require(try await sessions.find(token: rotated.token))
            #expect(found.accountId == "acc-1" && found.data.statusGrants == ["a"])
            #expect(try await drafts.find(id: draft.id, sessionHash: rotated.session.idHash) != nil)
        }
    }

    @Test("changing the address needs the mailed token; a taken address gets a note instead; the old address is told", arguments: Backend.allCases)
    func emailChange(backend: Backend) async throws {
        try await backend.with { database in
            let accounts = AccountRepository(database: database, protector: Self.protector)
            let old = uniqueEmail(), taken = uniqueEmail("bert"), new = uniqueEmail("anna-neu")
            try await accounts.register(email: old, passwordHash: "h", locale: "de")
            try await accounts.register(email: taken, passwordHash: "h", locale: "de")
            let account = try #require(try await accounts.account(email: old))
            try await accounts.requestEmailChange(accountId: account.id, newEmail: taken)
            #expect(try await queuedMails(database, to: taken, protector: Self.protector).last?.0 == .alreadyRegistered)
            try await accounts.requestEmailChange(accountId: account.id, newEmail: new)
            let mail = try #require(try await queuedMails(database, to: new, protector: Self.protector).last)
            #expect(mail.0 == .confirmNewEmail)
            #expect(try await accounts.account(id: account.id)?.email == old)
            let changeToken = try #require(mail.1["token"])
            let changed = try #require(try await accounts.confirmEmailChange(token: changeToken))
            #expect(changed.email == new)
            #expect(try await accounts.account(email: old) == nil)
            #expect(try await queuedMails(database, to: old, protector: Self.protector).last?.0 == .emailChanged)
            #expect(try await accounts.confirmEmailChange(token: changeToken) == nil)
        }
    }

    @Test("applications of a signed-in session belong to the account; others see none of them; claiming needs the code", arguments: Backend.allCases)
    func postfach(backend: Backend) async throws {
        try await backend.with { database in
            let tenant = try await StorageTests().makeTenant(database)
            let accounts = AccountRepository(database: database, protector: Self.protector)
            let applications = ApplicationRepository(database: database, protector: Self.protector)
            let drafts = DraftRepository(database: database, protector: Self.protector)
            let sessions = SessionRepository(database: database)
            let anna = uniqueEmail(), bert = uniqueEmail("bert")
            try await accounts.register(email: anna, passwordHash: "h", locale: "de")
            try await accounts.register(email: bert, passwordHash: "h", locale: "de")
            let annaId = try #require(try await accounts.account(email: anna)).id, bertId = try #require(try await accounts.account(email: bert)).id
            let signedIn = try await sessions.create(accountId: annaId)
            let draft = try await drafts.create(tenantId: tenant.id, sessionHash: signedIn.session.idHash, leikaKey: "99027002012000",
                                                assistant: try StorageTests().assistant(), locale: "de")
            let own = try await applications.submit(draftId: draft.id, sessionHash: signedIn.session.idHash, answers: StorageTests.answers, feeCents: 1200)
            let (_, _, anonymous) = try await StorageTests().submittedApplication(database)
            #expect(try await applications.list(accountId: annaId).map(\.id) == [own.applicationId])
            #expect(try await applications.find(accountId: bertId, id: own.applicationId) == nil)
            #expect(try await applications.find(accountId: annaId, id: own.applicationId)?.accountId == annaId)
            #expect(try await applications.claim(caseNumber: anonymous.caseNumber, accessCode: "WRONGCOD", accountId: bertId) == nil)
            let claimed = try #require(try await applications.claim(caseNumber: anonymous.caseNumber, accessCode: anonymous.accessCode, accountId: bertId))
            #expect(claimed.accountId == bertId)
            #expect(try await applications.claim(caseNumber: anonymous.caseNumber, accessCode: anonymous.accessCode, accountId: annaId) == nil)
            #expect(try await applications.list(accountId: bertId).map(\.id) == [anonymous.applicationId])
            let steps = try await applications.statusSteps(of: claimed)
            #expect(steps.map(\.action) == ["submitted"])
        }
    }

    @Test("a status change tells the account holder, with no personal data in the mail; deletion unlinks applications", arguments: Backend.allCases)
    func notificationAndDeletion(backend: Backend) async throws {
        try await backend.with { database in
            let accounts = AccountRepository(database: database, protector: Self.protector)
            let (tenant, applications, receipt) = try await StorageTests().submittedApplication(database)
            let email = uniqueEmail()
            try await accounts.register(email: email, passwordHash: "h", locale: "en")
            let token = try #require(try await queuedMails(database, to: email, protector: Self.protector).first?.1["token"])
            let account = try #require(try await accounts.confirmEmail(token: token))
            _ = try #require(try await applications.claim(caseNumber: receipt.caseNumber, accessCode: receipt.accessCode, accountId: account.id))
            _ = try await applications.transition(tenantId: tenant.id, id: receipt.applicationId, to: .inProgress, reason: nil,
                                                  actor: Actor(kind: "staff", id: "u1"))
            let notice = try #require(try await queuedMails(database, to: email, protector: Self.protector).last)
            #expect(notice.0 == .postfachNotice && notice.1.isEmpty)
            try await accounts.delete(accountId: account.id)
            #expect(try await accounts.account(id: account.id) == nil)
            #expect(try await applications.find(tenantId: tenant.id, id: receipt.applicationId)?.accountId == nil)
            #expect(try await queuedMails(database, to: email, protector: Self.protector).last?.0 == .accountDeleted)
        }
    }

    @Test("the outbox leases due mails once, backs off after failures, gives up when permanent and erases what was sent", arguments: Backend.allCases)
    func outbox(backend: Backend) async throws {
        try await backend.with { database in
            let outbox = MailOutbox(database: database, protector: Self.protector)
            let recipient = uniqueEmail()
            // Back-dated, so this test claims only its own mails even with other tests' mails in a shared database.
            let past: Int64 = 1_000
            try await database.write { sql in
                try await MailOutbox.enqueue(sql, MailRequest(recipient: recipient, template: .verifyEmail, locale: "de", values: ["token": "t1"]),
                                             protector: Self.protector, now: past)
                try await MailOutbox.enqueue(sql, MailRequest(recipient: recipient, template: .passwordReset, locale: "de", values: ["token": "t2"]),
                                             protector: Self.protector, now: past)
            }
            let claimed = try await outbox.claimDue(now: past + 10)
            #expect(Set(claimed.map(\.template)) == [.verifyEmail, .passwordReset])
            #expect(Set(claimed.compactMap { $0.values["token"] }) == ["t1", "t2"])
            #expect(try await outbox.claimDue(now: past + 20).isEmpty)
            let first = try #require(claimed.first { $0.template == .verifyEmail })
            let second = try #require(claimed.first { $0.template == .passwordReset })
            try await outbox.markSent(id: first.id)
            try await outbox.markFailed(id: second.id, attempts: 0, error: "SMTP 451 (temporary) at message", permanent: false, now: past + 30)
            #expect(try await outbox.claimDue(now: past + 31).isEmpty)
            let retried = try await outbox.claimDue(now: past + 30 + MailOutbox.backoffMillis(attempt: 1, jitter: 1.5) + 1)
            #expect(retried.map(\.id) == [second.id] && retried.first?.attempts == 1)
            try await outbox.markFailed(id: second.id, attempts: 1, error: "SMTP 550 at RCPT TO", permanent: true, now: past + 40)
            #expect(try await outbox.claimDue(now: Clock.millis() + 10 * 3_600_000).allSatisfy { $0.id != second.id })
            let rows = try await database.read { sql in
                try await sql.raw("SELECT id, recipient, sent_at, failed_at, last_error FROM mail_outbox WHERE id IN (\(bind: first.id), \(bind: second.id))").all()
            }
            let byId = Dictionary(uniqueKeysWithValues: try rows.map { (try $0.decode(column: "id", as: String.self), $0) })
            #expect(try byId[first.id]?.decode(column: "recipient", as: String.self) == "")
            #expect(try byId[first.id]?.decode(column: "sent_at", as: Int64?.self) != nil)
            #expect(try byId[second.id]?.decode(column: "failed_at", as: Int64?.self) != nil)
            #expect(try byId[second.id]?.decode(column: "last_error", as: String?.self) == "SMTP 550 at RCPT TO")
        }
    }

    @Test("housekeeping deletes used and expired tokens, accounts never confirmed, and old mail traces; keeps the rest", arguments: Backend.allCases)
    func purge(backend: Backend) async throws {
        try await backend.with { database in
            let accounts = AccountRepository(database: database, protector: Self.protector)
            let day: Int64 = 86_400_000
            let old = uniqueEmail("alt"), fresh = uniqueEmail("neu"), confirmed = uniqueEmail("ok")
            try await accounts.register(email: old, passwordHash: "h", locale: "de", now: Clock.millis() - 8 * day)
            try await accounts.register(email: fresh, passwordHash: "h", locale: "de")
            try await accounts.register(email: confirmed, passwordHash: "h", locale: "de", now: Clock.millis() - 9 * day)
            let token = try #require(try await queuedMails(database, to: confirmed, protector: Self.protector).first?.1["token"])
            let confirmedAccount = try #require(try await accounts.confirmEmail(token: token, now: Clock.millis() - 9 * day + 1000))
            try await accounts.purgeStale()
            #expect(try await accounts.account(email: old) == nil)
            #expect(try await accounts.account(email: fresh) != nil)
            #expect(try await accounts.account(id: confirmedAccount.id) != nil)
            let used = try await database.read { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM account_tokens WHERE account_id = \(bind: confirmedAccount.id)").all().first!.decode(column: "n", as: Int.self)
            }
            #expect(used == 0)
        }
    }

    @Test("backoff doubles from 30 s up to 8 h, within the jitter bounds")
    func backoff() {
        #expect(MailOutbox.backoffMillis(attempt: 1, jitter: 1) == 30_000)
        #expect(MailOutbox.backoffMillis(attempt: 3, jitter: 1) == 120_000)
        #expect(MailOutbox.backoffMillis(attempt: 30, jitter: 1) == 8 * 3_600_000)
        for attempt in 1...12 {
            let value = MailOutbox.backoffMillis(attempt: attempt)
            let base = MailOutbox.backoffMillis(attempt: attempt, jitter: 1)
            #expect(value >= base / 2 && value <= base * 3 / 2)
        }
    }
}
