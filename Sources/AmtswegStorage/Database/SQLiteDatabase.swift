import Foundation
import Logging
import SQLKit
import SQLiteKit
import Synchronization

/// The embedded store: WAL mode, one writer connection that group-commits, and read-only reader connections.
///
/// Every write runs inside `BEGIN IMMEDIATE` on the single writer, in its own savepoint, and its
/// caller is answered only after `COMMIT` has been fsynced (`synchronous=FULL`). Writes that arrive
/// while a transaction is running are committed together in the next one, so one fsync covers many.
public final class SQLiteDatabase: Database {
    public let flavor = SQLFlavor.sqlite
    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let queue: AsyncWriteQueue
    private let writerTask: Task<Void, Never>
    private let nextReader = Atomic<Int>(0)

    private init(writer: SQLiteConnection, readers: [SQLiteConnection], queue: AsyncWriteQueue, writerTask: Task<Void, Never>) {
        self.writer = writer
        self.readers = readers
        self.queue = queue
        self.writerTask = writerTask
    }

    /// Opens (and creates) the database file at `path`.
    public static func open(path: String, logger: Logger, readerCount: Int = 2) async throws -> SQLiteDatabase {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA busy_timeout = 5000", "PRAGMA foreign_keys = ON"] {
            _ = try await writer.query(pragma)
        }
        var readers: [SQLiteConnection] = []
        for _ in 0..<max(1, readerCount) {
            let reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            for pragma in ["PRAGMA busy_timeout = 5000", "PRAGMA foreign_keys = ON", "PRAGMA query_only = 1"] {
                _ = try await reader.query(pragma)
            }
            readers.append(reader)
        }
        let queue = AsyncWriteQueue()
        let database = writer.sql()
        let task = Task { await runWriter(queue: queue, database: database, logger: logger) }
        return SQLiteDatabase(writer: writer, readers: readers, queue: queue, writerTask: task)
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let index = nextReader.add(1, ordering: .relaxed).newValue
        return try await body(readers[index % readers.count].sql())
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let database = writer.sql()
        let result = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let pending = PendingWrite(body: { try await body(database) }, continuation: continuation)
            Task { await queue.enqueue(pending) }
        }
        guard let typed = result as? T else { throw StorageError.corruptRow("write result type") }
        return typed
    }

    public func shutdown() async {
        await queue.close()
        await writerTask.value
        for reader in readers { try? await reader.close() }
        try? await writer.close()
    }

    /// Drains the queue: one `BEGIN IMMEDIATE … COMMIT` per batch, one savepoint per write.
    private static func runWriter(queue: AsyncWriteQueue, database: any SQLDatabase, logger: Logger) async {
        while true {
            let batch = await queue.takeBatch(limit: 512)
            if batch.isEmpty { return }
            do {
                try await database.raw("BEGIN IMMEDIATE").run()
            } catch {
                logger.error("sqlite begin failed", metadata: ["error": "\(type(of: error))"])
                for write in batch { write.continuation.resume(throwing: error) }
                continue
            }
            var outcomes: [Result<any Sendable, any Error>] = []
            outcomes.reserveCapacity(batch.count)
            for write in batch {
                do {
                    try await database.raw("SAVEPOINT w").run()
                    let value = try await write.body()
                    try await database.raw("RELEASE w").run()
                    outcomes.append(.success(value))
                } catch {
                    try? await database.raw("ROLLBACK TO w").run()
                    try? await database.raw("RELEASE w").run()
                    outcomes.append(.failure(error))
                }
            }
            do {
                try await database.raw("COMMIT").run()
                for (write, outcome) in zip(batch, outcomes) { write.continuation.resume(with: outcome) }
            } catch {
                logger.error("sqlite commit failed", metadata: ["error": "\(type(of: error))"])
                try? await database.raw("ROLLBACK").run()
                for write in batch { write.continuation.resume(throwing: error) }
            }
        }
    }
}
