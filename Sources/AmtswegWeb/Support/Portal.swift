import AmtswegCore
import AmtswegStandards
import AmtswegStorage
import Foundation
import Logging
import Mustache

/// Everything the routes need, loaded once at start: storage, catalogue, assistants, templates and translators.
public struct Portal: Sendable {
    /// The database.
    public let database: any Database
    /// Repositories over the database.
    public let tenants: TenantRepository
    public let sessions: SessionRepository
    public let drafts: DraftRepository
    public let applications: ApplicationRepository
    public let staff: StaffRepository
    public let accounts: AccountRepository
    /// Postfach threads: messages, Nachforderungen and replies.
    public let messages: MessageRepository
    /// Citizens' Dokumentensafe.
    public let documentSafe: DocumentSafeRepository
    /// Citizens' profiles for prefilling (with consent).
    public let profiles: ProfileRepository
    /// Which assistant fields a profile may prefill.
    public let prefill: PrefillMap
    /// Accounts' links to external identities (e.g. BundID).
    public let identities: IdentityRepository
    /// The external identity provider, when configured.
    public let oidc: OIDCClient?
    /// TOTP secrets and recovery codes of case workers and citizens.
    public let secondFactors: SecondFactorRepository
    /// Mails waiting to be sent.
    public let outbox: MailOutbox
    /// Sends the outbox, when a mail transport is configured.
    public let mailWorker: MailWorker?
    /// Internal notes of the back office.
    public let caseNotes: CaseNoteRepository
    /// Delivery jobs (application × destination).
    public let deliveries: DeliveryRepository
    /// Where each authority's applications go.
    public let routes: DeliveryRouteRepository
    /// Hands applications to their destinations.
    public let deliveryWorker: DeliveryWorker
    /// Prometheus metrics of this instance.
    public let metrics: PortalMetrics
    /// The bearer token `/metrics` wants; without one only loopback clients may read it.
    public let metricsToken: String?
    /// The HMAC secret of FIT-Connect callbacks to `/api/fitconnect/callback` (the route is off without one).
    public let fitConnectCallbackSecret: String?
    /// Rules and hashing for citizens' passwords.
    public let passwords: PasswordPolicy
    /// The OZG catalogue.
    public let catalogue: ServiceCatalogue
    /// The current (highest) version of each assistant, by id.
    public let assistants: [String: AssistantDefinition]
    /// Every shipped version of each assistant: id → version → definition (published versions never change).
    public let assistantVersions: [String: [String: AssistantDefinition]]
    /// Offerings by LeiKa key (a Leistung may be offered by several authorities).
    public let offerings: [String: [TenantService]]
    /// Tenants by id.
    public let tenantsById: [UUID: Tenant]
    /// Templates.
    let views: MustacheLibrary
    /// Translators by locale.
    let translators: [AppLocale: Translator]
    /// Nested message trees for templates, by locale.
    let messageTrees: [AppLocale: MessageTree]
    /// Whether cookies get the Secure flag (behind https).
    public let secureCookies: Bool
    /// Throttles guesses of access codes and passwords.
    let throttle: AttemptThrottle
    /// Pages whose HTML depends only on the locale, rendered once.
    let staticPages: StaticPageCache
    /// The OpenAPI document.
    let openAPIDocument: String
    /// The stylesheet.
    let stylesheet: String
    /// The browser script (conditional questions).
    let script: String
    /// The malware scanner for uploads, when clamd is configured.
    public let scanner: ClamdScanner?

