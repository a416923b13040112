import AmtswegCore
import AmtswegStandards
import AmtswegStorage
import AmtswegWeb
import ArgumentParser
import Foundation
import Hummingbird
import Logging

/// Options every command that touches the database shares.
struct DatabaseOptions: ParsableArguments {
    /// The master key for data at rest: `AMTSWEG_MASTER_KEY` (base64, 32 bytes), else the key file
    /// `AMTSWEG_KEY_FILE` (default data/amtsweg.key), created with mode 0600 on first start.
    func protector(logger: Logger) throws -> DataProtector {
        let environment = ProcessInfo.processInfo.environment
        if let key = environment["AMTSWEG_MASTER_KEY"] {
            do { return try DataProtector(base64: key) } catch { throw ValidationError("AMTSWEG_MASTER_KEY must be 32 bytes in base64") }
        }
        let path = environment["AMTSWEG_KEY_FILE"] ?? "data/amtsweg.key"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            do { return try DataProtector(base64: text) } catch { throw ValidationError("\(path) does not hold a 32-byte base64 key") }
        }
        let key = DataProtector.newMasterKeyBase64()
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data(key.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot create key file \(path)")
        }
        logger.notice("created a new master key file; back it up apart from the database", metadata: ["path": "\(path)"])
        return try DataProtector(base64: key)
    }

    @Option(help: "Database URL (sqlite:PATH or postgres://…); default from AMTSWEG_DATABASE_URL, else sqlite:data/amtsweg.sqlite.")
    var database: String?

    /// Opens and migrates the configured database.
    func open(logger: Logger) async throws -> any Database {
        let text = database ?? ProcessInfo.processInfo.environment["AMTSWEG_DATABASE_URL"] ?? "sqlite:data/amtsweg.sqlite"
        let url: DatabaseURL
        do { url = try DatabaseURL(parsing: text) } catch { throw ValidationError("AMTSWEG_DATABASE_URL: \(error)") }
        let db = try await DatabaseFactory.open(url, logger: logger)
        _ = try protector(logger: logger)
        let applied = try await Migrator.migrate(db)
        if !applied.isEmpty { logger.info("migrations applied", metadata: ["versions": "\(applied)"]) }
        return db
    }
}

/// The Amtsweg command line: one binary for everything an operator does.
@main
struct Amtsweg: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amtsweg", abstract: "Amtsweg – online services for public administration.",
        subcommands: [Serve.self, Migrate.self, Demo.self, RouteCommand.self, APIKeyCommand.self, InboxBenchmark.self, ReceiptBenchmarkCommand.self, ImportFIM.self, BenchSeed.self, EngineBenchmark.self, RulesTable.self])

    /// The process logger; the logging system may be bootstrapped only once per process.
    static let logger: Logger = {
        LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        return Logger(label: "amtsweg")
    }()

    /// The process logger (bootstraps JSON logging on first use).
    static func makeLogger() -> Logger { logger }
}

