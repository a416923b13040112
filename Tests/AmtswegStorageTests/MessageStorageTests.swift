import AmtswegCore
import Foundation
import SQLKit
import Testing
@testable import AmtswegStorage

@Suite("Postfach messages on SQLite and PostgreSQL")
struct MessageStorageTests {
    static let protector = StorageTests.protector

    @Test("the authority writes and asks, the citizen answers once with a file; sealed at rest, audited, the holder is told", arguments: Backend.allCases)
    func thread(backend: Backend) async throws {
        try await backend.with { database in
            let (tenant, applications, receipt) = try await StorageTests().submittedApplication(database)
            let accounts = AccountRepository(database: database, protector: Self.protector)
            let messages = MessageRepository(database: database, protector: Self.protector)
            let email = "post-\(UUID().uuidString.prefix(8).lowercased())@example.org"
            try await accounts.register(email: email, passwordHash: "h", locale: "de")
            let token = try #require(try await queuedMails(database, to: email, protector: Self.protector).first?.1["token"])
            let account = try #require(try await accounts.confirmEmail(token: token))
            _ = try #require(try await applications.claim(caseNumber: receipt.caseNumber, accessCode: receipt.accessCode, accountId: account.id))
            let staff = Actor(kind: "staff", id: "u1")
            let pdf = MessageFile(file: UploadedFile(filename: "Bescheid.pdf", data: Data("%PDF-1.4 Bescheid".utf8)), contentType: "application/pdf")
            let info = try await messages.send(tenantId: tenant.id, applicationId: receipt.applicationId, kind: .message,
                                               subject: "Eingangsbestätigung", body: "Wir bearbeiten Ihren Antrag.", files: [pdf], author: staff)
            let request = try await messages.send(tenantId: tenant.id, applicationId: receipt.applicationId, kind: .request,
                                                  subject: "Nachweis fehlt", body: "Bitte reichen Sie die Vollmacht nach.", dueDate: "2026-12-15", author: staff)
            #expect(info.attachments.map(\.filename) == ["Bescheid.pdf"] && request.dueDate == "2026-12-15")
            #expect(try await queuedMails(database, to: email, protector: Self.protector).filter { $0.0 == .postfachNotice }.count == 2)
            // Sealed: the subject is not in the table in plain text.
            let raw = try await database.read { sql in
                try await sql.raw("SELECT content FROM messages WHERE id = \(bind: request.id)").all().first!.decode(column: "content", as: Data.self)
            }
            #expect(raw.range(of: Data("Nachweis".utf8)) == nil)
            var summary = try await messages.summary(accountId: account.id)
            #expect(summary[receipt.applicationId]?.unread == 2 && summary[receipt.applicationId]?.openRequests.map(\.id) == [request.id])
            // Another account cannot answer; a message is not a request.
            await #expect(throws: MessageError.applicationNotFound) {
                try await messages.reply(accountId: "someone-else", applicationId: receipt.applicationId, requestId: request.id, body: "x")
            }
            await #expect(throws: MessageError.noOpenRequest) {
                try await messages.reply(accountId: account.id, applicationId: receipt.applicationId, requestId: info.id, body: "x")
            }
            let proof = MessageFile(file: UploadedFile(filename: "vollmacht.pdf", data: Data("%PDF-1.4 Vollmacht".utf8)), contentType: "application/pdf")
            let reply = try await messages.reply(accountId: account.id, applicationId: receipt.applicationId, requestId: request.id,
                                                 body: "Anbei die Vollmacht.", files: [proof])
            #expect(reply.kind == .reply && reply.replyTo == request.id && reply.subject == "Nachweis fehlt")
            await #expect(throws: MessageError.noOpenRequest) {
                try await messages.reply(accountId: account.id, applicationId: receipt.applicationId, requestId: request.id, body: "noch einmal")
            }
            try await messages.markRead(tenantId: tenant.id, applicationId: receipt.applicationId)
            summary = try await messages.summary(accountId: account.id)
            #expect(summary[receipt.applicationId]?.unread == 0 && summary[receipt.applicationId]?.openRequests.isEmpty == true)
            let thread = try await messages.thread(tenantId: tenant.id, applicationId: receipt.applicationId)
            #expect(thread.map(\.kind) == [.message, .request, .reply])
            #expect(thread[1].answeredAt != nil && thread[2].body == "Anbei die Vollmacht.")
            let file = try #require(reply.attachments.first)
            let opened = try #require(try await messages.file(tenantId: tenant.id, applicationId: receipt.applicationId, attachmentId: file.id))
            #expect(opened.1 == Data("%PDF-1.4 Vollmacht".utf8))
            // Message files are not answers of the application.
            #expect(try await applications.attachments(tenantId: tenant.id, id: receipt.applicationId).allSatisfy { $0.filename != "vollmacht.pdf" })
            let actions = try await applications.history(tenantId: tenant.id, id: receipt.applicationId).map(\.action)
            #expect(actions.contains("message_sent") && actions.contains("request_sent") && actions.contains("citizen_replied"))
            // Another authority cannot write into this application.
            let other = try await StorageTests().makeTenant(database)
            await #expect(throws: MessageError.applicationNotFound) {
                try await messages.send(tenantId: other.id, applicationId: receipt.applicationId, kind: .message, subject: "x", body: "y", author: staff)
            }
        }
    }
}
