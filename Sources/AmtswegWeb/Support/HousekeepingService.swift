import AmtswegStorage
import Logging
import ServiceLifecycle

/// Periodically deletes expired sessions, the drafts nobody can reach any more, stale account tokens, accounts never
/// confirmed, and old traces of sent mails.
struct HousekeepingService: Service {
    let sessions: SessionRepository
    let drafts: DraftRepository
    let accounts: AccountRepository
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
            let stale = try await accounts.purgeStale()
            if expired + orphaned + stale > 0 {
                logger.info("housekeeping", metadata: ["sessionsDeleted": "\(expired)", "draftsDeleted": "\(orphaned)", "accountRowsDeleted": "\(stale)"])
            }
        } catch {
            logger.error("housekeeping failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
        }
    }
}
