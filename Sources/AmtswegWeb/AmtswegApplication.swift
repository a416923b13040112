import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Builds the HTTP application: middleware, all route areas, on one router.
public enum AmtswegApplication {
    /// The router with every route, for the server and for tests.
    public static func router(portal: Portal) -> Router<AppRequestContext> {
        let router = Router(context: AppRequestContext.self)
        let providerOrigin = portal.oidc.flatMap { URL(string: $0.settings.issuer) }.flatMap { url -> String? in
            guard let scheme = url.scheme, let host = url.host else { return nil }
            return "\(scheme)://\(host)\(url.port.map { ":\($0)" } ?? "")"
        }
        router.add(middleware: SecurityHeadersMiddleware(https: portal.secureCookies, formTargets: providerOrigin.map { [$0] } ?? []))
        router.add(middleware: ErrorMiddleware(portal: portal))
        OperationsRoutes(portal: portal).register(on: router)
        APIRoutes(portal: portal).register(on: router)
        FITConnectCallbackRoutes(portal: portal).register(on: router)
        IdentityRoutes.registerCallback(on: router, portal: portal)
        for locale in AppLocale.allCases {
            PortalRoutes(portal: portal).register(on: router, locale: locale)
            AssistantRoutes(portal: portal).register(on: router, locale: locale)
            StatusRoutes(portal: portal).register(on: router, locale: locale)
            BackofficeRoutes(portal: portal).register(on: router, locale: locale)
            AccountRoutes(portal: portal).register(on: router, locale: locale)
            PasswordRoutes(portal: portal).register(on: router, locale: locale)
            AccountSettingsRoutes(portal: portal).register(on: router, locale: locale)
            TwoFactorSettingsRoutes(portal: portal).register(on: router, locale: locale)
            PostfachRoutes(portal: portal).register(on: router, locale: locale)
            DataSelfServiceRoutes(portal: portal).register(on: router, locale: locale)
            DocumentSafeRoutes(portal: portal).register(on: router, locale: locale)
            ProfileRoutes(portal: portal).register(on: router, locale: locale)
            IdentityRoutes(portal: portal).register(on: router, locale: locale)
        }
        return router
    }

    /// The application listening on `host:port`.
    public static func build(portal: Portal, host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
        Application(
            router: router(portal: portal),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            services: [HousekeepingService(sessions: portal.sessions, drafts: portal.drafts, accounts: portal.accounts, logger: logger)] as [any Service]
                + (portal.mailWorker.map { [$0] } ?? []) + [portal.deliveryWorker],
            logger: logger)
    }
}
