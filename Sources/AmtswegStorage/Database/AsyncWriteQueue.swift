import Foundation

/// One pending write transaction body and the continuation waiting for its committed result.
struct PendingWrite: Sendable {
    let body: @Sendable () async throws -> any Sendable
    let continuation: CheckedContinuation<any Sendable, any Error>
}

/// A FIFO of pending writes that a single writer task drains in batches (group commit).
actor AsyncWriteQueue {
    private var pending: [PendingWrite] = []
    private var waiter: CheckedContinuation<Void, Never>?
    private var closed = false

    /// Adds a write; fails at once if the queue is closed.
    func enqueue(_ write: PendingWrite) {
        if closed {
            write.continuation.resume(throwing: StorageError.closed)
            return
        }
        pending.append(write)
        waiter?.resume()
        waiter = nil
    }

    /// Waits until writes are pending and takes up to `limit` of them; empty when closed.
    func takeBatch(limit: Int) async -> [PendingWrite] {
        while pending.isEmpty && !closed {
            await withCheckedContinuation { waiter = $0 }
        }
        let batch = Array(pending.prefix(limit))
        pending.removeFirst(batch.count)
        return batch
    }

    /// Stops accepting writes and fails the ones not yet taken.
    func close() {
        closed = true
        for write in pending { write.continuation.resume(throwing: StorageError.closed) }
        pending.removeAll()
        waiter?.resume()
        waiter = nil
    }
}

/// Storage failures that callers may handle.
public enum StorageError: Error, Equatable {
    case closed
    case notFound
    case conflict
    case corruptRow(String)
}
