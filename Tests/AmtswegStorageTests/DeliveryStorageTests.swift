import AmtswegCore
import Foundation
import Testing
@testable import AmtswegStorage

// Serialized: claims take any due job of the database, so two tests at once would take over each other's jobs.
@Suite("Delivery routes and outbox on SQLite and PostgreSQL", .serialized)
struct DeliveryStorageTests {
    let base = StorageTests()
    static let secret = String(repeating: "s", count: 40)

    /// A tenant with the given routes and one submitted application.
    func submitted(_ database: any Database, routes: (DeliveryRouteRepository, UUID) async throws -> Void = { _, _ in },
                   policy: DeliveryPolicy = DeliveryPolicy()) async throws -> (Tenant, ApplicationRepository, DeliveryRepository, SubmissionReceipt) {
        let tenant = try await base.makeTenant(database)
        try await routes(DeliveryRouteRepository(database: database, protector: StorageTests.protector), tenant.id)
        let applications = ApplicationRepository(database: database, protector: StorageTests.protector)
        let draft = try await DraftRepository(database: database, protector: StorageTests.protector).create(
            tenantId: tenant.id, sessionHash: "s-\(tenant.ars)", leikaKey: "99027002012000", assistant: try base.assistant(), locale: "de")
        let receipt = try await applications.submit(draftId: draft.id, sessionHash: "s-\(tenant.ars)", answers: StorageTests.answers, feeCents: 1200)
        return (tenant, applications, DeliveryRepository(database: database, policy: policy), receipt)
    }

    @Test("without routes the back office is the destination and the application counts as delivered at once", arguments: Backend.allCases)
    func backofficeDefault(backend: Backend) async throws {
        try await backend.with { (database: any Database) async throws in
            let (tenant, applications, deliveries, receipt) = try await submitted(database)
            let jobs = try await deliveries.deliveries(tenantId: tenant.id, applicationId: receipt.applicationId)
            #expect(jobs.map(\.kind) == [.backoffice] && jobs.map(\.state) == [.delivered])
            #expect(try await applications.find(tenantId: tenant.id, id: receipt.applicationId)?.acknowledgedAt != nil)
            #expect(try await deliveries.claimDue().isEmpty)
        }
    }

    @Test("a webhook job is claimed once per lease, handed over, then acknowledged; repeats change nothing", arguments: Backend.allCases)
    func webhookLifecycle(backend: Backend) async throws {
        try await backend.with { (database: any Database) async throws in
            let (tenant, applications, deliveries, receipt) = try await submitted(database) { routes, tenantId in
                try await routes.set(tenantId: tenantId, leikaKey: "*", kind: .backoffice)
                try await routes.set(tenantId: tenantId, leikaKey: "*", kind: .api, webhook: "https://fachverfahren.example/hook", secret: Self.secret)
            }
            #expect(try await applications.find(tenantId: tenant.id, id: receipt.applicationId)?.acknowledgedAt == nil)
            let claimed = try await deliveries.claimDue()
            let job = try #require(claimed.first { $0.applicationId == receipt.applicationId })
            #expect(job.kind == .api && job.caseNumber == receipt.caseNumber && job.lease != nil)
            #expect(try await deliveries.claimDue().allSatisfy { $0.applicationId != receipt.applicationId }, "claimed twice within the lease")
            // After the lease ran out (the worker died), another worker may take it over: same idempotency key.
            let later = try await deliveries.claimDue(now: Clock.millis() + deliveries.policy.leaseMillis + 1)
            let takeover = try #require(later.first { $0.applicationId == receipt.applicationId })
            #expect(takeover.idempotencyKey == job.idempotencyKey)
            // The first worker's outcome no longer counts: its lease is gone.
            try await deliveries.markSent(job)
            #expect(try await deliveries.deliveries(tenantId: tenant.id, applicationId: receipt.applicationId).first { $0.kind == .api }?.state == .pending)
            try await deliveries.markSent(takeover)
            #expect(try await deliveries.deliveries(tenantId: tenant.id, applicationId: receipt.applicationId).first { $0.kind == .api }?.state == .sent)
            let accepted = try await applications.acknowledge(tenantId: tenant.id, id: receipt.applicationId, actor: Actor(kind: "api", id: "k"))
            #expect(accepted.acknowledgedAt != nil)
            let again = try await applications.acknowledge(tenantId: tenant.id, id: receipt.applicationId, actor: Actor(kind: "api", id: "k"))
            #expect(again.acknowledgedAt == accepted.acknowledgedAt)
            let actions = try await applications.history(tenantId: tenant.id, id: receipt.applicationId).map(\.action)
            #expect(actions.filter { $0 == "delivered" }.count == 1 && actions.filter { $0 == "acknowledged" }.count == 1)
        }
    }

