import SQLKit

/// The SQL flavour, for the few statements that differ.
public enum SQLFlavor: Sendable {
    case sqlite, postgres
}

/// Access to the relational store: concurrent reads, serialised durable write transactions.
public protocol Database: Sendable {
    /// Which SQL flavour the store speaks.
    var flavor: SQLFlavor { get }
    /// Runs `body` outside any write transaction.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs `body` in a write transaction that is durably committed before this returns; a throw rolls it back.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Closes all connections.
    func shutdown() async
}

/// Opens the store behind a URL.
public enum DatabaseFactory {
    /// Connects to `url`.
    public static func open(_ url: DatabaseURL, logger: Logger) async throws -> any Database {
        switch url {
        case .sqlite(let path): return try await SQLiteDatabase.open(path: path, logger: logger)
        case .postgres(let text): return try await PostgresDatabase.open(url: text, logger: logger)
        }
    }
}

import Logging
