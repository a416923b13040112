import ServiceLifecycle

/// A background loop that runs one pass every `interval`, or at once when nudged; ends at graceful shutdown.
struct WakeableLoop: Sendable {
    let wakeups: AsyncStream<Void>
    let continuation: AsyncStream<Void>.Continuation
    /// Longest sleep between two passes.
    let interval: Duration

    /// Creates a loop that wakes at least every `interval`.
    init(interval: Duration) {
        self.interval = interval
        (wakeups, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a pass now (several nudges before it starts make one pass).
    func nudge() { continuation.yield() }

    /// Runs `pass` now, then after every nudge or tick, until the service group shuts down.
    func run(_ pass: @escaping @Sendable () async -> Void) async throws {
        let interval = interval, continuation = continuation, wakeups = wakeups
        try await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                // A tick every interval joins the nudges in the same stream, so one loop serves both.
                group.addTask {
                    while (try? await Task.sleep(for: interval)) != nil { continuation.yield() }
                }
                await pass()
                // Ends when the task is cancelled at shutdown.
                for await _ in wakeups { await pass() }
                group.cancelAll()
            }
        }
    }
}
