import AmtswegCore
import AmtswegStorage
import AmtswegWeb
import ArgumentParser
import Foundation
import SQLKit

/// `amtsweg bench-inbox`: the back-office inbox of one authority with 100,000 applications: every filter, first and a
/// deep page, timed against a one-row primary-key read from the same database in the same run.
struct InboxBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-inbox", abstract: "Measure inbox queries at 100,000 applications.")
    @Option(help: "Applications of the benchmark authority.") var applications = 100_000
    @Option(help: "Repetitions per measurement.") var repetitions = 40
    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let database = try await options.open(logger: Amtsweg.makeLogger())
        do {
            try await measure(database)
        } catch {
            await database.shutdown()
            throw error
        }
        await database.shutdown()
    }

    private func measure(_ database: any Database) async throws {
        let tenants = TenantRepository(database: database)
        let ars = "0999\(String(format: "%08d", applications % 100_000_000))"
        let tenant: Tenant
        if let existing = try await tenants.find(ars: ars) { tenant = existing } else {
            tenant = try await tenants.upsert(try Tenant(id: UUID(), ars: ars, name: "Benchmark", office: "Bürgerbüro", contactEmail: "bench@amt.example"))
        }
        let staff = StaffRepository(database: database)
        var assignees: [String] = []
        for index in 0..<10 {
            let username = "bench-\(index)-\(ars)@amt.example"
            if try await staff.user(username: username) == nil {
                try await staff.upsertUser(tenantId: tenant.id, username: username, passwordHash: "-", role: StaffUser.caseWorker, displayName: "B\(index)")
            }
            assignees.append(try await staff.user(username: username)!.id)
        }
        let services = ["99027002012000", "99115003012000", "99050012104000", "99036009072003"]
        let existing = try await database.read { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM applications WHERE tenant_id = \(bind: tenant.id.uuidString)").all().first?
                .decode(column: "n", as: Int.self) ?? 0
        }
        let now = Clock.millis()
        let year: Int64 = 365 * 86_400_000
        if existing < applications {
            var generator = SystemRandomNumberGenerator()
            var index = existing
            let people = assignees
            while index < applications {
                let chunk = min(500, applications - index)
                let first = index
                // Random values drawn outside the transaction closure, which must not capture mutable state.
                let rows = (0..<chunk).map { _ in
                    (at: now - Int64.random(in: 0..<year, using: &generator),
                     status: ApplicationStatus.allCases[Int.random(in: 0..<4, using: &generator)].rawValue,
                     assignee: Int.random(in: 0..<3, using: &generator) == 0 ? nil : people.randomElement(using: &generator))
                }
                try await database.write { sql in
                    var query = SQLQueryString("""
                        INSERT INTO applications (id, tenant_id, case_number, access_code_hash, leika_key, assistant_id, assistant_version,
                            status, answers, fee_cents, locale, submitted_at, updated_at, acknowledged_at, account_id, assignee_id) VALUES
                        """)
                    for (row, values) in rows.enumerated() {
                        let (at, status, assignee) = values
                        query = query + (row == 0 ? "" : ",") + """
                             (\(bind: UUID().uuidString.lowercased()), \(bind: tenant.id.uuidString), \(bind: "B-\(first + row)"), 'x',
                              \(bind: services[row % services.count]), 'geburtsurkunde', '1.0.0', \(bind: status), '{"pages":{}}', 0, 'de',
                              \(bind: at), \(bind: at), NULL, NULL, \(bind: assignee))
                            """
                    }
                    try await sql.raw(query).run()
                }
                index += chunk
            }
        }
        if database.flavor == .postgres {
            try await database.write { sql in try await sql.raw("ANALYZE applications").run() }
        }
        let repository = ApplicationRepository(database: database, protector: try options.protector(logger: Amtsweg.makeLogger()))
        let someId = try await repository.inbox(tenantId: tenant.id, filter: InboxFilter(), limit: 1).items[0].id
        // The baseline: one application by primary key, through the same pool and driver.
        let baseline = try await median { _ = try await repository.find(tenantId: tenant.id, id: someId) }
        var deepCursor: InboxCursor?
        var walked = 0
        while walked < min(applications / 2, 50_000) {
            let page = try await repository.inbox(tenantId: tenant.id, filter: InboxFilter(), after: deepCursor, limit: 200)
            deepCursor = page.next
            walked += page.items.count
            if page.next == nil { break }
        }
        let month = Date(timeIntervalSince1970: TimeInterval(now - 30 * 86_400_000) / 1000)
        let cases: [(String, InboxFilter, InboxCursor?)] = [
            ("first page, no filter", InboxFilter(), nil),
            ("page after \(walked) cases, no filter", InboxFilter(), deepCursor),
            ("status = received", InboxFilter(status: .received), nil),
            ("service (1 of 4)", InboxFilter(leikaKey: services[1]), nil),
            ("assigned to one of 10", InboxFilter(assignee: .user(assignees[3])), nil),
            ("not assigned", InboxFilter(assignee: .nobody), nil),
            ("received in the last 30 days", InboxFilter(from: month), nil),
            ("status + service + assignee", InboxFilter(status: .inProgress, leikaKey: services[2], assignee: .user(assignees[5])), nil),
        ]
        print("Inbox of one authority with \(applications) applications (\(database.flavor == .postgres ? "PostgreSQL" : "SQLite")), 50 per page")
        print("| query | median | × baseline |")
        print("|---|---:|---:|")
        print("| baseline: one application by id | \(ms(baseline)) | 1.00× |")
        for (name, filter, cursor) in cases {
            let time = try await median { _ = try await repository.inbox(tenantId: tenant.id, filter: filter, after: cursor) }
            print("| \(name) | \(ms(time)) | \(String(format: "%.2f×", time / baseline)) |")
        }
    }

    private func ms(_ seconds: Double) -> String { String(format: "%.2f ms", seconds * 1000) }

    private func median(_ body: () async throws -> Void) async throws -> Double {
        var times: [Double] = []
        for _ in 0..<repetitions {
            let start = ContinuousClock.now
            try await body()
            let elapsed = ContinuousClock.now - start
            times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        return times.sorted()[times.count / 2]
    }
}
