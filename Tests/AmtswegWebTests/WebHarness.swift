import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import AmtswegWeb

/// A portal on a fresh SQLite file with the demo authority, for HTTP tests.
enum WebHarness {
    static func portal(oidc: OIDCSettings? = nil, scanner: ClamdScanner? = nil, deliveryPolicy: DeliveryPolicy = DeliveryPolicy(),
                       metricsToken: String? = nil, fitConnect: FITConnectSettings? = nil) async throws -> (Portal, any Database) {
        let logger = Logger(label: "test")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("amtsweg-web-\(UUID().uuidString).sqlite").path
        let database = try await SQLiteDatabase.open(path: path, logger: logger)
        try await Migrator.migrate(database)
        let protector = try DataProtector(base64: DataProtector.newMasterKeyBase64())
        try await DemoData.load(into: database, protector: protector, bcryptCost: 4)
        return (try await Portal.load(database: database, protector: protector, secureCookies: false, logger: logger, scanner: scanner, passwordCost: 4, oidc: oidc,
                                   deliveryPolicy: deliveryPolicy, metricsToken: metricsToken, fitConnect: fitConnect), database)
    }

    /// Runs `body` against the router of a fresh demo portal.
    static func run(oidc: OIDCSettings? = nil, scanner: ClamdScanner? = nil, deliveryPolicy: DeliveryPolicy = DeliveryPolicy(),
                    metricsToken: String? = nil, fitConnect: FITConnectSettings? = nil,
                    _ body: @escaping @Sendable (any TestClientProtocol, Portal) async throws -> Void) async throws {
        let (portal, database) = try await portal(oidc: oidc, scanner: scanner, deliveryPolicy: deliveryPolicy, metricsToken: metricsToken,
                                                  fitConnect: fitConnect)
        let app = Application(router: AmtswegApplication.router(portal: portal))
        do {
            try await app.test(.router) { client in try await body(client, portal) }
        } catch {
            await database.shutdown()
            throw error
        }
        await database.shutdown()
    }
}

/// A minimal browser: keeps the session cookie and the last CSRF token.
struct Browser {
    let client: any TestClientProtocol
    var cookie: String?
    var csrf: String?
    var lastBody = ""

    init(_ client: any TestClientProtocol) { self.client = client }

    @discardableResult
    mutating func get(_ path: String) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let cookie { headers[.cookie] = cookie }
        let response = try await client.execute(uri: path, method: .get, headers: headers, body: nil)
        remember(response)
        return response
    }

    @discardableResult
    mutating func post(_ path: String, _ fields: [String: String], csrf explicit: String? = nil, extraHeaders: HTTPFields = [:]) async throws -> TestResponse {
        var form = fields
        if form["_csrf"] == nil { form["_csrf"] = explicit ?? csrf ?? "" }
        let body = form.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        for field in extraHeaders { headers.append(field) }
        let response = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
        remember(response)
        return response
    }

    mutating func postMultipart(_ path: String, fields: [String: String], file: (name: String, filename: String, data: Data)) async throws -> TestResponse {
        let boundary = "----amtsweg\(UUID().uuidString)"
        var body = Data()
        var all = fields
        all["_csrf"] = csrf ?? ""
        for (name, value) in all {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8))
        }
        body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8))
        body.append(file.data)
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        var headers: HTTPFields = [.contentType: "multipart/form-data; boundary=\(boundary)"]
        if let cookie { headers[.cookie] = cookie }
        let response = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(data: body))
        remember(response)
        return response
    }

    /// The demo case worker's TOTP code for now plus `steps` time steps (a code is accepted once, so a second login
    /// within 30 seconds uses the next step, which the server accepts as clock drift).
    static func demoTOTP(steps: Int64 = 0) -> String {
        TOTP(secret: Base32.decode(DemoData.totpSecretBase32)!).code(step: TOTP.step(at: Date()) + steps)
    }

    /// Signs in as the demo case worker: password, then TOTP code.
    mutating func staffLogin(steps: Int64 = 0, code given: String? = nil) async throws {
        try await get("/de/verwaltung/anmelden")
        let login = try await post("/de/verwaltung/anmelden", ["username": DemoData.username, "password": DemoData.password])
        guard login.location == "/de/verwaltung/anmelden/code" else { throw BrowserError.unexpected(login.location) }
        try await get(login.location)
        let code = try await post(login.location, ["code": given ?? Self.demoTOTP(steps: steps)])
        guard code.location == "/de/verwaltung" else { throw BrowserError.unexpected(code.location) }
    }

    /// Opens the birth-certificate service page, starts a draft and returns its path prefix (`/de/antrag/{id}`).
    mutating func startBirthCertificate(locale: String = "de") async throws -> String {
        try await get("/\(locale)/leistungen/99027002012000")
        let start = try await post("/\(locale)/leistungen/99027002012000/start", [:])
        guard start.status == .seeOther, start.location.hasSuffix("/relation") else { throw BrowserError.unexpected(start.location) }
        return String(start.location.dropLast("/relation".count))
    }

    private mutating func remember(_ response: TestResponse) {
        if let setCookie = response.headers[.setCookie], let pair = setCookie.split(separator: ";").first {
            cookie = pair.hasSuffix("=") ? nil : String(pair)
        }
        lastBody = String(buffer: response.body)
        if let token = Self.firstMatch(#"name="_csrf" value="([^"]+)""#, in: lastBody) { csrf = token }
    }

    static func firstMatch(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
              let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              let range = Range(match.range(at: 1), in: text) else { return nil }
        return String(text[range])
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// A response the test browser did not expect.
enum BrowserError: Error {
    case unexpected(String)
}

extension TestResponse {
    /// The Location header.
    var location: String { headers[.location] ?? "" }
    /// The body as text.
    var text: String { String(buffer: body) }
}
