import AmtswegCore
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
    /// FIT-Connect, when configured.
    let fitConnect: FITConnectSender?
    /// Records the destinations' acknowledgements.
    let applications: ApplicationRepository

    /// Creates a worker that looks for due jobs at least every `interval`.
    init(deliveries: DeliveryRepository, routes: DeliveryRouteRepository, applications: ApplicationRepository, metrics: PortalMetrics,
         logger: Logger, fitConnect: FITConnectSender? = nil, http: HTTPClient = .shared, interval: Duration = .seconds(2)) {
        self.deliveries = deliveries
        self.routes = routes
        self.applications = applications
        self.notifier = WebhookNotifier(http: http)
        self.metrics = metrics
        self.logger = logger
        self.fitConnect = fitConnect
        loop = WakeableLoop(interval: interval)
    }

    /// What one attempt came to.
    enum Outcome {
        /// Handed over; `remoteState` and `nextCheckAt` for destinations that acknowledge later in an event log.
        case handedOver(remoteState: String?, nextCheckAt: Int64?)
        case retry(String)
        case refused(String)
        /// Another worker took the job over; nothing to record.
        case leaseLost
    }

    /// Asks the worker to look at the outbox now (after a submission or a re-send).
    public func nudge() { loop.nudge() }

    public func run() async throws {
        try await loop.run { await deliverDue() }
    }

    /// One pass: works off every due job, then reads the acknowledgements of handed-over FIT-Connect submissions;
    /// returns how many jobs were handed over.
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
            if let fitConnect {
                while true {
                    let batch = try await deliveries.claimAwaiting(kind: .fitconnect, now: start)
                    if batch.isEmpty { break }
                    for delivery in batch { await poll(delivery, sender: fitConnect) }
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
            case .handedOver(let remoteState, let nextCheckAt):
                try await deliveries.markSent(delivery, remoteState: remoteState, nextCheckAt: nextCheckAt)
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
            case .leaseLost:
                logger.notice("delivery taken over by another worker", metadata: ["delivery": "\(delivery.id)"])
                return false
            }
        } catch {
            logger.error("delivery outcome not recorded", metadata: ["delivery": "\(delivery.id)", "error": "\(String(reflecting: type(of: error)))"])
            return false
        }
    }

    private func attempt(_ delivery: DeliveryRecord) async throws -> Outcome {
        switch delivery.kind {
        case .backoffice:
            // Back-office jobs are delivered when they are created and never queued.
            return .refused("back-office deliveries are not queued")
        case .api:
            guard let route = try await routes.route(id: delivery.routeId) else { return .refused("route removed") }
            guard let url = route.target, let secret = route.secret else { return .handedOver(remoteState: nil, nextCheckAt: nil) }
            switch await notifier.notify(delivery, url: url, secret: secret) {
            case .accepted: return .handedOver(remoteState: nil, nextCheckAt: nil)
            case .retry(let reason): return .retry(reason)
            case .refused(let reason): return .refused(reason)
            }
        case .fitconnect:
            guard let fitConnect else { return .retry("FIT-Connect is not configured on this instance") }
            switch await fitConnect.send(delivery) {
            case .submitted(let progress):
                let state = String(decoding: try JSONEncoder.sortedKeys.encode(progress), as: UTF8.self)
                return .handedOver(remoteState: state, nextCheckAt: Clock.millis() + fitConnect.client.settings.pollIntervalMillis)
            case .failed(.transient(let reason)): return .retry(reason)
            case .failed(.permanent(let reason)): return .refused(reason)
            case .leaseLost: return .leaseLost
            }
        }
    }

    /// Reads the event log of one handed-over FIT-Connect submission and records an accept or reject.
    private func poll(_ delivery: DeliveryRecord, sender: FITConnectSender) async {
        let interval = sender.client.settings.pollIntervalMillis
        do {
            switch try await sender.poll(delivery) {
            case .accepted:
                _ = try await applications.acknowledge(tenantId: delivery.tenantId, id: delivery.applicationId,
                                                       actor: Actor(kind: "system", id: nil), kind: .fitconnect)
                logger.info("FIT-Connect submission accepted", metadata: ["delivery": "\(delivery.id)"])
            case .rejected(let problems):
                _ = try await applications.acknowledge(tenantId: delivery.tenantId, id: delivery.applicationId,
                                                       actor: Actor(kind: "system", id: nil), accepted: false, problems: problems, kind: .fitconnect)
                logger.warning("FIT-Connect submission rejected", metadata: ["delivery": "\(delivery.id)"])
            case .waiting(let progress):
                let state = String(decoding: try JSONEncoder.sortedKeys.encode(progress), as: UTF8.self)
                try await deliveries.releaseAwaiting(delivery, nextCheckAt: Clock.millis() + interval, remoteState: state)
            }
        } catch {
            logger.warning("FIT-Connect event log not read", metadata: ["delivery": "\(delivery.id)", "reason": "\(error)"])
            try? await deliveries.releaseAwaiting(delivery, nextCheckAt: Clock.millis() + interval)
        }
    }
}