    /// Loads resources and the tenant directory from `database`.
    public static func load(database: any Database, protector: DataProtector, secureCookies: Bool, logger: Logger,
                            scanner: ClamdScanner? = nil, mail: MailSettings = MailSettings(),
                            passwordCost: UInt8 = 12, oidc: OIDCSettings? = nil,
                            deliveryPolicy: DeliveryPolicy = DeliveryPolicy(), metricsToken: String? = nil,
                            fitConnect: FITConnectSettings? = nil) async throws -> Portal {
        let catalogue = try ServiceCatalogue(json: BundledResources.data("data/ozg-katalog-2019.json"))
        let versions = try loadAssistantVersions()
        let assistants = versions.mapValues { byVersion in byVersion.values.max { Self.versionOrder($0.version, $1.version) }! }
        var catalogs: [AppLocale: MessageCatalog] = [:]
        for locale in AppLocale.allCases {
            catalogs[locale] = try MessageCatalog(locale: locale, json: BundledResources.data("i18n/\(locale.rawValue).json"))
        }
        try checkCatalogsComplete(catalogs)
        var translators: [AppLocale: Translator] = [:]
        var trees: [AppLocale: MessageTree] = [:]
        for (locale, catalog) in catalogs {
            translators[locale] = Translator(catalog: catalog, fallback: catalogs[.fallback])
            trees[locale] = MessageTree(value: nestedTree(catalog.messages))
        }
        let views = try await MustacheLibrary(directory: BundledResources.directory.appendingPathComponent("templates").path)
        let tenantRepository = TenantRepository(database: database)
        let tenantList = try await tenantRepository.all()
        let outbox = MailOutbox(database: database, protector: protector)
        let mailWorker = mail.transport.map { transport in
            MailWorker(outbox: outbox, composer: MailComposer(translators: translators, baseURL: mail.baseURL, from: mail.from, fromName: mail.fromName),
                       transport: transport, logger: logger)
        }
        let passwords = PasswordPolicy(blockedList: String(decoding: try BundledResources.data("data/common-passwords.txt"), as: UTF8.self),
                                       cost: passwordCost)
        let offerings = Dictionary(grouping: try await tenantRepository.allOfferings().filter { assistants[$0.assistantId] != nil }, by: \.leikaKey)
        let tenantsById = Dictionary(uniqueKeysWithValues: tenantList.map { ($0.id, $0) })
        let applications = ApplicationRepository(database: database, protector: protector)
        let accounts = AccountRepository(database: database, protector: protector)
        let deliveries = DeliveryRepository(database: database, policy: deliveryPolicy)
        let routes = DeliveryRouteRepository(database: database, protector: protector)
        let metrics = PortalMetrics()
        let sender = fitConnect.map { settings in
            let client = FITConnectClient(settings: settings)
            let trust = DestinationKeys(roots: settings.trustRoots)
            return FITConnectSender(
                client: client, keys: SignatureKeys(client: client, trust: trust), trust: trust,
                packager: SubmissionPackager(applications: applications, accounts: accounts, assistantVersions: versions, tenantsById: tenantsById,
                                             offerings: offerings, translator: translators[.de]!),
                deliveries: deliveries, routes: routes, logger: logger)
        }
        let deliveryWorker = DeliveryWorker(deliveries: deliveries, routes: routes, applications: applications, metrics: metrics,
                                            logger: logger, fitConnect: sender)
        return Portal(
            database: database, tenants: tenantRepository, sessions: SessionRepository(database: database),
            drafts: DraftRepository(database: database, protector: protector),
            applications: applications,
            staff: StaffRepository(database: database), accounts: accounts,
            messages: MessageRepository(database: database, protector: protector),
            documentSafe: DocumentSafeRepository(database: database, protector: protector),
            profiles: ProfileRepository(database: database, protector: protector),
            prefill: try JSONDecoder().decode(PrefillMap.self, from: BundledResources.data("data/prefill.json")),
            identities: IdentityRepository(database: database), oidc: oidc.map { OIDCClient(settings: $0) },
            secondFactors: SecondFactorRepository(database: database, protector: protector),
            outbox: outbox, mailWorker: mailWorker, caseNotes: CaseNoteRepository(database: database, protector: protector), deliveries: deliveries, routes: routes, deliveryWorker: deliveryWorker, metrics: metrics,
            metricsToken: metricsToken, fitConnectCallbackSecret: fitConnect?.callbackSecret, passwords: passwords, catalogue: catalogue, assistants: assistants, assistantVersions: versions,
            offerings: offerings,
            tenantsById: tenantsById, views: views,
            translators: translators, messageTrees: trees, secureCookies: secureCookies, throttle: AttemptThrottle(),
            staticPages: StaticPageCache(),
            openAPIDocument: String(decoding: try BundledResources.data("openapi.yaml"), as: UTF8.self),
            stylesheet: String(decoding: try BundledResources.data("assets/amtsweg.css"), as: UTF8.self),
            script: String(decoding: try BundledResources.data("assets/amtsweg.js"), as: UTF8.self), scanner: scanner)
    }

    /// The current version of every shipped assistant, by id.
    public static func loadAssistants() throws -> [String: AssistantDefinition] {
        try loadAssistantVersions().mapValues { byVersion in byVersion.values.max { versionOrder($0.version, $1.version) }! }
    }

    /// Whether version `lhs` comes before `rhs` (numeric components, "1.10.0" after "1.9.0").
    static func versionOrder(_ lhs: String, _ rhs: String) -> Bool {
        let left = lhs.split(separator: ".").map { Int($0) ?? 0 }, right = rhs.split(separator: ".").map { Int($0) ?? 0 }
        return left.lexicographicallyPrecedes(right)
    }

