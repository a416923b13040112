import AmtswegStorage
import Logging
import ServiceLifecycle

/// Periodically deletes expired sessions and the drafts nobody can reach any more.
struct HousekeepingService: Service {
    let sessions: SessionRepository
    let drafts: DraftRepository
    let logger: Logger
    /// Time between runs.
    var interval: Duration = .seconds(600)

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await purge()
                try await Task.sleep(for: interval)
            }
        }
    }

    /// One housekeeping pass; failures are logged and retried next time.
    func purge() async {
        do {
            let expired = try await sessions.purgeExpired()
            let orphaned = try await drafts.purgeOrphaned(untouchedSince: Clock.millis() - sessions.idleTimeoutMillis)
            if expired + orphaned > 0 {
                logger.info("housekeeping", metadata: ["sessionsDeleted": "\(expired)", "draftsDeleted": "\(orphaned)"])
            }
        } catch {
            logger.error("housekeeping failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
        }
    }
}
