import Foundation
import Logging
import PostgresKit
import SQLKit

/// The scale-out store: a PostgreSQL connection pool; writes run in `BEGIN … COMMIT` with `synchronous_commit=on`.
public final class PostgresDatabase: Database {
    public let flavor = SQLFlavor.postgres
    private let client: PostgresClient
    private let runTask: Task<Void, Never>

    private init(client: PostgresClient, runTask: Task<Void, Never>) {
        self.client = client
        self.runTask = runTask
    }

    /// Connects to `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`.
    public static func open(url: String, logger: Logger) async throws -> PostgresDatabase {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty,
              let user = components.user, !user.isEmpty
        else { throw DatabaseURLError(description: "postgres URL needs user, host and database") }
        let databaseName = String(components.path.drop(while: { $0 == "/" }))
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: components.password?.removingPercentEncoding, database: databaseName.isEmpty ? nil : databaseName,
            tls: .disable)
        configuration.options.maximumConnections = 16
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let task = Task { await client.run() }
        let database = PostgresDatabase(client: client, runTask: task)
        _ = try await database.read { try await $0.raw("SELECT 1").all() }
        return database
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in try await body(connection.sql()) }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let database = connection.sql()
            try await database.raw("BEGIN").run()
            do {
                let value = try await body(database)
                try await database.raw("COMMIT").run()
                return value
            } catch {
                try? await database.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    public func shutdown() async {
        runTask.cancel()
        await runTask.value
    }
}