    /// Every shipped assistant version: files in `Resources/assistants` and its subfolders, checked, code lists resolved.
    public static func loadAssistantVersions() throws -> [String: [String: AssistantDefinition]] {
        let folder = BundledResources.directory.appendingPathComponent("assistants")
        let options = try loadCodeLists().mapValues { list in
            list.entries.map { FieldOption(value: $0.code, label: LocalizedText(["de": $0.label])) }
        }
        var result: [String: [String: AssistantDefinition]] = [:]
        let files = (FileManager.default.enumerator(atPath: folder.path)?.compactMap { $0 as? String } ?? []).filter { $0.hasSuffix(".json") }.sorted()
        for file in files {
            let source = "assistants/\(file)"
            let definition = try AssistantDefinition.load(json: Data(contentsOf: folder.appendingPathComponent(file)), source: source)
            guard result[definition.id]?[definition.version] == nil else {
                throw DefinitionError(source: source, message: "\(definition.id) \(definition.version) is defined twice")
            }
            result[definition.id, default: [:]][definition.version] = try definition.resolvingCodeLists(options, source: source)
        }
        return result
    }

    /// The genericode code lists shipped in `Resources/codelists`, by canonical URI.
    public static func loadCodeLists() throws -> [String: CodeList] {
        let folder = BundledResources.directory.appendingPathComponent("codelists")
        var result: [String: CodeList] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where file.hasSuffix(".xml") {
            let list = try CodeList.parse(Data(contentsOf: folder.appendingPathComponent(file)))
            result[list.canonicalUri] = list
        }
        return result
    }

    /// Fails when a locale lacks a key the German source catalog has.
    static func checkCatalogsComplete(_ catalogs: [AppLocale: MessageCatalog]) throws {
        guard let source = catalogs[.fallback] else { return }
        for (locale, catalog) in catalogs where locale != .fallback {
            let missing = Set(source.messages.keys).subtracting(catalog.messages.keys).sorted()
            if !missing.isEmpty { throw CatalogError.missingKeys(locale: locale, keys: missing) }
        }
    }

    static func nestedTree(_ flat: [String: String]) -> [String: Any] {
        var root: [String: Any] = [:]
        func insert(_ path: ArraySlice<Substring>, _ value: String, into node: inout [String: Any]) {
            let key = String(path.first!)
            if path.count == 1 { node[key] = value; return }
            var child = node[key] as? [String: Any] ?? [:]
            insert(path.dropFirst(), value, into: &child)
            node[key] = child
        }
        for (key, value) in flat { insert(key.split(separator: ".")[...], value, into: &root) }
        return root
    }

    /// The translator for `locale`.
    func translator(_ locale: AppLocale) -> Translator { translators[locale]! }

    /// The definition an application or draft was made with, or the current one if that version is gone.
    func assistant(_ id: String, version: String) -> AssistantDefinition? {
        assistantVersions[id]?[version] ?? assistants[id]
    }

    /// The office that handles `leikaKey` at `tenantId`.
    func office(leikaKey: String, tenantId: UUID) -> String {
        offerings[leikaKey]?.first { $0.tenantId == tenantId }?.office ?? tenantsById[tenantId]?.office ?? ""
    }

    /// The tenant offering `leikaKey` (the first, while Zuständigkeitsfinder is not yet built).
    func offering(_ leikaKey: String) -> (TenantService, Tenant, AssistantDefinition)? {
        guard let service = offerings[leikaKey]?.first, let tenant = tenantsById[service.tenantId],
              let assistant = assistants[service.assistantId] else { return nil }
        return (service, tenant, assistant)
    }
}

/// HTML of pages that depend only on their locale, rendered on first use.
final class StaticPageCache: Sendable {
    private let pages = Mutex<[String: String]>([:])

    /// The cached page for `key`, rendering it with `render` the first time.
    func page(_ key: String, render: () throws -> String) rethrows -> String {
        if let cached = pages.withLock({ $0[key] }) { return cached }
        let html = try render()
        pages.withLock { $0[key] = html }
        return html
    }
}

import Synchronization

/// A catalog as nested dictionaries, for `{{t.section.key}}` lookups in templates.
// @unchecked: built once at start and never mutated; it holds only Strings and nested [String: Any] of Strings.
struct MessageTree: @unchecked Sendable {
    /// The nested dictionary.
    let value: [String: Any]
}