    @Test("failures back off, end as dead letters, are counted and can be sent again", arguments: Backend.allCases)
    func deadLetters(backend: Backend) async throws {
        var policy = DeliveryPolicy()
        policy.maxAttempts = 3
        try await backend.with { (database: any Database) async throws in
            let (tenant, applications, deliveries, receipt) = try await submitted(database, routes: { routes, tenantId in
                try await routes.set(tenantId: tenantId, leikaKey: "99027002012000", kind: .api, webhook: "http://127.0.0.1:9/hook", secret: Self.secret)
            }, policy: policy)
            var now = Clock.millis()
            for attempt in 1...3 {
                let job = try #require(try await deliveries.claimDue(now: now).first { $0.applicationId == receipt.applicationId })
                #expect(job.attempts == attempt - 1)
                try await deliveries.markFailed(job, error: "HTTP 503", permanent: false, now: now)
                #expect(try await deliveries.claimDue(now: now).allSatisfy { $0.applicationId != receipt.applicationId }, "retried without backoff")
                now += policy.maxDelayMillis * 2
            }
            let dead = try #require(try await deliveries.problems(tenantId: tenant.id).first)
            #expect(dead.state == .dead && dead.attempts == 3 && dead.lastError == "HTTP 503")
            #expect(try await deliveries.problemCount(tenantId: tenant.id) == 1)
            #expect(try await deliveries.counts().contains { $0.tenantId == tenant.id && $0.kind == .api && $0.state == .dead && $0.count == 1 })
            #expect(try await deliveries.claimDue(now: now).allSatisfy { $0.applicationId != receipt.applicationId })
            let resent = try await deliveries.resend(tenantId: tenant.id, deliveryId: dead.id, actor: Actor(kind: "staff", id: "u"))
            #expect(resent.state == .pending && resent.attempts == 0)
            await #expect(throws: StorageError.conflict) {
                try await deliveries.resend(tenantId: tenant.id, deliveryId: dead.id, actor: Actor(kind: "staff", id: "u"))
            }
            await #expect(throws: StorageError.notFound) {
                try await deliveries.resend(tenantId: UUID(), deliveryId: dead.id, actor: Actor(kind: "staff", id: "u"))
            }
            #expect(try await deliveries.claimDue().contains { $0.id == dead.id })
            let actions = try await applications.history(tenantId: tenant.id, id: receipt.applicationId).map(\.action)
            #expect(actions.contains("delivery_failed") && actions.contains("delivery_resent"))
        }
    }

    @Test("a permanent refusal is a dead letter at once; a rejection keeps its problems and the application undelivered", arguments: Backend.allCases)
    func refusals(backend: Backend) async throws {
        try await backend.with { (database: any Database) async throws in
            let (tenant, applications, deliveries, receipt) = try await submitted(database) { routes, tenantId in
                try await routes.set(tenantId: tenantId, leikaKey: "*", kind: .api, webhook: "http://localhost:9/hook", secret: Self.secret)
            }
            let job = try #require(try await deliveries.claimDue().first { $0.applicationId == receipt.applicationId })
            try await deliveries.markFailed(job, error: "HTTP 401", permanent: true)
            #expect(try await deliveries.problems(tenantId: tenant.id).map(\.state) == [.dead])
            _ = try await deliveries.resend(tenantId: tenant.id, deliveryId: job.id, actor: Actor(kind: "staff", id: "u"))
            let rejected = try await applications.acknowledge(tenantId: tenant.id, id: receipt.applicationId, actor: Actor(kind: "api", id: "k"),
                                                              accepted: false, problems: ["Schema: data invalid"])
            #expect(rejected.acknowledgedAt == nil)
            let problem = try #require(try await deliveries.problems(tenantId: tenant.id).first)
            #expect(problem.state == .rejected && problem.problems == ["Schema: data invalid"])
            // A later acceptance cannot overrule the rejection; only re-sending opens the delivery again.
            #expect(try await applications.acknowledge(tenantId: tenant.id, id: receipt.applicationId, actor: Actor(kind: "api", id: "k")).acknowledgedAt == nil)
        }
    }

    @Test("a service's own routes win over the authority's * routes; bad routes are refused", arguments: Backend.allCases)
    func routeResolution(backend: Backend) async throws {
        try await backend.with { (database: any Database) async throws in
            let (tenant, _, deliveries, receipt) = try await submitted(database) { routes, tenantId in
                try await routes.set(tenantId: tenantId, leikaKey: "*", kind: .backoffice)
                try await routes.set(tenantId: tenantId, leikaKey: "99027002012000", kind: .api)
            }
            let jobs = try await deliveries.deliveries(tenantId: tenant.id, applicationId: receipt.applicationId)
            #expect(jobs.map(\.kind) == [.api] && jobs.map(\.state) == [.sent], "pull-only API jobs wait for the acknowledgement")
            let routes = DeliveryRouteRepository(database: database, protector: StorageTests.protector)
            let before = try await routes.routes(tenantId: tenant.id)
            let changed = try await routes.set(tenantId: tenant.id, leikaKey: "99027002012000", kind: .api, webhook: "https://x.example/h", secret: Self.secret)
            #expect(before.contains { $0.id == changed.id }, "changing a route must keep its id")
            #expect(try await routes.route(id: changed.id)?.secret == Self.secret)
            await #expect(throws: DeliveryRouteError.invalidLeikaKey) { try await routes.set(tenantId: tenant.id, leikaKey: "12345", kind: .api) }
            await #expect(throws: DeliveryRouteError.invalidWebhookURL) {
                try await routes.set(tenantId: tenant.id, leikaKey: "*", kind: .api, webhook: "http://fachverfahren.example/h", secret: Self.secret)
            }
            await #expect(throws: DeliveryRouteError.invalidWebhookURL) {
                try await routes.set(tenantId: tenant.id, leikaKey: "*", kind: .backoffice, webhook: "https://x.example/h", secret: Self.secret)
            }
            await #expect(throws: DeliveryRouteError.secretTooShort) {
                try await routes.set(tenantId: tenant.id, leikaKey: "*", kind: .api, webhook: "https://x.example/h", secret: "short")
            }
        }
    }

    @Test("backoff doubles from the base delay, is capped and jittered")
    func backoff() {
        let policy = DeliveryPolicy()
        #expect(policy.backoffMillis(attempt: 1, jitter: 1) == 30_000)
        #expect(policy.backoffMillis(attempt: 3, jitter: 1) == 120_000)
        #expect(policy.backoffMillis(attempt: 40, jitter: 1) == policy.maxDelayMillis)
        #expect(policy.backoffMillis(attempt: 2, jitter: 0.5) == 30_000)
    }
}
