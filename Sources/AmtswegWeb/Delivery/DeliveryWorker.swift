import AmtswegStorage
import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle

/// Works off the delivery outbox: claims due jobs, hands each to its destination, records the outcome with retries
/// and dead letters. Several instances may run at once (claims are leases). Runs until shutdown.
public struct DeliveryWorker: Service {
    let deliveries: DeliveryRepository
    let routes: DeliveryRouteRepository
    let notifier: WebhookNotifier
    let metrics: PortalMetrics
    let logger: Logger
    let loop: WakeableLoop

    /// Creates a worker that looks for due jobs at least every `interval`.
    init(deliveries: DeliveryRepository, routes: DeliveryRouteRepository, metrics: PortalMetrics, logger: Logger,
         http: HTTPClient = .shared, interval: Duration = .seconds(2)) {
        self.deliveries = deliveries
        self.routes = routes
        self.notifier = WebhookNotifier(http: http)
        self.metrics = metrics
        self.logger = logger
        loop = WakeableLoop(interval: interval)
    }

    /// Asks the worker to look at the outbox now (after a submission or a re-send).
    public func nudge() { loop.nudge() }

    public func run() async throws {
        try await loop.run { await deliverDue() }
    }

    /// One pass: works off every due job; returns how many were handed over.
    @discardableResult
    public func deliverDue() async -> Int {
        var handed = 0
        // Due as of the pass's start: a job that failed in this pass waits for its backoff, even a very short one.
        let start = Clock.millis()
        do {
            while true {
                let batch = try await deliveries.claimDue(now: start)
                if batch.isEmpty { break }
                handed += await withTaskGroup(of: Bool.self) { group in
                    // A slow receiver must not hold up the others: the batch goes out in parallel.
                    for delivery in batch { group.addTask { await deliver(delivery) } }
                    return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
            }
        } catch {
            logger.error("delivery outbox unavailable", metadata: ["error": "\(String(reflecting: type(of: error)))"])
        }
        return handed
    }

    private func deliver(_ delivery: DeliveryRecord) async -> Bool {
        do {
            let outcome = try await attempt(delivery)
            switch outcome {
            case .accepted:
                try await deliveries.markSent(delivery)
                metrics.attempt(kind: delivery.kind, outcome: "sent")
                logger.info("delivery handed over", metadata: ["delivery": "\(delivery.id)", "kind": "\(delivery.kind.rawValue)"])
                return true
            case .retry(let reason), .refused(let reason):
                let permanent: Bool
                if case .refused = outcome { permanent = true } else { permanent = false }
                try await deliveries.markFailed(delivery, error: reason, permanent: permanent)
                let dead = permanent || delivery.attempts + 1 >= deliveries.policy.maxAttempts
                metrics.attempt(kind: delivery.kind, outcome: dead ? "dead" : "retry")
                logger.warning(dead ? "delivery given up (dead letter)" : "delivery failed, will retry", metadata: [
                    "delivery": "\(delivery.id)", "kind": "\(delivery.kind.rawValue)", "attempt": "\(delivery.attempts + 1)", "reason": "\(reason)"])
                return false
            }
        } catch {
            logger.error("delivery outcome not recorded", metadata: ["delivery": "\(delivery.id)", "error": "\(String(reflecting: type(of: error)))"])
            return false
        }
    }

    private func attempt(_ delivery: DeliveryRecord) async throws -> WebhookNotifier.Outcome {
        switch delivery.kind {
        case .backoffice:
            // Back-office jobs are delivered when they are created and never queued.
            return .refused("back-office deliveries are not queued")
        case .api:
            guard let route = try await routes.route(id: delivery.routeId) else { return .refused("route removed") }
            guard let url = route.target, let secret = route.secret else { return .accepted }
            return await notifier.notify(delivery, url: url, secret: secret)
        }
    }
}
