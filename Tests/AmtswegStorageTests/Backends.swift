import Foundation
import Logging
import Testing
@testable import AmtswegStorage

/// The storage backends every storage test runs on.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// A migrated database of this kind; SQLite in a fresh temp file, PostgreSQL from AMTSWEG_TEST_POSTGRES_URL.
    func open() async throws -> any Database {
        let logger = Logger(label: "test")
        switch self {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("amtsweg-test-\(UUID().uuidString).sqlite").path
            let database = try await SQLiteDatabase.open(path: path, logger: logger)
            try await Migrator.migrate(database)
            return database
        case .postgres:
            guard let url = ProcessInfo.processInfo.environment["AMTSWEG_TEST_POSTGRES_URL"] else { throw BackendUnavailable() }
            let database = try await PostgresDatabase.open(url: url, logger: logger)
            try await Migrator.migrate(database)
            return database
        }
    }

    /// Runs `body` on a fresh database and shuts it down; PostgreSQL is skipped only outside CI when no server is configured.
    func with(_ body: (any Database) async throws -> Void) async throws {
        let database: any Database
        do {
            database = try await open()
        } catch is BackendUnavailable {
            if ProcessInfo.processInfo.environment["CI"] != nil {
                Issue.record("AMTSWEG_TEST_POSTGRES_URL is not set in CI; scripts/test.sh starts a PostgreSQL server")
            }
            return
        }
        do {
            try await body(database)
        } catch {
            await database.shutdown()
            throw error
        }
        await database.shutdown()
    }
}

struct BackendUnavailable: Error {}