/// `amtsweg serve`: runs the portal.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the web server (migrates first).")
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Flag(help: "Load the demo authority Stadt Musterstadt before starting.") var demo = false
    @Flag(help: "Mark cookies Secure and send HSTS (when served over https).") var secureCookies = false
    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let logger = Amtsweg.makeLogger()
        let database = try await options.open(logger: logger)
        do {
            if demo { try await DemoData.load(into: database, protector: try options.protector(logger: logger)) }
            let secure = secureCookies || ProcessInfo.processInfo.environment["AMTSWEG_SECURE_COOKIES"] == "1"
            var scanner: ClamdScanner?
            if let clamd = ProcessInfo.processInfo.environment["AMTSWEG_CLAMD"], !clamd.isEmpty {
                guard let configured = ClamdScanner(configuration: clamd) else {
                    throw ValidationError("AMTSWEG_CLAMD must be unix:/path/to/clamd.sock or tcp:IPv4:PORT")
                }
                scanner = configured
                logger.info("uploads are scanned by clamd", metadata: ["clamd": "\(clamd)"])
            }
            let mail = try Self.mailSettings(host: host, port: port, logger: logger)
            let portal = try await Portal.load(database: database, protector: try options.protector(logger: logger), secureCookies: secure,
                                               logger: logger, scanner: scanner, mail: mail, oidc: try Self.oidcSettings(baseURL: mail.baseURL, logger: logger),
                                               deliveryPolicy: try Self.deliveryPolicy(),
                                               metricsToken: ProcessInfo.processInfo.environment["AMTSWEG_METRICS_TOKEN"].flatMap { $0.isEmpty ? nil : $0 },
                                               fitConnect: try Self.fitConnectSettings(publicURL: mail.baseURL, logger: logger))
            let app = AmtswegApplication.build(portal: portal, host: host, port: port, logger: logger)
            print("Amtsweg läuft auf http://\(host):\(port)/")
            try await app.runService()
        } catch is CancellationError {
            // SIGTERM/SIGINT end the service group by cancellation: a normal shutdown.
        } catch {
            logger.critical("server stopped on error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            await database.shutdown()
            throw error
        }
        await database.shutdown()
    }
}

extension Serve {
    /// Mail from the environment: AMTSWEG_SMTP_URL (an SMTP server) or AMTSWEG_MAIL_DIR (a folder of .eml files,
    /// for the local demo); AMTSWEG_PUBLIC_URL for links, AMTSWEG_MAIL_FROM and AMTSWEG_MAIL_FROM_NAME for the sender.
    static func mailSettings(host: String, port: Int, logger: Logger) throws -> MailSettings {
        let environment = ProcessInfo.processInfo.environment
        var settings = MailSettings(baseURL: environment["AMTSWEG_PUBLIC_URL"] ?? "http://\(host):\(port)")
        if let from = environment["AMTSWEG_MAIL_FROM"], !from.isEmpty { settings.from = from }
        if let name = environment["AMTSWEG_MAIL_FROM_NAME"], !name.isEmpty { settings.fromName = name }
        if let url = environment["AMTSWEG_SMTP_URL"], !url.isEmpty {
            do { settings.transport = SMTPClient(configuration: try SMTPConfiguration(url: url)) } catch { throw ValidationError(error.description) }
            logger.info("mail goes out over SMTP")
        } else if let directory = environment["AMTSWEG_MAIL_DIR"], !directory.isEmpty {
            settings.transport = MailDirectoryTransport(directory: URL(fileURLWithPath: directory))
            logger.info("mail is written to a folder", metadata: ["folder": "\(directory)"])
        } else {
            logger.warning("no mail transport configured (AMTSWEG_SMTP_URL or AMTSWEG_MAIL_DIR): mails stay in the outbox")
        }
        return settings
    }
}

extension Serve {
    /// Retry timing from AMTSWEG_DELIVERY_RETRY_SECONDS (first retry delay, default 30) and AMTSWEG_DELIVERY_LEASE_SECONDS
    /// (how long a worker holds a job before another instance may take it over, default 60).
    static func deliveryPolicy() throws -> DeliveryPolicy {
        let environment = ProcessInfo.processInfo.environment
        var policy = DeliveryPolicy()
        if let text = environment["AMTSWEG_DELIVERY_RETRY_SECONDS"] {
            guard let seconds = Double(text), seconds > 0, seconds <= 3600 else { throw ValidationError("AMTSWEG_DELIVERY_RETRY_SECONDS must be 0–3600") }
            policy.baseDelayMillis = Int64(seconds * 1000)
        }
        if let text = environment["AMTSWEG_DELIVERY_LEASE_SECONDS"] {
            guard let seconds = Double(text), seconds >= 1, seconds <= 3600 else { throw ValidationError("AMTSWEG_DELIVERY_LEASE_SECONDS must be 1–3600") }
            policy.leaseMillis = Int64(seconds * 1000)
        }
        return policy
    }
}

