import AmtswegCore
import Foundation
import SQLKit

/// Where an authority's applications go.
public enum DeliveryKind: String, Sendable, CaseIterable, Codable {
    /// The built-in back office: delivered when the application is stored.
    case backoffice
    /// Amtsweg's specialist-system API: a Fachverfahren pulls and acknowledges, optionally woken by a signed webhook.
    case api
    /// FIT-Connect: encrypted submission to a Zustellpunkt (destination), found by routing or given on the route.
    case fitconnect
}

/// One route: applications of `leikaKey` (or of every service, `*`) of an authority go to a destination.
public struct DeliveryRoute: Sendable, Equatable {
    public let id: String
    public let tenantId: UUID
    /// A LeiKa key, or `*` for every service the authority offers without a route of its own.
    public let leikaKey: String
    public let kind: DeliveryKind
    /// The webhook URL (api; nil for pull only), or the FIT-Connect destination id (nil: found by routing).
    public let target: String?
    /// The webhook's HMAC key (sealed at rest).
    public let secret: String?
}

/// Why a route was refused.
public enum DeliveryRouteError: Error, Equatable, Sendable {
    case invalidLeikaKey
    case invalidWebhookURL
    case secretTooShort
    case invalidDestination
}

/// The routes per authority and service; the built-in back office is the route when none is configured.
public struct DeliveryRouteRepository: Sendable {
    let database: any Database
    let protector: DataProtector

    /// Creates a repository; webhook secrets are sealed with `protector`.
    public init(database: any Database, protector: DataProtector) {
        self.database = database
        self.protector = protector
    }

    /// Adds or replaces the route of `kind` for a service (`*` for all). Webhook URLs must be https, or http on loopback.
    @discardableResult
    public func set(tenantId: UUID, leikaKey: String, kind: DeliveryKind, webhook: String? = nil, secret: String? = nil,
                    destination: String? = nil) async throws -> DeliveryRoute {
        guard leikaKey == "*" || (leikaKey.count == 14 && leikaKey.hasPrefix("99") && leikaKey.allSatisfy(\.isASCIIDigit)) else {
            throw DeliveryRouteError.invalidLeikaKey
        }
        if let destination {
            guard kind == .fitconnect, webhook == nil, UUID(uuidString: destination) != nil else { throw DeliveryRouteError.invalidDestination }
            return try await store(tenantId: tenantId, leikaKey: leikaKey, kind: kind, target: destination.lowercased(), secret: nil)
        }
        if let webhook {
            guard kind == .api, Self.acceptableWebhook(webhook) else { throw DeliveryRouteError.invalidWebhookURL }
            guard let secret, secret.utf8.count >= 32 else { throw DeliveryRouteError.secretTooShort }
        }
        return try await store(tenantId: tenantId, leikaKey: leikaKey, kind: kind, target: webhook, secret: webhook == nil ? nil : secret)
    }

    private func store(tenantId: UUID, leikaKey: String, kind: DeliveryKind, target: String?, secret: String?) async throws -> DeliveryRoute {
        let sealed = try secret.map { try protector.seal(Data($0.utf8), tenant: tenantId) }
        return try await database.write { sql in
            let tenant = tenantId.uuidString
            // Jobs refer to the route by id: changing a route keeps its id, so waiting jobs follow the new settings.
            let existing = try await sql.raw("""
                SELECT id FROM delivery_routes WHERE tenant_id = \(bind: tenant) AND leika_key = \(bind: leikaKey) AND kind = \(bind: kind.rawValue)
                """).all().first?.decode(column: "id", as: String.self)
            let route = DeliveryRoute(id: existing ?? UUID().uuidString.lowercased(), tenantId: tenantId, leikaKey: leikaKey, kind: kind,
                                      target: target, secret: secret)
            if existing != nil {
                try await sql.raw("""
                    UPDATE delivery_routes SET target = \(bind: target), secret = \(bind: sealed?.ciphertext),
                        wrapped_key = \(bind: sealed?.wrappedKey)
                    WHERE id = \(bind: route.id)
                    """).run()
            } else {
                try await sql.raw("""
                    INSERT INTO delivery_routes (id, tenant_id, leika_key, kind, target, secret, wrapped_key, created_at)
                    VALUES (\(bind: route.id), \(bind: tenant), \(bind: leikaKey), \(bind: kind.rawValue), \(bind: target),
                        \(bind: sealed?.ciphertext), \(bind: sealed?.wrappedKey), \(bind: Clock.millis()))
                    """).run()
            }
            return route
        }
    }

