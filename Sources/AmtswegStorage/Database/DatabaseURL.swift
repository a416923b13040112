/// Where the data lives: an SQLite file (embedded default) or a PostgreSQL server.
public enum DatabaseURL: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(url: String)

    /// The default `sqlite:data/amtsweg.sqlite`.
    public static let `default` = DatabaseURL.sqlite(path: "data/amtsweg.sqlite")

    /// Parses `sqlite:PATH`, `sqlite::memory:` or `postgres://…`/`postgresql://…`.
    public init(parsing text: String) throws(DatabaseURLError) {
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw .invalid("sqlite: needs a file path") }
            self = .sqlite(path: path)
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(url: text)
        } else {
            throw .invalid("expected sqlite:PATH or postgres://USER@HOST:PORT/DB")
        }
    }
}

/// An unusable database URL; the message never repeats credentials.
public struct DatabaseURLError: Error, CustomStringConvertible {
    /// What is wrong.
    public let description: String
    static func invalid(_ text: String) -> DatabaseURLError { DatabaseURLError(description: text) }
}
