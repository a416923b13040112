import AmtswegStorage
import ArgumentParser
import Foundation

/// `amtsweg route`: shows or sets where an authority's applications go.
struct RouteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Show or set the delivery routes of an authority.",
        discussion: """
            Without --kind, lists the authority's routes. With --kind backoffice, api or fitconnect, sets that route for --leika \
            (a LeiKa key, or * for every service without routes of its own). An api route with --webhook gets a signed \
            callback for every new application; the HMAC secret (at least 32 bytes) is read from AMTSWEG_WEBHOOK_SECRET, \
            so it stays out of the shell history. A fitconnect route sends to --destination (a Zustellpunkt id) or, without \
            one, to the destination the FIT-Connect Routing API names for the service and the authority's ARS. \
            --remove deletes the routes of --leika.
            """)
    @Option(help: "The authority's Amtlicher Regionalschlüssel.") var ars: String
    @Option(help: "LeiKa key, or * for all services.") var leika = "*"
    @Option(help: "backoffice, api or fitconnect.") var kind: String?
    @Option(help: "Webhook URL for an api route (https, or http on loopback).") var webhook: String?
    @Option(help: "FIT-Connect destination id for a fitconnect route (default: ask the Routing API).") var destination: String?
    @Flag(help: "Remove the routes of --leika.") var remove = false
    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let logger = Amtsweg.makeLogger()
        let database = try await options.open(logger: logger)
        do {
            try await apply(database: database, routes: DeliveryRouteRepository(database: database, protector: try options.protector(logger: logger)))
        } catch {
            await database.shutdown()
            throw error
        }
        await database.shutdown()
    }

    private func apply(database: any Database, routes: DeliveryRouteRepository) async throws {
        guard let tenant = try await TenantRepository(database: database).find(ars: ars) else { throw ValidationError("no authority with ARS \(ars)") }
        if remove {
            try await routes.remove(tenantId: tenant.id, leikaKey: leika)
        } else if let kind {
            guard let parsed = DeliveryKind(rawValue: kind) else { throw ValidationError("--kind must be backoffice, api or fitconnect") }
            let secret = ProcessInfo.processInfo.environment["AMTSWEG_WEBHOOK_SECRET"]
            do {
                try await routes.set(tenantId: tenant.id, leikaKey: leika, kind: parsed, webhook: webhook, secret: webhook == nil ? nil : secret,
                                     destination: destination)
            } catch let error as DeliveryRouteError {
                switch error {
                case .invalidLeikaKey: throw ValidationError("--leika must be a 14-digit LeiKa key starting with 99, or *")
                case .invalidWebhookURL: throw ValidationError("--webhook needs --kind api and an https URL (http only on loopback)")
                case .secretTooShort: throw ValidationError("AMTSWEG_WEBHOOK_SECRET must hold at least 32 bytes")
                case .invalidDestination: throw ValidationError("--destination needs --kind fitconnect and a destination id (UUID)")
                }
            }
        }
        for route in try await routes.routes(tenantId: tenant.id) {
            print("\(route.leikaKey) \(route.kind.rawValue) \(route.target ?? "-") \(route.id)")
        }
    }
}