    /// Removes every route of a service (`*` included when asked), so the defaults apply again.
    public func remove(tenantId: UUID, leikaKey: String) async throws {
        try await database.write { sql in
            try await sql.raw("DELETE FROM delivery_routes WHERE tenant_id = \(bind: tenantId.uuidString) AND leika_key = \(bind: leikaKey)").run()
        }
    }

    /// Every route of an authority.
    public func routes(tenantId: UUID) async throws -> [DeliveryRoute] {
        let protector = protector
        return try await database.read { sql in
            try await sql.raw("SELECT * FROM delivery_routes WHERE tenant_id = \(bind: tenantId.uuidString) ORDER BY leika_key, kind").all()
                .map { try Self.route($0, protector: protector) }
        }
    }

    /// The route `id`, with its secret opened (for the delivery worker).
    public func route(id: String) async throws -> DeliveryRoute? {
        let protector = protector
        return try await database.read { sql in
            try await sql.raw("SELECT * FROM delivery_routes WHERE id = \(bind: id)").all().first.map { try Self.route($0, protector: protector) }
        }
    }

    /// The routes for one application inside a transaction: the service's own, else the authority's `*` routes.
    static func resolve(_ sql: any SQLDatabase, tenant: String, leikaKey: String) async throws -> [(id: String, kind: DeliveryKind, hasTarget: Bool)] {
        let rows = try await sql.raw("""
            SELECT id, leika_key, kind, target FROM delivery_routes
            WHERE tenant_id = \(bind: tenant) AND (leika_key = \(bind: leikaKey) OR leika_key = '*')
            """).all()
        let parsed = try rows.compactMap { row -> (leika: String, id: String, kind: DeliveryKind, hasTarget: Bool)? in
            guard let kind = DeliveryKind(rawValue: try row.decode(column: "kind", as: String.self)) else { return nil }
            return (try row.decode(column: "leika_key", as: String.self), try row.decode(column: "id", as: String.self), kind,
                    try row.decode(column: "target", as: String?.self) != nil)
        }
        let own = parsed.filter { $0.leika == leikaKey }
        return (own.isEmpty ? parsed : own).map { ($0.id, $0.kind, $0.hasTarget) }.sorted { $0.kind.rawValue < $1.kind.rawValue }
    }

    /// https anywhere; plain http only to the loopback interface (a Fachverfahren on the same host, and tests).
    static func acceptableWebhook(_ text: String) -> Bool {
        guard text.count <= 2000, let url = URL(string: text), let host = url.host, !host.isEmpty, url.user == nil, url.password == nil
        else { return false }
        switch url.scheme {
        case "https": return true
        case "http": return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]"
        default: return false
        }
    }

    static func route(_ row: any SQLRow, protector: DataProtector) throws -> DeliveryRoute {
        guard let kind = DeliveryKind(rawValue: try row.decode(column: "kind", as: String.self)),
              let tenantId = UUID(uuidString: try row.decode(column: "tenant_id", as: String.self))
        else { throw StorageError.corruptRow("delivery_routes") }
        var secret: String?
        if let sealed = try row.decode(column: "secret", as: Data?.self), let wrapped = try row.decode(column: "wrapped_key", as: Data?.self) {
            secret = String(decoding: try protector.open(sealed, wrappedKey: wrapped, tenant: tenantId), as: UTF8.self)
        }
        return DeliveryRoute(id: try row.decode(column: "id", as: String.self), tenantId: tenantId,
                             leikaKey: try row.decode(column: "leika_key", as: String.self), kind: kind,
                             target: try row.decode(column: "target", as: String?.self), secret: secret)
    }
}
