import Foundation
import Synchronization

/// Counts failed guesses per key in a sliding window and refuses further tries past a limit.
///
/// In memory per instance: with several instances an attacker gets the limit once per instance,
/// which still bounds guessing of 40-bit access codes and bcrypt-hashed passwords far below feasibility.
final class AttemptThrottle: Sendable {
    private let failures = Mutex<[String: [Date]]>([:])
    /// Allowed failures per window.
    let limit: Int
    /// Window length.
    let window: TimeInterval

    /// Creates a throttle allowing `limit` failures per `window` seconds.
    init(limit: Int = 10, window: TimeInterval = 15 * 60) {
        self.limit = limit
        self.window = window
    }

    /// Whether another try for `key` is allowed now.
    func allows(_ key: String, now: Date = Date()) -> Bool {
        failures.withLock { table in
            let recent = (table[key] ?? []).filter { now.timeIntervalSince($0) < window }
            table[key] = recent.isEmpty ? nil : recent
            return recent.count < limit
        }
    }

    /// Records a failed try for `key`.
    func recordFailure(_ key: String, now: Date = Date()) {
        failures.withLock { table in
            if table.count > 100_000 { table.removeAll() }
            table[key, default: []].append(now)
        }
    }

    /// Forgets the failures of `key` after a success.
    func reset(_ key: String) {
        failures.withLock { _ = $0.removeValue(forKey: key) }
    }
}