extension Serve {
    /// FIT-Connect from the environment, when AMTSWEG_FITCONNECT_SUBMISSION_URL is set: AMTSWEG_FITCONNECT_TOKEN_URL,
    /// AMTSWEG_FITCONNECT_ROUTING_URL (and optionally AMTSWEG_FITCONNECT_ROUTING_KEYS_URL), AMTSWEG_FITCONNECT_CLIENT_ID,
    /// AMTSWEG_FITCONNECT_CLIENT_SECRET, AMTSWEG_FITCONNECT_TRUST_ROOTS (a PEM file of the Verwaltungs-PKI roots) and
    /// AMTSWEG_FITCONNECT_POLL_SECONDS (how often a case's event log is read, default 60) and
    /// AMTSWEG_FITCONNECT_CALLBACK_SECRET (HMAC secret of callbacks to /api/fitconnect/callback).
    static func fitConnectSettings(publicURL: String, logger: Logger) throws -> FITConnectSettings? {
        let environment = ProcessInfo.processInfo.environment
        guard let submission = environment["AMTSWEG_FITCONNECT_SUBMISSION_URL"], !submission.isEmpty else { return nil }
        guard let rootsPath = environment["AMTSWEG_FITCONNECT_TRUST_ROOTS"],
              let roots = try? String(contentsOfFile: rootsPath, encoding: .utf8) else {
            throw ValidationError("AMTSWEG_FITCONNECT_TRUST_ROOTS must name a readable PEM file of root certificates")
        }
        do {
            var settings = try FITConnectSettings(
                tokenURL: environment["AMTSWEG_FITCONNECT_TOKEN_URL"] ?? "", submissionURL: submission,
                routingURL: environment["AMTSWEG_FITCONNECT_ROUTING_URL"] ?? "", routingKeysURL: environment["AMTSWEG_FITCONNECT_ROUTING_KEYS_URL"],
                clientId: environment["AMTSWEG_FITCONNECT_CLIENT_ID"] ?? "", clientSecret: environment["AMTSWEG_FITCONNECT_CLIENT_SECRET"] ?? "",
                trustRootsPEM: roots, publicBaseURL: publicURL)
            if let text = environment["AMTSWEG_FITCONNECT_POLL_SECONDS"] {
                guard let seconds = Double(text), seconds >= 0.1, seconds <= 3600 else { throw ValidationError("AMTSWEG_FITCONNECT_POLL_SECONDS must be 0.1–3600") }
                settings.pollIntervalMillis = Int64(seconds * 1000)
            }
            if let secret = environment["AMTSWEG_FITCONNECT_CALLBACK_SECRET"], !secret.isEmpty {
                guard secret.utf8.count >= 32 else { throw ValidationError("AMTSWEG_FITCONNECT_CALLBACK_SECRET must hold at least 32 bytes") }
                settings.callbackSecret = secret
            }
            logger.info("FIT-Connect configured", metadata: ["submissionAPI": "\(settings.submissionURL)"])
            return settings
        } catch let invalid as FITConnectSettings.Invalid {
            throw ValidationError(invalid.description)
        }
    }
}

