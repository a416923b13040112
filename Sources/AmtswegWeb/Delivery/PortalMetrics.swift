import AmtswegStorage
import Foundation
import Prometheus
import Synchronization

/// The Prometheus metrics of one instance: attempts counted as they happen, outbox states read from the database at
/// each scrape (so every instance reports the same totals). Never personal data: authorities by ARS, no case numbers.
public final class PortalMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// Label sets of delivery gauges set at the last scrape, so vanished ones drop to 0 instead of keeping old values.
    private let reported = Mutex<Set<[String]>>([])

    /// Creates an empty registry.
    public init() {}

    /// Counts one delivery attempt and its outcome (sent, retry, dead).
    func attempt(kind: DeliveryKind, outcome: String) {
        registry.makeCounter(descriptor: Self.name("delivery_attempts_total", help: "Delivery attempts by this instance, by destination kind and outcome"),
                             labels: [("kind", kind.rawValue), ("outcome", outcome)]).increment()
    }

    /// `amtsweg_<metric>` with its help text.
    static func name(_ metric: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "amtsweg", metricName: metric, helpText: help)
    }

    /// The text exposition format, after reading the current outbox states.
    func scrape(deliveries: DeliveryRepository, outbox: MailOutbox, arsOf: (UUID) -> String?) async throws -> String {
        let counts = try await deliveries.counts()
        var current: [[String]: Int] = [:]
        for entry in counts {
            current[[arsOf(entry.tenantId) ?? entry.tenantId.uuidString, entry.kind.rawValue, entry.state.rawValue], default: 0] += entry.count
        }
        let keys = reported.withLock { previous in
            let all = previous.union(current.keys)
            previous = Set(current.keys)
            return all
        }
        for key in keys {
            registry.makeGauge(descriptor: Self.name("deliveries", help: "Deliveries by authority (ARS), destination kind and state; state dead = dead letters"),
                               labels: [("tenant", key[0]), ("kind", key[1]), ("state", key[2])])
                .set(Double(current[key] ?? 0))
        }
        let dead = counts.filter { $0.state == .dead || $0.state == .rejected }.reduce(0) { $0 + $1.count }
        registry.makeGauge(descriptor: Self.name("delivery_dead_letters", help: "Deliveries given up or refused, waiting for an operator"))
            .set(Double(dead))
        let mail = try await outbox.counts()
        for (state, value) in [("pending", mail.pending), ("sent", mail.sent), ("failed", mail.failed)] {
            registry.makeGauge(descriptor: Self.name("mail_outbox", help: "Mails in the outbox by state"), labels: [("state", state)]).set(Double(value))
        }
        return registry.emitToString()
    }
}
