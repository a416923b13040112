import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// Health, readiness, the baseline route, static assets and the OpenAPI document.
struct OperationsRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>) {
        router.get("/healthz") { _, _ in Self.text("ok") }
        router.get("/readyz") { _, _ in
            do {
                let version = try await Migrator.currentVersion(portal.database)
                guard version == Migrator.latestVersion else { return Self.text("migrations pending", status: .serviceUnavailable) }
                return Self.text("ok")
            } catch {
                return Self.text("database unavailable", status: .serviceUnavailable)
            }
        }
        router.get("/bench/baseline") { _, _ in Self.text("ok") }
        router.get("/metrics") { request, context in try await metrics(request, context) }
        router.get("/api/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8", .cacheControl: "no-cache"],
                     body: .init(byteBuffer: ByteBuffer(string: portal.openAPIDocument)))
        }
        router.get("/assets/amtsweg.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: portal.stylesheet)))
        }
        router.get("/assets/amtsweg.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: portal.script)))
        }
        router.get("/") { request, _ in
            let locale = AppLocale.negotiate(acceptLanguage: request.headers[.acceptLanguage])
            return PortalRoutes(portal: portal).startPage(locale)
        }
    }

    /// Prometheus metrics: with `AMTSWEG_METRICS_TOKEN` set, for that bearer token; otherwise for loopback clients only.
    func metrics(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        if let token = portal.metricsToken {
            let given = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
            guard SecureToken.constantTimeEquals(given, token) else {
                return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"], body: .init())
            }
        } else {
            guard ["127.0.0.1", "::1"].contains(context.remoteIP) else { return Self.text("forbidden", status: .forbidden) }
        }
        let tenants = portal.tenantsById
        let text = try await portal.metrics.scrape(deliveries: portal.deliveries, outbox: portal.outbox) { tenants[$0]?.ars }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func text(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

import AmtswegCore