extension Serve {
    /// The identity provider from AMTSWEG_OIDC_ISSUER, AMTSWEG_OIDC_CLIENT_ID, AMTSWEG_OIDC_CLIENT_SECRET and
    /// AMTSWEG_OIDC_NAME (shown to citizens, default BundID); the callback is `{AMTSWEG_PUBLIC_URL}/oidc/callback`.
    static func oidcSettings(baseURL: String, logger: Logger) throws -> OIDCSettings? {
        let environment = ProcessInfo.processInfo.environment
        guard let issuer = environment["AMTSWEG_OIDC_ISSUER"], !issuer.isEmpty else { return nil }
        do {
            let settings = try OIDCSettings(
                issuer: issuer, clientId: environment["AMTSWEG_OIDC_CLIENT_ID"] ?? "", clientSecret: environment["AMTSWEG_OIDC_CLIENT_SECRET"] ?? "",
                displayName: environment["AMTSWEG_OIDC_NAME"] ?? "BundID",
                redirectURI: (baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL) + "/oidc/callback")
            logger.info("identity provider configured", metadata: ["issuer": "\(settings.issuer)"])
            return settings
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// `amtsweg migrate`: applies pending schema migrations.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations.")
    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let database = try await options.open(logger: Amtsweg.makeLogger())
        print("schema version \(try await Migrator.currentVersion(database) ?? 0)")
        await database.shutdown()
    }
}

/// `amtsweg demo`: loads the demo authority and prints a new API key for it.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load the demo authority Stadt Musterstadt and print a new API key.")
    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let database = try await options.open(logger: Amtsweg.makeLogger())
        let tenant = try await DemoData.load(into: database, protector: try options.protector(logger: Amtsweg.makeLogger()))
        let key = try await StaffRepository(database: database).createAPIKey(tenantId: tenant.id, label: "demo")
        print("tenant \(tenant.name) ARS \(tenant.ars)")
        print("case worker \(DemoData.username) / \(DemoData.password) / TOTP key \(DemoData.totpSecretBase32)")
        print("api key \(key.key)")
        await database.shutdown()
    }
}

/// `amtsweg bench-seed`: creates sessions with complete drafts for the submission benchmark.
struct BenchSeed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-seed", abstract: "Create sessions with complete drafts for bench/.")
    @Option(help: "Number of drafts.") var drafts = 1000
    @Option(help: "Output file: one 'SESSION CSRF DRAFT' line per draft; FILE.page gets the same lines.") var out: String
    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let database = try await options.open(logger: Amtsweg.makeLogger())
        let tenant = try await DemoData.load(into: database, protector: try options.protector(logger: Amtsweg.makeLogger()))
        let assistant = try Portal.loadAssistants()["geburtsurkunde"]!
        let sessions = SessionRepository(database: database, idleTimeoutMillis: 24 * 3_600_000, absoluteTimeoutMillis: 24 * 3_600_000)
        let draftRepository = DraftRepository(database: database, protector: try options.protector(logger: Amtsweg.makeLogger()))
        var lines: [String] = []
        var remaining = drafts
        while remaining > 0 {
            let chunk = min(remaining, 500)
            let created = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<chunk {
                    group.addTask {
                        let (token, session) = try await sessions.create()
                        let draft = try await draftRepository.create(
                            tenantId: tenant.id, sessionHash: session.idHash, leikaKey: assistant.leikaKey, assistant: assistant, locale: "de")
                        try await draftRepository.savePage(
                            draft: draft, pageId: "contact", values: DemoData.completeAnswers.pages["contact"]!, files: [:],
                            answers: DemoData.completeAnswers)
                        return "\(token) \(session.csrfToken) \(draft.id)"
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            lines += created
            remaining -= chunk
        }
        let text = lines.joined(separator: "\n") + "\n"
        try text.write(toFile: out, atomically: true, encoding: .utf8)
        try text.write(toFile: out + ".page", atomically: true, encoding: .utf8)
        let large: [String]
        do {
            large = try await seedLargest(tenant: tenant, sessions: sessions, drafts: draftRepository, count: min(drafts, 500))
        } catch {
            // SQLite connections must be closed before they are released, also when seeding fails.
            await database.shutdown()
            throw error
        }
        try (large.joined(separator: "\n") + "\n").write(toFile: out + ".large", atomically: true, encoding: .utf8)
        print("seeded \(lines.count) drafts, \(large.count) of the largest assistant")
        await database.shutdown()
    }
}

extension BenchSeed {
    /// Drafts of the assistant with the most fields, each with a session; lines `SESSION CSRF DRAFT PAGE FORM-BODY` for a
    /// valid POST of its page with the most fields (the form body URL-encoded, without the CSRF token).
    func seedLargest(tenant: Tenant, sessions: SessionRepository, drafts: DraftRepository, count: Int) async throws -> [String] {
        let assistants = try Portal.loadAssistants().values
        let fieldCount = { (definition: AssistantDefinition) in definition.pages.reduce(0) { $0 + $1.fields.count } }
        guard let largest = assistants.max(by: { (fieldCount($0), $1.id) < (fieldCount($1), $0.id) }),
              // A page shown without earlier answers, so the POST is really validated and saved.
              let page = largest.pages.filter({ $0.showIf == nil && $0.showWhen == nil && !$0.hasFileField })
                .max(by: { ($0.fields.count, $1.id) < ($1.fields.count, $0.id) }) else { return [] }
        let (input, _) = SampleInput.input(for: page)
        let check = PageValidator().validate(page: page, input: input, definition: largest)
        guard check.isValid else { throw ValidationError("sample input for \(largest.id)/\(page.id) is refused: \(check.errors.map(\.field))") }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "" }
        let body = input.keys.sorted().map { "\(encode($0))=\(encode(input[$0]!))" }.joined(separator: "&")
        var lines: [String] = []
        for _ in 0..<count {
            let (token, session) = try await sessions.create()
            let draft = try await drafts.create(tenantId: tenant.id, sessionHash: session.idHash, leikaKey: largest.leikaKey, assistant: largest, locale: "de")
            lines.append("\(token) \(session.csrfToken) \(draft.id) \(page.id) \(body)")
        }
        print("largest assistant \(largest.id) \(largest.version): \(fieldCount(largest)) fields; page \(page.id): \(page.fields.count) fields")
        return lines
    }
}

/// `amtsweg import-fim`: turns an XDatenfelder 3.0.0 message into an assistant definition and an import report.
struct ImportFIM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-fim", abstract: "Import an XDatenfelder 3.0.0 Stammdatenschema or Datenfeldgruppe as an assistant.")
    @Argument(help: "The XDatenfelder XML file.") var file: String
    @Option(help: "Assistant id (lower case, digits and dashes).") var id: String
    @Option(help: "14-digit LeiKa key of the service.") var leika: String
    @Option(help: "Version of the assistant.") var version = "1.0.0"
    @Option(help: "Where to write the definition JSON (default: stdout).") var out: String?
    @Option(help: "Where to write the import report as JSON (the text report always goes to stderr).") var report: String?

    func validate() throws {
        guard id.range(of: "^[a-z0-9-]{1,64}$", options: .regularExpression) != nil else { throw ValidationError("--id: lower-case letters, digits and dashes") }
        guard leika.range(of: "^99[0-9]{12}$", options: .regularExpression) != nil else { throw ValidationError("--leika: 14 digits starting with 99") }
    }

    func run() async throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch { throw ValidationError("cannot read \(file)") }
        let importer = FIMImporter(availableCodeLists: Set(try Portal.loadCodeLists().keys))
        let result: FIMImport
        do {
            result = try importer.importMessage(data, source: URL(fileURLWithPath: file).lastPathComponent, assistantId: id, leikaKey: leika, version: version)
        } catch let error as FIMImportError {
            throw ValidationError(error.description)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let json = try encoder.encode(result.definition)
        if let out { try json.write(to: URL(fileURLWithPath: out)) } else { print(String(decoding: json, as: UTF8.self)) }
        if let report { try encoder.encode(result.report).write(to: URL(fileURLWithPath: report)) }
        FileHandle.standardError.write(Data((result.report.text + "\n").utf8))
    }
}

/// Prints, for a rule case table, each case with the browser tree and the server's value (for the browser agreement test).
struct RulesTable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules-table", abstract: "Evaluate a rule case table on the server and print the browser trees as JSON.")

    @Argument(help: "The case table, e.g. e2e/expression-cases.json.")
    var file: String

    func run() async throws {
        let table = try JSONDecoder().decode(RuleCaseTable.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        let results = try table.evaluate()
        let output = JSONValue.array(zip(table.cases, results).map { entry, result in
            .object(["expression": .string(entry.expression), "values": .object(entry.values.mapValues(JSONValue.string)),
                     "tree": result.tree, "server": result.server])
        })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(output), as: UTF8.self))
    }
}
